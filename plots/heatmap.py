#!/usr/bin/python3
"""heatmap.py -- a figure over two swept parameters of a `gppsim sweep`
results file: --x and --y name /points columns (gpus, batch, gpu, model,
planner, cluster...) or keys of `params` (model.branches, cluster.gpu...).
--value picks the figure (VALUES below; default throughput); a cell shows
the best one among the ok points that share its two values (highest
throughput, tokens/s or MFU, lowest cost or time: other parameters, such
as the planner, are optimised over).  Bad input exits 2 with a message.

usage: heatmap.py RESULTS.h5 --x gpus --y gpu --out heat.png [--model LABEL]
                  [--value throughput|tokens|mfu|cost|train_cost|train_days]
"""
import argparse
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from paper_data import load_or_exit  # noqa: E402  (the one /points reader)
from results import fail, save  # noqa: E402

# --value: (column, label, higher is better, scale)
VALUES = {
    "throughput": ("throughput", "throughput (samples/s)", True, 1),
    "tokens": ("tokens_per_s", "throughput (tokens/s)", True, 1),
    "mfu": ("mfu", "MFU (%)", True, 100),
    "cost": ("cost_per_million_samples", "cost per million samples", False,
             1),
    "train_cost": ("cost_to_train_tokens", "cost to train train_tokens",
                   False, 1),
    "train_days": ("time_to_train_tokens_s", "days to train train_tokens",
                   False, 1 / 86400),
}


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


def grid(rows, kx, ky, what):
    col, _, higher, scale = VALUES[what]
    xs, ys = axis_values(rows, kx), axis_values(rows, ky)
    z = np.full((len(ys), len(xs)), np.nan)
    for r in rows:
        i, j = ys.index(value(r, ky)), xs.index(value(r, kx))
        v = r[col] * scale
        if np.isnan(z[i, j]) or (v > z[i, j] if higher else v < z[i, j]):
            z[i, j] = v
    return xs, ys, z


def draw(xs, ys, z, kx, ky, title, out, what):
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 3, 0.6 * len(ys) + 2.5))
    cmap = "viridis" if VALUES[what][2] else "viridis_r"  # bright: better
    im = ax.imshow(z, origin="lower", aspect="auto", cmap=cmap)
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
    fig.colorbar(im, ax=ax, label=VALUES[what][1])
    fig.tight_layout()
    try:
        save(fig, out)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--x", required=True)
    ap.add_argument("--y", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", help="only this model label")
    ap.add_argument("--value", choices=sorted(VALUES), default="throughput")
    a = ap.parse_args()
    col = VALUES[a.value][0]
    rows = ok_rows(load_or_exit(a.results, col), col)
    if a.model:
        rows = [r for r in rows if r["model"] == a.model]
    for k in (a.x, a.y):
        if rows and k not in rows[0] and k not in rows[0]["grid"]:
            have = sorted(set(rows[0]) | set(rows[0]["grid"]))
            fail(f"no column or parameter '{k}' (have: {', '.join(have)})")
    if not rows:
        fail(f"no ok point with a finite {col} in {a.results}")
    xs, ys, z = grid(rows, a.x, a.y, a.value)
    title = a.model or ", ".join(sorted({r["model"] for r in rows}))
    draw(xs, ys, z, a.x, a.y, title, a.out, a.value)


if __name__ == "__main__":
    main()
