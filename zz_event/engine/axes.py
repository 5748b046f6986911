"""Per-axis views of a tile: which elements of an operand a tile needs, one loop dimension (or one
coupled pair of dimensions) at a time.

A tile fixes some digits of every dimension (the loops above it, and the spatial loops its instance
does not serve) and leaves the others free. Its needed set is a product over axes:
- an uncoupled dimension (B, G, K, C) relevant to the operand contributes the indices whose fixed digits
  equal the tile's key; different keys give disjoint sets;
- a dimension irrelevant to the operand contributes nothing (but can still empty the tile when its
  loops overshoot the dimension's size);
- a spatial axis couples the position dimension (IY/IX or OY/OX) with the tap dimension (FY/FX): the
  boundary filter decides which pairs are MACs, and the operand's index along the axis is a function of
  the pair. Its set is held as a boolean mask per key.
So |tile| and |tile ∩ other tile| are products of per-axis numbers, which is what keeps the engine exact
without touching individual MACs.
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple

import numpy as np

from zz_event.engine.budget import check_budget
from zz_event.memo import NEST_CACHE_SIZE, LruMemo, lru_cache
from zz_event.model.nest import LoopNest

__all__ = [
    "RELEVANT_UNCOUPLED",
    "CoupledAxis",
    "Digit",
    "UncoupledAxis",
    "coupled_axis",
    "digit_fixed",
    "dim_digits",
    "uncoupled_axis",
]

# Uncoupled dimensions each operand is indexed by.
RELEVANT_UNCOUPLED = {"W": ("G", "K", "C"), "I": ("B", "G", "C"), "O": ("B", "G", "K")}


class Digit(NamedTuple):
    """One loop of a dimension: its radix weight inside the dimension's index and where it sits. (A named
    tuple: a cold count makes some thirty per mapping, and a frozen dataclass is slow to build.)"""

    dim: str
    size: int
    weight: int  # multiplier of this digit in the dimension's index
    temporal: int | None  # index in nest.temporal, or None for a spatial loop
    array_dim: str | None  # for a spatial loop


def dim_digits(nest: LoopNest, dim: str) -> tuple[Digit, ...]:
    """The digits of a dimension, least significant first (spatial loops, then temporal inner to outer)."""
    return _nest_digits(nest).get(dim, ())


@lru_cache(maxsize=NEST_CACHE_SIZE)
def _nest_digits(nest: LoopNest) -> dict[str, tuple[Digit, ...]]:
    """`dim_digits` of every dimension of `nest`, in one pass over its loops."""
    digits: dict[str, list[Digit]] = {}
    weight: dict[str, int] = {}
    for sl in nest.spatial:
        if sl.size > 1:
            w = weight.get(sl.dim, 1)
            digits.setdefault(sl.dim, []).append(Digit(sl.dim, sl.size, w, None, sl.array_dim))
            weight[sl.dim] = w * sl.size
    for t, loop in enumerate(nest.temporal):
        if loop.size > 1:
            w = weight.get(loop.dim, 1)
            digits.setdefault(loop.dim, []).append(Digit(loop.dim, loop.size, w, t, None))
            weight[loop.dim] = w * loop.size
    return {dim: tuple(ds) for dim, ds in digits.items()}


def _extent(digits) -> int:
    return int(np.prod([d.size for d in digits], dtype=np.int64)) if digits else 1


def _key_of(index: np.ndarray, digits, fixed) -> tuple[np.ndarray, int]:
    """Mixed-radix key of the fixed digits of each index, and the number of keys (digits: Digit or
    (size, weight) pairs)."""
    key = np.zeros_like(index)
    radix = 1
    for d, is_fixed in zip(digits, fixed):
        size, weight = (d.size, d.weight) if isinstance(d, Digit) else d
        if is_fixed:
            key = key + ((index // weight) % size) * radix
            radix *= size
    return key, radix


class UncoupledAxis:
    """A dimension without a partner: tile sets along it are disjoint blocks."""

    def __init__(self, nest: LoopNest, dim: str, fixed: tuple[bool, ...]) -> None:
        self.dim = dim
        self.digits = dim_digits(nest, dim)
        index = np.arange(_extent(self.digits), dtype=np.int64)
        key, self.nkeys = _key_of(index, self.digits, fixed)
        in_range = index < nest.dim_size(dim)
        self.size = np.bincount(key[in_range], minlength=self.nkeys).astype(np.int64)
        self.fixed_digits = [d for d, f in zip(self.digits, fixed) if f]


class CoupledAxis:
    """A position dimension and its tap dimension, coupled by the boundary filter.

    Built from structure only (digit sizes and weights, which are fixed, the axis geometry), so one
    instance serves every mapping with the same structure: `fixed_pos` / `fixed_tap` index the fixed
    digits within the dimension's digit list.
    """

    def __init__(self, geo, centric: str, dense: tuple[int, int], operand: str, filtered: bool,
                 pos_size: int, pos_sig: tuple, tap_sig: tuple) -> None:
        pos_digits = [(size, weight) for size, weight, _f in pos_sig]
        tap_digits = [(size, weight) for size, weight, _f in tap_sig]
        pos_fixed = [f for *_x, f in pos_sig]
        tap_fixed = [f for *_x, f in tap_sig]
        check_budget(prod(s for s, _w in pos_digits) * prod(s for s, _w in tap_digits), 96, "coupled-axis pair table")
        pos, tap = np.meshgrid(
            np.arange(prod(s for s, _w in pos_digits), dtype=np.int64),
            np.arange(prod(s for s, _w in tap_digits), dtype=np.int64),
            indexing="ij",
        )
        pos, tap = pos.ravel(), tap.ravel()
        pos_key, npos = _key_of(pos, pos_digits, pos_fixed)
        tap_key, ntap = _key_of(tap, tap_digits, tap_fixed)
        self.nkeys = npos * ntap
        self.npos_keys = npos
        key = pos_key + tap_key * npos
        in_range = (pos < pos_size) & (tap < geo.kernel)
        elem, valid = _element_index(geo, centric, dense, operand, pos, tap, filtered)
        valid &= in_range
        self.pair_valid = valid
        self.pos, self.tap = pos, tap
        self.fixed_pos = tuple(i for i, f in enumerate(pos_fixed) if f)
        self.fixed_tap = tuple(i for i, f in enumerate(tap_fixed) if f)
        self.nonempty = np.bincount(key[valid], minlength=self.nkeys) > 0
        lo = int(elem[valid].min()) if valid.any() else 0
        hi = int(elem[valid].max()) + 1 if valid.any() else 1
        self.elem_extent = hi - lo
        self.elem = elem - lo
        check_budget(self.nkeys * self.elem_extent, 2, "coupled-axis membership table")
        mask = np.zeros((self.nkeys, self.elem_extent), dtype=bool)
        mask[key[valid], self.elem[valid]] = True
        self.mask = mask
        self.size = mask.sum(axis=1).astype(np.int64)
        small = self.nkeys <= 1024  # the pairwise table: at most 8 MB
        self._table = (mask.astype(np.int32) @ mask.T.astype(np.int32)).astype(np.int64) if small else None

    @property
    def pairwise(self) -> np.ndarray | None:
        """|key a ∩ key b| for every pair of keys, or None where that table would be too large."""
        return self._table

    def intersection(self, k1: np.ndarray, k2: np.ndarray) -> np.ndarray:
        if self._table is not None:
            return self._table[k1, k2]
        return (self.mask[k1] & self.mask[k2]).sum(axis=-1).astype(np.int64)


def _element_index(geo, centric: str, dense: tuple[int, int], operand: str, pos, tap, filtered: bool):
    """The operand's index along the axis for each (position, tap) pair, and whether the pair is a MAC."""
    if centric == "input":
        out, valid = geo.output_of(pos, tap)
        if not filtered:
            alpha, beta = dense
            out, valid = alpha * pos + beta * tap, np.ones_like(pos, dtype=bool)
        return {"I": pos, "W": tap, "O": out}[operand], valid
    inp, valid = geo.input_of(pos, tap)
    if not filtered:
        # ZigZag's own relation iy = s*oy + d*fy: padding positions are elements like any other.
        inp, valid = geo.stride * pos + geo.dilation * tap, np.ones_like(pos, dtype=bool)
    return {"I": inp, "W": tap, "O": pos}[operand], valid


