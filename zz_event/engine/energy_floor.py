"""Lower bounds on a mapping's energy, for skipping exactly (branch and bound) the counts of orderings that
cannot reach the best found: the search's (`search.pruned`) and the correction's below ZigZag's reducer on energy
(`zigzag.energy_bound`).

A mapping's energy is the MAC energy (the same for every ordering: `evaluate.executed_macs` is order-free) plus
each operand's memory energy.

Floors, for every ordering of one layer and spatial mapping. An operand that only moves down (W, I) reads, at
its innermost memory level, the entries of the step tiles of each of that level's instances
(`transfers.operand_traffic`, the MAC boundary): every element an instance's processing elements use enters at
least once, so the entries sum to at least D, the distinct (instance, element) pairs over the layer, and each
entry event moves at most T elements, the largest step tile of an instance. Both are order-free: D is the
entry count of one tile holding every loop, T the largest tile of the MAC boundary (a multiset over the steps
whatever the order). ZigZag's rounding of an event of e elements to ceil(e * p / bw_min) port units then
gives at least r = min over e <= T of ceil(e * p / bw_min) / e units per element. Outputs have no
accumulator in the MAC: their innermost level is written at every executed step with that step's tile
(`transfers._mac_boundary_outputs`), whose sizes are order-free too; each such write is at least the tile at
the lesser of the partial and final precisions, rounded per event. With readiness the same level is read down
at every step for the tile's elements not touched before: over the layer, the tiles' elements less the
distinct (instance, output) pairs, at the partial precision, at least r units per element as for W and I.
Every other level and direction: 0 in `operand_pj`. Between levels every element crosses each boundary once at
least (`between_levels_floor`), kept apart in `between_pj`: its terms are not summed in the energy's own float
form, so it bounds only up to rounding, which the correction's threshold allows for and the search does without.

The innermost loop. Where an ordering's innermost loop is of a dimension that W or I is indexed by, and each
nonempty block of that loop (its values with every other loop fixed) ends on a value no nonempty block starts
with, every executed step reads its whole tile: within a block the executed steps hold distinct values of it,
the last step of one block and the first of the next differ in it too, and tiles of different values of a
dimension an operand is indexed by are disjoint, so nothing is retained; the reads are the step tiles
themselves, each rounded as one event (`ReadsFloor.every_step`), as the outputs' writes are. Such dimensions
(`renewing_dims`): those no validity rule couples (`axes.RELEVANT_UNCOUPLED`: G, K, C for W; B, G, C for I)
and that do not overshoot, since whether a MAC executes does not depend on them (every nonempty block runs
from 0 to the last value); and, on an input-centric layer, a position dimension for I or a tap dimension for
W that is one loop, no part of its axis unrolled, where the executed values of a block are those the other
dimension of its axis (fixed in the block) makes valid, and no valid set's last value is another's first.
Deeper: where the innermost loops are of dimensions the operand is indexed by (coupled or not) up to one of the
first kind (K, C, B, G, not overshooting), every step renews the tiles too (`ReadsFloor.renews`): between two
consecutive executed steps either one of those loops changes (so an index does), or the loops above it do, and
then it goes from its last value to 0, since every nonempty block of it runs them all.

Innermost loops that do not index the operand. Where an ordering's innermost loops P are of dimensions W (or I)
is not indexed by, its tile is the same at every step of a block of P (the values of P with every other loop
fixed), so a processing element that executes in the block reads its element once there: the block is one step
of the loops above P. Where those loops renew the tiles as above (a loop of K, C, B, G that does not overshoot,
reached through loops of dimensions the operand is indexed by), every block that executes reads its whole tile
(`ReadsFloor.block_prefix`): the reads are at least the tiles of the sequence whose innermost p = |P| loops are
inside the tile, each one event (`UnitReads`; exactly those where the processing elements of a block start
together). On an input-centric layer a dimension the operand is indexed by on a coupled axis (W's FY, I's IY) whose
partner (IY, FY) has all its loops in P, neither unrolled, renews its blocks whole as K does, where each of its
values has a valid partner value: whether a block executes then does not depend on its value.

Shared inner loops. Orderings that share their innermost loops Q visit the same blocks (one per value of the
loops above Q; the set of values does not depend on their order) and, within a block, the same steps in the
same order; only which block follows which differs. So the entries of W or I at the MAC boundary within
blocks are the same for all of them, and each block's first executed step adds at most `cap` elements (T per
instance): two orderings sharing Q differ by at most (blocks) * cap elements there (`ReadsFloor.elements_floor`).

Closed forms. Where they are products of per-axis counts (`floor_closed_forms`), the step and block tiles and the
distinct elements are plain Python instead of the engine's tile sequences (six to eleven per search).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import pairwise
from math import prod

from zz_event.engine.analytic import analytic_applicable
from zz_event.engine.axes import RELEVANT_UNCOUPLED
from zz_event.engine.evaluate import executed_macs
from zz_event.engine.floor_closed_forms import distinct_elements, step_tiles, unindexed_dims, valid_sets
from zz_event.engine.result import EngineOptions
from zz_event.engine.tiles import overshooting_dims
from zz_event.engine.transfers import sequence_events
from zz_event.model.nest import Loop, LoopNest
from zz_event.model.vocabulary import OPERANDS

__all__ = ["EnergyFloor", "ReadsFloor", "UnitReads", "energy_floor", "renewing_dims"]

# The coupled dimensions an operand's elements are indexed by: W's taps; I's positions on an input-centric layer.
_INDEXED_TAPS = {"W": frozenset({"FY", "FX"}), "I": frozenset({"IY", "IX"})}
# Per axis of an input-centric layer: (position, tap) dimensions.
_AXES = (("y", "IY", "FY"), ("x", "IX", "FX"))
_ENTRY = frozenset({"entry"})
_TILE = frozenset({"tile"})


@dataclass(frozen=True)
class ReadsFloor:
    """The reads down out of an operand's innermost level at the MAC boundary (`level0_reads` elements)."""

    per_element: tuple[int, int]  # at least this many port units per element read (numerator, denominator)
    cap: int  # at most this many elements enter in one step, over the level's instances
    bw_min: int
    bw_max: int
    read_cost: float
    # Dimensions whose loop innermost makes every executed step read its whole tile, and those reads' energy.
    renewing: frozenset[str] = frozenset()
    every_step: float = 0.0
    # Of `renewing`, those every nonempty block of which runs from 0 to the last value, and the dimensions that
    # index the operand: behind loops of these, such a loop renews the tiles too (`renews`).
    renewing_whole: frozenset[str] = frozenset()
    indexing: frozenset[str] = frozenset()
    # (dimension, its partner on the axis, the partner's loops): renews blocks whole when every loop of the
    # partner is inside the block (see the module docstring).
    whole_beside: tuple[tuple[str, str, int], ...] = ()
    unindexed: frozenset[str] = frozenset()  # dimensions the operand's index does not depend on at all

    def block_prefix(self, prefix) -> int:
        """p > 0 where every ordering that starts with `prefix` reads a whole tile once per executed block of
        its innermost p loops (none of them indexing the operand); else 0."""
        p, n, unindexed = 0, len(prefix), self.unindexed
        while p < n and prefix[p][0] in unindexed:
            p += 1
        if not p or p == n:
            return 0
        beside = ()
        if self.whole_beside:
            inner = [dim for dim, _ in prefix[:p]]
            beside = [dim for dim, partner, loops in self.whole_beside if inner.count(partner) == loops]
        whole, indexing = self.renewing_whole, self.indexing
        for dim, _ in prefix[p:]:
            if dim in whole or dim in beside:
                return p
            if dim not in indexing:
                return 0
        return 0

    def renews(self, prefix) -> bool:
        """Whether every ordering that starts with `prefix` (innermost first) reads its whole tile at every step."""
        if prefix and prefix[0][0] in self.renewing:
            return True
        for dim, _ in prefix:
            if dim in self.renewing_whole:
                return True
            if dim not in self.indexing:
                return False
        return False

    def energy(self, elements: int) -> float:
        """The least energy of reading `elements` elements down (ZigZag's words, rounded per event)."""
        units = -(-max(elements, 0) * self.per_element[0] // self.per_element[1])
        return units * self.bw_min // self.bw_max * self.read_cost

    def elements_floor(self, known: int, blocks: int) -> int:
        """The least elements read by an ordering sharing inner loops with one known to read `known`, where the
        loops above the shared ones take `blocks` values together."""
        return known - blocks * self.cap


class UnitReads:
    """The energy of reading every executed block's tile of an operand out of its innermost level once, per
    multiset of innermost loops (the blocks' loops: `ReadsFloor.block_prefix`); computed on first use."""

    def __init__(self, nest: LoopNest, op: str, filtered: bool) -> None:
        self.nest, self.op, self.filtered = nest, op, filtered
        self._energy: dict[tuple, float] = {}

    def energy(self, inner) -> float:
        key = tuple(sorted(inner))
        found = self._energy.get(key)
        if found is None:
            nest, op = self.nest, self.op
            above = Counter(nest.loop_pairs)
            above.subtract(key)
            loops = (*key, *(loop for loop, n in above.items() for _ in range(n)))
            block = replace(nest, temporal=tuple(Loop(d, s) for d, s in loops))
            level = nest.levels[op][0]
            steps = _step_tiles(block, op, level.served, self.filtered, len(key))
            found = 0.0 if steps is None else (_tile_words(steps, nest.precision[op], level.ports["rd_out_to_low"])
                                               * level.read_cost)
            self._energy[key] = found
        return found


@dataclass(frozen=True)
class EnergyFloor:
    """The MAC energy of every ordering, per operand the least memory energy any ordering spends, and for
    W and I the reads that bound an ordering from its neighbours' and from its innermost loops."""

    mac_pj: float
    operand_pj: dict[str, float]
    reads: dict[str, ReadsFloor]
    units: dict[str, UnitReads] = field(default_factory=dict)
    # Per operand, the least energy of its moves between memory levels (`upper_floor`), which `operand_pj`
    # leaves out: it holds only up to rounding (its terms are summed in their own order), so the search, which
    # sums its bounds in the energy's own float form, does without it.
    between_pj: dict[str, float] = field(default_factory=dict)

    def least(self, op: str, prefix) -> float:
        """A lower bound on `op`'s memory energy for every ordering that starts with `prefix` (innermost first):
        its floor, or for W and I the reads its innermost loops imply (`ReadsFloor.renews`, `block_prefix`)."""
        least = self.operand_pj[op]
        reads = self.reads.get(op)
        if reads is None:
            return least
        if reads.renews(prefix):
            return max(least, reads.every_step)
        p = reads.block_prefix(prefix)
        return max(least, self.units[op].energy(prefix[:p])) if p else least


def level0_reads(counts) -> int:
    """Elements read down out of the innermost level, from an operand's `LevelCounts` (innermost first)."""
    return counts[0].elements.get("rd_out_to_low", 0)


def energy_floor(nest: LoopNest, options: EngineOptions) -> EnergyFloor:
    """The floor of every ordering of `nest`'s layer and spatial mapping (`nest`: any one of them)."""
    floors = {"O": _outputs_floor(nest, options)}
    reads = {}
    for op in OPERANDS:
        if op == "O":
            continue
        found = _reads_floor(nest, op, options.filter)
        floors[op] = 0.0 if found is None else found[0]
        if found is not None:
            reads[op] = found[1]
    return EnergyFloor(executed_macs(nest, options.filter) * nest.mac_energy, floors, reads,
                       {op: UnitReads(nest, op, options.filter) for op in reads},
                       {op: between_levels_floor(nest, op, options.filter) for op in OPERANDS})


def between_levels_floor(nest: LoopNest, op: str, filtered: bool) -> float:
    """The least energy of `op`'s moves between its memory levels, over every ordering and allocation. Across the
    boundary of two levels every element the processing elements use crosses at least once per instance of the
    coarser level (whose instances serve both levels' array dimensions): W and I on their way down, O on their way
    up to the top; what one side sends the other receives (design.md: a read serves every child that needs the
    element at that moment, an arrival is one write). So at least D elements cross, D the distinct (coarser
    instance, element) pairs, and each side moves at least ceil(D p / bw_min) port units (a sum of events rounded
    up is at least the sum rounded up), p the operand's precision (O: the lesser of partial and final). ZigZag's
    hierarchies serve more processing elements at every level up, so the coarser is the upper; a hand-made one
    need not."""
    levels = nest.levels[op]
    bits = min(nest.precision["O"], nest.precision["O_final"]) if op == "O" else nest.precision[op]
    below, above = ("rd_out_to_high", "wr_in_by_low") if op == "O" else ("wr_in_by_high", "rd_out_to_low")
    least = 0.0
    for lower, upper in pairwise(levels):
        distinct = _distinct(nest, op, upper.served | lower.served, filtered)
        for level, direction in ((lower, below), (upper, above)):
            port = level.ports.get(direction)
            if distinct and port is not None:
                words = -(-distinct * bits // port.bw_min) * port.bw_min // port.bw_max
                least += words * (level.read_cost if direction.startswith("rd") else level.write_cost)
    return least


def _reads_floor(nest: LoopNest, op: str, filtered: bool) -> tuple[float, ReadsFloor] | None:
    """The least energy of the reads down out of `op`'s innermost memory level (see the module docstring)."""
    level = nest.levels[op][0]
    port = level.ports.get("rd_out_to_low")
    if port is None:
        return None
    steps = _step_tiles(nest, op, level.served, filtered)
    largest = int(steps.tile.max()) if steps is not None and steps.tile.size else 0
    if not largest:
        return None
    instances = prod(sl.size for sl in nest.spatial if sl.array_dim not in level.served)
    renewing = renewing_dims(nest, op, filtered)
    every_step = _tile_words(steps, nest.precision[op], port) * level.read_cost
    whole = frozenset(RELEVANT_UNCOUPLED[op]) - overshooting_dims(nest)
    indexing = frozenset(RELEVANT_UNCOUPLED[op]) | (_INDEXED_TAPS[op] if nest.centric == "input" or op == "W"
                                                     else frozenset())
    reads = ReadsFloor(_per_element(nest.precision[op], port.bw_min, largest), largest * instances, port.bw_min,
                       port.bw_max, level.read_cost, renewing, every_step, whole, indexing,
                       _whole_beside(nest, op, filtered), unindexed_dims(nest, op))
    distinct = _distinct(nest, op, level.served, filtered)
    return (0.0 if distinct is None else reads.energy(distinct)), reads


def _step_tiles(nest: LoopNest, op: str, served: frozenset[str], filtered: bool, n_inner: int = 0):
    """The tiles of `op`'s steps at the MAC boundary (`SequenceEvents.tile`; with `n_inner`, of the blocks of the
    innermost `n_inner` loops), where the per-axis count gives them (else None: the floors are only worth what is
    cheap)."""
    if not analytic_applicable(nest, n_inner, served):
        return None
    closed = step_tiles(nest, op, served, filtered, n_inner)
    return closed if closed is not None else sequence_events(nest, op, n_inner, served, filtered, None, _TILE)


def _distinct(nest: LoopNest, op: str, served: frozenset[str], filtered: bool) -> int | None:
    """The distinct (instance, element) pairs of `op` over the layer: the entries of one tile holding every loop;
    None where only the explicit walk could count them (an overshooting loop empties a tile), which would hold
    the whole tensor at once."""
    if not analytic_applicable(nest, len(nest.temporal), served):
        return None
    closed = distinct_elements(nest, op, served, filtered)
    if closed is not None:
        return closed
    everything = sequence_events(nest, op, len(nest.temporal), served, filtered, None, _ENTRY)
    return int((everything.entry * everything.entry_weight).sum())


def renewing_dims(nest: LoopNest, op: str, filtered: bool) -> frozenset[str]:
    """The dimensions whose loop, innermost, makes `op` (W or I) read its whole tile at every executed step (see
    the module docstring)."""
    dims = set(RELEVANT_UNCOUPLED[op]) - overshooting_dims(nest)
    if nest.centric != "input":
        return frozenset(dims)
    unrolled = {sl.dim for sl in nest.spatial}
    for name, position, tap in _AXES:
        own = position if op == "I" else tap
        loops = [loop.size for loop in nest.temporal if loop.dim == own]
        if unrolled & {position, tap} or loops != [nest.dim_size(own)]:
            continue
        if not filtered or _ends_differ(getattr(nest.geometry, name), op == "I"):
            dims.add(own)
    return frozenset(dims)


def _whole_beside(nest: LoopNest, op: str, filtered: bool) -> tuple[tuple[str, str, int], ...]:
    """`ReadsFloor.whole_beside`: on an input-centric layer, `op`'s dimension on each coupled axis (I's position,
    W's tap) with its partner, where neither is unrolled and each of its values has a valid partner value."""
    if nest.centric != "input":
        return ()
    unrolled = {sl.dim for sl in nest.spatial}
    found = []
    for name, position, tap in _AXES:
        own, partner = (position, tap) if op == "I" else (tap, position)
        if {own, partner} & unrolled:
            continue
        if filtered and not all(valid_sets(getattr(nest.geometry, name), op == "W")):
            continue
        found.append((own, partner, sum(1 for loop in nest.temporal if loop.dim == partner)))
    return tuple(found)


def _ends_differ(axis, by_position: bool) -> bool:
    """Whether no valid set of positions per tap (`by_position`; else of taps per position) ends on a value
    another starts with."""
    sets = [found for found in valid_sets(axis, by_position) if found]
    return not {found[0] for found in sets} & {found[-1] for found in sets}


def _tile_words(steps, precision: int, port) -> int:
    """ZigZag's words of moving every step tile of `steps` through `port`, each tile one event."""
    units = int(((-(-steps.tile * precision // port.bw_min)) * steps.tile_weight).sum())
    return units * port.bw_min // port.bw_max


def _per_element(precision: int, bw_min: int, largest: int) -> tuple[int, int]:
    """The least port units per element of an event of at most `largest` elements, as a fraction."""
    best = min(Fraction(-(-e * precision // bw_min), e) for e in range(1, largest + 1))
    return best.numerator, best.denominator


def _outputs_floor(nest: LoopNest, options: EngineOptions) -> float:
    """The least energy of the outputs' writes into, and reads out of, their innermost level (see the module
    docstring)."""
    level = nest.levels["O"][0]
    steps = _step_tiles(nest, "O", level.served, options.filter)
    if steps is None:
        return 0.0
    least = 0.0
    port = level.ports.get("wr_in_by_low")
    if port is not None:
        least += _tile_words(steps, min(nest.precision["O"], nest.precision["O_final"]), port) * level.write_cost
    port = level.ports.get("rd_out_to_low")
    if options.readiness and port is not None and steps.tile.size:
        distinct = _distinct(nest, "O", level.served, options.filter)
        if distinct is None:
            return least
        elements = int((steps.tile * steps.tile_weight).sum()) - distinct
        per_element = _per_element(nest.precision["O"], port.bw_min, int(steps.tile.max()))
        least += ReadsFloor(per_element, 0, port.bw_min, port.bw_max, level.read_cost).energy(elements)
    return least
