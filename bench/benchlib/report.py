"""Turns per-round measurements into the result table: median, min, max
per workload × target, and the ratio to direct computed pair by pair
within a round (ratio_i = target_i / direct_i, then the median), which
cancels most of the drift a shared machine adds between rounds."""

import statistics

from .targets import ORDER
from .workloads import METRICS

# (what, metric, target, kind, threshold): the goals BENCHMARKS.md tracks.
GOALS = [
    ("pgbench -S extended, full pipeline ≥ 0.6× direct", "select_extended", "vigil-full", "ratio_min", 0.6),
    ("pgbench -S simple, full pipeline ≥ 0.6× direct", "select_simple", "vigil-full", "ratio_min", 0.6),
    ("pgbench -S prepared, full pipeline ≥ 0.6× direct", "select_prepared", "vigil-full", "ratio_min", 0.6),
    ("TPC-B, full pipeline ≥ 0.9× direct", "tpcb", "vigil-full", "ratio_min", 0.9),
    ("1 client: added p50 ≤ 50 µs", "latency_p50", "vigil-full", "delta_max", 50),
    ("1 client: added p99 ≤ 200 µs", "latency_p99", "vigil-full", "delta_max", 200),
    ("streaming COPY ≥ 0.7× direct", "stream_copy", "vigil-full", "ratio_min", 0.7),
    ("streaming SELECT ≥ 0.7× direct", "stream_select", "vigil-full", "ratio_min", 0.7),
    ("first row ≤ direct + 1 ms", "first_row", "vigil-full", "delta_max", 1),
]


def summarize(values, direct):
    """Stats for one cell; `values` and `direct` are per-round lists."""
    ok = [v for v in values if v is not None]
    pairs = [(v, d) for v, d in zip(values, direct) if v is not None and d]
    if not ok:
        return None
    return {
        "median": statistics.median(ok), "min": min(ok), "max": max(ok), "n": len(ok),
        "ratio": statistics.median(v / d for v, d in pairs) if pairs else None,
        "delta": statistics.median(v - d for v, d in pairs) if pairs else None,
    }


def build(raw, targets):
    """raw[metric][target] = [value per round] → summary[metric][target]."""
    out = {}
    for key in METRICS:
        if key not in raw and key != "stream_masked":
            continue  # not run (--workloads): absent, where a failed run is None
        per_target = raw.get(key, {})
        direct = per_target.get("direct", [])
        out[key] = {t: summarize(per_target.get(t, []), direct) for t in targets}
    return out


# Decimals of the "Δ vs direct" column per unit (0 for the rest).
DECIMALS = {"MB/s": 1, "ms": 2}

HEADER = ["workload", "target", "median", "min", "max", "× direct", "Δ vs direct"]


def _fmt(v, unit):
    if v is None:
        return "–"
    if unit == "MB/s":
        return f"{v:,.1f}"
    if unit == "ms":
        return f"{v:,.2f}"
    return f"{v:,.0f}"


def rows(summary, targets, masking_note):
    """Table rows as lists of strings, shared by text and Markdown."""
    out = []
    for key, m in METRICS.items():
        if key not in summary or (key == "stream_masked" and "stream_select" not in summary):
            continue  # a workload left out with --workloads: no rows, not "failed"
        for t in targets:
            if key == "stream_masked":
                if t == targets[0]:
                    out.append([m.label, "all", masking_note, "", "", "", ""])
                continue
            s = summary.get(key, {}).get(t)
            if s is None:
                out.append([f"{m.label} ({m.unit})", t, "failed", "", "", "", ""])
                continue
            ratio = "1.00" if t == "direct" else (f"{s['ratio']:.2f}×" if s["ratio"] else "–")
            delta = "" if t == "direct" or s["delta"] is None else f"{s['delta']:+,.{DECIMALS.get(m.unit, 0)}f}"
            out.append([f"{m.label} ({m.unit})", t, _fmt(s["median"], m.unit), _fmt(s["min"], m.unit),
                        _fmt(s["max"], m.unit), ratio, delta])
    return out


def text_table(table, header=HEADER):
    widths = [max(len(r[i]) for r in [header] + table) for i in range(len(header))]

    def line(r):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in table])


def md_table(header, table):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in table])


def goals(summary):
    """[(goal, measured, met)] for the vigil-full targets."""
    out = []
    for what, key, target, kind, limit in GOALS:
        s = summary.get(key, {}).get(target)
        if s is None or s["ratio"] is None:
            out.append((what, "not measured", "–"))
        elif kind == "ratio_min":
            out.append((what, f"{s['ratio']:.2f}×", "met" if s["ratio"] >= limit else "MISSED"))
        else:
            unit = METRICS[key].unit
            out.append((what, f"{s['delta']:+.{DECIMALS.get(unit, 0)}f} {unit}",
                        "met" if s["delta"] <= limit else "MISSED"))
    return out


def idle_rows(idle):
    out = []
    for t in ORDER:
        r = idle.get(t)
        if not r:
            continue
        per = "–" if r["kib_per_conn"] is None else f"{r['kib_per_conn']:.1f}"
        verdict = "–" if r["kib_per_conn"] is None else ("met" if r["kib_per_conn"] <= 64 else "MISSED")
        out.append([t, f"{r['idle_reached']}/{r['idle_requested']}", f"{r['rss_before_kib'] / 1024:.1f}",
                    f"{r['rss_after_kib'] / 1024:.1f}", per, verdict])
    return out


IDLE_HEADER = ["target", "reached ReadyForQuery", "RSS before (MiB)", "RSS after (MiB)",
               "KiB per connection", "≤ 64 KiB"]
