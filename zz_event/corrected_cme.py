"""A ZigZag CostModelEvaluation whose costs are the engine's, with ZigZag's raw figures kept beside.

`CorrectedCME` is a real `CostModelEvaluation` subclass, so ZigZag's reduce, sum and save stages treat
it as their own: they rank, add and dump corrected values. Word accesses and MAC energy are substituted
and ZigZag's own `calc_memory_energy_cost()` recomputes the energy from them; latency fields carry the
engine's latency (ZigZag's latency does not read access counts).
"""

from __future__ import annotations

from typing import Any

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.mapping.data_movement import MemoryAccesses
from zigzag.hardware.architecture.memory_port import DataDirection

from zz_event.engine.result import EngineResult

__all__ = ["CorrectedCME", "raw_figures", "correct_cme_with"]


def raw_figures(cme: Any) -> dict:
    """ZigZag's own figures of a CME, in the summary.json shape."""
    words = {
        str(op): [{str(d): int(acc.get(d)) for d in DataDirection} for acc in levels]
        for op, levels in cme.memory_word_access.items()
    }
    return {
        "macs": int(cme.layer.total_mac_count),
        "latency_cycles": float(cme.latency_total2),
        "energy_pj": float(cme.energy_total),
        "mac_energy_pj": float(cme.mac_energy),
        "word_accesses": words,
    }


class CorrectedCME(CostModelEvaluation):
    """Never constructed directly: see `correct_cme_with`."""

    raw: dict
    engine: EngineResult
    engine_variants: dict[str, EngineResult]

    def __jsonrepr__(self):
        base = super().__jsonrepr__()
        base["zz_event"] = {
            "raw_zigzag": self.raw,
            "event_driven": {
                "macs": self.engine.macs,
                "compute_cycles": self.engine.compute_cycles,
                "latency_cycles": self.engine.latency_cycles,
                "energy_pj": self.engine.energy_pj,
                "options": {"filter": self.engine.options.filter, "readiness": self.engine.options.readiness},
            },
        }
        return base


def correct_cme_with(cme: CostModelEvaluation, result: EngineResult, variants: dict[str, EngineResult]) -> CorrectedCME:
    """A copy of `cme` carrying `result`'s costs; `cme` itself is left untouched."""
    corrected = CorrectedCME.__new__(CorrectedCME)
    corrected.__dict__.update(cme.__dict__)
    corrected.raw = raw_figures(cme)
    corrected.engine = result
    corrected.engine_variants = variants
    by_name = {d.value: d for d in DataDirection}
    words: dict = {}
    for layer_op in cme.memory_word_access:
        levels = result.levels[str(layer_op)]
        words[layer_op] = [MemoryAccesses({by_name[d]: n for d, n in lc.words.items()}) for lc in levels]
    corrected.memory_word_access = words
    corrected.mac_energy = result.mac_energy_pj
    corrected.calc_memory_energy_cost()
    compute = result.compute_cycles
    corrected.latency_total0 = compute + result.stall_cycles
    corrected.latency_total1 = corrected.latency_total0 + result.onload_cycles
    corrected.latency_total2 = result.latency_cycles
    corrected.data_onloading_cycle = result.onload_cycles
    corrected.data_offloading_cycle = result.offload_cycles
    corrected.ideal_temporal_cycle = compute
    corrected.systolic_drain_cycle = 0
    corrected.mac_spatial_utilization = corrected.ideal_cycle / max(compute, 1)
    corrected.mac_utilization0 = corrected.ideal_cycle / max(corrected.latency_total0, 1)
    corrected.mac_utilization1 = corrected.ideal_cycle / max(corrected.latency_total1, 1)
    corrected.mac_utilization2 = corrected.ideal_cycle / max(corrected.latency_total2, 1)
    return corrected
