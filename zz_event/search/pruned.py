"""A search on energy that skips exactly what cannot rank (branch and bound).

Orderings come in the search's order; each is offered to the `TopK` unless a bound shows it cannot enter: its
MAC energy and the operands costed so far, plus a lower bound (`bound`) on each operand not yet costed, already
exceed the worst of the k kept. Such an ordering's energy is at least that sum, so `TopK` would refuse it (an
ordering of equal score ranks after the kept ones: offers carry their place in the order): the best, their
order and the top k are those of the exhaustive search. An operand's bound is its floor over all orderings,
or, for W and I, what an ordering already costed that shares inner loops with this one implies (the largest of
those costed under each shared prefix is kept, per depth). The operands are costed cheapest first (by a
decaying mean of the time each has taken lately: an operand whose counts are mostly memoised costs little), so
the expensive count is the one skipped. `seeded` costs a spread sample of the orderings first, so that the
threshold is near the best before the walk starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from zz_event.engine.evaluate import operand_costs
from zz_event.model.vocabulary import OPERANDS
from zz_event.search.bound import EnergyFloor, energy_floor, level0_reads
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
        self._last: tuple[Lpf, ...] = ()
        # Per W/I operand and depth d: the most level-0 reads of an ordering costed under the last one's d loops.
        self._known: dict[str, list[int]] = {}

    def offer(self, ordering: tuple[Lpf, ...], arrival: int) -> bool:
        """Offer `ordering`, the `arrival`-th of the search's order; False if it does not fit the memories."""
        coster = self.coster
        allocation = coster.allocator.allocate(ordering)
        if allocation is None:
            return False
        self._enter(ordering)
        floor = self.floor
        worst = self.top.worst() if self.bound and floor is not None else None
        limit = None if worst is None else worst + abs(worst) * _MARGIN
        if limit is not None:
            known = floor.mac_pj
            rest = {op: self._least(op, ordering) for op in OPERANDS}
            if known + sum(rest.values()) > limit:  # ruled out before building its nest
                return True
        nest = coster.context.nest(coster.mapping(ordering, allocation))
        options = coster.options
        if floor is None:
            floor = self.floor = energy_floor(nest, options)
            self._known = {op: [-1] * (len(ordering) + 1) for op in floor.reads}
        if limit is None:
            known, rest = floor.mac_pj, dict(floor.operand_pj)
        parts = {}
        seconds = self.seconds
        for op in sorted(OPERANDS, key=seconds.__getitem__):
            if limit is not None and known + sum(rest.values()) > limit:
                return True
            started = time.perf_counter()
            counts = operand_costs(nest, op, options).counts
            seconds[op] = 0.9 * seconds[op] + 0.1 * (time.perf_counter() - started)
            parts[op] = [lc.energy_pj for lc in counts]
            known += sum(parts[op])
            del rest[op]
            if op in self._known:
                reads, per_depth = level0_reads(counts), self._known[op]
                for d, most in enumerate(per_depth):
                    if reads > most:
                        per_depth[d] = reads
        # `evaluate.energy_pj`'s sum, in its order: the same float.
        self.top.offer(floor.mac_pj + sum(e for op in OPERANDS for e in parts[op]), ordering, arrival)
        self.costed += 1
        return True

    def _enter(self, ordering: tuple[Lpf, ...]) -> None:
        """Forget what was known under the prefixes `ordering` does not share with the last ordering."""
        last = self._last
        shared = 0
        while shared < len(last) and last[shared] == ordering[shared]:
            shared += 1
        for per_depth in self._known.values():
            for d in range(shared + 1, len(per_depth)):
                per_depth[d] = -1
        self._last = ordering

    def _least(self, op: str, ordering: tuple[Lpf, ...]) -> float:
        """A lower bound on `op`'s memory energy for `ordering`."""
        least = self.floor.operand_pj[op]
        reads = self.floor.reads.get(op)
        if reads is None:
            return least
        most = -1
        blocks = 1  # values the loops above the first d take together
        per_depth = self._known[op]
        for d in range(len(ordering), -1, -1):
            if d < len(ordering):
                blocks *= ordering[d][1]
            if per_depth[d] >= 0:
                most = max(most, reads.elements_floor(per_depth[d], blocks))
        return max(least, reads.energy(most)) if most > 0 else least


def seeded(count: int, every: Callable[[], Iterator[tuple[Lpf, ...]]]) -> Iterator[tuple[int, tuple[Lpf, ...]]]:
    """(place, ordering) of the `count` orderings of `every()` (an ordering generator, called twice): a spread
    sample of about `_SEEDS` first, then the others in order."""
    stride = max(1, count // _SEEDS)
    yield from ((i, o) for i, o in enumerate(every()) if i % stride == 0)
    if stride > 1:
        yield from ((i, o) for i, o in enumerate(every()) if i % stride)
