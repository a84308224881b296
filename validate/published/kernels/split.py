#!/usr/bin/python3
"""split.py -- splits a published GEMM table into the rows the kernel model's
parameters are fitted to and the rows held back for validation.

Rule: number the distinct shapes (M, N, K, batch) in the order they first
appear in the file, 0, 1, 2, ...; every row whose shape number is a multiple
of 4 goes to NAME.fit.csv, every other row to NAME.heldback.csv.  All types
of one shape stay on the same side.  Comment lines and the header go to both.

usage: split.py NAME.csv   (writes NAME.fit.csv and NAME.heldback.csv)
"""
import sys


def main():
    if len(sys.argv) != 2 or not sys.argv[1].endswith(".csv"):
        sys.exit("usage: split.py NAME.csv")
    src = sys.argv[1]
    base = src[:-4]
    lines = open(src).read().splitlines()
    n_head = next(i for i, ln in enumerate(lines)
                  if ln.strip() and not ln.startswith("#")) + 1
    head, rows = lines[:n_head], lines[n_head:]
    cols = head[-1].split(",")
    shapes = {}
    fit, held = list(head), list(head)
    for ln in rows:
        if not ln.strip():
            continue
        c = dict(zip(cols, ln.split(",")))
        key = (c["M"], c["N"], c["K"], c.get("batch", "1"))
        idx = shapes.setdefault(key, len(shapes))
        (fit if idx % 4 == 0 else held).append(ln)
    for name, out in ((base + ".fit.csv", fit), (base + ".heldback.csv", held)):
        with open(name, "w") as f:
            f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
