#!/usr/bin/env python3
"""The chapter's spiking MNIST (NengoDL recipe, spec deep-snn §1) as a plain PyTorch port,
for speed comparisons with Myelin (bench/mnist_vs_pytorch.sh).

Same network and recipe: conv 32/64(s2)/128(s2) 3x3 + LIF layers (gain 2.0332448, trainable
per-neuron bias 1.0, amplitude 0.01) + dense 10; trained on rates (LIFRate with its exact
derivative), RMSprop(0.001, rho 0.9, eps 1e-7), minibatch 200, raw 0..255 pixels; tested with
spiking LIF for 30 steps (dt 1 ms, U(0,1) initial voltages), output lowpass 0.1 s, accuracy at
the last step. Prints one JSON line.
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TAU_RC, TAU_REF, AMP, DT = 0.02, 0.002, 0.01, 0.001
GAIN = 2.0332448  # max rate 100 Hz, intercept 0


def load_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(dirname, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        p = os.path.join(dirname, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(os.path.join(dirname, stem))


class LIFRate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, J):
        j = J - 1
        pos = j > 0
        jj = torch.where(pos, j, torch.ones_like(j))
        den = TAU_REF + TAU_RC * torch.log1p(1 / jj)
        r = torch.where(pos, AMP / den, torch.zeros_like(j))
        d = torch.where(pos, AMP * TAU_RC / (den * den * jj * (jj + 1)), torch.zeros_like(j))
        ctx.save_for_backward(d)
        return r

    @staticmethod
    def backward(ctx, g):
        (d,) = ctx.saved_tensors
        return g * d


class LIFLayer(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.bias = nn.Parameter(torch.ones(shape))

    def forward(self, x):
        return LIFRate.apply(GAIN * x + self.bias)

    def spike_step(self, x, state):
        J = GAIN * x + self.bias
        v, ref = state
        ref = ref - DT
        delta = (DT - ref).clamp(0, DT)
        v = v + (J - v) * (-torch.expm1(-delta / TAU_RC))
        spiked = v > 1
        jm1 = J - 1
        arg = ((1 - v) / torch.where(jm1 > 0, jm1, torch.ones_like(jm1))).clamp(-0.999999, 0)
        ts = DT + TAU_RC * torch.log1p(arg)
        ref = torch.where(spiked, TAU_REF + ts, ref)
        v = torch.where(spiked, torch.zeros_like(v), v.clamp(min=0))
        return spiked.float() * (AMP / DT), (v, ref)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c0 = nn.Conv2d(1, 32, 3)
        self.c1 = nn.Conv2d(32, 64, 3, stride=2)
        self.c2 = nn.Conv2d(64, 128, 3, stride=2)
        self.l0, self.l1, self.l2 = LIFLayer((32, 26, 26)), LIFLayer((64, 12, 12)), LIFLayer((128, 5, 5))
        self.out = nn.Linear(128 * 5 * 5, 10)
        for m in (self.c0, self.c1, self.c2, self.out):  # Keras defaults
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.l0(self.c0(x))
        x = self.l1(self.c1(x))
        x = self.l2(self.c2(x))
        return self.out(x.flatten(1))

    @torch.no_grad()
    def spiking(self, x, n_steps, gen):
        def init(shape):
            v = torch.rand(shape[1:], generator=gen).expand(shape).clone()
            return v, torch.zeros(shape)
        b = x.shape[0]
        s0, s1, s2 = init((b, 32, 26, 26)), init((b, 64, 12, 12)), init((b, 128, 5, 5))
        y = torch.zeros(b, 10)
        a = float(np.exp(-DT / 0.1))
        c0 = self.c0(x)  # constant input: the first conv once
        for _ in range(n_steps):
            h, s0 = self.l0.spike_step(c0, s0)
            h, s1 = self.l1.spike_step(self.c1(h), s1)
            h, s2 = self.l2.spike_step(self.c2(h), s2)
            y = a * y + (1 - a) * self.out(h.flatten(1))
        return y


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--test-limit", type=int, default=10000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--n-steps", type=int, default=30)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    tx = torch.tensor(load_idx(find(a.data, "train-images-idx3-ubyte")), dtype=torch.float32)[:, None]
    ty = torch.tensor(load_idx(find(a.data, "train-labels-idx1-ubyte")).astype(np.int64))
    ex = torch.tensor(load_idx(find(a.data, "t10k-images-idx3-ubyte")), dtype=torch.float32)[:, None]
    ey = torch.tensor(load_idx(find(a.data, "t10k-labels-idx1-ubyte")).astype(np.int64))
    ex, ey = ex[: a.test_limit], ey[: a.test_limit]
    net = Net()
    opt = torch.optim.RMSprop(net.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    B = 200
    epoch_s = []
    for _ in range(a.epochs):
        t0 = time.time()
        perm = torch.randperm(tx.shape[0])
        for k in range(tx.shape[0] // B):
            idx = perm[k * B:(k + 1) * B]
            opt.zero_grad()
            loss = F.cross_entropy(net(tx[idx]), ty[idx])
            loss.backward()
            opt.step()
        epoch_s.append(time.time() - t0)
    with torch.no_grad():
        rate_acc = float(sum((net(ex[i:i + B]).argmax(1) == ey[i:i + B]).sum() for i in range(0, len(ey), B))) / len(ey)
    gen = torch.Generator().manual_seed(1)
    t0 = time.time()
    correct = 0
    for i in range(0, len(ey), B):
        correct += int((net.spiking(ex[i:i + B], a.n_steps, gen).argmax(1) == ey[i:i + B]).sum())
    eval_s = time.time() - t0
    print(json.dumps({"framework": "pytorch " + torch.__version__, "epochs": a.epochs,
                      "epoch_s": epoch_s, "train_s": sum(epoch_s), "rate_acc_after": rate_acc,
                      "acc_after": correct / len(ey), "eval_s": eval_s, "n_test": len(ey),
                      "threads": a.threads}))


if __name__ == "__main__":
    main()
