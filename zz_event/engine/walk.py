"""The compiled pass behind events from data: one level's executed tiles and what each change moves.

The general pass (`_walk`) visits, per sample and instance, the iterations of one level's tiles in time
order, tile by tile. It keeps one stamp per element: the last row (executed tile) that used it. A stamp
equal to the current row is a repeat inside the tile; one equal to the previous row (of the same sample and
instance) means the element stays resident (it does not enter); one from before the instance's first row, a
first use. When the instance ends, each element's stamp is its last use; then every row's counts are final
and are summed per sample with the words of each transfer the caller asks for: no array per row leaves the
pass, and the rows of one instance stay small enough for the cache. That replaces sorting (instance, tile,
element) triples: one visit per iteration of the tiles and sample, one stamp per element. The latency
(`latency.py`) reads four sums per link of its transfer events (events, bits, busy cycles, cycles beyond the
window's allowed ones): the pass adds each row's transfer to them, so no per-event array leaves it either.

Tiles of one element (the register bank of an operand whose tile over the array is one element, as every
operand's on an array unrolling only K) take `_single_element`: visiting tiles in time order once for a
word of samples, it handles only the samples that execute each tile (the bits of its word), and a row
there is one of four classes, so it only counts rows per class and sample; the words of each class are
rounded once, not per row, and no row is kept.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros  # one instruction (tzcnt), bit 63 included

__all__ = ["QUANTITIES", "WORD", "walk", "warm_up"]

WORD = 64  # samples per word of executed flags (bit s % WORD of word s // WORD)

# What every row (executed tile) of an instance moves, in elements: its size, its entries (elements the
# previous row did not hold), its first and last uses, the evictions at the change into it (and of them
# those leaving for good), its flush at the instance's end (if it is the last row), its on-load (if first).
QUANTITIES = ("size", "entry", "first", "last", "out", "out_final", "flush", "onload")
_QUANTITY = {q: i for i, q in enumerate(QUANTITIES)}
_Q_LAST, _Q_OUT_FINAL, _Q_FLUSH = _QUANTITY["last"], _QUANTITY["out_final"], _QUANTITY["flush"]
_SIZE, _KEPT, _FIRST, _LAST, _OUT_FINAL, _TILE = range(6)
_NO_TRIPLES = np.zeros((0, 7), np.int64)


def walk(bits, offset, elem, n_samples, n_inst, n_tiles, box, n_elem, factor, terms, coefs, bw, link, link_bw,
         allowed, n_links, emit, rows):
    """Per-sample sums of one level's row quantities, and the words of the caller's transfers (`_walk`,
    or `_single_element` for the tiles it takes)."""
    if box == 1 and not emit and not ((terms == _Q_OUT_FINAL) & (coefs != 0)).any():
        sums, units, links = _single_element(bits, offset, elem, n_samples, n_inst, n_tiles, n_elem, factor, terms,
                                             coefs, bw, link, link_bw, allowed, n_links)
        return sums, units, links, _NO_TRIPLES, rows
    return _walk(bits, offset, elem, n_samples, n_inst, n_tiles, box, n_elem, factor, terms, coefs, bw, link,
                 link_bw, allowed, n_links, emit, rows)


@njit(cache=True, nogil=True)
def _walk(bits, offset, elem, n_samples, n_inst, n_tiles, box, n_elem, factor, terms, coefs, bw, link, link_bw,
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


# The quantities of a one-element row by its class: kept (the previous row held the element), entered after
# an earlier use in the instance, entered for the first time, the instance's first row. A row whose element
# is not used again (`last`) adds 1 to its `last`; the instance's last row is also its flush. Such a row
# evicts one element exactly when it enters one, except the first; `out_final` never occurs (`walk`).
_CLASSES = np.array([[1, 0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 1, 0, 0, 0], [1, 1, 1, 0, 1, 0, 0, 0],
                     [1, 1, 1, 0, 0, 0, 0, 1]], np.int64)


@njit(cache=True, nogil=True)
def _single_element(bits, offset, elem, n_samples, n_inst, n_tiles, n_elem, factor, terms, coefs, bw, link,
                    link_bw, allowed, n_links):
    """`walk`'s sums, units and links where every tile is one iteration (box 1) and no transfer reads
    `out_final`: per word of samples, one visit per tile and per sample executing it."""
    sums = np.zeros((n_samples, 8), np.int64)
    units = np.zeros((n_samples, terms.shape[0]), np.int64)
    links = np.zeros((n_samples, n_links, 4), np.int64)
    q = np.zeros(8, np.int64)
    for word in range(-(-n_samples // WORD)):
        s0 = word * WORD
        ns = min(WORD, n_samples - s0)
        used = np.zeros(n_elem * ns, np.int64)  # per (element, sample): 1 + the last instance that used it
        cls = np.zeros(n_elem * ns, np.int64)  # and the class of the last row that used it
        cur = np.empty(ns, np.int64)  # per sample: the element of its last row in the instance (-1: none)
        count = np.zeros((ns, 4), np.int64)  # per sample: rows of each class
        lasts = np.zeros((ns, 4), np.int64)  # of them, those using their element for the last time
        distinct = np.empty(ns, np.int64)  # elements used in the instance
        seen = np.empty(n_elem * ns, np.int64)
        for inst in range(n_inst):
            cur[:] = -1
            distinct[:] = 0
            n_seen = 0
            for i in range(inst * n_tiles, (inst + 1) * n_tiles):
                x = bits[offset[i], word]
                at = elem[i] * ns
                while x:  # each sample executing the tile
                    low = x & -x
                    x ^= low
                    s = trailing_zeros(low)
                    j = at + s
                    if cur[s] == elem[i]:
                        c = 0
                    elif used[j] == inst + 1:
                        c = 1
                    else:
                        c = 2 if cur[s] >= 0 else 3
                        used[j] = inst + 1
                        seen[n_seen] = j
                        n_seen += 1
                    count[s, c] += 1
                    cls[j] = c
                    cur[s] = elem[i]
            for k in range(n_seen):  # each element's last row
                lasts[seen[k] % ns, cls[seen[k]]] += 1
                distinct[seen[k] % ns] += 1
            for s in range(ns):  # the last row: its element's last use, flushed; the others leave before it
                if cur[s] < 0:
                    continue
                c = cls[cur[s] * ns + s]
                count[s, c] -= 1
                lasts[s, c] -= 1
                q[:] = _CLASSES[c]
                q[_Q_LAST] = q[_Q_FLUSH] = 1
                _add_rows(s0 + s, q, 1, factor, terms, coefs, bw, link, link_bw, allowed, sums, units, links)
                sums[s0 + s, _Q_OUT_FINAL] += (distinct[s] - 1) * factor
        for s in range(ns):
            for c in range(4):
                q[:] = _CLASSES[c]
                _add_rows(s0 + s, q, count[s, c] - lasts[s, c], factor, terms, coefs, bw, link, link_bw, allowed,
                          sums, units, links)
                q[_Q_LAST] = 1
                _add_rows(s0 + s, q, lasts[s, c], factor, terms, coefs, bw, link, link_bw, allowed, sums, units,
                          links)
    return sums, units, links


@njit(cache=True, nogil=True)
def _add_rows(s, q, n, factor, terms, coefs, bw, link, link_bw, allowed, sums, units, links):
    """`n` rows of quantities `q` (before `factor`) added to sample s's sums, word units and link sums."""
    if n == 0:
        return
    for f in range(terms.shape[0]):
        total = 0
        for t in range(terms.shape[1]):
            total += coefs[f, t] * q[terms[f, t]] * factor
        units[s, f] += n * -(-total // bw[f])
        ln = link[f]
        if ln >= 0 and total > 0:
            cycles = -(-total // link_bw[f])
            links[s, ln, 0] += n
            links[s, ln, 1] += n * total
            links[s, ln, 2] += n * cycles
            links[s, ln, 3] += n * max(cycles - allowed[f], 0)
    for j in range(8):
        sums[s, j] += n * q[j] * factor


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
    for emit in (False, True):  # the one-element pass and the general one
        walk(np.zeros((1, 1), np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64), 1, 1, 1, 1, 1, 1, none, none,
             empty, empty, empty, empty, 0, emit, np.zeros((0, 6), np.int64))
