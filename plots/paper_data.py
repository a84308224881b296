"""paper_data.py -- reads the results of `gppsim reproduce` (the sweep
HDF5 layout of sim/sweep/sweep.h) and derives what the paper's figures show.
Used by the plots/paper_*.py figure scripts and by reproduction_md.py, so
a figure and its REPRODUCTION.md section always agree."""
import argparse
import os

import h5py

from results import fail

PLANNERS = ("graphpipe", "pipedream", "piper")
MODELS = ("mmt", "dlrm", "candle_uno")


def _str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def load(path):
    """Rows of /points as dicts, with the grid values (params) parsed and
    the planner's search time from /timing."""
    with h5py.File(path, "r") as f:
        pts = f["points"][()]
        search = {int(r["point"]): float(r["search_s"]) for r in f["timing"][()]}
        names = pts.dtype.names
        rows = []
        for p in pts:
            row = {n: (_str(p[n]) if p.dtype[n].kind in "SU" else p[n].item())
                   for n in names}
            row["grid"] = dict(kv.split("=", 1) for kv in row["params"].split(",") if kv)
            row["search_s"] = search.get(row["point"], float("nan"))
            rows.append(row)
    return rows


def load_or_exit(path, *cols):
    """load(path) for a command-line script: a file that is missing, not
    HDF5, not a sweep results file or lacking one of cols ends the script
    with a one-line message and exit status 2 (results.fail)."""
    try:
        rows = load(path)
    except (OSError, KeyError, ValueError, TypeError) as e:
        fail(f"{path}: not a gppsim sweep results file ({e})")
    missing = [c for c in cols if rows and c not in rows[0]]
    if missing:
        fail(f"{path}: /points has no column {', '.join(missing)} (written "
             "by an older gppsim? rerun the sweep)")
    return rows


def ok(rows):
    return [r for r in rows if r["status"] == "ok"]


def by_planner(rows, **match):
    """{planner: row} of the rows whose fields or grid values match."""
    out = {}
    for r in rows:
        if all(str(r.get(k, r["grid"].get(k))) == str(v) for k, v in match.items()):
            out[r["planner"]] = r
    return out


def fig6(rows):
    """[(model, gpus, batch, {planner: row})] in point order."""
    keys = []
    for r in rows:
        k = (r["model"], r["gpus"], r["batch"])
        if k not in keys:
            keys.append(k)
    return [(m, g, b, by_planner(rows, model=m, gpus=g, batch=b)) for m, g, b in keys]


def speedup(cell, num="graphpipe", den="pipedream"):
    """Throughput ratio of two planners' rows, or None when either failed."""
    return ratio(cell.get(num), cell.get(den))


def fig7_left(rows):
    """{gpus: [(branches, GraphPipe / PipeDream)]}."""
    out, seen = {}, []
    for r in rows:
        k = (r["gpus"], int(r["grid"]["model.branches"]))
        if k in seen:
            continue
        seen.append(k)
        cell = by_planner(rows, gpus=k[0], **{"model.branches": k[1]})
        out.setdefault(k[0], []).append((k[1], speedup(cell)))
    return out


def fig7_right(rows):
    """[(micro_batch, {planner: row})] by fixed size."""
    sizes = sorted({int(r["grid"]["micro_batch"]) for r in rows})
    return [(s, {r["planner"]: r for r in rows if r["grid"]["micro_batch"] == str(s)})
            for s in sizes]


def fig9(rows):
    """{model: (sequential, graph stages only, full GraphPipe)} rows; the
    graph-stages-only row is GraphPipe held at the sequential plan's
    micro-batch size (None when that size was not run or failed)."""
    out = {}
    for m in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == m]
        seq = next(r for r in mine if r["planner"] == "pipedream")
        full = next(r for r in mine if r["planner"] == "graphpipe" and r["grid"]["micro_batch"] == "0")
        only = None
        if seq["status"] == "ok":
            only = next((r for r in mine if r["planner"] == "graphpipe"
                         and r["grid"]["micro_batch"] == str(seq["micro_batch"])), None)
        out[m] = (seq, only, full)
    return out


def ratio(a, b):
    if a is None or b is None or a["status"] != "ok" or b["status"] != "ok":
        return None
    return a["throughput"] / b["throughput"]


def figure_args(doc):
    """Command line of a figure script: RESULTS.h5 --out PREFIX (writes
    PREFIX.png and PREFIX.pdf)."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("results")
    p.add_argument("--out", required=True, help="PREFIX of PREFIX.png and PREFIX.pdf")
    return p.parse_args()


def save(fig, prefix):
    """Writes PREFIX.png and PREFIX.pdf, each through a temporary file."""
    import matplotlib
    for ext in ("png", "pdf"):
        path = prefix + "." + ext
        tmp = "%s.tmp.%d.%s" % (prefix, os.getpid(), ext)
        md = {"Creator": None, "CreationDate": None} if ext == "pdf" else {"Software": None}
        fig.savefig(tmp, dpi=120, bbox_inches="tight", metadata=md)
        os.replace(tmp, path)
    matplotlib.pyplot.close(fig)


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plain_ticks():
    """Tick labels 2, 4, 8 rather than 2^1, 2^2, 2^3 on a log2 axis."""
    import matplotlib.ticker
    return matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v)
