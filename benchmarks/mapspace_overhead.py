"""What logging the full mapping space (with its three engine variants) costs over plain ZigZag.

LeNet-5 conv2 (inputs/lenet5/lenet5.onnx, input-centric) at LOMA lpf_limit 8 (40,320 orderings on the toy
core), measured in one invocation: plain ZigZag (the same pipeline with neither the correction nor the
logger), then `zz_event.mapspace.logger.run_mapspace` (correction with the dense and filter-only variants, plus
the CSV logger). Each runs in its own subprocess so that its peak resident memory (ru_maxrss) and CPU time
are its own; the correction runs in that process, inline.
With `--repeat N` (default 2) the two runs alternate N times and each kind's fastest run (CPU time) counts:
on a shared machine a run's time can swing by a fifth, and the fastest of a few is the least disturbed.
Peak memory is the largest seen over all runs of a kind.
Last line: `overhead_pct=<(logged - plain) / plain CPU time x 100> peak_mb_delta=<logged peak - plain peak>`.

    python benchmarks/mapspace_overhead.py                         # toy core, conv2, lpf 8 (about 10 min)
    python benchmarks/mapspace_overhead.py --hardware tpu_like --lpf-limit 6 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOAD = ROOT / "inputs/lenet5/lenet5.onnx"
HARDWARE = {
    "toy": (ROOT / "inputs/toy/hardware.yaml", ROOT / "inputs/toy/mapping_lenet5.yaml"),
    "tpu_like": (ROOT / "inputs/tpu_like/hardware.yaml", ROOT / "inputs/tpu_like/mapping.yaml"),
}


def peak_mb() -> float:
    """Peak resident MB of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def run_plain(hardware: Path, mapping: Path, layer: str, lpf: int) -> dict:
    """Plain ZigZag: zz-event's stage list with a counting stage where the correction would be."""
    from zigzag.stages.stage import Stage
    from zigzag.stages.workload_iterator import WorkloadStage

    from zz_event.mapspace.logger import LayerFilterStage
    from zz_event.readers.mappings import load_mapping
    from zz_event.readers.workloads import load_workload
    from zz_event.zigzag.pipeline import build_stages, main_stage
    from zz_event.zigzag.settings import RunSettings

    count = [0]

    class CountingStage(Stage):
        def run(self):
            for cme, extra in self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs).run():
                count[0] += 1
                yield cme, extra

    start, cpu = time.perf_counter(), time.process_time()
    prepared = load_workload(str(WORKLOAD))
    settings = RunSettings(lpf_limit=lpf, loma_show_progress_bar=False)
    stages = build_stages(settings, [CountingStage])
    only = type("OneLayer", (LayerFilterStage,), {"names": frozenset({layer})})
    stages.insert(stages.index(WorkloadStage) + 1, only)
    with tempfile.TemporaryDirectory() as dump:
        main_stage(stages, settings, accelerator=str(hardware), workload=prepared.zigzag_workload,
                   mapping=load_mapping(str(mapping), prepared), dump_folder=dump,
                   pickle_filename=f"{dump}/cmes.pickle").run()
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
            "evaluations": count[0], "peak_mb": peak_mb()}


def run_logged(hardware: Path, mapping: Path, layer: str, lpf: int) -> dict:
    """ZigZag + correction (event-driven, dense, filter-only) + the mapspace logger."""
    import zz_event.mapspace.logger as mapspace

    logging_seconds = [0.0]
    record = mapspace.MapspaceLog.record

    def timed_record(self, *args):
        t0 = time.perf_counter()
        record(self, *args)
        logging_seconds[0] += time.perf_counter() - t0

    mapspace.MapspaceLog.record = timed_record
    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as out:
        run = mapspace.run_mapspace(str(WORKLOAD), str(hardware), str(mapping), Path(out) / "mapspace.csv",
                                    lpf_limit=lpf, layers=(layer,), parquet=False)
        csv_mb = run.csv.stat().st_size / 2**20
    return {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu,
            "evaluations": run.rows, "peak_mb": peak_mb(), "logging_seconds": logging_seconds[0], "csv_mb": csv_mb}


def child(args) -> int:
    logging.basicConfig(level=logging.ERROR)
    hardware, mapping = HARDWARE[args.hardware]
    fn = run_plain if args.child == "plain" else run_logged
    print(json.dumps(fn(hardware, mapping, args.layer, args.lpf_limit)))
    return 0


def measure(kind: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--hardware", args.hardware, "--layer", args.layer,
           "--lpf-limit", str(args.lpf_limit)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _fastest(results: list[dict]) -> dict:
    """The fastest run, with the largest peak memory seen over all runs."""
    best = dict(min(results, key=lambda r: r["cpu_seconds"]))
    best.update(peak_mb=max(r["peak_mb"] for r in results))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hardware", choices=list(HARDWARE), default="toy")
    parser.add_argument("--layer", default="conv2")
    parser.add_argument("--lpf-limit", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of each kind; the fastest counts")
    parser.add_argument("--child", choices=["plain", "logged"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    runs: dict[str, list[dict]] = {"plain": [], "logged": []}
    for _ in range(max(1, args.repeat)):  # alternating, so that load on the machine hits both kinds alike
        for kind in runs:
            runs[kind].append(measure(kind, args))
    for kind, results in runs.items():
        print(f"{kind} runs (CPU s): " + " ".join(f"{r['cpu_seconds']:.1f}" for r in results))
    plain, logged = (_fastest(runs[kind]) for kind in ("plain", "logged"))
    if plain["evaluations"] != logged["evaluations"]:
        print(f"warning: plain ZigZag made {plain['evaluations']} evaluations, the log holds {logged['evaluations']}")
    n = plain["evaluations"]
    print(f"LeNet-5 {args.layer}, {args.hardware} core, lpf_limit {args.lpf_limit}: {n} evaluations")
    print(f"{'run':28} {'CPU s':>9} {'wall s':>9} {'ms/mapping':>10} {'peak MB':>9}")
    for label, r in (("plain ZigZag", plain), ("ZigZag + correction + log", logged)):
        print(f"{label:28} {r['cpu_seconds']:9.1f} {r['seconds']:9.1f} {1e3 * r['cpu_seconds'] / n:10.2f} "
              f"{r['peak_mb']:9.1f}")
    rows_s = logged["logging_seconds"]
    print(f"of which building + writing rows: {rows_s:.2f} s ({1e3 * rows_s / n:.3f} ms/mapping); "
          f"CSV {logged['csv_mb']:.1f} MB")
    overhead = 100.0 * (logged["cpu_seconds"] - plain["cpu_seconds"]) / plain["cpu_seconds"]
    print(f"overhead_pct={overhead:.1f} peak_mb_delta={logged['peak_mb'] - plain['peak_mb']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
