"""The unit of work a Dask worker runs: one point, its rows or its error, never an exception.

A point that fails becomes a `PointOutcome` with its error (type, message, last traceback lines), so the
sweep records it and goes on. Time is measured here, on the worker: wall and CPU time of the point alone.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
import traceback
from dataclasses import dataclass

import pandas as pd

from zz_event.sweep.point import run_job, tool_versions
from zz_event.sweep.rows import point_rows

__all__ = ["PointOutcome", "run_point"]

_VERSIONS: dict[str, str | None] = {}  # per worker process: the versions and commit do not change under it


@dataclass(frozen=True)
class PointOutcome:
    key: str
    index: int
    rows: pd.DataFrame | None  # None if the point failed
    error: str | None = None
    detail: str | None = None  # the end of the traceback
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rows is not None


def _provenance() -> dict[str, str | None]:
    if not _VERSIONS:
        versions = tool_versions()
        _VERSIONS.update({"zz_event_version": versions.get("zz-event"), "zigzag_version": versions.get("zigzag-dse"),
                          "stream_version": versions.get("stream-dse"), "commit": versions.get("commit")})  # fmt: skip
    return dict(_VERSIONS)


def run_point(job, workload: bytes | None = None) -> PointOutcome:
    """Cost `job` (a `resolve.PointJob`; `workload`, if given, its workload file's contents, sent apart);
    never raises for a point's own failure."""
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    if workload is not None:
        job = dataclasses.replace(job, workload=workload)
    try:
        entries = run_job(job)
        wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
        provenance = {**_provenance(), **dict(job.input_hashes), "wall_time_s": wall, "cpu_time_s": cpu,
                      "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}  # fmt: skip
        return PointOutcome(job.key, job.index, point_rows(job, entries, provenance), wall_time_s=wall, cpu_time_s=cpu)
    except Exception as error:  # noqa: BLE001 -- a failed point is recorded, and the sweep goes on
        message = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        detail = "".join(traceback.format_exception(error)[-3:])
        return PointOutcome(job.key, job.index, None, message, detail,
                            time.perf_counter() - start_wall, time.process_time() - start_cpu)  # fmt: skip
