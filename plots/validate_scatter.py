#!/usr/bin/python3
"""validate_scatter.py -- predicted against measured task times of one plan:
a measured run (gppsim-exec --out) and its simulation (gppsim simulate
--out), tasks matched as `gppsim validate compare` matches them (device,
peer, stage, micro-batch, replica, kind; equal keys in row order), one
point per task coloured by kind, log-log, with the y = x line and the
iteration times in the title.

usage: validate_scatter.py MEASURED.h5 SIMULATED.h5 --out X.png [--pdf]
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

KEY = ("device", "peer", "stage", "micro_batch", "replica", "kind")


def by_key(r):
    """{key: [durations in row order]} of one results file."""
    out = {}
    for row in r["tasks"]:
        k = tuple(int(row[c]) for c in KEY)
        out.setdefault(k, []).append(float(row["end"] - row["start"]))
    return out


def pairs(meas, pred):
    """(kind name, measured, predicted) per matched task; exit 2 on a task
    that only one file has."""
    m, p = by_key(meas), by_key(pred)
    if set(m) != set(p) or any(len(m[k]) != len(p[k]) for k in m):
        results.fail("%s and %s have different tasks (results of different "
                     "plans?)" % (meas["path"], pred["path"]))
    names = meas["kind_names"]
    return [(names.get(k[-1], str(k[-1])), a, b)
            for k in sorted(m) for a, b in zip(m[k], p[k])]


def draw(meas, pred, rows, out, pdf):
    fig, ax = plt.subplots(figsize=(6, 6))
    kinds = sorted({r[0] for r in rows})
    pos = [v for r in rows for v in r[1:] if v > 0]
    if not pos:
        results.fail("no task has a positive time")
    lo, hi = min(pos) * 1e3 / 1.5, max(pos) * 1e3 * 1.5
    for kind in kinds:
        xs = [r[1] * 1e3 for r in rows if r[0] == kind and r[1] > 0 and r[2] > 0]
        ys = [r[2] * 1e3 for r in rows if r[0] == kind and r[1] > 0 and r[2] > 0]
        ax.scatter(xs, ys, s=12, alpha=0.7, label="%s (%d)" % (kind, len(xs)))
    ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, label="y = x")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured task time (ms)")
    ax.set_ylabel("predicted task time (ms)")
    tm = meas["summary"]["iteration_time"]
    tp = pred["summary"]["iteration_time"]
    ax.set_title("%s\niteration: measured %.2f ms, predicted %.2f ms (%+.1f%%)"
                 % (os.path.basename(meas["path"]), tm * 1e3, tp * 1e3,
                    100 * (tp - tm) / tm if tm > 0 else 0.0), fontsize=9)
    ax.legend(fontsize=8)
    results.save(fig, out, pdf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("measured")
    ap.add_argument("simulated")
    ap.add_argument("--out", required=True)
    ap.add_argument("--pdf", action="store_true")
    a = ap.parse_args()
    meas, pred = results.load(a.measured), results.load(a.simulated)
    draw(meas, pred, pairs(meas, pred), a.out, a.pdf)


if __name__ == "__main__":
    main()
