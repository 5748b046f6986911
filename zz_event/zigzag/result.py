"""One layer's result of a zz-event run, read the same way by every consumer.

    from zz_event import run_zigzag_event_driven, layer_results
    energy, latency, cmes = run_zigzag_event_driven(workload, accelerator, mapping)
    for layer in layer_results(cmes):
        print(layer.name, layer.zigzag.macs, layer.event_driven.macs, layer.event_driven.energy_pj)

A `LayerResult` holds ZigZag's own figures of the chosen mapping (`zigzag`), the engine's figures for each
switch setting the run evaluated (`engine`, by variant label; `ranked` names the one ZigZag ranked on),
the mapping itself, and the CostModelEvaluation it was read from. `summary.json`, the report and Stream's
per-node costs are made from it. With data (`run_zigzag_event_driven(..., data=...)`) the engine's figures
are the mean over the calibration samples the search ranked on, and `samples` holds the chosen mapping's
exact results on every sample (`data` summarises them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zz_event.engine.result import EngineResult
from zz_event.model.vocabulary import DIRECTIONS
from zz_event.zigzag.corrected_cme import CorrectedCME, operand_levels, raw_state

__all__ = ["Figures", "LayerResult", "layer_result", "layer_results"]


@dataclass(frozen=True)
class Figures:
    """One costing of one layer's mapping.

    `word_accesses`: per operand (ZigZag's names), per memory level innermost first, a dict of the memory's
    name and the word accesses in ZigZag's four directions (as ZigZag reports them: raw ZigZag's may be
    fractional). `compute_cycles` is the engine's (None for ZigZag's own figures)."""

    macs: int
    latency_cycles: float
    energy_pj: float
    mac_energy_pj: float
    operand_energy_pj: dict[str, float]
    word_accesses: dict[str, tuple[dict[str, Any], ...]]
    compute_cycles: int | None = None

    def words(self, operand: str) -> int:
        """All word accesses of `operand`, every level and direction."""
        return round(sum(float(level[d]) for level in self.word_accesses.get(operand, ()) for d in DIRECTIONS))


@dataclass(frozen=True)
class LayerResult:
    """A layer of a run: ZigZag's figures and, when corrected, the engine's (see the module docstring)."""

    name: str
    corrected: bool
    uncorrected_reason: str | None
    temporal_ordering: tuple[tuple[str, int], ...]  # innermost first
    spatial_mapping: dict[str, dict[str, float]]  # operational-array dimension -> {loop dimension: unrolling}
    zigzag: Figures
    engine: dict[str, Figures]
    ranked: str | None  # the variant label ZigZag ranked mappings on; None when uncorrected
    cme: Any = field(repr=False, compare=False)
    samples: Any = field(default=None, repr=False, compare=False)  # zz_event.zigzag.data.SampleResults

    @property
    def data(self) -> dict | None:
        """`summary.json`'s `event_driven_data` block, or None for a run without data."""
        if self.samples is None:
            return None
        from zz_event.engine.samples import sample_statistics  # noqa: PLC0415

        return {**sample_statistics(list(self.samples), self.samples.densities),
                "calibration_samples": self.samples.calibration}

    @property
    def event_driven(self) -> Figures:
        """The figures ZigZag ranked on: the engine's, or ZigZag's own for an uncorrected layer."""
        return self.engine[self.ranked] if self.ranked is not None else self.zigzag


def layer_results(cmes: list) -> list[LayerResult]:
    """The per-layer results of a `run_zigzag_event_driven` (or ZigZag) result list, in workload order."""
    return [layer_result(cme) for _total, per_layer in cmes for cme, _extra in per_layer]


def layer_result(cme: Any) -> LayerResult:
    """The `LayerResult` of one layer's CME (a `CorrectedCME`, or ZigZag's own for an uncorrected layer)."""
    corrected = isinstance(cme, CorrectedCME)
    memories = operand_levels(cme).names
    engine: dict[str, Figures] = {}
    if corrected:
        engine[cme.engine.options.label] = _ranked_figures(cme, memories)
        engine.update({label: _engine_figures(result) for label, result in cme.engine_variants.items()})
    levels = next(iter(cme.temporal_mapping.mapping_dic_origin.values()))
    return LayerResult(
        name=cme.layer.name,
        corrected=corrected,
        uncorrected_reason=None if corrected else getattr(cme, "zz_event_uncorrected", "not corrected"),
        temporal_ordering=tuple((str(d), int(round(s))) for level in levels for d, s in level),
        spatial_mapping={str(oa): {str(d): s for d, s in single.items()}
                         for oa, single in cme.layer.spatial_mapping.items()},
        zigzag=_zigzag_figures(cme.zz_event_raw_state if corrected else raw_state(cme), memories),
        engine=engine,
        ranked=cme.engine.options.label if corrected else None,
        cme=cme,
        samples=getattr(cme, "zz_event_samples", None),
    )


def _levels(records: list, names: list[str]) -> tuple[dict[str, Any], ...]:
    return tuple({"memory": names[j], **{d: record.data[k] for d, k in _directions(record)}}
                 for j, record in enumerate(records))


def _directions(record: Any) -> list[tuple[str, Any]]:
    """ZigZag's four-way record keys by their string names, in DIRECTIONS order."""
    by_name = {str(key): key for key in record.data}
    return [(d, by_name[d]) for d in DIRECTIONS]


def _zigzag_figures(state: tuple, memories: dict[str, list[str]]) -> Figures:
    word_access, macs, latency, energy, mac_energy, breakdown = state
    return Figures(
        macs=int(macs),
        latency_cycles=float(latency),
        energy_pj=float(energy),
        mac_energy_pj=float(mac_energy),
        operand_energy_pj={str(op): float(sum(levels)) for op, levels in breakdown.items()},
        word_accesses={str(op): _levels(levels, memories[str(op)]) for op, levels in word_access.items()},
    )


def _ranked_figures(cme: CorrectedCME, memories: dict[str, list[str]]) -> Figures:
    """The engine's figures for the switches ZigZag ranked on, as the corrected CME carries them (its energy
    summed in ZigZag's order of operations, so that it equals ZigZag's reading of the CME to the bit)."""
    result = cme.engine
    return Figures(
        macs=result.macs,
        latency_cycles=result.latency_cycles,
        energy_pj=float(cme.energy_total),
        mac_energy_pj=float(cme.mac_energy),
        operand_energy_pj={str(op): float(sum(levels)) for op, levels in cme.mem_energy_breakdown.items()},
        word_accesses={op: tuple({"memory": memories[op][j], **lc.words} for j, lc in enumerate(result.levels[op]))
                       for _layer_op, op in operand_levels(cme).layer_ops},
        compute_cycles=result.compute_cycles,
    )


def _engine_figures(result: EngineResult) -> Figures:
    return Figures(
        macs=result.macs,
        latency_cycles=result.latency_cycles,
        energy_pj=float(result.energy_pj),
        mac_energy_pj=float(result.mac_energy_pj),
        operand_energy_pj={op: float(sum(lc.energy_pj for lc in levels)) for op, levels in result.levels.items()},
        word_accesses={op: tuple({"memory": lc.memory, **lc.words} for lc in levels)
                       for op, levels in result.levels.items()},
        compute_cycles=result.compute_cycles,
    )
