"""The tile index of a union pass as an odometer over the loops above the children: a table's key of a
(child, tile) is a sum of per-digit contributions (`key_of`), so keys follow the index by additions
(`coefficients`, `advance`), and loops whose iterations repeat one another's events are jumped over
(`advance_skipping`, `copies`: iteration jump_lo stands for jump_lo .. jump_hi)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["advance", "advance_skipping", "child_parts", "coefficients", "copies", "key_of", "tile_parts",
           "tile_strides"]


@njit(cache=True, nogil=True)
def key_of(rows, lo, hi, child, tile):
    """A table's key of (child, tile): sum over its spec rows (temporal?, stride, size, radix)."""
    k = 0
    for r in range(lo, hi):
        v = tile if rows[r, 0] else child
        k += (v // rows[r, 1]) % rows[r, 2] * rows[r, 3]
    return k


@njit(cache=True, nogil=True)
def child_parts(rows, off, n_child):
    """Keys are additive: a table's key of (child, tile) is its key of (child, tile 0) plus that of (child 0,
    tile). Per table and child, the child's part."""
    out = np.zeros((off.size - 1, n_child), np.int64)
    for a in range(off.size - 1):
        for c in range(n_child):
            out[a, c] = key_of(rows, off[a], off[a + 1], c, 0)
    return out


@njit(cache=True, nogil=True)
def tile_parts(rows, off, t, out):
    for a in range(off.size - 1):
        out[a] = key_of(rows, off[a], off[a + 1], 0, t)


@njit(cache=True, nogil=True)
def tile_strides(sizes):
    strides = np.ones(sizes.size, np.int64)
    for i in range(1, sizes.size):
        strides[i] = strides[i - 1] * sizes[i - 1]
    return strides


@njit(cache=True, nogil=True)
def coefficients(rows, off, sizes):
    """Per tile digit (loop above the child level, inner to outer) and table: what one step of the digit adds
    to the table's key (its spec row's radix), so that keys follow the tile index by additions."""
    strides = tile_strides(sizes)
    coef = np.zeros((sizes.size, off.size - 1), np.int64)
    for a in range(off.size - 1):
        for r in range(off[a], off[a + 1]):
            if rows[r, 0]:
                for i in range(sizes.size):
                    if strides[i] == rows[r, 1] and sizes[i] == rows[r, 2]:
                        coef[i, a] += rows[r, 3]
    return coef


@njit(cache=True, nogil=True)
def advance(digits, sizes, coef_k, coef_g, tile_keys, tile_gates, lowest=0):
    """Step the tile index by one unit of digit `lowest` (the digits below it at 0): the lowest digit from
    there that does not wrap steps, those below it go back to 0. Returns the digit that stepped
    (sizes.size if every digit wrapped)."""
    for i in range(lowest, sizes.size):
        if digits[i] + 1 < sizes[i]:
            digits[i] += 1
            for a in range(tile_keys.size):
                tile_keys[a] += coef_k[i, a]
            for g in range(tile_gates.size):
                tile_gates[g] += coef_g[i, g]
            return i
        for a in range(tile_keys.size):
            tile_keys[a] -= digits[i] * coef_k[i, a]
        for g in range(tile_gates.size):
            tile_gates[g] -= digits[i] * coef_g[i, g]
        digits[i] = 0
    return sizes.size


@njit(cache=True, nogil=True)
def advance_skipping(digits, sizes, strides, jump_lo, jump_hi, coef_k, coef_g, tile_keys, tile_gates, jumped):
    """`advance`, then, where a loop steps past its iteration jump_lo (>= 0), on past the iterations that one
    stands for (to jump_hi) straight to jump_hi + 1; if that is past the loop's last iteration, the loops
    outside it step instead (and may jump in turn). Returns how far the tile index moved; `jumped` gets
    (the loop, the iterations skipped) of a jump that stays inside its loop, 0 skipped if none."""
    jumped[1] = 0
    moved = 1
    i = advance(digits, sizes, coef_k, coef_g, tile_keys, tile_gates)
    while i < sizes.size and jump_lo[i] >= 0 and digits[i] == jump_lo[i] + 1 and jump_hi[i] > jump_lo[i]:
        jump = jump_hi[i] - jump_lo[i]
        moved += jump * strides[i]
        past = jump_hi[i] == sizes[i] - 1  # then to the last iteration, and one unit of this loop on
        step = jump - 1 if past else jump
        digits[i] += step
        for a in range(tile_keys.size):
            tile_keys[a] += step * coef_k[i, a]
        for g in range(tile_gates.size):
            tile_gates[g] += step * coef_g[i, g]
        if not past:
            jumped[0], jumped[1] = i, jump
            break
        i = advance(digits, sizes, coef_k, coef_g, tile_keys, tile_gates, i)
    return moved


@njit(cache=True, nogil=True)
def copies(digits, jump_lo, jump_hi):
    """How many iterations the current tile's events stand for: a loop's iteration jump_lo stands for
    jump_lo to jump_hi."""
    n = 1
    for i in range(digits.size):
        if jump_lo[i] >= 0 and digits[i] == jump_lo[i]:
            n *= jump_hi[i] - jump_lo[i] + 1
    return n
