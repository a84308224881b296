"""onnx_import.py -- turns an ONNX graph into a gppsim model file.

Run by `gppsim model import` (and by torch_import.py) with /usr/bin/python3:

    onnx_import.py FILE.onnx OUT.yaml [--batch-dim NAME] [--name NAME]

Every activation tensor is read per sample (the batch axis divided out) as
tokens x width (width: the last axis).  Nodes are grouped into gppsim ops:
multi-head attention subgraphs (softmax between two activation x activation
MatMuls, from the Q/K/V projections to the output projection) become one
`attention`, erf-GELU chains one `gelu`, a MatMul/Gemm with a weight (and
its bias Add) one `matmul`, Gather from a weight (and its bag ReduceSum, or
an EmbeddingBag Loop) one `embedding`; the table in configs/models/README.md
lists the rest.  Parameter counts come from the float initializers each op
covers.  Exit status: 0 done, 2 bad input (the message names the file and
the node), 3 onnx missing.
"""
import argparse
import re
import sys

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper, shape_inference
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.stderr.write("gppsim model import: %s cannot import onnx (%s); install "
                     "the Debian package python3-onnx\n" % (sys.executable, e))
    sys.exit(3)

FLOAT_TYPES = {1: 4, 10: 2, 16: 2, 11: 8}  # FLOAT, FLOAT16, BFLOAT16, DOUBLE
PRECISION = {4: "fp32", 2: "fp16", 8: "fp32"}
# Nodes that only re-view their first input's data.
VIEWS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout",
         "Cast", "Contiguous"}
SIMPLE = {"LayerNormalization": "layernorm", "Softmax": "softmax",
          "Relu": "relu", "Gelu": "gelu"}
EW = {"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min"}


class BadInput(Exception):
    """Bad input: the message names the node."""


def fail(node, what):
    name = node.name or node.op_type
    raise BadInput("node '%s' (%s): %s" % (name, node.op_type, what))


# ---- loading and graph checks ---------------------------------------------

def load(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise BadInput("cannot read: %s" % e.strerror)
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf's DecodeError and friends
        raise BadInput("not an ONNX model (%s)" % str(e).strip())
    if len(model.graph.node) == 0:
        raise BadInput("not an ONNX model, or a graph without nodes")
    topo_order(model.graph)
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise BadInput("invalid ONNX model: %s" % first_line(e))
    return infer(model)


def infer(model):
    try:
        return shape_inference.infer_shapes(model, strict_mode=True,
                                            data_prop=True)
    except Exception as e:
        raise BadInput("shape inference failed: %s" % first_line(e))


def fix_loops(g, model):
    """Shape inference cannot see through the Loop that torch exports for
    nn.EmbeddingBag; its output is one bag of the table's width per sample
    (2-D indices without offsets).  Returns whether a shape was set."""
    fixed = False
    for n in g.nodes:
        table = table_of(g, n) if n.op_type == "Loop" else None
        dims = g.shapes.get(n.output[0]) or [None]
        if table is None or all(isinstance(d, int) for d in dims):
            continue
        vi = [v for v in model.graph.value_info if v.name != n.output[0]]
        del model.graph.value_info[:]
        model.graph.value_info.extend(vi + [onnx.helper.make_tensor_value_info(
            n.output[0], g.inits[table].data_type,
            [g.batch_dim or g.batch, g.shapes[table][1]])])
        fixed = True
    return fixed


def first_line(e):
    lines = [x for x in str(e).strip().splitlines() if x.strip()]
    return lines[0] if lines else type(e).__name__


def implicit_inputs(node):
    """Outer-scope tensors a Loop/If/Scan body reads."""
    out = []
    for a in node.attribute:
        for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else []) + \
                list(a.graphs):
            made = {i.name for i in g.input} | {t.name for t in g.initializer}
            for n in g.node:
                made.update(n.output)
            for n in g.node:
                out += [x for x in list(n.input) + implicit_inputs(n)
                        if x and x not in made]
    return out


def all_inputs(node):
    return [x for x in node.input if x] + implicit_inputs(node)


