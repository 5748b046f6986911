"""Event lists as distinct rows with summed weights: the explicit tile walk (`enumerated.py`) tallies
each part of its rows, so that its event lists take memory by distinct event, not by (instance, tile)."""

from __future__ import annotations

from math import prod

import numpy as np

from zz_event.engine.grouping import encode, unique_rows

__all__ = ["tally"]


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
