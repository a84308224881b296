"""results.py -- reading `gppsim simulate` / `gppsim demo` HDF5 results
(layout: sim/engine/results.h) for the plot scripts in this folder."""
import os
import sys

import h5py


def fail(msg):
    """Bad input: message on stderr, exit status 2 (the gppsim convention)."""
    sys.stderr.write("%s: %s\n" % (os.path.basename(sys.argv[0]), msg))
    sys.exit(2)


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def load(path):
    """The summary attributes, /devices, /tasks (with kind names) and the
    cluster text of one results file."""
    try:
        with h5py.File(path, "r") as f:
            summary = {k: (_text(v) if isinstance(v, bytes) else v)
                       for k, v in f["summary"].attrs.items()}
            tasks = f["tasks"][()]
            kinds = h5py.check_enum_dtype(f["tasks"].dtype["kind"])
            devices = f["devices"][()]
            cluster = _text(f["inputs/cluster"][()])
    except (OSError, KeyError) as e:
        fail("%s: not a gppsim results file (%s)" % (path, e))
    names = {v: k for k, v in (kinds or {}).items()}
    return {"path": path, "summary": summary, "tasks": tasks,
            "kind_names": names, "devices": devices, "cluster": cluster}


def title(r):
    """A panel title from the file: its name, schedule, stages, throughput
    and iteration time."""
    s = r["summary"]
    name = os.path.splitext(os.path.basename(r["path"]))[0]
    return "%s: schedule %s, %d stages, %.1f samples/s, iteration %.1f ms" % (
        name, s["schedule"], s["n_stages"], s["samples_per_s"],
        s["iteration_time"] * 1e3)


def save(fig, out, pdf=False):
    """Writes out (PNG, no timestamps) and, with pdf, the same figure as
    PDF next to it; both go through a temporary file renamed into place."""
    paths = [out] + ([os.path.splitext(out)[0] + ".pdf"] if pdf else [])
    for p in paths:
        ext = os.path.splitext(p)[1][1:] or "png"
        tmp = "%s.tmp.%d" % (p, os.getpid())
        meta = {"CreationDate": None} if ext == "pdf" else {"Software": None}
        fig.savefig(tmp, format=ext, dpi=150, metadata=meta,
                    bbox_inches="tight")
        os.replace(tmp, p)
