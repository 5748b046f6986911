"""Mappings that cannot be ZigZag's pick on energy, skipped before ZigZag evaluates them (branch and bound).

ZigZag's `MinimalEnergyStage` keeps, of the CMEs handed up to it, one of least `energy_total` (on a tie, of least
`latency_total2`). Directly below it, a mapping whose corrected energy is sure to exceed the least energy handed up
so far cannot be that one: ZigZag need not evaluate it (`stages.SkippingCostModelStage` asks before it builds the
CME) nor the correction correct it, and the reducer keeps the CME it would keep if every mapping were corrected.
Sure by a lower bound (`engine.energy_floor`, the search's): the MAC energy, which every ordering shares, plus per
operand the least memory energy any ordering of the layer and spatial mapping spends, raised for W and I where the
mapping's innermost loops renew their tiles. Where that does not rule the mapping out, the operands are counted one
by one, each count taking its floor's place, until the bound rules it out or every operand is counted: first the
one whose count has lately risen most above its bound per second of counting (a decaying mean; one not counted yet
comes first); the counts are the engine's memoised ones, so correcting a mapping that survives counts nothing twice.

The bound sums its terms in the engine's order (`evaluate.energy_pj`), a CME's energy in ZigZag's
(`corrected_cme.memory_energy`): sums of the same few dozen non-negative terms in two orders differ by far less
than a relative 1e-12, so a mapping is ruled out only where the bound exceeds the least by more than that.

Only on dense data: events from data make an input that is zero trigger nothing, so counts fall below the dense
floor. A layer ranked on data is corrected whole.
"""

from __future__ import annotations

import math
import time

from zz_event.engine.energy_floor import EnergyFloor, energy_floor
from zz_event.engine.evaluate import operand_costs
from zz_event.engine.result import EngineOptions
from zz_event.model.nest import LoopNest
from zz_event.model.vocabulary import OPERANDS

__all__ = ["EnergyThreshold"]

_MARGIN = 1e-12  # relative: see the module docstring


class EnergyThreshold:
    """The least energy handed up to ZigZag's reducer so far, and what rules a mapping out against it."""

    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self.least = math.inf
        self._floors: dict = {}  # per nest context (layer, core, spatial mapping): its EnergyFloor
        # Per operand, a decaying mean of how far its count rose above its bound per second of counting.
        self._gain = dict.fromkeys(OPERANDS, math.inf)

    def handed_up(self, energy_total: float) -> None:
        """A CME of `energy_total` went up to the reducer."""
        if energy_total < self.least:
            self.least = energy_total

    def rules_out(self, context, nest: LoopNest) -> bool:
        """Whether `nest` (a mapping of `context`) is sure to cost more energy than the least handed up."""
        if self.least == math.inf:
            return False
        nest = nest.without_unit_loops()
        floor = self._floors.get(context)
        if floor is None:
            floor = self._floors[context] = energy_floor(nest, self.options)
        ordering = nest.loop_pairs
        parts = {op: floor.least(op, ordering) + floor.between_pj[op] for op in OPERANDS}
        if self._above(floor, parts):
            return True
        # Counted first: the operand whose count has lately risen most above its bound per second of counting.
        gain = self._gain
        for op in sorted(OPERANDS, key=lambda op: -gain[op]):
            started = time.perf_counter()
            count = sum(lc.energy_pj for lc in operand_costs(nest, op, self.options).counts)
            rise = (count - parts[op]) / max(time.perf_counter() - started, 1e-6)
            gain[op] = rise if gain[op] == math.inf else 0.8 * gain[op] + 0.2 * rise
            parts[op] = count
            if self._above(floor, parts):
                return True
        return False

    def _above(self, floor: EnergyFloor, parts: dict[str, float]) -> bool:
        least = floor.mac_pj
        for op in OPERANDS:
            least += parts[op]
        return least * (1 - _MARGIN) > self.least
