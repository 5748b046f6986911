"""What a level exchanges with its child instances, per transition: the multi-PE rule of design.md.

Every child instance keeps its own tile (`validation.buffers` replays those); nothing moves between
processing elements. At each transition (the change into a tile of the child level, which all children
share since they own the same temporal loops) a parent instance
- sends down the union of what its children take in: one read serves every child that needs the element
  at that moment (multicast);
- takes in once what its children write up at that moment (the adder tree reduces them); copies of one
  element evicted at different moments arrive as separate writes; at the end of the layer every child
  flushes its last tile, one moment.
A child's intake is its tile minus its own previous executed tile; with output readiness only the part the
same child instance touched before (it held its own partial sum). An arrival at the parent is final when no
child of the parent instance touches the element at or after that transition.

The children of a parent instance are the child instances with a processing element in it (when a child
serves an array dimension its parent does not, it is a child of several parent instances).

Replayed from the executed iterations themselves: every (child instance, tile, element) they use, as sorted
integer keys; set differences and unions are sorted-key lookups and `np.unique`. No engine code.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from validation.macstream import Iterations, Layout

__all__ = ["ParentEvents", "Transfers", "parent_replay", "pe_instances"]


@dataclass(frozen=True)
class Transfers:
    """Events of one direction at the parent: rows starts[i]:starts[i+1] are parent instance i's, in time
    order; `count` elements per event, `final` of them final."""

    count: np.ndarray
    final: np.ndarray
    starts: np.ndarray


@dataclass(frozen=True)
class ParentEvents:
    down: Transfers  # union of the children's entries
    down_touched: Transfers  # union of the entries their own instance touched before
    up: Transfers  # union of the evictions of each transition
    flush: Transfers  # union of the last tiles, one event per parent instance


def pe_instances(layout: Layout, served: frozenset[str]) -> np.ndarray:
    """Per PE, the index of the memory instance holding it: mixed radix over the spatial loops on array
    dimensions the memory does not serve (first loop least significant)."""
    pe = np.arange(layout.n_pe, dtype=np.int64)
    inst, radix = np.zeros_like(pe), 1
    for s, sl in enumerate(layout.nest.spatial):
        if sl.array_dim not in served:
            inst += (pe // layout.s_stride[s] % sl.size) * radix
            radix *= sl.size
    return inst


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (by sorting: faster here than numpy 2.3's hash-based np.unique)."""
    values = np.sort(values, kind="stable")
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


def _member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    at = np.searchsorted(sorted_keys, keys)
    return (at < sorted_keys.size) & (sorted_keys[np.minimum(at, sorted_keys.size - 1)] == keys)


class _ChildTiles:
    """Every (child, tile, element) the executed iterations use, sorted; each child's executed tiles in
    time order with their predecessor and successor."""

    def __init__(self, layout: Layout, its: Iterations, op: str, top: int, served: frozenset[str]) -> None:
        mac = its.tensor().reshape(layout.n_steps, layout.n_pe)
        steps, pes = np.nonzero(mac)
        elem = np.broadcast_to(layout.form(layout.components(op)).at(slice(None)), mac.shape)[steps, pes]
        inner = prod(layout.t_sizes[:top])
        self.n_tiles, self.n_elem = layout.n_steps // inner, layout.n_elements(op)
        self.child_of_pe = pe_instances(layout, served)
        child_tile = self.child_of_pe[pes] * self.n_tiles + steps // inner
        self.keys = _sorted_unique(child_tile * self.n_elem + elem)  # (child, tile, element)
        self.ct = self.keys // self.n_elem
        self.elem = self.keys % self.n_elem
        tiles = _sorted_unique(self.ct)  # executed (child, tile), in order
        same = np.zeros(tiles.size, dtype=bool)
        same[1:] = tiles[1:] // self.n_tiles == tiles[:-1] // self.n_tiles
        pred = np.full(tiles.size, -1, dtype=np.int64)
        pred[1:] = np.where(same[1:], tiles[:-1], -1)
        succ = np.full(tiles.size, -1, dtype=np.int64)
        succ[:-1] = np.where(same[1:], tiles[1:], -1)
        at = np.searchsorted(tiles, self.ct)
        self.pred, self.succ = pred[at], succ[at]  # per key: its tile's neighbours (-1: none)

    def first_tile(self) -> np.ndarray:
        """Per key: the first tile in which its child uses its element."""
        child_elem = self.ct // self.n_tiles * self.n_elem + self.elem
        _, inverse = np.unique(child_elem, return_inverse=True)
        first = np.full(inverse.max(initial=-1) + 1, self.n_tiles, dtype=np.int64)
        np.minimum.at(first, inverse, self.ct % self.n_tiles)
        return first[inverse]


