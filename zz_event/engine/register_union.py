"""The compiled union pass (`union_kernel.py`) for children whose tiles hold at most one element: the
registers of processing elements under a shared level, where a pass visits every step of every child."""

from __future__ import annotations

import numpy as np
from numba import njit

from zz_event.engine.odometer import child_parts, coefficients, tile_parts, tile_strides
from zz_event.engine.union_kernel import pass_state, tally, tally_arrays, touched_before

__all__ = ["single_union_pass"]


@njit(cache=True, nogil=True)
def _child_dependent(rows, off):
    """Per table (gate): whether the child index enters its key (else only the tile does)."""
    out = np.zeros(off.size - 1, np.bool_)
    for a in range(off.size - 1):
        for r in range(off[a], off[a + 1]):
            if not rows[r, 0]:
                out[a] = True
    return out


@njit(cache=True, nogil=True)
def _value(values, vstart, v_off, a, key):
    """The one value of table a's key (-1 if none)."""
    at = vstart[v_off[a] + key]
    return values[at] if at < vstart[v_off[a] + key + 1] else -1


@njit(cache=True, nogil=True)
def _last_use(last_axes, l_off, last_base, extent, p, e):
    """The tile of element e's last use by a child of parent p (-1 if none): per-axis latest uses add up."""
    use = last_base[p]
    for a in range(extent.size - 1, -1, -1):
        x = last_axes[p, l_off[a] + e % extent[a]]
        e //= extent[a]
        use = -1 if x < 0 or use < 0 else use + x
    return use


