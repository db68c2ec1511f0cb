"""A throw-away PostgreSQL 15 cluster for the run: initdb into the temp
dir, SCRAM for TCP, a `bench` role and database, pgbench tables and the
fake-PII streaming table. Sized for 1,000 idle connections through Vigil
(each one holds a backend)."""

import os
import secrets
import subprocess

from .util import PG_BIN, BenchError, as_postgres, chown_postgres, free_port, log, run, wait_port

BENCH_USER = "bench"
BENCH_DB = "bench"


class Cluster:
    def __init__(self, tmp, teardown, max_connections):
        self.dir = os.path.join(tmp, "pg")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self.teardown = teardown
        self.max_connections = max_connections
        self.proc = None

    def start(self):
        for d in (self.dir, self.sock):
            os.makedirs(d, exist_ok=True)
            chown_postgres(d)
        log(f"initdb in {self.data}")
        run(as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-U", "postgres", "--no-sync",
                         "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"]))
        self.proc = subprocess.Popen(
            as_postgres([f"{PG_BIN}/postgres", "-D", self.data] + self._settings()),
            stdout=open(os.path.join(self.dir, "postgres.log"), "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        self.teardown.process(self.proc, "postgres")
        wait_port(self.port, self.proc, "postgres")
        self._psql_admin(f"CREATE ROLE {BENCH_USER} LOGIN PASSWORD '{self.password}'")
        self._psql_admin(f"CREATE DATABASE {BENCH_DB} OWNER {BENCH_USER}")
        log(f"postgres {self.version()} on 127.0.0.1:{self.port}")

    def _settings(self):
        # synchronous_commit=off keeps TPC-B CPU-bound rather than fsync-bound,
        # which shows proxy overhead instead of disk latency.
        s = {
            "port": self.port, "listen_addresses": "127.0.0.1",
            "unix_socket_directories": self.sock, "max_connections": self.max_connections,
            "shared_buffers": "128MB", "synchronous_commit": "off", "fsync": "on",
            "logging_collector": "off", "log_min_messages": "warning", "jit": "off",
        }
        return [x for k, v in s.items() for x in ("-c", f"{k}={v}")]

    def _psql_admin(self, sql, db="postgres"):
        return run(as_postgres(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.sock,
                                "-p", str(self.port), "-U", "postgres", "-d", db, "-At", "-c", sql]))

    def version(self):
        return self._psql_admin("SHOW server_version").stdout.strip()

    def env(self):
        return dict(os.environ, PGPASSWORD=self.password, PGSSLMODE="disable")

    def conn_args(self):
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", BENCH_USER]

    def init_pgbench(self, scale):
        log(f"pgbench -i -s {scale}")
        run(["pgbench", "-i", "-q", "-s", str(scale)] + self.conn_args() + [BENCH_DB],
            env=self.env(), timeout=1800)

    def create_pii_table(self, rows):
        """~200 bytes per row of fake PII, generated server-side."""
        log(f"creating streaming table t with {rows:,} rows of fake PII")
        sql = f"""
        DROP TABLE IF EXISTS t;
        CREATE TABLE t AS
        SELECT i AS id,
               'user' || i || '@example.com' AS email,
               '+1-555-' || lpad((i % 10000000)::text, 7, '0') AS phone,
               '4' || lpad(((i::bigint * 7919) % 1000000000000000)::text, 15, '0') AS card,
               'Customer ' || i || ' of the benchmark; lives at ' || (i % 9999) || ' Example Street, '
                 || 'Springfield. Notes: ' || repeat(md5(i::text), 2) AS note
        FROM generate_series(1, {rows}) AS i;
        """
        # Separate -c options: VACUUM cannot share a transaction with the rest.
        run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"] + self.conn_args() +
            ["-d", BENCH_DB, "-c", sql, "-c", "VACUUM ANALYZE t", "-c", "VACUUM ANALYZE"],
            env=self.env(), timeout=1800)

    def copy_bytes(self):
        """Size of `COPY t TO STDOUT`, the byte count every MB/s figure uses."""
        p = subprocess.Popen(["psql", "-X", "-q"] + self.conn_args() + ["-d", BENCH_DB, "-c", "COPY t TO STDOUT"],
                             env=self.env(), stdout=subprocess.PIPE)
        total = 0
        while chunk := p.stdout.read(1 << 20):
            total += len(chunk)
        if p.wait() != 0:
            raise BenchError("COPY t TO STDOUT failed on the direct connection")
        return total

    def scram_secret(self, user=BENCH_USER):
        return self._psql_admin(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{user}'").stdout.strip()
