"""What a workload connects to: one address, user and password per target.
Clients never know whether a proxy sits in between; only these change."""

import os
from dataclasses import dataclass

from .cluster import BENCH_DB, BENCH_USER
from .vigil import SUBJECT

ORDER = ["direct", "pgbouncer", "vigil-passthrough", "vigil-full"]


@dataclass
class Target:
    name: str
    port: int
    user: str
    password: str
    pid: int | None = None  # the proxy process (memory, profiles); None for direct
    database: str = BENCH_DB

    def env(self):
        return dict(os.environ, PGPASSWORD=self.password, PGSSLMODE="disable",
                    PGAPPNAME=f"vigil-bench-{self.name}", PGCONNECT_TIMEOUT="20")

    def conn_args(self):
        """pgbench/psql flags; the database goes last for pgbench."""
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]


def direct(cluster):
    return Target("direct", cluster.port, BENCH_USER, cluster.password)


def pgbouncer(bouncer, cluster):
    return Target("pgbouncer", bouncer.port, BENCH_USER, cluster.password, pid=bouncer.proc.pid)


def vigil(v):
    return Target(v.name, v.port, SUBJECT, v.token, pid=v.proc.pid)
