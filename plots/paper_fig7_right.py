"""paper_fig7_right.py -- GraphPipe Fig. 7 (right) from `gppsim reproduce
fig7_right`: MMT throughput at each fixed micro-batch size, graph (GPP)
against sequential (SPP) pipelines."""
import paper_data as pd

LABEL = {"graphpipe": "GPP (GraphPipe)", "pipedream": "SPP (PipeDream)"}


def main():
    a = pd.figure_args(__doc__)
    sizes = pd.fig7_right(pd.load(a.results))
    plt = pd.pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for k, p in enumerate(("graphpipe", "pipedream")):
        xs = [i + (k - 0.5) * 0.38 for i, (_, c) in enumerate(sizes)
              if p in c and c[p]["status"] == "ok"]
        ys = [c[p]["throughput"] for _, c in sizes if p in c and c[p]["status"] == "ok"]
        ax.bar(xs, ys, 0.38, label=LABEL[p])
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([str(s) for s, _ in sizes])
    ax.set_xlabel("micro-batch size (fixed)")
    ax.set_ylabel("samples/s")
    ax.set_title("MMT, mini-batch 128, 8 GPUs")
    ax.legend(fontsize=8)
    pd.save(fig, a.out)


if __name__ == "__main__":
    main()
