"""A lower bound on a mapping's energy that no ordering of one layer and spatial mapping can go below, for
skipping exactly (branch and bound) the operands' counts of orderings that cannot reach the best found.

A mapping's energy is the MAC energy (the same for every ordering: `evaluate.executed_macs` is order-free) plus
each operand's memory energy. An operand that only moves down (W, I) reads, at its innermost memory level, the
entries of the step tiles of each of that level's instances (`transfers.operand_traffic`, the MAC boundary):
every element an instance's processing elements use enters at least once, so the entries sum to at least D,
the distinct (instance, element) pairs over the layer, and each entry event moves at most T elements, the
largest step tile of an instance. Both are order-free: D is the entry count of one tile holding every loop,
T the largest tile of the MAC boundary (a multiset over the steps whatever the order). ZigZag's rounding of an
event of e elements to ceil(e * p / bw_min) port units then gives at least D * min over e <= T of
ceil(e * p / bw_min) / e units. Outputs have no accumulator in the MAC: their innermost level is written at
every executed step with that step's tile (`transfers._mac_boundary_outputs`), whose sizes are a multiset
over the steps whatever the order; each such write is at least the tile at the lesser of the partial and final
precisions, rounded per event. Every other level and direction is bounded by 0.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil

from zz_event.engine.evaluate import executed_macs
from zz_event.engine.result import EngineOptions
from zz_event.engine.transfers import sequence_events
from zz_event.model.nest import LoopNest
from zz_event.model.vocabulary import OPERANDS

__all__ = ["EnergyFloor", "energy_floor"]

_ENTRY = frozenset({"entry"})
_TILE = frozenset({"tile"})


class EnergyFloor:
    """The MAC energy of every ordering, and per operand the least memory energy any ordering spends."""

    def __init__(self, mac_pj: float, operand_pj: dict[str, float]) -> None:
        self.mac_pj = mac_pj
        self.operand_pj = operand_pj


def energy_floor(nest: LoopNest, options: EngineOptions) -> EnergyFloor:
    """The floor of every ordering of `nest`'s layer and spatial mapping (`nest`: any one of them)."""
    floors = {op: _reads_floor(nest, op, options.filter) if op != "O" else _writes_floor(nest, options.filter)
              for op in OPERANDS}
    return EnergyFloor(executed_macs(nest, options.filter) * nest.mac_energy, floors)


def _reads_floor(nest: LoopNest, op: str, filtered: bool) -> float:
    """The least energy of the reads down out of `op`'s innermost memory level (see the module docstring)."""
    level = nest.levels[op][0]
    port = level.ports.get("rd_out_to_low")
    if port is None:
        return 0.0
    everything = sequence_events(nest, op, len(nest.temporal), level.served, filtered, None, _ENTRY)
    distinct = int((everything.entry * everything.entry_weight).sum())
    steps = sequence_events(nest, op, 0, level.served, filtered, None, _TILE)
    largest = int(steps.tile.max()) if steps.tile.size else 0
    if not distinct or not largest:
        return 0.0
    precision = nest.precision[op]
    per_element = min(Fraction(-(-e * precision // port.bw_min), e) for e in range(1, largest + 1))
    units = ceil(distinct * per_element)
    return units * port.bw_min // port.bw_max * level.read_cost


def _writes_floor(nest: LoopNest, filtered: bool) -> float:
    """The least energy of the outputs' writes into their innermost level (see the module docstring)."""
    level = nest.levels["O"][0]
    port = level.ports.get("wr_in_by_low")
    if port is None:
        return 0.0
    steps = sequence_events(nest, "O", 0, level.served, filtered, None, _TILE)
    precision = min(nest.precision["O"], nest.precision["O_final"])
    units = int(((-(-steps.tile * precision // port.bw_min)) * steps.tile_weight).sum())
    return units * port.bw_min // port.bw_max * level.write_cost
