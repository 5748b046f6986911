"""What events from data cost: a search ranked on data, and one mapping costed on many samples.

1. LeNet-5 conv2 (input-centric) on the toy core, LOMA lpf 6: CPU time of this process (and wall time) of
   ZigZag's search with the correction inline (in this process: no work on another core)
   ranking every mapping on the mean over 16 samples, against the same search without data, interleaved in
   the same run, best of `--repeat`.
2. Whole LeNet-5 (28x28, padding 2): the chosen mapping of every layer (from a search without data) costed
   on 1000 samples: seconds of the activations (ONNX reference evaluator) and of the engine.

The samples are synthetic digit-like images (a few thick random strokes on a 28x28 canvas, seeded): the
repository holds no MNIST and fetches no data set. Last line: `data_overhead_x=<ratio of best CPU times>`
(target at most 3); the line before it: `samples_1000_s=<engine CPU seconds for 1000 samples, whole LeNet-5>`
(target at most 30).

    python benchmarks/data_overhead.py [--repeat N] [--samples N]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

from zz_event.engine.evaluate import clear_caches, evaluate_samples
from zz_event.engine.result import EngineOptions
from zz_event.engine.walk import warm_up
from zz_event.readers.activations import layer_masks
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import EventDrivenCorrectionStage

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "inputs/lenet5/lenet5_pad2_28.onnx"
HARDWARE, MAPPING = ROOT / "inputs/toy/hardware.yaml", ROOT / "inputs/toy/mapping_lenet5.yaml"
CONV2 = {
    "id": 0, "name": "conv2", "operator_type": "Conv",
    "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
    "dimension_relations": ["ox=1*ix+1*fx", "oy=1*iy+1*fy"],
    "loop_dims": ["B", "K", "C", "IY", "IX", "FY", "FX"],
    "loop_sizes": [1, 16, 6, 14, 14, 5, 5],
    "operand_precision": {"W": 8, "I": 8, "O": 16, "O_final": 8},
    "operand_source": {"I": 0, "W": 0},
}


def digits(n: int, seed: int = 17) -> np.ndarray:
    """`n` digit-like 28x28 images: 2-4 strokes of a random walk, 2-3 pixels thick, in the central 20x20."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 1, 28, 28), dtype=np.float32)
    for image in images[:, 0]:
        for _ in range(rng.integers(2, 5)):
            y, x = rng.integers(6, 22, size=2).astype(float)
            angle = rng.uniform(0, 2 * np.pi)
            for _ in range(rng.integers(6, 14)):
                angle += rng.normal(0, 0.4)
                y, x = np.clip(y + np.sin(angle), 4, 23), np.clip(x + np.cos(angle), 4, 23)
                width = int(rng.integers(1, 3))
                image[int(y) - 1:int(y) + width, int(x) - 1:int(x) + width] = rng.uniform(0.5, 1.0)
    return images


def search(masks: dict) -> tuple[float, float, list]:
    """(wall s, CPU s of this process, cmes) of one cold LOMA search of conv2, the correction inline."""
    clear_caches()
    settings = RunSettings(opt="energy", loma_show_progress_bar=False, lpf_limit=6)
    stages = build_stages(settings, [EventDrivenCorrectionStage])
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as out:
        cmes = main_stage(stages, settings, CorrectionSettings(masks=masks), accelerator=str(HARDWARE),
                          workload=[CONV2], mapping=str(MAPPING), dump_folder=out,
                          pickle_filename=f"{out}/cmes.pickle").run()
    return time.perf_counter() - wall, time.process_time() - cpu, cmes


def chosen_nests() -> dict:
    """The chosen mapping of every corrected LeNet-5 layer, from a search without data."""
    from zz_event import layer_results, run_zigzag_event_driven
    from zz_event.readers.workloads import load_workload
    from zz_event.zigzag.adapter import context_of_cme, mapping_of_cme

    with tempfile.TemporaryDirectory() as out:
        _, _, cmes = run_zigzag_event_driven(str(MODEL), str(HARDWARE), str(MAPPING), opt="energy", dump_folder=out,
                                             loma_show_progress_bar=False)
    prepared = load_workload(str(MODEL))
    return {layer.name: context_of_cme(layer.cme, prepared.geometry[layer.name], "input")
            .nest(mapping_of_cme(layer.cme)) for layer in layer_results(cmes) if layer.corrected}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="interleaved searches with and without data")
    parser.add_argument("--samples", type=int, default=1000, help="samples costed on the chosen mappings")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    model = onnx.load(str(MODEL))
    images = digits(max(args.samples, 16))
    t0 = time.perf_counter()
    per_layer = layer_masks(model, images)
    activations_s = time.perf_counter() - t0
    conv2 = per_layer["conv2"][:16].reshape(16, 1, 1, 6, 14, 14)
    print(f"conv2 input density over 16 samples: {conv2.mean():.3f}")
    warm_up()  # numba and the compiled pass load once per process, not per search
    plain, data = [], []
    for _ in range(args.repeat):
        plain.append(search({}))
        data.append(search({"conv2": conv2}))
    best_plain, best_data = min(p[1] for p in plain), min(d[1] for d in data)
    print(f"search without data: {best_plain:.1f} s CPU ({min(p[0] for p in plain):.1f} s wall), inline")
    print(f"search ranked on 16 samples: {best_data:.1f} s CPU ({min(d[0] for d in data):.1f} s wall), inline")
    nests = chosen_nests()
    t0, cpu0 = time.perf_counter(), time.process_time()
    for name, nest in nests.items():
        g = nest.geometry
        masks = per_layer[name][: args.samples].reshape(-1, g.B, g.G, g.C, g.y.inp, g.x.inp)
        for at in range(0, len(masks), 64):  # as zz_event.zigzag.data.cost_on_samples does
            evaluate_samples(nest, EngineOptions(), masks[at:at + 64])
    engine_s, engine_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"activations of {len(images)} samples (ONNX reference evaluator): {activations_s:.1f} s")
    print(f"chosen mappings of {len(nests)} LeNet-5 layers on {args.samples} samples: {engine_s:.1f} s wall, "
          f"{engine_cpu:.1f} s CPU")
    print(f"samples_{args.samples}_s={engine_cpu:.1f}")  # CPU: the machines are shared
    print(f"data_overhead_x={best_data / best_plain:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
