"""The compiled pass behind the per-child union walk (`siblings.py`): what a parent instance exchanges with
its child instances at every transition, one visit per element of every executed child tile.

A parent instance at a time, its transitions in time order, its children at each: a child's tile is a
product of per-axis value lists (a key per axis from the child's and the tile's digits), walked with an
odometer. One stamp per element and direction (the last event that counted it) makes the union over the
children of one moment a count, with no sort; event ids (parent, transition) only grow, from one pass to
the next too, so no stamp is ever reset (the stamps are kept across passes: `union_run._Stamps`). For
outputs, a first pass per parent stamps each element's last use by any of its children; whether a child
touched an element before is a sum of per-axis minima over the child's executed tiles (`first_touch_tables`),
the tile index being a sum of per-axis digit contributions over a product set.
Loops whose iterations repeat one another's events (from `jump_lo` to `jump_hi`: iterations 1 to the last of
those of exactly tiled uncoupled dimensions, to size - 2 for outputs over one they do not depend on) are walked
at jump_lo only, its events tallied once per iteration it stands for;
the tile index keeps its real value, so stamps and first touches read as in a full walk, and the last use
recorded for an element a visited tile holds still tells whether it is used again.
Memory: a few arrays over the operand's elements, none over tiles or (child, element) pairs.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

from zz_event.engine.odometer import (
    advance_skipping,
    child_parts,
    coefficients,
    copies,
    key_of,
    tile_parts,
    tile_strides,
)

__all__ = ["HIST", "NEVER", "executed", "first_touch_tables", "pass_state", "tally", "tally_arrays",
           "touched_before", "union_pass"]

NEVER = np.iinfo(np.int64).max


@njit(cache=True, nogil=True)
def first_touch_tables(n_child, spec, spec_off, values, vstart, v_off, extent, gate_spec, gate_off, gates, g_off,
                       g_free, latest=False):
    """Per table, child and axis value: the earliest contribution of the table's tile digits to the tile
    index at which the child's tile holds the value (`NEVER` if none), flattened (table a from f_off[a],
    child-major); and per child the sum of the earliest contributions of the gates no table implies
    (`g_free`: irrelevant dimensions, which can still leave a tile without a MAC). With `latest`, the latest
    contributions instead (-1 if none): an element's last use is then the sum of its axes' and the base."""
    n_tab = extent.size
    none = -1 if latest else NEVER
    f_off = np.zeros(n_tab + 1, np.int64)
    for a in range(n_tab):
        f_off[a + 1] = f_off[a] + n_child * extent[a]
    first = np.full(f_off[n_tab], none, np.int64)
    base = np.zeros(n_child, np.int64)
    for a in range(n_tab + g_free.size):
        if a < n_tab:
            rows, lo, hi = spec, spec_off[a], spec_off[a + 1]
        else:
            g = g_free[a - n_tab]
            rows, lo, hi = gate_spec, gate_off[g], gate_off[g + 1]
        n_tau = 1
        for r in range(lo, hi):
            if rows[r, 0]:
                n_tau *= rows[r, 2]
        best = np.full(n_child, none, np.int64)
        for tau in range(n_tau):
            t, rest = 0, tau
            for r in range(lo, hi):  # the axis' tile digits at values `tau`, as a tile index
                if rows[r, 0]:
                    t += rest % rows[r, 2] * rows[r, 1]
                    rest //= rows[r, 2]
            for c in range(n_child):
                k = key_of(rows, lo, hi, c, t)
                if a < n_tab:  # the key's values (a list per key), not a scan of the table's row
                    out = f_off[a] + c * extent[a]
                    for at in range(vstart[v_off[a] + k], vstart[v_off[a] + k + 1]):
                        v = out + values[at]
                        if t > first[v] if latest else t < first[v]:
                            first[v] = t
                elif gates[g_off[g] + k] and (t > best[c] if latest else t < best[c]):
                    best[c] = t
        if a >= n_tab:
            for c in range(n_child):
                base[c] = none if best[c] == none or base[c] == none else base[c] + best[c]
    return first, f_off, base


@njit(cache=True, nogil=True)
def executed(gates, g_off, child_gates, tile_gates, c):
    for g in range(g_off.size - 1):
        if not gates[g_off[g] + child_gates[g, c] + tile_gates[g]]:
            return False
    return True


@njit(cache=True, nogil=True)
def touched_before(first, f_off, extent, base, c, coord, t):
    """Whether child c's tiles held the element at `coord` before tile t (`first_touch_tables`)."""
    earliest = base[c]
    for a in range(extent.size):
        f = first[f_off[a] + c * extent[a] + coord[a]]
        earliest = NEVER if f == NEVER or earliest == NEVER else earliest + f
    return earliest < t