@lru_cache(maxsize=NEST_CACHE_SIZE)
def uncoupled_axis(nest: LoopNest, dim: str, fixed: tuple[bool, ...]) -> UncoupledAxis:
    return UncoupledAxis(nest, dim, fixed)


def coupled_axis(nest: LoopNest, axis: str, operand: str, pos_fixed, tap_fixed, filtered: bool) -> CoupledAxis:
    """The coupled axis of `nest` with the given fixed digits (shared by all nests of the same structure)."""
    shape_id, (geo, centric, dense, pos_size) = _axis_shape(nest, axis)
    pos_dim = nest.position_dims[0 if axis == "Y" else 1]
    sig = lambda dim, fixed: tuple((d.size, d.weight, f) for d, f in zip(dim_digits(nest, dim), fixed))  # noqa: E731
    pos_sig, tap_sig = sig(pos_dim, pos_fixed), sig("F" + axis, tap_fixed)
    return _COUPLED.get_or(
        (shape_id, operand, filtered, pos_sig, tap_sig),
        lambda: CoupledAxis(geo, centric, dense, operand, filtered, pos_size, pos_sig, tap_sig),
    )


_COUPLED = LruMemo(4096, max_bytes=96 << 20)
_AXIS_SHAPES: dict[tuple, int] = {}  # one entry per distinct axis geometry seen


def _axis_shape(nest: LoopNest, axis: str) -> tuple[int, tuple]:
    """What a coupled axis takes from its nest (geometry, centric, dense relation, position size), and a
    small integer standing for it in memo keys: built once per layer shape (`LoopNest.shape_id` covers all
    of it), not per nest."""
    key = (nest.shape_id, axis)
    found = _SHAPE_OF.get(key)
    if found is None:
        found = _SHAPE_OF[key] = _axis_shape_of(nest, axis)
    return found


_SHAPE_OF: dict[tuple[int, str], tuple[int, tuple]] = {}  # shape ids are never reused: nothing to clear


def _axis_shape_of(nest: LoopNest, axis: str) -> tuple[int, tuple]:
    pos_dim = nest.position_dims[0 if axis == "Y" else 1]
    dense = nest.dense_relation[axis] if nest.centric == "input" else (1, 1)
    shape = (nest.geometry.y if axis == "Y" else nest.geometry.x, nest.centric, dense, nest.dim_size(pos_dim))
    return _AXIS_SHAPES.setdefault(shape, len(_AXIS_SHAPES)), shape


def digit_fixed(d: Digit, n_inner: int, served: frozenset[str]) -> bool:
    """Whether a tile of a level owning temporal loops [0, n_inner), whose instance serves the array
    dimensions `served`, fixes this digit (the loops above it and the spatial loops it does not serve)."""
    return d.temporal >= n_inner if d.temporal is not None else d.array_dim not in served


def fixed_flags(digits, is_fixed) -> tuple[bool, ...]:
    return tuple(bool(is_fixed(d)) for d in digits)
