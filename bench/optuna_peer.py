#!/usr/bin/env python3
"""Optuna peer for bench/search.bench.ts: runs Optuna's TPESampler (defaults, and multivariate=True) on the same
objectives (Branin, Hartmann-6, mixed), same seeds and trial budget, and prints ONE JSON object on stdout:
  {"optuna": "<version>", "results": {"tpe": {"branin": [regret per seed], ...}, "tpe_multivariate": {...}}}

Usage: python3 bench/optuna_peer.py [--seeds 20] [--trials 50] [--first-seed 1000]
The objectives are copies of the TS ones (keep them in step with bench/search.bench.ts).
"""
import argparse
import json
import math
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")

H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
H_P = [[v * 1e-4 for v in row] for row in [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]]
OFFSETS = {"sgd": 0.6, "momentum": 0.35, "adam": 0.0, "rmsprop": 0.15, "adagrad": 0.8}


def branin(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(trial):
    x = [trial.suggest_float(f"x{i}", 0, 1) for i in range(1, 7)]
    s = 0.0
    for i in range(4):
        inner = sum(H_A[i][j] * (x[j] - H_P[i][j]) ** 2 for j in range(6))
        s += H_ALPHA[i] * math.exp(-inner)
    return -s


def mixed(trial):
    opt = trial.suggest_categorical("optimizer", list(OFFSETS))
    layers = trial.suggest_int("layers", 1, 12)
    units = trial.suggest_int("units", 16, 512, step=16)
    dropout = trial.suggest_float("dropout", 0, 0.7)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    return (OFFSETS[opt] + 0.05 * (layers - 4) ** 2 + 0.5 * (math.log2(units) - math.log2(192)) ** 2
            + 4 * (dropout - 0.2) ** 2 + 0.1 * (math.log10(lr) + 3) ** 2)


FUNCTIONS = {"branin": (branin, 0.397887), "hartmann6": (hartmann6, -3.32237), "mixed": (mixed, 0.0)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--first-seed", type=int, default=1000)
    args = ap.parse_args()
    results = {}
    for variant, kwargs in (("tpe", {}), ("tpe_multivariate", {"multivariate": True})):
        results[variant] = {}
        for name, (fn, optimum) in FUNCTIONS.items():
            regrets = []
            for s in range(args.seeds):
                sampler = optuna.samplers.TPESampler(seed=args.first_seed + s, **kwargs)
                study = optuna.create_study(sampler=sampler, direction="minimize")
                study.optimize(fn, n_trials=args.trials)
                regrets.append(study.best_value - optimum)
            results[variant][name] = regrets
    print(json.dumps({"optuna": optuna.__version__, "results": results}))


if __name__ == "__main__":
    main()
