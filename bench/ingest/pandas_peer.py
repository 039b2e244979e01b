"""pandas peer of bench:ingest: read_csv + per-column missing/distinct/min/max/mean, timed; JSON on stdout."""
import json
import sys
import time

import pandas as pd

path = sys.argv[1]
start = time.perf_counter()
frame = pd.read_csv(path)
stats = {}
for name in frame.columns:
    column = frame[name]
    numeric = column.dtype.kind in "ifb"
    stats[name] = {
        "missing": int(column.isna().sum()),
        "distinct": int(column.nunique()),
        "min": float(column.min()) if numeric else None,
        "max": float(column.max()) if numeric else None,
        "mean": float(column.mean()) if numeric else None,
    }
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rows": len(frame), "pandas": pd.__version__, "columns": stats}))