@njit(cache=True, nogil=True)
def single_union_pass(n_child, n_tiles, sizes, jump_lo, jump_hi, jump_shift, p_start, p_child, mult, spec, spec_off,
                      extent, values, vstart, v_off, gate_spec, gate_off, gates, g_off, first, f_off, base, output, cap,
                      last_axes, l_off, last_base, stamps, ev_base):
    """`union_pass` where no child tile holds more than one element (a processing element's register): a
    child's tile is its element, entering when it differs from the child's previous one, which then leaves.
    No odometer and no membership tests: the same events at a fraction of the cost. Gates and tables whose
    key the child does not enter are read once per transition, not once per child.

    With `last_axes` (rows per parent instance; else a first pass stamps last uses) an element's last use by
    a child of parent p is last_base[p] plus, per table, last_axes[p, l_off[a] + its value]. A loop whose
    iteration jump_lo stands for the next ones up to jump_hi moves, if `jump_shift` of it is not 0, every
    element by that much per iteration: the children's previous elements move with the jump. `stamps`,
    `ev_base`: see `union_kernel.pass_state`."""
    n_tab, n_gate, n_digits = extent.size, g_off.size - 1, sizes.size
    (stamp_down, stamp_touch, stamp_up, last, big_down, big_touched, big_up, hist_down, hist_touched, hist_up,
     radix) = pass_state(stamps, output, cap)
    prev = np.full(n_child, -1, np.int64)  # each child's previous executed tile
    prev_elem = np.full(n_child, -1, np.int64)  # and its element (-1: none)
    child_keys = child_parts(spec, spec_off, n_child)
    child_gates = child_parts(gate_spec, gate_off, n_child)
    tab_by_child = _child_dependent(spec, spec_off)
    gate_by_child = _child_dependent(gate_spec, gate_off)
    place = np.ones(n_tab, np.int64)  # an element is the sum of coordinate * place (last axis fastest)
    for a in range(n_tab - 2, -1, -1):
        place[a] = place[a + 1] * extent[a + 1]
    tile_keys = np.zeros(n_tab, np.int64)
    tile_gates = np.zeros(n_gate, np.int64)
    coef_k = coefficients(spec, spec_off, sizes)
    coef_g = coefficients(gate_spec, gate_off, sizes)
    strides = tile_strides(sizes)
    analytic = last_axes.shape[0] > 0
    digits = np.zeros(sizes.size, np.int64)
    coord = np.zeros(n_tab, np.int64)
    onload = np.zeros(p_start.size - 1, np.int64)
    for p in range(p_start.size - 1):
        ev0 = ev_base + p * (n_tiles + 1)
        lo, hi = p_start[p], p_start[p + 1]
        for first_pass in (True, False):
            if first_pass and (analytic or not output):  # the first pass stamps each element's last use
                continue
            if not first_pass:
                for i in range(lo, hi):
                    prev[p_child[i]] = -1
                    prev_elem[p_child[i]] = -1
            tile_parts(spec, spec_off, 0, tile_keys)
            tile_parts(gate_spec, gate_off, 0, tile_gates)
            digits[:] = 0
            t = 0
            while t <= n_tiles:
                if first_pass and t == n_tiles:
                    break
                ev = ev0 + t
                n = 1  # `odometer.copies`, written out (see below)
                if t < n_tiles:
                    for i in range(n_digits):
                        if jump_lo[i] >= 0 and digits[i] == jump_lo[i]:
                            n *= jump_hi[i] - jump_lo[i] + 1
                down = touched = up = final = 0
                # What the tile alone decides: whether any child executes, the coordinates it alone sets.
                tile_ok, tile_empty, tile_e = t < n_tiles, False, 0
                if tile_ok:
                    for g in range(n_gate):
                        if not gate_by_child[g] and not gates[g_off[g] + tile_gates[g]]:
                            tile_ok = False
                    for a in range(n_tab):
                        if not tab_by_child[a]:
                            coord[a] = _value(values, vstart, v_off, a, tile_keys[a])
                            tile_empty |= coord[a] < 0
                            tile_e += coord[a] * place[a]
                top = hi if tile_ok or (t == n_tiles and not first_pass) else lo  # no child executes
                for i in range(lo, top):
                    c = p_child[i]
                    e = -1
                    if t < n_tiles:
                        ok = True
                        for g in range(n_gate):
                            if gate_by_child[g] and not gates[g_off[g] + child_gates[g, c] + tile_gates[g]]:
                                ok = False
                                break
                        if not ok:
                            continue
                        if not tile_empty:
                            e = tile_e
                            for a in range(n_tab):
                                if tab_by_child[a]:
                                    coord[a] = _value(values, vstart, v_off, a, child_keys[a, c] + tile_keys[a])
                                    if coord[a] < 0:
                                        e = -1
                                        break
                                    e += coord[a] * place[a]
                        if first_pass:
                            if e >= 0:
                                last[e] = ev
                            continue
                    elif prev[c] < 0:
                        continue
                    m = mult[c]
                    pe = prev_elem[c]
                    if e >= 0 and (prev[c] < 0 or e != pe):  # an entry
                        if stamp_down[e] != ev:
                            stamp_down[e] = ev
                            down += m
                        if (output and stamp_touch[e] != ev
                                and touched_before(first, f_off, extent, base, c, coord, t)):
                            stamp_touch[e] = ev
                            touched += m
                    if output and pe >= 0 and e != pe and stamp_up[pe] != ev:  # the previous element leaves
                        stamp_up[pe] = ev
                        up += m
                        if (_last_use(last_axes, l_off, last_base, extent, p, pe) < t if analytic
                                else last[pe] < ev):
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
                if t == n_tiles - 1 or t == n_tiles:
                    t += 1
                    continue
                # `odometer.advance_skipping`, written out: called (even inlined by numba) it costs this pass, which
                # visits every tile, twice the time on AlexNet's conv2 (7.2 -> 3.4 ms, the same events).
                j, moved = 0, 1
                while True:
                    while j < n_digits and digits[j] + 1 >= sizes[j]:  # the digits that wrap go back to 0
                        for a in range(n_tab):
                            tile_keys[a] -= digits[j] * coef_k[j, a]
                        for g in range(n_gate):
                            tile_gates[g] -= digits[j] * coef_g[j, g]
                        digits[j] = 0
                        j += 1
                    if j == n_digits:
                        break
                    digits[j] += 1  # the next digit steps, and on past the iterations its iteration jump_lo stands for
                    for a in range(n_tab):
                        tile_keys[a] += coef_k[j, a]
                    for g in range(n_gate):
                        tile_gates[g] += coef_g[j, g]
                    if jump_lo[j] < 0 or digits[j] != jump_lo[j] + 1 or jump_hi[j] <= jump_lo[j]:
                        break
                    jump = jump_hi[j] - jump_lo[j]
                    past = jump_hi[j] == sizes[j] - 1  # then to the last iteration, and the loops outside step
                    step = jump - 1 if past else jump
                    digits[j] += step
                    for a in range(n_tab):
                        tile_keys[a] += step * coef_k[j, a]
                    for g in range(n_gate):
                        tile_gates[g] += step * coef_g[j, g]
                    if jump_shift[j] and not first_pass:  # what iteration jump_lo held moves on
                        since = t + moved - strides[j]
                        for i in range(lo, hi):
                            c = p_child[i]
                            if prev[c] >= since:
                                prev[c] += jump * strides[j]
                                if prev_elem[c] >= 0:
                                    prev_elem[c] += jump * jump_shift[j]
                    moved += jump * strides[j]
                    if not past:
                        break
                t += moved
    return (tally_arrays(hist_down, big_down), tally_arrays(hist_touched, big_touched),
            tally_arrays(hist_up, big_up), radix, onload)
