#!/usr/bin/env python3
"""layers.py -- the layers' archives call only downward and no two files
call into each other (ARCHITECTURE.md).

usage: layers.py COMPILE_COMMANDS.json NAME=ARCHIVE=FOLDER...
       (the layers from the top down)

From `nm` on each archive: an edge A -> B where object A uses a symbol
object B defines.  Fails, naming the files and the symbols, when
  - a file of one layer uses a file of a layer listed above it, or
  - files form a cycle (two or more files that reach each other, directly or
    through others): within a module one file is the entry and the others
    are helpers it calls.
Then, with the compile command CMake uses for one source of each layer, it
compiles `#include "FOLDER/HEADER"` for a header of every layer: that of
the layer itself must compile, and that of each layer above must fail with
"No such file" -- the build refuses an upward include.
"""
import collections
import json
import os
import shlex
import subprocess
import sys
import tempfile


def members(name, archive):
    """{object: (defined symbols, undefined symbols)} of one archive."""
    out = subprocess.run(['nm', '-A', archive], capture_output=True,
                         text=True, check=True).stdout
    objs = collections.defaultdict(lambda: (set(), set()))
    for line in out.splitlines():
        # ARCHIVE:OBJECT:ADDRESS TYPE SYMBOL, or ARCHIVE:OBJECT: U SYMBOL
        parts = line.split()
        if len(parts) != 3 or ':' not in parts[0]:
            continue
        obj = parts[0][len(archive) + 1:].split(':')[0]
        key = f'{name}:{obj[:-2] if obj.endswith(".o") else obj}'
        if parts[1] == 'U':
            objs[key][1].add(parts[2])
        elif parts[1] in ('T', 'D', 'B', 'R', 'C', 'V', 'W'):
            objs[key][0].add(parts[2])
    return objs


def sccs(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(100000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def header_of(folder):
    """A header of the layer's folder (the alphabetically first)."""
    return sorted(f for f in os.listdir(folder) if f.endswith('.h'))[0]


def try_include(command, path):
    """Compiles `#include "path"` with one source's command, syntax only."""
    argv = shlex.split(command['command'])
    i = argv.index('-c')
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, 'probe.c')
        with open(probe, 'w') as f:
            f.write(f'#include "{path}"\n')
        argv = [a for j, a in enumerate(argv) if j not in (i, i + 1)]
        if '-o' in argv:
            k = argv.index('-o')
            del argv[k:k + 2]
        argv += ['-fsyntax-only', probe]
        r = subprocess.run(argv, capture_output=True, text=True,
                           cwd=command['directory'])
    return r.returncode == 0, r.stderr


def check_includes(db_path, layers, src_root):
    db = json.load(open(db_path))
    folders = {name: os.path.relpath(folder, src_root)
               for name, _, folder in layers}
    bad = 0
    for i, (name, _, folder) in enumerate(layers):
        cmds = [c for c in db if os.path.dirname(c['file']) == folder
                and c['file'].endswith('.c')]
        if not cmds:
            print(f'includes: no compile command for a source of {name}')
            bad += 1
            continue
        for j, (other, _, ofolder) in enumerate(layers):
            if j < i or other == name:
                path = f'{folders[other]}/{header_of(ofolder)}'
                ok, err = try_include(cmds[0], path)
                want = other == name
                refused = not ok and 'No such file' in err and path in err
                if (want and not ok) or (not want and not refused):
                    bad += 1
                    print(f'includes: {name} including "{path}": '
                          f'{"compiles" if ok else err.strip()[:300]}, '
                          f'expected {"to compile" if want else "No such file"}')
    print(f'includes: {len(layers)} layers, each refusing the headers of '
          f'every layer above it: {bad} problem(s)')
    return bad


def main(argv):
    if len(argv) < 3 or argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    layers = [a.split('=', 2) for a in argv[2:]]
    src_root = os.path.commonpath([folder for _, _, folder in layers])
    rank = {name: i for i, (name, _, _) in enumerate(layers)}  # 0: the top
    objs = {}
    for name, archive, _ in layers:
        objs.update(members(name, archive))
    defs = {}
    for obj, (d, _) in objs.items():
        for s in d:
            defs[s] = obj
    edges = collections.defaultdict(set)
    syms = collections.defaultdict(set)
    for a, (_, u) in objs.items():
        for s in u:
            b = defs.get(s)
            if b is not None and b != a:
                edges[a].add(b)
                syms[(a, b)].add(s)
    bad = 0
    for a in sorted(edges):
        for b in sorted(edges[a]):
            la, lb = a.split(':')[0], b.split(':')[0]
            if rank[lb] < rank[la]:
                bad += 1
                print(f'upward: {a} ({la}) uses {b} ({lb}): '
                      f'{", ".join(sorted(syms[(a, b)]))}')
    for comp in sccs(set(objs), edges):
        bad += 1
        print('cycle: ' + ' '.join(comp))
        for a in comp:
            for b in sorted(edges[a] & set(comp)):
                print(f'    {a} -> {b}: {", ".join(sorted(syms[(a, b)]))}')
    bad += check_includes(argv[1], layers, src_root)
    n_edges = sum(len(v) for v in edges.values())
    print(f'{len(layers)} layers, {len(objs)} files, {n_edges} file-to-file '
          f'uses: {bad} problem(s)')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
