"""The numbers of "When event-driven wins": each layer's chosen mappings costed exactly on data, per sample.

Costings (``DATA_COSTINGS``): ``event-driven`` (the event row's input-centric mapping, zero inputs skipped by
construction: ``evaluate(nest, mask=...)``) and the frame-based weight- and output-stationary rows' mappings
under each zero handling of ``zz_event.engine.baselines`` (``frame-WS dense``, ``frame-WS gating``, ...). Every
figure is the engine's exact count on one sample; the mappings are the report's dense-best ones (a core's
dataflow is fixed before the data arrives), so costings differ only in how they treat zeros.

Units of work (plain functions of picklable arguments, run in the report's worker processes):

- `sample_table`: the costings on given samples' masks;
- `sweep_table`: the costings at each target density, with the real data thinned or thickened
  (``clustered``) and with random masks of the same density (``random``), ``zz_event.report.density``;
- `density_model_table`: the event-driven costing on random masks of the layer's mean real density,
  sample for sample (what a density-only model would assume).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zz_event.engine.baselines import BASELINES, frame_baselines
from zz_event.engine.evaluate import evaluate_samples
from zz_event.engine.result import EngineOptions, EngineResult
from zz_event.model.nest import LoopNest
from zz_event.model.vocabulary import FRAME_COSTINGS, OPERANDS
from zz_event.report.density import clustered_masks, random_masks

__all__ = ["DATA_COSTINGS", "EVENT_DRIVEN_COSTING", "FIGURES", "LayerNests", "density_model_table",
           "sample_table", "sweep_table"]

EVENT_DRIVEN_COSTING = "event-driven"
DATA_COSTINGS = (EVENT_DRIVEN_COSTING, *(f"{frame} {kind}" for frame in FRAME_COSTINGS for kind in BASELINES))
ENERGY_PARTS = ("MAC", *OPERANDS)
FIGURES = ("macs", "latency_cycles", "energy_pj", *(f"{part}_pj" for part in ENERGY_PARTS))


@dataclass(frozen=True)
class LayerNests:
    """One layer's chosen mappings: the event row's (input-centric) and the frame rows' (output-centric)."""

    layer: str
    event: LoopNest
    frames: dict[str, LoopNest]  # FRAME_COSTINGS -> nest


def sample_table(nests: LayerNests, masks: np.ndarray, first_sample: int = 0) -> pd.DataFrame:
    """One row per (costing, sample) of ``masks`` (S, B, G, C, IY, IX): density and ``FIGURES``; samples are
    numbered from ``first_sample``."""
    frames = []
    for costing, results in _costings(nests, masks).items():
        frame = _figures(results, masks, first_sample)
        frame.insert(0, "costing", costing)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "layer", nests.layer)
    return table


def sweep_table(nests: LayerNests, values: np.ndarray, densities: tuple[float, ...], seed: int) -> pd.DataFrame:
    """``sample_table`` at every target density of ``densities``, on ``values`` (S, B, G, C, IY, IX: the real
    inputs) thinned or thickened (``masks`` = clustered) and on random masks of the same density."""
    rng = np.random.default_rng(seed)
    frames = []
    for density in densities:
        for kind, masks in (("clustered", clustered_masks(values, density, rng)),
                            ("random", random_masks(values.shape, density, rng))):  # fmt: skip
            frame = sample_table(nests, masks)
            frame.insert(1, "masks", kind)
            frame.insert(2, "target_density", density)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def density_model_table(nests: LayerNests, real_masks: np.ndarray, density: float, seed: int,
                        first_sample: int = 0) -> pd.DataFrame:
    """The event-driven costing on random masks of ``density`` (the layer's mean real density), one per sample
    of ``real_masks`` (what a density number predicts for the same samples)."""
    masks = random_masks(real_masks.shape, density, np.random.default_rng(seed))
    frame = _figures(evaluate_samples(nests.event, EngineOptions(), masks), masks, first_sample)
    frame.insert(0, "layer", nests.layer)
    return frame


def _costings(nests: LayerNests, masks: np.ndarray) -> dict[str, list[EngineResult]]:
    out = {EVENT_DRIVEN_COSTING: evaluate_samples(nests.event, EngineOptions(), masks)}
    for frame in FRAME_COSTINGS:
        for kind in BASELINES:
            out[f"{frame} {kind}"] = frame_baselines(nests.frames[frame], kind, masks)
    return out


def _figures(results: list[EngineResult], masks: np.ndarray, first_sample: int) -> pd.DataFrame:
    """Per sample: its number (from ``first_sample``), its input density and ``FIGURES``."""
    columns: dict[str, list] = {"sample": list(range(first_sample, first_sample + len(masks))),
                                "density": list(masks.reshape(len(masks), -1).mean(axis=1))}
    columns |= {name: [] for name in FIGURES}
    for r in results:
        columns["macs"].append(r.macs)
        columns["latency_cycles"].append(r.latency_cycles)
        columns["energy_pj"].append(r.energy_pj)
        columns["MAC_pj"].append(r.mac_energy_pj)
        for op in OPERANDS:
            columns[f"{op}_pj"].append(sum(lc.energy_pj for lc in r.levels[op]))
    return pd.DataFrame(columns)
