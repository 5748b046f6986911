"""A ZigZag CostModelEvaluation whose costs are the engine's, with ZigZag's raw figures kept beside.

`CorrectedCME` is a real `CostModelEvaluation` subclass, so ZigZag's reduce, sum and save stages treat
it as their own: they rank, add and dump corrected values. Word accesses and MAC energy are substituted
and the energy fields are recomputed from them with the arithmetic of ZigZag's own
`calc_memory_energy_cost()`, operation for operation, so that calling it gives bit-identical values
(tests/test_engine_toy.py); done here, the hierarchy walk it repeats per mapping is done once per
accelerator. Latency fields carry the engine's latency (ZigZag's latency does not read access counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.mapping.data_movement import AccessEnergy, MemoryAccesses
from zigzag.hardware.architecture.memory_port import DataDirection

from zz_event.engine.result import EngineResult
from zz_event.memo import LruMemo

__all__ = ["CorrectedCME", "raw_figures", "correct_cme_with", "OperandLevels", "operand_levels"]

_DIRECTION_NAMES = tuple((d, str(d)) for d in DataDirection)  # enum str() is slow: once, not per level


def raw_figures(cme: Any) -> dict:
    """ZigZag's own figures of a CME, in the summary.json shape."""
    words = {
        str(op): [{name: int(acc.data[d]) for d, name in _DIRECTION_NAMES} for acc in levels]
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
    words: dict = {}
    for layer_op in cme.memory_word_access:
        levels = result.levels[str(layer_op)]
        words[layer_op] = [_four_way(MemoryAccesses, {d: lc.words[name] for d, name in _DIRECTION_NAMES}) for lc in levels]
    corrected.memory_word_access = words
    corrected.mac_energy = result.mac_energy_pj
    _memory_energy(corrected)
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


def _four_way(cls, data: dict):
    """A ZigZag four-way record (MemoryAccesses, AccessEnergy) from a dict with all four directions,
    without its constructor's copy and key check: this runs for every level of every mapping."""
    record = cls.__new__(cls)
    record.data = data
    return record


_RD_HIGH, _WR_HIGH = DataDirection.RD_OUT_TO_HIGH, DataDirection.WR_IN_BY_HIGH
_RD_LOW, _WR_LOW = DataDirection.RD_OUT_TO_LOW, DataDirection.WR_IN_BY_LOW
@dataclass(frozen=True)
class OperandLevels:
    """Per layer operand, its memory levels innermost first: (read, write) energies, keyed by ZigZag's
    LayerOperand, and memory names, keyed by the operand's name."""

    costs: dict[Any, list[tuple[float, float]]]
    names: dict[str, list[str]]


_OPERAND_LEVELS = LruMemo(16)


def operand_levels(cme: Any) -> OperandLevels:
    """The memory levels of a CME's operands, walked once per accelerator and operand links (the walk
    costs more than what a mapping does with it). Entries keep both objects alive, so ids stay theirs."""
    accelerator, links = cme.accelerator, cme.memory_operand_links

    def build():
        hierarchy = accelerator.memory_hierarchy
        levels = {op: hierarchy.get_memory_levels(mem_op=links.layer_to_mem_op(op)) for op in cme.memory_word_access}
        costs = {op: [(ml.read_energy, ml.write_energy) for ml in mls] for op, mls in levels.items()}
        names = {str(op): [ml.name for ml in mls] for op, mls in levels.items()}
        return accelerator, links, OperandLevels(costs, names)

    return _OPERAND_LEVELS.get_or((id(accelerator), id(links)), build)[2]


def _memory_energy(cme: CostModelEvaluation) -> None:
    """`CostModelEvaluation.calc_memory_energy_cost`, with the level costs looked up once per accelerator."""
    costs = operand_levels(cme).costs
    breakdown, further, energy_total = {}, {}, 0
    for layer_op, accesses in cme.memory_word_access.items():
        per_level, per_level_further = [], []
        for access, (read, write) in zip(accesses, costs[layer_op]):
            rd_high, wr_high = access.get(_RD_HIGH) * read, access.get(_WR_HIGH) * write
            rd_low, wr_low = access.get(_RD_LOW) * read, access.get(_WR_LOW) * write
            total = (rd_high + rd_low) + (wr_high + wr_low)
            per_level.append(total)
            per_level_further.append(
                _four_way(AccessEnergy, {_RD_HIGH: rd_high, _WR_HIGH: wr_high, _RD_LOW: rd_low, _WR_LOW: wr_low})
            )
            energy_total += total
        breakdown[layer_op], further[layer_op] = per_level, per_level_further
    cme.mem_energy_breakdown = breakdown
    cme.mem_energy_breakdown_further = further
    cme.mem_energy = energy_total
    cme.energy_total = cme.mem_energy + cme.mac_energy
