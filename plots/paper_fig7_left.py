"""paper_fig7_left.py -- GraphPipe Fig. 7 (left) from `gppsim reproduce
fig7_left`: CANDLE-Uno throughput of GraphPipe normalised to PipeDream's
against the number of branches, one line per GPU count."""
import paper_data as pd


def main():
    a = pd.figure_args(__doc__)
    series = pd.fig7_left(pd.load(a.results))
    plt = pd.pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    for gpus, pts in sorted(series.items()):
        pts = [(b, r) for b, r in pts if r is not None]
        if pts:
            ax.plot(*zip(*pts), "o-", label="%d GPUs" % gpus)
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(pd.plain_ticks())
    ax.set_xlabel("branches")
    ax.set_ylabel("throughput / PipeDream")
    ax.set_title("CANDLE-Uno")
    ax.legend(fontsize=8)
    pd.save(fig, a.out)


if __name__ == "__main__":
    main()
