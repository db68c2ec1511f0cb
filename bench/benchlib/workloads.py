"""The workloads, each a function target → {metric: value}. All are
bounded by time (pgbench -T) or by size (the streaming table), and all
talk to 127.0.0.1 only. A failure is reported for that cell, not fatal."""

import glob
import os
import re
import subprocess
import time
from dataclasses import dataclass

from .util import BenchError, log

CLIENTS = 8
THREADS = 2


@dataclass
class Metric:
    label: str
    unit: str
    higher_is_better: bool


METRICS = {
    "select_simple": Metric("pgbench -S, 8 clients, simple", "tps", True),
    "select_extended": Metric("pgbench -S, 8 clients, extended", "tps", True),
    "select_prepared": Metric("pgbench -S, 8 clients, prepared", "tps", True),
    "tpcb": Metric("pgbench TPC-B, 8 clients", "tps", True),
    "latency_p50": Metric("1 client -S latency p50", "µs", False),
    "latency_p99": Metric("1 client -S latency p99", "µs", False),
    "connect": Metric("connection rate, pgbench -C -S -c 4", "conn/s", True),
    "stream_copy": Metric("stream COPY t TO STDOUT", "MB/s", True),
    "stream_select": Metric("stream SELECT * FROM t", "MB/s", True),
    "stream_masked": Metric("stream SELECT * FROM t, masked", "MB/s", True),
}


def pgbench(target, args, duration, extra_timeout=120):
    """Runs pgbench against `target` and returns its stdout."""
    argv = ["pgbench", "-n", "-T", str(duration)] + args + target.conn_args() + [target.database]
    res = subprocess.run(argv, env=target.env(), text=True, capture_output=True,
                         timeout=duration + extra_timeout)
    if res.returncode != 0:
        raise BenchError(f"pgbench exited {res.returncode}: {res.stderr.strip()[-600:]}")
    return res.stdout


def tps(out):
    m = re.search(r"^tps = ([0-9.]+)", out, re.M)
    if not m:
        raise BenchError(f"no tps in pgbench output: {out[-400:]}")
    failed = re.search(r"number of failed transactions: ([0-9]+)", out)
    if failed and int(failed.group(1)) > 0:
        raise BenchError(f"{failed.group(1)} failed transactions")
    return float(m.group(1))


def select_only(mode):
    def run(target, cfg):
        out = pgbench(target, ["-S", "-M", mode, "-c", str(CLIENTS), "-j", str(THREADS)], cfg.duration)
        return {f"select_{mode}": tps(out)}
    return run


def tpcb(target, cfg):
    out = pgbench(target, ["-c", str(CLIENTS), "-j", str(THREADS)], cfg.duration_other)
    return {"tpcb": tps(out)}


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        raise BenchError("no samples")
    rank = max(1, min(len(sorted_values), int(-(-p * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def latency(target, cfg):
    """One client, simple protocol, every transaction logged; pgbench's
    per-transaction log has the latency in µs in its third column."""
    prefix = os.path.join(cfg.tmp, f"lat-{target.name}")
    for old in glob.glob(prefix + ".*"):
        os.remove(old)
    pgbench(target, ["-S", "-M", "simple", "-c", "1", "-j", "1", "--log", f"--log-prefix={prefix}"],
            cfg.duration_other)
    samples = []
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            samples.extend(int(line.split()[2]) for line in f if line.strip())
        os.remove(path)
    samples.sort()
    return {"latency_p50": float(percentile(samples, 50)), "latency_p99": float(percentile(samples, 99))}


def connect(target, cfg):
    out = pgbench(target, ["-C", "-S", "-c", "4", "-j", str(THREADS)], cfg.duration_other)
    return {"connect": tps(out)}


def _stream(target, sql, copy_bytes, extra=()):
    argv = ["psql", "-X", "-q", *extra] + target.conn_args() + ["-d", target.database, "-c", sql]
    start = time.monotonic()
    res = subprocess.run(argv, env=target.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, timeout=1800)
    elapsed = time.monotonic() - start
    if res.returncode != 0:
        raise BenchError(f"psql exited {res.returncode}: {res.stderr.strip()[-600:]}")
    return copy_bytes / 1e6 / elapsed


def stream(target, cfg):
    """MB/s of the same bytes (the COPY output size) through COPY and
    through a plain SELECT read by psql in unaligned mode."""
    return {
        "stream_copy": _stream(target, "COPY t TO STDOUT", cfg.copy_bytes),
        "stream_select": _stream(target, "SELECT * FROM t", cfg.copy_bytes, extra=("-A", "-t")),
    }


# (key, progress label, function, metrics it yields); run in this order,
# each over every target before the next starts.
WORKLOADS = [
    ("select_simple", "pgbench -S simple", select_only("simple"), ["select_simple"]),
    ("select_extended", "pgbench -S extended", select_only("extended"), ["select_extended"]),
    ("select_prepared", "pgbench -S prepared", select_only("prepared"), ["select_prepared"]),
    ("tpcb", "pgbench TPC-B", tpcb, ["tpcb"]),
    ("latency", "1-client latency", latency, ["latency_p50", "latency_p99"]),
    ("connect", "connection rate", connect, ["connect"]),
    ("stream", "streaming", stream, ["stream_copy", "stream_select"]),
]


def run_one(key, label, fn, target, cfg, round_no, rounds):
    log(f"round {round_no}/{rounds}: {label} via {target.name} …")
    try:
        return fn(target, cfg), None
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        log(f"  FAILED {label} via {target.name}: {e}")
        return {}, f"{key} via {target.name}: {e}"
