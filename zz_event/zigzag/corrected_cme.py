"""A ZigZag CostModelEvaluation whose costs are the engine's, with ZigZag's raw figures kept beside.

`CorrectedCME` is a real `CostModelEvaluation` subclass, so ZigZag's reduce, sum and save stages treat
it as their own: they rank, add and dump corrected values. Word accesses and MAC energy are substituted
and the energy fields are recomputed from them with the arithmetic of ZigZag's own
`calc_memory_energy_cost()`, operation for operation, so that calling it gives bit-identical values
(tests/test_engine_toy.py); done here, the hierarchy walk it repeats per mapping is done once per
accelerator. Latency fields carry the engine's latency: ZigZag's own model (`latency_total0/1/2`, on- and
off-loading, stall/slack, systolic drain) on the exact transfers (`zz_event/engine/latency.py`).

The energy fields (`energy_total`, which ZigZag's reduce stages compare first) are set at once from the
engine's results; the latency fields (`latency_total2`, which `MinimalEnergyStage` reads only on an energy
tie), the per-level records (`memory_word_access` and the two energy breakdowns) and ZigZag's raw figures
(`raw`) are built on first read: a search discards almost every CME it evaluates, and building them for
each cost more than anything else the correction does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.hardware.architecture.memory_port import DataDirection
from zigzag.mapping.data_movement import AccessEnergy, MemoryAccesses

from zz_event.engine.result import EngineResult
from zz_event.memo import LruMemo

__all__ = [
    "CorrectedCME",
    "OperandLevels",
    "correct_cme_with",
    "operand_levels",
    "raw_figures",
    "raw_state",
]

_DIRECTION_NAMES = tuple((d, str(d)) for d in DataDirection)  # enum str() is slow: once, not per level
_RD_HIGH, _WR_HIGH = DataDirection.RD_OUT_TO_HIGH, DataDirection.WR_IN_BY_HIGH
_RD_LOW, _WR_LOW = DataDirection.RD_OUT_TO_LOW, DataDirection.WR_IN_BY_LOW
# The per-level records replace these entries of the copied CME (cached properties below); a corrected
# CME corrected again must not keep its first answer's results either.
_LAZY = ("memory_word_access", "mem_energy_breakdown", "mem_energy_breakdown_further", "_energy_records", "raw",
         "zz_event_dense_data", "stall_slack_comb", "latency_total0", "latency_total1", "latency_total2",
         "data_onloading_cycle", "data_offloading_cycle", "systolic_drain_cycle", "mac_utilization0",
         "mac_utilization1", "mac_utilization2")

# Per operand name, in ZigZag's order of the layer operands, each memory level's (read, write) energy per
# word, innermost first: what `memory_energy` multiplies the word accesses by.
EnergyCosts = tuple[tuple[str, tuple[tuple[float, float], ...]], ...]


def raw_figures(cme: Any) -> dict:
    """ZigZag's own figures of a CME, in the summary.json shape."""
    return _figures(raw_state(cme))


def raw_state(cme: Any) -> tuple:
    """ZigZag's own figures of a CME, as references (the records are kept, not copied): word accesses, MACs,
    latency, energy, MAC energy, memory energy per operand and level."""
    return (cme.memory_word_access, cme.layer.total_mac_count, cme.latency_total2, cme.energy_total, cme.mac_energy,
            cme.mem_energy_breakdown)


def _figures(state: tuple) -> dict:
    word_access, macs, latency, energy, mac_energy = state[:5]
    words = {
        str(op): [{name: int(acc.data[d]) for d, name in _DIRECTION_NAMES} for acc in levels]
        for op, levels in word_access.items()
    }
    return {
        "macs": int(macs),
        "latency_cycles": float(latency),
        "energy_pj": float(energy),
        "mac_energy_pj": float(mac_energy),
        "word_accesses": words,
    }


class CorrectedCME(CostModelEvaluation):
    """Never constructed directly: see `correct_cme_with`."""

    engine: EngineResult  # the engine's result for the run's switches (`EngineOptions`)
    engine_variants: dict[str, EngineResult]  # the engine's result for each extra variant, by `EngineOptions.label`
    zz_event_raw_state: tuple  # `raw_state` of the CME before correction

    @cached_property
    def raw(self) -> dict:
        """ZigZag's own figures of this mapping: `raw_figures` of the CME before correction."""
        return _figures(self.zz_event_raw_state)

    # The latency fields: from the engine's latency, which is computed on first read (`LazyLatency`).
    @cached_property
    def stall_slack_comb(self) -> int:
        return self.engine.stall_cycles

    @cached_property
    def latency_total0(self) -> int:
        return self.engine.compute_cycles + self.engine.stall_cycles

    @cached_property
    def latency_total1(self) -> int:
        return self.latency_total0 + self.engine.onload_cycles

    @cached_property
    def latency_total2(self) -> int:
        return self.engine.latency_cycles

    @cached_property
    def data_onloading_cycle(self) -> int:
        return self.engine.onload_cycles

    @cached_property
    def data_offloading_cycle(self) -> int:
        return self.engine.offload_cycles

    @cached_property
    def systolic_drain_cycle(self) -> int:
        return self.engine.drain_cycles

    @cached_property
    def mac_utilization0(self) -> float:
        return self.ideal_cycle / max(self.latency_total0, 1)

    @cached_property
    def mac_utilization1(self) -> float:
        return self.ideal_cycle / max(self.latency_total1, 1)

    @cached_property
    def mac_utilization2(self) -> float:
        return self.ideal_cycle / max(self.latency_total2, 1)

    @cached_property
    def memory_word_access(self) -> dict:
        levels = operand_levels(self)
        return {
            layer_op: [_four_way(MemoryAccesses, {d: lc.words[name] for d, name in _DIRECTION_NAMES})
                       for lc in self.engine.levels[op]]
            for layer_op, op in levels.layer_ops
        }

    @cached_property
    def mem_energy_breakdown(self) -> dict:
        return self._energy_records[0]

    @cached_property
    def mem_energy_breakdown_further(self) -> dict:
        return self._energy_records[1]

    @cached_property
    def _energy_records(self) -> tuple[dict, dict]:
        """`calc_memory_energy_cost`'s two breakdowns, operation for operation."""
        breakdown, further = {}, {}
        costs = operand_levels(self).costs
        for layer_op, accesses in self.memory_word_access.items():
            per_level, per_level_further = [], []
            for access, (read, write) in zip(accesses, costs[layer_op]):
                words = access.data
                rd_high, wr_high, rd_low, wr_low, total = _level_energy(
                    words[_RD_HIGH], words[_WR_HIGH], words[_RD_LOW], words[_WR_LOW], read, write
                )
                per_level.append(total)
                per_level_further.append(
                    _four_way(AccessEnergy, {_RD_HIGH: rd_high, _WR_HIGH: wr_high, _RD_LOW: rd_low, _WR_LOW: wr_low})
                )
            breakdown[layer_op], further[layer_op] = per_level, per_level_further
        return breakdown, further

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


