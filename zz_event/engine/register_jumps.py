"""Where the register union pass (`register_union.py`) may leave out transitions: an element's last use
from per-axis tables instead of a first pass, and runs of a position loop's iterations that are translates
of one another, walked once.

Last uses. A child holds an element at the tiles whose per-table digits each hold its coordinate (a product
over tables), so its last use is the sum of per-table latest contributions (`first_touch_tables` with
`latest`). Over the children of a parent instance the maximum of those sums is the sum of per-table maxima
when the children are every combination of their per-table child parts (each child's part of a table's key
is all that table sees of it; likewise for the gates of irrelevant dimensions, whose contributions make up
the base): `parent_last_uses`.

Translates. Iteration i + 1 of a position loop is a translate of iteration i when, at every key of the
loop's axis with the loop's digit at i, the key one step on executes alike and holds the value moved by
one fixed shift, and the first touches (per child) and last uses (per parent) of the values held move by
the loop's tile stride. If iterations lo - 1 .. hi are translates in a row, then iterations lo .. hi see the
same events, and the state after iteration lo (each child's previous element) is that after hi moved back:
the pass walks lo once for all of them (`position_jumps`). A kernel's halo, padding and strides make the
first and last iterations differ; an interior run is what is left.
"""

from __future__ import annotations

import numpy as np

from zz_event.engine.union_kernel import NEVER

__all__ = ["parent_last_uses", "position_jumps"]


def parent_last_uses(latest: np.ndarray, l_off: np.ndarray, base: np.ndarray, extent: np.ndarray,
                     child_parts: np.ndarray, p_child: np.ndarray, p_start: np.ndarray):
    """(per parent instance and table value, the latest use by any of its children, -1 if none; the tables'
    offsets in a row; per parent, the latest base of its children), or None if the children of some parent
    are not every combination of their parts (`child_parts`: per table, then per gate of an irrelevant
    dimension, each child's part of its key; the base adds up the gates' latest contributions)."""
    n_tab = extent.size
    offsets = np.concatenate([[0], np.cumsum(extent)]).astype(np.int64)
    rows = np.full((p_start.size - 1, int(offsets[-1])), -1, dtype=np.int64)
    bases = np.zeros(p_start.size - 1, dtype=np.int64)
    for p in range(p_start.size - 1):
        children = p_child[p_start[p]:p_start[p + 1]]
        if children.size == 0:
            continue
        parts = child_parts[:, children]
        combos = np.prod([np.unique(row).size for row in parts])
        if combos != children.size or np.unique(parts.T, axis=0).shape[0] != children.size:
            return None
        bases[p] = base[children].max()
        for a in range(n_tab):
            per_child = latest[l_off[a]:l_off[a + 1]].reshape(-1, extent[a])[children]
            rows[p, offsets[a]:offsets[a + 1]] = per_child.max(axis=0)
    return rows, offsets[:-1], bases


def position_jumps(loop_axes: list[int | None], sizes: np.ndarray, strides: np.ndarray, coef: np.ndarray,
                   tables: list[np.ndarray], nonempty: list[np.ndarray], first: np.ndarray, f_off: np.ndarray,
                   last_rows: np.ndarray, last_off: np.ndarray, extent: np.ndarray):
    """Per loop above the children (`loop_axes`: the table of the position axis it moves, or None): the
    interior run (lo, hi) of iterations iteration lo stands for (-1, -1 if none) and the shift of a flat
    element index per iteration. `tables[a]`/`nonempty[a]`: table a's membership and execution per key;
    `coef[j, a]`: what a step of loop j adds to table a's key; `first`/`last_rows` (None but for outputs):
    first touches per child, last uses per parent (`parent_last_uses`)."""
    n = sizes.size
    lo, hi, shift = np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.zeros(n, np.int64)
    place = np.ones(extent.size, dtype=np.int64)
    for a in range(extent.size - 2, -1, -1):
        place[a] = place[a + 1] * extent[a + 1]
    for j, a in enumerate(loop_axes):
        if a is None or sizes[j] < 4 or coef[j, a] <= 0:
            continue
        touches = None if first is None else (first[f_off[a]:f_off[a + 1]].reshape(-1, extent[a]),
                                              last_rows[:, last_off[a]:last_off[a] + extent[a]])
        run = _interior(tables[a], nonempty[a], int(coef[j, a]), int(sizes[j]), int(strides[j]), touches)
        if run is not None:
            lo[j], hi[j], shift[j] = run[0], run[1], run[2] * place[a]
    return lo, hi, shift


def _interior(member: np.ndarray, nonempty: np.ndarray, radix: int, size: int, stride: int,
              touches: tuple[np.ndarray, np.ndarray] | None) -> tuple[int, int, int] | None:
    """(lo, hi, value shift) of the longest run of iterations lo - 1 .. hi that are translates in a row, with
    1 <= lo < hi <= size - 2; None if there is none. `touches`: (first touches per child, last uses per
    parent) per value, for outputs (whose events read them)."""
    keys = np.arange(member.shape[0])
    digit = keys // radix % size
    value = np.where(member.any(axis=1), member.argmax(axis=1), -1)
    step = keys[digit < size - 1]
    nxt = step + radix
    both = (value[step] >= 0) & (value[nxt] >= 0)
    if not both.any():
        return None
    middle = both & (digit[step] == size // 2)
    shift = int(np.bincount((value[nxt] - value[step])[middle if middle.any() else both] + member.shape[1]).argmax()
                - member.shape[1])
    alike = ((nonempty[step] == nonempty[nxt]) & ((value[step] >= 0) == (value[nxt] >= 0))
             & (~both | (value[nxt] - value[step] == shift)))
    # Iteration i is good if every key of digit i is alike and each value it holds moves to a value in range
    # whose touches (outputs) move on by one step of the loop.
    extent = member.shape[1]
    held = value[step]
    moved = held + shift
    fits = (moved >= 0) & (moved < extent)
    if touches is not None:
        column = np.arange(max(0, -shift), min(extent, extent - shift))
        moves = np.zeros(extent, dtype=bool)
        moves[column] = (_moved(touches[0][:, column], touches[0][:, column + shift], stride, NEVER)
                         & _moved(touches[1][:, column], touches[1][:, column + shift], stride, -1))
        fits &= moves[np.where(fits, held, 0)]
    ok = alike & ((held < 0) | fits)
    good = np.bincount(digit[step], weights=~ok, minlength=size - 1) == 0
    best = None
    i = 0
    while i < size - 1:  # runs of good iterations [start, end] = [lo - 1, hi - 1]
        if not good[i]:
            i += 1
            continue
        start = i
        while i < size - 1 and good[i]:
            i += 1
        run_lo, run_hi = start + 1, min(i, size - 2)
        if run_hi > run_lo and (best is None or run_hi - run_lo > best[1] - best[0]):
            best = (run_lo, run_hi, shift)
    return best


def _moved(before: np.ndarray, after: np.ndarray, stride: int, none: int) -> np.ndarray:
    """Per column: whether every use moves on by one step of the loop (and none stays none)."""
    return np.all(np.where(before == none, after == none, after == before + stride), axis=0)
