#!/usr/bin/python3
"""make_golden.py - reference values for tests/test_golden.c, computed in PyTorch (f64).

Regenerate (PyTorch >= 1.13, numpy, mpmath; no network):
    /usr/bin/python3 tests/reference/make_golden.py > tests/reference/golden.txt

Every formula below is written from the papers, not from the C code:
  Kingma & Welling 2014 (ELBO, SGVB A/B, N/M scaling), Higgins et al. 2017 / Burgess et al. 2018 (beta, capacity),
  Kingma et al. 2016 (free bits), Burda et al. 2016 (IWAE, IS log p(x)), Li & Turner 2016 (VR-alpha),
  Rainforth et al. 2018 (MIWAE, CIWAE), Williams 1992 / Mnih & Rezende 2016 (score function, VIMCO),
  Roeder et al. 2017 (STL), Tucker et al. 2018 (DReG). Distributions come from torch.distributions.

The net: encoder D-H-(2Z) tanh (mu | log-variance), decoder Z-H-(D*P) tanh, weights (in, out) so that
h = x @ W + b, parameters named as the C library names them (enc.0.weight ...). Weights, data and noise are
drawn here once from a fixed numpy seed and written with %.17g, which a C strtod reads back exactly.

File format (one record per line, whitespace separated):
    net LIK OPT0 D H Z B            starts a net: the arrays that follow are its parameters and its data
    objective LABEL SPEC EST BL STEP MA DATASIZE    an objective case on the current net, arrays, then `end`
    likelihood LABEL LIK OPT0 P     a likelihood's log_prob and its gradient w.r.t. the decoder output
    eval LABEL K CHUNK L            vae_evaluate with replayed noise (the L-sample ELBO, then the IS chunks)
    klstd|bernlp|bernkl LABEL DTYPE last-ulp rows: references in 50-digit arithmetic (mpmath)
    NAME N v1 .. vN                 an array (inputs: param.*, x, noise, out, mu, lv, l, a, b; expected: the rest)
    end                             closes a case
"""
import math
import sys

import mpmath
import numpy as np
import torch
import torch.distributions as td

torch.set_default_dtype(torch.float64)
mpmath.mp.dps = 50
rs = np.random.RandomState(20240611)
D, H, Z, B = 6, 5, 3, 4
out = sys.stdout


def arr(name, v):
    v = np.asarray(v.detach().numpy() if torch.is_tensor(v) else v, dtype=np.float64).reshape(-1)
    out.write("%s %d %s\n" % (name, v.size, " ".join("%.17g" % float(t) for t in v)))


# ---------------------------------------------------------------------------------------------------------------
# the net


class Net:
    def __init__(self, lik, opt0, P, xdata):
        self.lik, self.opt0, self.P = lik, opt0, P
        sizes_e, sizes_d = [D, H, 2 * Z], [Z, H, D * P]
        self.params = {}
        for pre, sizes in (("enc", sizes_e), ("dec", sizes_d)):
            for i in range(len(sizes) - 1):
                w = rs.normal(0, 0.6, (sizes[i], sizes[i + 1]))
                b = rs.normal(0, 0.3, (sizes[i + 1],))
                self.params["%s.%d.weight" % (pre, i)] = torch.tensor(w, requires_grad=True)
                self.params["%s.%d.bias" % (pre, i)] = torch.tensor(b, requires_grad=True)
        self.x = torch.tensor(xdata)
        out.write("net %s %.17g %d %d %d %d\n" % (lik, opt0, D, H, Z, B))
        for k, v in self.params.items():
            arr("param." + k, v)
        arr("x", self.x)

    def mlp(self, pre, h):
        h = torch.tanh(h @ self.params[pre + ".0.weight"] + self.params[pre + ".0.bias"])
        return h @ self.params[pre + ".1.weight"] + self.params[pre + ".1.bias"]

    def encode(self):
        h = self.mlp("enc", self.x)
        return h[:, :Z], h[:, Z:]  # mu, log-variance (B, Z)

    def decode(self, z):
        """p(x|z) as a torch distribution over (..., D)."""
        return make_lik(self.lik, self.opt0, self.mlp("dec", z))

    def enc_params(self):
        return [v for k, v in self.params.items() if k.startswith("enc")]

    def dec_params(self):
        return [v for k, v in self.params.items() if k.startswith("dec")]


