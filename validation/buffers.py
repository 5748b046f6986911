"""Every memory level of every operand as explicit per-instance buffers (`validation.macstream`), replayed
tile by tile.

`replay` follows one operand through one *grouping* (top, served): the tiles of a level whose instance
holds the temporal loops [0, top) and serves the array dimensions `served`. The tile of (instance, tile
index) is the set T of elements used by the executed MACs of steps [tile*inner, (tile+1)*inner) on the
instance's PEs; H is the instance's previous executed tile. For every executed tile it records what the
change moves (residency rules of design.md): `size` |T|, `entries` |T - H| and `evicted` |H - T|; and
for output readiness, given the first and last step at which the instance's own MACs touch each output
element: `entries_touched` (entries touched before the tile starts), `size_touched` (elements of T
touched before the tile starts), `size_final` (elements of T never touched after the tile ends) and
`evicted_final` (evicted elements never touched at or after the eviction, i.e. the tile's start). At the
end each instance's buffer is flushed (`flush_size`, `flush_final`).

How a tile is held. Each component of an element id is a linear form in the loop indices (the exact
stride division of a filtered input-centric output index is a bijection on executed MACs, so the set
identities do not need it). Within a grouping the loops split into *inner* ones, which run inside a
tile (temporal loops below `top`, spatial loops on served array dimensions), and *row* ones, which pick
the tile and the instance. So a component's value is an inner part plus a row part, and every tile is a
dense boolean box: one axis per component that inner loops vary, cell x holding the value
row part + lo + g*x; components no inner loop varies are fixed by the row. The boxes come straight from
the iteration tensor, evaluated with its axes in the order (inner loops, instance, tile): loops over
dimensions the operand ignores are OR-ed away, and loops feeding one component (an input position and a
tap, or the digits of one dimension) are OR-ed onto the cells their values reach. Two tiles hold the same
element exactly where their boxes overlap once shifted by the difference of their row parts, so
|T & H| is a count of AND-ed cells, tile by tile (grouped by shift, vectorised over the tiles).

Readiness needs only counts per tile: an element of T was touched before T unless T is the first tile of
the instance that touches it (such an element cannot be in H either), and it is final in T iff T is the
last one; an element evicted from H is final iff H was its last tile. So, with `new` and `ending` the
numbers of elements whose first and last touching tile is T: size_touched = size - new, entries_touched =
entries - new, size_final = ending, evicted_final = ending of H, flush_final = ending of the last tile.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd, prod

import numpy as np

from validation.macstream import Iterations, Layout

__all__ = ["TileEvents", "Touches", "replay"]


class Touches:
    """First and last step at which each PE's executed MACs touch each output element: (n_pe, n_elements)
    arrays, `first` n_steps and `last` -1 where the PE never touches the element."""

    def __init__(self, layout: Layout, first: np.ndarray, last: np.ndarray) -> None:
        self.layout, self.first, self.last = layout, first, last
        self._per_instance: dict[frozenset[str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def per_instance(self, served: frozenset[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(instance, first step, last step) of every element an instance of `served` memories touches."""
        if served not in self._per_instance:
            # PEs as spatial loop axes (last loop first): reducing the served ones leaves instances in order.
            n_elem = self.first.shape[1]
            grid = list(reversed(self.layout.s_sizes)) + [n_elem]
            axes = tuple(k for k, sl in enumerate(reversed(self.layout.nest.spatial)) if sl.array_dim in served)
            last = self.last.reshape(grid).max(axis=axes).reshape(-1)
            touched = np.flatnonzero(last >= 0)
            first = self.first.reshape(grid).min(axis=axes).reshape(-1)[touched]
            self._per_instance[served] = (touched // n_elem, first, last[touched])
        return self._per_instance[served]


@dataclass(frozen=True)
class TileEvents:
    """One row per executed (instance, tile), instance by instance and tiles in time order: rows
    starts[i]:starts[i+1] are instance i's. Flushes: one per instance (0 for an instance without tiles)."""

    starts: np.ndarray
    size: np.ndarray
    entries: np.ndarray
    evicted: np.ndarray
    entries_touched: np.ndarray
    size_touched: np.ndarray
    size_final: np.ndarray
    evicted_final: np.ndarray
    flush_size: np.ndarray
    flush_final: np.ndarray

    @property
    def first_entries(self) -> np.ndarray:
        """Per instance, the entries of its first executed tile (0 without tiles)."""
        has = self.starts[1:] > self.starts[:-1]
        out = np.zeros(has.size, dtype=self.entries.dtype)
        out[has] = self.entries[self.starts[:-1][has]]
        return out


@dataclass(frozen=True)
class _Box:
    """One component that inner loops vary: its box axis has `n` cells, cell x = row part + lo + g*x."""

    n: int
    g: int


class _Grouping:
    """Which iteration-tensor axes are inner, instance and tile axes of one grouping, and the row forms."""

    def __init__(self, layout: Layout, op: str, top: int, served: frozenset[str]) -> None:
        comps = layout.components(op)
        comp_of = {dim: (ci, coef) for ci, comp in enumerate(comps) for dim, coef in comp.coefs.items() if coef}
        self.shape = layout.shape
        self.free, self.inst_axes, self.tile_axes = [], [], []
        inner: dict[int, list[tuple[int, int]]] = {}  # component -> [(axis, coefficient of its digit)]
        row_coef: dict[int, dict[int, int]] = {ci: {} for ci in range(len(comps))}
        for a, axis in enumerate(layout.axes):
            ci, coef = comp_of.get(axis.dim, (None, 0))
            if axis.temporal is not None and axis.temporal >= top:
                self.tile_axes.append(a)
            elif axis.spatial is not None and axis.array_dim not in served:
                self.inst_axes.append(a)
            elif ci is None or axis.size == 1:
                self.free.append(a)
                continue
            else:
                inner.setdefault(ci, []).append((a, coef * axis.weight))
                continue
            if ci is not None:
                row_coef[ci][a] = coef * axis.weight
        self.n_inst = prod(self.shape[a] for a in self.inst_axes)
        self.n_tiles = prod(self.shape[a] for a in self.tile_axes)
        self.inner = [sorted(inner[ci], key=lambda ac: -abs(ac[1])) for ci in sorted(inner)]
        # Row parts over the tile loops only: the instance parts cancel between rows of one instance.
        self.box_rows = [self._tile_form(row_coef[ci]) for ci in sorted(inner)]
        # The components no inner loop varies, packed into one key: a mixed radix over their ranges.
        key, radix = {}, 1
        for ci in range(len(comps)):
            if ci not in inner:
                for a, coef in row_coef[ci].items():
                    key[a] = key.get(a, 0) + coef * radix
                radix *= 1 + sum(abs(coef) * (self.shape[a] - 1) for a, coef in row_coef[ci].items())
        self.key = self._tile_form(key) if any(key.get(a) for a in self.tile_axes) else None

    def _tile_form(self, coefs: dict[int, int]) -> np.ndarray:
        """A linear form over the tile axes, per tile."""
        out = np.zeros([self.shape[a] for a in self.tile_axes], dtype=np.int64)
        for k, a in enumerate(self.tile_axes):
            if coefs.get(a):
                out += (np.arange(self.shape[a]) * coefs[a]).reshape([-1] + [1] * (len(self.tile_axes) - k - 1))
        return out.reshape(-1).astype(np.int32) if np.abs(out).max(initial=0) < 1 << 30 else out.reshape(-1)

    def boxes(self, its: Iterations) -> tuple[np.ndarray, list[_Box]]:
        """The tile boxes: a bool array (cells of each boxed component..., instance * tile)."""
        order = self.free + [a for group in self.inner for a, _ in group] + self.inst_axes + self.tile_axes
        sizes = [prod(self.shape[a] for a, _ in group) for group in self.inner]
        d = its.tensor(order, any_over=len(self.free)).reshape(sizes + [self.n_inst * self.n_tiles])
        boxes = []
        for c, group in enumerate(self.inner):
            d, box = _onto_cells(d, c, group, [self.shape[a] for a, _ in group])
            boxes.append(box)
        return d, boxes


def _onto_cells(d: np.ndarray, axis: int, group: list[tuple[int, int]], sizes: list[int]) -> tuple[np.ndarray, _Box]:
    """OR the positions of `axis` (the flattened loops of `group`, coefficients in decreasing magnitude)
    onto the cells of their component value."""
    coefs = [coef for _, coef in group]
    g = 0
    for coef in coefs:
        g = gcd(g, abs(coef))
    value = np.zeros(sizes, dtype=np.int64)
    for k, coef in enumerate(coefs):
        value += (np.arange(sizes[k]) * coef).reshape([-1] + [1] * (len(sizes) - k - 1))
    cell = ((value - value.min()) // g).reshape(-1)
    box = _Box(int(cell.max()) + 1, g)
    if np.array_equal(cell, np.arange(cell.size)):
        return d, box
    if len(coefs) == 1:  # one loop with a negative coefficient: its cells in reverse
        return np.flip(d, axis), box
    # For each position of the other loops, the last loop's positions reach an arithmetic run of cells.
    last, step = sizes[-1], coefs[-1] // g
    lead = (slice(None),) * axis
    runs = d.reshape(d.shape[:axis] + (cell.size // last, last) + d.shape[axis + 1:])
    out = np.zeros(d.shape[:axis] + (box.n,) + d.shape[axis + 1:], dtype=bool)
    for o, base in enumerate(cell[::last].tolist()):
        end = base + step * last
        out[lead + (slice(base, end if end >= 0 else None, step),)] |= runs[lead + (o,)]
    return out, box


class _Rows:
    """The executed (instance, tile) rows of a grouping, instance by instance, tiles in time order, as a
    grid (A, L) whose consecutive entries along L are consecutive executed tiles of one instance.

    Usually every instance executes the same tiles (validity rarely depends on the PE): the grid is then
    (instance, shared tile), and whatever depends on the tile only is computed once per tile (shape
    (1, L)). Otherwise it is one chain (1, all rows) in which each instance's first row has no link."""

    def __init__(self, executed: np.ndarray, n_inst: int, n_tiles: int) -> None:
        grid = executed.reshape(n_inst, n_tiles)
        self.n_tiles = n_tiles
        self.shared = bool((grid == grid[:1]).all())
        if self.shared:
            self.every = bool(grid[0].all())
            self.tiles = np.arange(n_tiles) if self.every else np.flatnonzero(grid[0])
            counts = np.full(n_inst, self.tiles.size)
        else:
            self.ids = np.flatnonzero(executed)  # instance * n_tiles + tile
            counts = np.diff(np.searchsorted(self.ids, np.arange(n_inst + 1) * n_tiles))
            self.tiles = self.ids - np.repeat(np.arange(n_inst) * n_tiles, counts)
        self.starts = np.concatenate(([0], np.cumsum(counts)))
        self.n = int(self.starts[-1])
        self.grid = (n_inst, self.tiles.size) if self.shared else (1, self.n)
        self.has = counts > 0
        self.first = self.starts[:-1][self.has]
        self.last = self.starts[1:][self.has] - 1
        self.linked = np.ones((1, self.grid[1]), dtype=bool)  # the row has a previous row (its H)
        self.linked[0, slice(0, 1) if self.shared else self.first] = False

    def change(self, per_tile: np.ndarray) -> np.ndarray:
        """Per linked row, the change of a tile form from the previous row, (1, L)."""
        value = per_tile[self.tiles]
        out = np.zeros((1, value.size), dtype=value.dtype)
        np.subtract(value[1:], value[:-1], out=out[0, 1:])
        return out

    def columns(self, d: np.ndarray) -> np.ndarray:
        """`d` (..., instance * tile) at the executed rows only."""
        if self.shared and self.every:
            return d
        # np.take keeps the result C-ordered (indexing the last axis would make it the fastest one).
        if self.shared:
            grid = np.take(d.reshape(d.shape[:-1] + (self.has.size, self.n_tiles)), self.tiles, axis=-1)
            return grid.reshape(d.shape[:-1] + (self.n,))
        return np.take(d, self.ids, axis=-1)

    def count(self, inst: np.ndarray, tile: np.ndarray, single: bool) -> np.ndarray:
        """Per row, how many of the (instance, tile) pairs fall on it (all on executed rows); `single`:
        at most one does (uint8 result)."""
        ids = inst * self.n_tiles + tile
        if single:
            per_id = np.zeros(self.has.size * self.n_tiles, dtype=np.uint8)
            per_id[ids] = 1
        else:
            per_id = np.bincount(ids, minlength=self.has.size * self.n_tiles).astype(np.int32)
        return self.columns(per_id)

    def previous(self, values: np.ndarray) -> np.ndarray:
        """Per row, `values` of the instance's previous row (0 for its first)."""
        out = np.empty_like(values)
        out[1:] = values[:-1]
        out[self.first] = 0
        return out

    def flush(self, values: np.ndarray) -> np.ndarray:
        """Per instance, `values` of its last row (0 without rows)."""
        out = np.zeros(self.has.size, dtype=values.dtype)
        out[self.has] = values[self.last]
        return out


def replay(layout: Layout, its: Iterations, op: str, top: int, served: frozenset[str],
           touches: Touches | None = None) -> TileEvents:
    """Tile events of one grouping; `touches` given for output readiness."""
    gr = _Grouping(layout, op, top, served)
    d, boxes = gr.boxes(its)
    n_cells = prod(b.n for b in boxes)
    cells = d.reshape(n_cells, gr.n_inst * gr.n_tiles)
    rows = _Rows(cells.any(axis=0) if boxes else cells[0], gr.n_inst, gr.n_tiles)
    # A row's H is the previous row; it can share elements only if the components rows fix agree and
    # every boxed component's shift keeps the boxes overlapping.
    match = rows.linked.copy()
    if gr.key is not None:
        match &= rows.change(gr.key) == 0
    shifts = []
    for box, parts in zip(boxes, gr.box_rows):
        delta = rows.change(parts)
        shift = delta // box.g
        match &= (delta == shift * box.g) & (np.abs(shift) < box.n)
        shifts.append(shift)
    if boxes:
        sel = rows.columns(d)
        size = sel.reshape(n_cells, rows.n).sum(axis=0, dtype=np.int32)
        inter = _intersections(sel, boxes, shifts, match, rows.grid)
    else:  # one element per tile: every count is 0 or 1
        size = np.ones(rows.n, dtype=np.uint8)
        inter = np.broadcast_to(match, rows.grid).reshape(-1).view(np.uint8)
    entries, evicted = size - inter, rows.previous(size) - inter
    flush_size = rows.flush(size)
    if touches is None:
        zeros = np.zeros(rows.n, dtype=size.dtype)
        return TileEvents(rows.starts, size, entries, evicted, zeros, zeros, zeros, zeros, flush_size,
                          np.zeros_like(flush_size))
    new, ending = _first_and_last_tiles(layout, touches, top, served, rows, not boxes)
    return TileEvents(rows.starts, size, entries, evicted, entries - new, size - new, ending, rows.previous(ending),
                      flush_size, rows.flush(ending))


def _intersections(sel: np.ndarray, boxes: list[_Box], shifts: list[np.ndarray], match: np.ndarray,
                   grid: tuple[int, int]) -> np.ndarray:
    """|T & H| of every row where `match` (H = the row before), 0 elsewhere: the AND of the two boxes,
    overlapped by the row's shift. Rows with the same shift are done together, on all rows at once
    (consecutive rows are neighbouring columns) while the shifts are few, else on their own columns."""
    n = sel.shape[-1]
    inter = np.zeros(grid, dtype=np.int32)
    code = np.zeros(shifts[0].shape, dtype=np.int64)
    for box, s in zip(boxes, shifts):
        code = code * (2 * box.n - 1) + s + box.n - 1
    code = np.where(match, code, -1)
    span = prod(2 * box.n - 1 for box in boxes)
    values = np.flatnonzero(np.bincount(code.reshape(-1) + 1, minlength=span + 1)[1:]) if span <= 4 * code.size \
        else np.unique(code[match])
    for value in values:
        step = [int(v) - box.n + 1 for v, box in zip(_digits(int(value), [2 * b.n - 1 for b in boxes]), boxes)]
        cur = tuple(slice(max(0, -s), box.n - max(0, s)) for s, box in zip(step, boxes))
        prev = tuple(slice(max(0, s), box.n + min(0, s)) for s, box in zip(step, boxes))
        if values.size <= 4:
            both = sel[cur + (slice(1, None),)] & sel[prev + (slice(None, -1),)]
            count = np.zeros(n, dtype=np.int32)
            np.add.reduce(both.reshape(-1, n - 1), axis=0, dtype=np.int32, out=count[1:])
            inter += np.where(code == value, count.reshape(grid), 0)
        else:
            group = np.flatnonzero(np.broadcast_to(code == value, grid))
            both = np.take(sel[cur], group, axis=-1) & np.take(sel[prev], group - 1, axis=-1)
            inter.reshape(-1)[group] = np.add.reduce(both.reshape(-1, group.size), axis=0, dtype=np.int32)
    return inter.reshape(-1)


def _digits(value: int, radix: list[int]) -> list[int]:
    """Mixed-radix digits of `value`, most significant first."""
    out = []
    for r in reversed(radix):
        value, digit = divmod(value, r)
        out.append(digit)
    return out[::-1]


def _first_and_last_tiles(layout: Layout, touches: Touches, top: int, served: frozenset[str], rows: _Rows,
                          single: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per row, how many elements the instance touches first, and last, in that tile (`single`: tiles of
    one element)."""
    inst, first, last = touches.per_instance(served)
    inner = prod(layout.t_sizes[:top])
    return rows.count(inst, first // inner, single), rows.count(inst, last // inner, single)
