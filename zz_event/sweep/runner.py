"""`run_sweep`: plan, skip what is finished, run the rest, record every outcome, write the table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from zz_event.provenance import provenance
from zz_event.sweep.cluster import run_inline, run_on_dask
from zz_event.sweep.plan import SweepPlan, plan_sweep
from zz_event.sweep.store import SweepStore

__all__ = ["SweepRun", "run_sweep"]


@dataclass(frozen=True)
class SweepRun:
    """What one run did: `points` in the spec, `skipped` (finished before), `ran`, `failed` (of those run)."""

    out: Path
    points: int
    skipped: int
    ran: int
    failed: int
    table: pd.DataFrame


def run_sweep(
    spec_path: str | Path,
    out: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_point: Callable[[object], None] | None = None,
    worker_setup: Callable[[], None] | None = None,
    plan: SweepPlan | None = None,
) -> SweepRun:
    """Run the sweep `spec_path` into `out`. Everything is checked first (SweepSpecError, nothing written).

    `scheduler`: a Dask scheduler address (else a local cluster of `workers` processes, default one per
    core; `workers=0` runs the points one by one in this process, without Dask). `on_start(to_run,
    skipped)` and `on_point(outcome)` report progress; `worker_setup` runs on each local worker first.
    """
    plan = plan or plan_sweep(spec_path)
    store = SweepStore(out)
    jobs = plan.unique_jobs()
    finished = store.finished()
    todo = [job for job in jobs if job.key not in finished]
    arguments = {"spec": str(spec_path), "out": str(out), "scheduler": scheduler, "workers": workers}
    store.start(Path(spec_path), plan.manifest(), {"provenance": provenance(arguments), "status": "running",
                                                   "points": len(plan.jobs), "to_run": len(todo)})  # fmt: skip
    if on_start:
        on_start(len(todo), len(jobs) - len(todo))
    inline = workers == 0 and not scheduler
    outcomes = run_inline(todo) if inline else run_on_dask(todo, scheduler, workers, worker_setup)
    failed = 0
    for outcome in outcomes:
        store.record(outcome)
        failed += not outcome.ok
        if on_point:
            on_point(outcome)
    counts = {"points": len(plan.jobs), "skipped": len(jobs) - len(todo), "ran": len(todo), "failed": failed}
    table = store.finish({"provenance": provenance(arguments), "status": "completed", **counts})
    return SweepRun(Path(out), table=table, **counts)
