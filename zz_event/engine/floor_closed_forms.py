"""Closed forms of what the energy floors (`energy_floor`) would otherwise ask the engine for, where they are products.

With the boundary filter on an input-centric layer, whether a MAC executes is per axis (a position and a tap
valid together), so where every spatial loop is of an uncoupled dimension that does not overshoot, the tiles of
the MAC boundary's steps and of blocks of innermost loops that do not index the operand are one tile size held
by a product of per-axis counts (`step_tiles`), and the distinct elements the executed MACs use a product of
per-axis valid indices (`distinct_elements`): plain Python over the axis' (position, tap) pairs, instead of the
engine's tile sequences (some fifty numpy steps each). None where they do not apply; `energy_floor` then asks the
engine. tests/search/test_bound.py holds both equal to the engine on the benchmark layers.
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, dim_digits
from zz_event.engine.tiles import overshooting_dims
from zz_event.memo import lru_cache
from zz_event.model.nest import LoopNest

__all__ = ["StepTiles", "distinct_elements", "step_tiles", "unindexed_dims", "valid_sets"]

_UNCOUPLED = ("B", "G", "K", "C")


class StepTiles(NamedTuple):
    """Tile sizes and how many executed (step, instance) pairs hold each, as `SequenceEvents.tile` and
    `tile_weight`."""

    tile: np.ndarray
    tile_weight: np.ndarray


def step_tiles(nest: LoopNest, op: str, served: frozenset[str], filtered: bool,
               n_inner: int = 0) -> StepTiles | None:
    """`energy_floor._step_tiles` without the engine where every spatial loop is of an uncoupled dimension and none of
    those overshoots, with the boundary filter on an input-centric layer, and the innermost `n_inner` loops (the
    blocks') are of dimensions `op` is not indexed by (None elsewhere). A block fixes every loop above it: the
    operand's own index on each axis (W's tap, I's position; O's output needs both, so no block) and the
    partner's digits above the block, and executes where some (position, tap) pair of it is valid on both
    axes (the out-of-range values of an overshooting position or tap loop are no pair); its tile per instance
    is the served spatial loops of the dimensions the operand is indexed by, one size for every block. So one
    tile size, held by (executed block keys per axis) x (values of each uncoupled dimension's loops above the
    block) x (instances) pairs."""
    if not filtered or nest.centric != "input" or any(sl.dim not in _UNCOUPLED for sl in nest.spatial):
        return None
    inner = nest.temporal[:n_inner]
    if (op == "O" and inner) or any(loop.dim not in unindexed_dims(nest, op) for loop in inner) or \
            overshooting_dims(nest):
        return None
    whole = RELEVANT_UNCOUPLED[op]
    tile = weight = 1
    for sl in nest.spatial:
        if sl.array_dim not in served:
            weight *= sl.size
        elif sl.dim in whole:
            tile *= sl.size
    for dim in _UNCOUPLED:
        weight *= nest.dim_size(dim) // prod(sl.size for sl in nest.spatial if sl.dim == dim) // \
            prod(loop.size for loop in inner if loop.dim == dim)
    for axis, position, tap in zip((nest.geometry.y, nest.geometry.x), nest.position_dims, ("FY", "FX")):
        by_tap = valid_sets(axis, True)  # per tap, its valid positions
        partner = tap if op == "I" else position  # the dimension whose digits may be inside the block
        above = [d for d in dim_digits(nest, partner) if d.temporal >= n_inner]
        if len(above) == len(dim_digits(nest, partner)):  # nothing of the axis inside: every valid pair a key
            weight *= sum(len(positions) for positions in by_tap)
            continue
        digits = [(d.weight, d.size) for d in above]  # the partner's digits above the block
        keys = {(t, *(p // w % n for w, n in digits)) if op == "W" else (p, *(t // w % n for w, n in digits))
                for t, positions in enumerate(by_tap) for p in positions}
        weight *= len(keys)
    if not weight:
        return None  # no block executes: the engine's empty sequence
    return StepTiles(np.array([tile], dtype=np.int64), np.array([weight], dtype=np.int64))


def distinct_elements(nest: LoopNest, op: str, served: frozenset[str], filtered: bool) -> int | None:
    """`energy_floor._distinct` without the engine where it is a product (None elsewhere). With the boundary filter on
    an input-centric layer, validity is per axis, so the elements the executed MACs use are the dimensions the
    operand's index takes whole (`RELEVANT_UNCOUPLED`) times, per axis, the indices of the valid (position, tap)
    pairs (W's taps, I's positions, O's outputs). Instances (spatial loops the level does not serve) split a
    dimension the operand is indexed by into disjoint slices, which changes no sum; each slice of another
    uncoupled dimension uses every element, which multiplies it (where no loop overshoots it: no slice empty);
    an unserved coupled dimension is left to the engine."""
    if not filtered or nest.centric != "input":
        return None
    whole = RELEVANT_UNCOUPLED[op]
    count = prod(nest.dim_size(dim) for dim in whole)
    overshooting = None
    for sl in nest.spatial:
        if sl.array_dim in served or sl.dim in whole:
            continue
        overshooting = overshooting_dims(nest) if overshooting is None else overshooting
        if sl.dim not in _UNCOUPLED or sl.dim in overshooting:
            return None
        count *= sl.size
    for axis in (nest.geometry.y, nest.geometry.x):
        by_tap = valid_sets(axis, True)  # per tap, its valid positions
        if op == "W":
            count *= sum(1 for positions in by_tap if positions)
        elif op == "I":
            count *= len({p for positions in by_tap for p in positions})
        else:
            count *= len({(p + axis.pad_before - axis.dilation * t) // axis.stride
                          for t, positions in enumerate(by_tap) for p in positions})
    return count


def unindexed_dims(nest: LoopNest, op: str) -> frozenset[str]:
    """The dimensions `op` (W or I) is not indexed by: W by neither batch nor positions; I not by K, nor, on an
    input-centric layer, by the taps (on an output-centric one an input's index is the output's plus the tap's)."""
    if op == "W":
        return frozenset({"B", *nest.position_dims})
    return frozenset({"K", "FY", "FX"}) if nest.centric == "input" else frozenset({"K"})


@lru_cache(maxsize=8)
def valid_sets(axis, by_position: bool) -> tuple[tuple[int, ...], ...]:
    """Per tap, its valid positions in order (`by_position`), else per position its valid taps: the pairs
    `AxisGeometry.output_of` calls valid, in plain Python (a few dozen pairs; numpy's calls cost more)."""
    pad, dilation, stride, out = axis.pad_before, axis.dilation, axis.stride, axis.out

    def valid(position: int, tap: int) -> bool:
        shifted = position + pad - dilation * tap
        return shifted >= 0 and shifted % stride == 0 and shifted // stride < out

    if by_position:
        return tuple(tuple(p for p in range(axis.inp) if valid(p, t)) for t in range(axis.kernel))
    return tuple(tuple(t for t in range(axis.kernel) if valid(p, t)) for p in range(axis.inp))
