#!/usr/bin/python3
"""docs_refs.py SOURCE_DIR -- the format references are complete and
every file a document or a source comment names exists.

Complete: every key a loader reads (its field table in the C source) is
named, in backquotes, in the README that documents that format, every
column of a sweep's /points table in the sweeps README, and every script
in plots/ in plots/README.md.

Exists: the relative targets of Markdown links in every *.md file,
and, in every source, script, config and document file, each path that
starts with one of the repository's top-level folders (configs/, sim/,
planner/, ...) or names a Markdown file.  A path may be relative to the
repository root or to the file that names it.  Paths with placeholders
(<x>, *, %s, {a,b}, NAME) are not checked.
Prints each dangling reference as file:line: path; exit 1 if any."""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1])
TOP = ("configs", "sim", "planner", "topology", "kernels_profile", "validate",
       "plots", "tests", "bench", "cmake", ".ci")
EXTS = (".c", ".h", ".py", ".sh", ".md", ".yaml", ".txt", ".cmake", ".cu",
        ".csv", ".dict", ".supp")
SKIP_DIRS = {".git", "__pycache__", "results", "regress", "seeds"}
# A path-like token: folder/.../name.ext, or a Markdown file's name.
TOKEN = re.compile(r"(?<![\w./-])((?:\.{0,2}/)?(?:[\w.-]+/)*[\w.-]+\.[A-Za-z0-9]+)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
# <x>, *, %s, {a,b}, an all-capitals word (paper_NAME.py, DIR/OUT.h5; not
# CMakeLists.txt), and the names tests use for files that must not exist.
PLACEHOLDER = re.compile(r"[<>*%{}]|(?<![A-Za-z])[A-Z][A-Z0-9_]+(?![a-z])|"
                         r"\b(nosuch|nope|none|missing)\b")
CAPS_DOC = re.compile(r"[A-Z]+\.md$")  # capitalised Markdown names are real


def sources():
    for d, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(d, ROOT)
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and
                   not (rel == "." and x.startswith("build"))]
        for f in files:
            if f.endswith(EXTS) or f == "CMakeLists.txt" or f == "run":
                yield os.path.join(d, f)


def exists(path, near):
    path = path.split("#")[0].rstrip(".,:;")
    if not path:
        return True
    return any(os.path.exists(os.path.join(base, path))
               for base in (ROOT, os.path.dirname(near)))


def candidates(line, is_md):
    if is_md:
        for m in LINK.finditer(line):
            t = m.group(1)
            if not re.match(r"[a-z]+:", t) and not t.startswith("#"):
                yield t
    for m in TOKEN.finditer(line):
        t = m.group(1)
        head = t.lstrip("./").split("/")[0]
        if t.startswith("/") or "://" in line[max(0, m.start() - 8):m.start()]:
            continue
        if head in TOP and "/" in t.lstrip("./") or (
                t.endswith(".md") and "/" not in t):
            yield t


# (loader source, pattern whose group 1 is a key, README documenting it)
FORMATS = [
    ("topology/gpu.c", r'(?:\{|PEAK\()"([a-z0-9_]+)"', "configs/hardware/README.md"),
    ("topology/cluster_template.c", r'\{"([a-z_]+)", GPP_YF',
     "configs/clusters/README.md"),
    ("topology/cluster_template.c", r'"(nvswitch|nvlink-mesh|pcie|none|'
     r'fat-tree|rail-optimized|single-switch)"', "configs/clusters/README.md"),
    ("topology/cluster_graph.c", r'\{"([a-z_]+)", GPP_YF',
     "configs/clusters/README.md"),
    ("sim/plan/plan.c", r'[TS]F\("([a-z_]+)"', "configs/experiments/plans/README.md"),
    ("sim/sweep/sweep_load.c", r'^ +F\(([a-z_]+),', "configs/experiments/sweeps/README.md"),
    ("sim/sweep/sweep_expand.c", r'"(gpus|batch|planner|micro_batch|max_stage_devices)"',
     "configs/experiments/sweeps/README.md"),
    ("sim/sweep/sweep_h5.c", r'COL\(([a-z_]{2,}),', "configs/experiments/sweeps/README.md"),
]


def undocumented():
    missing = []
    for src, pattern, doc in FORMATS:
        text = open(os.path.join(ROOT, doc), encoding="utf-8").read()
        keys = re.findall(pattern, open(os.path.join(ROOT, src)).read(), re.M)
        if not keys:
            missing.append("%s: no key matched %r (pattern out of date?)"
                           % (src, pattern))
        for k in sorted(set(keys)):
            if not re.search(r"`[^`]*\b%s\b[^`]*`" % re.escape(k), text) and \
                    not re.search(r"^\s*%s:" % re.escape(k), text, re.M):
                missing.append("%s: key '%s' of %s is not documented"
                               % (doc, k, src))
    readme = open(os.path.join(ROOT, "plots/README.md")).read()
    for f in sorted(os.listdir(os.path.join(ROOT, "plots"))):
        if f.endswith(".py") and "`%s" % f not in readme:
            missing.append("plots/README.md: %s is not listed" % f)
    return missing


def main():
    bad = []
    for m in undocumented():
        print(m)
    for path in sources():
        is_md = path.endswith(".md")
        try:
            lines = open(path, encoding="utf-8").read().splitlines()
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(lines, 1):
            for t in candidates(line, is_md):
                if PLACEHOLDER.search(CAPS_DOC.sub("", t)) or \
                        "build" in t.split("/")[0]:
                    continue
                if not exists(t, path):
                    bad.append("%s:%d: %s" % (os.path.relpath(path, ROOT), n, t))
    for b in sorted(set(bad)):
        print(b)
    if bad:
        print("docs_refs: %d reference(s) to missing files" % len(set(bad)))
    return 1 if bad or undocumented() else 0


if __name__ == "__main__":
    sys.exit(main())
