"""paper_fig9.py -- GraphPipe Fig. 9 from `gppsim reproduce fig9`: the
ablation at 32 GPUs, throughput normalised to the sequential pipeline, for
graph stages only (GraphPipe at the sequential plan's micro-batch size) and
for full GraphPipe."""
import paper_data as pd

BARS = ("sequential", "graph stages only", "full GraphPipe")


def main():
    a = pd.figure_args(__doc__)
    abl = pd.fig9(pd.load(a.results))
    plt = pd.pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    models = list(abl)
    for k, label in enumerate(BARS):
        xs, ys = [], []
        for i, m in enumerate(models):
            r = pd.ratio(abl[m][k], abl[m][0])
            if r is not None:
                xs.append(i + (k - 1) * 0.27)
                ys.append(r)
        ax.bar(xs, ys, 0.27, label=label)
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models)
    ax.set_ylabel("throughput / sequential")
    ax.set_title("Ablation, 32 GPUs")
    ax.legend(fontsize=8)
    pd.save(fig, a.out)


if __name__ == "__main__":
    main()