def parent_replay(layout: Layout, its: Iterations, op: str, top: int, child_served: frozenset[str],
                  parent_served: frozenset[str]) -> ParentEvents:
    """Per transition, what each parent instance (serving `parent_served`) sends down to and takes in from
    the instances of a child level owning the temporal loops [0, top) and serving `child_served`."""
    ch = _ChildTiles(layout, its, op, top, child_served)
    n_tiles, n_elem = ch.n_tiles, ch.n_elem
    pairs = np.unique(ch.child_of_pe * layout.n_pe + pe_instances(layout, parent_served))
    n_parents = int(pe_instances(layout, parent_served).max()) + 1
    pair_child, pair_parent = pairs // layout.n_pe, pairs % layout.n_pe
    starts = np.searchsorted(pair_child, np.arange(int(ch.child_of_pe.max()) + 2))

    def to_parents(child: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into `child`, parent instance) for every parent each child belongs to."""
        counts = starts[child + 1] - starts[child]
        index = np.repeat(np.arange(child.size), counts)
        offset = np.arange(index.size) - np.repeat(np.cumsum(counts) - counts, counts)
        return index, pair_parent[starts[child][index] + offset]

    child = ch.ct // n_tiles
    tile = ch.ct % n_tiles
    # Entries: elements of a tile its child's previous tile did not hold.
    entering = (ch.pred < 0) | ~_member(ch.keys, ch.pred * n_elem + ch.elem)
    touched = entering & (ch.first_tile() < tile)
    # Evictions at the change into the successor tile, and the last tile's flush at the end.
    has_succ = ch.succ >= 0
    evicted = has_succ & ~_member(ch.keys, ch.succ * n_elem + ch.elem)
    flushed = ~has_succ
    # The last tile in which any child of each parent instance uses each element (finality there).
    k_idx, k_par = to_parents(child)
    last = _last_by(k_par * n_elem + ch.elem[k_idx], tile[k_idx])

    def union(mask: np.ndarray, moment: np.ndarray, final_rule: bool) -> Transfers:
        idx, par = to_parents(child[mask])
        e, t = ch.elem[mask][idx], moment[mask][idx]
        keys = _sorted_unique((par * (n_tiles + 1) + t) * n_elem + e)
        p_t, e = keys // n_elem, keys % n_elem
        rows, count = np.unique(p_t, return_counts=True)
        final = np.zeros(rows.size, dtype=np.int64)
        if final_rule:
            is_final = last(p_t // (n_tiles + 1) * n_elem + e) < p_t % (n_tiles + 1)
            final = np.bincount(np.searchsorted(rows, p_t[is_final]), minlength=rows.size)
        row_starts = np.searchsorted(rows // (n_tiles + 1), np.arange(n_parents + 1))
        return Transfers(count.astype(np.int64), final.astype(np.int64), row_starts)

    succ_tile = np.where(has_succ, ch.succ % n_tiles, n_tiles)
    return ParentEvents(
        down=union(entering, tile, False), down_touched=union(touched, tile, False),
        up=union(evicted, succ_tile, True), flush=union(flushed, np.full(tile.size, n_tiles), True),
    )


def _last_by(keys: np.ndarray, values: np.ndarray):
    """A lookup: key -> the largest value given for it."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    best = np.full(uniq.size, -1, dtype=np.int64)
    np.maximum.at(best, inverse, values)
    return lambda query: best[np.searchsorted(uniq, query)]
