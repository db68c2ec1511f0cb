"""Optional look inside the proxies (`bench/run --profile SECONDS`):

- `perf record` of vigil-full under pgbench -S, sampling the software
  cpu-clock (hardware counters are often unavailable in containers/VMs);
- syscalls and context switches per transaction for every proxy, counted
  with `perf stat` tracepoints over a fixed number of transactions.

Writes bench/results/profile.txt."""

import os
import re
import shutil
import signal
import subprocess

from .util import BenchError, log, run
from .workloads import CLIENTS, THREADS

EVENTS = {
    "syscalls": "raw_syscalls:sys_enter",
    "sendto": "syscalls:sys_enter_sendto",
    "recvfrom": "syscalls:sys_enter_recvfrom",
    "epoll_wait": "syscalls:sys_enter_epoll_wait",
    "futex": "syscalls:sys_enter_futex",
    "ctx-switches": "context-switches",
}


def _pgbench(target, mode, extra):
    argv = ["pgbench", "-n", "-S", "-M", mode, "-c", str(CLIENTS), "-j", str(THREADS), *extra]
    res = subprocess.run(argv + target.conn_args() + [target.database], env=target.env(), text=True,
                         capture_output=True, timeout=900)
    if res.returncode != 0:
        raise BenchError(f"pgbench failed: {res.stderr.strip()[-400:]}")
    return res.stdout


def record(target, seconds, mode, tmp):
    """Flat and inclusive top of a cpu-clock profile, as text."""
    data = os.path.join(tmp, "perf.data")
    log(f"perf record of {target.name} (pid {target.pid}) for {seconds}s under pgbench -S -M {mode}")
    rec = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-p", str(target.pid),
                            "-o", data, "--", "sleep", str(seconds)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        out = _pgbench(target, mode, ["-T", str(seconds)])
    finally:
        _, err = rec.communicate(timeout=seconds + 120)
    if rec.returncode != 0:
        raise BenchError(f"perf record failed: {err.strip()[-400:]}")
    report = ["perf", "report", "-i", data, "--stdio", "-g", "none"]
    flat = run(report + ["--no-children", "--sort", "dso,symbol", "--percent-limit", "0.7"]).stdout
    user = run(report + ["--no-children", "--dsos", os.path.basename(_exe(target.pid)), "--sort", "symbol",
                         "--percent-limit", "0.3"], check=False).stdout
    inclusive = run(report + ["--children", "--sort", "symbol", "--percent-limit", "3"]).stdout
    tps_line = next((line for line in out.splitlines() if line.startswith("tps")), "")
    return (f"# {target.name} under pgbench -S -M {mode}, {CLIENTS} clients, {seconds}s: {tps_line}\n\n"
            f"## self time, all code\n{_strip(flat)}\n## self time, {target.name}'s own code only\n"
            f"{_strip(user)}\n## inclusive (children)\n{_strip(inclusive)}\n")


def syscalls_per_tx(target, mode, per_client=2000):
    """{event: count per transaction} for the proxy process of `target`."""
    stat = subprocess.Popen(["perf", "stat", "-x", ",", "-e", ",".join(EVENTS.values()), "-p", str(target.pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        out = _pgbench(target, mode, ["-t", str(per_client)])
    finally:
        stat.send_signal(signal.SIGINT)
        _, err = stat.communicate(timeout=60)
    m = re.search(r"number of transactions actually processed: ([0-9]+)", out)
    if not m or int(m.group(1)) == 0:
        raise BenchError("pgbench reported no transactions")
    tx = int(m.group(1))
    counts = {}
    for line in err.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[0].replace(".", "").isdigit():
            counts[parts[2]] = float(parts[0])
    return {name: counts.get(ev, 0.0) / tx for name, ev in EVENTS.items()}


def profile(tlist, seconds, out_path, tmp):
    if not shutil.which("perf"):
        raise BenchError("perf not found (apt-get install -y linux-perf)")
    full = next((t for t in tlist if t.name == "vigil-full"), None) or tlist[-1]
    parts = [record(full, seconds, "simple", tmp)]
    rows = ["| proxy | mode | " + " | ".join(EVENTS) + " |", "|---|---|" + "---|" * len(EVENTS)]
    for t in tlist:
        for mode in ("simple", "extended"):
            if t.pid is None:
                continue
            log(f"counting syscalls per transaction: {t.name}, {mode}")
            per = syscalls_per_tx(t, mode)
            rows.append(f"| {t.name} | {mode} | " + " | ".join(f"{per[k]:.2f}" for k in EVENTS) + " |")
    parts.append("## proxy process: events per pgbench -S transaction (8 clients)\n\n" + "\n".join(rows) + "\n")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        f.write("\n".join(parts))
    log(f"profile written to {out_path}")


def _exe(pid):
    return os.readlink(f"/proc/{pid}/exe")


def _strip(report_text):
    keep = [line.rstrip(" -") for line in report_text.splitlines() if line.strip() and not line.startswith("#")]
    return "\n".join(keep) + "\n"
