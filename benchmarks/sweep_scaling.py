"""How a sweep scales with Dask workers: the same 8-point sweep on a local cluster of 1 and of 2 workers.

The sweep is `inputs/sweeps/toy_array.yaml` (2 array sizes x 2 modes x the toy layer and LeNet-5 conv1 +
conv2, LOMA lpf 4): planned once (the checks are not timed), then run into a fresh folder on each cluster
through its scheduler address, as `--scheduler` does. Both clusters live through the whole benchmark; before
every timed run the cluster's workers are restarted and the zz-event modules imported, so each run starts
from fresh processes (no engine memo left warm) and no run pays for imports. Runs are interleaved (1, 2,
then 2, 1, ...) and the best wall time of `--repeat` counts: the machines are shared, and load only ever adds
time. CPU time is the workers' own (process time, summed over the workers, Dask's bookkeeping included) and
the points' (summed over the points, as the table records it): equal CPU and halved wall time is real
parallelism, and "cores busy" (workers' CPU / wall) shows how much of the machine other jobs left the workers.
Last line: `speedup=<best wall, 1 worker / best wall, 2 workers>` (2 idle cores: about 1.7 or more; with the
load average at 4-6 from other jobs, 1.4-1.55 was read, and at 9, when two workers got under one core, 1.0).

    python benchmarks/sweep_scaling.py [--repeat N]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from dask.distributed import Client

from zz_event.sweep import run_sweep
from zz_event.sweep.cluster import local_cluster
from zz_event.sweep.plan import plan_sweep

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "inputs" / "sweeps" / "toy_array.yaml"


def _warm() -> None:
    import logging as worker_logging
    import warnings

    import zz_event.sweep.point  # noqa: F401 -- ZigZag and the engine, imported before the clock starts

    worker_logging.getLogger("zigzag").setLevel(worker_logging.ERROR)
    warnings.simplefilter("ignore")


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def _worker_cpu(client: Client) -> float:
    return sum(client.run(time.process_time).values())


def timed_run(n_workers: int, plan, folder: Path) -> tuple[float, float, float]:
    """(wall s, workers' CPU s, points' CPU s) of one run of the sweep on a fresh local cluster of `n_workers`
    (fresh processes: no engine memo left warm; a new cluster rather than `Client.restart`, whose workers
    sometimes failed to come back within its timeout here)."""
    with local_cluster(n_workers) as cluster, Client(cluster) as client:
        client.run(_warm)
        cpu_before = _worker_cpu(client)
        start = time.perf_counter()
        run = run_sweep(SPEC, folder, scheduler=client.scheduler.address, plan=plan)
        wall = time.perf_counter() - start
        cpu = _worker_cpu(client) - cpu_before
    if run.failed or run.ran != len(plan.jobs):
        raise SystemExit(f"the sweep did not run every point: {run}")
    points_cpu = float(run.table.query("kind == 'network'")["cpu_time_s"].sum())
    return wall, cpu, points_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per worker count (default 3)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    plan = plan_sweep(SPEC)
    best: dict[int, tuple[float, float, float]] = {}
    print(f"{len(plan.jobs)} points of {SPEC.relative_to(ROOT)}; best of {args.repeat} interleaved runs; "
          f"load average {_load()} (other processes take cores from the workers)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="zz-event-sweep-bench-") as tmp:
        for r in range(args.repeat):
            for n in (1, 2) if r % 2 == 0 else (2, 1):
                wall, cpu, points_cpu = timed_run(n, plan, Path(tmp) / f"run{r}_{n}")
                print(f"run {r + 1}, {n} worker(s): wall {wall:6.2f} s, workers' CPU {cpu:6.2f} s, "
                      f"points' CPU {points_cpu:6.2f} s", flush=True)  # fmt: skip
                if n not in best or wall < best[n][0]:
                    best[n] = (wall, cpu, points_cpu)
    for n, (wall, cpu, points_cpu) in sorted(best.items()):
        print(f"best, {n} worker(s): wall {wall:.2f} s, workers' CPU {cpu:.2f} s ({cpu / wall:.2f} cores busy), "
              f"points' CPU {points_cpu:.2f} s")  # fmt: skip
    print(f"load average {_load()}; cpu_ratio={best[2][1] / best[1][1]:.2f}")
    print(f"speedup={best[1][0] / best[2][0]:.2f}")


if __name__ == "__main__":
    main()
