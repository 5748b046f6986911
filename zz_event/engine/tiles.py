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
4. A parent level's instance reads, at each change, what its children's *combined* tile needs and did
   not hold: the combined tile is the tile of a virtual level with the child's temporal loops and the
   parent's served array dimensions. Children that need the same data (broadcast, or outputs reduced
   by an adder tree) are served once; children with disjoint data are served each.
5. Elements leave a level when a tile change drops them (|H - T|) and at the end of the layer; for the
   output operand this is the upward write-back, so it sums to the same total as the entries.

Everything is computed on arrays indexed by (instance, tile); no loop runs per MAC or per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, CoupledAxis, Digit, UncoupledAxis, dim_digits
from zz_event.nest import LoopNest

__all__ = ["TileSequence", "tile_sequence"]

UNCOUPLED = ("B", "G", "K", "C")


@dataclass(frozen=True)
class TileSequence:
    """Per (instance, tile) arrays of one level's tiles of one operand; `executed` marks tiles with a MAC."""

    executed: np.ndarray  # bool (n_inst, n_tiles)
    size: np.ndarray  # |T|
    kept: np.ndarray  # |T ∩ H|, H = previous executed tile of the same instance (0 if none)
    pred: np.ndarray  # index of that previous executed tile, -1 if none
    last: np.ndarray  # index of each instance's last executed tile, -1 if none
    replicas: int  # identical instances each row stands for
    inner_steps: int  # temporal steps inside one tile
    outer: tuple[int, ...]  # temporal loop indices above the tile, inner to outer
    instance_digits: tuple[Digit, ...]  # enumerated spatial digits, least significant first
    replicated_digits: tuple[Digit, ...]  # spatial digits whose instances are counted once and multiplied

    @property
    def entries(self) -> np.ndarray:
        return np.where(self.executed, self.size - self.kept, 0)

    def evictions(self) -> np.ndarray:
        """Elements leaving at the change *into* each executed tile (those of its predecessor it drops)."""
        pred_size = np.take_along_axis(self.size, np.maximum(self.pred, 0), axis=1)
        return np.where(self.executed & (self.pred >= 0), pred_size - self.kept, 0)

    def final_flush(self) -> np.ndarray:
        """Elements each instance still holds at the end of the layer."""
        has = self.last >= 0
        sizes = np.take_along_axis(self.size, np.maximum(self.last, 0)[:, None], axis=1)[:, 0]
        return np.where(has, sizes, 0)


def _exact_dim(nest: LoopNest, dim: str) -> bool:
    return prod(d.size for d in dim_digits(nest, dim)) == nest.dim_size(dim)


def tile_sequence(nest: LoopNest, operand: str, n_inner: int, served: frozenset[str], filtered: bool) -> TileSequence:
    """Tiles of `operand` for a level owning temporal loops [0, n_inner) whose instance serves `served`."""
    coupled_dims = set(nest.position_dims) | {"FY", "FX"}
    # Spatial digits a level does not serve tell its instances apart. Those of uncoupled dimensions
    # whose loops tile the dimension exactly give identical counts per instance: count one, multiply.
    replicated: list[Digit] = []
    enumerated: list[Digit] = []
    for dim in UNCOUPLED + tuple(sorted(coupled_dims)):
        for d in dim_digits(nest, dim):
            if d.temporal is None and d.array_dim not in served:
                (replicated if dim in UNCOUPLED and _exact_dim(nest, dim) else enumerated).append(d)

    def is_fixed(d: Digit) -> bool:
        return d.temporal >= n_inner if d.temporal is not None else d.array_dim not in served

    outer = tuple(range(n_inner, len(nest.temporal)))
    n_tiles = prod(nest.temporal[t].size for t in outer)
    n_inst = prod(d.size for d in enumerated)
    tile_idx = np.arange(n_tiles, dtype=np.int64)[None, :]
    inst_idx = np.arange(n_inst, dtype=np.int64)[:, None]

    def value(d: Digit) -> np.ndarray:
        if d.temporal is not None:
            stride = prod(nest.temporal[u].size for u in range(n_inner, d.temporal))
            return (tile_idx // stride) % d.size
        if d in replicated:
            return np.zeros((1, 1), dtype=np.int64)
        stride = 1
        for e in enumerated:
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
    keys: list[tuple[object, np.ndarray]] = []
    for dim in UNCOUPLED:
        ax = UncoupledAxis(nest, dim, is_fixed)
        k = np.broadcast_to(key(ax.fixed_digits), shape)
        executed &= ax.size[k] > 0
        if dim in RELEVANT_UNCOUPLED[operand]:
            size = size * ax.size[k]
            keys.append((ax, k))
    for axis in ("Y", "X"):
        ax = CoupledAxis(nest, axis, operand, is_fixed, filtered)
        k = np.broadcast_to(key(ax.fixed_pos_digits) + key(ax.fixed_tap_digits) * ax.npos_keys, shape)
        executed &= ax.nonempty[k]
        size = size * ax.size[k]
        keys.append((ax, k))

    # Previous executed tile of the same instance.
    marks = np.where(executed, tile_idx, -1)
    running = np.maximum.accumulate(marks, axis=1)
    pred = np.concatenate([np.full((n_inst, 1), -1, dtype=np.int64), running[:, :-1]], axis=1)
    last = running[:, -1]
    has_pred = executed & (pred >= 0)
    pred_c = np.maximum(pred, 0)
    kept = np.where(has_pred, 1, 0).astype(np.int64)
    for ax, k in keys:
        k_pred = np.take_along_axis(k, pred_c, axis=1)
        if isinstance(ax, UncoupledAxis):
            kept = kept * np.where(k == k_pred, ax.size[k], 0)
        else:
            kept = kept * np.where(has_pred, ax.intersection(k, k_pred), 0)
    inner_steps = prod(nest.temporal[t].size for t in range(n_inner))
    return TileSequence(
        executed=executed,
        size=np.where(executed, size, 0),
        kept=kept,
        pred=np.where(executed, pred, -1),
        last=last,
        replicas=prod(d.size for d in replicated),
        inner_steps=inner_steps,
        outer=outer,
        instance_digits=tuple(enumerated),
        replicated_digits=tuple(replicated),
    )
