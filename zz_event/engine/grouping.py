"""Small array helpers of the analytic backend: distinct value tuples, slot tables."""

from __future__ import annotations

from math import prod

import numpy as np

__all__ = ["slots", "three_way", "unique_rows"]


def encode(columns: list[np.ndarray]) -> tuple[np.ndarray, list[int]] | None:
    """One int64 per row (mixed radix over the columns), or None if it could overflow."""
    bases = [int(c.max()) + 1 if c.size else 1 for c in columns]
    if prod(bases) >= 2**62:
        return None
    key = np.zeros(columns[0].shape, dtype=np.int64)
    radix = 1
    for c, b in zip(columns, bases):
        key = key + c * radix
        radix *= b
    return key, bases


def unique_rows(columns: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct value tuples (non-negative integers) and how often each occurs."""
    if not columns[0].size:
        return [c[:0] for c in columns], np.zeros(0, dtype=np.int64)
    encoded = encode(columns)
    if encoded is None:
        rows, counts = np.unique(np.stack(columns, axis=1), axis=0, return_counts=True)
        return [rows[:, i] for i in range(rows.shape[1])], counts.astype(np.int64)
    key, bases = encoded
    uniq, counts = np.unique(key, return_counts=True)
    cols, radix = [], 1
    for b in bases:
        cols.append(uniq // radix % b)
        radix *= b
    return cols, counts.astype(np.int64)


def three_way(count: int) -> list[tuple[int, int, int]]:
    """(is first, is last, how many) for `count` values of which the first and the last are special."""
    if count == 1:
        return [(1, 1, 1)]
    return [(1, 0, 1), (0, 1, 1), (0, 0, count - 2)]


def slots(rows: list[tuple[int, int, int]]) -> np.ndarray:
    """Up to three (first, last, count) rows, padded with zero counts: shape (3, 3)."""
    out = np.zeros((3, 3), dtype=np.int64)
    out[: len(rows)] = rows
    return out