def correct_cme_with(cme: CostModelEvaluation, result: EngineResult,
                     variants: dict[str, EngineResult] | None = None) -> CorrectedCME:
    """A copy of `cme` carrying the engine's `result` (and the results of extra `variants`, by label);
    `cme` itself is left untouched."""
    corrected = CorrectedCME.__new__(CorrectedCME)
    state = corrected.__dict__
    state.update(cme.__dict__)
    for name in _LAZY:
        state.pop(name, None)
    corrected.zz_event_raw_state = raw_state(cme)
    corrected.engine, corrected.engine_variants = result, variants or {}
    corrected.mac_energy = result.mac_energy_pj
    corrected.mem_energy = memory_energy(result, operand_levels(cme).energy_costs)
    corrected.energy_total = corrected.mem_energy + corrected.mac_energy
    compute = result.compute_cycles
    corrected.ideal_temporal_cycle = compute
    corrected.mac_spatial_utilization = corrected.ideal_cycle / max(compute, 1)
    return corrected


def memory_energy(result: EngineResult, costs: EnergyCosts) -> float:
    """`calc_memory_energy_cost`'s `mem_energy` for the engine's word accesses: the same products and
    sums in the same order, without building its records."""
    energy_total = 0
    for op, levels in costs:
        for counts, (read, write) in zip(result.levels[op], levels):
            words = counts.words
            energy_total += _level_energy(words["rd_out_to_high"], words["wr_in_by_high"], words["rd_out_to_low"],
                                          words["wr_in_by_low"], read, write)[4]
    return energy_total


def _level_energy(rd_high: int, wr_high: int, rd_low: int, wr_low: int, read: float, write: float) -> tuple:
    """One level's energy per direction and in total, with `calc_memory_energy_cost`'s operations in its
    order (so that sums are bit-identical): (rd_high, wr_high, rd_low, wr_low, total)."""
    rd_high, wr_high = rd_high * read, wr_high * write
    rd_low, wr_low = rd_low * read, wr_low * write
    return rd_high, wr_high, rd_low, wr_low, (rd_high + rd_low) + (wr_high + wr_low)


def _four_way(cls, data: dict):
    """A ZigZag four-way record (MemoryAccesses, AccessEnergy) from a dict with all four directions,
    without its constructor's copy and key check: this runs for every level of every mapping read."""
    record = cls.__new__(cls)
    record.data = data
    return record


@dataclass(frozen=True)
class OperandLevels:
    """Per layer operand, its memory levels innermost first: (read, write) energies, keyed by ZigZag's
    LayerOperand, and memory names, keyed by the operand's name; `layer_ops`: (LayerOperand, name) in
    ZigZag's order of the operands."""

    costs: dict[Any, list[tuple[float, float]]]
    names: dict[str, list[str]]
    layer_ops: tuple[tuple[Any, str], ...]

    @property
    def energy_costs(self) -> EnergyCosts:
        return tuple((name, tuple(self.costs[op])) for op, name in self.layer_ops)


_OPERAND_LEVELS = LruMemo(16)


def operand_levels(cme: Any) -> OperandLevels:
    """The memory levels of a CME's operands, walked once per accelerator and operand links (the walk
    costs more than what a mapping does with it). Entries keep both objects alive, so ids stay theirs."""
    accelerator, links = cme.accelerator, cme.memory_operand_links

    def build():
        hierarchy = accelerator.memory_hierarchy
        # ZigZag's order of the operands (`calc_memory_word_access`): energy sums follow it.
        levels = {op: hierarchy.get_memory_levels(mem_op=links.layer_to_mem_op(op)) for op in cme.layer.layer_operands}
        costs = {op: [(ml.read_energy, ml.write_energy) for ml in mls] for op, mls in levels.items()}
        names = {str(op): [ml.name for ml in mls] for op, mls in levels.items()}
        return accelerator, links, OperandLevels(costs, names, tuple((op, str(op)) for op in levels))

    return _OPERAND_LEVELS.get_or((id(accelerator), id(links)), build)[2]
