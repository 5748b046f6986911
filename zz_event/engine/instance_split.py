"""Overshooting loops that empty tiles, split away: one regular nest per class of instances.

A non-dividing unrolling (ZigZag's fractional unrolling: C 3 on 2 PEs in 2 steps) leaves some tiles of
some instances empty, and the per-axis backend does not apply (`overshoot.never_empties`). When no memory
serves the dimension's PEs together, the instances are independent rows of the tile walk: instance s of
the unrolling holds the indices s + u*t (u PEs, t the temporal digits' value), that is t < k_s =
ceil((D - s) / u). Relabelled by t, its tiles are those of the same nest with the dimension's spatial
loops removed and its size k_s; empty tiles are the values of the top temporal digit past ceil(k_s / P)
(P: the inner digits' product), dropped by shrinking that loop. Empty tiles execute nothing and the tile
after one follows the last executed one, so dropping them changes no event. The events of the layer are
those of these nests summed over the instances (`split_nests`); each nest goes through the usual dispatch
and may be split again on another dimension.
"""

from __future__ import annotations

from dataclasses import replace

from zz_event.engine.axes import dim_digits
from zz_event.engine.tiles import UNCOUPLED, _exact_dim
from zz_event.model.nest import Loop, LoopNest

__all__ = ["split_nests"]


def split_nests(nest: LoopNest, n_inner: int, served: frozenset[str]) -> list[tuple[LoopNest, int, int]] | None:
    """(nest, its boundary `n_inner`, instances it stands for) whose tile walks together are `nest`'s,
    without the empty tiles of its first overshooting dimension whose PEs no memory serves together; None
    if there is none, or nothing to drop."""
    for dim in UNCOUPLED:
        if _exact_dim(nest, dim):
            continue
        digits = dim_digits(nest, dim)
        spatial = [d for d in digits if d.temporal is None]
        if any(d.array_dim in served for d in spatial):
            continue  # a memory serves these PEs together: the instances are not independent rows
        temporal = [d for d in digits if d.temporal is not None]
        u, size = 1, nest.dim_size(dim)
        for d in spatial:
            u *= d.size
        by_count: dict[int, int] = {}
        for s in range(min(u, size)):
            k = -(-(size - s) // u)
            by_count[k] = by_count.get(k, 0) + 1
        nests = [(*_relabelled(nest, n_inner, dim, k, temporal), n) for k, n in sorted(by_count.items())]
        if not spatial and nests[0][0].temporal == nest.temporal:
            continue  # nothing removed: the empty tiles are not a whole top digit's values
        return nests
    return None


def _relabelled(nest: LoopNest, n_inner: int, dim: str, k: int, temporal) -> tuple[LoopNest, int]:
    """`nest` as one instance holding k indices of `dim` sees it, and its boundary: no spatial loop of
    `dim`, size k, the top temporal digit cut to the values that hold any of them (gone if one)."""
    loops = list(nest.temporal)
    if temporal:
        top = temporal[-1]
        inner = top.weight // temporal[0].weight  # the inner temporal digits' product
        loops[top.temporal] = Loop(dim, -(-k // inner))
    relabelled = replace(
        nest,
        geometry=replace(nest.geometry, **{dim: k}),
        spatial=tuple(sl for sl in nest.spatial if sl.dim != dim),
        temporal=tuple(loops),
    )
    return relabelled.without_unit_loops_at(n_inner)
