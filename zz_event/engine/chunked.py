"""Window-by-window accumulation for the per-child union walk (`siblings.py`): the executed (child, tile)s
a window of consecutive tiles at a time, and the small structures carried between windows. Memory stays
at a window's worth of arrays plus what is carried, whatever the number of tiles."""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.engine.budget import check_budget
from zz_event.engine.grouping import encode, unique_rows

__all__ = ["SortedMap", "Tallies", "group_max", "group_min", "tally", "windows"]


def tally(columns: list[np.ndarray], times: np.ndarray | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the parallel integer `columns` and their summed multiplicities
    (`times`, else one each), by sorting one int64 key per row: np.unique over stacked rows (axis=0) is
    orders of magnitude slower on these lists."""
    if times is None:
        return unique_rows(columns)
    if not columns[0].size:
        return [c[:0] for c in columns], times[:0]
    encoded = encode(columns) if all(c.min() >= 0 for c in columns) else None
    if encoded is None:  # the key could overflow (or a value is negative): sort the rows column by column
        order = np.lexsort(columns[::-1])
        ordered = [c[order] for c in columns]
        change = np.zeros(order.size, dtype=bool)
        for c in ordered:
            change[1:] |= c[1:] != c[:-1]
    else:
        key, bases = encoded
        n_keys, times = prod(bases), np.asarray(times, dtype=np.int64)
        # Few possible keys (element counts are small numbers): a histogram, no sort. Its float sums are
        # exact below 2**53.
        if n_keys <= max(1 << 16, 4 * key.size) and int(np.abs(times).sum()) < 2**53:
            summed = np.bincount(key, weights=times, minlength=n_keys)
            uniq = np.flatnonzero(np.bincount(key, minlength=n_keys))
            cols, radix = [], 1
            for b in bases:
                cols.append(uniq // radix % b)
                radix *= b
            return cols, summed[uniq].astype(np.int64)
        order = np.argsort(key)
        key = key[order]
        change = np.empty(order.size, dtype=bool)
        change[1:] = key[1:] != key[:-1]
    change[0] = True
    starts = np.flatnonzero(change)
    summed = np.add.reduceat(np.asarray(times, dtype=np.int64)[order], starts)
    if encoded is None:
        return [c[starts] for c in ordered], summed
    uniq, cols, radix = key[starts], [], 1
    for b in bases:
        cols.append(uniq // radix % b)
        radix *= b
    return cols, summed


class Tallies:
    """Event lists kept as distinct rows with multiplicities, merged window by window (bounded memory)."""

    def __init__(self, width: int) -> None:
        self.parts: list[tuple[list[np.ndarray], np.ndarray]] = []
        self.width = width

    def add(self, *columns: np.ndarray) -> None:
        self.parts.append(tally(list(columns)))
        if len(self.parts) > 64:
            self.parts = [self.total()]

    def total(self) -> tuple[list[np.ndarray], np.ndarray]:
        if not self.parts:
            empty = np.zeros(0, dtype=np.int64)
            return [empty] * self.width, empty
        columns = [np.concatenate([cols[i] for cols, _ in self.parts]) for i in range(self.width)]
        return tally(columns, np.concatenate([times for _, times in self.parts]))


# A window of the walk holds at most this many (child, tile) cells and about this many elements of child tiles
# (a single tile over every child may hold more): the walk's memory does not grow with the layer.
_WINDOW_CELLS = 1 << 18
_WINDOW_ELEMENTS = 1 << 20


@dataclass
class _Window:
    """The executed (child, tile)s of consecutive tiles, ordered by child, then tile; their keys and sizes."""

    child: np.ndarray
    tile: np.ndarray
    keys: list[np.ndarray]


def windows(axes):
    """The executed (child, tile)s of the whole sequence (`axes`: `siblings._Axes`), a window of consecutive
    tiles at a time."""
    children = np.arange(axes.n_child, dtype=np.int64)[:, None]
    t0, width = 0, max(1, _WINDOW_CELLS // axes.n_child)
    while t0 < axes.n_tiles:
        width = min(width, axes.n_tiles - t0)
        tiles = np.arange(t0, t0 + width, dtype=np.int64)[None, :]
        child, col = np.nonzero(axes.executed(children, tiles))
        tile = col + t0
        keys = axes.keys_at(child, tile)
        total = int(axes.sizes(keys).sum())
        if total > _WINDOW_ELEMENTS and width > 1:
            width //= 2
            continue
        # About twenty int64 arrays over every element of the window's child tiles stay alive at once.
        check_budget(total, 160, "per-child element walk (several PEs per memory)")
        yield _Window(child, tile, keys)
        t0 += width
        if total < _WINDOW_ELEMENTS // 4:
            width = min(2 * width, max(1, _WINDOW_CELLS // axes.n_child))


class SortedMap:
    """int64 keys -> int64 values, merged window by window: a later value for a key replaces the earlier."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0, dtype=np.int64)

    def update(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Merge distinct `keys` (with their `values`) in."""
        all_keys = np.concatenate([self.keys, keys])
        all_values = np.concatenate([self.values, values])
        order = np.argsort(all_keys, kind="stable")  # a new key sorts after its old copy
        all_keys, all_values = all_keys[order], all_values[order]
        last = np.ones(all_keys.size, dtype=bool)
        last[:-1] = all_keys[1:] != all_keys[:-1]
        self.keys, self.values = all_keys[last], all_values[last]

    def contains(self, query: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(self.keys, query), max(self.keys.size - 1, 0))
        return (self.keys[at] == query) if self.keys.size else np.zeros(query.shape, dtype=bool)

    def __getitem__(self, query: np.ndarray) -> np.ndarray:
        return self.values[np.searchsorted(self.keys, query)]


def group_max(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(keys, return_inverse=True)
    out = np.full(uniq.size, -1, dtype=np.int64)
    np.maximum.at(out, inverse, values)
    return uniq, out


def group_min(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(keys, return_inverse=True)
    out = np.full(uniq.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, inverse, values)
    return uniq, inverse, out
