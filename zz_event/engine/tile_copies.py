"""Loops inside a child tile over a dimension the operand depends on, factored out of a union walk.

Below the boundary, a loop of B/G/K/C that tiles its dimension exactly runs within every child tile: each
tile holds all of its digit's values together, and no tile, gate or child index above the boundary reads
that digit. So each element's events at the parent (entering, leaving, first touches and last uses, per
child and parent instance) are those of the element with the digit removed, for every value of it: the
walk runs on the nest without the loop (the dimension that many times smaller) and its counts are
multiplied by the loop's size. Output registers holding a few K of one position (a loop K 2 below them)
are then one-element tiles, for the register pass (`register_union.py`) and its jumps.
"""

from __future__ import annotations

from dataclasses import replace

from zz_event.engine.axes import RELEVANT_UNCOUPLED
from zz_event.engine.tiles import _exact_dim
from zz_event.model.nest import Loop, LoopNest

__all__ = ["factored"]


def factored(nest: LoopNest, op: str, n_inner: int) -> tuple[LoopNest, int, int]:
    """(the nest without the loops below `n_inner` of exactly tiled dimensions `op` depends on, its
    boundary, the copies each of its elements stands for)."""
    loops, sizes, copies = list(nest.temporal), {}, 1
    for t in range(n_inner):
        dim, size = loops[t].dim, loops[t].size
        if size > 1 and dim in RELEVANT_UNCOUPLED[op] and _exact_dim(nest, dim):
            sizes[dim] = sizes.get(dim, nest.dim_size(dim)) // size
            copies *= size
            loops[t] = Loop(dim, 1)
    if copies == 1:
        return nest, n_inner, 1
    reduced = replace(nest, geometry=replace(nest.geometry, **sizes), temporal=tuple(loops))
    return *reduced.without_unit_loops_at(n_inner), copies
