"""Wall time of Stream runs of LeNet-5 on the zz-event toy architectures (1, 2 and 4 compute cores).

Each run starts from an empty output directory (no per-core cost cache), with the fixed mappings in
inputs/stream/mapping and Stream's artifacts (reports, traces, figures) off, so the time is Stream's own: parse,
tile, cost every node on its cores with ZigZag (or zz-event in an event mode), lower and solve with OR-Tools.
`frame` is stock Stream; the event modes need zz_event.api.cost_node_event_driven and measure zz-event's overhead.
The last line is `stream_wall_s=<json>`: per mode and core count, the median wall time in seconds.

Run: .venv/bin/python benchmarks/stream_overhead.py [--modes frame event] [--cores 1 2 4] [--repeat N]
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

from zz_event.stream_runner import MODES, StreamRunOptions, run_stream  # noqa: E402

ARCH = {1: "single_core", 2: "dual_core", 4: "quad_core"}
STREAM = ROOT / "inputs" / "stream"
LENET5 = ROOT / "inputs" / "lenet5" / "lenet5.onnx"


def one_run(mode: str, cores: int, solver: str) -> tuple[float, float]:
    """(wall seconds, Stream's latency in cycles) of one cold run."""
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
    parser.add_argument("--modes", nargs="+", default=["frame"], choices=MODES)
    parser.add_argument("--cores", nargs="+", type=int, default=[1, 2, 4], choices=sorted(ARCH))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--solver", default="ortools_highs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # a script, not the library: silence Stream's and ZigZag's INFO
    if not LENET5.exists():
        sys.exit(f"{LENET5} is missing: run inputs/lenet5/make_lenet5.py first")
    medians: dict[str, dict[int, float]] = {}
    for mode in args.modes:
        for cores in args.cores:
            runs = [one_run(mode, cores, args.solver) for _ in range(args.repeat)]
            walls = [w for w, _ in runs]
            medians.setdefault(mode, {})[cores] = round(statistics.median(walls), 2)
            print(f"{mode:9s} {cores} core(s): wall {statistics.median(walls):6.2f} s "
                  f"(min {min(walls):.2f}, max {max(walls):.2f}, n={len(walls)}); latency {runs[0][1]:.0f} cycles")  # fmt: skip
    print(f"stream_wall_s={json.dumps(medians)}")


if __name__ == "__main__":
    main()
