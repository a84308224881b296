#!/usr/bin/python3
"""memory.py -- per-device peak memory of simulated iterations from gppsim
results files: stacked bars of static memory (weights, gradients, optimizer
state), stashed activations and workspace at the peak, one panel per file,
with the device's HBM capacity as a line.

usage: memory.py RESULTS.h5 [RESULTS2.h5 ...] --out X.png [--pdf]
                 [--hbm BYTES]

The HBM capacity is --hbm (bytes, or a quantity such as "16 GiB"), else
the `memory:` of the cluster's GPU in configs/hardware of the source tree
(GPP_SOURCE_DIR, else this script's repository).
"""
import argparse
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

GIB = float(1 << 30)
UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
         "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
PARTS = (("static", "#4C72B0", "static (weights, grads, optimizer)"),
         ("stash", "#DD8452", "stashed activations"),
         ("work", "#55A868", "workspace"))


def parse_bytes(text, where):
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2) not in UNITS:
        results.fail("%s: expected bytes such as '16 GiB', got '%s'"
                     % (where, text.strip()))
    try:
        return float(m.group(1)) * UNITS[m.group(2)]
    except ValueError:
        results.fail("%s: '%s' is not a number" % (where, m.group(1)))


def yaml_value(text, key):
    """A top-level `key: value` of a flat YAML text (no quotes, comments)."""
    m = re.search(r"^%s:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(#.*)?$" % key, text,
                  re.M)
    return m.group(1) if m else None


def hbm_from_catalog(r):
    gpu = yaml_value(r["cluster"], "gpu")
    root = os.environ.get("GPP_SOURCE_DIR") or os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "configs", "hardware", "%s.yaml" % gpu)
    if gpu is None or not os.path.isfile(path):
        results.fail("%s: cannot find the GPU's memory (gpu %s, no %s); "
                     "give --hbm" % (r["path"], gpu, path))
    with open(path) as f:
        mem = yaml_value(f.read(), "memory")
    if mem is None:
        results.fail("%s: no `memory:` key" % path)
    return parse_bytes(mem, path)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", metavar="RESULTS.h5")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("--pdf", action="store_true",
                   help="also write the figure as PDF next to --out")
    p.add_argument("--hbm", help="device memory capacity (bytes or e.g. "
                   "'16 GiB'); default: from the GPU catalog")
    return p.parse_args()


def parts(r):
    """Used GPUs and their static, stash and workspace bytes at the peak."""
    d = [x for x in r["devices"] if x["used"]]
    gpus = [i for i, x in enumerate(r["devices"]) if x["used"]]
    static = [x["static_mem"] for x in d]
    stash = [x["peak_stash"] for x in d]
    work = [max(x["peak_mem"] - x["static_mem"] - x["peak_stash"], 0.0)
            for x in d]
    return gpus, {"static": static, "stash": stash, "work": work}


def panel(ax, r, hbm):
    gpus, p = parts(r)
    bottom = [0.0] * len(gpus)
    for key, colour, label in PARTS:
        vals = [v / GIB for v in p[key]]
        ax.bar(range(len(gpus)), vals, 0.8, bottom=bottom, color=colour,
               label=label)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.axhline(hbm / GIB, color="#C44E52", linestyle="--",
               label="HBM capacity %.1f GiB" % (hbm / GIB))
    ax.set_xticks(range(len(gpus)))
    ax.set_xticklabels([str(g) for g in gpus], fontsize=7)
    ax.set_ylabel("GiB")
    ax.set_ylim(0, max(hbm, max(bottom) * GIB) / GIB * 1.08)
    ax.set_title(results.title(r), fontsize=9, loc="left")


def main():
    args = parse_args()
    runs = [results.load(f) for f in args.files]
    fig, axes = plt.subplots(len(runs), 1, squeeze=False,
                             figsize=(10, 2.8 * len(runs) + 0.4))
    for ax, r in zip(axes[:, 0], runs):
        hbm = parse_bytes(args.hbm, "--hbm") if args.hbm \
            else hbm_from_catalog(r)
        panel(ax, r, hbm)
    axes[-1, 0].set_xlabel("GPU")
    axes[0, 0].legend(fontsize=7, loc="center right")
    results.save(fig, args.out, args.pdf)


if __name__ == "__main__":
    main()
