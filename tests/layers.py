#!/usr/bin/env python3
"""layers.py -- the layers' archives call only downward and no two files
call into each other (ARCHITECTURE.md).

usage: layers.py NAME=ARCHIVE...   (the layers from the top down)

From `nm` on each archive: an edge A -> B where object A uses a symbol
object B defines.  Fails, naming the files and the symbols, when
  - a file of one layer uses a file of a layer listed above it, or
  - files form a cycle (two or more files that reach each other, directly or
    through others): within a module one file is the entry and the others
    are helpers it calls.
"""
import collections
import subprocess
import sys


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


def main(argv):
    if len(argv) < 2 or argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    layers = [a.split('=', 1) for a in argv[1:]]
    rank = {name: i for i, (name, _) in enumerate(layers)}  # 0: the top
    objs = {}
    for name, archive in layers:
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
    n_edges = sum(len(v) for v in edges.values())
    print(f'{len(layers)} layers, {len(objs)} files, {n_edges} file-to-file '
          f'uses: {bad} problem(s)')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
