#!/usr/bin/python3
"""PyTorch reference for vae_bench's workloads (DESIGN section 9), for the README's comparison.

Same networks, batch sizes, objectives, optimizer and data handling as examples/bench/workloads_bench.c:
  W1: 784-400-(20) ReLU VAE, batch 100, one sample
  W2: 784-200-200-(50) tanh IWAE, batch 20, K = 50
  W3: 784-200-200-(50) tanh IWAE, batch 20, K = 5
Gaussian encoder (one linear layer gives mean and log-variance), Bernoulli decoder from logits,
standard normal prior, Adam (lr 1e-3), and a step that includes drawing the batch indices and
binarizing the batch (torch.bernoulli). Data: MNIST's train-images-idx3-ubyte[.gz] from --mnist DIR,
else synthetic 784-pixel blobs like the C benchmark's.

  /usr/bin/python3 examples/bench/torch_workloads.py [--threads 1,2] [--mnist DIR] [--reps 7]

Prints one line per workload and thread count: median samples/s over timed segments.
"""
import argparse
import gzip
import math
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WORKLOADS = {
    "W1": dict(hidden=[400], z=20, act="relu", batch=100, k=1),
    "W2": dict(hidden=[200, 200], z=50, act="tanh", batch=20, k=50),
    "W3": dict(hidden=[200, 200], z=50, act="tanh", batch=20, k=5),
}


def mlp(sizes, act, out):
    layers, d = [], sizes[0]
    for h in sizes[1:]:
        layers += [nn.Linear(d, h), nn.ReLU() if act == "relu" else nn.Tanh()]
        d = h
    layers.append(nn.Linear(d, out))
    return nn.Sequential(*layers)


class Vae(nn.Module):
    def __init__(self, hidden, z, act):
        super().__init__()
        self.z = z
        self.enc = mlp([784] + hidden, act, 2 * z)
        self.dec = mlp([z] + hidden[::-1], act, 784)

    def loss(self, x, k):
        """VAE (k == 1) or IWAE (k > 1) bound, negated and averaged over the batch."""
        mu, logvar = self.enc(x).chunk(2, dim=-1)
        std = torch.exp(0.5 * logvar)
        eps = torch.randn((k,) + mu.shape)
        z = mu + std * eps  # (k, B, z)
        logits = self.dec(z)  # (k, B, 784)
        log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
        if k == 1:
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)
            return (kl - log_px[0]).mean()
        log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + math.log(2 * math.pi) + logvar).sum(-1)
        logw = log_px + log_pz - log_qz
        return -(torch.logsumexp(logw, 0) - math.log(k)).mean()


def load_mnist(folder):
    for name in ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            raw = (gzip.open if name.endswith(".gz") else open)(path, "rb").read()
            n = int.from_bytes(raw[4:8], "big")
            return torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(n, 784).float() / 255
    raise SystemExit("no train-images-idx3-ubyte[.gz] in " + folder)


def synthetic(n=2000):
    g = torch.Generator().manual_seed(3)
    c = 8 + 12 * torch.rand(n, 2, generator=g)
    p = torch.arange(784)
    dx, dy = (p % 28).float() - c[:, :1], (p // 28).float() - c[:, 1:]
    return 1 / (1 + (dx * dx + dy * dy) / 20)


def run(name, data, threads, reps):
    w = WORKLOADS[name]
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = Vae(w["hidden"], w["z"], w["act"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = 30 if w["k"] == 1 else (10 if w["k"] >= 50 else 40)

    def segment():
        for _ in range(steps):
            idx = torch.randint(0, data.shape[0], (w["batch"],))
            x = torch.bernoulli(data[idx])
            opt.zero_grad(set_to_none=False)
            model.loss(x, w["k"]).backward()
            opt.step()

    segment()  # warm-up
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        segment()
        rates.append(steps * w["batch"] / (time.perf_counter() - t0))
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workloads", default="W1,W2,W3")
    ap.add_argument("--mnist")
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    data = load_mnist(a.mnist) if a.mnist else synthetic()
    print("torch", torch.__version__, "data", "mnist" if a.mnist else "synthetic")
    for name in a.workloads.split(","):
        for t in (int(s) for s in a.threads.split(",")):
            print(f"{name} threads={t} samples_per_s={run(name, data, t, a.reps):.0f}", flush=True)


if __name__ == "__main__":
    main()
