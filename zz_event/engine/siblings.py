"""What a parent level exchanges with several child instances, per transition (design.md, "Several
processing elements").

Every child instance keeps its own tile; nothing is forwarded between processing elements. At each
transition (the change into a tile of the child level, the same moment for all children, which own the
same temporal loops) a parent instance
- reads down, once, the union of what its children take in (multicast): for a child, its tile minus its
  own previous executed tile; for outputs with readiness only the elements that same child instance
  touched before (its own partial sum), without readiness all of them if the parent holds partial sums;
- takes in, once, the union of what its children evict at that moment (the adder tree reduces copies
  written together); copies of one element evicted at different moments are separate writes; at the end
  every child flushes its last tile, one moment. An arrival is final (readiness) when no child of the
  parent instance touches the element at or after that transition.
The children of a parent instance are the child instances with a processing element in it.

The combined tile (`tiles.py`, rule 4) gives the same counts when the children of a parent instance
differ only in digits of exactly tiled uncoupled dimensions: they then execute the same tiles and hold
either disjoint sets (a dimension the operand depends on) or the same set (one it ignores). Otherwise
(`needs_union`: children spread over a position or tap dimension, or over an overshooting dimension, or a
child shared by several parents) the child tiles are walked explicitly by a compiled pass
(`union_kernel.py`): per parent instance, transition and child, a product of per-axis sets (`axes.py`),
set differences by per-axis membership, unions by one stamp per element. Work is proportional to the total
size of the executed child tiles, never to the MACs; memory to the operand's elements. Spatial digits of
exactly tiled B/G/K/C that tell children apart are folded (one value stands for identical copies,
`_folded`); so are those of overshooting ones whose children see the same valid indices (`_classes`).
Loops inside the child tile over such a dimension the operand depends on are factored out: each element of
the walk stands for their copies (`tile_copies.py`).
Temporal loops of exactly tiled B/G/K/C above the child level repeat: their iterations from 1 on (to
size - 2 for outputs over a dimension they do not depend on, whose last iteration ends their sums) see the
same events, so the pass walks iteration 1 once for all of them (`ChildAxes.repeats`). Registers
(one-element tiles) walk an interior run of a position loop's translated iterations once; for outputs
that needs last uses as per-axis sums, where the children are every combination of their per-table parts
(`register_jumps.py`). A child level of one instance under several parents is no walk at all: each parent
reads that child's own tile sequence (`one_child.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.engine import tile_copies
from zz_event.engine.axes import RELEVANT_UNCOUPLED, coupled_axis, digit_fixed, dim_digits, fixed_flags
from zz_event.engine.tiles import UNCOUPLED, _exact_dim
from zz_event.memo import LruMemo
from zz_event.model.nest import LoopNest

__all__ = ["ChildAxes", "Parents", "UnionEvents", "coupled_translates", "distinct", "last_touch", "needs_union",
           "union_events"]


@dataclass(frozen=True)
class UnionEvents:
    """Per (parent instance, transition) element counts at the parent, one entry per event; each entry
    stands for `weight` identical events (parent instances told apart only by a folded digit), times its
    multiplicity in the `*_times` array beside it where there is one (the walk tallies equal events)."""

    down: np.ndarray  # union of the children's entries
    down_touched: np.ndarray  # union of the entries the same child touched before
    up: np.ndarray  # union of the evictions of one transition (and the end-of-layer flush)
    up_final: np.ndarray
    onload: np.ndarray  # per parent instance: its first transition's reads
    weight: int = 1
    down_times: np.ndarray | None = None
    touched_times: np.ndarray | None = None
    up_times: np.ndarray | None = None  # for up and up_final together
    onload_times: np.ndarray | None = None

    def weights(self, times: np.ndarray | None):
        """The weight of each entry of the list that `times` goes with."""
        return np.int64(self.weight) if times is None else times * self.weight


def needs_union(nest: LoopNest, child_served: frozenset[str], parent_served: frozenset[str]) -> bool:
    """Whether the combined tile would miscount: see the module docstring."""
    if not child_served <= parent_served:
        return True
    return any(
        sl.size > 1 and sl.array_dim in parent_served - child_served
        and (sl.dim not in UNCOUPLED or not _exact_dim(nest, sl.dim))
        for sl in nest.spatial
    )


def _folded(nest: LoopNest, served: frozenset[str]) -> list:
    """Spatial loops of exactly tiled uncoupled dimensions that tell a level's instances apart: their
    instances see identical tile sequences up to a relabelling (copies of disjoint data, or of the same
    data), so one value stands for all of them."""
    return [sl for sl in nest.spatial
            if sl.size > 1 and sl.array_dim not in served and sl.dim in UNCOUPLED and _exact_dim(nest, sl.dim)]


def _spatial_index(nest: LoopNest, served: frozenset[str], folded: list) -> tuple[np.ndarray, np.ndarray]:
    """Per PE (first spatial loop least significant): its instance of a memory serving `served`, numbered
    over the loops not folded, and whether every folded digit of the PE is 0 (the PEs that stand for all)."""
    pe = np.arange(prod(sl.size for sl in nest.spatial), dtype=np.int64)
    inst, keep, radix, stride = np.zeros_like(pe), np.ones(pe.size, dtype=bool), 1, 1
    for sl in nest.spatial:
        digit = pe // stride % sl.size
        if sl in folded:
            keep &= digit == 0
        elif sl.array_dim not in served:
            inst, radix = inst + digit * radix, radix * sl.size
        stride *= sl.size
    return inst, keep


class ChildAxes:
    """Per axis of the operand (its relevant uncoupled dimensions, Y, X) a membership table
    member[key, value] and the spec of its key from a (child, tile); per dimension and coupled axis, whether
    a key's tile executes a MAC (gates)."""

    def __init__(self, nest: LoopNest, op: str, n_inner: int, served: frozenset[str], filtered: bool) -> None:
        outer = list(range(n_inner, len(nest.temporal)))
        self.n_tiles = prod(nest.temporal[t].size for t in outer)
        self.loop_sizes = np.array([nest.temporal[t].size for t in outer], dtype=np.int64)  # tile digits
        # Loops of exactly tiled uncoupled dimensions: their iterations from 1 on see the same events (the
        # same tiles, or translates of them in a dimension no other loop or gate couples), each following one
        # like it, so the pass walks iteration 1 once for all of them (`odometer.advance_skipping`). All but
        # the last for outputs over a dimension they do not depend on: that one holds the final sums.
        # Per loop, the last iteration iteration 1 stands for (0: none).
        self.repeats = np.array([_repeats_to(nest, op, nest.temporal[t]) for t in outer], dtype=np.int64)
        self.folded = _folded(nest, served)
        unserved = [sl for sl in nest.spatial if sl.array_dim not in served and sl not in self.folded]
        self.n_child = prod(sl.size for sl in unserved)
        t_stride = dict(zip(outer, np.cumprod([1] + [nest.temporal[t].size for t in outer])[:-1].tolist()))
        s_stride, radix = {}, 1
        for sl in unserved:
            s_stride[(sl.array_dim, sl.dim)] = radix
            radix *= sl.size

        def is_fixed(d) -> bool:
            return digit_fixed(d, n_inner, served)

        def spec(digits) -> tuple:
            """(is temporal, stride in the tile or child index, size, radix in the key) per fixed digit."""
            out, r = [], 1
            for d in digits:
                if is_fixed(d):
                    if d.temporal is not None:
                        out.append((True, t_stride[d.temporal], d.size, r))
                    elif (d.array_dim, d.dim) in s_stride:  # a folded digit stays at 0
                        out.append((False, s_stride[(d.array_dim, d.dim)], d.size, r))
                    r *= d.size
            return tuple(out)

        # (table, key spec, scale of a second key spec) per check of execution and per relevant axis
        self._gates: list[tuple[np.ndarray, tuple, tuple, int]] = []
        self._tables: list[tuple[np.ndarray, tuple, tuple, int]] = []
        self.dim_counts: dict[str, np.ndarray] = {}  # per uncoupled dimension and key: its valid indices
        self.unserved = unserved
        # Every ordering of the same loops with the same digits fixed shares the tables (not their key specs):
        # `signature`, the fixed flags per dimension, with `_digit_places` says which tables.
        signature = []
        for dim in UNCOUPLED:
            digits = dim_digits(nest, dim)
            fixed = fixed_flags(digits, is_fixed)
            member, counts, nonempty = _uncoupled_table(nest, dim, fixed)
            signature.append(fixed)
            self.dim_counts[dim] = counts
            self._gates.append((nonempty, spec(digits), (), 0))
            if dim in RELEVANT_UNCOUPLED[op]:
                self._tables.append((member, spec(digits), (), 0))
        for axis, pos_dim in zip(("Y", "X"), nest.position_dims):
            pos_digits, tap_digits = dim_digits(nest, pos_dim), dim_digits(nest, "F" + axis)
            pos_fixed, tap_fixed = fixed_flags(pos_digits, is_fixed), fixed_flags(tap_digits, is_fixed)
            ax = coupled_axis(nest, axis, op, pos_fixed, tap_fixed, filtered)
            signature += [pos_fixed, tap_fixed]
            self._gates.append((ax.nonempty, spec(pos_digits), spec(tap_digits), ax.npos_keys))
            self._tables.append((ax.mask, spec(pos_digits), spec(tap_digits), ax.npos_keys))
        self.tables = [table for table, *_ in self._tables]
        self.extents = [member.shape[1] for member in self.tables]
        # The order-free key (`union_run`): the layer and spatial mapping, each digit's place and whether fixed.
        self.places = _digit_places(nest)
        self.key = (nest.shape_id, op, filtered, served, self.places, tuple(signature))

    @property
    def counts(self) -> list[np.ndarray]:
        """Per table and key, how many values it holds."""
        return [member.sum(axis=1) for member in self.tables]


