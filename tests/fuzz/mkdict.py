#!/usr/bin/env python3
"""mkdict.py -- regenerates tests/fuzz/<target>.dict: the YAML keys each
loader knows, taken from the key lists and field tables in its sources
(string literals inside `keys[] = {...}` arrays and gpp_yfield tables), plus
YAML punctuation.  Run after adding keys: python3 tests/fuzz/mkdict.py"""
import re, pathlib

root = pathlib.Path(__file__).resolve().parents[2]
SOURCES = {
    "model": ["sim/model/model.c", "sim/model/model_spec.c",
              "sim/model/model_items.c", "sim/model/model_gen.c"],
    "cluster": ["topology/cluster_graph.c", "topology/cluster_template.c",
                "topology/cluster.c"],
    "hardware": ["topology/gpu.c"],
    "plan": ["sim/plan/plan.c", "sim/plan/plan_format.c"],
    "sweep": ["sim/sweep/sweep_load.c", "sim/sweep/sweep_expand.c",
              "sim/sweep/sweep_cluster.c", "topology/cluster_override.c"],
    "published": ["validate/published.c"],
    "kernels": ["validate/kernels.c"],
    "net": ["sim/cli/cmd_net.c", "topology/cluster_graph.c",
            "topology/cluster_template.c"],
}
ARRAY = re.compile(r'(?:keys|fields|names|words|k_)\w*\[\]\s*=\s*\{(.*?)\};', re.S)
FIELD = re.compile(r'\{\s*"([A-Za-z_][\w.]*)"\s*,')
WORD = re.compile(r'"([A-Za-z_][\w.\-]*)"')
PUNCT = [": ", ",", "- ", "{", "}", "[", "]", ", ", "\\x0a", "  ", "#", "~", "null",
         "true", "false", "1e9", "-1", "0.5", " GB/s", " us", " ms", " GB"]

def words(paths):
    out = set()
    for p in paths:
        text = (root / p).read_text()
        for block in ARRAY.findall(text):
            out.update(WORD.findall(block))
        out.update(FIELD.findall(text))
    return sorted(out)

for target, paths in SOURCES.items():
    lines = [f"# {target}: keys and words from {', '.join(paths)} (mkdict.py)"]
    lines += [f'"{w}"' for w in words(paths)]
    lines += [f'"{w}: "' for w in words(paths)]
    lines += [f'"{p}"' for p in PUNCT]
    (root / "tests/fuzz" / f"{target}.dict").write_text("\n".join(lines) + "\n")
    print(target, len(lines))
