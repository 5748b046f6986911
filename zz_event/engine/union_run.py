"""The compiled union passes run for one boundary (`siblings._UnionWalk`): the arrays they read (key specs
as rows, tables as per-key value lists, children per parent instance, classes), which pass (one-element
tiles: `register_union`, with `register_jumps`' last uses and interiors; else `union_kernel.union_pass`),
and their tallies back as `UnionEvents`. Of those arrays only the key specs and what reads the tile index
(first touches, last uses, jumps) depend on the order of the loops: the rest is kept per loop structure
(`_ORDER_FREE`), as LOMA evaluates every ordering of the same loops (AlexNet's grouped conv2: 5,040)."""

from __future__ import annotations

from math import prod
from typing import NamedTuple

import numpy as np

from zz_event.engine import odometer, register_jumps, register_union
from zz_event.engine import union_kernel as kernel
from zz_event.engine.axes import RELEVANT_UNCOUPLED
from zz_event.engine.grouping import unique_rows
from zz_event.engine.siblings import Parents, UnionEvents, _classes, _UnionWalk
from zz_event.engine.tiles import UNCOUPLED
from zz_event.memo import LruMemo

__all__ = ["compiled_events"]

_NONE = np.zeros(0, dtype=np.int64)


def _spec_rows(entries) -> tuple[np.ndarray, np.ndarray]:
    """Per table (gate), its key spec as rows (temporal?, stride, size, radix) and the rows' offsets."""
    rows, off = [], [0]
    for _table, a, b, scale in entries:
        rows += [(int(t), stride, size, r) for t, stride, size, r in a]
        rows += [(int(t), stride, size, r * scale) for t, stride, size, r in b]
        off.append(len(rows))
    return np.array(rows, dtype=np.int64).reshape(-1, 4), np.array(off, dtype=np.int64)


def _flat(tables) -> tuple[np.ndarray, np.ndarray]:
    sizes = [t.size for t in tables]
    return (np.concatenate([t.ravel() for t in tables]).astype(np.uint8),
            np.array([0, *np.cumsum(sizes)], dtype=np.int64))


class _Stamps:
    """The passes' per-element stamps (`union_kernel.pass_state`), kept from one pass to the next up to
    `KEEP` elements (64 MB): a pass numbers its events past every earlier pass's, so no stamp needs
    resetting, and fresh pages are not faulted in again (4 x 3.2 MB for ResNet-18 conv1's outputs took
    15 ms, most of a pass)."""

    KEEP = 1 << 21

    def __init__(self) -> None:
        self.array, self.next = np.full((4, 0), -1, np.int64), 0

    def take(self, n_elem: int, n_events: int) -> tuple[np.ndarray, int]:
        """Stamps for `n_elem` elements and the first of `n_events` event ids no stamp holds yet."""
        if n_elem > self.array.shape[1]:
            if n_elem > self.KEEP:
                return np.full((4, n_elem), -1, np.int64), 0
            self.array, self.next = np.full((4, n_elem), -1, np.int64), 0
        base = self.next
        self.next += n_events
        return self.array, base


_STAMPS = _Stamps()


class _OrderFree(NamedTuple):
    """What a walk's passes read that every ordering of the same loops shares (`ChildAxes.key`): the
    tables as per-key value lists, the children per parent instance (one per class), the bound on counts."""

    member: np.ndarray
    m_off: np.ndarray
    gates: np.ndarray
    g_off: np.ndarray
    extent: np.ndarray
    values: np.ndarray
    vstart: np.ndarray
    v_off: np.ndarray
    p_start: np.ndarray
    p_child: np.ndarray
    mult: np.ndarray
    free: np.ndarray
    cap: int
    tile_max: int


_ORDER_FREE = LruMemo(512, max_bytes=64 << 20)


def _order_free(walk: _UnionWalk) -> _OrderFree:
    axes, parents = walk.axes, walk.parents
    member, m_off = _flat(axes.tables)
    gates, g_off = _flat([table for table, *_ in axes._gates])
    extent = np.array(axes.extents, dtype=np.int64)
    key_of, value_of = zip(*(np.nonzero(m) for m in axes.tables)) if axes.tables else ((), ())
    values = np.concatenate(value_of).astype(np.int64)
    n_keys = [m.shape[0] for m in axes.tables]
    starts = [np.searchsorted(k, np.arange(n + 1)) for k, n in zip(key_of, n_keys)]
    before = np.cumsum([0, *[k.size for k in key_of]])
    vstart = np.concatenate([st + b for st, b in zip(starts, before)]).astype(np.int64)
    v_off = np.array([0, *np.cumsum([n + 1 for n in n_keys])], dtype=np.int64)[:-1]
    # Children of each parent instance (`Parents` lists the parents of each child).
    child = np.repeat(np.arange(axes.n_child, dtype=np.int64), np.diff(parents.starts))
    order = np.argsort(parents.parent, kind="stable")
    p_child = child[order]
    p_start = np.searchsorted(parents.parent[order], np.arange(int(parents.parent.max(initial=-1)) + 2))
    rep, mult = _classes(walk, walk.parent_served)  # one child per class of identical ones
    p_rep = rep[p_child]
    p_child = p_child[p_rep]
    p_start = np.concatenate([[0], np.cumsum(p_rep)])[p_start]
    free = np.array([g for g, dim in enumerate(UNCOUPLED) if dim not in RELEVANT_UNCOUPLED[walk.op]], dtype=np.int64)
    # No event counts more than every element once per copy, nor more than its children's tiles hold.
    per_parent = np.diff(np.concatenate([[0], np.cumsum(mult[p_child])])[p_start])
    tile_max = prod(int(c.max(initial=0)) for c in axes.counts)
    cap = min(int(per_parent.max(initial=0)) * tile_max, walk.n_elem * int(mult.max(initial=1)))
    shared = _OrderFree(member, m_off, gates, g_off, extent, values, vstart, v_off, p_start.astype(np.int64), p_child,
                        mult, free, cap, tile_max)
    for array in shared[:-2]:  # shared by the passes of every ordering: none may write to them
        array.flags.writeable = False
    return shared


