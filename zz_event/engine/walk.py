"""The compiled pass behind events from data: one level's executed tiles and what each change moves.

`walk` visits, per sample and instance, the iterations of one level's tiles in time order, tile by tile.
It keeps one stamp per element: the last row (executed tile) that used it. A stamp equal to the current
row is a repeat inside the tile; one equal to the previous row (of the same sample and instance) means the
element stays resident (it does not enter); one from before the instance's first row, a first use. When
the instance ends, each element's stamp is its last use; then every row's counts are final and are summed
per sample with the words of each transfer the caller asks for: no array per row leaves the pass, and
the rows of one instance stay small enough for the cache. That replaces sorting (instance, tile,
element) triples: one visit per iteration of the tiles and sample, one stamp per element. The latency
(`latency.py`) reads four sums per link of its transfer events (events, bits, busy cycles, cycles beyond the
window's allowed ones): the pass adds each row's transfer to them, so no per-event array leaves it either.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["QUANTITIES", "WORD", "walk", "warm_up"]

WORD = 64  # samples per word of executed flags (bit s % WORD of word s // WORD)

# What every row (executed tile) of an instance moves, in elements: its size, its entries (elements the
# previous row did not hold), its first and last uses, the evictions at the change into it (and of them
# those leaving for good), its flush at the instance's end (if it is the last row), its on-load (if first).
QUANTITIES = ("size", "entry", "first", "last", "out", "out_final", "flush", "onload")
_SIZE, _KEPT, _FIRST, _LAST, _OUT_FINAL, _TILE = range(6)


@njit(cache=True, nogil=True)
def walk(bits, offset, elem, n_samples, n_inst, n_tiles, box, n_elem, factor, terms, coefs, bw, link, link_bw,
         allowed, n_links, emit, rows):
    """Per-sample sums of one level's row quantities, and the words of the caller's transfers.

    `bits` (positions, words): executed flags of sample s at bit s % WORD of word s // WORD; `offset`,
    `elem`: per iteration, in (instance, tile, box) order, its position in `bits` and its element.
    Every row quantity is scaled by `factor`. Transfer f moves, per row, sum_t coefs[f, t] *
    quantity[terms[f, t]] bits through a port of width bw[f] (its partial and final elements already
    weighted by their precisions): its word units are that, rounded up, summed per sample.
    Each row's transfer f that moves some bits is one transfer event of latency link link[f] (none if
    negative), whose port moves link_bw[f] bits per cycle within allowed[f] cycles: per sample and link,
    the latency's four sums (`latency.LinkSums`: events, bits, busy cycles, cycles beyond the allowed).
    `rows` (any, 6) is scratch space for an instance's rows, grown if needed: pass the one returned by the
    previous call, so that its pages are reused rather than faulted in anew.
    Returns (sums (S, 8), units (S, F), links (S, n_links, 4), triples, rows); with `emit`, triples holds
    per distinct (sample and instance, row, element): (sample * n_inst + instance, tile, element, enters,
    first use, leaves, when: the tile of the instance's next row, or n_tiles after its last)."""
    sums = np.zeros((n_samples, 8), np.int64)
    units = np.zeros((n_samples, terms.shape[0]), np.int64)
    links = np.zeros((n_samples, n_links, 4), np.int64)
    stamp = np.full(n_elem, -1, np.int64)  # row ids grow over samples and instances: never reset
    seen = np.empty(n_elem, np.int64)
    if rows.shape[0] == 0:
        rows = np.empty((1024, 6), np.int64)  # the current instance's rows; ids are `base` + index
    trip = np.empty((1024 if emit else 0, 7), np.int64)
    trip_row = np.empty(1024 if emit else 0, np.int64)
    at = np.empty(n_elem if emit else 0, np.int64)  # each element's last triple
    n_trip = 0
    base = 0
    q = np.zeros(8, np.int64)
    for s in range(n_samples):
        word, bit = s // WORD, s % WORD
        for inst in range(n_inst):
            nr = 0
            n_seen = 0
            trip0 = n_trip
            for tile in range(n_tiles):
                cell = (inst * n_tiles + tile) * box
                r = base + nr  # the row this tile would be
                size = kept = first = 0
                for i in range(cell, cell + box):
                    if not (bits[offset[i], word] >> bit) & 1:
                        continue
                    e = elem[i]
                    p = stamp[e]
                    if p == r:
                        continue
                    size += 1
                    is_first = p < base
                    stays = (not is_first) and p == r - 1
                    if is_first:
                        first += 1
                        seen[n_seen] = e
                        n_seen += 1
                    elif stays:
                        kept += 1
                    stamp[e] = r
                    if emit:
                        if stays:
                            trip[at[e], 5] = 0
                        if n_trip == trip.shape[0]:
                            trip, trip_row = _grow(trip), _grow(trip_row)
                        trip[n_trip, 0] = s * n_inst + inst
                        trip[n_trip, 1] = tile
                        trip[n_trip, 2] = e
                        trip[n_trip, 3] = 0 if stays else 1
                        trip[n_trip, 4] = 1 if is_first else 0
                        trip[n_trip, 5] = 1
                        trip_row[n_trip] = nr
                        at[e] = n_trip
                        n_trip += 1
                if size:
                    if nr == rows.shape[0]:
                        rows = _grow(rows)
                    rows[nr, _SIZE] = size
                    rows[nr, _KEPT] = kept
                    rows[nr, _FIRST] = first
                    rows[nr, _LAST] = 0
                    rows[nr, _OUT_FINAL] = 0
                    rows[nr, _TILE] = tile
                    nr += 1
            for j in range(n_seen):  # each element's stamp is now its last use in the instance
                last = stamp[seen[j]] - base
                rows[last, _LAST] += 1
                if last + 1 < nr:
                    rows[last + 1, _OUT_FINAL] += 1
            for k in range(nr):
                size = rows[k, _SIZE]
                q[0] = size
                q[1] = size - rows[k, _KEPT]
                q[2] = rows[k, _FIRST]
                q[3] = rows[k, _LAST]
                q[4] = rows[k - 1, _SIZE] - rows[k, _KEPT] if k > 0 else 0
                q[5] = rows[k, _OUT_FINAL]
                q[6] = size if k == nr - 1 else 0
                q[7] = size if k == 0 else 0
                for j in range(8):
                    q[j] *= factor
                    sums[s, j] += q[j]
                for f in range(terms.shape[0]):
                    total = 0
                    for t in range(terms.shape[1]):
                        total += coefs[f, t] * q[terms[f, t]]
                    units[s, f] += -(-total // bw[f])
                    ln = link[f]
                    if ln >= 0 and total > 0:
                        cycles = -(-total // link_bw[f])
                        links[s, ln, 0] += 1
                        links[s, ln, 1] += total
                        links[s, ln, 2] += cycles
                        links[s, ln, 3] += max(cycles - allowed[f], 0)
            if emit:
                for t in range(trip0, n_trip):
                    k = trip_row[t] + 1
                    trip[t, 6] = rows[k, _TILE] if k < nr else n_tiles
            base += nr
    return sums, units, links, trip[:n_trip], rows


@njit(cache=True, nogil=True)
def _grow(a):
    """`a` with twice the rows, the first ones copied."""
    bigger = np.empty((2 * a.shape[0],) + a.shape[1:], a.dtype)
    bigger[: a.shape[0]] = a
    return bigger


def warm_up() -> None:
    """Compile the pass (or load it from numba's cache) now: a process about to fork correction workers
    does it once for all of them, instead of each worker at its first masked mapping."""
    none = np.zeros((0, 1), np.int64)
    empty = np.zeros(0, np.int64)
    walk(np.zeros((1, 1), np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64), 1, 1, 1, 1, 1, 1, none, none,
         empty, empty, empty, empty, 0, False, np.zeros((0, 6), np.int64))
