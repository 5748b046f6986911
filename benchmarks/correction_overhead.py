"""How much time the event-driven correction adds to ZigZag's own search.

For LeNet-5 conv1 and conv2 (input-centric), on the toy 8-MAC accelerator and on ZigZag's tpu_like, LOMA
lpf_limit 6: wall time of ZigZag's own search, and of the same search with the correction stage (in a
worker process overlapped with ZigZag, the default on 2+ cores; and inline, for reference), interleaved
and best of `--repeat` (10; inline, which the target does not read, of `--inline-repeat`, 2), in the same
run: the machines are shared, and load only ever adds time. The added time is the difference. The worst
of four differences of best times reads high as soon as one of its eight best times was disturbed in
every repeat (on these machines a run's time swings by up to a third): ten repeats make that rarer than
six did, in about the same time, as the slow inline runs are repeated less. The overlap needs an idle
second core: on a loaded machine the worker column can be the slower one.
Last line: `overhead_pct=<worst case over the four runs>` (target: at most 10).

    python benchmarks/correction_overhead.py [--repeat N] [--inline-repeat N]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from zz_event.engine.evaluate import clear_caches
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import EventDrivenCorrectionStage
from zz_event.zigzag.worker import end_workers

ROOT = Path(__file__).resolve().parent.parent


def conv_layer(name: str, k: int, c: int, size: int) -> dict:
    return {
        "id": 0, "name": name, "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": ["ox=1*ix+1*fx", "oy=1*iy+1*fy"],
        "loop_dims": ["B", "K", "C", "IY", "IX", "FY", "FX"],
        "loop_sizes": [1, k, c, size, size, 5, 5],
        "operand_precision": {"W": 8, "I": 8, "O": 16, "O_final": 8},
        "operand_source": {"I": 0, "W": 0},
    }


LAYERS = {"conv1": conv_layer("conv1", 6, 1, 32), "conv2": conv_layer("conv2", 16, 6, 14)}
HARDWARE = {
    "toy": (ROOT / "inputs/toy/hardware.yaml", ROOT / "inputs/toy/mapping_lenet5.yaml"),
    "tpu_like": (ROOT / "inputs/tpu_like/hardware.yaml", ROOT / "inputs/tpu_like/mapping.yaml"),
}


def run_once(layer: dict, hardware: Path, mapping: Path, correction: list, workers: int) -> float:
    """Wall time of one ZigZag search of the layer, with the given stages above the mapping generator.
    Cold: no worker process or engine memo is left warm by an earlier run (the memo would otherwise
    answer a repeated search almost for free)."""
    end_workers()
    clear_caches()
    settings = RunSettings(opt="energy", loma_show_progress_bar=False)
    stages = build_stages(settings, correction)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        main_stage(stages, settings, CorrectionSettings(workers=workers), accelerator=str(hardware), workload=[layer],
                   mapping=str(mapping), dump_folder=out, pickle_filename=f"{out}/cmes.pickle").run()
    return time.perf_counter() - t0


def measure(layer: dict, hardware: Path, mapping: Path, repeats: int,
            inline_repeats: int) -> tuple[float, float, float]:
    """Best wall times of `repeats` runs of plain ZigZag and of ZigZag + correction in a worker, and of
    `inline_repeats` runs of ZigZag + correction inline."""
    plain, worker, inline = [], [], []
    for i in range(max(repeats, inline_repeats)):  # interleaved, so that load on the machine hits all alike
        if i < repeats:
            plain.append(run_once(layer, hardware, mapping, [], 0))
            worker.append(run_once(layer, hardware, mapping, [EventDrivenCorrectionStage], 1))
        if i < inline_repeats:
            inline.append(run_once(layer, hardware, mapping, [EventDrivenCorrectionStage], 0))
    return min(plain), min(worker), min(inline)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10,
                        help="interleaved runs of plain ZigZag and of ZigZag + correction; the best counts")
    parser.add_argument("--inline-repeat", type=int, default=2, help="runs with the correction inline (reference)")
    args = parser.parse_args()
    if args.repeat < 1 or args.inline_repeat < 1:
        parser.error("--repeat and --inline-repeat must be at least 1")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    worst = 0.0
    print(f"{'layer':6} {'hardware':9} {'zigzag s':>9} {'+corr. s':>9} {'overhead %':>10} "
          f"{'inline s':>9} {'inline %':>9}")
    for hw_name, (hardware, mapping) in HARDWARE.items():
        for layer_name, layer in LAYERS.items():
            plain, worker, inline = measure(layer, hardware, mapping, args.repeat, args.inline_repeat)
            pct = 100.0 * (worker - plain) / plain  # the default on 2+ cores: a worker process
            worst = max(worst, pct)
            inline_pct = 100 * (inline - plain) / plain
            print(f"{layer_name:6} {hw_name:9} {plain:9.2f} {worker:9.2f} {pct:10.1f} {inline:9.2f} {inline_pct:9.1f}")
    print(f"overhead_pct={worst:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
