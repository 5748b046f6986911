"""Everything checked before anything runs: the spec, every point's substituted hardware, files and layers.

A bad spec raises SweepSpecError naming the spec file and the first problem; no folder is written.
Each distinct combination of inputs is checked once (ZigZag's own validators, via `point.check_job`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from zz_event.errors import ZzEventError
from zz_event.sweep.errors import SweepSpecError
from zz_event.sweep.point import check_job
from zz_event.sweep.resolve import PointJob, resolve_points
from zz_event.sweep.spec import SweepSpec, read_spec

__all__ = ["SweepPlan", "plan_sweep"]


@dataclass(frozen=True)
class SweepPlan:
    spec: SweepSpec
    jobs: tuple[PointJob, ...]  # one per point, in spec order

    def unique_jobs(self) -> list[PointJob]:
        """One job per key (points whose resolved inputs are equal run once), in spec order."""
        seen: dict[str, PointJob] = {}
        for job in self.jobs:
            seen.setdefault(job.key, job)
        return list(seen.values())

    def manifest(self) -> pd.DataFrame:
        return pd.DataFrame([{"point": job.key, "point_index": job.index, **dict(job.params)} for job in self.jobs])


def plan_sweep(spec_path: str | Path) -> SweepPlan:
    spec = read_spec(spec_path)
    jobs = tuple(resolve_points(spec))
    _check(spec, jobs)
    return SweepPlan(spec, jobs)


def _check(spec: SweepSpec, jobs: tuple[PointJob, ...]) -> None:
    checked: set[tuple] = set()
    for job in jobs:
        hashes = dict(job.input_hashes)
        combo = (hashes["workload_sha256"], job.layers, hashes["accelerator_sha256"], hashes["mapping_sha256"],
                 job.mode.startswith("frame-"))  # fmt: skip
        if combo in checked:
            continue
        try:
            check_job(job)
        except ZzEventError as error:
            where = ", ".join(f"{k}={v}" for k, v in job.params if k in ("workload", "mode") or k.startswith("hw."))
            problem = str(error).replace(str(Path(spec.path).parent), ".")
            raise SweepSpecError(f"point {job.index} ({where}): {_strip_tmp(problem)}", str(spec.path)) from error
        checked.add(combo)


def _strip_tmp(message: str) -> str:
    """The checked files live in a temporary folder: name them by their role instead."""
    return re.sub(r"\S*/zz-event-sweep-[^/\s]+/(\w+)(\.\w+)?", r"<\1>", message)
