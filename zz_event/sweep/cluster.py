"""Run jobs on Dask: a local cluster sized to the machine, or an existing one given its scheduler address.

One task per job, results taken as they complete. Worker processes (not threads: ZigZag is CPU-bound
Python) with one thread each. A task that dies with its worker (KilledWorker, ...) becomes a failed outcome.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import dask
from dask.distributed import Client, LocalCluster, as_completed

from zz_event.sweep.task import PointOutcome, run_point

__all__ = ["default_workers", "local_cluster", "run_inline", "run_on_dask"]


def default_workers() -> int:
    return os.cpu_count() or 1


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator:
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


def local_cluster(workers: int | None = None):
    """A local cluster of `workers` processes (default: one per core) of one thread each. A worker holds one
    task at a time (saturation 1.0, not Dask's 1.1, which queues a second task on a busy worker while another
    may soon idle: points last seconds, and a few long ones at the end would run one after another)."""
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        # ":0": a free port for the scheduler's HTTP server (8787 may be taken by another cluster)
        return LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                            dashboard_address=":0")  # fmt: skip


def run_on_dask(jobs: Sequence, scheduler: str | None = None, workers: int | None = None,
                worker_setup: Callable[[], None] | None = None) -> Iterator[PointOutcome]:  # fmt: skip
    """Outcomes of `jobs` as they finish; `worker_setup` runs once on every worker of a local cluster first
    (e.g. log levels: an existing cluster's workers, shared perhaps and logging elsewhere, are left as they are)."""
    if not jobs:  # every point finished before: no cluster to start
        return
    with _client(scheduler, workers) as client:
        if worker_setup is not None and not scheduler:
            client.run(worker_setup)
        futures = _submit(client, jobs)
        for future in as_completed(futures):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # noqa: BLE001 -- the worker died under the point: record it, go on
                outcome = PointOutcome(job.key, job.index, None, f"{type(error).__name__}: {error}")
            future.release()
            yield outcome


def _submit(client, jobs: Sequence) -> dict:
    """One task per job. Each distinct workload file goes to the cluster once (an ONNX with weights can be
    large, and a sweep has many points on few networks); the tasks carry the rest of their job."""
    workloads: dict[str, object] = {}
    futures = {}
    for job in jobs:
        sha = dict(job.input_hashes)["workload_sha256"]
        if sha not in workloads:
            workloads[sha] = client.scatter([job.workload], hash=False)[0]
        slim = dataclasses.replace(job, workload=b"")
        futures[client.submit(run_point, slim, workloads[sha], key=f"zz-event-point-{job.key}", pure=False)] = job
    return futures


def run_inline(jobs: Sequence) -> Iterator[PointOutcome]:
    """Outcomes of `jobs` one after another in this process (no Dask): the sequential reference."""
    for job in jobs:
        yield run_point(job)
