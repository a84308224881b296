"""torch_import.py -- builds a PyTorch module, exports it to ONNX and imports
that into a gppsim model file (onnx_import.py).

Run by `gppsim model import-torch` with /usr/bin/python3:

    torch_import.py MODULE:FACTORY OUT.yaml --input-shape DIMS[:DTYPE]...
                    [--onnx KEEP.onnx] [--name NAME]

MODULE is a dotted module name (found from the current folder) or a path to
a .py file; FACTORY is called without arguments and returns the nn.Module.
DIMS are the sizes of one example input, batch first, as 1x256x1024 (or
1,256,1024); DTYPE is float32 (default), float16, int64 or int32; integer
inputs are zeros (valid indices for any embedding).  The module is exported
in training mode (dropout kept, batch norm in training form) with opset 17.
Exit status: 0 done, 2 bad input, 3 torch or onnx missing.
"""
import argparse
import importlib
import importlib.util
import os
import re
import sys
import tempfile

PROG = "gppsim model import-torch"


def die(msg, status=2):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(status)


try:
    import torch
except ImportError as e:  # pragma: no cover - depends on the machine
    die("%s cannot import torch (%s); install the Debian package "
        "python3-torch" % (sys.executable, e), 3)

import onnx_import  # noqa: E402  (exits 3 naming python3-onnx if missing)

DTYPES = {"float32": torch.float32, "float16": torch.float16,
          "int64": torch.int64, "int32": torch.int32}


def example(spec):
    dims, _, dtype = spec.partition(":")
    if not re.fullmatch(r"[0-9]+([x,][0-9]+)*", dims) or \
            dtype not in ("",) + tuple(DTYPES):
        die("--input-shape '%s': expected sizes such as 1x256x1024, "
            "optionally :%s" % (spec, "|".join(DTYPES)))
    shape = [int(d) for d in re.split("[x,]", dims)]
    dt = DTYPES[dtype or "float32"]
    if dt.is_floating_point:
        return torch.randn(*shape, generator=torch.Generator().manual_seed(0),
                           dtype=dt)
    return torch.zeros(*shape, dtype=dt)


def factory(spec):
    mod, sep, fn = spec.rpartition(":")
    if not sep or not mod or not fn:
        die("'%s': expected MODULE:FACTORY (a module or .py file, and a "
            "function returning the nn.Module)" % spec)
    try:
        if mod.endswith(".py"):
            s = importlib.util.spec_from_file_location("gpp_user_model", mod)
            m = importlib.util.module_from_spec(s)
            s.loader.exec_module(m)
        else:
            sys.path.insert(0, os.getcwd())
            m = importlib.import_module(mod)
    except (ImportError, OSError, SyntaxError) as e:
        die("cannot load module '%s': %s" % (mod, e))
    f = getattr(m, fn, None)
    if not callable(f):
        die("module '%s' has no function '%s'" % (mod, fn))
    module = f()
    if not isinstance(module, torch.nn.Module):
        die("%s() returned %s, not a torch.nn.Module" %
            (fn, type(module).__name__))
    return module


def export(module, inputs, path, keep):
    """Exports to path; without keep, the weights stay out of the file (as
    graph inputs named after the parameters), which keeps large models
    cheap: only their shapes matter here."""
    names = ["x%d" % i if len(inputs) > 1 else "x" for i in
             range(len(inputs))]
    try:
        torch.onnx.export(module, tuple(inputs), path, input_names=names,
                          opset_version=17, do_constant_folding=False,
                          export_params=keep,
                          training=torch.onnx.TrainingMode.TRAINING)
    except Exception as e:  # the module's own errors, shape mismatches
        die("torch.onnx.export failed: %s" %
            onnx_import.first_line(e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("factory")
    ap.add_argument("out")
    ap.add_argument("--input-shape", action="append", required=True)
    ap.add_argument("--onnx")
    ap.add_argument("--name")
    a = ap.parse_args()
    inputs = [example(s) for s in a.input_shape]
    module = factory(a.factory)
    torch.manual_seed(0)
    weights = {n: True for n, _ in module.named_parameters()}
    weights.update({n: False for n, _ in module.named_buffers()})
    sys.stderr.write("%s: PyTorch counts %d parameters\n" %
                     (PROG, sum(p.numel() for p in module.parameters())))
    with tempfile.TemporaryDirectory() as tmp:
        path = a.onnx or os.path.join(tmp, "model.onnx")
        export(module, inputs, path, a.onnx is not None)
        name = a.name or a.factory.rpartition(":")[2]
        sys.exit(onnx_import.run(path, a.out, None, name, PROG,
                                 None if a.onnx else weights))


if __name__ == "__main__":
    main()
