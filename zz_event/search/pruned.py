"""A search on energy that skips exactly what cannot rank (branch and bound).

Orderings come in the search's order; each is offered to the `TopK` unless a bound shows it cannot enter: its
MAC energy and the operands costed so far, plus a lower bound (`energy_floor`) on each operand not yet costed, already
exceed the worst of the k kept, or equal it where the ordering comes later in the order (`TopK` keeps the first
of equal scores). The bound is summed as the energy is (`evaluate.energy_pj`: the MAC energy plus the level
energies, operand by operand, innermost level first), each term a lower bound of the energy's term in the same
float form (words times the cost per word); float addition and multiplication round monotonically, so the sum
is at most the ordering's energy as the exhaustive search computes it, bit for bit, and no margin is needed.
Such an ordering would be refused by `TopK`: the best, their order and the top k are those of the exhaustive
search (offers carry their place in the order, so ties rank as there). An operand's bound is its floor over all
orderings (for W and I, the larger one where the ordering's innermost loops renew their tiles at every step, or
at every block of innermost loops that do not index them: `ReadsFloor.block_prefix`), or, for W and I, what
an ordering already costed that shares inner loops with this one implies (the largest of those costed under each
shared prefix is kept, per depth). The operands are costed cheapest first (by a decaying mean
of the time each has taken lately: an operand whose counts are mostly memoised costs little; one left uncosted
sees its estimate drift down, so that it is tried again), so the expensive count is the one skipped; an operand
whose floor is already its count, which can rule nothing out, comes last, and before it the outputs (bounded by
their floor alone) while every count of theirs has been that floor (on the toy core it is). In a space of at least
two seeds' worth of orderings `walk` costs a spread sample of them first (one per 640, at most 64; after the first
of them, the least floor first), so that the threshold is near the best; a smaller space (LOMA's lpf 6) takes none.
It then walks the orderings depth-first from the innermost loop, each prefix's children least bound first (at the
innermost loop, those that renew W's or I's tiles first, least floor first: `_innermost_guess`), so that the k best
are costed first and the threshold falls to theirs at once: below a prefix the bound from the orderings costed
under it is the same for every ordering (the loops above each shared prefix take the same values together, in
whatever order), so a prefix whose bound already exceeds the threshold is skipped whole, its orderings counted as
ruled out without being enumerated or allocated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from math import prod

from zz_event.engine.energy_floor import EnergyFloor, energy_floor, level0_reads
from zz_event.engine.evaluate import operand_costs
from zz_event.model.vocabulary import OPERANDS
from zz_event.search.costing import SpaceCoster
from zz_event.search.orderings import LoopFactors, Lpf, ordering_at
from zz_event.search.ranking import TopK

__all__ = ["BoundedEnergy"]

# Orderings costed first, spread over the order: one per this many orderings, at most `_SEEDS`. A large space
# gains from a threshold near the best early; a small one is walked, renewing loops first, almost as soon.
_ORDERINGS_PER_SEED = 640
_SEEDS = 64


class BoundedEnergy:
    """Offers orderings to `top` by energy, costing only those the bound cannot rule out (with `bound`)."""

    def __init__(self, coster: SpaceCoster, top: TopK, bound: bool = True) -> None:
        self.coster = coster
        self.top = top
        self.bound = bound
        self.floor: EnergyFloor | None = None
        self.seconds = dict.fromkeys(OPERANDS, 0.0)  # per operand, a decaying mean of its time (to order them)
        # Per operand bounded by its floor alone (O): whether a count has exceeded the floor (None: none counted).
        self.above_floor: dict[str, bool | None] = dict.fromkeys(OPERANDS)
        self.costed = 0  # orderings whose energy was computed in full
        self.ruled_out = 0  # orderings skipped by `walk` with their prefix (not allocated: fitting or not)
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
        worst = self.top.worst_entry() if self.bound and floor is not None else None
        if worst is not None:
            # per operand its level energies, innermost first: a lower bound of the first until it is costed
            parts = {op: [self._least(op, ordering)] for op in OPERANDS}
            if _cannot_rank(floor.mac_pj, parts, worst, arrival):  # ruled out before building its nest
                return True
        nest = coster.context.nest(coster.mapping(ordering, allocation))
        options = coster.options
        if floor is None:
            self._set_floor(nest)
            floor = self.floor
        if worst is None:
            parts = {}
        seconds, above_floor = self.seconds, self.above_floor
        # An operand whose floor here is its count (its tiles renewed at every step) can rule nothing out: last; and
        # before it one whose bound is its floor on every ordering (the outputs') while its counts have all been that
        # floor (on the toy core the outputs' writes at every step are all their traffic).
        counted = {op for op, reads in floor.reads.items() if reads.renews(ordering) or reads.block_prefix(ordering)}
        order = sorted(OPERANDS, key=lambda op: (op in counted, above_floor[op] is False, seconds[op]))
        for k, op in enumerate(order):
            if worst is not None and _cannot_rank(floor.mac_pj, parts, worst, arrival):
                for skipped in order[k:]:  # not timed here: its estimate drifts down, so that it is tried again
                    seconds[skipped] *= 0.9
                return True
            started = time.perf_counter()
            counts = operand_costs(nest, op, options).counts
            seconds[op] = 0.9 * seconds[op] + 0.1 * (time.perf_counter() - started)
            if op not in floor.reads and not above_floor[op]:
                above_floor[op] = sum(lc.energy_pj for lc in counts) > floor.operand_pj[op]
            parts[op] = [lc.energy_pj for lc in counts]
            if op in self._known:
                reads, per_depth = level0_reads(counts), self._known[op]
                for d, most in enumerate(per_depth):
                    if reads > most:
                        per_depth[d] = reads
        # `evaluate.energy_pj`'s sum, in its order: the same float.
        self.top.offer(floor.mac_pj + sum(e for op in OPERANDS for e in parts[op]), ordering, arrival)
        self.costed += 1
        return True

    def _floor_from(self, ordering: tuple[Lpf, ...]) -> bool:
        """Build the floor from `ordering`'s nest (any ordering of the space will do); False if it does not fit."""
        allocation = self.coster.allocator.allocate(ordering)
        if allocation is not None:
            self._set_floor(self.coster.context.nest(self.coster.mapping(ordering, allocation)))
        return allocation is not None

    def _set_floor(self, nest) -> None:
        self.floor = energy_floor(nest, self.coster.options)
        self._known = {op: [-1] * (len(nest.temporal) + 1) for op in self.floor.reads}

    def walk(self, lpfs: LoopFactors, advance: Callable[[int], None]) -> int:
        """Offer every ordering of `lpfs` (see the module docstring); `advance(n)`: n more orderings done. Returns
        how many were ranked: those that fit the memories and were costed, and those ruled out."""
        factors, counts = lpfs.factors, list(lpfs.counts)
        n = sum(counts)
        wanted = min(_SEEDS, lpfs.count // _ORDERINGS_PER_SEED)
        if wanted < 2:  # a small space: no seeds, the walk (least bound first) reaches the best as soon
            for place in range(lpfs.count):
                if self._floor_from(ordering_at(lpfs, place)):
                    break
            wanted = 0
        stride = lpfs.count // wanted if wanted else lpfs.count + 1  # place 0 is a seed, or none is
        ranked = 0
        seeds = [(place, ordering_at(lpfs, place)) for place in range(0, lpfs.count, stride)] if wanted else []
        for k, (place, ordering) in enumerate(seeds):
            ranked += self.offer(ordering, place)
            advance(1)
            if k == 0 and self.floor is not None:  # the others least floor first: the threshold falls sooner
                seeds[1:] = sorted(seeds[1:], key=lambda seed: self._innermost_floor(seed[1][0]))
        prefix: list[Lpf] = []

        def seeded(place: int) -> bool:
            return bool(seeds) and not place % stride

        def below(place: int, leaves: int, least: float | None = None) -> int:
            """Walk the orderings under `prefix` (the first at `place`, `leaves` of them; `least`: their bound)."""
            nonlocal ranked
            if len(prefix) == n:
                if not seeded(place):
                    ranked += self.offer(tuple(prefix), place)
                    advance(1)
                return 1
            worst = self.top.worst_entry() if self.bound else None
            if worst is not None and least is not None and _ruled_out(least, worst, place):
                unseeded = leaves - (_multiples(place, place + leaves, stride) if seeds else 0)  # seeds: offered
                self.ruled_out += unseeded
                ranked += unseeded
                advance(unseeded)
                return leaves
            children = []  # (bound, place of the first ordering that puts it next, factor index, how many do)
            for k in range(len(factors)):
                if counts[k]:
                    share = leaves * counts[k] // (n - len(prefix))
                    children.append([None, place, k, share])
                    place += share
            # Least bound first: the k best are found first, and the threshold with them. A leaf ignores its bound
            # (`offer` bounds it), so the one leaf left under a prefix needs none.
            if self.floor is not None and (len(children) > 1 or len(prefix) + 1 < n):
                for child in children:
                    counts[child[2]] -= 1
                    prefix.append(factors[child[2]])
                    child[0] = self._subtree_bound(prefix, factors, counts)
                    prefix.pop()
                    counts[child[2]] += 1
                if not prefix:
                    children.sort(key=lambda child: (self._innermost_guess(factors[child[2]]), child[1]))
                else:
                    children.sort(key=lambda child: (child[0], child[1]))
            for bound, first, k, share in children:
                counts[k] -= 1
                prefix.append(factors[k])
                below(first, share, bound)
                prefix.pop()
                counts[k] += 1
            return leaves

        below(0, lpfs.count)
        return ranked

    def _subtree_bound(self, prefix: list[Lpf], factors, counts) -> float:
        """A lower bound on the energy of every ordering that starts with `prefix` (summed as `_cannot_rank`
        sums it), where `counts` says which loops are not in `prefix`."""
        self._enter(prefix)
        above = prod(size ** c for (_, size), c in zip(factors, counts))  # the loops not in `prefix`, together
        least = self.floor.mac_pj
        for op in OPERANDS:  # left to right from the MAC energy, as `_cannot_rank` sums
            least += self._least(op, prefix, above)
        return least

    def _innermost_guess(self, innermost: Lpf) -> tuple[bool, float]:
        """Where to look for the best first: under an innermost loop that renews W's or I's tiles, the operand's
        floor is its count, so the least such floor is a fair guess; elsewhere the floor says little."""
        renews = any(innermost[0] in reads.renewing for reads in self.floor.reads.values())
        return not renews, self._innermost_floor(innermost)

    def _innermost_floor(self, innermost: Lpf) -> float:
        """The floor of the orderings whose innermost loop is `innermost`."""
        floor = self.floor
        least = floor.mac_pj
        for op in OPERANDS:
            reads = floor.reads.get(op)
            renews = reads is not None and innermost[0] in reads.renewing
            least += max(floor.operand_pj[op], reads.every_step) if renews else floor.operand_pj[op]
        return least

    def _enter(self, ordering) -> None:
        """Forget what was known under the prefixes `ordering` (or a prefix) does not share with the last."""
        last = self._last
        shared = 0
        limit = min(len(last), len(ordering))
        while shared < limit and last[shared] == ordering[shared]:
            shared += 1
        for per_depth in self._known.values():
            per_depth[shared + 1:] = [-1] * (len(per_depth) - shared - 1)
        self._last = tuple(ordering)

    def _least(self, op: str, prefix, above: int = 1) -> float:
        """A lower bound on `op`'s memory energy for every ordering that starts with `prefix`, whose other loops
        take `above` values together."""
        least = self.floor.least(op, prefix)
        reads = self.floor.reads.get(op)
        if reads is None:
            return least
        per_depth = self._known[op]
        if max(per_depth[:len(prefix) + 1]) < 0:  # no ordering costed under any of its prefixes
            return least
        most = -1
        blocks = above  # values the loops above the first d take together
        for d in range(len(prefix), -1, -1):
            if per_depth[d] >= 0:
                most = max(most, reads.elements_floor(per_depth[d], blocks))
            if d:
                blocks *= prefix[d - 1][1]
        return max(least, reads.energy(most)) if most > 0 else least


def _cannot_rank(mac_pj: float, parts: dict[str, list[float]], worst: tuple[float, int], arrival: int) -> bool:
    """Whether an ordering (the `arrival`-th) whose energy is at least `mac_pj` plus `parts` (per operand, lower
    bounds of its level energies, summed as `evaluate.energy_pj` sums them) cannot displace `worst` (score and
    arrival of the worst kept)."""
    return _ruled_out(mac_pj + sum(e for op in OPERANDS for e in parts[op]), worst, arrival)


def _ruled_out(least: float, worst: tuple[float, int], arrival: int) -> bool:
    """Whether an ordering (the `arrival`-th) whose energy is at least `least` cannot displace `worst`."""
    return least > worst[0] or (least == worst[0] and arrival > worst[1])


def _multiples(start: int, stop: int, stride: int) -> int:
    """How many of start, ..., stop - 1 are multiples of `stride`."""
    return -(-stop // stride) - -(-start // stride)
