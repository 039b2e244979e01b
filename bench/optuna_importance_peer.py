#!/usr/bin/env python3
"""PED-ANOVA peer for bench/search.bench.ts: reads {"space": {...}, "goal": "MINIMIZE", "trials": [{params, value}]}
(our search-space format) on stdin and prints {"optuna": version, "importance": {...}} from Optuna's
PedAnovaImportanceEvaluator (normalised by get_param_importances), or {"optuna": version, "importance": null} when
the installed Optuna has no PED-ANOVA (Debian's 3.1 does not; point PYTHONPATH at an Optuna >= 3.6 source tree).
"""
import json
import sys
import warnings

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")


def dist_of(spec):
    t = spec["type"]
    if t == "choice":
        return CategoricalDistribution(spec["values"])
    if t == "uniform":
        return FloatDistribution(spec["min"], spec["max"])
    if t == "loguniform":
        return FloatDistribution(spec["min"], spec["max"], log=True)
    step = spec.get("step", 1)
    high = spec["min"] + ((spec["max"] - spec["min"]) // step) * step
    return IntDistribution(spec["min"], high, log=bool(spec.get("log")), step=step)


def main():
    payload = json.load(sys.stdin)
    try:
        from optuna.importance import PedAnovaImportanceEvaluator
    except ImportError:
        print(json.dumps({"optuna": optuna.__version__, "importance": None}))
        return
    dists = {k: dist_of(v) for k, v in payload["space"].items()}
    study = optuna.create_study(direction="minimize" if payload["goal"] == "MINIMIZE" else "maximize")
    for t in payload["trials"]:
        study.add_trial(optuna.trial.create_trial(params=t["params"], distributions=dists, value=t["value"]))
    imp = optuna.importance.get_param_importances(study, evaluator=PedAnovaImportanceEvaluator())
    print(json.dumps({"optuna": optuna.__version__, "importance": imp}))


if __name__ == "__main__":
    main()
