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
formed per q from the distinct per-axis value tuples (`axis_configs.py`); nothing scales with the
number of tiles.

Uncoupled dimensions whose loops overshoot their size: a relevant one gives blocks of unequal size
(`overshoot.py`), which are still independent copies of one block sequence. Precondition (checked by
`analytic_applicable`): no overshooting dimension empties a tile, which would break the product.
`enumerated.py` handles everything else and is the reference this backend is tested against.
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, dim_digits
from zz_event.engine.axis_configs import Side, axis_side, axis_table, block_ends, executed_rows
from zz_event.engine.changes_kernel import change_events
from zz_event.engine.events import SequenceEvents
from zz_event.engine.grouping import slots, three_way
from zz_event.engine.overshoot import never_empties, relevant_blocks
from zz_event.engine.tiles import UNCOUPLED, _exact_dim, _exact_dims, overshooting_dims
from zz_event.memo import NEST_CACHE_SIZE, LruMemo, lru_cache
from zz_event.model.nest import LoopNest

__all__ = ["analytic_applicable", "analytic_events"]


def analytic_applicable(nest: LoopNest, n_inner: int, served: frozenset[str]) -> bool:
    return not overshooting_dims(nest) or never_empties(nest, n_inner, served)


class _Layout(NamedTuple):
    """The loops above the tile, classified, and where each coupled axis' digits sit."""

    block: tuple[int, ...]  # enumerated temporal loops below the innermost relevant loop, inner to outer
    context: tuple[int, ...]  # enumerated coupled loops above it
    kind: tuple[str, ...]  # per block position: "Y", "X" or "N"
    symmetric: tuple[int, ...]
    context_irrelevant: tuple[int, ...]
    repeating: tuple[int, ...]
    order: dict[int, int]  # enumerated loop -> its position in block + context


def _layout(nest: LoopNest, operand: str, n_inner: int, keep_irrelevant: bool) -> _Layout:
    """`tiles._loop_classes` of the loops above the tile (without overshooting dimensions, which the
    per-axis backend only takes where they empty no tile), its enumerated loops split at the innermost
    relevant loop of size > 1: one pass, as this runs for every new tile sequence."""
    kinds = _loop_kinds(nest, operand)
    first_r = first_block_end = None  # the innermost relevant loop; the innermost one of size > 1
    for t in range(n_inner, len(kinds)):
        if kinds[t][1] == "R":
            first_r = t if first_r is None else first_r
            if kinds[t][0] > 1:
                first_block_end = t
                break
    block, context, kind, symmetric, context_irrelevant, repeating = [], [], [], [], [], []
    seen_non_n = False
    for t in range(n_inner, len(kinds)):
        size, k = kinds[t]
        if size == 1:
            continue
        coupled, irrelevant = k == "Y" or k == "X", k == "N"
        if first_r is None or t < first_r:
            if irrelevant and not seen_non_n and not keep_irrelevant:
                repeating.append(t)
                continue
            seen_non_n = seen_non_n or not irrelevant
        elif not coupled:
            (context_irrelevant if irrelevant and keep_irrelevant else symmetric).append(t)
            continue
        if first_block_end is None or t < first_block_end:
            block.append(t)
            kind.append(k)
        else:
            context.append(t)
    order = {t: i for i, t in enumerate(block + context)}
    return _Layout(tuple(block), tuple(context), tuple(kind), tuple(symmetric), tuple(context_irrelevant),
                   tuple(repeating), order)


@lru_cache(maxsize=2 * NEST_CACHE_SIZE)
def _loop_kinds(nest: LoopNest, operand: str) -> tuple[tuple[int, str], ...]:
    """Per temporal loop: its size and "Y" or "X" (a coupled axis'), "R" (an uncoupled dimension relevant to
    `operand`) or "N" (irrelevant): what `_layout` reads of the loops, once per nest and operand."""
    pos_y, pos_x = nest.position_dims
    relevant = RELEVANT_UNCOUPLED[operand]
    return tuple((loop.size, "Y" if loop.dim in (pos_y, "FY") else "X" if loop.dim in (pos_x, "FX")
                  else "R" if loop.dim in relevant else "N") for loop in nest.temporal)


