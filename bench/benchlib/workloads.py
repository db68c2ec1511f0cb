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
    "first_row": Metric("first row, psycopg stream(), median of 20", "ms", False),
}

# first_row: samples per round, and the rows each streamed statement
# returns (BENCH_FIRST_ROW_ROWS overrides, e.g. 1 to see the per-statement
# cost without a stream behind the first row).
FIRST_ROW_SAMPLES = 20
FIRST_ROW_ROWS = int(os.environ.get("BENCH_FIRST_ROW_ROWS", "20000"))
FIRST_ROW_SQL = f"SELECT * FROM t LIMIT {FIRST_ROW_ROWS}"


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


def first_row(target, cfg):
    """Latency to the first row: psycopg 3 `cursor.stream()` (extended
    protocol, single-row mode) on one warm connection; the time from the
    call to the first row, median of FIRST_ROW_SAMPLES (after one warm-up).
    Each statement is read to its end before the next starts."""
    try:
        import psycopg
    except ImportError as e:
        raise BenchError(f"first_row needs psycopg 3 (pip install 'psycopg[binary]'): {e}")
    dsn = (f"host=127.0.0.1 port={target.port} user={target.user} password={target.password} "
           f"dbname={target.database} sslmode=disable application_name=vigil-bench-{target.name} "
           "connect_timeout=20")
    samples = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            cur = conn.cursor()
            for i in range(FIRST_ROW_SAMPLES + 1):
                start = time.perf_counter()
                rows = cur.stream(FIRST_ROW_SQL)
                next(rows)
                elapsed = time.perf_counter() - start
                n = 1 + sum(1 for _ in rows)
                if n != FIRST_ROW_ROWS:
                    raise BenchError(f"first_row: {n} rows instead of {FIRST_ROW_ROWS}")
                if i > 0:
                    samples.append(elapsed * 1e3)
    except psycopg.Error as e:
        raise BenchError(f"psycopg: {e}") from e
    samples.sort()
    return {"first_row": percentile(samples, 50)}


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
    ("first_row", "first-row latency", first_row, ["first_row"]),
]


def run_one(key, label, fn, target, cfg, round_no, rounds):
    log(f"round {round_no}/{rounds}: {label} via {target.name} …")
    try:
        return fn(target, cfg), None
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        log(f"  FAILED {label} via {target.name}: {e}")
        return {}, f"{key} via {target.name}: {e}"
