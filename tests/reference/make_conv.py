#!/usr/bin/python3
"""make_conv.py - reference values for tests/test_conv.c: conv2d and conv_transpose2d in PyTorch (f64).

Regenerate (PyTorch >= 1.13, numpy; no network):
    /usr/bin/python3 tests/reference/make_conv.py > tests/reference/conv.txt

Each case draws x, w, b and the upstream weights r from a fixed numpy seed, and records y = op(x, w, b) and the
gradients of L = sum(r * y) with respect to x, w and b (torch.nn.functional, PyTorch's layouts: conv weight
(O, C, kh, kw), transposed-conv weight (C, O, kh, kw)). Inputs with more than one leading dim (K, B, C, H, W) are
flattened to (K*B, C, H, W) for PyTorch, as the C op does.

File format (whitespace separated):
    case OP NAME STRIDE PADDING OUTPUT_PADDING      OP is conv2d or convt; the arrays follow, then `end`
    NAME NDIM d1 .. dNDIM v1 .. vN                  an array (inputs x, w, b, r; expected y, gx, gw, gb); no b
                                                    line (and no gb) for a case without bias
"""
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(20261201)


def arr(name, t):
    a = t.detach().numpy()
    dims = " ".join(str(d) for d in a.shape)
    vals = " ".join("%.17g" % v for v in a.reshape(-1))
    print("%s %d %s %s" % (name, a.ndim, dims, vals))


def case(op, name, xs, ws, bias, s, p, op_pad=0):
    x = torch.tensor(rng.uniform(-1, 1, xs), dtype=torch.float64, requires_grad=True)
    w = torch.tensor(rng.uniform(-0.5, 0.5, ws), dtype=torch.float64, requires_grad=True)
    O = ws[0] if op == "conv2d" else ws[1]
    b = torch.tensor(rng.uniform(-0.5, 0.5, (O,)), dtype=torch.float64, requires_grad=True) if bias else None
    x4 = x.reshape((-1,) + tuple(xs[-3:]))
    if op == "conv2d":
        y4 = F.conv2d(x4, w, b, stride=s, padding=p)
    else:
        y4 = F.conv_transpose2d(x4, w, b, stride=s, padding=p, output_padding=op_pad)
    y = y4.reshape(tuple(xs[:-3]) + tuple(y4.shape[1:]))
    r = torch.tensor(rng.uniform(-1, 1, tuple(y.shape)), dtype=torch.float64)
    (r * y).sum().backward()
    print("case %s %s %d %d %d" % (op, name, s, p, op_pad))
    arr("x", x)
    arr("w", w)
    if bias:
        arr("b", b)
    arr("r", r)
    arr("y", y)
    arr("gx", x.grad)
    arr("gw", w.grad)
    if bias:
        arr("gb", b.grad)
    print("end")


print("# conv2d / conv_transpose2d references from PyTorch %s (tests/reference/make_conv.py)" % torch.__version__)
case("conv2d", "s1p0", (2, 3, 7, 6), (4, 3, 3, 3), True, 1, 0)
case("conv2d", "s2p1", (2, 3, 7, 6), (4, 3, 3, 3), True, 2, 1)
case("conv2d", "s2p1-k4-nobias", (3, 2, 8, 8), (5, 2, 4, 4), False, 2, 1)
case("conv2d", "s1p1-odd", (1, 1, 5, 3), (2, 1, 2, 2), True, 1, 1)
case("conv2d", "lead-K,B", (2, 2, 3, 5, 5), (2, 3, 3, 3), True, 2, 1)
case("convt", "s1p0", (2, 3, 4, 5), (3, 4, 3, 3), True, 1, 0)
case("convt", "s2p1-op1", (2, 3, 4, 5), (3, 2, 3, 3), True, 2, 1, 1)
case("convt", "s2p1-k4-nobias", (2, 4, 7, 7), (4, 3, 4, 4), False, 2, 1)
case("convt", "s2p0-odd", (1, 2, 3, 2), (2, 3, 3, 2), True, 2, 0, 1)
case("convt", "lead-K,B", (2, 2, 3, 4, 4), (3, 2, 4, 4), True, 2, 1)
