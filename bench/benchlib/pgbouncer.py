"""PgBouncer in session mode, the reference point: the cost of a mature,
single-threaded C pooler that forwards bytes without looking at them.
Installed with apt-get when missing; runs as postgres with its own ini."""

import os
import shutil
import subprocess

from .cluster import BENCH_DB, BENCH_USER
from .util import as_postgres, chown_postgres, free_port, log, run, wait_port


def ensure_installed():
    if shutil.which("pgbouncer"):
        return
    log("pgbouncer missing: apt-get install -y pgbouncer")
    run(["apt-get", "install", "-y", "pgbouncer"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        timeout=900)


def version():
    out = run(["pgbouncer", "--version"]).stdout
    return out.splitlines()[0].replace("PgBouncer", "").strip() if out else "unknown"


class PgBouncer:
    def __init__(self, tmp, teardown, cluster, max_clients):
        self.dir = os.path.join(tmp, "pgbouncer")
        self.port = free_port()
        self.cluster = cluster
        self.teardown = teardown
        self.max_clients = max_clients
        self.proc = None

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        chown_postgres(self.dir)
        ini = os.path.join(self.dir, "pgbouncer.ini")
        users = os.path.join(self.dir, "userlist.txt")
        with open(users, "w") as f:
            # A plain password lets PgBouncer answer SCRAM from clients and
            # run SCRAM itself against the server.
            f.write(f'"{BENCH_USER}" "{self.cluster.password}"\n')
        with open(ini, "w") as f:
            f.write(self._ini(users))
        for p in (ini, users):
            chown_postgres(p)
            os.chmod(p, 0o600)
        self.proc = subprocess.Popen(as_postgres(["pgbouncer", ini]),
                                     stdout=open(os.path.join(self.dir, "stdout.log"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.teardown.process(self.proc, "pgbouncer")
        wait_port(self.port, self.proc, "pgbouncer")
        log(f"pgbouncer (session mode) on 127.0.0.1:{self.port}")

    def _ini(self, users):
        c = self.cluster
        return f"""[databases]
{BENCH_DB} = host=127.0.0.1 port={c.port} dbname={BENCH_DB}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {users}
pool_mode = session
max_client_conn = {self.max_clients}
default_pool_size = {self.max_clients}
max_db_connections = 0
server_reset_query = DISCARD ALL
logfile = {os.path.join(self.dir, 'pgbouncer.log')}
pidfile = {os.path.join(self.dir, 'pgbouncer.pid')}
log_connections = 0
log_disconnections = 0
"""
