"""The compiled pass behind `touches.OutputTouches.counts`: per (instance row, tile), how many output
elements are first and last touched there, over the outer product of per-axis parts, one pair at a time
(numpy's outer products held every pair's first, last, row, keep and tiles at once, 20 arrays a slice)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["touch_counts"]


@njit(cache=True, nogil=True)
def touch_counts(first, last, row, keep, offsets, enumerated, symmetric, context, first_row, n_inst, n_tiles):
    """`first`, `last`, `row`, `keep`: the parts' columns, part i at [offsets[i], offsets[i + 1]); a pair
    takes one entry of each part and sums (ands) them. `enumerated`: (step weight, size) of the tile digits,
    inner to outer; `symmetric`: relevant loops above the block, counted at their first value only;
    `context`: last touches fall in the all-last class of irrelevant context loops (the top tile digit)."""
    n_part = offsets.size - 1
    first_counts = np.zeros(n_inst * n_tiles, np.int64)
    last_counts = np.zeros(n_inst * n_tiles, np.int64)
    for i in range(n_part):
        if offsets[i + 1] == offsets[i]:
            return first_counts, last_counts
    radix = 1
    for d in range(enumerated.shape[0]):
        radix *= enumerated[d, 1]
    pos = offsets[:-1].copy()
    while True:
        f = la = r = 0
        kept = True
        for i in range(n_part):
            at = pos[i]
            f += first[at]
            la += last[at]
            r += row[at]
            kept = kept and keep[at]
        r -= first_row
        if kept and 0 <= r < n_inst:
            for d in range(symmetric.shape[0]):
                if f // symmetric[d, 0] % symmetric[d, 1] != 0:
                    kept = False
            if kept:
                tile_first = tile_last = 0
                digit_radix = 1
                for d in range(enumerated.shape[0]):
                    w, size = enumerated[d, 0], enumerated[d, 1]
                    tile_first += f // w % size * digit_radix
                    tile_last += la // w % size * digit_radix
                    digit_radix *= size
                tile_last += context * radix
                first_counts[r * n_tiles + tile_first] += 1
                last_counts[r * n_tiles + tile_last] += 1
        i = n_part - 1  # the odometer over the parts, last part fastest
        while i >= 0:
            pos[i] += 1
            if pos[i] < offsets[i + 1]:
                break
            pos[i] = offsets[i]
            i -= 1
        if i < 0:
            return first_counts, last_counts
