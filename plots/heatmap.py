#!/usr/bin/python3
"""heatmap.py -- throughput over two swept parameters of a `gppsim sweep`
results file: --x and --y name /points columns (gpus, batch, gpu, model,
planner, cluster...) or keys of `params` (model.branches, cluster.gpu...).
A cell shows the best throughput among the ok points that share its two
values (other parameters, such as the planner, are maximised over).

usage: heatmap.py RESULTS.h5 --x gpus --y gpu --out heat.png [--model LABEL]
"""
import argparse
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from paper_data import load  # noqa: E402  (the one /points reader)


def ok_rows(rows, *cols):
    """Rows with status ok and finite values in cols."""
    return [r for r in rows if r["status"] == "ok" and
            all(math.isfinite(r[c]) for c in cols)]


def value(r, key):
    """A /points column, else a swept parameter (params' key=value)."""
    return str(r[key]) if key in r else r["grid"][key]


def axis_values(rows, key):
    vals = sorted({value(r, key) for r in rows})
    try:
        return sorted(vals, key=float)
    except ValueError:
        return vals


def grid(rows, kx, ky):
    xs, ys = axis_values(rows, kx), axis_values(rows, ky)
    z = np.full((len(ys), len(xs)), np.nan)
    for r in rows:
        i, j = ys.index(value(r, ky)), xs.index(value(r, kx))
        if np.isnan(z[i, j]) or r["throughput"] > z[i, j]:
            z[i, j] = r["throughput"]
    return xs, ys, z


def draw(xs, ys, z, kx, ky, title, out):
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 3, 0.6 * len(ys) + 2.5))
    im = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    for i in range(len(ys)):
        for j in range(len(xs)):
            if not np.isnan(z[i, j]):
                ax.text(j, i, f"{z[i, j]:.4g}", ha="center", va="center",
                        fontsize=7, color="w")
    ax.set_xlabel(kx)
    ax.set_ylabel(ky)
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="throughput (samples/s)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--x", required=True)
    ap.add_argument("--y", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", help="only this model label")
    a = ap.parse_args()
    rows = ok_rows(load(a.results), "throughput")
    if a.model:
        rows = [r for r in rows if r["model"] == a.model]
    for k in (a.x, a.y):
        if rows and k not in rows[0] and k not in rows[0]["grid"]:
            have = sorted(set(rows[0]) | set(rows[0]["grid"]))
            sys.exit(f"heatmap.py: no column or parameter '{k}' (have: "
                     f"{', '.join(have)})")
    if not rows:
        sys.exit("heatmap.py: no ok point in " + a.results)
    xs, ys, z = grid(rows, a.x, a.y)
    title = a.model or ", ".join(sorted({r["model"] for r in rows}))
    draw(xs, ys, z, a.x, a.y, title, a.out)


if __name__ == "__main__":
    main()
