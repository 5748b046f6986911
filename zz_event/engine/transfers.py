"""Element transfers per operand, memory level and direction, under the two switches.

Directions follow ZigZag: at each level, `rd_out_to_low` (read, sent down), `wr_in_by_low` (written by
the level below), `rd_out_to_high` (read, sent up), `wr_in_by_high` (written from above). Traffic
between the top level and the world outside is not counted, as in ZigZag.

Inputs (W, I) only move down. Between level j and the level above, the child's instances receive the
entries of their own tile sequence (`wr_in_by_high`), and each parent instance reads, per transition,
the union of its children's entries (`rd_out_to_low`): the entries of their combined tile where that is
the same (`tiles.py`, rule 4), else counted per child instance (`siblings.py`). Below level 0, the MAC
array's register bank takes the entries of the step tiles.

Outputs (O) have no accumulator in the MAC: at every executed step, level 0 is written with the step's
outputs (`wr_in_by_low`) and read for them (`rd_out_to_low`) when they carry a partial sum. Between
level j and the level above, elements go down on entry and up on eviction (and at the end); each child
instance has its own copies, and the parent takes in, per transition, the union of what its children
evict then (copies evicted at different moments are separate writes), as for inputs (`siblings.py`).
- Without readiness a level's reads down follow ZigZag's static flag (`MemLevel.psum`): all entries are
  read down from a flagged level, none from an unflagged one; transfers up are partial sums into a
  flagged level and final outputs into an unflagged one.
- With readiness an element is read down only if it already holds a partial sum (the same instance
  touched it before), and an eviction carries a final output exactly when it ends the element's last
  residency in that instance; at the parent an arrival is final when no child of the parent instance
  touches the element at or after it.
Each transfer event keeps its own element count, because words are rounded per event (`words`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from zz_event.engine.analytic import ALL, analytic_applicable, analytic_events
from zz_event.engine.axes import RELEVANT_UNCOUPLED
from zz_event.engine.enumerated import enumerated_events, summed, tallied
from zz_event.engine.events import SequenceEvents
from zz_event.engine.instance_split import split_nests
from zz_event.engine.siblings import needs_union, union_events
from zz_event.engine.touches import OutputTouches
from zz_event.memo import NEST_CACHE_SIZE, LruMemo, lru_cache
from zz_event.model.nest import LoopNest

__all__ = ["BoundaryLoads", "BoundaryTraffic", "Events", "boundary_plan", "boundary_traffic", "sequence_keys"]


class Events(NamedTuple):
    """Transfer events of one direction at one level: elements per event, how many of them are final
    outputs (None: none; `count` itself: all), and how many identical events each entry stands for. Entries
    that move nothing stay: they add no element and no word, and the latency leaves them out."""

    count: np.ndarray
    final: np.ndarray | None
    weight: np.ndarray

    @staticmethod
    def none() -> Events:
        return _NO_EVENTS

    @staticmethod
    def of(counts: np.ndarray, weight, final: bool = False) -> Events:
        weight = weight if np.ndim(weight) else np.full(counts.shape, weight, dtype=np.int64)
        return Events(counts, counts if final else None, weight)

    def bits(self, p_partial: int, p_final: int) -> np.ndarray:
        """Bits of each event: partial sums at `p_partial` each, finals at `p_final`."""
        final = self.final
        if final is None or p_partial == p_final:
            return self.count * p_partial
        if final is self.count:
            return self.count * p_final
        return self.count * p_partial + final * (p_final - p_partial)


_NOTHING = np.zeros(0, dtype=np.int64)
_NOTHING.flags.writeable = False
_NO_EVENTS = Events(_NOTHING, None, _NOTHING)

# Which event lists each side of a boundary needs: (is output, is the MAC boundary) -> (group, child).
_NEEDS = {
    (False, True): (frozenset({"entry"}), frozenset()),
    (False, False): (frozenset({"entry", "onload"}), frozenset({"entry"})),
    (True, True): (frozenset({"tile"}), frozenset()),
    (True, False): (frozenset({"entry", "exit"}), frozenset({"entry", "exit", "offload"})),
}


@dataclass(frozen=True)
class BoundaryLoads:
    """Transfers at the very start (first tiles below the top) and the very end (outputs left below it)."""

    onload: list[tuple[int, Events]]  # (level index whose port reads, events)
    offload: list[tuple[int, Events]]  # (level index whose port reads up, events)


Plan = tuple[tuple[tuple[int, frozenset[str], frozenset[str]], ...], ...]


def boundary_plan(levels, op: str) -> Plan:
    """Per boundary, from the MAC's up: the tile sequences it reads as (n_inner, served, need). A tile
    sequence can serve two boundaries (a level owning no loop is the MAC boundary's parent and the next
    boundary's child): it is computed once, with every event list either reads. Memoised on the levels'
    ids (`NestContext` reuses them across the mappings of one layer; an entry keeps its levels alive)."""
    return _PLANS.get_or((op, *map(id, levels)), lambda: (levels, _boundary_plan(levels, op)))[1]


_PLANS = LruMemo(256)


def _boundary_plan(levels, op: str) -> Plan:
    sides = [_boundary_sequences(levels, j, op) for j in range(-1, len(levels) - 1)]
    needs: dict[tuple[int, frozenset[str]], frozenset[str]] = {}
    for side in sides:
        for n_inner, served, need in side:
            needs[(n_inner, served)] = needs.get((n_inner, served), frozenset()) | need
    return tuple(tuple((n_inner, served, needs[(n_inner, served)]) for n_inner, served, _ in side) for side in sides)


def sequence_keys(nest: LoopNest, op: str, filtered: bool, readiness: bool, plan: Plan) -> tuple[tuple, ...]:
    """Per boundary of `plan`: the number standing for the `structural_key` of each of its tile sequences
    (`_key_id`), in order, and where its parent is counted per transition (`siblings.py`), which depends on
    the whole loop order, the loops."""
    touched = readiness and op == "O"
    levels = nest.levels[op]
    keys = []
    for j, side in zip(range(-1, len(levels) - 1), plan):
        side_keys = tuple(_key_id(structural_key(nest, op, n_inner, served, filtered, touched, need))
                          for n_inner, served, need in side)
        if j >= 0 and needs_union(nest, levels[j].served, levels[j + 1].served):
            side_keys += (("union", nest.loop_pairs),)
        keys.append(side_keys)
    return tuple(keys)


BoundaryTraffic = dict[tuple[int, str], Events]  # (level index, direction) -> events


def boundary_traffic(
    nest: LoopNest, op: str, filtered: bool, readiness: bool, j: int, side, keys: tuple, touches
) -> tuple[BoundaryTraffic, BoundaryLoads]:
    """Transfer events of one operand at the boundary above level j (-1: the MAC's), on both its sides:
    `side` and `keys` are that boundary's entries of `boundary_plan` and `sequence_keys`, `touches` the
    operand's `OutputTouches` (outputs with readiness, else None). Every level and direction is written
    by one boundary only, so an operand's traffic is the union of its boundaries'."""
    levels = nest.levels[op]
    parent = levels[j + 1]
    traffic: BoundaryTraffic = {}
    loads = BoundaryLoads([], [])
    # The parent side counted per child instance (`siblings.py`) needs no combined tile sequence.
    union = j >= 0 and needs_union(nest, levels[j].served, parent.served)
    group, *children = (
        None if union and k == 0 else sequence_events(nest, op, n_inner, served, filtered, touches, need, key)
        for k, ((n_inner, served, need), key) in enumerate(zip(side, keys))
    )
    child = children[0] if children else None
    if op != "O":
        if child is not None:
            traffic[(j, "wr_in_by_high")] = Events.of(child.entry, child.entry_weight)
        if group is not None:
            traffic[(j + 1, "rd_out_to_low")] = Events.of(group.entry, group.entry_weight)
            if child is not None:
                loads.onload.append((j + 1, Events.of(group.onload, group.onload_weight)))
    elif j < 0:
        _mac_boundary_outputs(group, parent.psum, touches is not None, traffic)
    else:
        if group is not None:
            down, up = _output_boundary(group, parent.psum, touches is not None)
            traffic[(j + 1, "rd_out_to_low")], traffic[(j + 1, "wr_in_by_low")] = down, up
        down, up = _output_boundary(child, parent.psum, touches is not None)
        traffic[(j, "wr_in_by_high")], traffic[(j, "rd_out_to_high")] = down, up
        loads.offload.append((j, Events.of(child.offload, child.offload_weight, final=True)))
    if union:
        _parent_per_transition(nest, op, j, filtered, readiness, traffic, loads)
    return traffic, loads


def _parent_per_transition(nest, op, j, filtered, readiness, traffic: BoundaryTraffic, loads) -> None:
    """The parent side of boundary j/j+1 where the combined tile would miscount (`siblings.py`): per
    transition the union of the child instances' own transfers."""
    levels = nest.levels[op]
    key = ("union", nest.shape_id, op, levels[j].top, levels[j].served, levels[j + 1].served, filtered,
           nest.loop_pairs)
    ev = _SEQUENCES.get_or(key, lambda: union_events(nest, op, levels[j].top, levels[j].served, levels[j + 1].served,
                                                     filtered))
    down, up = ev.weights(ev.down_times), ev.weights(ev.up_times)
    if op != "O":
        traffic[(j + 1, "rd_out_to_low")] = Events.of(ev.down, down)
        loads.onload.append((j + 1, Events.of(ev.onload, ev.weights(ev.onload_times))))
    elif not readiness:
        psum = levels[j + 1].psum
        traffic[(j + 1, "rd_out_to_low")] = Events.of(ev.down, down) if psum else Events.none()
        traffic[(j + 1, "wr_in_by_low")] = Events.of(ev.up, up, final=not psum)
    else:
        traffic[(j + 1, "rd_out_to_low")] = Events.of(ev.down_touched, ev.weights(ev.touched_times))
        traffic[(j + 1, "wr_in_by_low")] = Events(ev.up, ev.up_final, np.broadcast_to(up, ev.up.shape).astype(np.int64))


def _boundary_sequences(levels, j: int, op: str) -> list[tuple[int, frozenset[str], frozenset[str]]]:
    """(n_inner, served, event lists needed) of the tile sequences the boundary above level j reads: its
    parent's instances (grouping the children), then, above a memory level, the child's own."""
    n_inner = levels[j].top if j >= 0 else 0
    group_need, child_need = _NEEDS[(op == "O", j < 0)]
    sides = [(n_inner, levels[j + 1].served, group_need)]
    if j >= 0:
        sides.append((n_inner, levels[j].served, child_need))
    return sides


def _mac_boundary_outputs(ev: SequenceEvents, psum: bool, ready: bool, traffic: BoundaryTraffic) -> None:
    # No accumulator in the MAC: every step reads and writes its outputs, in-place repeats included.
    if not ready:
        traffic[(0, "wr_in_by_low")] = Events.of(ev.tile, ev.tile_weight, final=not psum)
        traffic[(0, "rd_out_to_low")] = Events.of(ev.tile, ev.tile_weight) if psum else Events.none()
        return
    traffic[(0, "wr_in_by_low")] = Events(ev.tile, ev.tile_last, ev.tile_weight)
    traffic[(0, "rd_out_to_low")] = Events.of(ev.tile - ev.tile_first, ev.tile_weight)


def _output_boundary(ev: SequenceEvents, psum: bool, ready: bool) -> tuple[Events, Events]:
    """(reads down into the tiles, write-backs up out of them) for one tile sequence of outputs.

    With readiness, finals leave with the eviction that ends their last residency: the change out of
    the tile in which they were last touched, or the end of its block."""
    if not ready:
        down = Events.of(ev.entry, ev.entry_weight) if psum else Events.none()
        return down, Events.of(ev.exit, ev.exit_weight, final=not psum)
    down = Events.of(ev.entry - ev.entry_first, ev.entry_weight)
    return down, Events(ev.exit, ev.exit_final, ev.exit_weight)


# A number per structural key: the memos above a sequence (boundary, operand) key on these, so that a long key
# is hashed once per mapping, not at every memo it reaches. Numbers are never reused (clearing or evicting
# an entry only gives its key a new one), so no memo can confuse two keys.
_KEY_IDS = LruMemo(8192)
_NEXT_ID = itertools.count()


def _key_id(key: tuple) -> int:
    return _KEY_IDS.get_or(key, _NEXT_ID.__next__)


# Entries are mostly small; the hits are the sequences many of LOMA's mappings share. An explicit walk's
# events grow with the layer: the byte bound keeps a long search flat.
_SEQUENCES = LruMemo(2048, max_bytes=192 << 20)

# Event lists that depend on where the first or last tile falls, and so on the order of every loop.
_ORDERED_NEEDS = frozenset({"onload", "offload"})
_TILES = frozenset({"tile"})


def structural_key(nest: LoopNest, op, n_inner, served, filtered, readiness: bool, need) -> tuple:
    """What a tile sequence's events depend on. Below the boundary only each dimension's product of
    loop sizes matters (a dimension's inner loops are its lowest digits, so they span a fixed box
    whatever their order); above it, the loops in order. Many mappings of a LOMA search share upper
    boundaries, whose sequences are then computed once.

    Above the innermost relevant uncoupled loop (of size > 1), less of the order matters. A change of
    any loop there resets that relevant loop from its last value to its first, so no tile shares data
    with its predecessor across it: the sequence falls into blocks, one per value of those loops, each
    with events that depend on that value only, and permuting the loops only permutes the blocks.
    - Entries, exits, tiles and steps are multisets over blocks: only the multiset of loops matters.
    - Touches (readiness) depend on which of an output's blocks comes first and last. Its blocks share
      its relevant values and take every irrelevant one (the filter never depends on those), so they
      are ordered by the coupled loops alone: those keep their order, the others form a multiset.
    - The first and last tiles (onload, offload) keep the whole order.
    - If a block's tiles past some value of that loop can be empty (an overshooting dimension), the
      block could end on its first value and share data with the next one: the whole order is kept
      (`analytic_applicable` tells; it does not depend on the order of the loops above the boundary).

    Tiles alone (outputs at the MAC boundary) are a multiset over the steps, whatever the order of any
    loop. With readiness, an element's first (last) touch is the earliest (latest) of its steps, which
    form a product over the axes: per axis the earliest depends on the order of that axis' own loops
    (position and tap) only, not on how they interleave with the others (`axis_configs` relies on the
    same fact).
    """
    inner, upper = _split_loops(nest, n_inner)
    if not (need & _ORDERED_NEEDS) and analytic_applicable(nest, n_inner, served):
        upper = _unordered_upper(nest, op, upper, readiness, need)
    return (nest.shape_id, op, _tag(served), filtered, readiness, _tag(need), inner, upper)


@lru_cache(maxsize=4 * NEST_CACHE_SIZE)
def _split_loops(nest: LoopNest, n_inner: int) -> tuple[tuple, tuple]:
    """(each dimension's product of the loop sizes below the boundary, sorted; the loops above it, in order):
    a mapping's sequences sit at a few boundaries, and its keys ask for each several times."""
    inner: dict[str, int] = {}
    loops = nest.loop_pairs
    for dim, size in loops[:n_inner]:
        inner[dim] = inner.get(dim, 1) * size
    return tuple(sorted(inner.items())), loops[n_inner:]


_TAGS: dict[frozenset, str] = {}  # a few entries: array dimensions and event-list names


def _tag(names: frozenset[str]) -> str:
    """A string standing for a set of names in memo keys. A key tuple holding a frozenset stays tracked by the
    garbage collector, and so do the tuples holding it; one of strings and ints is untracked at its first
    collection. The memos hold thousands of keys, which the full passes in ZigZag's process would walk."""
    tag = _TAGS.get(names)
    if tag is None:
        tag = _TAGS[names] = ",".join(sorted(names)) + "|"
    return tag


def _unordered_upper(nest: LoopNest, op: str, upper: tuple, readiness: bool, need) -> tuple:
    """The loops above the boundary, with the order `structural_key` shows cannot matter left out."""
    if need == _TILES:
        if not readiness:
            return tuple(sorted(upper))
        y_dims, x_dims = (nest.position_dims[0], "FY"), (nest.position_dims[1], "FX")
        return (tuple(loop for loop in upper if loop[0] in y_dims), tuple(loop for loop in upper if loop[0] in x_dims),
                tuple(sorted(loop for loop in upper if loop[0] not in y_dims and loop[0] not in x_dims)))
    relevant = RELEVANT_UNCOUPLED[op]
    first = next((i for i, (dim, size) in enumerate(upper) if size > 1 and dim in relevant), len(upper))
    above = upper[first:]
    if not readiness:
        return (upper[:first], tuple(sorted(above)))
    coupled = (*nest.position_dims, "FY", "FX")
    return (upper[:first], tuple(loop for loop in above if loop[0] in coupled),
            tuple(sorted(loop for loop in above if loop[0] not in coupled)))


def sequence_events(nest, op, n_inner, served, filtered, touches, need=ALL, key=None) -> SequenceEvents:
    """The per-axis backend where it applies (no overshooting loop empties a tile), else the sum over
    classes of PEs of regular nests (`instance_split`) where the PEs that find tiles empty are independent,
    else the explicit tile walk; all give the same event multisets. `need`: the event lists the caller
    reads. Memoised on `structural_key` (`key`: its `_key_id`, if the caller has it); `touches` must be the
    nest's own (or None without readiness)."""
    def compute() -> SequenceEvents:
        if analytic_applicable(nest, n_inner, served):
            return analytic_events(nest, op, n_inner, served, filtered, touches, need)
        split = split_nests(nest, n_inner, served)
        if split is not None:  # each part with its own touches: they are per instance
            own = (lambda part: None) if touches is None else (lambda part: OutputTouches(part, touches.filtered))
            return summed([tallied(sequence_events(part, op, inner, served, filtered, own(part), need), copies)
                           for part, inner, copies in split])
        return enumerated_events(nest, op, n_inner, served, filtered, touches)

    if touches is None and op == "O":
        # The readiness variant's sequence of outputs holds the same events, only split further by first
        # and last touches; read without them it gives the same multisets, and so the same counts. The
        # mapping-space logger evaluates both variants of every mapping: it computes this one once.
        ready_id = _KEY_IDS.peek(structural_key(nest, op, n_inner, served, filtered, True, need))
        ready = None if ready_id is None else _SEQUENCES.peek(ready_id)
        if ready is not None:
            return ready
    if key is None:
        key = _key_id(structural_key(nest, op, n_inner, served, filtered, touches is not None, need))
    return _SEQUENCES.get_or(key, compute)
