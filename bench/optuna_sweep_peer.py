"""Optuna's side of bench:sweep: TPE + MedianPruner with RDBStorage on PostgreSQL, the same synthetic
objective and epochs as the service's sweep (bench/sweep.bench.ts, syntheticValLoss).

    python3 bench/optuna_sweep_peer.py <sqlalchemy url> <trials> <epochs> <seed>

Prints one JSON line: each trial's start time in seconds from the first, the total, and the best value. Then
the probe, as the service's side runs it: a young study alternating trial by trial with the old one for PROBE
trials, each trial timed alone, so that the old study's trials <trials>.. and the young one's 51-150 share the
same minutes of a loaded machine.
"""
import json
import math
import random
import sys
import time

import optuna

PROBE = 150


def synthetic_val_loss(lr, hidden, epoch, noise):
    bowl = (math.log10(lr) + 2) ** 2 + ((hidden - 24) / 16) ** 2
    return 0.1 + bowl + 1 / epoch + 0.02 * noise


def run_trial(study, epochs, noise):
    """One trial through ask, report and should_prune, tell; returns whether it was pruned."""
    trial = study.ask()
    lr = trial.suggest_float("lr", 0.0001, 0.1, log=True)
    hidden = trial.suggest_int("hidden", 8, 64, step=8)
    value = None
    for epoch in range(1, epochs + 1):
        value = synthetic_val_loss(lr, hidden, epoch, noise.random())
        trial.report(value, epoch)
        if trial.should_prune():
            study.tell(trial, None, state=optuna.trial.TrialState.PRUNED)
            return True
    study.tell(trial, value)
    return False


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main():
    url, trials, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    # The service's median rule with minTrials 5, warmupEpochs 1.
    study = optuna.create_study(
        study_name="bench",
        storage=storage,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    noise = random.Random(seed)
    starts = []
    pruned = 0
    began = time.perf_counter()
    for _ in range(trials):
        starts.append(time.perf_counter() - began)
        pruned += run_trial(study, epochs, noise)
        if len(starts) % 500 == 0:
            print(f"optuna: {len(starts)} trials", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - began
    young = optuna.create_study(
        study_name="young",
        storage=storage,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    old_ms, young_ms = [], []
    for _ in range(PROBE):
        for which, times in ((study, old_ms), (young, young_ms)):
            trial_began = time.perf_counter()
            run_trial(which, epochs, noise)
            times.append((time.perf_counter() - trial_began) * 1000)
    probe = {
        "youngNearTrial100": {"trials": len(young_ms[50:150]), "totalMs": round(median(young_ms[50:150]), 2)},
        "oldAtTrials": {"trials": len(old_ms), "totalMs": round(median(old_ms), 2)},
    }
    probe["oldOverYoung"] = round(probe["oldAtTrials"]["totalMs"] / probe["youngNearTrial100"]["totalMs"], 2)
    print(json.dumps({
        "optuna": optuna.__version__,
        "trials": trials,
        "pruned": pruned,
        "seconds": round(seconds, 1),
        "trialsPerSecond": round(trials / seconds, 2),
        "bestValLoss": study.best_value,
        "probe": probe,
        "starts": starts,
    }))


if __name__ == "__main__":
    main()
