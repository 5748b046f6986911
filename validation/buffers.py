"""Explicit memory buffers: one per instance of a memory level (or register bank), replayed tile by tile.

A `TileReplay` follows one operand through one *grouping* (top, served): the tiles of a level whose
instance holds the temporal loops [0, top) and serves the array dimensions `served`. It keeps, per
instance, the set of element ids the level currently holds (`held`), and at every tile that executes
a MAC it records what the change moves (residency rules of design.md):

- `size` |T|, `entries` |T - H| and `evicted` |H - T| (H = the instance's previous executed tile);
- for output readiness, given the first and last step at which the instance's own MACs touch each
  output element:
  `entries_touched` (entries touched before the tile starts), `size_touched` (elements of T touched
  before the tile starts), `size_final` (elements of T never touched after the tile ends) and
  `evicted_final` (evicted elements never touched at or after the eviction, i.e. the tile's start).
At the end each instance's buffer is flushed (`flush_size`, `flush_final`).

Sets are sorted arrays of packed int64 keys (instance, element, slot): slot 0 is the buffer carried in
from earlier blocks, slot s >= 1 the s-th tile of the block. Sorting puts every element's successive
residencies side by side, so "was it in the previous executed tile" is a comparison of neighbours.
Records that exactly repeat a neighbouring MAC of the same tile and instance (the same PE one step of
an inner loop earlier, or the neighbouring PE along a served spatial loop) are dropped before sorting;
this only removes duplicates and keeps the replay exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from validation.macstream import Block, Layout

__all__ = ["Touches", "TileEvents", "TileReplay", "element_bits"]


@dataclass(frozen=True)
class Touches:
    """First and last step at which each (instance, output element) is touched by an executed MAC of the
    instance's own PEs, indexed by `(instance << element_bits(n_elements)) | element` (readiness is
    tracked per instance: an instance holds its own partial sum of an element)."""

    first: np.ndarray
    last: np.ndarray
    end: int  # number of steps


@dataclass(frozen=True)
class TileEvents:
    """One row per (instance, executed tile) (grouped by block, not sorted); one flush row per instance."""

    inst: np.ndarray
    tile: np.ndarray
    size: np.ndarray
    entries: np.ndarray
    evicted: np.ndarray
    first_of_instance: np.ndarray  # bool: the instance held nothing before this tile
    entries_touched: np.ndarray
    size_touched: np.ndarray
    size_final: np.ndarray
    evicted_final: np.ndarray
    flush_inst: np.ndarray
    flush_size: np.ndarray
    flush_final: np.ndarray


IRRELEVANT = {"W": "B", "I": "K", "O": "C"}  # the one uncoupled dimension each operand does not depend on
_FIELDS = ("inst", "tile", "size", "entries", "evicted", "first_of_instance", "entries_touched", "size_touched",
           "size_final", "evicted_final")


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    keys = np.sort(keys)
    if keys.size:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    return keys


def element_bits(n_elements: int) -> int:
    """Bits of an element id inside the packed (instance, element) key `(inst << bits) | element`."""
    return max(1, int(n_elements - 1).bit_length())


class TileReplay:
    def __init__(self, layout: Layout, op: str, top: int, served: frozenset[str], touches: Touches | None) -> None:
        self.op = op
        self.layout = layout
        self.inner = prod(layout.t_sizes[:top])
        self.inst_of_pe, self.n_inst = layout.instances(served)
        self.eb = element_bits(layout.n_elements(op))
        self.spans_blocks = self.inner > layout.block_steps
        slots = 2 if self.spans_blocks else layout.block_steps // self.inner + 1
        self.sb = int(slots - 1).bit_length()  # bits of the slot (0 = carried buffer, s >= 1 = s-th tile)
        if int(self.n_inst - 1).bit_length() + self.eb + self.sb > 62:
            raise ValueError("layer too large for 63-bit (instance, element, slot) keys; use smaller blocks")
        self.touches = touches
        self._plan(layout, op, top, served)
        self.held = np.empty(0, dtype=np.int64)  # sorted keys (inst << eb) | element
        # Register banks with one replayed PE each (tiles = steps, one element per tile): column by column.
        self.per_pe = top == 0 and self.kept_inst.size == self.n_inst
        self.carried = np.full(self.kept_inst.size, -1, dtype=np.int64)  # per replayed PE (per_pe only)
        self.open: list[np.ndarray] = []
        self.rows: list[dict[str, np.ndarray]] = []

    def _plan(self, layout: Layout, op: str, top: int, served: frozenset[str]) -> None:
        """Which (step, PE) records to look at, and which neighbours may repeat a record of the same group.

        Loops over the dimension the operand does not depend on (W: B, I: K, O: C) that run inside one
        tile of one instance (temporal loops below `top`, spatial loops on served array dimensions) repeat
        the same elements with the same validity unless they overshoot: only their first value is
        replayed (`index`). Other inner loops and served spatial loops may still repeat elements: a
        record equal to its neighbour one digit earlier is dropped before sorting (`_records`)."""
        nest, bt = layout.nest, layout.block_top
        dim = IRRELEVANT[op]
        droppable = dim not in layout.overshoots
        t_drop = [droppable and t < top and nest.temporal[t].dim == dim and layout.t_sizes[t] > 1 for t in range(bt)]
        s_drop = [droppable and sl.array_dim in served and sl.dim == dim and sl.size > 1 for sl in nest.spatial]
        self.index = None
        if any(t_drop) or any(s_drop):
            self.full_shape = tuple(reversed(layout.t_sizes[:bt])) + tuple(reversed(layout.s_sizes))
            self.index = tuple(0 if d else slice(None) for d in list(reversed(t_drop)) + list(reversed(s_drop)))
        kept_t = [t for t in range(bt) if not t_drop[t]]
        stride = {t: prod(layout.t_sizes[u] for u in kept_t if u < t) for t in kept_t}
        self.steps = prod(layout.t_sizes[t] for t in kept_t)  # replayed steps per block
        if not self.spans_blocks:
            self.inner_rows = prod(layout.t_sizes[t] for t in kept_t if t < top)  # replayed steps per tile
        self.step_neighbours = [(stride[t], layout.t_sizes[t]) for t in kept_t
                                if t < top and layout.t_sizes[t] > 1 and stride[t] < self.steps]
        pe = np.arange(layout.n_pe)
        kept_pe = np.ones(layout.n_pe, dtype=bool)
        for s, drop in enumerate(s_drop):
            if drop:
                kept_pe &= (pe // layout.s_stride[s]) % nest.spatial[s].size == 0
        pe = pe[kept_pe]
        self.kept_inst = self.inst_of_pe[kept_pe]
        self.pe_key = self.kept_inst << self.eb
        kept_s = [s for s in range(len(nest.spatial)) if not s_drop[s]]
        self.pe_neighbours = [
            (prod(nest.spatial[u].size for u in kept_s if u < s), (pe // layout.s_stride[s]) % sl.size > 0)
            for s, sl in enumerate(nest.spatial) if s in kept_s and sl.array_dim in served and sl.size > 1
        ]

    # -- feeding ---------------------------------------------------------------------------------------
    def _records(self, grid: np.ndarray) -> np.ndarray:
        """Mask of the (step, PE) records to keep: executed MACs that do not repeat a same-tile neighbour."""
        keep = grid >= 0
        steps = np.arange(grid.shape[0])[:, None]
        for shift, size in self.step_neighbours:
            same = grid[shift:] == grid[:-shift]
            same &= ((steps[shift:] // shift) % size) > 0
            keep[shift:] &= ~same
        for shift, later in self.pe_neighbours:
            same = grid[:, shift:] == grid[:, :-shift]
            same &= later[shift:]
            keep[:, shift:] &= ~same
        return keep

    def feed(self, block: Block, grid: np.ndarray) -> None:
        """`grid`: (steps, PEs) element ids of this operand, -1 where no MAC executes."""
        if self.index is not None:
            grid = grid.reshape(self.full_shape)[self.index].reshape(self.steps, -1)
        if self.per_pe:
            self._feed_columns(block, grid)
            return
        keep = self._records(grid)
        if self.spans_blocks:
            self.open.append(_sorted_unique((self.pe_key[None, :] | grid)[keep]))
            if (block.step0 + block.n_steps) % self.inner == 0:
                self._close(block.step0 // self.inner)
            return
        slot = (np.arange(self.steps, dtype=np.int64) // self.inner_rows + 1)[:, None]
        keys = (((self.pe_key[None, :] | grid) << self.sb) | slot)[keep]
        self._advance(_sorted_unique(np.concatenate([self.held << self.sb, keys])), block.step0 // self.inner)

    def _close(self, tile: int) -> None:
        ie = _sorted_unique(np.concatenate(self.open)) if self.open else np.empty(0, dtype=np.int64)
        self.open = []
        self._advance(_sorted_unique(np.concatenate([self.held << self.sb, (ie << self.sb) | 1])), tile)

    def _feed_columns(self, block: Block, grid: np.ndarray) -> None:
        """One PE per instance and one step per tile: each tile is one element, H the PE's last one.

        The executed MACs are taken PE by PE (column-major), so each record's predecessor in the same
        register bank is the record before it, or the element carried in from earlier blocks."""
        pes, rows = np.nonzero((grid >= 0).T)
        elem = grid[rows, pes]
        first_of_pe = np.ones(rows.size, dtype=bool)
        first_of_pe[1:] = pes[1:] != pes[:-1]
        held = np.empty_like(elem)
        held[1:] = elem[:-1]
        held[first_of_pe] = self.carried[pes[first_of_pe]]
        inst = self.kept_inst[pes]
        tile = block.step0 + rows
        changed = held != elem
        gone = changed & (held >= 0)
        row = {"inst": inst, "tile": tile, "size": np.ones(rows.size, dtype=np.int64),
               "entries": changed.astype(np.int64), "evicted": gone.astype(np.int64), "first_of_instance": held < 0}
        if self.touches is not None:
            ie = (inst << self.eb) | elem
            first, last = self.touches.first[ie], self.touches.last[ie]
            row["size_touched"] = (first < tile).astype(np.int64)
            row["entries_touched"] = (changed & (first < tile)).astype(np.int64)
            row["size_final"] = (last <= tile).astype(np.int64)
            last_held = self.touches.last[(inst << self.eb) | np.maximum(held, 0)]
            row["evicted_final"] = (gone & (last_held < tile)).astype(np.int64)
        self.rows.append(row)
        last_of_pe = np.ones(rows.size, dtype=bool)
        last_of_pe[:-1] = first_of_pe[1:]
        self.carried[pes[last_of_pe]] = elem[last_of_pe]
        has = self.carried >= 0
        self.held = np.sort((self.kept_inst[has] << self.eb) | self.carried[has])

    # -- one batch of complete tiles -------------------------------------------------------------------
    def _advance(self, keys: np.ndarray, tile0: int) -> None:
        """`keys`: sorted unique (inst, element, slot); slot 0 = carried buffer, slot s >= 1 = tile tile0+s-1."""
        if keys.size == 0:
            return
        sb = self.sb
        ie, slot = keys >> sb, keys & ((1 << sb) - 1)
        gkey = ((ie >> self.eb) << sb) | slot
        counts = np.bincount(gkey, minlength=self.n_inst << sb)
        groups = np.flatnonzero(counts)  # present (instance, slot) pairs, by instance then slot
        n = groups.size
        g_size, g_inst, g_slot = counts[groups], groups >> sb, groups & ((1 << sb) - 1)
        lookup = np.empty(counts.size, dtype=np.int64)
        lookup[groups] = np.arange(n)
        gi = lookup[gkey]  # compressed group of every record
        has_pred = np.zeros(n, dtype=bool)
        has_pred[1:] = g_inst[1:] == g_inst[:-1]
        has_next = np.zeros(n, dtype=bool)
        has_next[:-1] = has_pred[1:]
        # Successive residencies of one (instance, element) are neighbours in `keys`; a record was in its
        # group's predecessor iff the record before it is the same element one present group earlier
        # (of the same instance, which the same element key implies).
        in_pred = np.zeros(keys.size, dtype=bool)
        in_pred[1:] = (ie[1:] == ie[:-1]) & (gi[:-1] == gi[1:] - 1)
        in_next = np.zeros(keys.size, dtype=bool)
        in_next[:-1] = in_pred[1:]
        inter = np.bincount(gi[in_pred], minlength=n)
        pred_size = np.zeros(n, dtype=np.int64)
        pred_size[1:] = g_size[:-1]
        tile = tile0 + g_slot - 1
        row = {"inst": g_inst, "tile": tile, "size": g_size, "entries": g_size - inter,
               "evicted": np.where(has_pred, pred_size - inter, 0), "first_of_instance": ~has_pred}
        if self.touches is not None:
            first, last = self.touches.first[ie], self.touches.last[ie]
            start = tile * self.inner
            rec_start = start[gi]
            before = first < rec_start
            row["size_touched"] = np.bincount(gi[before], minlength=n)
            row["entries_touched"] = np.bincount(gi[before & ~in_pred], minlength=n)
            row["size_final"] = np.bincount(gi[last < rec_start + self.inner], minlength=n)
            nxt = np.minimum(gi + 1, n - 1)
            leaving = has_next[gi] & ~in_next & (last < start[nxt])
            row["evicted_final"] = np.bincount(nxt[leaving], minlength=n)
        real = g_slot >= 1
        self.rows.append({k: v[real] for k, v in row.items()})
        self.held = ie[~has_next[gi]]

    # -- end of the layer ------------------------------------------------------------------------------
    def finish(self) -> TileEvents:
        if self.open:
            raise AssertionError("a tile spanning blocks was left open at the end of the layer")
        cat = {}
        for f in _FIELDS:
            parts = [r[f] for r in self.rows if f in r]
            cat[f] = np.concatenate(parts) if parts else None
        if cat["inst"] is None:
            cat["inst"] = cat["tile"] = cat["size"] = cat["entries"] = cat["evicted"] = np.zeros(0, dtype=np.int64)
            cat["first_of_instance"] = np.zeros(0, dtype=bool)
        for f in ("entries_touched", "size_touched", "size_final", "evicted_final"):
            if cat[f] is None:
                cat[f] = np.zeros_like(cat["size"])
        h_inst = self.held >> self.eb
        flush_inst, flush_size = np.unique(h_inst, return_counts=True)
        if self.touches is not None:
            done = self.touches.last[self.held] < self.touches.end
            flush_final = np.bincount(h_inst[done], minlength=self.n_inst)[flush_inst]
        else:
            flush_final = np.zeros_like(flush_size)
        return TileEvents(**cat, flush_inst=flush_inst, flush_size=flush_size, flush_final=flush_final)
