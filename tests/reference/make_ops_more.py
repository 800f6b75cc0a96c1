#!/usr/bin/python3
"""make_ops_more.py - reference values for tests/test_ops_more.c, computed in PyTorch (f64) and mpmath.

Regenerate (PyTorch >= 1.13, numpy, mpmath; no network):
    /usr/bin/python3 tests/reference/make_ops_more.py > tests/reference/ops_more.txt

What is here, written from the definitions (not from the C code):
  - lgamma, digamma, trigamma on a grid: torch.lgamma / torch.digamma / torch.polygamma(1, .) and the same in
    50-digit arithmetic (mpmath: log|Gamma|, psi(0, .), psi(1, .)), so the C test can hold the library to ~1e-13
    against the exact values and to PyTorch's own values;
  - softmax, log_softmax and cumsum (inclusive and exclusive = cumsum - x) along each axis of a (2,3,4) input, and
    the gradient of sum(w * y) for fixed weights w (torch.autograd);
  - torch.tril / torch.triu of ones (rows, cols) with diagonal k;
  - the "beta" likelihood: decoder output o (B, 2D) = raw a | raw b, a = softplus(raw a), b = softplus(raw b),
    torch.distributions.Beta(a, b).log_prob(x).sum(-1), its gradient (of sum(w * lp)) w.r.t. o, the mean and the
    entropy; the "poisson" likelihood: o (B, D) = log-rate, torch.distributions.Poisson(exp(o)).log_prob(x).

File format: one array per line, `NAME N v1 .. vN` (%.17g, which strtod reads back exactly); `#` starts a comment.
"""
import sys

import mpmath
import numpy as np
import torch
import torch.distributions as td
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
mpmath.mp.dps = 50
rs = np.random.RandomState(20261201)
out = sys.stdout


def arr(name, v):
    v = np.asarray(v.detach().numpy() if torch.is_tensor(v) else v, dtype=np.float64).reshape(-1)
    out.write("%s %d %s\n" % (name, v.size, " ".join("%.17g" % float(t) for t in v)))


out.write("# ops_more.txt - written by tests/reference/make_ops_more.py (PyTorch %s); do not edit.\n" % torch.__version__)
out.write("# Regenerate: /usr/bin/python3 tests/reference/make_ops_more.py > tests/reference/ops_more.txt\n")

# ---- special functions ----
grid = [1e-6, 1e-3, 0.01, 0.1, 0.25, 0.5, 0.74, 0.75, 0.76, 0.9, 0.99, 1.0, 1.001, 1.1, 1.25, 1.26, 1.4,
        1.4616321449683623, 1.5, 1.75, 1.99, 2.0, 2.01, 2.25, 2.3, 2.5, 3.0, 3.7, 5.5, 9.5, 9.99, 10.0, 10.5,
        17.3, 50.0, 123.4, 1e3, 1e4, 1e6]
grid += list(np.round(rs.uniform(0.05, 20.0, 30), 6))
neg = [-0.3, -0.5, -1.2, -1.5, -2.7, -3.5, -7.25, -10.5]
xs = torch.tensor(grid + neg)
arr("special_x", xs)
arr("lgamma_torch", torch.lgamma(xs))
arr("digamma_torch", torch.digamma(xs))
arr("trigamma_torch", torch.polygamma(1, xs))
mx = [mpmath.mpf(float(v)) for v in xs]
arr("lgamma_mp", [float(mpmath.log(abs(mpmath.gamma(v)))) for v in mx])
arr("digamma_mp", [float(mpmath.psi(0, v)) for v in mx])
arr("trigamma_mp", [float(mpmath.psi(1, v)) for v in mx])

# ---- along an axis: x (2,3,4), weights w ----
x = torch.tensor(rs.normal(0, 2, (2, 3, 4)))
w = torch.tensor(rs.uniform(0.5, 1.5, (2, 3, 4)))
arr("axis_x", x)
arr("axis_w", w)
fns = {
    "softmax": lambda t, a: torch.softmax(t, a),
    "log_softmax": lambda t, a: torch.log_softmax(t, a),
    "cumsum": lambda t, a: torch.cumsum(t, a),
    "cumsum_excl": lambda t, a: torch.cumsum(t, a) - t,
}
for name, f in fns.items():
    for a in range(3):
        xv = x.clone().requires_grad_(True)
        y = f(xv, a)
        (y * w).sum().backward()
        arr("%s_a%d" % (name, a), y)
        arr("grad_%s_a%d" % (name, a), xv.grad)

# ---- triangular masks ----
for (r, c, k) in [(4, 4, 0), (4, 4, -1), (3, 5, 1), (5, 3, -2), (4, 6, 2)]:
    ones = torch.ones(r, c)
    arr("tril_%d_%d_%d" % (r, c, k), torch.tril(ones, k))
    arr("triu_%d_%d_%d" % (r, c, k), torch.triu(ones, k))

# ---- the beta likelihood: o (B, 2D) = raw a | raw b ----
B, D = 3, 4
o = torch.tensor(rs.normal(0.5, 1.5, (B, 2 * D)), requires_grad=True)
xb = torch.tensor(rs.uniform(0.02, 0.98, (B, D)))
wb = torch.tensor(rs.uniform(0.5, 1.5, (B,)))
a, b = F.softplus(o[:, :D]), F.softplus(o[:, D:])
beta = td.Beta(a, b)
lp = beta.log_prob(xb).sum(-1)
(lp * wb).sum().backward()
arr("beta_out", o)
arr("beta_x", xb)
arr("beta_w", wb)
arr("beta_lp", lp)
arr("beta_grad", o.grad)
arr("beta_mean", beta.mean)
arr("beta_entropy", beta.entropy().sum(-1))

# ---- the poisson likelihood: o (B, D) = log-rate ----
op = torch.tensor(rs.normal(0.5, 1.2, (B, D)), requires_grad=True)
xp = torch.tensor(rs.poisson(2.0, (B, D)).astype(np.float64))
pois = td.Poisson(torch.exp(op))
lpp = pois.log_prob(xp).sum(-1)
(lpp * wb).sum().backward()
arr("pois_out", op)
arr("pois_x", xp)
arr("pois_lp", lpp)
arr("pois_grad", op.grad)
arr("pois_mean", pois.mean)
