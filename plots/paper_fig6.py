"""paper_fig6.py -- GraphPipe Fig. 6 from `gppsim reproduce fig6`:
throughput (samples/s) against GPUs and mini-batch, one panel per model,
one line per planner; a planner without a plan has no point."""
import paper_data as pd

STYLE = {"graphpipe": "o-", "pipedream": "s--", "piper": "^:"}


def main():
    a = pd.figure_args(__doc__)
    cells = pd.fig6(pd.load(a.results))
    plt = pd.pyplot()
    models = list(dict.fromkeys(c[0] for c in cells))
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.4))
    for ax, m in zip(list(axes) if len(models) > 1 else [axes], models):
        mine = [c for c in cells if c[0] == m]
        for p in pd.PLANNERS:
            pts = [(i, c[3][p]["throughput"]) for i, c in enumerate(mine)
                   if p in c[3] and c[3][p]["status"] == "ok"]
            if pts:
                ax.plot(*zip(*pts), STYLE[p], label=p)
            else:
                ax.plot([], [], STYLE[p], label=p + ": no plan")
        ax.set_xticks(range(len(mine)))
        ax.set_xticklabels(["%d\n(%d)" % (c[1], c[2]) for c in mine])
        ax.set_title(m)
        ax.set_xlabel("GPUs (mini-batch)")
        ax.set_ylabel("samples/s")
        ax.legend(fontsize=8)
    pd.save(fig, a.out)


if __name__ == "__main__":
    main()
