"""SequenceEvents computed per axis, without walking the tile sequence (the engine's fast backend).

Why it works. Within a block (the loops below the innermost relevant uncoupled loop) a tile is fixed by
its Y configuration y, its X configuration x (the digits of each coupled axis) and the digits n of the
irrelevant loops; a tile executes iff y ∈ E_Y and x ∈ E_X, so the executed tiles form a product. In a
lexicographic order over interleaved digits, the previous element of a product set is found axis by
axis: its highest changed digit q is the lowest position at which *some* axis can step back (for an
axis, the highest digit in which a configuration differs from its own previous executed configuration;
for the irrelevant digits, the lowest non-zero one), that axis takes its own previous configuration,
and every other axis takes the last executed configuration that agrees with it above q. So every
quantity of a tile change - |T|, |T ∩ H|, |H|, first and last touches - is a product of per-axis
values, and the changes whose highest changed digit is q are a product of per-axis sets. Events are
formed per q from the distinct per-axis value tuples; nothing scales with the number of tiles.

Uncoupled dimensions whose loops overshoot their size: a relevant one gives blocks of unequal size
(`overshoot.py`), which are still independent copies of one block sequence. Precondition (checked by
`analytic_applicable`): no overshooting dimension empties a tile, which would break the product.
`enumerated.py` handles everything else and is the reference this backend is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from math import prod

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, coupled_axis, digit_fixed, dim_digits
from zz_event.engine.events import SequenceEvents
from zz_event.engine.grouping import grouped_pairs, slots, three_way, unique_rows
from zz_event.engine.overshoot import never_empties, relevant_blocks
from zz_event.engine.tiles import UNCOUPLED, _exact_dim, _loop_classes
from zz_event.memo import LruMemo
from zz_event.nest import LoopNest

__all__ = ["analytic_events", "analytic_applicable"]

NONE = np.iinfo(np.int64).max  # "no step back inside the block"


def analytic_applicable(nest: LoopNest, n_inner: int, served: frozenset[str]) -> bool:
    return never_empties(nest, n_inner, served)


@dataclass(frozen=True)
class _Layout:
    """The loops above the tile, classified, and where each coupled axis' digits sit."""

    block: tuple[int, ...]  # enumerated temporal loops below the innermost relevant loop, inner to outer
    context: tuple[int, ...]  # enumerated coupled loops above it
    kind: tuple[str, ...]  # per block position: "Y", "X" or "N"
    symmetric: tuple[int, ...]
    context_irrelevant: tuple[int, ...]
    repeating: tuple[int, ...]
    order: dict[int, int] = field(compare=False)  # enumerated loop -> its position in block + context


def _layout(nest: LoopNest, operand: str, n_inner: int, keep_irrelevant: bool) -> _Layout:
    outer = range(n_inner, len(nest.temporal))
    loops, symmetric, ctx_irr, repeating = _loop_classes(nest, operand, outer, keep_irrelevant)
    relevant = set(RELEVANT_UNCOUPLED[operand])
    first_r = next((t for t in outer if nest.temporal[t].dim in relevant and nest.temporal[t].size > 1), None)
    block = tuple(t for t in loops if first_r is None or t < first_r)
    context = tuple(t for t in loops if t not in block)
    y_dims = {nest.position_dims[0], "FY"}
    x_dims = {nest.position_dims[1], "FX"}
    kind = tuple(
        "Y" if nest.temporal[t].dim in y_dims else "X" if nest.temporal[t].dim in x_dims else "N" for t in block
    )
    order = {t: i for i, t in enumerate(block + context)}
    return _Layout(block, context, kind, tuple(symmetric), tuple(ctx_irr), tuple(repeating), order)


class _AxisCore:
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
        self.size = ax.size[key]
        self.n_block = n_block
        self.block_radix = prod(sizes[:n_block])
        self.inst_radix = prod(sizes[:n_temporal])
        self.completions: dict[int, np.ndarray] = {}
        self.prev, self.q_digit = self._prev()
        zero = np.zeros(self.n, dtype=np.int64)
        self.untouched = _Touches(zero, zero)  # without readiness: shared, so memos keyed on it hit

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
def _axis_core(ax, signature: tuple, n_block: int, n_temporal: int) -> _AxisCore:
    return _AxisCore(ax, signature, n_block, n_temporal)