def topo_order(graph):
    """Checks that the nodes form a DAG; names a node on a cycle if not."""
    producer = {}
    for i, n in enumerate(graph.node):
        for o in n.output:
            if o in producer:
                fail(n, "output '%s' is also produced by node '%s'" %
                     (o, graph.node[producer[o]].name))
            producer[o] = i
    deps = [{producer[x] for x in all_inputs(n) if x in producer}
            for n in graph.node]
    state = [0] * len(deps)  # 0 new, 1 on the stack, 2 done
    for start in range(len(deps)):
        stack = [(start, iter(sorted(deps[start])))]
        if state[start]:
            continue
        state[start] = 1
        while stack:
            i, it = stack[-1]
            j = next(it, None)
            if j is None:
                state[i] = 2
                stack.pop()
            elif state[j] == 1:
                fail(graph.node[j], "the graph has a cycle through this node "
                     "(it depends on its own output)")
            elif state[j] == 0:
                state[j] = 1
                stack.append((j, iter(sorted(deps[j]))))


# ---- tensors ---------------------------------------------------------------

class Graph:
    """The graph's tensors and nodes.  weights: graph inputs that carry
    weights rather than data (an export without its parameters), mapped to
    whether each is a trained parameter (else a buffer)."""

    def __init__(self, model, batch_dim, weights=None):
        g = model.graph
        self.nodes = list(g.node)
        self.inits = {t.name: t for t in g.initializer}
        for i in g.input:
            if i.name in (weights or {}):
                t = i.type.tensor_type
                self.inits[i.name] = onnx.TensorProto(
                    name=i.name, dims=[d.dim_value for d in t.shape.dim],
                    data_type=t.elem_type if weights[i.name] else
                    onnx.TensorProto.INT64)
        self.shapes = {}
        for vi in list(g.input) + list(g.value_info) + list(g.output):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                self.shapes[vi.name] = [d.dim_param if d.dim_param else
                                        (d.dim_value if d.HasField("dim_value")
                                         else None) for d in t.shape.dim]
        for t in g.initializer:
            self.shapes[t.name] = list(t.dims)
        for t in self.inits.values():
            self.shapes[t.name] = list(t.dims)
        self.inputs = [i for i in g.input if i.name not in self.inits]
        self.outputs = [o.name for o in g.output]
        self.producer = {o: n for n in self.nodes for o in n.output}
        self.consumers = {}
        for n in self.nodes:
            for x in all_inputs(n):
                self.consumers.setdefault(x, []).append(n)
        self.batch_dim, self.batch = self.find_batch(batch_dim)
        self.classify()

    def find_batch(self, name):
        if not self.inputs:
            raise BadInput("the graph has no inputs")
        first = self.shapes.get(self.inputs[0].name) or [1]
        if name is None:
            name = first[0] if isinstance(first[0], str) else None
        if name is not None:
            if not any(name in (self.shapes.get(i.name) or [])
                       for i in self.inputs):
                raise BadInput("no graph input has a dimension named "
                                   "'%s' (--batch-dim)" % name)
            return name, 1
        return None, first[0] or 1

    def classify(self):
        """Activation tensors depend on a graph input through data (not
        through Shape); everything else is a constant."""
        self.act = {i.name for i in self.inputs}
        for n in self.nodes:
            if n.op_type in ("Shape", "Size", "Constant", "ConstantOfShape"):
                continue
            if any(x in self.act for x in all_inputs(n)):
                self.act.update(o for o in n.output if o)

    def numel(self, name, node):
        """Elements of a tensor with the batch at its size; one dimension
        shape inference left open is taken as the batch axis."""
        dims = self.shapes.get(name)
        if dims is None:
            fail(node, "tensor '%s' has no shape, even after ONNX shape "
                 "inference" % name)
        known = [d for d in dims if isinstance(d, int)]
        open_ = [d for d in dims if not isinstance(d, int)]
        if len(open_) > 1 or (open_ and self.batch_dim is not None
                              and open_[0] != self.batch_dim
                              and self.batch_dim in dims):
            fail(node, "tensor '%s' has dimensions %s that shape inference "
                 "could not fix (only the batch axis may be open; name it "
                 "with --batch-dim)" % (name, dims))
        return int(np.prod(known)) * (self.batch if open_ else 1)

    def per_sample(self, name, node):
        """(tokens, width) of one sample of an activation tensor."""
        n = self.numel(name, node)
        if n % self.batch:
            fail(node, "tensor '%s' (%d elements) does not split over the "
                 "batch of %d" % (name, n, self.batch))
        n //= self.batch
        dims = self.shapes[name]
        w = dims[-1] if len(dims) > 1 and isinstance(dims[-1], int) else n
        if w <= 0 or n % w:
            w = n
        return max(n // max(w, 1), 1), max(w, 1)

    def params(self, names):
        """Float initializers among names, with their element counts."""
        out = {}
        for x in names:
            t = self.inits.get(x)
            if t is not None and t.data_type in FLOAT_TYPES:
                out[x] = int(np.prod(t.dims)) if len(t.dims) else 1
        return out

    def const_sources(self, name, seen=None):
        """Initializers a constant tensor is computed from."""
        seen = set() if seen is None else seen
        if name in seen:
            return []
        seen.add(name)
        if name in self.inits:
            return [name]
        n = self.producer.get(name)
        if n is None or name in self.act:
            return []
        return [s for x in all_inputs(n) for s in self.const_sources(x, seen)]

    def weights(self, node):
        """Float initializers reaching a node through constant inputs."""
        names = [s for x in all_inputs(node) if x not in self.act
                 for s in self.const_sources(x)]
        return self.params(names)

    def act_inputs(self, node):
        if node.op_type in VIEWS or node.op_type == "Expand":
            return [node.input[0]] if node.input[0] in self.act else []
        return [x for x in all_inputs(node) if x in self.act]

    def only_consumer(self, name):
        c = self.consumers.get(name, [])
        return c[0] if len(c) == 1 and name not in self.outputs else None


# ---- grouping nodes into gppsim ops -----------------------------------------

class Group:
    """One gppsim op: the nodes it covers, its activation inputs, the tensor
    it produces and what the YAML item needs."""

    def __init__(self, kind, nodes, inputs, out, name, **extra):
        self.kind, self.nodes, self.inputs, self.out = kind, nodes, inputs, out
        self.name, self.extra = name, extra


def is_weighted_mm(g, n):
    return (n.op_type in ("MatMul", "Gemm") and len(g.act_inputs(n)) == 1
            and bool(g.weights(n)))


def is_act_mm(g, n):
    return n.op_type == "MatMul" and len(g.act_inputs(n)) == 2


def walk_back(g, t, want, through, limit=16):
    """The first producer matching want, going back from tensor t through
    single-activation-input nodes of the types in through."""
    for _ in range(limit):
        n = g.producer.get(t)
        if n is None or t not in g.act:
            return None
        if want(n):
            return n
        ins = g.act_inputs(n)
        if n.op_type not in through or len(ins) != 1:
            return None
        t = ins[0]
    return None


def walk_fwd(g, t, want, through, limit=16):
    for _ in range(limit):
        n = g.only_consumer(t)
        if n is None:
            return None
        if want(n):
            return n
        if n.op_type not in through:
            return None
        t = n.output[0]
    return None


def fold_bias(g, node):
    """The Add that adds a bias to node's only output, or None."""
    nxt = g.only_consumer(node.output[0])
    if (nxt is not None and nxt.op_type == "Add"
            and len(g.act_inputs(nxt)) == 1 and g.weights(nxt)):
        return nxt
    return None


def region_back(g, end, x, limit=400):
    """Nodes on the paths from tensor x to tensor end, or None when a path
    reaches another activation."""
    region, todo = {}, [end]
    while todo:
        t = todo.pop()
        if t == x:
            continue
        n = g.producer.get(t)
        if n is None or len(region) > limit:
            return None
        if id(n) in region:
            continue
        region[id(n)] = n
        todo += g.act_inputs(n)
    return region


def closed(g, region, end):
    """Only end leaves the region."""
    for n in region.values():
        for o in n.output:
            if o == end or o not in g.act:
                continue
            if o in g.outputs or any(id(c) not in region and c.op_type
                                     not in ("Shape", "Size")
                                     for c in g.consumers.get(o, [])):
                return False
    return True


def attention_group(g, sm):
    through = VIEWS | EW | {"Transpose", "Where", "Softmax"}
    scores = walk_back(g, sm.input[0], lambda n: is_act_mm(g, n), through)
    ctx = walk_fwd(g, sm.output[0], lambda n: is_act_mm(g, n), VIEWS)
    if scores is None or ctx is None:
        return None
    probs = [sm.output[0]]  # the probabilities, after dropout or a cast
    while g.only_consumer(probs[-1]) not in (None, ctx):
        probs.append(g.only_consumer(probs[-1]).output[0])
    through = VIEWS | EW | {"Transpose", "Split", "Slice", "Gather"}
    projs = []
    for t in g.act_inputs(scores) + g.act_inputs(ctx):
        p = walk_back(g, t, lambda n: is_weighted_mm(g, n), through)
        if p is None and t not in probs:
            return None
        if p is not None:
            projs.append(p)
    xs = {g.act_inputs(p)[0] for p in projs}
    out = walk_fwd(g, ctx.output[0], lambda n: is_weighted_mm(g, n),
                   VIEWS | {"Transpose"})
    if len(xs) != 1 or out is None:
        return None
    bias = fold_bias(g, out)
    end = (bias or out).output[0]
    x = xs.pop()
    region = region_back(g, end, x)
    if region is None or not closed(g, region, end):
        return None
    return widen(g, x, end, region)


def widen(g, x, end, region):
    """Takes the layout transposes and views around an attention (such as
    nn.MultiheadAttention's sequence-first transposes) into it."""
    shape_of = {"Transpose"} | VIEWS
    while True:
        p = g.producer.get(x)
        users = [c for c in g.consumers.get(x, [])
                 if c.op_type not in ("Shape", "Size")]
        if (p is None or p.op_type not in shape_of or x in g.outputs
                or any(id(c) not in region for c in users)):
            break
        region[id(p)] = p
        x = g.act_inputs(p)[0]
    while True:
        n = g.only_consumer(end)
        if n is None or n.op_type not in shape_of:
            break
        region[id(n)] = n
        end = n.output[0]
    return x, end, region


def gelu_group(g, erf):
    pre = g.producer.get(erf.input[0])
    if (pre is None or pre.op_type not in ("Div", "Mul")
            or len(g.act_inputs(pre)) != 1
            or g.only_consumer(pre.output[0]) is not erf):
        return None
    x = g.act_inputs(pre)[0]
    region, cur, uses_x = {id(pre): pre, id(erf): erf}, erf.output[0], False
    while True:
        n = g.only_consumer(cur)
        if n is None or n.op_type not in ("Add", "Mul", "Div") or \
                not set(g.act_inputs(n)) <= {cur, x}:
            break
        uses_x |= x in g.act_inputs(n)
        region[id(n)] = n
        cur = n.output[0]
    return (x, cur, region) if uses_x else None


def scope_name(nodes, fallback):
    names = [n.name for n in nodes if n.name]
    if not names:
        return fallback
    pre = names[0]
    for s in names[1:]:
        while not s.startswith(pre):
            pre = pre[:-1]
    pre = pre[:pre.rfind("/") + 1] if "/" in pre else ""
    return pre.strip("/") or fallback


def clean(name):
    s = re.sub(r"[^A-Za-z0-9_.\-]", "_", name.replace("/", ".").strip("/."))
    return s or "op"


# ---- gppsim ops -------------------------------------------------------------

def fmt(v):
    if isinstance(v, str):
        return '"%s"' % v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, fmt(x)) for k, x in v.items()) \
            + "}"
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return repr(v)