@njit(cache=True, nogil=True)
def _holds(member, m_off, extent, keys, coord, n_tab):
    for a in range(n_tab):
        if not member[m_off[a] + keys[a] * extent[a] + coord[a]]:
            return False
    return True


@njit(cache=True, nogil=True)
def _start(vstart, v_off, keys, pos, n_tab):
    """Set the odometer `pos` to the first element of the tile with `keys`; False if the tile is empty."""
    for a in range(n_tab):
        pos[a] = vstart[v_off[a] + keys[a]]
        if pos[a] >= vstart[v_off[a] + keys[a] + 1]:
            return False
    return True


@njit(cache=True, nogil=True)
def _next(vstart, v_off, keys, pos, n_tab):
    """Step the odometer (last axis fastest); False past the tile's last element."""
    for a in range(n_tab - 1, -1, -1):
        pos[a] += 1
        if pos[a] < vstart[v_off[a] + keys[a] + 1]:
            return True
        pos[a] = vstart[v_off[a] + keys[a]]
    return False


@njit(cache=True, nogil=True)
def _element(values, pos, extent, coord, n_tab):
    e = 0
    for a in range(n_tab):
        coord[a] = values[pos[a]]
        e = e * extent[a] + coord[a]
    return e


# Tallies keep keys below this in an array (a typed dict's update costs about 50 ns, as much as a step of a
# child's one-element tile), larger ones in a dict.
HIST = 1 << 16


@njit(cache=True, nogil=True)
def tally(hist, big, k, n):
    """n more events of count k."""
    if k < hist.size:
        hist[k] += n
    else:
        big[k] = big.get(k, 0) + n


@njit(cache=True, nogil=True)
def tally_arrays(hist, big):
    n = len(big)
    for k in range(hist.size):
        n += hist[k] > 0
    keys = np.empty(n, np.int64)
    counts = np.empty(n, np.int64)
    i = 0
    for k in range(hist.size):
        if hist[k]:
            keys[i], counts[i] = k, hist[k]
            i += 1
    for k, c in big.items():
        keys[i], counts[i] = k, c
        i += 1
    return keys, counts


@njit(cache=True, nogil=True)
def pass_state(stamps, output, cap):
    """What a union pass keeps per element (its stamps: the event that last moved it down, touched it, moved
    it up; and, for outputs, the event of its last use: rows of `stamps`, numbered past any earlier pass's
    events, so never reset) and its three tallies (a histogram of small counts, a dictionary of the rest),
    shared by `union_pass` and `register_union.single_union_pass`."""
    stamp_down, stamp_touch, stamp_up = stamps[0], stamps[1], stamps[2]
    last = stamps[3] if output else stamps[3, :0]
    big_down = Dict.empty(key_type=types.int64, value_type=types.int64)
    big_touched = Dict.empty(key_type=types.int64, value_type=types.int64)
    big_up = Dict.empty(key_type=types.int64, value_type=types.int64)
    radix = cap + 1
    hist_down = np.zeros(min(radix, HIST), np.int64)
    hist_touched = np.zeros(min(radix, HIST) if output else 0, np.int64)
    hist_up = np.zeros(min(min(radix, HIST) ** 2, HIST) if output else 0, np.int64)
    return (stamp_down, stamp_touch, stamp_up, last, big_down, big_touched, big_up, hist_down, hist_touched, hist_up,
            radix)


