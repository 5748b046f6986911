"""The sequence of tiles one memory level (or one register bank) holds, and what each change moves.

Residency rules (design.md, "Definitions"), as implemented here:

1. A *tile* of a level is the set of an operand's elements needed by the iterations of a box: the
   temporal loops at or below the level run over their full range, the spatial loops on array
   dimensions the level's instance serves run over their full range, and every other digit is fixed
   (temporal loops above the level step through tiles; spatial loops it does not serve tell its
   instances apart). With the boundary filter, only valid MACs need elements; without it, every
   iteration does (the exact dense count).
2. Tiles follow each other in the order of the loops above the level. A tile with no MAC to execute is
   skipped: the level keeps what it holds. Each executed tile receives the elements it needs that the
   previous executed tile (of the same instance) did not hold: |T - H|. Nothing else is retained.
3. The MAC array's operand registers below one instance of the innermost memory act as one register
   bank (the level "below level 0" with no temporal loop inside): every step is a tile for it.
4. A parent level's instance sends down, per transition, the union of what its child instances take in
   and takes in once what they write up at that moment (design.md, "Several processing elements"). Where
   its children differ only in digits of exactly tiled uncoupled dimensions, that is what their
   *combined* tile changes by (the tile of a virtual level with the child's temporal loops and the
   parent's served array dimensions): such children execute the same tiles and need either the same data
   (served once) or disjoint data (served each). Otherwise `siblings.py` counts it per child instance.
5. Elements leave a level when a tile change drops them (|H - T|) and at the end of the layer; for the
   output operand this is the upward write-back, so it sums to the same total as the entries.

Everything is computed on arrays indexed by (instance, tile); no loop runs per MAC or per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.engine.axes import (
    RELEVANT_UNCOUPLED,
    Digit,
    UncoupledAxis,
    coupled_axis,
    digit_fixed,
    dim_digits,
    fixed_flags,
    uncoupled_axis,
)
from zz_event.engine.budget import check_budget
from zz_event.memo import NEST_CACHE_SIZE, LruMemo, lru_cache
from zz_event.model.nest import LoopNest

__all__ = ["TileSequence", "overshooting_dims", "sequence_shape", "tile_sequence"]

UNCOUPLED = ("B", "G", "K", "C")


@dataclass(frozen=True)
class TileSequence:
    """Per (instance, tile) arrays of one level's tiles of one operand; `executed` marks tiles with a MAC.

    Only the digits that can change what a tile shares with its predecessor are enumerated (`enumerated`
    temporal loops and `instance_digits`); every other digit is symmetric and folded into `weights`.
    Tiles are grouped in blocks of `block` consecutive tiles: a block boundary is a change of a relevant
    uncoupled digit, across which tiles share nothing.
    """

    executed: np.ndarray  # bool (n_inst, n_tiles)
    size: np.ndarray  # |T|
    kept: np.ndarray  # |T ∩ H|, H = previous executed tile of the same instance and block (0 if none)
    pred: np.ndarray  # index of that previous executed tile, -1 if none
    block_last: np.ndarray  # bool: executed tile followed by no executed tile in its block
    weights: np.ndarray  # identical (instance, tile) occurrences each entry stands for
    classes: int  # 1-3 classes of irrelevant context values, the most significant tile digit
    repeats: int  # times each tile repeats in place (irrelevant loops right above it): steps, not transfers
    inner_steps: int  # temporal steps inside one tile
    enumerated: tuple[int, ...]  # temporal loop indices enumerated, inner to outer (tile index digits)
    symmetric: tuple[int, ...]  # temporal loop indices above the tile folded into `weights`
    instance_digits: tuple[Digit, ...]  # enumerated spatial digits, least significant first
    replicated_digits: tuple[Digit, ...]  # spatial digits folded into `weights`
    first_row: int = 0  # the instance row of row 0 (a sequence of some rows only)

    @property
    def entries(self) -> np.ndarray:
        return np.where(self.executed, self.size - self.kept, 0)

    def evictions(self) -> np.ndarray:
        """Elements leaving at the change *into* each executed tile (those of its predecessor it drops)."""
        pred_size = np.take_along_axis(self.size, np.maximum(self.pred, 0), axis=1)
        return np.where(self.executed & (self.pred >= 0), pred_size - self.kept, 0)

    def executed_steps(self) -> int:
        """Tiles executed over the whole layer (in-place repeats included), summed over distinct instances."""
        return int(self.weights[self.executed].sum()) // self.spatial_replicas * self.repeats

    @property
    def spatial_replicas(self) -> int:
        return prod(d.size for d in self.replicated_digits)

    def first_executed(self) -> np.ndarray:
        """Per instance row: index of the first executed tile (-1 if none)."""
        has = self.executed.any(axis=1)
        return np.where(has, self.executed.argmax(axis=1), -1)

    def last_executed(self) -> np.ndarray:
        """Per instance row: index of the last executed tile (-1 if none)."""
        n = self.executed.shape[1]
        has = self.executed.any(axis=1)
        return np.where(has, n - 1 - self.executed[:, ::-1].argmax(axis=1), -1)

    def block_flush(self) -> np.ndarray:
        """Elements of each block's last executed tile: all leave when the block ends (or the layer)."""
        return np.where(self.block_last, self.size, 0)


