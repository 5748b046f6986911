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
from math import prod

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, coupled_axis, dim_digits
from zz_event.engine.budget import check_budget
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
        self.step_weight = np.cumprod([1] + [loop.size for loop in nest.temporal])[:-1]
        self.filtered = filtered

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
        n_inst, n_tiles = seq.executed.shape
        parts = _within(self.parts(seq), seq.first_row, seq.first_row + n_inst)
        # The (element, instance) pairs are an outer product over the parts: taken a slice of the longest
        # part at a time, so that memory stays at _CHUNK pairs whatever the tensor's size.
        longest = max(range(len(parts)), key=lambda i: len(parts[i].first))
        rest = prod(len(p.first) for i, p in enumerate(parts) if i != longest)
        step = max(1, _CHUNK // max(rest, 1))
        # first, last, row, keep, their tiles and keys, per pair of a slice
        check_budget(rest * min(step, len(parts[longest].first)), 64, "per-element output touches (readiness)")
        first_counts = np.zeros(n_inst * n_tiles, dtype=np.int64)
        last_counts = np.zeros(n_inst * n_tiles, dtype=np.int64)
        whole = parts[longest]
        for start in range(0, len(whole.first), step):
            cut = slice(start, start + step)
            parts[longest] = TouchPart(whole.first[cut], whole.last[cut], whole.row[cut], whole.keep[cut])
            f, la = self._counts(seq, parts)
            first_counts += f
            last_counts += la
        return first_counts.reshape(n_inst, n_tiles), last_counts.reshape(n_inst, n_tiles)

    def _counts(self, seq: TileSequence, parts: list[TouchPart]) -> tuple[np.ndarray, np.ndarray]:
        n_inst, n_tiles = seq.executed.shape
        first, last, row, keep = (_outer([getattr(p, f) for p in parts], op) for f, op in
                                  (("first", np.add), ("last", np.add), ("row", np.add), ("keep", np.logical_and)))
        weight = self.step_weight
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
        flat = n_inst * n_tiles
        row = row - seq.first_row  # a sequence of some instance rows only: the others' pairs are not counted
        keep = keep & (row >= 0) & (row < n_inst)
        first_counts = np.bincount((row * n_tiles + tile_first)[keep], minlength=flat)
        last_counts = np.bincount((row * n_tiles + tile_last)[keep], minlength=flat)
        return first_counts, last_counts


_CHUNK = 1 << 20


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


def _outer(arrays: list[np.ndarray], op) -> np.ndarray:
    total = None
    for i, a in enumerate(arrays):
        shape = [1] * len(arrays)
        shape[i] = -1
        a = a.reshape(shape)
        total = a if total is None else op(total, a)
    return total