class _AxisTable:
    """Per configuration of one coupled axis (its enumerated digits, least significant first) for one
    tile sequence: the shared core, where its block digits sit, and the output touches."""

    def __init__(self, nest, operand, axis, n_inner, served, filtered, layout: _Layout, touches) -> None:
        pos_dim = nest.position_dims[0 if axis == "Y" else 1]
        dims = (pos_dim, "F" + axis)

        pos_digits, tap_digits = dim_digits(nest, pos_dim), dim_digits(nest, "F" + axis)
        pos_fixed = tuple(digit_fixed(d, n_inner, served) for d in pos_digits)
        tap_fixed = tuple(digit_fixed(d, n_inner, served) for d in tap_digits)
        ax = coupled_axis(nest, axis, operand, pos_fixed, tap_fixed, filtered)
        order = layout.order
        temporal = sorted((d for d in pos_digits + tap_digits if d.temporal is not None and d.temporal >= n_inner),
                          key=lambda d: order[d.temporal])
        instance = [d for d in pos_digits + tap_digits if d.temporal is None and d.array_dim not in served]
        digits = temporal + instance
        # (is a tap digit, index among its dimension's digits) by identity: Digit's own __eq__ is slow.
        place = {id(d): (False, i) for i, d in enumerate(pos_digits)} | {id(d): (True, i) for i, d in enumerate(tap_digits)}
        signature = tuple((*place[id(d)], d.size) for d in digits)
        n_block = sum(1 for d in temporal if order[d.temporal] < len(layout.block))
        core = _axis_core(ax, signature, n_block, len(temporal))
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
            self.touched = _TOUCH_COUNTS.get_or(
                key, lambda: _Touches(*self._touches(touches, dims, temporal, instance, core.radix))
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


@dataclass(frozen=True, eq=False)  # hashed by identity: memos derived from touch counts key on it
class _Touches:
    """Per configuration of an axis: output elements first, and last, touched in it."""

    first: np.ndarray
    last: np.ndarray


_TOUCH_COUNTS = LruMemo(1024)


@dataclass(frozen=True)
class _Side:
    """Distinct per-axis value tuples of tile changes, per group (block position, or block start)."""

    group: np.ndarray
    size: np.ndarray  # |T| along the axis
    kept: np.ndarray  # |T ∩ H|
    first: np.ndarray  # first touches in T
    pred_size: np.ndarray  # |H|
    pred_last: np.ndarray  # last touches in H
    count: np.ndarray


_SIDES = LruMemo(4096)


def _axis_side(table: _AxisTable, kinds: tuple[str, ...], own: str) -> _Side:
    """`_side`, memoised: it depends on the axis core, where its digits sit in the block and which block
    positions are its own, not on the rest of the ordering, so LOMA's orderings share few distinct ones."""
    key = (table.core, table.block_key, kinds, own, table.touched)
    return _SIDES.get_or(key, lambda: _side(table, kinds, own))


def _side(table: _AxisTable, kinds: tuple[str, ...], own: str) -> _Side:
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
    return _Side(*cols, count)


def _changes(y: _Side, x: _Side, n_table: np.ndarray, classes: np.ndarray, r: int, base: int, exits: bool,
             touched: bool) -> tuple[np.ndarray, ...]:
    """Entry (and, if `exits`, exit) events of every tile change and block start: the two axes paired per
    group, then the irrelevant digits (n_table[group]: up to three (first, last, count) rows) and the
    context classes. Without `touched` (no readiness) first and last touches are all zero."""
    i, j = grouped_pairs(y.group, x.group, n_table.shape[0])
    g = y.group[i]
    n = n_table[g]  # (pairs, slots, 3 fields)
    # Broadcasting against `ones` is cheaper than broadcast_to.
    ones = np.ones((len(g), n_table.shape[1], len(classes)), dtype=np.int64)

    def grid(v, n_field=None, c_field=None):
        out = v[:, None, None] * ones
        if n_field is not None:
            out *= n[:, :, n_field][:, :, None]
        if c_field is not None:
            out *= classes[None, None, :, c_field]
        return out.ravel()

    untouched = lambda: np.zeros(ones.size, dtype=np.int64)  # noqa: E731
    kept = y.kept[i] * x.kept[j]
    count = y.count[i] * x.count[j] * base
    first = grid(r * y.first[i] * x.first[j], 0, 0) if touched else untouched()
    entries = (grid(r * (y.size[i] * x.size[j] - kept)), first, grid(count, 2, 2))
    if not exits:
        return entries + (_EMPTY,) * 3
    last = grid(r * y.pred_last[i] * x.pred_last[j], 1, 1) if touched else untouched()
    changes = count * (g < n_table.shape[0] - 1)  # block starts (the last group) leave nothing behind
    return entries + (grid(r * (y.pred_size[i] * x.pred_size[j] - kept)), last, grid(changes, 2, 2))


ALL = frozenset({"entry", "exit", "tile", "onload", "offload"})
_EMPTY = np.zeros(0, dtype=np.int64)


def analytic_events(nest, op, n_inner, served, filtered, touches, need: frozenset = ALL) -> SequenceEvents:
    """SequenceEvents of one tile sequence; the event lists not in `need` are left empty (`steps` always)."""
    layout = _layout(nest, op, n_inner, touches is not None)
    y = _AxisTable(nest, op, "Y", n_inner, served, filtered, layout, touches)
    x = _AxisTable(nest, op, "X", n_inner, served, filtered, layout, touches)
    blocks = relevant_blocks(nest, op, n_inner, served)
    # Every (instance, block) pair of `blocks` is one copy of the same block sequence, scaled by its rho;
    # the other symmetric loops and unserved uncoupled digits only repeat it.
    replicas = prod(
        d.size for dim in UNCOUPLED for d in dim_digits(nest, dim)
        if d.temporal is None and d.array_dim not in served and d not in blocks.spatial_digits
    )
    symmetric = prod(nest.temporal[t].size for t in layout.symmetric if t not in blocks.temporal_loops)
    base = replicas * symmetric
    rhos, copies = blocks.groups()
    classes = _classes(prod(nest.temporal[t].size for t in layout.context_irrelevant))
    n_sizes = {p: nest.temporal[t].size for p, (t, k) in enumerate(zip(layout.block, layout.kind)) if k == "N"}
    n_count = prod(n_sizes.values())
    repeats = prod(nest.temporal[t].size for t in layout.repeating)
    steps_per = n_count * symmetric * prod(nest.temporal[t].size for t in layout.context_irrelevant)
    # Steps are summed over instances apart from the replicated ones, as the explicit walk counts them.
    instances = prod(
        d.size for dim in UNCOUPLED if not _exact_dim(nest, dim) and dim not in RELEVANT_UNCOUPLED[op]
        for d in dim_digits(nest, dim) if d.temporal is None and d.array_dim not in served
    )
    steps = int(np.count_nonzero(y.executed)) * int(np.count_nonzero(x.executed)) * steps_per * repeats
    steps *= blocks.pairs * instances

    def per_block(make):  # the event lists of every distinct rho (at least one), weighted by its copies
        parts = [make(int(r), base * int(c)) for r, c in zip(rhos, copies)]
        return parts[0] if len(parts) == 1 else tuple(np.concatenate(lists) for lists in zip(*parts))

    entries = changes = flush = (_EMPTY,) * 3
    if need & {"entry", "exit"}:
        table = _n_table(layout.kind, tuple(n_sizes.items()))
        sides = _axis_side(y, layout.kind, "Y"), _axis_side(x, layout.kind, "X")
        both = per_block(lambda r, w: _changes(*sides, table, classes, r, w, "exit" in need, touches is not None))
        entries, changes = both[:3], both[3:]
    if "exit" in need:
        flush = per_block(lambda r, w: _block_flush(y, x, n_count, classes, r, w))
    tile = (_EMPTY,) * 4
    if "tile" in need:
        tile = per_block(lambda r, w: _tiles(y, x, n_count, classes, r, w, touches is not None))
        tile = (*tile[:3], tile[3] * repeats)
    on = _instances(y, x, blocks.first(), np.min, replicas) if "onload" in need else (_EMPTY, _EMPTY)
    off = _instances(y, x, blocks.last(), np.max, replicas) if "offload" in need else (_EMPTY, _EMPTY)
    return SequenceEvents(
        *entries, *(np.concatenate([a, b]) for a, b in zip(changes, flush)), *tile, steps, *on, *off,
    )


@lru_cache(maxsize=256)
def _classes(count: int) -> np.ndarray:
    """The (first, last, count) rows of `three_way(count)` that count anything (one to three). Each row
    multiplies the events, so a zero row would only add entries of weight zero. Shared (read-only)."""
    table = np.array([row for row in three_way(count) if row[2]], dtype=np.int64)
    table.flags.writeable = False
    return table


@lru_cache(maxsize=4096)
def _n_table(kinds: tuple[str, ...], n_items: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Per block position (and block starts): (first, last, count) rows of the irrelevant digits, whose
    sizes `n_items` gives as (block position, size) pairs. Read-only: it is shared."""
    n_sizes = dict(n_items)
    above = lambda p: prod(s for q, s in n_sizes.items() if q > p)  # noqa: E731
    rows = []
    for p, kind in enumerate(kinds):
        if kind == "N":
            rows.append(slots([(0, 0, (n_sizes[p] - 1) * above(p))]))
        else:  # the irrelevant digits below p are zero; the previous tile has them at their last value
            rows.append(slots([(1, 1, 1)] if above(p) == 1 else [(1, 0, 1), (0, 1, 1), (0, 0, above(p) - 2)]))
    rows.append(slots([(1, 0, 1)]))  # block starts: irrelevant digits all at their first value
    table = np.stack(rows)
    # Slots are filled from the first: drop the trailing ones no group uses (they only add weight zero).
    used = int((table[:, :, 2] > 0).sum(axis=1).max())
    table = np.ascontiguousarray(table[:, :used])
    table.flags.writeable = False
    return table


def _block_flush(y, x, n_count, classes, r, base):
    """Each block's last executed tile leaves whole when the block ends (irrelevant digits at their last)."""
    ((s_y, g_y), w_y), ((s_x, g_x), w_x) = (_block_ends(table) for table in (y, x))
    size = np.outer(s_y, s_x).ravel()[:, None]
    last = np.outer(g_y, g_x).ravel()[:, None]
    w = np.outer(w_y, w_x).ravel()[:, None]
    ones = np.ones((1, len(classes)), dtype=np.int64)
    return (r * size * ones).ravel(), (r * last * classes[None, :, 1]).ravel(), (w * base * classes[None, :, 2]).ravel()


_AXIS_ROWS = LruMemo(2048)  # per (core, touches, which): few distinct ones over a LOMA search


def _block_ends(table: _AxisTable):
    """Distinct (size, last touches) of the last executed configuration of each block, with counts."""

    def compute():
        configs = np.nonzero(table.executed)[0]
        last = configs[table.completion(table.n_block)[configs] == configs]
        return unique_rows([table.size[last], table.last[last]])

    return _AXIS_ROWS.get_or((table.core, table.touched, "block ends"), compute)


def _executed_rows(table: _AxisTable):
    """Distinct (size, first touches, last touches) of the executed configurations, with counts."""

    def compute():
        executed = np.nonzero(table.executed)[0]
        return unique_rows([table.size[executed], table.first[executed], table.last[executed]])

    return _AXIS_ROWS.get_or((table.core, table.touched, "executed"), compute)


def _tiles(y, x, n_count, classes, r, base, touched: bool):
    """Every executed tile: its size and the elements first and last touched in it (all zero without
    `touched`)."""
    (s_y, f_y, g_y), w_y = _executed_rows(y)
    (s_x, f_x, g_x), w_x = _executed_rows(x)
    n = _classes(n_count)
    ones = np.ones((len(s_y), len(s_x), len(n), len(classes)), dtype=np.int64)

    def grid(yv, xv, n_field=None, c_field=None):
        out = yv[:, None, None, None] * xv[None, :, None, None] * ones
        if n_field is not None:
            out *= n[None, None, :, n_field, None]
        if c_field is not None:
            out *= classes[None, None, None, :, c_field]
        return out.ravel()

    if not touched:
        nothing = np.zeros(ones.size, dtype=np.int64)
        nothing.flags.writeable = False  # stands for both touch lists
        return grid(r * s_y, s_x), nothing, nothing, grid(w_y * base, w_x, 2, 2)
    return grid(r * s_y, s_x), grid(r * f_y, f_x, 0, 0), grid(r * g_y, g_x, 1, 1), grid(w_y * base, w_x, 2, 2)


def _instances(y, x, rho, which, replicas):
    """Size of the first (or last) executed tile of every instance; rho: per instance of the relevant
    blocks, the elements of the relevant uncoupled dimensions in the block that tile lies in."""
    ty, tx = y.extreme(which), x.extreme(which)
    sy = np.where(ty >= 0, y.size[np.maximum(ty, 0)], 0)
    sx = np.where(tx >= 0, x.size[np.maximum(tx, 0)], 0)
    sizes = (rho[:, None] * np.outer(sy, sx).ravel()[None, :]).ravel()
    return sizes, np.full(sizes.size, replicas, dtype=np.int64)
