"""Process plumbing shared by every part of the harness: progress output,
free ports, running things as the postgres user, and tearing down whatever
was started, in reverse order, however the run ends."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


class BenchError(Exception):
    """A step failed in a way the whole run cannot recover from."""


def log(msg):
    """Progress goes to stderr so stdout stays the result table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    """A port nobody listens on right now (the usual bind-to-0 trick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_ids():
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


def as_postgres(argv):
    """PostgreSQL and PgBouncer refuse to run as root. setpriv execs in
    place (unlike runuser, which forks), so the pid we hold is the server's
    own and signals reach it directly."""
    if os.geteuid() != 0:
        return list(argv)
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + list(argv)


def chown_postgres(path):
    uid, gid = postgres_ids() if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(path, uid, gid)


def run(argv, env=None, timeout=600, check=True, capture=True, **kw):
    """Runs a command to completion; a failure carries its stderr."""
    res = subprocess.run(
        argv, env=env, timeout=timeout, text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None, **kw)
    if check and res.returncode != 0:
        raise BenchError(f"{' '.join(argv[:6])} … exited {res.returncode}: {(res.stderr or '').strip()[-2000:]}")
    return res


def wait_port(port, proc, what, timeout=30):
    """Waits until something accepts on 127.0.0.1:port, failing early if
    the process that should listen there has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{what} did not listen on {port} within {timeout}s")


def raise_fd_limit(want=65536):
    """1,000 idle connections need ~3,000 descriptors across us and Vigil;
    children inherit the limit. The hard limit may be lower than `want`."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid):
    """VmRSS of a process in KiB, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


class Teardown:
    """Everything started is registered here and stopped in reverse order:
    on success, on error, on Ctrl-C and on SIGTERM."""

    def __init__(self):
        self._steps = []

    def process(self, proc, name, sig=signal.SIGINT, grace=15):
        self._steps.append(("proc", proc, name, sig, grace))
        return proc

    def directory(self, path):
        self._steps.append(("dir", path))

    def close(self):
        while self._steps:
            step = self._steps.pop()
            try:
                if step[0] == "proc":
                    _stop(*step[1:])
                else:
                    shutil.rmtree(step[1], ignore_errors=True)
            except Exception as e:  # keep tearing down the rest
                log(f"teardown: {e}")


def _stop(proc, name, sig, grace):
    if proc.poll() is not None:
        return
    log(f"stopping {name} (pid {proc.pid})")
    proc.send_signal(sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def install_signal_handlers():
    """SIGTERM/SIGHUP become SystemExit so `finally` blocks run. SIGINT is
    set explicitly because a shell starting us in the background (`&`)
    leaves it ignored, and `kill -INT` should still tear down."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
