"""Wall time of Stream runs of LeNet-5 on the zz-event toy architectures: zz-event's backend (`event`) vs stock
Stream (`frame`), on the same run (architecture, mapping, solver).

Each run starts from an empty output directory (no per-core cost cache), with the fixed mappings in
inputs/stream/mapping and Stream's artifacts (reports, traces, figures) off, so the time is Stream's own: parse,
tile, cost every node on its cores with ZigZag (or zz-event in an event mode), lower and solve with OR-Tools.
Modes are interleaved (frame, event, frame, event, ...) so that a change in machine load hits both alike.
The second-to-last line is `stream_wall_s=<json>`: per mode and core count, the median wall time in seconds; the
last line `ratio=<n>`: the summed median wall time of the `event` runs over that of the `frame` runs (target: at
most 1.5).

Run: .venv/bin/python benchmarks/stream_overhead.py [--modes frame event] [--cores 1] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zz_event.engine.evaluate import clear_caches
from zz_event.model.vocabulary import STREAM_MODES as MODES
from zz_event.stream.runner import StreamRunOptions, run_stream

ARCH = {1: "single_core", 2: "dual_core", 4: "quad_core"}
STREAM = ROOT / "inputs" / "stream"
LENET5 = ROOT / "inputs" / "lenet5" / "lenet5.onnx"


def one_run(mode: str, cores: int, solver: str) -> tuple[float, float]:
    """(wall seconds, Stream's latency in cycles) of one cold run: no cost cache, and no
    engine memo left warm by an earlier run of this script."""
    clear_caches()
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = run_stream(
            STREAM / "hardware" / f"{ARCH[cores]}.yaml",
            LENET5,
            STREAM / "mapping" / f"lenet5_{cores}core.yaml",
            mode,
            out,
            StreamRunOptions(solver=solver, artifacts=False),
        )
        return time.perf_counter() - start, summary.total_latency_cycles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["frame", "event"], choices=MODES)
    parser.add_argument("--cores", nargs="+", type=int, default=[1], choices=sorted(ARCH))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--solver", default="ortools_highs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # a script, not the library: silence Stream's and ZigZag's INFO
    if not LENET5.exists():
        sys.exit(f"{LENET5} is missing: run inputs/lenet5/make_lenet5.py first")
    runs: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for cores in args.cores:
        for _ in range(args.repeat):
            for mode in args.modes:
                runs.setdefault((mode, cores), []).append(one_run(mode, cores, args.solver))
    medians: dict[str, dict[int, float]] = {}
    for (mode, cores), results in runs.items():
        walls = [w for w, _ in results]
        medians.setdefault(mode, {})[cores] = round(statistics.median(walls), 2)
        print(f"{mode:9s} {cores} core(s): wall {statistics.median(walls):6.2f} s (min {min(walls):.2f}, "
              f"max {max(walls):.2f}, n={len(walls)}); latency {results[0][1]:.0f} cycles")
    print(f"stream_wall_s={json.dumps(medians)}")
    if {"frame", "event"} <= set(medians):
        print(f"ratio={sum(medians['event'].values()) / sum(medians['frame'].values()):.2f}")


if __name__ == "__main__":
    main()
