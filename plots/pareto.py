#!/usr/bin/python3
"""pareto.py -- cost per million samples against throughput for every ok
point of a `gppsim sweep` results file, one colour per GPU type and marker
per planner, with the Pareto front (no other point is both faster and
cheaper) drawn and its points ringed.

usage: pareto.py RESULTS.h5 --out pareto.png [--model LABEL]
"""
import argparse
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from paper_data import load  # noqa: E402  (the one /points reader)


def ok_rows(rows, *cols):
    """Rows with status ok and finite values in cols."""
    return [r for r in rows if r["status"] == "ok" and
            all(math.isfinite(r[c]) for c in cols)]


def pareto_front(rows):
    """Points not dominated: higher throughput and lower cost win."""
    best = sorted(rows, key=lambda r: (-r["throughput"],
                                       r["cost_per_million_samples"]))
    front, cheapest = [], float("inf")
    for r in best:
        if r["cost_per_million_samples"] < cheapest:
            front.append(r)
            cheapest = r["cost_per_million_samples"]
    return front


def draw(rows, title, out):
    fig, ax = plt.subplots(figsize=(7, 5))
    markers = {"graphpipe": "o", "pipedream": "s", "piper": "^"}
    for gpu in sorted({r["gpu"] for r in rows}):
        for pl in sorted({r["planner"] for r in rows}):
            sel = [r for r in rows if r["gpu"] == gpu and r["planner"] == pl]
            if sel:
                ax.scatter([r["throughput"] for r in sel],
                           [r["cost_per_million_samples"] for r in sel],
                           marker=markers.get(pl, "x"), alpha=0.75,
                           label=f"{gpu} / {pl}")
    front = sorted(pareto_front(rows), key=lambda r: r["throughput"])
    ax.plot([r["throughput"] for r in front],
            [r["cost_per_million_samples"] for r in front], "k--", lw=1,
            label="Pareto front")
    ax.scatter([r["throughput"] for r in front],
               [r["cost_per_million_samples"] for r in front],
               s=160, facecolors="none", edgecolors="k")
    for r in front:
        ax.annotate(f'{r["gpus"]} GPUs', (r["throughput"],
                    r["cost_per_million_samples"]), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("throughput (samples/s)")
    ax.set_ylabel("cost per million samples")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", help="only this model label")
    a = ap.parse_args()
    rows = ok_rows(load(a.results), "throughput",
                   "cost_per_million_samples")
    if a.model:
        rows = [r for r in rows if r["model"] == a.model]
    if not rows:
        sys.exit("pareto.py: no ok point with a price in " + a.results)
    title = a.model or ", ".join(sorted({r["model"] for r in rows}))
    draw(rows, title, a.out)


if __name__ == "__main__":
    main()