def compiled_events(walk: _UnionWalk) -> UnionEvents:
    """The union events of a walk by the compiled passes."""

    axes, parents, output = walk.axes, walk.parents, walk.op == "O"
    spec, spec_off = _spec_rows(axes._tables)
    gate_spec, gate_off = _spec_rows(axes._gates)
    (member, m_off, gates, g_off, extent, values, vstart, v_off, p_start, p_child, mult, free, cap,
     tile_max) = _ORDER_FREE.get_or((axes.key, walk.parent_served), lambda: _order_free(walk))
    if output:
        first, f_off, base = kernel.first_touch_tables(axes.n_child, spec, spec_off, values, vstart, v_off, extent,
                                                       gate_spec, gate_off, gates, g_off, free)
    else:
        first, f_off, base = (np.zeros(0, np.int64), np.zeros(extent.size + 1, np.int64),
                              np.zeros(axes.n_child, np.int64))
    sizes = axes.loop_sizes
    stamps, ev_base = _STAMPS.take(walk.n_elem, (p_start.size - 1) * (axes.n_tiles + 1))
    jump_lo, jump_hi = np.where(axes.repeats > 0, 1, -1), np.where(axes.repeats > 0, axes.repeats, -1)
    if tile_max <= 1:  # registers: a tile is one element
        shift = np.zeros_like(sizes)
        last_rows, last_off, last_base = np.zeros((0, 0), np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        analytic = output and _last_uses(walk, parents, spec, spec_off, values, vstart, v_off, extent, gate_spec,
                                         gate_off, gates, g_off, free, p_child, p_start)
        if analytic:
            last_rows, last_off, last_base = analytic
        if analytic or not output:  # (outputs' events read last uses: a first pass needs every transition)
            coupled_gates = [table for table, *_ in axes._gates[len(UNCOUPLED):]]  # Y, X: the last two tables'
            lo, hi, shift = register_jumps.position_jumps(
                _position_tables(walk), sizes, odometer.tile_strides(sizes),
                odometer.coefficients(spec, spec_off, sizes), axes.tables,
                [None] * (len(axes.tables) - 2) + coupled_gates, first if output else None, f_off, last_rows,
                last_off, extent)
            jump_lo, jump_hi = np.where(lo >= 0, lo, jump_lo), np.where(lo >= 0, hi, jump_hi)
        down, touched, up, radix, onload = register_union.single_union_pass(
            axes.n_child, axes.n_tiles, sizes, jump_lo, jump_hi, shift, p_start, p_child, mult, spec, spec_off, extent,
            values, vstart, v_off, gate_spec, gate_off, gates, g_off, first, f_off, base, output, cap, last_rows,
            last_off, last_base, stamps, ev_base)
    else:
        down, touched, up, radix, onload = kernel.union_pass(
            axes.n_child, axes.n_tiles, sizes, jump_lo, jump_hi, p_start, p_child, mult, spec, spec_off, member,
            m_off, extent, values, vstart, v_off, gate_spec, gate_off, gates, g_off, first, f_off, base, output, cap,
            stamps, ev_base)
    scale = walk.scale
    (onload_list,), onload_times = unique_rows([onload[onload > 0] * scale])
    if not output:
        return UnionEvents(down[0] * scale, down[0] * scale, _NONE, _NONE, onload_list, walk.weight, down[1], down[1],
                           None, onload_times)
    return UnionEvents(down[0] * scale, touched[0] * scale, up[0] % radix * scale, up[0] // radix * scale, onload_list,
                       walk.weight, down[1], touched[1], up[1], onload_times)


def _last_uses(walk: _UnionWalk, parents: Parents, spec, spec_off, values, vstart, v_off, extent, gate_spec,
               gate_off, gates, g_off, free, p_child, p_start):
    """`register_jumps.parent_last_uses` for the walk, or None where the per-axis sums do not apply (a
    child with several parents, children that are not every combination of their parts). Over the children
    walked (one per class of identical ones), as the first pass would take them."""
    if np.any(np.diff(parents.starts) != 1):
        return None
    n_child = walk.axes.n_child
    latest, l_off, base = kernel.first_touch_tables(n_child, spec, spec_off, values, vstart, v_off, extent,
                                                    gate_spec, gate_off, gates, g_off, free, True)
    parts = np.concatenate([odometer.child_parts(spec, spec_off, n_child),
                            odometer.child_parts(gate_spec, gate_off, n_child)[free]])
    return register_jumps.parent_last_uses(latest, l_off, base, extent, parts, p_child, p_start)


def _position_tables(walk: _UnionWalk) -> list[int | None]:
    """Per loop above the children: the table (and gate, after the uncoupled ones) of the position axis
    it moves, or None."""
    nest, n_tab = walk.nest, len(walk.axes.tables)
    outer = nest.temporal[len(nest.temporal) - walk.axes.loop_sizes.size:]
    return [n_tab - 2 + nest.position_dims.index(loop.dim) if loop.dim in nest.position_dims else None
            for loop in outer]
