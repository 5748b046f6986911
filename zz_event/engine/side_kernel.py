"""`axis_configs._side` in one compiled pass: the distinct per-axis value tuples of tile changes.

Per block position p (and block starts), the executed configurations whose change has its highest digit
at p (p one of the axis' own positions: the previous configuration is kept from) or above it (another
axis' position: the completion below p is), each as a row (group, |T|, |T ∩ H|, first touches in T, |H|,
last touches in H); rows are then counted per distinct tuple, in the order `grouping.unique_rows` gives
(ascending mixed-radix key, the first column least significant). On numpy this was some forty small array
operations per table; every ordering with a new axis placement builds one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["side_rows"]

_NONE = np.iinfo(np.int64).max  # `axis_configs.NONE`: no step back inside the block
_LIMIT = 2.0**61  # in floating point, with a margin: near it the numpy path decides exactly


@njit(cache=True, nogil=True)
def side_rows(executed, prev, qpos, own, completions, size, first, last, key, table):
    """(rows, exact): the distinct rows' six columns and, as a seventh, their counts ((7, m)), and whether
    they are exact: False (and no rows) if their mixed-radix key could overflow (the caller then takes the
    numpy path). `completions[p]`: the completion below position p (rows of own positions unused);
    `table[key[a], key[b]]`: |a ∩ b|."""
    n, groups = executed.size, own.size
    rows = np.empty((6, (groups + 1) * n), np.int64)
    m = 0
    for p in range(groups + 1):
        for c in range(n):
            if not executed[c]:
                continue
            if p == groups:
                if qpos[c] != _NONE:
                    continue
                h, kept = c, 0
            elif own[p]:
                if qpos[c] != p:
                    continue
                h = prev[c]
                kept = table[key[c], key[h]]
            else:
                if qpos[c] <= p:
                    continue
                h = completions[p, c]
                kept = table[key[c], key[h]]
            rows[0, m] = p
            rows[1, m] = size[c]
            rows[2, m] = kept
            rows[3, m] = first[c]
            rows[4, m] = size[h]
            rows[5, m] = last[h]
            m += 1
    if m == 0:
        return np.empty((7, 0), np.int64), True
    bases = np.empty(6, np.int64)
    total = 1.0
    for j in range(6):
        bases[j] = rows[j, :m].max() + 1
        total *= bases[j]
    if total >= _LIMIT:
        return np.empty((7, 0), np.int64), False
    codes = np.zeros(m, np.int64)
    radix = 1
    for j in range(6):
        for i in range(m):
            codes[i] += rows[j, i] * radix
        radix *= bases[j]
    codes = np.sort(codes)
    distinct = 1
    for i in range(1, m):
        if codes[i] != codes[i - 1]:
            distinct += 1
    out = np.empty((7, distinct), np.int64)
    counts = out[6]
    counts[:] = 0
    k = -1
    for i in range(m):
        if i == 0 or codes[i] != codes[i - 1]:
            k += 1
            radix = 1
            for j in range(6):
                out[j, k] = codes[i] // radix % bases[j]
                radix *= bases[j]
        counts[k] += 1
    return out, True
