"""paper_s75.py -- GraphPipe §7.5 from `gppsim reproduce s75`: the
synthetic 2-branch model's throughput, pipeline depth and micro-batch size
under GraphPipe and PipeDream (the timelines are plots/timeline.py's)."""
import paper_data as pd


def main():
    a = pd.figure_args(__doc__)
    rows = pd.ok(pd.load(a.results))
    plt = pd.pyplot()
    fig, (t, d) = plt.subplots(1, 2, figsize=(7.0, 3.2))
    names = [r["planner"] for r in rows]
    t.bar(names, [r["throughput"] for r in rows], color=["C0", "C1"][:len(rows)])
    t.set_ylabel("samples/s")
    t.set_title("throughput")
    d.bar(names, [r["depth"] for r in rows], color=["C0", "C1"][:len(rows)])
    for i, r in enumerate(rows):
        d.annotate("micro-batch %d" % r["micro_batch"], (i, r["depth"]),
                   ha="center", va="bottom", fontsize=8)
    d.set_ylabel("stages on the longest path")
    d.set_title("pipeline depth")
    pd.save(fig, a.out)


if __name__ == "__main__":
    main()
