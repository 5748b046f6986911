"""A search on energy that skips exactly what cannot rank (branch and bound).

Orderings come in the search's order; each is offered to the `TopK` unless a bound shows it cannot enter: its
MAC energy and the operands costed so far, plus the floor (`bound.energy_floor`) of the operands not yet
costed, already exceed the worst of the k kept. Such an ordering's energy is at least that sum, so `TopK` would
refuse it (a later ordering of equal score ranks after the kept ones too): the best, their order and the top k
are those of the exhaustive search. The operands are costed cheapest first (by a decaying mean of the time each
has taken lately: an operand whose counts are mostly memoised costs little), so the expensive count is the one
skipped.
The bound prunes from the first k costed on; `seeded` costs a spread sample of the orderings first, so that
the threshold is near the best before the walk starts (each keeps its place in the order for ties).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from zz_event.engine.evaluate import operand_costs
from zz_event.model.vocabulary import OPERANDS
from zz_event.search.bound import EnergyFloor, energy_floor
from zz_event.search.costing import SpaceCoster
from zz_event.search.orderings import Lpf
from zz_event.search.ranking import TopK

__all__ = ["BoundedEnergy", "seeded"]

_SEEDS = 64  # orderings costed first, spread over the order

# Energies are float sums: a bound must clear the threshold by more than their rounding to skip.
_MARGIN = 1e-9


class BoundedEnergy:
    """Offers orderings to `top` by energy, costing only those the bound cannot rule out (with `bound`)."""

    def __init__(self, coster: SpaceCoster, top: TopK, bound: bool = True) -> None:
        self.coster = coster
        self.top = top
        self.bound = bound
        self.floor: EnergyFloor | None = None
        self.seconds = dict.fromkeys(OPERANDS, 0.0)  # per operand, a decaying mean of its time (to order them)
        self.costed = 0  # orderings whose energy was computed in full

    def offer(self, ordering: tuple[Lpf, ...], arrival: int) -> bool:
        """Offer `ordering`, the `arrival`-th of the search's order; False if it does not fit the memories."""
        coster = self.coster
        mapping = coster.fitting(ordering)
        if mapping is None:
            return False
        nest = coster.context.nest(mapping)
        options = coster.options
        if self.floor is None:
            self.floor = energy_floor(nest, options)
        floor = self.floor
        worst = self.top.worst() if self.bound else None
        limit = None if worst is None else worst + abs(worst) * _MARGIN
        known, rest = floor.mac_pj, sum(floor.operand_pj.values())
        parts = {}
        seconds = self.seconds
        for op in sorted(OPERANDS, key=seconds.__getitem__):
            if limit is not None and known + rest > limit:
                return True
            started = time.perf_counter()
            parts[op] = [lc.energy_pj for lc in operand_costs(nest, op, options).counts]
            seconds[op] = 0.9 * seconds[op] + 0.1 * (time.perf_counter() - started)
            known += sum(parts[op])
            rest -= floor.operand_pj[op]
        # `evaluate.energy_pj`'s sum, in its order: the same float.
        self.top.offer(floor.mac_pj + sum(e for op in OPERANDS for e in parts[op]), ordering, arrival)
        self.costed += 1
        return True


def seeded(count: int, every: Callable[[], Iterator[tuple[Lpf, ...]]]) -> Iterator[tuple[int, tuple[Lpf, ...]]]:
    """(place, ordering) of the `count` orderings of `every()` (an ordering generator, called twice): a spread
    sample of about `_SEEDS` first, then the others in order."""
    stride = max(1, count // _SEEDS)
    yield from ((i, o) for i, o in enumerate(every()) if i % stride == 0)
    if stride > 1:
        yield from ((i, o) for i, o in enumerate(every()) if i % stride)
