"""Vigil under test: build it (or take VIGIL_BIN), write one config per
variant, start `vigil serve`, and mint the token clients use as password.

Two variants run side by side on their own ports:
  vigil-passthrough  guardrails = false: relay only (AllowAll hook);
  vigil-full         guardrails = true: parse + classify + decide every
                     statement, plus whatever else the build offers.
"""

import os
import subprocess

from .cluster import BENCH_DB, BENCH_USER
from .util import BenchError, free_port, log, run, wait_port

SUBJECT = "bench@example.com"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def binary():
    """VIGIL_BIN if set, else a fresh `cargo build --release -p vigil`."""
    if os.environ.get("VIGIL_BIN"):
        path = os.environ["VIGIL_BIN"]
        if not os.access(path, os.X_OK):
            raise BenchError(f"VIGIL_BIN={path} is not an executable")
        log(f"using prebuilt Vigil {path}")
        return path
    log("cargo build --release -p vigil (set VIGIL_BIN to skip)")
    run(["cargo", "build", "--release", "-p", "vigil"], cwd=REPO, capture=False, timeout=7200)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    return os.path.join(target, "release", "vigil")


def version(bin_path):
    return run([bin_path, "--version"], check=False).stdout.strip() or "unknown"


class Vigil:
    def __init__(self, name, bin_path, tmp, teardown, cluster, guardrails, extra_toml=""):
        self.name = name
        self.bin = bin_path
        self.dir = os.path.join(tmp, name)
        self.port = free_port()
        self.http_port = free_port()
        self.cluster = cluster
        self.teardown = teardown
        self.guardrails = guardrails
        self.extra_toml = extra_toml
        self.config = os.path.join(self.dir, "vigil.toml")
        self.proc = None
        self.token = None

    def write_config(self, with_guardrails_key=True):
        os.makedirs(self.dir, exist_ok=True)
        pw = os.path.join(self.dir, "bench.password")
        with open(pw, "w") as f:
            f.write(self.cluster.password + "\n")
        os.chmod(pw, 0o600)
        policy = f"guardrails = {'true' if self.guardrails else 'false'}\n" if with_guardrails_key else ""
        # Pass-through is a pure relay: no masking phase and no audit trail
        # either (nothing is checked, so nothing could be recorded).
        masking = "" if self.guardrails else "[masking]\nenabled = false\n[audit]\nenabled = false\n"
        with open(self.config, "w") as f:
            workers = os.environ.get("VIGIL_BENCH_WORKERS")
            workers = f"worker_threads = {int(workers)}\n" if workers else ""
            f.write(f"""[proxy]
listen = "127.0.0.1:{self.port}"
{workers}[http]
listen = "127.0.0.1:{self.http_port}"
[identity.builtin]
key_file = "vigil-signing.key"
[store]
url = "sqlite://{os.path.join(self.dir, 'vigil.db')}"
{masking}[policy]
{policy}
[[connections]]
name = "{BENCH_DB}"
host = "127.0.0.1"
port = {self.cluster.port}
database = "{BENCH_DB}"
user = "{BENCH_USER}"
password_file = "bench.password"
environment = "dev"
{self.extra_toml}
""")

    def check_config(self):
        """None when the config is accepted, else the error text."""
        res = run([self.bin, "check-config", "--config", self.config], check=False)
        return None if res.returncode == 0 else (res.stderr or res.stdout).strip()

    def start(self):
        self.proc = subprocess.Popen([self.bin, "serve", "--config", self.config], cwd=self.dir,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "vigil.log"), "w"),
                                     start_new_session=True)
        self.teardown.process(self.proc, self.name)
        wait_port(self.port, self.proc, self.name)
        res = run([self.bin, "token", "issue", "--config", self.config, "--sub", SUBJECT,
                   "--groups", "dev", "--ttl", "24h"], cwd=self.dir)
        self.token = res.stdout.strip()
        log(f"{self.name} (pid {self.proc.pid}) on 127.0.0.1:{self.port}")


def supports_guardrails(bin_path, tmp, teardown, cluster):
    """Whether this build accepts `[policy] guardrails`; older builds
    reject the unknown key, and then only pass-through exists."""
    probe = Vigil("vigil-probe", bin_path, tmp, teardown, cluster, guardrails=True)
    probe.write_config()
    err = probe.check_config()
    if err is None:
        return True
    if "guardrails" in err:
        return False
    raise BenchError(f"vigil check-config rejected the benchmark config: {err}")
