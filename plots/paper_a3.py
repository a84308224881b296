"""paper_a3.py -- GraphPipe App. A.3 from `gppsim reproduce a3`: on a
sequential GPT Transformer every planner's throughput, normalised to
PipeDream's, against the GPU count (the 5% parity band shaded)."""
import paper_data as pd

STYLE = {"graphpipe": "o-", "pipedream": "s--", "piper": "^:"}


def main():
    a = pd.figure_args(__doc__)
    cells = pd.fig6(pd.load(a.results))
    plt = pd.pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    ax.axhspan(0.95, 1.05, color="grey", alpha=0.2, label="within 5%")
    for p in pd.PLANNERS:
        pts = [(c[1], pd.speedup(c[3], p)) for c in cells]
        pts = [(g, r) for g, r in pts if r is not None]
        if pts:
            ax.plot(*zip(*pts), STYLE[p], label=p)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(pd.plain_ticks())
    ax.set_xlabel("GPUs")
    ax.set_ylabel("throughput / PipeDream")
    ax.set_title("sequential GPT Transformer")
    ax.legend(fontsize=8)
    pd.save(fig, a.out)


if __name__ == "__main__":
    main()
