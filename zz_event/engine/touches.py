"""When each output element is first and last touched, per instance, and which tile that falls in.

Output readiness needs per-element facts: an element's partial sum exists only after its first valid
contribution, and it is final after its last. A MAC step's time is a weighted sum of its temporal
digits, and the iterations touching an element form a product over axes, so the first (last) touch is
a sum over axes of per-axis minima (maxima) — no MAC is visited. An instance of a level sees only the
iterations of its own spatial digits, so the minima are taken per instance of each axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, coupled_axis, dim_digits
from zz_event.engine.tiles import UNCOUPLED, TileSequence
from zz_event.model.nest import LoopNest

__all__ = ["OutputTouches", "TouchPart"]

_BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class TouchPart:
    """One factor of the (element, instance) product: entries with their first/last touch time offsets,
    the instance-row offset they imply and whether they are counted (representative instances only)."""

    first: np.ndarray
    last: np.ndarray
    row: np.ndarray
    keep: np.ndarray


class OutputTouches:
    """Per-axis touch data of the output operand of one nest (one switch setting)."""

    def __init__(self, nest: LoopNest, filtered: bool) -> None:
        self.nest = nest
        self.filtered = filtered

    @cached_property
    def step_weight(self) -> np.ndarray:
        """Each temporal loop's step in time (built on first use, as `_pairs`: one per new sequence)."""
        return np.cumprod([1] + [loop.size for loop in self.nest.temporal])[:-1]

    @cached_property
    def _pairs(self) -> dict:
        """Per axis: (position dim, position, tap, output element, touch time) of every valid pair.
        Computed on first use: when every output sequence of a nest is memoised, never."""
        pairs = {}
        for axis, pos_dim in zip(("Y", "X"), self.nest.position_dims):
            every = lambda dim: (True,) * len(dim_digits(self.nest, dim))  # noqa: E731
            ax = coupled_axis(self.nest, axis, "O", every(pos_dim), every("F" + axis), self.filtered)
            valid = ax.pair_valid
            time = self._time(pos_dim, ax.pos[valid]) + self._time("F" + axis, ax.tap[valid])
            pairs[axis] = (pos_dim, ax.pos[valid], ax.tap[valid], ax.elem[valid], time)
        return pairs

    def _time(self, dim: str, index: np.ndarray) -> np.ndarray:
        t = np.zeros_like(index)
        for d in dim_digits(self.nest, dim):
            if d.temporal is not None:
                t = t + ((index // d.weight) % d.size) * int(self.step_weight[d.temporal])
        return t

    def parts(self, seq: TileSequence) -> list[TouchPart]:
        """The factors whose outer sum gives every (element, instance) first/last touch of `seq`."""
        stride = {}
        s = 1
        for d in seq.instance_digits:
            stride[d] = s
            s *= d.size

        def row_and_keep(dim: str, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            row = np.zeros_like(index)
            keep = np.ones(index.shape, dtype=bool)
            for d in dim_digits(self.nest, dim):
                digit = (index // d.weight) % d.size
                if d in stride:
                    row = row + digit * stride[d]
                elif d in seq.replicated_digits:
                    keep &= digit == 0
            return row, keep

        parts = []
        for dim in UNCOUPLED:
            idx = np.arange(self.nest.dim_size(dim), dtype=np.int64)
            t = self._time(dim, idx)
            row, keep = row_and_keep(dim, idx)
            if dim in RELEVANT_UNCOUPLED["O"]:
                parts.append(TouchPart(t, t, row, keep))
                continue
            # An irrelevant dimension: each of its instance groups reduces over its own indices.
            groups = int(row.max()) + 1 if row.size else 1
            first = np.full(groups, _BIG, dtype=np.int64)
            last = np.full(groups, -1, dtype=np.int64)
            np.minimum.at(first, row, t)
            np.maximum.at(last, row, t)
            seen = last >= 0
            parts.append(TouchPart(first[seen], last[seen], np.nonzero(seen)[0], np.ones(int(seen.sum()), bool)))
        for axis in ("Y", "X"):
            pos_dim, pos, tap, elem, time = self._pairs[axis]
            row_p, _ = row_and_keep(pos_dim, pos)
            row_t, _ = row_and_keep("F" + axis, tap)
            row = row_p + row_t
            n_elem = int(elem.max()) + 1 if elem.size else 1
            key = row * n_elem + elem
            size = (int(row.max()) + 1 if row.size else 1) * n_elem
            first = np.full(size, _BIG, dtype=np.int64)
            last = np.full(size, -1, dtype=np.int64)
            np.minimum.at(first, key, time)
            np.maximum.at(last, key, time)
            seen = np.nonzero(last >= 0)[0]
            parts.append(TouchPart(first[seen], last[seen], (seen // n_elem), np.ones(seen.size, bool)))
        return parts

    def counts(self, seq: TileSequence) -> tuple[np.ndarray, np.ndarray]:
        """Per (instance row, tile): how many elements are first touched there, and last touched there."""
        from zz_event.engine.touch_kernel import touch_counts  # noqa: PLC0415  (compiles on first use)

        n_inst, n_tiles = seq.executed.shape
        parts = _within(self.parts(seq), seq.first_row, seq.first_row + n_inst)
        for t in seq.symmetric:  # relevant loops above the block: one representative value
            if self.nest.temporal[t].dim not in RELEVANT_UNCOUPLED["O"]:
                raise AssertionError("output touches need irrelevant loops enumerated")
        # The (element, instance) pairs are an outer product over the parts, visited one at a time by a
        # compiled pass: memory stays at the parts and the counts whatever the tensor's size.
        weight = self.step_weight
        loops = lambda ts: np.array([[int(weight[t]), self.nest.temporal[t].size] for t in ts],  # noqa: E731
                                    dtype=np.int64).reshape(-1, 2)
        columns = [np.concatenate([getattr(p, f) for p in parts]).astype(np.int64) for f in ("first", "last", "row")]
        keep = np.concatenate([p.keep for p in parts]).astype(np.bool_)
        offsets = np.cumsum([0] + [len(p.first) for p in parts]).astype(np.int64)
        first_counts, last_counts = touch_counts(*columns, keep, offsets, loops(seq.enumerated), loops(seq.symmetric),
                                                 int(seq.classes > 1), seq.first_row, n_inst, n_tiles)
        return first_counts.reshape(n_inst, n_tiles), last_counts.reshape(n_inst, n_tiles)




def _within(parts: list[TouchPart], lo: int, hi: int) -> list[TouchPart]:
    """The parts without the entries whose row offset puts every pair they are in outside rows [lo, hi):
    a sequence of some instance rows only (one value of the most significant digits) then costs its
    own pairs, not every instance's."""
    if not parts or any(not len(p.row) for p in parts):
        return parts
    low = [int(p.row.min()) for p in parts]
    high = [int(p.row.max()) for p in parts]
    out = []
    for i, p in enumerate(parts):
        rest_low, rest_high = sum(low) - low[i], sum(high) - high[i]
        keep = (p.row + rest_high >= lo) & (p.row + rest_low < hi)
        out.append(p if keep.all() else TouchPart(p.first[keep], p.last[keep], p.row[keep], p.keep[keep]))
    return out
