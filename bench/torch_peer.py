#!/usr/bin/env python3
"""PyTorch peer for bench/train.bench.ts: trains the same models on the same synthetic MNIST-shaped data
and prints ONE JSON object on stdout:
  {"torch": "<version>", "device": "cpu|cuda", "threads": N,
   "results": [{"model": "mlp", "batchSize": 128, "samplesPerSec": ...}, ...]}

Usage: python3 bench/torch_peer.py [--models mlp,cnn] [--samples 8192] [--epochs 2] [--threads 2]
                                   [--device cpu|cuda] [--mlp-batch 128] [--cnn-batch 64]
Same protocol as the TS side: 1 warm-up epoch, then `epochs` timed epochs, shuffled each epoch,
Adam(lr=1e-3), softmax cross-entropy on integer labels.
"""
import argparse
import json
import sys
import time

import torch
from torch import nn


def build(model: str) -> nn.Module:
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    if model == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 5 * 5, 10),
        )
    if model == "lstm":
        return LastStep()
    if model == "transformer":
        return Transformer()
    raise ValueError(f"unknown model {model}")


class LastStep(nn.Module):
    """The 784 inputs as 49 steps of 16 -> LSTM(32) -> the last step's output -> Linear(10)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.out = nn.Linear(32, 10)

    def forward(self, x):
        seq, _ = self.lstm(x)
        return self.out(seq[:, -1, :])


class Transformer(nn.Module):
    """64 token ids (vocabulary 1000) -> token embedding + learned positions (64) -> 2-layer nn.TransformerEncoder
    (4 heads, feed-forward 128, dropout 0.1, post-norm, relu: keras-hub's TransformerEncoder defaults) -> mean over
    the steps -> Linear(10). The TS side: tokenAndPositionEmbedding + 2 x transformerEncoder + globalAveragePooling1d."""

    def __init__(self, vocabulary: int = 1000, steps: int = 64, width: int = 64) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, width)
        self.positions = nn.Parameter(torch.randn(steps, width) * 0.05)
        layer = nn.TransformerEncoderLayer(d_model=width, nhead=4, dim_feedforward=128, dropout=0.1,
                                           activation="relu", layer_norm_eps=1e-5, batch_first=True, norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.out = nn.Linear(width, 10)

    def forward(self, ids):
        return self.out(self.encoder(self.tokens(ids) + self.positions).mean(dim=1))


def run_epoch(net, opt, loss_fn, xs, ys, batch, device):
    n = xs.shape[0]
    perm = torch.randperm(n, device=device)
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xs[idx]), ys[idx])
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return float(loss.detach())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--samples", type=int, default=8192)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--mlp-batch", type=int, default=128)
    ap.add_argument("--cnn-batch", type=int, default=64)
    ap.add_argument("--lstm-batch", type=int, default=64)
    ap.add_argument("--transformer-batch", type=int, default=64)
    a = ap.parse_args()

    device = a.device
    if device == "cuda" and not torch.cuda.is_available():
        print("torch_peer: CUDA requested but not available, using cpu", file=sys.stderr)
        device = "cpu"
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    results = []
    for model in [m for m in a.models.split(",") if m]:
        batch = {"mlp": a.mlp_batch, "cnn": a.cnn_batch, "lstm": a.lstm_batch, "transformer": a.transformer_batch}[model]
        if model == "transformer":
            xs = torch.randint(1, 1000, (a.samples, 64), device=device)
        else:
            shape = {"mlp": (a.samples, 784), "cnn": (a.samples, 1, 28, 28), "lstm": (a.samples, 49, 16)}[model]
            xs = torch.rand(shape, device=device)
        ys = torch.randint(0, 10, (a.samples,), device=device)
        net = build(model).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        run_epoch(net, opt, loss_fn, xs, ys, batch, device)  # warm-up
        t0 = time.perf_counter()
        for _ in range(a.epochs):
            loss = run_epoch(net, opt, loss_fn, xs, ys, batch, device)
        dt = time.perf_counter() - t0
        results.append({"model": model, "batchSize": batch, "samplesPerSec": a.samples * a.epochs / dt,
                        "seconds": dt, "loss": loss})
    print(json.dumps({"torch": torch.__version__, "device": device, "threads": torch.get_num_threads(),
                      "results": results}))


if __name__ == "__main__":
    main()
