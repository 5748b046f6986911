"""How much time the event-driven correction adds to ZigZag's own search.

For LeNet-5 conv1 and conv2 (input-centric), on the toy 8-MAC accelerator and on ZigZag's tpu_like, LOMA
lpf_limit 6: one run each, timing ZigZag's own work (temporal-mapping generation and cost-model evaluation,
i.e. everything below the correction stage) and the correction separately, in the same run.
Last line: `overhead_pct=<worst case over the four runs>` (target: at most 10).

    python benchmarks/correction_overhead.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

from zigzag.mapping.temporal_mapping import TemporalMappingType
from zigzag.stages.main import MainStage

from zz_event.engine.result import EngineOptions
from zz_event.pipeline import RunSettings, build_stages
from zz_event.zigzag_stages import EventDrivenCorrectionStage, correct_cme

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


class TimedCorrectionStage(EventDrivenCorrectionStage):
    """The correction stage, with the time spent below it (ZigZag) and in it (correction) accumulated."""

    zigzag_s = 0.0
    correction_s = 0.0
    evaluations = 0

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        iterator = iter(substage.run())
        while True:
            t0 = time.perf_counter()
            try:
                cme, extra = next(iterator)
            except StopIteration:
                TimedCorrectionStage.zigzag_s += time.perf_counter() - t0
                return
            t1 = time.perf_counter()
            corrected = correct_cme(cme, self.options, self.geometries.get(cme.layer.name), self.variants)
            t2 = time.perf_counter()
            TimedCorrectionStage.zigzag_s += t1 - t0
            TimedCorrectionStage.correction_s += t2 - t1
            TimedCorrectionStage.evaluations += 1
            yield corrected, extra


def measure(layer: dict, hardware: Path, mapping: Path) -> tuple[float, float, int]:
    TimedCorrectionStage.zigzag_s = TimedCorrectionStage.correction_s = 0.0
    TimedCorrectionStage.evaluations = 0
    stages = build_stages(RunSettings(opt="energy", loma_show_progress_bar=False), [TimedCorrectionStage])
    with tempfile.TemporaryDirectory() as out:
        MainStage(
            stages, accelerator=str(hardware), workload=[layer], mapping=str(mapping), dump_folder=out,
            pickle_filename=f"{out}/cmes.pickle", loma_lpf_limit=6, loma_show_progress_bar=False,
            nb_mappings_generated=3, enable_mix_spatial_mapping_generation=False,
            access_same_data_considered_as_no_access=True, temporal_mapping_type=TemporalMappingType("uneven"),
            zz_event_options=EngineOptions(), zz_event_geometries={}, zz_event_variants=(),
        ).run()
    return TimedCorrectionStage.zigzag_s, TimedCorrectionStage.correction_s, TimedCorrectionStage.evaluations


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    worst = 0.0
    print(f"{'layer':6} {'hardware':9} {'mappings':>8} {'zigzag s':>9} {'correction s':>12} {'ms/mapping':>10} {'overhead %':>10}")
    for hw_name, (hardware, mapping) in HARDWARE.items():
        for layer_name, layer in LAYERS.items():
            zigzag_s, correction_s, n = measure(layer, hardware, mapping)
            pct = 100.0 * correction_s / zigzag_s
            worst = max(worst, pct)
            print(f"{layer_name:6} {hw_name:9} {n:8d} {zigzag_s:9.2f} {correction_s:12.2f} {1e3 * correction_s / n:10.2f} {pct:10.1f}")
    print(f"overhead_pct={worst:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
