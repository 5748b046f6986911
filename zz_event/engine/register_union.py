"""The compiled union pass (`union_kernel.py`) for children whose tiles hold at most one element: the
registers of processing elements under a shared level, where a pass visits every step of every child."""

from __future__ import annotations

import numpy as np
from numba import njit

from zz_event.engine.union_kernel import (
    NEVER,
    advance_skipping,
    child_parts,
    coefficients,
    copies,
    executed,
    pass_state,
    tally,
    tally_arrays,
    tile_parts,
    tile_strides,
)

__all__ = ["single_union_pass"]


@njit(cache=True, nogil=True)
def _single(values, vstart, v_off, extent, keys, coord, n_tab):
    """The one element of a tile of at most one (-1 if empty), its coordinates in `coord`."""
    e = 0
    for a in range(n_tab):
        at = vstart[v_off[a] + keys[a]]
        if at >= vstart[v_off[a] + keys[a] + 1]:
            return -1
        coord[a] = values[at]
        e = e * extent[a] + coord[a]
    return e


@njit(cache=True, nogil=True)
def single_union_pass(n_child, n_tiles, sizes, skip, p_start, p_child, mult, spec, spec_off, extent, values, vstart,
                      v_off, gate_spec, gate_off, gates, g_off, first, f_off, base, output, cap):
    """`union_pass` where no child tile holds more than one element (a processing element's register): a
    child's tile is its element, entering when it differs from the child's previous one, which then leaves.
    No odometer and no membership tests: the same events at a fraction of the cost."""
    n_tab, n_gate = extent.size, g_off.size - 1
    (stamp_down, stamp_touch, stamp_up, last, big_down, big_touched, big_up, hist_down, hist_touched, hist_up,
     radix) = pass_state(extent, output, cap)
    prev = np.full(n_child, -1, np.int64)  # each child's previous executed tile
    prev_elem = np.full(n_child, -1, np.int64)  # and its element (-1: none)
    child_keys = child_parts(spec, spec_off, n_child)
    child_gates = child_parts(gate_spec, gate_off, n_child)
    tile_keys = np.zeros(n_tab, np.int64)
    tile_gates = np.zeros(n_gate, np.int64)
    coef_k = coefficients(spec, spec_off, sizes)
    coef_g = coefficients(gate_spec, gate_off, sizes)
    strides = tile_strides(sizes)
    digits = np.zeros(sizes.size, np.int64)
    keys = np.zeros(n_tab, np.int64)
    coord = np.zeros(n_tab, np.int64)
    onload = np.zeros(p_start.size - 1, np.int64)
    for p in range(p_start.size - 1):
        ev0 = p * (n_tiles + 1)
        lo, hi = p_start[p], p_start[p + 1]
        if output:  # first pass: each element's last use by a child of this parent
            tile_parts(spec, spec_off, 0, tile_keys)
            tile_parts(gate_spec, gate_off, 0, tile_gates)
            digits[:] = 0
            t = 0
            while t < n_tiles:
                for i in range(lo, hi):
                    c = p_child[i]
                    if not executed(gates, g_off, child_gates, tile_gates, c):
                        continue
                    for a in range(n_tab):
                        keys[a] = child_keys[a, c] + tile_keys[a]
                    e = _single(values, vstart, v_off, extent, keys, coord, n_tab)
                    if e >= 0:
                        last[e] = ev0 + t
                t += advance_skipping(digits, sizes, strides, skip, coef_k, coef_g, tile_keys, tile_gates)
        for i in range(lo, hi):
            prev[p_child[i]] = -1
            prev_elem[p_child[i]] = -1
        tile_parts(spec, spec_off, 0, tile_keys)
        tile_parts(gate_spec, gate_off, 0, tile_gates)
        digits[:] = 0
        t = 0
        while t <= n_tiles:
            ev = ev0 + t
            n = copies(digits, sizes, skip) if t < n_tiles else 1
            down = touched = up = final = 0
            for i in range(lo, hi):
                c = p_child[i]
                m = mult[c]
                e = -1
                if t < n_tiles:
                    if not executed(gates, g_off, child_gates, tile_gates, c):
                        continue
                    for a in range(n_tab):
                        keys[a] = child_keys[a, c] + tile_keys[a]
                    e = _single(values, vstart, v_off, extent, keys, coord, n_tab)
                elif prev[c] < 0:
                    continue
                pe = prev_elem[c]
                if e >= 0 and (prev[c] < 0 or e != pe):  # an entry
                    if stamp_down[e] != ev:
                        stamp_down[e] = ev
                        down += m
                    if output and stamp_touch[e] != ev:
                        earliest = base[c]
                        for a in range(n_tab):
                            f = first[f_off[a] + c * extent[a] + coord[a]]
                            earliest = NEVER if f == NEVER or earliest == NEVER else earliest + f
                        if earliest < t:
                            stamp_touch[e] = ev
                            touched += m
                if output and pe >= 0 and e != pe and stamp_up[pe] != ev:  # the previous element leaves
                    stamp_up[pe] = ev
                    up += m
                    if last[pe] < ev:
                        final += m
                if t < n_tiles:
                    prev[c] = t
                    prev_elem[c] = e
            if down:
                tally(hist_down, big_down, down, n)
                if onload[p] == 0:
                    onload[p] = down
            if touched:
                tally(hist_touched, big_touched, touched, n)
            if up:
                tally(hist_up, big_up, up + final * radix, n)
            if t < n_tiles - 1:
                t += advance_skipping(digits, sizes, strides, skip, coef_k, coef_g, tile_keys, tile_gates)
            else:
                t += 1
    return (tally_arrays(hist_down, big_down), tally_arrays(hist_touched, big_touched),
            tally_arrays(hist_up, big_up), radix, onload)
