#!/usr/bin/python3
"""pareto.py -- cost against throughput for every ok point of a `gppsim
sweep` results file: one colour per cluster and model, one marker per
planner, each point labelled with its cluster, model and GPU count, and the
Pareto front (no other point is both faster and cheaper) drawn and ringed.
--metric samples (default): samples/s against cost per million samples;
--metric tokens: tokens/s against the cost to train the sweep's
train_tokens (sim/sweep/sweep.h).  Bad input exits 2 with a message.

usage: pareto.py RESULTS.h5 --out pareto.png [--model LABEL]
                 [--metric samples|tokens]
"""
import argparse
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from paper_data import load_or_exit  # noqa: E402  (the one /points reader)
from results import fail, save  # noqa: E402

# metric: (x column, y column, x label, y label)
METRICS = {
    "samples": ("throughput", "cost_per_million_samples",
                "throughput (samples/s)", "cost per million samples"),
    "tokens": ("tokens_per_s", "cost_to_train_tokens", "throughput (tokens/s)",
               "cost to train the sweep's train_tokens"),
}


def ok_rows(rows, *cols):
    """Rows with status ok and finite values in cols."""
    return [r for r in rows if r["status"] == "ok" and
            all(math.isfinite(r[c]) for c in cols)]


def pareto_front(rows, x, y):
    """Points not dominated: higher x and lower y win."""
    best = sorted(rows, key=lambda r: (-r[x], r[y]))
    front, cheapest = [], float("inf")
    for r in best:
        if r[y] < cheapest:
            front.append(r)
            cheapest = r[y]
    return front


def scatter(ax, rows, x, y):
    """One colour per (cluster, model), a marker per planner, each point
    labelled so that two clusters of one GPU type stay apart."""
    markers = {"graphpipe": "o", "pipedream": "s", "piper": "^"}
    colours = plt.get_cmap("tab10")
    groups = sorted({(r["cluster"], r["model"]) for r in rows})
    for k, (cl, mo) in enumerate(groups):
        for pl in sorted({r["planner"] for r in rows}):
            sel = [r for r in rows if (r["cluster"], r["model"]) == (cl, mo)
                   and r["planner"] == pl]
            if sel:
                ax.scatter([r[x] for r in sel], [r[y] for r in sel],
                           marker=markers.get(pl, "x"), alpha=0.75,
                           color=colours(k % 10),
                           label=f"{cl} ({sel[0]['gpu']}) / {mo} / {pl}")
    for r in rows:
        ax.annotate(f'{r["cluster"]} {r["model"]} {r["gpus"]}', (r[x], r[y]),
                    fontsize=6, xytext=(4, 4), textcoords="offset points")


def draw(rows, title, out, metric):
    x, y, xl, yl = METRICS[metric]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    scatter(ax, rows, x, y)
    front = sorted(pareto_front(rows, x, y), key=lambda r: r[x])
    ax.plot([r[x] for r in front], [r[y] for r in front], "k--", lw=1,
            label="Pareto front")
    ax.scatter([r[x] for r in front], [r[y] for r in front], s=160,
               facecolors="none", edgecolors="k")
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    fig.tight_layout()
    try:
        save(fig, out)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", help="only this model label")
    ap.add_argument("--metric", choices=sorted(METRICS), default="samples")
    a = ap.parse_args()
    x, y = METRICS[a.metric][:2]
    rows = ok_rows(load_or_exit(a.results, x, y), x, y)
    if a.model:
        rows = [r for r in rows if r["model"] == a.model]
    if not rows:
        fail(f"no ok point with finite {x} and {y} in {a.results}" +
             (f" for model {a.model}" if a.model else "") +
             (" (give the sweep train_tokens and the clusters a "
              "price_per_gpu_hour)" if a.metric == "tokens" else
              " (give the clusters a price_per_gpu_hour)"))
    title = a.model or ", ".join(sorted({r["model"] for r in rows}))
    draw(rows, title, a.out, a.metric)


if __name__ == "__main__":
    main()
