"""The analytic backend's tile-change events (`analytic._changes`) in one compiled pass.

Per group, every pair of a Y-side row and an X-side row of that group (Y rows in their order, then X
rows in theirs), times every slot of the irrelevant digits' table, times every context class: one event
each for the entries and, if asked, the exits. Done on numpy this took a dozen small array operations
per tile sequence, most of a MAC-boundary sequence's cost, and no memo shares those: each of LOMA's
orderings makes new ones.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["change_events"]


@njit(cache=True, nogil=True)
def change_events(y, x, n_table, classes, r, base, exits, touched):
    """(entry size, first touches, weight, exit size, final exits, weight) of every change, in the order
    of pairs (by group, Y row, X row), slots, classes; the exit lists are empty without `exits`, the
    touch lists zero without `touched`. Block starts (the last group) leave nothing behind. `y`, `x`: each
    side's columns (`axis_configs.Side.rows`: group, size, kept, first, pred_size, pred_last, count) as the
    rows of one array, since a compiled function's dispatch costs about 0.4 µs per argument."""
    yg, ysize, ykept, yfirst, ypsize, yplast, ycount = y[0], y[1], y[2], y[3], y[4], y[5], y[6]
    xg, xsize, xkept, xfirst, xpsize, xplast, xcount = x[0], x[1], x[2], x[3], x[4], x[5], x[6]
    groups, n_slots, n_classes = n_table.shape[0], n_table.shape[1], classes.shape[0]
    nx = np.zeros(groups, np.int64)
    for j in range(xg.size):
        nx[xg[j]] += 1
    pairs = 0
    for i in range(yg.size):
        pairs += nx[yg[i]]
    x_of = np.empty(xg.size, np.int64)  # X rows, grouped, each group in its rows' order
    start = np.zeros(groups + 1, np.int64)
    for g in range(groups):
        start[g + 1] = start[g] + nx[g]
    fill = start[:groups].copy()
    for j in range(xg.size):
        x_of[fill[xg[j]]] = j
        fill[xg[j]] += 1
    n = pairs * n_slots * n_classes
    m = n if exits else 0
    e_size, e_first, e_weight = np.empty(n, np.int64), np.zeros(n, np.int64), np.empty(n, np.int64)
    x_size, x_last, x_weight = np.empty(m, np.int64), np.zeros(m, np.int64), np.empty(m, np.int64)
    k = 0
    for g in range(groups):  # rows of group g, in their order: the order of a stable sort by group
        for i in range(yg.size):
            if yg[i] != g:
                continue
            for jj in range(start[g], start[g + 1]):
                j = x_of[jj]
                kept = ykept[i] * xkept[j]
                count = ycount[i] * xcount[j] * base
                entry = r * (ysize[i] * xsize[j] - kept)
                first = r * yfirst[i] * xfirst[j]
                leave = r * (ypsize[i] * xpsize[j] - kept)
                last = r * yplast[i] * xplast[j]
                changes = count if g < groups - 1 else 0
                for s in range(n_slots):
                    for c in range(n_classes):
                        weight = n_table[g, s, 2] * classes[c, 2]
                        e_size[k] = entry
                        e_weight[k] = count * weight
                        if touched:
                            e_first[k] = first * n_table[g, s, 0] * classes[c, 0]
                        if exits:
                            x_size[k] = leave
                            x_weight[k] = changes * weight
                            if touched:
                                x_last[k] = last * n_table[g, s, 1] * classes[c, 1]
                        k += 1
    return e_size, e_first, e_weight, x_size, x_last, x_weight