class Builder:
    def __init__(self, g):
        self.g, self.items, self.names = g, [], set()
        self.tensor, self.shape, self.views = {}, {}, {}
        self.claimed, self.customs = set(), {}
        floats = [t for t in g.inits.values() if t.data_type in FLOAT_TYPES]
        dt = floats[0].data_type if floats else 1
        self.dtype = FLOAT_TYPES[dt]
        self.precision = "bf16" if dt == 16 else PRECISION[self.dtype]

    def unique(self, base):
        name, i = clean(base), 2
        while name in self.names:
            name = "%s_%d" % (clean(base), i)
            i += 1
        self.names.add(name)
        return name

    def claim(self, nodes):
        """Float parameters of the nodes not yet counted by another op."""
        total = 0
        for n in nodes:
            for k, v in self.g.weights(n).items():
                if k not in self.claimed:
                    self.claimed.add(k)
                    total += v
        return total

    def src(self, t, node, want=None):
        """The op providing tensor t, seen as want (tokens, width): a
        zero-time view op is put in where the op's own shape differs."""
        if t not in self.tensor:
            fail(node, "input '%s' is produced by no mapped node" % t)
        op, tt, ww = self.tensor[t]
        want = want or (tt, ww)
        if self.shape[op] == want:
            return op
        if (op, want) not in self.views:
            name = self.unique(op + ".view")
            self.add(name, "custom", [op], want, None, 0,
                     shape={"tokens": want[0], "width": want[1]},
                     time_per_sample={"fwd": "0 s", "bwd": "0 s"})
            self.views[(op, want)] = name
        return self.views[(op, want)]

    def add(self, name, kind, inputs, oshape, out, params, derived=0,
            **fields):
        item = {"op": name, "kind": kind, "inputs": inputs}
        item.update(fields)
        if params != derived:
            item["param_bytes"] = params * self.dtype
        self.items.append(item)
        self.shape[name] = oshape
        if out is not None:
            self.tensor[out] = (name, *oshape)

    def act_shape(self, t, node):
        return self.g.per_sample(t, node)

    def numel(self, t, node):
        a, b = self.act_shape(t, node)
        return a * b

    # -- one function per gppsim kind ---------------------------------------

    def inputs(self):
        for i in self.g.inputs:
            t, w = self.act_shape(i.name, i)
            name = self.unique(i.name)
            self.items.append({"input": name, "tokens": t, "width": w})
            self.shape[name] = (t, w)
            self.tensor[i.name] = (name, t, w)

    def matmul(self, node):
        bias_add = fold_bias(self.g, node)
        nodes = [node] + ([bias_add] if bias_add else [])
        out = nodes[-1].output[0]
        x = self.g.act_inputs(node)[0]
        xt, xw = self.act_shape(x, node)
        ot, ow = self.act_shape(out, node)
        bias = bias_add is not None or (node.op_type == "Gemm"
                                        and len(node.input) > 2
                                        and bool(node.input[2]))
        self.add(self.unique(node.name or "matmul"), "matmul",
                 [self.src(x, node)], (xt, ow), out, self.claim(nodes),
                 xw * ow + (ow if bias else 0), shape={"width": ow},
                 bias=bias)

    def attention(self, grp, node):
        x, end, region = grp
        nodes = list(region.values())
        s, h = self.act_shape(x, node)
        if self.act_shape(end, node) != (s, h):
            return False
        sm = next(n for n in nodes if n.op_type == "Softmax")
        heads = self.numel(sm.output[0], sm) // (s * s)
        if heads < 1 or h % heads:
            return False
        self.add(self.unique(scope_name([sm], "attention")), "attention",
                 [self.src(x, node)], (s, h), end, self.claim(nodes),
                 4 * h * h + 4 * h, shape={"heads": heads})
        return True

    def simple(self, kind, nodes, x, out, derived_per_width=0):
        node = nodes[0]
        t, w = self.act_shape(out, node)
        erf = [n for n in nodes if n.op_type == "Erf"]
        name = scope_name(erf, kind) if len(nodes) > 1 else node.name
        self.add(self.unique(name or kind), kind, [self.src(x, node, (t, w))],
                 (t, w), out, self.claim(nodes), derived_per_width * w)

    def embedding(self, node, table, ids, nodes):
        rows, dim = self.g.shapes[table]
        out = nodes[-1].output[0]
        lookups = self.numel(ids, node)
        tokens = max(self.numel(out, node) // dim, 1)
        bag = max(lookups // tokens, 1)
        self.add(self.unique(node.name or "embedding"), "embedding",
                 [self.src(ids, node)], (tokens, dim), out,
                 self.claim(nodes), rows * dim,
                 shape={"tokens": tokens, "width": dim, "rows": rows,
                        "bag": bag})

    def elementwise(self, node):
        out = node.output[0]
        want = self.act_shape(out, node)
        ins = self.g.act_inputs(node)
        if any(self.numel(x, node) != want[0] * want[1] for x in ins):
            return self.custom(node, want[0] * want[1])
        self.add(self.unique(node.name or "add"), "elementwise",
                 [self.src(x, node, want) for x in ins], want, out,
                 self.claim([node]))

    def concat_along(self, node, ins, shapes):
        """How gppsim joins the inputs (configs/models/README.md, concat):
        by the node's axis: the last one joins widths, the one before it
        (rank 3 or more) tokens; any other axis, or shapes that do not
        agree on the other dimension, flatten each sample."""
        rank = len(self.g.shapes.get(ins[0], ()))
        axis = next((a.i for a in node.attribute if a.name == "axis"), -1)
        axis = axis % rank if rank else -1
        if axis == rank - 1 and all(s[0] == shapes[0][0] for s in shapes):
            return "width"
        if rank >= 3 and axis == rank - 2 and \
                all(s[1] == shapes[0][1] for s in shapes):
            return "tokens"
        return "flatten"

    def concat(self, node):
        ins = self.g.act_inputs(node)
        if len(ins) != len([x for x in node.input if x]):
            return self.custom(node, 0)
        shapes = [self.act_shape(x, node) for x in ins]
        along = self.concat_along(node, ins, shapes)
        if along == "width":
            shape = (shapes[0][0], sum(s[1] for s in shapes))
        elif along == "tokens":
            shape = (sum(s[0] for s in shapes), shapes[0][1])
        else:
            shape = (1, sum(a * b for a, b in shapes))
        fields = {} if along == "width" else {"along": along}
        self.add(self.unique(node.name or "concat"), "concat",
                 [self.src(x, node) for x in ins], shape, node.output[0],
                 self.claim([node]), **fields)

    def custom(self, node, flops, bwd_factor=1):
        out = next((o for o in node.output if o in self.g.act), node.output[0])
        t, w = self.act_shape(out, node)
        name = self.unique(node.name or node.op_type)
        self.customs[node.op_type] = self.customs.get(node.op_type, 0) + 1
        self.add(name, "custom",
                 [self.src(x, node) for x in self.g.act_inputs(node)],
                 (t, w), None, self.claim([node]),
                 shape={"tokens": t, "width": w},
                 flops={"fwd": flops, "bwd": bwd_factor * flops})
        for o in node.output:
            if o in self.g.act:
                self.tensor[o] = (name, *self.act_shape(o, node))


# ---- the walk ---------------------------------------------------------------

def table_of(g, node):
    """The 2-D float weight an embedding-like node reads rows from."""
    w = [k for k in g.weights(node) if len(g.shapes[k]) == 2]
    return w[0] if len(w) == 1 else None


def find_groups(g):
    """Attention and erf-GELU regions: {id(end node): (kind, region)} and
    the set of covered node ids."""
    groups, covered = {}, set()
    for n in g.nodes:
        if id(n) in covered or n.output[0] not in g.act:
            continue
        grp = attention_group(g, n) if n.op_type == "Softmax" else \
            gelu_group(g, n) if n.op_type == "Erf" else None
        if grp is None or covered & set(grp[2]):
            continue
        kind = "attention" if n.op_type == "Softmax" else "gelu"
        groups[id(g.producer[grp[1]])] = (kind, grp)
        covered |= set(grp[2])
    return groups, covered


def custom_flops(g, b, n):
    outs = [o for o in n.output if o in g.act]
    out = b.numel(outs[0], n) if outs else 0
    ins = [b.numel(x, n) for x in g.act_inputs(n)]
    if n.op_type == "MatMul":
        return 2 * out * g.shapes[n.input[0]][-1], 2
    if n.op_type in ("Conv", "ConvTranspose") and g.weights(n):
        w = g.shapes[n.input[1]]
        return 2 * out * int(np.prod(w[1:])), 2
    if n.op_type in ("Transpose", "Slice", "Split", "Gather", "Expand",
                     "Tile", "Pad"):
        return 0, 1
    return max([out] + ins), 1


def visit(g, b, n, groups, covered, done):
    ins = g.act_inputs(n)
    if id(n) in groups:
        kind, grp = groups[id(n)]
        if kind == "attention" and b.attention(grp, n):
            return
        if kind == "gelu":
            return b.simple("gelu", list(grp[2].values()), grp[0], grp[1])
        for m in grp[2].values():  # not fusable after all: one by one
            if id(m) not in done:
                done.add(id(m))
                visit(g, b, m, {}, set(), done)
        return
    if id(n) in covered or not ins or not any(o in g.act for o in n.output):
        return
    t = n.op_type
    if t in VIEWS:
        op = b.tensor[ins[0]][0]
        b.tensor[n.output[0]] = (op, *b.act_shape(n.output[0], n))
    elif t in ("MatMul", "Gemm") and is_weighted_mm(g, n):
        if fold_bias(g, n):
            covered.add(id(fold_bias(g, n)))
        b.matmul(n)
    elif t in ("Gather", "Loop") and table_of(g, n) and len(ins) == 1:
        nodes, nxt = [n], g.only_consumer(n.output[0])
        if nxt is not None and nxt.op_type in ("ReduceSum", "ReduceMean"):
            nodes.append(nxt)
            covered.add(id(nxt))
        b.embedding(n, table_of(g, n), ins[0], nodes)
    elif t in SIMPLE and len(ins) == 1:
        b.simple(SIMPLE[t], [n], ins[0], n.output[0],
                 2 if t == "LayerNormalization" else 0)
    elif t in EW:
        b.elementwise(n)
    elif t == "Concat":
        b.concat(n)
    else:
        b.custom(n, *custom_flops(g, b, n))


def build(g):
    b = Builder(g)
    b.inputs()
    groups, covered = find_groups(g)
    done = set()
    for n in g.nodes:
        if id(n) not in done:
            done.add(id(n))
            visit(g, b, n, groups, covered, done)
    outs = [o for o in g.outputs if o in g.act]
    for o in outs:
        name = b.unique("loss" if len(outs) == 1 else "loss." + o)
        b.items.append({"loss": name, "inputs": [b.src(o, g.producer[o])]})
    return b


def write(b, path, name, src):
    lines = ["# Imported from %s by `gppsim model import` (the importer's "
             "op mapping: configs/models/README.md)." % src,
             "name: %s" % fmt(name), "precision: %s" % b.precision, "graph:"]
    lines += ["  - " + fmt(item) for item in b.items]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def report(b, prog):
    if b.customs:
        kinds = ", ".join("%s x%d" % kv for kv in sorted(b.customs.items()))
        sys.stderr.write("%s: mapped to `custom` with FLOPs estimated from "
                         "tensor shapes: %s\n" % (prog, kinds))


def run(path, out, batch_dim=None, name=None, prog="gppsim model import",
        weights=None):
    """Imports path into out; returns the exit status."""
    try:
        model = load(path)
        g = Graph(model, batch_dim, weights)
        if fix_loops(g, model):
            g = Graph(infer(model), batch_dim, weights)
        b = build(g)
    except BadInput as e:
        sys.stderr.write("%s: %s: %s\n" % (prog, path, e))
        return 2
    base = re.sub(r"\.onnx$", "", path.rsplit("/", 1)[-1])
    write(b, out, clean(name or base), path.rsplit("/", 1)[-1])
    report(b, prog)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("onnx")
    ap.add_argument("out")
    ap.add_argument("--batch-dim")
    ap.add_argument("--name")
    a = ap.parse_args()
    sys.exit(run(a.onnx, a.out, a.batch_dim, a.name))


if __name__ == "__main__":
    main()