@njit(cache=True, nogil=True)
def union_pass(n_child, n_tiles, sizes, jump_lo, jump_hi, p_start, p_child, mult, spec, spec_off, member, m_off, extent,
               values, vstart, v_off, gate_spec, gate_off, gates, g_off, first, f_off, base, output, cap, stamps,
               ev_base):
    """The events of every (parent instance, transition) with anything to move, tallied: how many events
    read down each number of elements (the union of the children's entries), how many read down each number
    of elements the same child touched before, how many write up each (elements, of them final) pair (the
    union of their evictions; transition n_tiles is the end of the layer, where every child's last tile
    leaves); and per parent instance, its first transition's reads (0 if none). `p_child` lists, per parent,
    only one child of each class of identical children; each element of child c counts `mult[c]` times (its
    class' copies of disjoint data). The tallies are keyed by the count (and final * (n_elem * max mult + 1)
    for writes up). `cap` bounds every count of one event. `stamps`, `ev_base`: see `pass_state`."""
    n_tab, n_gate = extent.size, g_off.size - 1
    (stamp_down, stamp_touch, stamp_up, last, big_down, big_touched, big_up, hist_down, hist_touched, hist_up,
     radix) = pass_state(stamps, output, cap)
    prev = np.full(n_child, -1, np.int64)
    child_keys = child_parts(spec, spec_off, n_child)
    child_gates = child_parts(gate_spec, gate_off, n_child)
    prev_keys = np.zeros((n_child, n_tab), np.int64)  # each child's keys at its previous executed tile
    tile_keys = np.zeros(n_tab, np.int64)
    tile_gates = np.zeros(n_gate, np.int64)
    coef_k = coefficients(spec, spec_off, sizes)
    coef_g = coefficients(gate_spec, gate_off, sizes)
    strides = tile_strides(sizes)
    jumped = np.zeros(2, np.int64)
    digits = np.zeros(sizes.size, np.int64)
    keys = np.zeros(n_tab, np.int64)
    pkeys = np.zeros(n_tab, np.int64)
    pos = np.zeros(n_tab, np.int64)
    coord = np.zeros(n_tab, np.int64)
    onload = np.zeros(p_start.size - 1, np.int64)
    n_parent = p_start.size - 1
    for p in range(n_parent):
        ev0 = ev_base + p * (n_tiles + 1)
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
                    more = _start(vstart, v_off, keys, pos, n_tab)
                    while more:
                        last[_element(values, pos, extent, coord, n_tab)] = ev0 + t
                        more = _next(vstart, v_off, keys, pos, n_tab)
                t += advance_skipping(digits, sizes, strides, jump_lo, jump_hi, coef_k, coef_g, tile_keys, tile_gates,
                                      jumped)
        for i in range(lo, hi):
            prev[p_child[i]] = -1
        tile_parts(spec, spec_off, 0, tile_keys)
        tile_parts(gate_spec, gate_off, 0, tile_gates)
        digits[:] = 0
        t = 0
        while t <= n_tiles:
            ev = ev0 + t
            n = copies(digits, jump_lo, jump_hi) if t < n_tiles else 1
            down = touched = up = final = 0
            for i in range(lo, hi):
                c = p_child[i]
                pr, m = prev[c], mult[c]
                if t < n_tiles:
                    if not executed(gates, g_off, child_gates, tile_gates, c):
                        continue
                    for a in range(n_tab):
                        keys[a] = child_keys[a, c] + tile_keys[a]
                elif pr < 0:
                    continue
                for a in range(n_tab):
                    pkeys[a] = prev_keys[c, a]
                if t < n_tiles:  # entries: the tile's elements its own previous tile did not hold
                    more = _start(vstart, v_off, keys, pos, n_tab)
                    while more:
                        e = _element(values, pos, extent, coord, n_tab)
                        if pr < 0 or not _holds(member, m_off, extent, pkeys, coord, n_tab):
                            if stamp_down[e] != ev:
                                stamp_down[e] = ev
                                down += m
                            if (output and stamp_touch[e] != ev
                                    and touched_before(first, f_off, extent, base, c, coord, t)):
                                stamp_touch[e] = ev
                                touched += m
                        more = _next(vstart, v_off, keys, pos, n_tab)
                if output and pr >= 0:  # evictions: the previous tile's elements this one does not hold
                    more = _start(vstart, v_off, pkeys, pos, n_tab)
                    while more:
                        e = _element(values, pos, extent, coord, n_tab)
                        gone = t == n_tiles or not _holds(member, m_off, extent, keys, coord, n_tab)
                        if gone and stamp_up[e] != ev:
                            stamp_up[e] = ev
                            up += m
                            if last[e] < ev:
                                final += m
                        more = _next(vstart, v_off, pkeys, pos, n_tab)
                if t < n_tiles:
                    prev[c] = t
                    for a in range(n_tab):
                        prev_keys[c, a] = keys[a]
            if down:
                tally(hist_down, big_down, down, n)
                if onload[p] == 0:
                    onload[p] = down
            if touched:
                tally(hist_touched, big_touched, touched, n)
            if up:
                tally(hist_up, big_up, up + final * radix, n)
            if t < n_tiles - 1:
                t += advance_skipping(digits, sizes, strides, jump_lo, jump_hi, coef_k, coef_g, tile_keys, tile_gates,
                                      jumped)
            else:
                t += 1
    return (tally_arrays(hist_down, big_down), tally_arrays(hist_touched, big_touched),
            tally_arrays(hist_up, big_up), radix, onload)

