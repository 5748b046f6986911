"""Design-space sweeps on Dask: `zz-event sweep SPEC.yaml --out DIR`, then `zz_event.sweep.load(DIR)`.

| module          | its one job                                                                         |
|-----------------|-------------------------------------------------------------------------------------|
| `spec`          | read a spec YAML into its points (base inputs x every combination of the axes)      |
| `keypath`       | get and set `a.b[0].c` key paths in parsed YAML, refusing unknown keys and types    |
| `stream_bundle` | a Stream accelerator as its top file and cores, key paths into either               |
| `resolve`       | a point -> a job: file contents after substitution, options, the key (sha256)       |
| `plan`          | check every point before anything runs (one line, nothing written)                  |
| `point`         | check and cost one point, ZigZag or Stream (the one door into the rest of zz-event) |
| `rows`          | one point's result -> its rows of the tidy table (the columns are documented there) |
| `task`          | what a Dask worker runs: a point's rows or its error, with its wall and CPU time    |
| `cluster`       | run tasks on a local or remote Dask cluster (or inline), as they complete           |
| `store`         | the sweep folder: manifest, one atomic Parquet file per point, failures; `load`     |
| `runner`        | `run_sweep`: plan, skip finished points, run the rest, record, write the table      |
| `plots`         | figures of a sweep: energy and latency against a parameter per mode; Pareto front   |
| `errors`        | `SweepSpecError`                                                                    |

The spec format is in `zz_event.sweep.spec`, the table's columns in `zz_event.sweep.rows`, the folder's
layout in `zz_event.sweep.store`.
"""

from __future__ import annotations

from zz_event.sweep.errors import SweepSpecError
from zz_event.sweep.runner import SweepRun, run_sweep
from zz_event.sweep.store import load, load_failures

__all__ = ["SweepRun", "SweepSpecError", "load", "load_failures", "run_sweep"]
