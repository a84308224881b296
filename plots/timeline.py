#!/usr/bin/python3
"""timeline.py -- a Gantt chart of one simulated training iteration from the
per-task table (/tasks) of gppsim results files: one row per GPU, forward
and backward tasks in their own colours with micro-batch numbers where they
fit, optimizer steps, and optionally transfers.  Several files give stacked
panels on one time axis (e.g. PipeDream's sequential pipeline against
GraphPipe's graph pipeline, as in Fig. 8 of the GraphPipe paper).

usage: timeline.py RESULTS.h5 [RESULTS2.h5 ...] --out X.png [--pdf]
                   [--transfers]
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

COLOURS = {"forward": "#4C72B0", "backward": "#DD8452",
           "optimizer": "#8C8C8C", "activation": "#55A868",
           "gradient": "#C44E52", "allreduce": "#8172B3"}
COMPUTE = ("forward", "backward", "optimizer")
TRANSFER = ("activation", "gradient", "allreduce")
FIG_WIDTH = 14.0  # inches
LABEL_MIN_PX = 9.0  # a bar this wide (pixels) gets its micro-batch number


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", metavar="RESULTS.h5")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("--pdf", action="store_true",
                   help="also write the figure as PDF next to --out")
    p.add_argument("--transfers", action="store_true",
                   help="draw transfers and all-reduces under each GPU row")
    return p.parse_args()


def rows_of(r):
    """GPUs that ran compute tasks, in order; row index per GPU."""
    names = r["kind_names"]
    gpus = sorted({int(t["device"]) for t in r["tasks"]
                   if names[int(t["kind"])] in COMPUTE})
    return {g: i for i, g in enumerate(gpus)}


def draw_kind(ax, r, rows, kind, y0, height):
    names = r["kind_names"]
    spans = {}
    for t in r["tasks"]:
        g = int(t["device"])
        if names[int(t["kind"])] == kind and g in rows:
            spans.setdefault(g, []).append((t["start"] * 1e3,
                                            (t["end"] - t["start"]) * 1e3))
    for g, s in spans.items():
        ax.broken_barh(s, (rows[g] + y0, height), facecolors=COLOURS[kind],
                       edgecolor="white", linewidth=0.2)


def label_micro_batches(ax, r, rows, ms_per_px):
    names = r["kind_names"]
    for t in r["tasks"]:
        g, kind = int(t["device"]), names[int(t["kind"])]
        width = (t["end"] - t["start"]) * 1e3
        if kind in ("forward", "backward") and g in rows and \
                width / ms_per_px >= LABEL_MIN_PX:
            ax.text((t["start"] * 1e3) + width / 2, rows[g],
                    str(int(t["micro_batch"])), ha="center", va="center",
                    fontsize=5, color="white")


def panel(ax, r, args, t_max):
    rows = rows_of(r)
    if not rows:
        results.fail("%s: no per-task records (run with --out so the engine "
                     "records tasks)" % r["path"])
    height = 0.55 if args.transfers else 0.8
    for kind in COMPUTE:
        draw_kind(ax, r, rows, kind, -0.4, height)
    if args.transfers:
        for kind in TRANSFER:
            draw_kind(ax, r, rows, kind, 0.2, 0.2)
    ms_per_px = t_max / (FIG_WIDTH * 150 * 0.85)
    label_micro_batches(ax, r, rows, ms_per_px)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(["GPU %d" % g for g in rows], fontsize=6)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_title(results.title(r), fontsize=9, loc="left")


def legend(fig, transfers):
    kinds = COMPUTE + (TRANSFER if transfers else ())
    fig.legend(handles=[Patch(color=COLOURS[k], label=k) for k in kinds],
               loc="upper right", ncol=len(kinds), fontsize=7, frameon=False)


def main():
    args = parse_args()
    runs = [results.load(f) for f in args.files]
    t_max = max(r["summary"]["iteration_time"] for r in runs) * 1e3
    heights = [max(len(rows_of(r)), 1) * 0.22 + 0.8 for r in runs]
    fig, axes = plt.subplots(len(runs), 1, sharex=True, squeeze=False,
                             figsize=(FIG_WIDTH, sum(heights) + 0.6),
                             gridspec_kw={"height_ratios": heights})
    for ax, r in zip(axes[:, 0], runs):
        panel(ax, r, args, t_max)
    axes[-1, 0].set_xlim(0, t_max)
    axes[-1, 0].set_xlabel("time (ms)")
    legend(fig, args.transfers)
    results.save(fig, args.out, args.pdf)


if __name__ == "__main__":
    main()