def _changes(y: Side, x: Side, n_table: np.ndarray, classes: np.ndarray, r: int, base: int, exits: bool,
             touched: bool) -> tuple[np.ndarray, ...]:
    """Entry (and, if `exits`, exit) events of every tile change and block start: the two axes paired per
    group, then the irrelevant digits (n_table[group]: up to three (first, last, count) rows) and the
    context classes (`changes_kernel.change_events`). Without `touched` (no readiness) first and last
    touches are all zero."""
    return change_events(y.rows, x.rows, n_table, classes, r, base, exits, touched)


ALL = frozenset({"entry", "exit", "tile", "onload", "offload"})
_EMPTY = np.zeros(0, dtype=np.int64)


def analytic_events(nest, op, n_inner, served, filtered, touches, need: frozenset = ALL) -> SequenceEvents:
    """SequenceEvents of one tile sequence; the event lists not in `need` are left empty (`steps` always)."""
    layout = _layout(nest, op, n_inner, touches is not None)
    y = axis_table(nest, op, "Y", n_inner, served, filtered, layout.order, len(layout.block), touches)
    x = axis_table(nest, op, "X", n_inner, served, filtered, layout.order, len(layout.block), touches)
    blocks = relevant_blocks(nest, op, n_inner, served)
    # Every (instance, block) pair of `blocks` is one copy of the same block sequence, scaled by its rho;
    # the other symmetric loops and unserved uncoupled digits only repeat it.
    if blocks.pairs == 1:  # the common case: shared by every ordering of the spatial mapping
        replicas, instances = _spread(nest, op, served)
        rhos, copies = (int(blocks.rho[0, 0]),), (1,)
    else:
        replicas, instances = _spread(nest, op, served, blocks.spatial_digits)
        rhos, copies = blocks.groups()
    symmetric = prod(nest.temporal[t].size for t in layout.symmetric if t not in blocks.temporal_loops)
    base = replicas * symmetric
    ctx = prod(nest.temporal[t].size for t in layout.context_irrelevant)
    classes = _classes(ctx)
    n_sizes = {p: nest.temporal[t].size for p, (t, k) in enumerate(zip(layout.block, layout.kind)) if k == "N"}
    n_count = prod(n_sizes.values())
    repeats = prod(nest.temporal[t].size for t in layout.repeating)
    steps_per = n_count * symmetric * ctx
    steps = y.core.n_executed * x.core.n_executed * steps_per * repeats
    steps *= blocks.pairs * instances

    def per_block(make):  # the event lists of every distinct rho (at least one), weighted by its copies
        parts = [make(int(r), base * int(c)) for r, c in zip(rhos, copies)]
        return parts[0] if len(parts) == 1 else tuple(np.concatenate(lists) for lists in zip(*parts))

    entries = changes = flush = (_EMPTY,) * 3
    if need & {"entry", "exit"}:
        table = _n_table(layout.kind, tuple(n_sizes.items()))
        sides = axis_side(y, layout.kind, "Y"), axis_side(x, layout.kind, "X")
        both = per_block(lambda r, w: _changes(*sides, table, classes, r, w, "exit" in need, touches is not None))
        entries, changes = both[:3], both[3:]
    # Block flushes, tiles and first and last tiles depend on the axis tables and a few sizes only, not on
    # where the irrelevant loops sit: memoised, they serve the many orderings that differ only there.
    if "exit" in need:
        flush = per_block(lambda r, w: _PIECES.get_or(("flush", y.core, y.touched, x.core, x.touched, ctx, r, w),
                                                       lambda: _block_flush(y, x, classes, r, w)))
        exits = tuple(np.concatenate([a, b]) for a, b in zip(changes, flush))
    else:
        exits = changes
    tile = (_EMPTY,) * 4
    if "tile" in need:
        touched = touches is not None
        tile = per_block(lambda r, w: _PIECES.get_or(
            ("tiles", y.core, y.touched, x.core, x.touched, n_count, ctx, r, w, touched),
            lambda: _tiles(y, x, n_count, classes, r, w, touched)))
        tile = (*tile[:3], tile[3] * repeats)
    on = _instances(y, x, blocks.first(), "first", replicas) if "onload" in need else (_EMPTY, _EMPTY)
    off = _instances(y, x, blocks.last(), "last", replicas) if "offload" in need else (_EMPTY, _EMPTY)
    return SequenceEvents(*entries, *exits, *tile, steps, *on, *off)