_TABLES = LruMemo(1024, max_bytes=32 << 20)


def _uncoupled_table(nest: LoopNest, dim: str, fixed: tuple[bool, ...]):
    """(member[key, index], values per key, whether a key holds any) of an uncoupled dimension whose digits
    `fixed` make up the key, shared by every ordering of the layer's loops."""
    digits = dim_digits(nest, dim)

    def compute():
        index = np.arange(nest.dim_size(dim), dtype=np.int64)
        k_idx, r = np.zeros_like(index), 1
        for d, f in zip(digits, fixed):
            if f:
                k_idx, r = k_idx + index // d.weight % d.size * r, r * d.size
        member = np.zeros((r, index.size), dtype=bool)
        member[k_idx, index] = True
        shared = member, member.sum(axis=1), member.any(axis=1)
        for array in shared:  # every ordering's axes hold them: none may write to them
            array.flags.writeable = False
        return shared

    return _TABLES.get_or((nest.shape_id, dim, tuple((d.size, d.weight) for d in digits), fixed), compute)


def _digit_places(nest: LoopNest) -> tuple:
    """Per dimension of the tables, its digits' sizes and whether each is temporal (else its array
    dimension): with the layer, the spatial mapping and the fixed flags, all that the tables, the children
    and their classes depend on (not the order of the loops)."""
    return tuple(tuple((d.size, d.temporal is None or d.array_dim) for d in dim_digits(nest, dim))
                 for dim in (*UNCOUPLED, *nest.position_dims, "FY", "FX"))


