"""Per configuration of one coupled axis, for one tile sequence: the tables the per-axis backend
(`analytic.py`) combines into events.

A configuration is a value of the axis' enumerated digits (its position and tap loops above the tile,
then its spatial loops the tile's instance does not serve). `AxisCore` holds what depends on the axis'
structure only (which configurations execute, their sizes, each one's previous executed configuration)
and is shared by every mapping with that structure; `AxisTable` places it in one tile sequence (where
its digits sit in the block, output touches); `axis_side` gives the distinct per-axis values of the tile
changes, grouped by block position. All are memoised on structure, so a LOMA search computes few.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.engine.axes import coupled_axis, digit_fixed, dim_digits
from zz_event.engine.grouping import unique_rows
from zz_event.engine.side_kernel import side_rows
from zz_event.memo import NEST_CACHE_SIZE, LruMemo, lru_cache

__all__ = [
    "AXIS_ROWS",
    "NONE",
    "SIDES",
    "TABLES",
    "TOUCH_COUNTS",
    "AxisCore",
    "AxisTable",
    "Side",
    "Touches",
    "axis_side",
    "axis_table",
    "block_ends",
    "executed_rows",
]

NONE = np.iinfo(np.int64).max  # "no step back inside the block"


class AxisCore:
    """What one coupled axis' configurations are, independent of any particular mapping: shared by all
    mappings with the same axis structure (digit sizes, weights, which are fixed, their order)."""

    def __init__(self, ax, signature: tuple, n_block: int, n_temporal: int) -> None:
        sizes = [size for _is_tap, _index, size in signature]
        self.n = prod(sizes)
        ci = np.arange(self.n, dtype=np.int64)
        radix = np.cumprod([1] + sizes)[:-1].astype(np.int64)
        self.values = [(ci // int(r)) % size for r, size in zip(radix, sizes)]
        self.radix = radix
        slot = {(is_tap, index): j for j, (is_tap, index, _size) in enumerate(signature)}
        key = np.zeros(self.n, dtype=np.int64)
        for is_tap, fixed, scale in ((False, ax.fixed_pos, 1), (True, ax.fixed_tap, ax.npos_keys)):
            r = scale
            for index in fixed:
                j = slot[(is_tap, index)]
                key = key + self.values[j] * r
                r *= sizes[j]
        self.ax, self.key = ax, key
        self.executed = ax.nonempty[key]
        self.n_executed = int(np.count_nonzero(self.executed))
        self.size = ax.size[key]
        self.n_block = n_block
        self.block_radix = prod(sizes[:n_block])
        self.inst_radix = prod(sizes[:n_temporal])
        self.completions: dict[int, np.ndarray] = {}
        self.prev, self.q_digit = self._prev()
        zero = np.zeros(self.n, dtype=np.int64)
        self.untouched = Touches(zero, zero)  # without readiness: shared, so memos keyed on it hit

    def _prev(self) -> tuple[np.ndarray, np.ndarray]:
        """Previous executed configuration in the same context (-1 if none) and the index of the highest
        block digit in which they differ (-1 if none)."""
        idx = np.arange(self.n, dtype=np.int64)
        marks = np.where(self.executed, idx, -1).reshape(-1, self.block_radix)
        running = np.maximum.accumulate(marks, axis=1)
        prev = np.full(marks.shape, -1, dtype=np.int64)
        prev[:, 1:] = running[:, :-1]
        prev = prev.ravel()
        q = np.full(self.n, -1, dtype=np.int64)
        has = prev >= 0
        for j in range(self.n_block):  # ascending, so the highest differing digit wins
            q = np.where(has & (self.values[j] != self.values[j][np.maximum(prev, 0)]), j, q)
        return prev, q


@lru_cache(maxsize=2048)
def axis_core(ax, signature: tuple, n_block: int, n_temporal: int) -> AxisCore:
    return AxisCore(ax, signature, n_block, n_temporal)


class AxisTable:
    """Per configuration of one coupled axis (its enumerated digits, least significant first) for one
    tile sequence: the shared core, where its block digits sit, and the output touches."""

    def __init__(self, nest, operand, axis, n_inner, served, filtered, order: dict[int, int], n_block_loops: int,
                 touches) -> None:
        pos_dim = nest.position_dims[0 if axis == "Y" else 1]
        dims = (pos_dim, "F" + axis)

        pos_digits, tap_digits = dim_digits(nest, pos_dim), dim_digits(nest, "F" + axis)
        pos_fixed = tuple(digit_fixed(d, n_inner, served) for d in pos_digits)
        tap_fixed = tuple(digit_fixed(d, n_inner, served) for d in tap_digits)
        ax = coupled_axis(nest, axis, operand, pos_fixed, tap_fixed, filtered)
        temporal = sorted((d for d in pos_digits + tap_digits if d.temporal is not None and d.temporal >= n_inner),
                          key=lambda d: order[d.temporal])
        instance = [d for d in pos_digits + tap_digits if d.temporal is None and d.array_dim not in served]
        digits = temporal + instance
        # (is a tap digit, index among its dimension's digits) by identity: Digit's own __eq__ is slow.
        place = {id(d): (False, i) for i, d in enumerate(pos_digits)}
        place |= {id(d): (True, i) for i, d in enumerate(tap_digits)}
        signature = tuple((*place[id(d)], d.size) for d in digits)
        n_block = sum(1 for d in temporal if order[d.temporal] < n_block_loops)
        core = axis_core(ax, signature, n_block, len(temporal))
        self.core = core
        self.digits = digits
        self.n, self.executed, self.size, self.n_block = core.n, core.executed, core.size, n_block
        self.inst_radix = core.inst_radix
        self.block_key = tuple(order[d.temporal] for d in temporal[:n_block])
        self.block_pos = np.array(self.block_key + (NONE,), dtype=np.int64)
        self.touched = core.untouched
        if touches is not None:
            # Which configuration holds each element's first and last touch depends on the order of the
            # axis' own loops only (a touch time is a mixed-radix number over them), not on the rest.
            own = [d for d in pos_digits + tap_digits if d.temporal is not None]
            key = (core, tuple(sorted(range(len(own)), key=lambda i: own[i].temporal)))
            self.touched = TOUCH_COUNTS.get_or(
                key, lambda: Touches(*self._touches(touches, dims, temporal, instance, core.radix))
            )
        self.first, self.last = self.touched.first, self.touched.last

    @property
    def prev(self) -> tuple[np.ndarray, np.ndarray]:
        """Previous executed configuration in the same context and the block position of the highest
        digit in which they differ (NONE if none)."""
        return self.core.prev, self.block_pos[self.core.q_digit]

    def _touches(self, touches, dims, temporal, instance, radix) -> tuple[np.ndarray, np.ndarray]:
        """Per configuration: how many output elements are first, and last, touched in it."""
        _pos_dim, pos, tap, elem, time = touches._pairs["Y" if dims[1] == "FY" else "X"]
        inst = np.zeros_like(pos)
        base = self.inst_radix
        for d in instance:
            index = pos if d.dim == dims[0] else tap
            inst = inst + ((index // d.weight) % d.size) * base
            base *= d.size
        n_elem = int(elem.max()) + 1 if elem.size else 1
        group = inst * n_elem + elem
        size = self.n * n_elem
        first = np.full(size, NONE, dtype=np.int64)
        last = np.full(size, -1, dtype=np.int64)
        np.minimum.at(first, group, time)
        np.maximum.at(last, group, time)
        seen = np.nonzero(last >= 0)[0]
        inst_part = (seen // n_elem) // self.inst_radix * self.inst_radix
        step = touches.step_weight
        counts = []
        for times in (first[seen], last[seen]):
            cfg = inst_part.copy()
            for d, r in zip(temporal, radix):
                cfg = cfg + (times // int(step[d.temporal])) % d.size * int(r)
            counts.append(np.bincount(cfg, minlength=self.n).astype(np.int64))
        return counts[0], counts[1]

    def completion(self, cut: int) -> np.ndarray:
        """Last executed configuration agreeing with each one on all digits from `cut` up (-1: none)."""
        done = self.core.completions
        if cut not in done:
            radix = prod(d.size for d in self.digits[:cut])
            idx = np.arange(self.n, dtype=np.int64)
            marks = np.where(self.executed, idx, -1).reshape(-1, radix)
            done[cut] = np.repeat(marks.max(axis=1), radix)
        return done[cut]

    def extreme(self, which) -> np.ndarray:
        """Per instance group: the first (np.min) or last (np.max) executed configuration, -1 if none."""
        idx = np.arange(self.n, dtype=np.int64).reshape(-1, self.inst_radix)
        ex = self.executed.reshape(-1, self.inst_radix)
        best = which(np.where(ex, idx, self.n if which is np.min else -1), axis=1)
        return np.where(ex.any(axis=1), best, -1)

    def cut(self, position: int) -> int:
        """How many of this axis' block digits lie below a block position."""
        return int(np.count_nonzero(self.block_pos[:-1] < position))

    def overlap(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.core.ax.intersection(self.core.key[a], self.core.key[b])


TABLES = LruMemo(4096)


def axis_table(nest, operand, axis, n_inner, served, filtered, order: dict[int, int], n_block_loops: int,
               touches) -> AxisTable:
    """`AxisTable`, memoised on what it reads: per digit of the axis its size, weight, array dimension
    (`_axis_digits`), whether the tile fixes it and, above the tile, its place in the block and context (the
    rest of the ordering does not matter, so many of LOMA's orderings share a table); with touches, the order
    of the axis' own loops."""
    digits, static, own_order = _axis_digits(nest, axis)
    # per digit: its place above the tile, or -1 (fixed: an unserved spatial digit) or -2 (free)
    places = tuple((-1 if array_dim not in served else -2) if t is None else order[t] if t >= n_inner else -2
                   for _dim, _size, _weight, t, array_dim in digits)
    key = (nest.shape_id, operand, axis, filtered, n_block_loops, static, places,
           own_order if touches is not None else None)
    return TABLES.get_or(key, lambda: AxisTable(nest, operand, axis, n_inner, served, filtered, order, n_block_loops,
                                                touches))


@lru_cache(maxsize=2 * NEST_CACHE_SIZE)
def _axis_digits(nest, axis: str) -> tuple[tuple, int, tuple[int, ...]]:
    """A nest's digits of one coupled axis (position dimension's, then tap dimension's), a number standing for
    their (dimension, size, weight, array dimension) (`_static_id`), and the order of its temporal digits (what
    the touch counts depend on)."""
    pos_dim = nest.position_dims[0 if axis == "Y" else 1]
    digits = dim_digits(nest, pos_dim) + dim_digits(nest, "F" + axis)
    static = tuple((d.dim, d.size, d.weight, d.array_dim) for d in digits)
    temporal = tuple(d.temporal for d in digits if d.temporal is not None)
    return digits, _static_id(static), tuple(sorted(range(len(temporal)), key=temporal.__getitem__))


_STATIC_IDS: dict[tuple, int] = {}  # one per distinct digit structure of an axis seen (a few per layer)


def _static_id(static: tuple) -> int:
    found = _STATIC_IDS.get(static)
    if found is None:
        found = _STATIC_IDS[static] = len(_STATIC_IDS)
    return found


@dataclass(frozen=True, eq=False)  # hashed by identity: memos derived from touch counts key on it
class Touches:
    """Per configuration of an axis: output elements first, and last, touched in it."""

    first: np.ndarray
    last: np.ndarray


TOUCH_COUNTS = LruMemo(1024)


@dataclass(frozen=True, eq=False)
class Side:
    """Distinct per-axis value tuples of tile changes, per group (block position, or block start): the
    columns are the rows of one array, which the tile-change kernel takes whole (a compiled function's
    dispatch costs about 0.4 µs per argument)."""

    rows: np.ndarray  # (7, m) int64: the columns below

    group = property(lambda self: self.rows[0])
    size = property(lambda self: self.rows[1])  # |T| along the axis
    kept = property(lambda self: self.rows[2])  # |T ∩ H|
    first = property(lambda self: self.rows[3])  # first touches in T
    pred_size = property(lambda self: self.rows[4])  # |H|
    pred_last = property(lambda self: self.rows[5])  # last touches in H
    count = property(lambda self: self.rows[6])


SIDES = LruMemo(4096)


def axis_side(table: AxisTable, kinds: tuple[str, ...], own: str) -> Side:
    """`_side`, memoised: it depends on the axis core, where its digits sit in the block and which block
    positions are its own, not on the rest of the ordering, so LOMA's orderings share few distinct ones."""
    key = (table.core, table.block_key, kinds, own, table.touched)
    return SIDES.get_or(key, lambda: _side(table, kinds, own))


def _side(table: AxisTable, kinds: tuple[str, ...], own: str) -> Side:
    """`_side_numpy` by the compiled pass (`side_kernel.side_rows`) where the axis has its pairwise
    intersection table and the rows' key cannot overflow."""
    pairwise = table.core.ax.pairwise
    if pairwise is not None:
        prev, q = table.prev
        is_own = np.array([kind == own for kind in kinds], dtype=np.bool_)
        n = table.n
        completions = np.zeros((len(kinds), n), dtype=np.int64)
        for p, kind in enumerate(kinds):
            if kind != own:
                completions[p] = table.completion(table.cut(p))
        rows, exact = side_rows(table.executed, prev, q, is_own, completions, table.size, table.first, table.last,
                                table.core.key, pairwise)
        if exact:
            return Side(rows)
    return _side_numpy(table, kinds, own)


def _side_numpy(table: AxisTable, kinds: tuple[str, ...], own: str) -> Side:
    """All groups of one axis at once. For block position p: the configurations whose change has its
    highest digit at p (own positions: H is the previous configuration) or above p (other positions: H
    is the completion below p). Group len(kinds): block starts (nothing kept)."""
    prev, q = table.prev
    configs = np.nonzero(table.executed)[0]
    qc = q[configs]
    groups, cur, pred = [], [], []
    for p, kind in enumerate(kinds):
        chosen = configs[qc == p] if kind == own else configs[qc > p]
        groups.append(np.full(chosen.size, p))
        cur.append(chosen)
        pred.append(prev[chosen] if kind == own else table.completion(table.cut(p))[chosen])
    starts = configs[qc == NONE]
    groups.append(np.full(starts.size, len(kinds)))
    cur.append(starts)
    pred.append(starts)
    g, c, h = (np.concatenate(a).astype(np.int64) for a in (groups, cur, pred))
    kept = np.where(g == len(kinds), 0, table.overlap(c, h))
    cols, count = unique_rows([g, table.size[c], kept, table.first[c], table.size[h], table.last[h]])
    return Side(np.stack([*cols, count]).astype(np.int64, copy=False))


AXIS_ROWS = LruMemo(2048)  # per (core, touches, which): few distinct ones over a LOMA search


def block_ends(table: AxisTable):
    """Distinct (size, last touches) of the last executed configuration of each block, with counts."""

    def compute():
        configs = np.nonzero(table.executed)[0]
        last = configs[table.completion(table.n_block)[configs] == configs]
        return unique_rows([table.size[last], table.last[last]])

    return AXIS_ROWS.get_or((table.core, table.touched, "block ends"), compute)


def executed_rows(table: AxisTable):
    """Distinct (size, first touches, last touches) of the executed configurations, with counts."""

    def compute():
        executed = np.nonzero(table.executed)[0]
        return unique_rows([table.size[executed], table.first[executed], table.last[executed]])

    return AXIS_ROWS.get_or((table.core, table.touched, "executed"), compute)