def _exact_dim(nest: LoopNest, dim: str) -> bool:
    """Whether the loops of `dim` tile its size exactly (none overshoots)."""
    return dim in _exact_dims(nest)


def overshooting_dims(nest: LoopNest) -> frozenset[str]:
    """The uncoupled dimensions whose loops overshoot their size (ZigZag's fractional unrollings)."""
    return _overshooting(nest)


@lru_cache(maxsize=NEST_CACHE_SIZE)
def _overshooting(nest: LoopNest) -> frozenset[str]:
    return frozenset(dim for dim in UNCOUPLED if not _exact_dim(nest, dim))


@lru_cache(maxsize=NEST_CACHE_SIZE)
def _exact_dims(nest: LoopNest) -> frozenset[str]:
    # Every ordering of one spatial mapping has the same loops: built once per multiset of them.
    return _EXACT_DIMS.get_or((nest.shape_id, tuple(sorted(nest.loop_pairs))), lambda: _exact_dims_of(nest))


_EXACT_DIMS = LruMemo(256)


def _exact_dims_of(nest: LoopNest) -> frozenset[str]:
    return frozenset(dim for dim in (*UNCOUPLED, *nest.position_dims, "FY", "FX")
                     if prod(d.size for d in dim_digits(nest, dim)) == nest.dim_size(dim))


