"""Where results go: the text table on stdout, bench/results/latest.md and
bench/results/latest.json, with enough context (machine, versions, commit,
load) to judge a number later."""

import json
import os
import subprocess
import time

from . import report
from .vigil import REPO


def _first(path, prefix):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine():
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": commit + (" (+ uncommitted changes)" if dirty else ""),
        "nproc": os.cpu_count(),
        "memory": _first("/proc/meminfo", "MemTotal"),
        "cpu": _first("/proc/cpuinfo", "model name"),
    }


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def markdown(ctx, summary, idle, targets, notes, masking_note):
    m = ctx["machine"]
    lines = [
        f"# Benchmark results ({'quick' if ctx['quick'] else 'full'} run)", "",
        f"- date: {m['date']}, commit `{m['commit']}`",
        f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} memory",
        f"- PostgreSQL {ctx['postgres']}, PgBouncer {ctx['pgbouncer']} (session mode), {ctx['vigil']}",
        f"- {ctx['rounds']} round(s), targets interleaved per workload ({', '.join(targets)}); "
        f"pgbench -S {ctx['duration']} s, other pgbench runs {ctx['duration_other']} s; "
        f"scale {ctx['scale']}; streaming table {ctx['rows']:,} rows = {ctx['copy_bytes'] / 1e6:.1f} MB of COPY output",
        f"- load average at start / end: {ctx['load_start']} / {ctx['load_end']}", "",
        "Ratios are medians of per-round ratios to direct; Δ is the median per-round difference. "
        "For latency lower is better; for everything else higher is better.", "",
        "## Goals (vigil-full)", "",
        report.md_table(["goal", "measured", "status"], [list(g) for g in report.goals(summary)]), "",
        "## All workloads", "",
        report.md_table(report.HEADER, report.rows(summary, targets, masking_note)), "",
    ]
    if idle:
        lines += ["## Idle connections", "", report.md_table(report.IDLE_HEADER, report.idle_rows(idle)), ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def write(results_dir, ctx, raw, summary, idle, targets, notes, masking_note):
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, "latest.md"), "w") as f:
        f.write(markdown(ctx, summary, idle, targets, notes, masking_note))
    with open(os.path.join(results_dir, "latest.json"), "w") as f:
        json.dump({"context": ctx, "raw": raw, "summary": summary, "idle": idle, "notes": notes}, f,
                  indent=2, ensure_ascii=False)
