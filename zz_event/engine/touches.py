"""When each output element is first and last touched, and which tile of a level that falls in.

Output readiness needs per-element facts: an element's partial sum exists only after its first valid
contribution, and it is final after its last. A MAC step's time is a weighted sum of its temporal
digits, and the iterations touching an element form a product over axes, so the first (last) touch is
a sum over axes of per-axis minima (maxima) — no MAC is visited.
"""

from __future__ import annotations

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, coupled_axis, dim_digits
from zz_event.engine.tiles import UNCOUPLED, TileSequence
from zz_event.nest import LoopNest

__all__ = ["OutputTouches", "output_touches", "EngineLimitation"]


class EngineLimitation(NotImplementedError):
    """A mapping feature the engine does not count exactly yet; raised, never approximated silently."""


class OutputTouches:
    """First/last touch times of every output element (NaN-free: untouched elements are dropped)."""

    def __init__(self, nest: LoopNest, filtered: bool) -> None:
        self.nest = nest
        step_weight = np.cumprod([1] + [loop.size for loop in nest.temporal])[:-1]

        def time_of(dim: str, index: np.ndarray) -> np.ndarray:
            t = np.zeros_like(index)
            for d in dim_digits(nest, dim):
                if d.temporal is not None:
                    t = t + ((index // d.weight) % d.size) * int(step_weight[d.temporal])
            return t

        per_axis_first: list[np.ndarray] = []
        per_axis_last: list[np.ndarray] = []
        self.axis_index: list[tuple[str, np.ndarray]] = []  # (dim or axis, element index values)
        offset_c_first, offset_c_last = 0, 0
        for dim in UNCOUPLED:
            idx = np.arange(nest.dim_size(dim), dtype=np.int64)
            t = time_of(dim, idx)
            if dim in RELEVANT_UNCOUPLED["O"]:
                per_axis_first.append(t)
                per_axis_last.append(t)
                self.axis_index.append((dim, idx))
            else:
                offset_c_first += int(t.min())
                offset_c_last += int(t.max())
        for axis in ("Y", "X"):
            pos_dim = nest.position_dims[0 if axis == "Y" else 1]
            every = lambda dim: (True,) * len(dim_digits(nest, dim))  # noqa: E731
            ax = coupled_axis(nest, axis, "O", every(pos_dim), every("F" + axis), filtered)
            t = time_of(pos_dim, ax.pos) + time_of("F" + axis, ax.tap)
            big = np.iinfo(np.int64).max
            first = np.full(ax.elem_extent, big, dtype=np.int64)
            last = np.full(ax.elem_extent, -1, dtype=np.int64)
            np.minimum.at(first, ax.elem[ax.pair_valid], t[ax.pair_valid])
            np.maximum.at(last, ax.elem[ax.pair_valid], t[ax.pair_valid])
            touched = last >= 0
            per_axis_first.append(first[touched])
            per_axis_last.append(last[touched])
            self.axis_index.append((axis, np.nonzero(touched)[0]))
        self.first = _outer_sum(per_axis_first) + offset_c_first
        self.last = _outer_sum(per_axis_last) + offset_c_last

    def counts(self, seq: TileSequence) -> tuple[np.ndarray, np.ndarray]:
        """Per (instance row, tile): how many elements are first touched there, and last touched there."""
        n_inst, n_tiles = seq.executed.shape
        for d in seq.instance_digits:
            if d.dim not in RELEVANT_UNCOUPLED["O"]:
                raise EngineLimitation(
                    f"output readiness with {d.dim} unrolled on {d.array_dim} below a memory that does not serve "
                    f"{d.array_dim} is not counted exactly yet; run with readiness off"
                )
        keep = np.ones(self.first.shape, dtype=bool)
        row = np.zeros(self.first.shape, dtype=np.int64)
        for axis_no, (name, values) in enumerate(self.axis_index):
            shape = [1] * self.first.ndim
            shape[axis_no] = -1
            for d in dim_digits(self.nest, name) if name in UNCOUPLED else ():
                digit = ((values // d.weight) % d.size).reshape(shape)
                if d in seq.instance_digits:
                    row = row + digit * _instance_stride(seq, d)
                elif d in seq.replicated_digits:  # count one representative instance
                    keep = keep & (digit == 0)
        weight = np.cumprod([1] + [loop.size for loop in self.nest.temporal])[:-1]
        first = np.broadcast_to(self.first, keep.shape)
        last = np.broadcast_to(self.last, keep.shape)
        tile_first = np.zeros(keep.shape, dtype=np.int64)
        tile_last = np.zeros(keep.shape, dtype=np.int64)
        radix = 1
        for t in seq.enumerated:
            size = self.nest.temporal[t].size
            tile_first = tile_first + (first // int(weight[t])) % size * radix
            tile_last = tile_last + (last // int(weight[t])) % size * radix
            radix *= size
        # Irrelevant context loops: first touches fall in the all-first class (0), last in the all-last one.
        tile_last = tile_last + (seq.classes > 1) * radix
        for t in seq.symmetric:  # relevant loops above the block: one representative value
            if self.nest.temporal[t].dim not in RELEVANT_UNCOUPLED["O"]:
                raise AssertionError("output touches need irrelevant loops enumerated")
            keep = keep & ((first // int(weight[t])) % self.nest.temporal[t].size == 0)
        row = np.broadcast_to(row, keep.shape)
        flat = n_inst * n_tiles
        first_counts = np.bincount((row * n_tiles + tile_first)[keep], minlength=flat).reshape(n_inst, n_tiles)
        last_counts = np.bincount((row * n_tiles + tile_last)[keep], minlength=flat).reshape(n_inst, n_tiles)
        return first_counts, last_counts


def _instance_stride(seq: TileSequence, digit) -> int:
    stride = 1
    for e in seq.instance_digits:
        if e == digit:
            return stride
        stride *= e.size
    raise AssertionError("not an instance digit")


def _outer_sum(parts: list[np.ndarray]) -> np.ndarray:
    total = np.zeros((1,) * len(parts), dtype=np.int64)
    for i, p in enumerate(parts):
        shape = [1] * len(parts)
        shape[i] = -1
        total = total + p.reshape(shape)
    return total