_PIECES = LruMemo(4096)


def _spread(nest: LoopNest, op: str, served: frozenset[str], block_digits: tuple = ()) -> tuple[int, int]:
    """(replicas, instances) of a tile sequence: the unserved spatial digits of uncoupled dimensions that only
    repeat it (less those `block_digits` of the relevant blocks span), and those of irrelevant overshooting
    dimensions, over which steps are summed as the explicit walk counts them. They depend on the spatial
    loops and on which dimensions are tiled exactly, not on the loop order: memoised for the common case."""
    if block_digits:
        return _spread_of(nest, op, served, block_digits)
    key = (nest.shape_id, _exact_dims(nest), op, served)
    return _SPREADS.get_or(key, lambda: _spread_of(nest, op, served, ()))


_SPREADS = LruMemo(256)


def _spread_of(nest: LoopNest, op: str, served: frozenset[str], block_digits: tuple) -> tuple[int, int]:
    unserved = [d for dim in UNCOUPLED for d in dim_digits(nest, dim)
                if d.temporal is None and d.array_dim not in served]
    replicas = prod(d.size for d in unserved if d not in block_digits)
    instances = prod(d.size for d in unserved if not _exact_dim(nest, d.dim) and d.dim not in RELEVANT_UNCOUPLED[op])
    return replicas, instances


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


def _block_flush(y, x, classes, r, base):
    """Each block's last executed tile leaves whole when the block ends (irrelevant digits at their last)."""
    ((s_y, g_y), w_y), ((s_x, g_x), w_x) = (block_ends(table) for table in (y, x))
    size = np.outer(s_y, s_x).ravel()[:, None]
    last = np.outer(g_y, g_x).ravel()[:, None]
    w = np.outer(w_y, w_x).ravel()[:, None]
    ones = np.ones((1, len(classes)), dtype=np.int64)
    return (r * size * ones).ravel(), (r * last * classes[None, :, 1]).ravel(), (w * base * classes[None, :, 2]).ravel()


def _tiles(y, x, n_count, classes, r, base, touched: bool):
    """Every executed tile: its size and the elements first and last touched in it (all zero without
    `touched`)."""
    (s_y, f_y, g_y), w_y = executed_rows(y)
    (s_x, f_x, g_x), w_x = executed_rows(x)
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


def _instances(y, x, rho, which: str, replicas):
    """Size of the first (or last) executed tile of every instance; rho: per instance of the relevant
    blocks, the elements of the relevant uncoupled dimensions in the block that tile lies in."""
    def compute():
        extreme = np.min if which == "first" else np.max
        ty, tx = y.extreme(extreme), x.extreme(extreme)
        sy = np.where(ty >= 0, y.size[np.maximum(ty, 0)], 0)
        sx = np.where(tx >= 0, x.size[np.maximum(tx, 0)], 0)
        sizes = (rho[:, None] * np.outer(sy, sx).ravel()[None, :]).ravel()
        return sizes, np.full(sizes.size, replicas, dtype=np.int64)

    return _PIECES.get_or((which, y.core, x.core, rho.tobytes(), replicas), compute)
