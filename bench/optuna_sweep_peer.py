"""Optuna's side of bench:sweep: TPE + MedianPruner with RDBStorage on PostgreSQL, the same synthetic
objective and epochs as the service's sweep (bench/sweep.bench.ts, syntheticValLoss).

    python3 bench/optuna_sweep_peer.py <sqlalchemy url> <trials> <epochs> <seed>

Prints one JSON line: each trial's start time in seconds from the first, the total, and the best value.
"""
import json
import math
import random
import sys
import time

import optuna


def synthetic_val_loss(lr, hidden, epoch, noise):
    bowl = (math.log10(lr) + 2) ** 2 + ((hidden - 24) / 16) ** 2
    return 0.1 + bowl + 1 / epoch + 0.02 * noise


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
        trial = study.ask()
        lr = trial.suggest_float("lr", 0.0001, 0.1, log=True)
        hidden = trial.suggest_int("hidden", 8, 64, step=8)
        value = None
        state = optuna.trial.TrialState.COMPLETE
        for epoch in range(1, epochs + 1):
            value = synthetic_val_loss(lr, hidden, epoch, noise.random())
            trial.report(value, epoch)
            if trial.should_prune():
                state = optuna.trial.TrialState.PRUNED
                pruned += 1
                break
        study.tell(trial, value if state == optuna.trial.TrialState.COMPLETE else None, state=state)
        if len(starts) % 500 == 0:
            print(f"optuna: {len(starts)} trials", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - began
    print(json.dumps({
        "optuna": optuna.__version__,
        "trials": trials,
        "pruned": pruned,
        "seconds": round(seconds, 1),
        "trialsPerSecond": round(trials / seconds, 2),
        "bestValLoss": study.best_value,
        "starts": starts,
    }))


if __name__ == "__main__":
    main()