def make_lik(lik, opt0, o):
    Dd = o.shape[-1]
    if lik == "bernoulli":
        return td.Bernoulli(logits=o)
    if lik == "gaussian":
        return td.Normal(o, opt0 if opt0 > 0 else 1.0)
    if lik == "gaussian-learned":
        return td.Normal(o[..., : Dd // 2], torch.exp(0.5 * o[..., Dd // 2 :]))
    if lik == "laplace":
        return td.Laplace(o[..., : Dd // 2], torch.exp(o[..., Dd // 2 :]))
    if lik == "cbernoulli":
        return td.ContinuousBernoulli(logits=o)
    if lik == "student-t":
        return td.StudentT(opt0 if opt0 > 0 else 4.0, o[..., : Dd // 2], torch.exp(o[..., Dd // 2 :]))
    raise ValueError(lik)


def lp(dist, x):
    return dist.log_prob(x).sum(-1)


# ---------------------------------------------------------------------------------------------------------------
# the objectives, each returning (bound (B,), loss, {param: grad}) for one draw of the noise eps (n, B, Z)


def grads_of(net, loss, enc_loss=None):
    """Gradients of loss for every parameter; enc_loss (if given) supplies the encoder's (DReG)."""
    names = list(net.params)
    if enc_loss is None:
        g = torch.autograd.grad(loss, [net.params[k] for k in names], allow_unused=True)
    else:
        ge = torch.autograd.grad(enc_loss, net.enc_params(), retain_graph=True, allow_unused=True)
        gd = torch.autograd.grad(loss, net.dec_params(), allow_unused=True)
        g = list(ge) + list(gd)
    return {k: (v if v is not None else torch.zeros_like(net.params[k])) for k, v in zip(names, g)}


def log_weights(net, eps, est):
    """log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x) with z_k = mu + sigma eps_k (Kingma & Welling's
    reparameterization); for the score function z carries no path to phi; STL/DReG evaluate log q at detached
    variational parameters (Roeder et al. 2017)."""
    mu, lv = net.encode()
    sd = torch.exp(0.5 * lv)
    z = mu + sd * eps
    if est == "score":
        z = z.detach()
    q = td.Normal(mu, sd)
    qd = td.Normal(mu.detach(), sd.detach()) if est in ("stl", "dreg") else q
    logpx = lp(net.decode(z), net.x)
    logpz = lp(td.Normal(0.0, 1.0), z)
    logq = lp(qd, z)
    return logpx + logpz - logq, lp(q, z), (mu, lv, sd, z, logpx, logpz)


def lse_mean(lw, dim=0):  # log (1/K) sum_k exp(lw_k)
    return torch.logsumexp(lw, dim) - math.log(lw.shape[dim])


def loo_signals(bound_fn, lw):
    """VIMCO (Mnih & Rezende 2016): L - L_{-k}, where L_{-k} is the bound with log w_k replaced by the
    arithmetic mean of the other log-weights (the geometric mean of the other weights)."""
    K = lw.shape[0]
    lw = lw.detach()
    L = bound_fn(lw)
    s = []
    for k in range(K):
        others = torch.cat([lw[:k], lw[k + 1 :]])
        rep = lw.clone()
        rep[k] = others.mean(0)
        s.append(L - bound_fn(rep))
    return torch.stack(s)


def score_surrogate(bound, logq, bl, ma, lw=None, bound_fn=None):
    """REINFORCE (Williams 1992): grad E_q[L] = E[(L - b) grad log q(z_1..K)] + E[grad L], z without a path."""
    if bl == "vimco":
        sig = loo_signals(bound_fn, lw)  # (K, B): one signal per particle
        return (sig * logq).sum(0) + bound
    b = ma if bl == "ma" else 0.0
    return (bound.detach() - b) * logq.sum(0) + bound


def iw_case(net, eps, est, bl, ma, bound_fn, dreg_groups=None):
    """A bound of the importance-weighted family (a function of log w (K, B))."""
    lw, logq_full, _ = log_weights(net, eps, est)
    bound = bound_fn(lw)
    if est == "score":
        S = score_surrogate(bound, logq_full, bl, ma, lw, bound_fn)
        return bound, -S.mean(), None
    if est == "dreg":
        # Tucker et al. 2018, eq. 7: grad_phi IWAE_K = E[ sum_k wt_k^2 d log w_k / d z_k  d z_k / d phi ],
        # log w_k with log q at detached parameters; per group of K for MIWAE (the outer mean is linear).
        M = dreg_groups
        g = lw.reshape(M, -1, lw.shape[-1])
        wt = torch.softmax(g.detach(), 1)
        enc_S = (wt**2 * g).sum(1).mean(0)
        return bound, -bound.mean(), -enc_S.mean()
    return bound, -bound.mean(), None


def elbo_case(net, eps, est, bl, ma, L, mc_kl, w, weighting, step):
    """SGVB (Kingma & Welling 2014): B = analytic KL (mc_kl=0), A = Monte-Carlo KL; beta-VAE weighting."""
    mu, lv = net.encode()
    sd = torch.exp(0.5 * lv)
    q = td.Normal(mu, sd)
    prior = td.Normal(torch.zeros_like(mu), torch.ones_like(sd))
    z = mu + sd * eps
    if est == "score":
        z = z.detach()
    logpx = lp(net.decode(z), net.x)  # (L, B)
    kl_term = 0.0
    if not mc_kl and est != "stl":
        kl_j = td.kl_divergence(q, prior)  # (B, Z)
        kl = kl_j.sum(-1)
        f = logpx
        bound = logpx.mean(0) - kl
        if weighting[0] == "free-bits":  # Kingma et al. 2016: sum_j max(lambda, E_batch KL_j)
            kl_term = w * torch.clamp(kl_j.mean(0), min=weighting[1]).sum()
        elif weighting[0] == "capacity":  # Burgess et al. 2018: gamma |KL - C_t|
            gamma, cmax, csteps = weighting[1:]
            C = cmax * min(1.0, step / csteps)
            kl_term = gamma * torch.abs(kl.mean() - C)
        else:
            kl_term = w * kl.mean()
    else:
        qd = td.Normal(mu.detach(), sd.detach()) if est == "stl" else q
        klmc = lp(qd, z) - lp(td.Normal(0.0, 1.0), z)  # (L, B)
        f = logpx - w * klmc
        bound = (logpx - klmc.detach()).mean(0)
    if est == "score":
        fd = f.detach()
        if bl == "vimco":
            sig = fd - (fd.sum(0, keepdim=True) - fd) / (L - 1)  # each sample against the mean of the others
        else:
            sig = fd - (ma if bl == "ma" else 0.0)
        S = ((sig * lp(q, z)).sum(0) + f.sum(0)) / L
    else:
        S = f.mean(0)
    return bound, -S.mean() + kl_term, None


def objective(label, net, spec, est="reparam", bl="none", step=0, ma=0.0, data_size=0.0):
    name, _, opts = spec.partition(":")
    o = dict(kv.split("=") for kv in opts.split(",")) if opts else {}
    g = lambda k, d: float(o.get(k, d))
    if name in ("vae", "beta-vae"):
        n = int(g("l", 1))
    elif name == "miwae":
        n = int(g("m", 4)) * int(g("k", 8))
    else:
        n = int(g("k", {"iwae": 5, "vr": 5, "ciwae": 8}[name]))
    eps = torch.tensor(rs.normal(size=(n, B, Z)))
    enc_loss = None
    if name in ("vae", "beta-vae"):
        beta, warm = g("beta", 1), g("warmup", 0)
        w = beta * (min(1.0, step / warm) if warm > 0 else 1.0)  # linear KL warm-up
        weighting = ("plain",)
        if g("free-bits", 0) > 0:
            weighting = ("free-bits", g("free-bits", 0))
        elif g("gamma", 0) > 0:
            weighting = ("capacity", g("gamma", 0), g("cmax", 0), g("csteps", 0))
        bound, loss, _ = elbo_case(net, eps, est, bl, ma, n, g("mc-kl", 0) == 1, w, weighting, step)
    else:
        if name == "iwae":
            fn, groups = lse_mean, 1  # Burda et al.: log (1/K) sum_k w_k
        elif name == "vr":
            a = g("alpha", 0.5)  # Li & Turner: 1/(1-a) log (1/K) sum_k w_k^(1-a); a = 1: the ELBO
            fn = (lambda lw: lw.mean(0)) if a == 1 else (lambda lw, a=a: lse_mean((1 - a) * lw) / (1 - a))
            groups = 1
        elif name == "miwae":
            M = int(g("m", 4))
            fn = lambda lw, M=M: lse_mean(lw.reshape(M, -1, lw.shape[-1]), 1).mean(0)
            groups = M
        elif name == "ciwae":
            be = g("beta", 0.5)
            fn = lambda lw, be=be: be * lw.mean(0) + (1 - be) * lse_mean(lw)
            groups = 1
        bound, loss, enc_loss = iw_case(net, eps, est, bl, ma, fn, groups)
    scale = data_size if data_size > 0 else 1.0  # -(N/M) sum_b = -N mean_b
    loss = loss * scale
    if enc_loss is not None:
        enc_loss = enc_loss * scale
    grads = grads_of(net, loss, enc_loss)
    out.write("objective %s %s %s %s %d %.17g %.17g\n" % (label, spec, est, bl, step, ma, data_size))
    arr("noise", eps)
    arr("bound", bound)
    arr("loss", loss.reshape(1))
    for k, v in grads.items():
        arr("grad." + k, v)
    out.write("end\n")
    return bound


# ---------------------------------------------------------------------------------------------------------------
# likelihoods on their own, and the IS estimate of log p(x)


def likelihood(label, lik, opt0, P, xv):
    o = torch.tensor(rs.normal(0, 1.2, (B, D * P)), requires_grad=True)
    if lik == "cbernoulli":  # some logits inside the C code's series window (|l| < 0.1 in f64)
        with torch.no_grad():
            o[0, :3] = torch.tensor([0.03, -0.07, 1e-5])
    x = torch.tensor(xv)
    v = lp(make_lik(lik, opt0, o), x)
    (gr,) = torch.autograd.grad(v.sum(), o)
    out.write("likelihood %s %s %.17g %d\n" % (label, lik, opt0, P))
    arr("out", o)
    arr("x", x)
    arr("logp", v)
    arr("grad.out", gr)
    out.write("end\n")


def is_eval(label, net, K, chunk, L=1):
    """Burda et al. 2016, sec. 5: log p(x) ~ log (1/K) sum_k p(x, z_k) / q(z_k|x); plus the ELBO with the analytic
    KL and the reconstruction averaged over L samples. Noise order as vae_evaluate draws it: (L, B, Z) for the
    ELBO, then the K particles. Standard errors: across examples sd / sqrt(n) (sd with n - 1); per example, the
    delta method on p^ = mean_k w_k: SE(log p^) ~ SE(p^) / p^ = sd_k(w) / (sqrt(K) mean_k(w))."""
    e1 = torch.tensor(rs.normal(size=(L, B, Z)))
    eK = torch.tensor(rs.normal(size=(K, B, Z)))
    with torch.no_grad():
        mu, lv = net.encode()
        sd = torch.exp(0.5 * lv)
        q = td.Normal(mu, sd)
        kl_j = td.kl_divergence(q, td.Normal(0.0, 1.0))
        rec = lp(net.decode(mu + sd * e1), net.x).mean(0)
        elbo = rec - kl_j.sum(-1)
        z = mu + sd * eK
        lw = lp(net.decode(z), net.x) + lp(td.Normal(0.0, 1.0), z) - lp(q, z)
        ll = lse_mean(lw)
        w = torch.exp(lw - lw.max(0).values)  # scaled weights: the ratio sd/mean does not see the scale
        ex_se = w.std(0, unbiased=True) / (math.sqrt(K) * w.mean(0))
        se = torch.stack([ll.std(unbiased=True), elbo.std(unbiased=True)]) / math.sqrt(B)
    out.write("eval %s %d %d %d\n" % (label, K, chunk, L))
    arr("noise", torch.cat([e1.reshape(-1), eK.reshape(-1)]))
    arr("elbo", elbo)
    arr("loglik", ll)
    arr("mean", torch.stack([ll.mean(), elbo.mean(), rec.mean(), kl_j.sum(-1).mean()]))
    arr("kl_per_dim", kl_j.mean(0))
    arr("loglik_se", ex_se)
    arr("se", se)
    out.write("end\n")


# ---------------------------------------------------------------------------------------------------------------
# last-ulp rows: inputs exactly representable in the row's dtype, references in 50-digit arithmetic


def rnd(v, dt):
    return [float(np.float32(t)) if dt == "f32" else float(t) for t in v]


def mp_sig(t):
    return 1 / (1 + mpmath.exp(-t))


def mp_sp(t):
    return mpmath.log(1 + mpmath.exp(t))


def klstd(label, dt, mu, lv):
    mu, lv = rnd(mu, dt), rnd(lv, dt)
    # KL(N(mu, e^lv) || N(0,1)) = (mu^2 + e^lv - 1 - lv) / 2; d/dmu = mu, d/dlv = (e^lv - 1) / 2
    kl = [(mpmath.mpf(m) ** 2 + mpmath.exp(v) - 1 - v) / 2 for m, v in zip(mu, lv)]
    out.write("klstd %s %s\n" % (label, dt))
    arr("mu", mu)
    arr("lv", lv)
    arr("kl", [float(t) for t in kl])
    arr("dmu", mu)
    arr("dlv", [float((mpmath.exp(v) - 1) / 2) for v in lv])
    out.write("end\n")


def bernlp(label, dt, l, x):
    l, x = rnd(l, dt), rnd(x, dt)
    # log Bern(x; sigmoid(l)) = x log sigmoid(l) + (1 - x) log sigmoid(-l); d/dl = x - sigmoid(l)
    v = [x_ * mpmath.log(mp_sig(l_)) + (1 - x_) * mpmath.log(mp_sig(-l_)) for l_, x_ in zip(l, x)]
    out.write("bernlp %s %s\n" % (label, dt))
    arr("l", l)
    arr("x", x)
    arr("lp", [float(t) for t in v])
    arr("dl", [float(x_ - mp_sig(l_)) for l_, x_ in zip(l, x)])
    out.write("end\n")


def bernkl(label, dt, a, b):
    a, b = rnd(a, dt), rnd(b, dt)
    # KL(Bern(p) || Bern(r)) = p log(p/r) + (1-p) log((1-p)/(1-r)), p = sigmoid(a), r = sigmoid(b);
    # d/da = p (1 - p) (a - b), d/db = r - p
    kl, da, db = [], [], []
    for a_, b_ in zip(a, b):
        p, r = mp_sig(a_), mp_sig(b_)
        kl.append(p * mpmath.log(p / r) + (1 - p) * mpmath.log((1 - p) / (1 - r)))
        da.append(p * (1 - p) * (mpmath.mpf(a_) - b_))
        db.append(r - p)
    out.write("bernkl %s %s\n" % (label, dt))
    arr("a", a)
    arr("b", b)
    arr("kl", [float(t) for t in kl])
    arr("da", [float(t) for t in da])
    arr("db", [float(t) for t in db])
    out.write("end\n")


# ---------------------------------------------------------------------------------------------------------------


def main():
    out.write("# golden.txt - written by tests/reference/make_golden.py (PyTorch %s); do not edit.\n" % torch.__version__)
    out.write("# Regenerate: /usr/bin/python3 tests/reference/make_golden.py > tests/reference/golden.txt\n")
    xbin = rs.binomial(1, 0.5, (B, D)).astype(np.float64)
    xreal = rs.uniform(0.05, 0.95, (B, D))
    net = Net("bernoulli", 0, 1, xbin)

    objective("vae-analytic-l1", net, "vae")
    objective("vae-analytic-l3-N", net, "vae:l=3", data_size=60000)
    objective("vae-mc-l3", net, "vae:l=3,mc-kl=1")
    objective("vae-stl-l3", net, "vae:l=3", "stl")
    objective("vae-score-none", net, "vae:l=3", "score", "none")
    objective("vae-score-ma", net, "vae:l=3", "score", "ma", step=5, ma=-4.25)
    objective("vae-score-vimco", net, "vae:l=3", "score", "vimco")
    objective("vae-mc-score-vimco", net, "vae:l=3,mc-kl=1", "score", "vimco")
    objective("beta-warmup", net, "beta-vae:beta=4,warmup=10", step=3)
    objective("beta-warmup-mc", net, "beta-vae:l=2,mc-kl=1,beta=4,warmup=10", step=3)
    # free bits: lambda between the per-dim batch KLs, so that both branches of the max are taken
    with torch.no_grad():
        mu, lv = net.encode()
        kd = sorted(td.kl_divergence(td.Normal(mu, torch.exp(0.5 * lv)), td.Normal(0.0, 1.0)).mean(0).tolist())
    lam = float("%.3g" % ((kd[0] + kd[1]) / 2))
    objective("beta-free-bits", net, "beta-vae:beta=2,free-bits=%g" % lam)
    objective("beta-capacity", net, "beta-vae:gamma=10,cmax=5,csteps=10", step=3)
    for est, bl in (("reparam", "none"), ("stl", "none"), ("dreg", "none"), ("score", "none"), ("score", "ma"),
                    ("score", "vimco")):
        objective("iwae-%s-%s" % (est, bl), net, "iwae", est, bl, step=2, ma=-5.5)
    objective("iwae-k1", net, "iwae:k=1")
    for a in ("0.5", "0", "-1", "1"):
        objective("vr-a%s" % a, net, "vr:alpha=%s" % a)
    objective("vr-stl", net, "vr:alpha=0.5", "stl")
    objective("vr-score-vimco", net, "vr:alpha=0.5", "score", "vimco")
    objective("vr-neg-score-ma", net, "vr:alpha=-0.5", "score", "ma", step=1, ma=-6.0)
    for est, bl in (("reparam", "none"), ("stl", "none"), ("dreg", "none"), ("score", "ma")):
        objective("miwae-%s-%s" % (est, bl), net, "miwae:m=2,k=3", est, bl, step=4, ma=-5.0)
    for est, bl in (("reparam", "none"), ("stl", "none"), ("score", "none")):
        objective("ciwae-%s-%s" % (est, bl), net, "ciwae:beta=0.3,k=4", est, bl)
    is_eval("is-k7-one-chunk", net, 7, 0)
    is_eval("is-k7-chunks-of-3", net, 7, 3)
    is_eval("is-k5-elbo-l3", net, 5, 2, 3)

    net2 = Net("gaussian-learned", 0, 2, xreal)
    objective("iwae-gaussian-learned", net2, "iwae:k=3")
    objective("iwae-gaussian-learned-dreg", net2, "iwae:k=3", "dreg")
    net3 = Net("student-t", 3, 2, xreal)
    objective("iwae-student-t", net3, "iwae:k=3")

    likelihood("bernoulli", "bernoulli", 0, 1, xbin)
    likelihood("gaussian", "gaussian", 0, 1, xreal)
    likelihood("gaussian-sigma0.3", "gaussian", 0.3, 1, xreal)
    likelihood("gaussian-learned", "gaussian-learned", 0, 2, xreal)
    likelihood("laplace", "laplace", 0, 2, xreal)
    likelihood("cbernoulli", "cbernoulli", 0, 1, xreal)
    likelihood("student-t", "student-t", 0, 2, xreal)
    likelihood("student-t-df2.5", "student-t", 2.5, 2, xreal)

    lvs = [-1e-4, 1e-4, -1e-3, 3e-6, -2.5e-7, 0.0, 0.7, -3.0]
    mus = [0.0, 0.0, 0.0, 0.0, 1e-4, 0.0, 0.3, -1.2]
    klstd("kl-near-lv0-f32", "f32", mus, lvs)
    klstd("kl-near-lv0-f64", "f64", mus + [0.0, 0.0], lvs + [1e-9, -3e-12])
    ls = [10.0, 20.0, -10.0, -20.0, 36.0, -36.0, 0.5, -2.0, 3.0, 60.0]
    xs = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.25, 1.0]
    bernlp("bern-lp-f32", "f32", ls, xs)
    bernlp("bern-lp-f64", "f64", ls, xs)
    aa = [30.0, -30.0, 20.0, 12.0, 0.3, -1.0, 40.0, 30.0]
    bb = [20.0, -20.0, 30.0, -12.0, -0.4, -1.0, 38.0, -5.0]
    bernkl("bern-kl-f64", "f64", aa, bb)
    bernkl("bern-kl-f32", "f32", [12.0, -12.0, 9.0, 0.3, 15.0], [8.0, -8.0, 14.0, -0.4, -5.0])


if __name__ == "__main__":
    main()