def _loop_classes(
    nest: LoopNest, operand: str, outer: range, keep_irrelevant: bool, overshooting: frozenset[str] = frozenset()
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Split the loops above a tile into (enumerated, symmetric, irrelevant context, repeating).

    Relevant uncoupled loops at or above the innermost one (and, unless `keep_irrelevant`, irrelevant
    uncoupled loops there) never let a tile share data with its predecessor across their change, and
    their values do not change the sequence: they are symmetric. Irrelevant loops below every coupled or
    relevant loop only repeat tiles: dropped (symmetric with no effect).
    Loops of `overshooting` dimensions (whose loops overshoot the size, so that some of their digit
    values empty a tile) are classed like coupled ones: always enumerated, never block boundaries.
    """
    coupled = set(nest.position_dims) | {"FY", "FX"} | overshooting
    relevant = set(RELEVANT_UNCOUPLED[operand]) - overshooting
    kind = {t: "C" if nest.temporal[t].dim in coupled else "R" if nest.temporal[t].dim in relevant else "N"
            for t in outer}
    first_r = next((t for t in outer if kind[t] == "R"), None)
    enumerated, symmetric, context_irrelevant, repeating = [], [], [], []
    seen_non_n = False
    for t in outer:
        if nest.temporal[t].size == 1:
            continue
        in_block = first_r is None or t < first_r
        if in_block:
            if kind[t] == "N" and not seen_non_n and not keep_irrelevant:
                repeating.append(t)
            else:
                enumerated.append(t)
                seen_non_n = seen_non_n or kind[t] != "N"
        elif kind[t] == "C":
            enumerated.append(t)
        elif kind[t] == "N" and keep_irrelevant:
            context_irrelevant.append(t)
        else:
            symmetric.append(t)
    return enumerated, symmetric, context_irrelevant, repeating


def sequence_shape(nest: LoopNest, operand: str, n_inner: int, served: frozenset[str],
                   keep_irrelevant: bool = False) -> tuple[int, int]:
    """(instance rows, tiles) of `tile_sequence`, without building it."""
    overshooting = frozenset(dim for dim in UNCOUPLED if not _exact_dim(nest, dim))
    coupled_dims = set(nest.position_dims) | {"FY", "FX"}
    n_inst = prod(d.size for dim in UNCOUPLED + tuple(sorted(coupled_dims)) for d in dim_digits(nest, dim)
                  if d.temporal is None and d.array_dim not in served and (dim not in UNCOUPLED or dim in overshooting))
    outer = range(n_inner, len(nest.temporal))
    loops, _symmetric, context_irrelevant, _repeating = _loop_classes(nest, operand, outer, keep_irrelevant,
                                                                      overshooting)
    n_ctx = prod(nest.temporal[t].size for t in context_irrelevant)
    return n_inst, prod(nest.temporal[t].size for t in loops) * min(n_ctx, 3)


@lru_cache(maxsize=8)  # per nest (by identity): its arrays grow with the layer, and the events are memoised
def tile_sequence(
    nest: LoopNest, operand: str, n_inner: int, served: frozenset[str], filtered: bool, keep_irrelevant: bool = False,
    rows: tuple[int, int] | None = None,
) -> TileSequence:
    """Tiles of `operand` for a level owning temporal loops [0, n_inner) whose instance serves `served`.

    `keep_irrelevant` enumerates the irrelevant loops above the tile instead of folding them (needed when
    per-element first/last touches are mapped onto tiles). `rows`: only the instance rows [start, stop)
    (every row's tiles are independent of the others'), so that a caller can take a few at a time.
    """
    coupled_dims = set(nest.position_dims) | {"FY", "FX"}
    # Uncoupled dimensions whose loops overshoot their size: some digit values empty a tile, so their
    # loops are enumerated like coupled ones (and their spatial digits tell instances apart).
    overshooting = frozenset(dim for dim in UNCOUPLED if not _exact_dim(nest, dim))
    # Spatial digits a level does not serve tell its instances apart. Those of uncoupled dimensions
    # whose loops tile the dimension exactly give identical counts per instance: count one, multiply.
    replicated: list[Digit] = []
    enumerated_sp: list[Digit] = []
    # Coupled digits first (least significant), then those of overshooting dimensions: the rows of one value
    # of the latter are contiguous (`enumerated.py` walks one value per class of identical instances).
    for dim in tuple(sorted(coupled_dims)) + UNCOUPLED:
        for d in dim_digits(nest, dim):
            if d.temporal is None and d.array_dim not in served:
                (replicated if dim in UNCOUPLED and dim not in overshooting else enumerated_sp).append(d)
    outer = range(n_inner, len(nest.temporal))
    loops, symmetric, context_irrelevant, repeating = _loop_classes(nest, operand, outer, keep_irrelevant, overshooting)
    # Irrelevant context loops: all at their first value, all at their last value, anything else.
    n_ctx = prod(nest.temporal[t].size for t in context_irrelevant)
    class_weights = [1] if n_ctx == 1 else [1, 1] if n_ctx == 2 else [1, 1, n_ctx - 2]
    # Blocks: tiles on either side of a change of an exactly tiled relevant dimension share nothing.
    block_loops = [t for t in loops if not _above_first_relevant(nest, operand, t, outer, overshooting)]

    def is_fixed(d) -> bool:
        return digit_fixed(d, n_inner, served)

    base_tiles = prod(nest.temporal[t].size for t in loops)
    n_tiles = base_tiles * len(class_weights)
    block = prod(nest.temporal[t].size for t in block_loops)
    first_row, stop = rows if rows is not None else (0, prod(d.size for d in enumerated_sp))
    n_inst = stop - first_row
    check_budget(n_inst * n_tiles, 160, "explicit tile walk")  # some twenty (instance, tile) arrays
    tile_idx = np.arange(n_tiles, dtype=np.int64)[None, :]
    base_idx = tile_idx % base_tiles
    inst_idx = np.arange(first_row, stop, dtype=np.int64)[:, None]
    strides = dict(zip(loops, np.cumprod([1] + [nest.temporal[t].size for t in loops])[:-1].tolist()))

    def value(d: Digit) -> np.ndarray:
        if d.temporal is not None:
            if d.temporal not in strides:  # symmetric: its first value stands for all
                return np.zeros((1, 1), dtype=np.int64)
            return (base_idx // strides[d.temporal]) % d.size
        if d in replicated:
            return np.zeros((1, 1), dtype=np.int64)
        stride = 1
        for e in enumerated_sp:
            if e == d:
                return (inst_idx // stride) % d.size
            stride *= e.size
        raise AssertionError("spatial digit neither enumerated nor replicated")

    def key(fixed_digits: list[Digit]) -> np.ndarray:
        k = np.zeros((1, 1), dtype=np.int64)
        radix = 1
        for d in fixed_digits:
            k = k + value(d) * radix
            radix *= d.size
        return k

    shape = (n_inst, n_tiles)
    executed = np.ones(shape, dtype=bool)
    size = np.ones(shape, dtype=np.int64)
    varying: list[tuple[object, np.ndarray]] = []  # axes whose key changes from tile to tile
    for dim in UNCOUPLED:
        ax = uncoupled_axis(nest, dim, fixed_flags(dim_digits(nest, dim), is_fixed))
        k = key(ax.fixed_digits)
        executed &= ax.size[k] > 0
        if dim in RELEVANT_UNCOUPLED[operand]:
            size = size * ax.size[k]
            if k.shape[1] > 1:
                varying.append((ax, k))
    for axis in ("Y", "X"):
        pos_dim = nest.position_dims[0 if axis == "Y" else 1]
        ax = coupled_axis(
            nest, axis, operand,
            fixed_flags(dim_digits(nest, pos_dim), is_fixed), fixed_flags(dim_digits(nest, "F" + axis), is_fixed),
            filtered,
        )
        pos_digits, tap_digits = dim_digits(nest, pos_dim), dim_digits(nest, "F" + axis)
        k = key([pos_digits[i] for i in ax.fixed_pos]) + key([tap_digits[i] for i in ax.fixed_tap]) * ax.npos_keys
        executed &= ax.nonempty[k]
        size = size * ax.size[k]
        varying.append((ax, k))

    # Previous executed tile of the same instance and block.
    marks = np.where(executed, tile_idx, -1)
    running = np.maximum.accumulate(marks.reshape(n_inst, n_tiles // block, block), axis=2).reshape(n_inst, n_tiles)
    pred = np.full(shape, -1, dtype=np.int64)
    pred[:, 1:] = running[:, :-1]
    pred[:, ::block] = -1
    block_last = executed & (np.repeat(running[:, block - 1 :: block], block, axis=1) == tile_idx)
    has_pred = executed & (pred >= 0)
    pred_c = np.maximum(pred, 0)
    # |T ∩ H| is the product over axes; axes whose key does not change within a row keep all of T.
    kept = np.where(has_pred, size, 0)
    for ax, k in varying:
        k_pred = _at(k, pred_c)
        if isinstance(ax, UncoupledAxis):
            kept = np.where(k == k_pred, kept, 0)
        else:
            kept = kept // np.maximum(ax.size[k], 1) * ax.intersection(k, k_pred)
    weights = np.repeat(np.asarray(class_weights, dtype=np.int64), base_tiles)[None, :]
    replicas = prod(d.size for d in replicated) * prod(nest.temporal[t].size for t in symmetric)
    return TileSequence(
        executed=executed,
        weights=np.broadcast_to(weights * replicas, shape),
        size=np.where(executed, size, 0),
        kept=kept,
        pred=np.where(executed, pred, -1),
        block_last=block_last,
        classes=len(class_weights),
        repeats=prod(nest.temporal[t].size for t in repeating),
        inner_steps=prod(nest.temporal[t].size for t in range(n_inner)),
        enumerated=tuple(loops),
        symmetric=tuple(symmetric),
        instance_digits=tuple(enumerated_sp),
        replicated_digits=tuple(replicated),
        first_row=first_row,
    )


def _at(k: np.ndarray, index: np.ndarray) -> np.ndarray:
    """k[row, index[row, c]] for a key array shaped (1, n), (n_inst, 1), (1, 1) or (n_inst, n)."""
    if k.shape[1] == 1:
        return k
    if k.shape[0] == 1:
        return k[0][index]
    return np.take_along_axis(k, index, axis=1)


def _above_first_relevant(nest: LoopNest, operand: str, t: int, outer: range, overshooting: frozenset[str]) -> bool:
    relevant = set(RELEVANT_UNCOUPLED[operand]) - overshooting
    first_r = next((u for u in outer if nest.temporal[u].dim in relevant and nest.temporal[u].size > 1), None)
    return first_r is not None and t >= first_r
