"""How much CPU time the event-driven correction adds, inline, to ZigZag's own search.

For LeNet-5 conv1 and conv2 (input-centric) on the toy 8-MAC accelerator and on ZigZag's tpu_like, and a
ResNet-18 3x3 layer (64 -> 64 channels, 56x56, padding 1) on tpu_like, LOMA lpf_limit 6, opt energy: CPU time
of this process for ZigZag's own search, and for the same search with the correction stage, which runs in
ZigZag's process (no helper process, so this process's CPU time is all the work). Two corrections:
- the one a run on energy uses (`stages.correction_stage("energy")`), which skips mappings that cannot be ZigZag's
  pick before ZigZag evaluates them (`zigzag.energy_bound`; the pick is that of every mapping corrected), so that
  the search can take less time than ZigZag's own (a negative overhead);
- every mapping corrected (`EventDrivenCorrectionStage`), as a run on latency or EDP, or a mapspace log, does.
Runs are interleaved and each side's best of `--repeat` counts: the machines are shared, and load only ever adds
time. Every run is cold (the engine's caches cleared), as a search of a new layer is. Wall times are printed
beside. Last lines: `every_mapping_overhead_pct=<worst case of every mapping corrected>`, then
`inline_overhead_pct=<worst case over the five layers, on energy>` (target: at most 10).

    python benchmarks/correction_overhead.py [--repeat N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
import time
from pathlib import Path

from zz_event.engine.evaluate import clear_caches
from zz_event.readers.workloads import load_workload
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import EventDrivenCorrectionStage, correction_stage

ROOT = Path(__file__).resolve().parent.parent


def conv_layer(name: str, k: int, c: int, size: int, kernel: int, padding: int = 0) -> dict:
    """An input-centric conv layer as zz-event's YAML reader takes it (padding in its zz_event block)."""
    layer = {
        "id": 0, "name": name, "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": ["ox=1*ix+1*fx", "oy=1*iy+1*fy"],
        "loop_dims": ["B", "K", "C", "IY", "IX", "FY", "FX"],
        "loop_sizes": [1, k, c, size, size, kernel, kernel],
        "operand_precision": {"W": 8, "I": 8, "O": 16, "O_final": 8},
        "operand_source": {"I": 0, "W": 0},
    }
    if padding:
        layer["zz_event"] = {"padding": padding}
    return layer


TOY = (ROOT / "inputs/toy/hardware.yaml", ROOT / "inputs/toy/mapping_lenet5.yaml")
TPU = (ROOT / "inputs/tpu_like/hardware.yaml", ROOT / "inputs/tpu_like/mapping.yaml")
CASES = {  # name -> (layer, (hardware, mapping))
    "conv1 toy": (conv_layer("conv1", 6, 1, 32, 5), TOY),
    "conv2 toy": (conv_layer("conv2", 16, 6, 14, 5), TOY),
    "conv1 tpu_like": (conv_layer("conv1", 6, 1, 32, 5), TPU),
    "conv2 tpu_like": (conv_layer("conv2", 16, 6, 14, 5), TPU),
    "resnet3x3 tpu_like": (conv_layer("resnet18_3x3", 64, 64, 56, 3, padding=1), TPU),
}


SETTINGS = RunSettings(opt="energy", loma_show_progress_bar=False)
SIDES = {"zigzag": [], "on energy": [correction_stage(SETTINGS.opt)], "every mapping": [EventDrivenCorrectionStage]}


def run_once(layer: dict, hardware: Path, mapping: Path, side: str) -> tuple[float, float]:
    """(CPU, wall) seconds of one cold ZigZag search of the layer, with the correction stages of `side`."""
    clear_caches()
    prepared = load_workload([layer])
    stages = build_stages(SETTINGS, SIDES[side])
    correction = CorrectionSettings.for_workload(prepared)
    cpu, wall = time.process_time(), time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        main_stage(stages, SETTINGS, correction, accelerator=str(hardware), workload=prepared.zigzag_workload,
                   mapping=str(mapping), dump_folder=out, pickle_filename=f"{out}/cmes.pickle").run()
    return time.process_time() - cpu, time.perf_counter() - wall


def measure(layer: dict, hardware: Path, mapping: Path, repeats: int) -> dict[str, tuple[float, float]]:
    """Per side, the best (CPU, wall) of `repeats` interleaved runs."""
    runs: dict[str, list] = {side: [] for side in SIDES}
    for _ in range(repeats):  # interleaved, so that load on the machine hits every side alike
        for side in SIDES:
            runs[side].append(run_once(layer, hardware, mapping, side))
    return {side: (min(r[0] for r in found), min(r[1] for r in found)) for side, found in runs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4,
                        help="interleaved runs of plain ZigZag and of ZigZag + each correction; the best counts")
    parser.add_argument("--only", nargs="+", choices=list(CASES), help="measure only these cases")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    worst = dict.fromkeys(SIDES, -math.inf)
    print(f"{'case':19} {'zigzag cpu s':>12} {'+corr. cpu s':>12} {'overhead %':>10} {'every mapping':>13} "
          f"{'overhead %':>10} {'zigzag wall s':>13} {'+corr. wall s':>13}")
    for name in args.only or CASES:
        layer, (hardware, mapping) = CASES[name]
        best = measure(layer, hardware, mapping, args.repeat)
        plain = best["zigzag"][0]
        pct = {side: 100.0 * (best[side][0] - plain) / plain for side in SIDES}
        for side in SIDES:
            worst[side] = max(worst[side], pct[side])
        print(f"{name:19} {plain:12.2f} {best['on energy'][0]:12.2f} {pct['on energy']:10.1f} "
              f"{best['every mapping'][0]:13.2f} {pct['every mapping']:10.1f} {best['zigzag'][1]:13.2f} "
              f"{best['on energy'][1]:13.2f}", flush=True)
    print(f"every_mapping_overhead_pct={worst['every mapping']:.1f}")
    print(f"inline_overhead_pct={worst['on energy']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
