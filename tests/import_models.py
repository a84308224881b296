"""import_models.py -- PyTorch models built inside the tests of
`gppsim model import-torch` (cli_import.sh): no downloads.

HAND[name] is the hand count of a model's forward GEMM FLOPs per sample (a
GEMM of m x k by k x n is 2mkn, as gppsim counts) and INPUTS[name] its
example inputs for --input-shape; `python3 import_models.py inputs NAME`
prints those options and `python3 import_models.py check NAME MODEL.json
PARAMS` compares an imported model (`gppsim model show --json --ops`) with
PyTorch's parameter count and the hand count.  Both run before torch is
imported (it takes seconds); the factories below it are what
`import-torch import_models.py:NAME` builds.
"""
import json
import sys


def mm(m, k, n):
    return 2 * m * k * n


def block_flops(s, h, f):
    """A Transformer layer: Q, K, V, O projections, scores, context, FFN."""
    return 4 * mm(s, h, h) + 2 * mm(s, s, h) + mm(s, h, f) + mm(s, f, h)


def mlp_flops(widths):
    return sum(mm(1, a, b) for a, b in zip(widths, widths[1:]))


HAND = {
    "mlp": mlp_flops([32, 64, 64, 10]),
    "two_branch": mlp_flops([32, 64, 64]) + mlp_flops([32, 48, 64])
    + mm(1, 128, 4),
    "encoder_layer": block_flops(16, 64, 128),
    "dlrm": 2 * mlp_flops([16, 32, 8]) + mlp_flops([32, 16, 1]),
    "multimodal": 2 * 2 * block_flops(16, 64, 256)
    + 16 * mlp_flops([64, 64, 64]),
    "mmt": 4 * 8 * block_flops(256, 1024, 4096),
}
INPUTS = {
    "mlp": ["1x32"], "two_branch": ["1x32", "1x32"],
    "encoder_layer": ["1x16x64"],
    "dlrm": ["1x16", "1x16", "1x10:int64", "1x10:int64"],
    "multimodal": ["1x16x64"] * 3, "mmt": ["1x256x1024"] * 4,
}


def check(name, path, params):
    d = json.load(open(path))
    gemm = sum(o["flops_fwd"] for o in d["op_table"]
               if o["kind"] in ("matmul", "attention"))
    print("%s: parameters %d (PyTorch %d), GEMM FLOPs/sample %d (hand %d)"
          % (name, d["param_count"], params, gemm, HAND[name]))
    return 0 if d["param_count"] == params and gemm == HAND[name] else 1


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        print(" ".join("--input-shape " + s for s in INPUTS[sys.argv[2]]))
        sys.exit(0)
    sys.exit(check(sys.argv[2], sys.argv[3], int(sys.argv[4])))

import torch  # noqa: E402
from torch import nn  # noqa: E402


class Attention(nn.Module):
    """Multi-head self-attention written out: Q, K, V, output projections."""

    def __init__(self, h, heads):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.heads = heads

    def forward(self, x):
        b, s, h = x.shape
        split = (lambda t: t.reshape(b, s, self.heads, h // self.heads)
                 .transpose(1, 2))
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        p = torch.softmax(q @ k.transpose(-1, -2) / (h // self.heads) ** 0.5,
                          dim=-1)
        return self.o((p @ v).transpose(1, 2).reshape(b, s, h))


class Block(nn.Module):
    """Pre-LN Transformer layer, in gppsim's `transformer` order."""

    def __init__(self, h, heads, ffn):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(h), nn.LayerNorm(h)
        self.attn = Attention(h, heads)
        self.fc1, self.fc2 = nn.Linear(h, ffn), nn.Linear(ffn, h)
        self.gelu = nn.GELU()

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(self.gelu(self.fc1(self.ln2(x))))


def mlp_layers(widths):
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


# ---- the models -------------------------------------------------------------

def mlp():
    return mlp_layers([32, 64, 64, 10])


class TwoBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = mlp_layers([32, 64, 64]), mlp_layers([32, 48, 64])
        self.head = nn.Linear(128, 4)

    def forward(self, x0, x1):
        return self.head(torch.cat([self.a(x0), self.b(x1)], dim=-1))


def two_branch():
    return TwoBranch()


def encoder_layer():
    """torch's own nn.TransformerEncoderLayer (packed in_proj, dropout)."""
    return nn.TransformerEncoderLayer(64, 4, 128, dropout=0.1,
                                      activation="gelu", batch_first=True,
                                      norm_first=True)


class DLRM(nn.Module):
    """2 dense MLP branches and 2 embedding bags, concatenated, top MLP."""

    def __init__(self):
        super().__init__()
        self.dense = nn.ModuleList(mlp_layers([16, 32, 8]) for _ in range(2))
        self.sparse = nn.ModuleList(nn.EmbeddingBag(1000, 8, mode="sum")
                                    for _ in range(2))
        self.top = mlp_layers([32, 16, 1])

    def forward(self, d0, d1, s0, s1):
        feats = [m(x) for m, x in zip(self.dense, (d0, d1))]
        feats += [e(i) for e, i in zip(self.sparse, (s0, s1))]
        return self.top(torch.relu(torch.cat(feats, dim=1)))


def dlrm():
    return DLRM()


class Branches(nn.Module):
    """Parallel branches of Transformer layers (each on its own input),
    and optionally an MLP branch, joined by a concat."""

    def __init__(self, n, layers, h, heads, ffn, mlp_in=0):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*(Block(h, heads, ffn) for _ in range(layers)))
            for _ in range(n))
        self.mlp = mlp_layers([mlp_in, h, h]) if mlp_in else None

    def forward(self, *xs):
        outs = [b(x) for b, x in zip(self.branches, xs)]
        if self.mlp is not None:
            outs.append(self.mlp(xs[-1]))
        return torch.cat(outs, dim=-1)


def multimodal():
    """Two Transformer encoders and an MLP joined by a concat."""
    return Branches(2, 2, 64, 4, 256, mlp_in=64)


def mmt():
    """configs/models/mmt.yaml rebuilt: 4 branches x 8 layers, sequence
    256, hidden 1024, 16 heads, FFN 4096, joined by a concat."""
    return Branches(4, 8, 1024, 16, 4096)