def _repeats_to(nest: LoopNest, op: str, loop) -> int:
    """`ChildAxes.repeats` of one loop above the children."""
    if loop.dim not in UNCOUPLED or not _exact_dim(nest, loop.dim):
        return 0
    last = loop.size - 1 if op != "O" or loop.dim in RELEVANT_UNCOUPLED[op] else loop.size - 2
    return last if last > 1 else 0


class Parents:
    """Which parent instances each child instance belongs to (those sharing a PE with it)."""

    def __init__(self, nest: LoopNest, child_served: frozenset[str], parent_served: frozenset[str], axes: ChildAxes):
        self.n_pe = n_pe = prod(sl.size for sl in nest.spatial)
        n_child = axes.n_child
        child, keep = _spatial_index(nest, child_served, axes.folded)
        parent, _ = _spatial_index(nest, parent_served, axes.folded)
        pairs = distinct((child * n_pe + parent)[keep])
        self.parent = pairs % n_pe
        self.starts = np.searchsorted(pairs // n_pe, np.arange(n_child + 1))

    def of(self, child: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into `child`, parent instance) for every parent of every child where `mask`."""
        idx = np.flatnonzero(mask)
        counts = self.starts[child[idx] + 1] - self.starts[child[idx]]
        offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        idx = np.repeat(idx, counts)
        return idx, self.parent[self.starts[child[idx]] + offset]


def last_touch(parents: Parents, child: np.ndarray, tile: np.ndarray, elem: np.ndarray, n_elem: int):
    """A lookup (parent instance * n_elem + element) -> the last tile in which a child of it uses it."""
    idx, parent = parents.of(child, np.ones(child.size, dtype=bool))
    keys, inverse = np.unique(parent * n_elem + elem[idx], return_inverse=True)
    last = np.full(keys.size, -1, dtype=np.int64)
    np.maximum.at(last, inverse, tile[idx])
    return lambda query: last[np.searchsorted(keys, query)]


class _UnionWalk:
    """One boundary's child tiles (`ChildAxes`), parents, and the folded digits' scale and weight."""

    def __init__(self, nest, op, n_inner, child_served, parent_served, filtered, copies: int = 1) -> None:
        self.axes = axes = ChildAxes(nest, op, n_inner, child_served, filtered)
        self.parents = _PARENTS.get_or((nest.shape_id, axes.places, child_served, parent_served),
                                       lambda: Parents(nest, child_served, parent_served, axes))
        self.op, self.nest, self.parent_served = op, nest, parent_served
        self.n_tiles, self.n_elem = axes.n_tiles, prod(axes.extents)
        # Folded digits (`_folded`): the parent serves some (siblings holding disjoint copies of the operand's
        # data add up, copies of the same data count once), the others tell identical parent instances apart.
        # `copies`: the elements each of this nest's stands for (`tile_copies.factored`).
        self.scale = copies * prod(sl.size for sl in axes.folded
                                   if sl.array_dim in parent_served and sl.dim in RELEVANT_UNCOUPLED[op])
        self.weight = prod(sl.size for sl in axes.folded if sl.array_dim not in parent_served)


_PARENTS = LruMemo(256)


def _classes(walk: _UnionWalk, parent_served: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Which children stand for a class of identical ones, and how many copies of disjoint data each stands for.

    Children that differ only in spatial digits of an overshooting uncoupled dimension, served by the parent,
    and see the same number of its valid indices at every value of its tile digits execute the same tiles
    and hold the same data (a dimension the operand ignores: one stands for all) or disjoint copies of it
    (one it depends on: one, counted once per copy). So one child per class is walked."""
    axes, nest = walk.axes, walk.nest
    child = np.arange(axes.n_child, dtype=np.int64)
    rep, mult = np.ones(axes.n_child, dtype=bool), np.ones(axes.n_child, dtype=np.int64)
    stride, radix = {}, 1
    for sl in axes.unserved:
        stride[sl], radix = radix, radix * sl.size
    for g, dim in enumerate(UNCOUPLED):
        loops = [sl for sl in axes.unserved if sl.dim == dim]
        if _exact_dim(nest, dim) or not loops or any(sl.array_dim not in parent_served for sl in loops):
            continue
        a = axes._gates[g][1]  # an uncoupled dimension's key spec has no second part
        child_key = _child_key([row for row in a if not row[0]], child)
        temporal = [row for row in a if row[0]]
        n_t = prod(size for _t, _stride, size, _r in temporal)
        tile_key = np.zeros(n_t, dtype=np.int64)
        radix_t = 1
        for _t, _stride, size, r in temporal:
            tile_key += np.arange(n_t, dtype=np.int64) // radix_t % size * r
            radix_t *= size
        combo = np.zeros_like(child)  # the child's digits of this dimension
        radix_c = 1
        for sl in loops:
            combo += child // stride[sl] % sl.size * radix_c
            radix_c *= sl.size
        first_child = np.unique(combo, return_index=True)[1]  # one child per combo (digit values)
        rows = axes.dim_counts[dim][child_key[first_child][:, None] + tile_key[None, :]]
        _, first, klass, size = np.unique(rows, axis=0, return_index=True, return_inverse=True, return_counts=True)
        klass = klass.ravel()[combo]
        rep &= combo == first[klass]
        if dim in RELEVANT_UNCOUPLED[walk.op]:
            mult *= size[klass]
    for i, (axis, pos_dim) in enumerate(zip(("Y", "X"), nest.position_dims)):
        loops = [sl for sl in axes.unserved if sl.dim in (pos_dim, "F" + axis)]
        if not loops or any(sl.array_dim not in parent_served for sl in loops):
            continue
        combo, radix_c = np.zeros_like(child), 1
        for sl in loops:
            combo += child // stride[sl] % sl.size * radix_c
            radix_c *= sl.size
        copies = _coupled_copies(axes, len(axes._tables) - 2 + i, len(UNCOUPLED) + i, child, combo)
        if copies:
            rep &= combo == 0
            mult *= copies
    return rep, mult


def _coupled_copies(axes: ChildAxes, table: int, gate: int, child: np.ndarray, combo: np.ndarray) -> int:
    """How many copies of disjoint data children differing only in spatial digits of a coupled axis stand
    for at a parent (`coupled_translates`): 1 if the same elements, their number if translates no two of
    them ever share (a union is then a sum), else 0 (walk each)."""
    kind, n = coupled_translates(axes, table, gate, child, combo)
    return {"same": 1, "disjoint": n}.get(kind, 0)


def coupled_translates(axes: ChildAxes, table: int, gate: int, child: np.ndarray, combo: np.ndarray) -> tuple[str, int]:
    """Whether the children (instances) differing only in spatial digits of a coupled axis (`combo`, 0 for
    the one with every digit 0) see the same tiles up to a relabelling: ("same", n) if they execute the same
    tiles and hold the same elements of the axis at every tile, ("disjoint", n) if they hold translates of
    one another's elements that no two of them ever share, ("translates", n) if translates that some share,
    else ("", n); n is the number of distinct combos.

    A 1x1 convolution's output rows over processing elements are disjoint translates; a kernel's halo
    makes neighbours' translates overlap."""
    member, a, b, scale = axes._tables[table]
    nonempty = axes._gates[gate][0]
    temporal = [(size, r) for t, _s, size, r in a if t] + [(size, r * scale) for t, _s, size, r in b if t]
    n_t = prod(size for size, _r in temporal)
    tile_key, radix_t = np.zeros(n_t, dtype=np.int64), 1
    for size, r in temporal:
        tile_key += np.arange(n_t, dtype=np.int64) // radix_t % size * r
        radix_t *= size
    child_key = (_child_key([row for row in a if not row[0]], child)
                 + _child_key([row for row in b if not row[0]], child) * scale)
    firsts = np.unique(combo, return_index=True)[1]  # one child per combo, combo 0 first
    rows = [member[child_key[c] + tile_key] for c in firsts]
    gates = [nonempty[child_key[c] + tile_key] for c in firsts]
    if any(not np.array_equal(g, gates[0]) for g in gates):
        return "", len(rows)
    if all(np.array_equal(r, rows[0]) for r in rows):
        return "same", len(rows)
    held = [np.flatnonzero(r.any(axis=0)) for r in rows]  # every element of the axis a child ever holds
    if any(h.size != held[0].size for h in held):
        return "", len(rows)
    for r, h in zip(rows, held):
        shift = int(h[0] - held[0][0]) if h.size else 0
        if not np.array_equal(h, held[0] + shift) or not np.array_equal(r[:, h], rows[0][:, held[0]]):
            return "", len(rows)
    together = np.concatenate(held)
    return ("disjoint" if np.unique(together).size == together.size else "translates"), len(rows)


def _child_key(rows, child: np.ndarray) -> np.ndarray:
    """The part of a key spec's key that the child index sets."""
    k = np.zeros_like(child)
    for _t, stride, size, r in rows:
        k += child // stride % size * r
    return k


def union_events(nest: LoopNest, op: str, n_inner: int, child_served: frozenset[str], parent_served: frozenset[str],
                 filtered: bool) -> UnionEvents:
    """The parent side of the boundary above a child level owning the temporal loops [0, n_inner). For
    outputs both switch settings of readiness at once (they share every set)."""
    from zz_event.engine.one_child import one_child, one_child_events  # noqa: PLC0415  (imports this module)
    from zz_event.engine.union_run import compiled_events  # noqa: PLC0415  (numba, on first use)

    if one_child(nest, child_served):
        return one_child_events(nest, op, n_inner, child_served, parent_served, filtered)
    nest, n_inner, copies = tile_copies.factored(nest, op, n_inner)
    return compiled_events(_UnionWalk(nest, op, n_inner, child_served, parent_served, filtered, copies))


def distinct(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy 2.3's hash-based unique is several times slower on these int64 keys)."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]
