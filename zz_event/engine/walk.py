"""The compiled pass behind events from data: one level's executed tiles and what each change moves.

`walk` visits the iterations of one level's tiles in (instance, tile, position in the tile) order, the
tiles of an instance in time order, and every sample at each iteration at once: a sample is one bit of
the iteration's executed flags (32 samples a word), so an iteration no sample executes costs one load.
Per sample it keeps one stamp per element: the last row (executed tile) that used it. A stamp equal to
the current row is a repeat inside the tile; one equal to the sample's previous row of the instance means
the element stays resident (it does not enter); one from before the instance's first row, a first use.
When an instance ends, each element's stamp is its last use; then every row's counts are final and are
summed per sample, with the words of each transfer the caller asks for (`FLOWS`): no array per row
leaves the pass. That replaces sorting (instance, tile, element) triples.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["QUANTITIES", "WORD", "walk"]

# What every row (executed tile) of an instance moves, in elements: its size, its entries (elements the
# previous row did not hold), its first and last uses, the evictions at the change into it (and of them
# those leaving for good), its flush at the instance's end (if it is the last row), its on-load (if first).
QUANTITIES = ("size", "entry", "first", "last", "out", "out_final", "flush", "onload")
_SAMPLE, _SIZE, _KEPT, _FIRST, _LAST, _OUT_FINAL, _PRED, _NEXT, _TILE = range(9)


@njit(cache=True, nogil=True)
def walk(bits, offset, elem, n_samples, n_inst, n_tiles, box, n_elem, factor, terms, coefs, bw, emit):
    """Per-sample sums of one level's row quantities, and the words of the caller's transfers.

    `bits` (positions, words): executed flags of sample s at bit s % WORD of word s // WORD; `offset`,
    `elem`: per iteration, in (instance, tile, box) order, its position in `bits` and its element.
    Every row quantity is scaled by `factor`. Transfer f moves, per row, sum_t coefs[f, t] *
    quantity[terms[f, t]] bits through a port of width bw[f] (its partial and final elements already
    weighted by their precisions): its word units are that, rounded up, summed per sample.
    Returns (sums (S, 8), units (S, F), triples); with `emit`, triples holds per distinct (sample and
    instance, row, element): (sample * n_inst + instance, tile, element, enters, first use, leaves, when:
    the tile of the instance's next row, or n_tiles after its last)."""
    n_words = bits.shape[1]
    sums = np.zeros((n_samples, 8), np.int64)
    units = np.zeros((n_samples, terms.shape[0]), np.int64)
    stamp = np.full((n_samples, n_elem), -1, np.int64)
    seen = np.empty((n_samples, n_elem), np.int64)
    n_seen = np.zeros(n_samples, np.int64)
    cur = np.full(n_samples, -1, np.int64)  # the row each sample builds in the current tile
    prev = np.full(n_samples, -1, np.int64)  # each sample's previous row of the current instance
    rows = np.empty((1024, 9), np.int64)  # the current instance's rows; ids are `base` + index
    trip = np.empty((1024 if emit else 0, 7), np.int64)
    trip_row = np.empty(1024 if emit else 0, np.int64)
    at = np.empty((n_samples, n_elem) if emit else (0, 0), np.int64)  # each element's last triple
    n_trip = 0
    base = 0
    q = np.zeros(8, np.int64)
    for inst in range(n_inst):
        nr = 0
        trip0 = n_trip
        n_seen[:] = 0
        prev[:] = -1
        for tile in range(n_tiles):
            cell = (inst * n_tiles + tile) * box
            opened = nr
            for b in range(box):
                i = cell + b
                pos = offset[i]
                e = elem[i]
                for w in range(n_words):
                    m = bits[pos, w]
                    while m:
                        low = m & -m
                        m ^= low
                        s = w * WORD + _bit_index(low)
                        r = cur[s]
                        if r < 0:
                            if nr == rows.shape[0]:
                                rows = _grow(rows)
                            r = base + nr
                            rows[nr, :] = 0
                            rows[nr, _SAMPLE] = s
                            rows[nr, _PRED] = prev[s]
                            rows[nr, _NEXT] = -1
                            rows[nr, _TILE] = tile
                            cur[s] = r
                            nr += 1
                        p = stamp[s, e]
                        if p == r:
                            continue
                        local = r - base
                        rows[local, _SIZE] += 1
                        is_first = p < base
                        stays = (not is_first) and p == prev[s]
                        if is_first:
                            rows[local, _FIRST] += 1
                            seen[s, n_seen[s]] = e
                            n_seen[s] += 1
                        elif stays:
                            rows[local, _KEPT] += 1
                        stamp[s, e] = r
                        if emit:
                            if stays:
                                trip[at[s, e], 5] = 0
                            if n_trip == trip.shape[0]:
                                trip, trip_row = _grow(trip), _grow(trip_row)
                            trip[n_trip, 0] = s * n_inst + inst
                            trip[n_trip, 1] = tile
                            trip[n_trip, 2] = e
                            trip[n_trip, 3] = 0 if stays else 1
                            trip[n_trip, 4] = 1 if is_first else 0
                            trip[n_trip, 5] = 1
                            trip_row[n_trip] = local
                            at[s, e] = n_trip
                            n_trip += 1
            for local in range(opened, nr):  # close the tile's rows: link them to their predecessors
                s = rows[local, _SAMPLE]
                cur[s] = -1
                if prev[s] >= 0:
                    rows[prev[s] - base, _NEXT] = base + local
                prev[s] = base + local
        for s in range(n_samples):  # each element's stamp is now its last use in the instance
            for j in range(n_seen[s]):
                last = stamp[s, seen[s, j]] - base
                rows[last, _LAST] += 1
                nxt = rows[last, _NEXT]
                if nxt >= 0:
                    rows[nxt - base, _OUT_FINAL] += 1
        for local in range(nr):
            s = rows[local, _SAMPLE]
            size = rows[local, _SIZE]
            pred, nxt = rows[local, _PRED], rows[local, _NEXT]
            q[0] = size
            q[1] = size - rows[local, _KEPT]
            q[2] = rows[local, _FIRST]
            q[3] = rows[local, _LAST]
            q[4] = rows[pred - base, _SIZE] - rows[local, _KEPT] if pred >= 0 else 0
            q[5] = rows[local, _OUT_FINAL]
            q[6] = size if nxt < 0 else 0
            q[7] = size if pred < 0 else 0
            for k in range(8):
                q[k] *= factor
                sums[s, k] += q[k]
            for f in range(terms.shape[0]):
                total = 0
                for t in range(terms.shape[1]):
                    total += coefs[f, t] * q[terms[f, t]]
                units[s, f] += -(-total // bw[f])
        if emit:
            for t in range(trip0, n_trip):
                nxt = rows[trip_row[t], _NEXT]
                trip[t, 6] = rows[nxt - base, _TILE] if nxt >= 0 else n_tiles
        base += nr
    return sums, units, trip[:n_trip]


# Samples per word of executed flags: 32, so that words stay positive int64 and a product of two fits.
WORD = 32
_DEBRUIJN = np.array([0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8,
                      31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9], np.int64)


@njit(cache=True, nogil=True)
def _bit_index(low):
    """The index of the one set bit of `low` (< 2**32): a de Bruijn sequence picks it from a table."""
    return _DEBRUIJN[((low * 0x077CB531) & 0xFFFFFFFF) >> 27]


@njit(cache=True, nogil=True)
def _grow(a):
    """`a` with twice the rows, the first ones copied."""
    bigger = np.empty((2 * a.shape[0],) + a.shape[1:], a.dtype)
    bigger[: a.shape[0]] = a
    return bigger
