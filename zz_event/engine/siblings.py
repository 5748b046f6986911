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
child shared by several parents) the child tiles are built here explicitly: per (child instance, tile) a
product of per-axis sets (`axes.py`), expanded into element ids, set differences by per-axis membership,
unions by sorting. Work is proportional to the total size of the child tiles, never to the MACs; spatial
digits of exactly tiled B/G/K/C that tell children apart are folded (one value stands for identical
copies, `_folded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, coupled_axis, digit_fixed, dim_digits, fixed_flags
from zz_event.engine.budget import check_budget
from zz_event.engine.tiles import UNCOUPLED, _exact_dim
from zz_event.model.nest import LoopNest

__all__ = ["UnionEvents", "needs_union", "union_events"]


@dataclass(frozen=True)
class UnionEvents:
    """Per (parent instance, transition) element counts at the parent, one entry per event; each entry
    stands for `weight` identical events (parent instances told apart only by a folded digit)."""

    down: np.ndarray  # union of the children's entries
    down_touched: np.ndarray  # union of the entries the same child touched before
    up: np.ndarray  # union of the evictions of one transition (and the end-of-layer flush)
    up_final: np.ndarray
    onload: np.ndarray  # per parent instance: its first transition's reads
    weight: int = 1


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


class _Axes:
    """Per axis of the operand (its relevant uncoupled dimensions, Y, X) a membership table
    member[key, value] and each (child, tile)'s key; plus whether each (child, tile) executes."""

    def __init__(self, nest: LoopNest, op: str, n_inner: int, served: frozenset[str], filtered: bool) -> None:
        outer = list(range(n_inner, len(nest.temporal)))
        self.n_tiles = prod(nest.temporal[t].size for t in outer)
        self.folded = _folded(nest, served)
        unserved = [sl for sl in nest.spatial if sl.array_dim not in served and sl not in self.folded]
        self.n_child = prod(sl.size for sl in unserved)
        # `executed` and a key per axis over every (child, tile)
        check_budget(self.n_child * self.n_tiles, 64, "per-child tile walk (several PEs per memory)")
        tile = np.arange(self.n_tiles, dtype=np.int64)[None, :]
        child = np.arange(self.n_child, dtype=np.int64)[:, None]
        t_stride = dict(zip(outer, np.cumprod([1] + [nest.temporal[t].size for t in outer])[:-1].tolist()))
        s_stride, radix = {}, 1
        for sl in unserved:
            s_stride[(sl.array_dim, sl.dim)] = radix
            radix *= sl.size
        def is_fixed(d) -> bool:
            return digit_fixed(d, n_inner, served)

        def key(digits) -> np.ndarray:
            k, r = np.zeros((1, 1), dtype=np.int64), 1
            for d in digits:
                if is_fixed(d):
                    if d.temporal is not None:
                        k = k + tile // t_stride[d.temporal] % d.size * r
                    elif (d.array_dim, d.dim) in s_stride:  # a folded digit stays at 0
                        k = k + child // s_stride[(d.array_dim, d.dim)] % d.size * r
                    r *= d.size
            return k

        self.executed = np.ones((self.n_child, self.n_tiles), dtype=bool)
        self.tables: list[tuple[np.ndarray, np.ndarray]] = []  # (member, key) per relevant axis
        for dim in UNCOUPLED:
            digits = dim_digits(nest, dim)
            index = np.arange(nest.dim_size(dim), dtype=np.int64)
            k_idx, r = np.zeros_like(index), 1
            for d in digits:
                if is_fixed(d):
                    k_idx, r = k_idx + index // d.weight % d.size * r, r * d.size
            member = np.zeros((r, index.size), dtype=bool)
            member[k_idx, index] = True
            k = key(digits)
            self.executed &= member.any(axis=1)[k]
            if dim in RELEVANT_UNCOUPLED[op]:
                self.tables.append((member, k))
        for axis, pos_dim in zip(("Y", "X"), nest.position_dims):
            pos_digits, tap_digits = dim_digits(nest, pos_dim), dim_digits(nest, "F" + axis)
            ax = coupled_axis(nest, axis, op, fixed_flags(pos_digits, is_fixed), fixed_flags(tap_digits, is_fixed),
                              filtered)
            k = key(pos_digits) + key(tap_digits) * ax.npos_keys
            self.executed &= ax.nonempty[k]
            self.tables.append((ax.mask, k))
        self.extents = [member.shape[1] for member, _ in self.tables]

    def keys_at(self, child: np.ndarray, tile: np.ndarray) -> list[np.ndarray]:
        """Per axis, the key of each tile (child, tile)."""
        return [np.broadcast_to(k, self.executed.shape)[child, tile] for _, k in self.tables]

    def expand(self, keys: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        """The elements of the tiles with the given keys: (tile row, per-axis coordinates), rows in order."""
        row = np.arange(keys[0].size if keys else 1, dtype=np.int64)
        coords: list[np.ndarray] = []
        for (member, _), k in zip(self.tables, keys):
            counts = member.sum(axis=1)
            _, values = np.nonzero(member)  # values sorted per key
            n = counts[k[row]]
            within = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
            start = np.repeat((np.cumsum(counts) - counts)[k[row]], n)
            coords = [np.repeat(c, n) for c in coords] + [values[start + within]]
            row = np.repeat(row, n)
        return row, coords

    def elements(self, keys: list[np.ndarray]) -> int:
        """How many (tile, element) rows `expand(keys)` gives, without expanding."""
        sizes = np.ones(keys[0].shape if keys else 1, dtype=np.int64)
        for (member, _), k in zip(self.tables, keys):
            sizes *= member.sum(axis=1)[k]
        return int(sizes.sum())

    def element(self, coords: list[np.ndarray]) -> np.ndarray:
        elem = np.zeros_like(coords[0]) if coords else np.zeros(1, dtype=np.int64)
        for c, extent in zip(coords, self.extents):
            elem = elem * extent + c
        return elem

    def holds(self, keys: list[np.ndarray], rows: np.ndarray, coords: list[np.ndarray]) -> np.ndarray:
        """Whether the tile of each given row holds the element with these coordinates."""
        inside = np.ones(rows.shape, dtype=bool)
        for (member, _), k, c in zip(self.tables, keys, coords):
            inside &= member[k[rows], c]
        return inside


class _Parents:
    """Which parent instances each child instance belongs to (those sharing a PE with it)."""

    def __init__(self, nest: LoopNest, child_served: frozenset[str], parent_served: frozenset[str], axes: _Axes):
        n_pe, n_child = prod(sl.size for sl in nest.spatial), axes.n_child
        child, keep = _spatial_index(nest, child_served, axes.folded)
        parent, _ = _spatial_index(nest, parent_served, axes.folded)
        pairs = _distinct((child * n_pe + parent)[keep])
        self.parent = pairs % n_pe
        self.starts = np.searchsorted(pairs // n_pe, np.arange(n_child + 1))

    def of(self, child: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into `child`, parent instance) for every parent of every child where `mask`."""
        idx = np.flatnonzero(mask)
        counts = self.starts[child[idx] + 1] - self.starts[child[idx]]
        offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        idx = np.repeat(idx, counts)
        return idx, self.parent[self.starts[child[idx]] + offset]


def _last_touch(parents: _Parents, child: np.ndarray, tile: np.ndarray, elem: np.ndarray, n_elem: int):
    """A lookup (parent instance * n_elem + element) -> the last tile in which a child of it uses it."""
    idx, parent = parents.of(child, np.ones(child.size, dtype=bool))
    keys, inverse = np.unique(parent * n_elem + elem[idx], return_inverse=True)
    last = np.full(keys.size, -1, dtype=np.int64)
    np.maximum.at(last, inverse, tile[idx])
    return lambda query: last[np.searchsorted(keys, query)]


def union_events(nest: LoopNest, op: str, n_inner: int, child_served: frozenset[str], parent_served: frozenset[str],
                 filtered: bool) -> UnionEvents:
    """The parent side of the boundary above a child level owning the temporal loops [0, n_inner). For
    outputs both switch settings of readiness at once (they share every set)."""
    axes = _Axes(nest, op, n_inner, child_served, filtered)
    n_tiles, n_elem = axes.n_tiles, prod(axes.extents)
    child, tile = np.nonzero(axes.executed)  # each child's executed tiles, in time order
    keys = axes.keys_at(child, tile)
    # About twenty int64 arrays over every element of every executed child tile stay alive below.
    check_budget(axes.elements(keys), 160, "per-child element walk (several PEs per memory)")
    row, coords = axes.expand(keys)  # every element of every executed tile
    elem = axes.element(coords)
    # The previous (next) executed tile of the same child is the previous (next) row.
    has_pred = np.zeros(child.size, dtype=bool)
    has_pred[1:] = child[1:] == child[:-1]
    has_succ = np.append(has_pred[1:], False)
    before, after = has_pred[row], has_succ[row]
    c, t = child[row], tile[row]
    entering = ~before | ~axes.holds(keys, np.maximum(row - 1, 0), coords)
    parents = _Parents(nest, child_served, parent_served, axes)
    # Folded digits (`_folded`): the parent serves some (siblings holding disjoint copies of the operand's
    # data add up, copies of the same data count once), the others tell identical parent instances apart.
    scale = prod(sl.size for sl in axes.folded if sl.array_dim in parent_served and sl.dim in RELEVANT_UNCOUPLED[op])
    weight = prod(sl.size for sl in axes.folded if sl.array_dim not in parent_served)

    def per_event(mask: np.ndarray, when: np.ndarray, last=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(event ids, elements, final elements) of the union per (parent instance, moment)."""
        idx, parent = parents.of(c, mask)
        moment = parent * (n_tiles + 1) + when[idx]
        pairs = _distinct(moment * n_elem + elem[idx])
        events, count = np.unique(pairs // n_elem, return_counts=True)
        final = np.zeros(events.size, dtype=np.int64)
        if last is not None:  # final: no child of the parent instance uses the element at or after then
            done = last(pairs // n_elem // (n_tiles + 1) * n_elem + pairs % n_elem) < pairs // n_elem % (n_tiles + 1)
            final = np.bincount(np.searchsorted(events, pairs[done] // n_elem), minlength=events.size)
        return events, count.astype(np.int64) * scale, final.astype(np.int64) * scale

    down_events, down, _ = per_event(entering, t)
    onload = down[np.unique(down_events // (n_tiles + 1), return_index=True)[1]]
    if op != "O":
        return UnionEvents(down, down, _NONE, _NONE, onload, weight)
    leaving = ~after | ~axes.holds(keys, np.minimum(row + 1, child.size - 1), coords)
    when = np.where(after, np.append(tile[1:], 0)[row], n_tiles)  # at the successor; the flush at the end
    # Readiness: a child reads an element down only if it used it in an earlier tile (its own partial sum).
    _, inverse = np.unique(c * n_elem + elem, return_inverse=True)
    first = np.full(inverse.max(initial=-1) + 1, n_tiles, dtype=np.int64)
    np.minimum.at(first, inverse, t)
    _, touched, _ = per_event(entering & (first[inverse] < t), t)
    _, up, up_final = per_event(leaving, when, _last_touch(parents, c, t, elem, n_elem))
    return UnionEvents(down, touched, up, up_final, onload, weight)


_NONE = np.zeros(0, dtype=np.int64)


def _distinct(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy 2.3's hash-based unique is several times slower on these int64 keys)."""
    values = np.sort(values)
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]
