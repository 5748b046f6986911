"""Events from data: which loop iterations execute under a data mask, and the elements each one uses.

A data mask says which input elements of one sample are non-zero (design.md, "Events from data"). An input
whose value is zero triggers no event: a MAC executes iff its indices are in range, it is valid (with the
boundary filter on) and its input element is non-zero. The padding positions of an output-centric layer
are zero inputs. Every residency, multi-PE and readiness rule then applies to the executed MACs only.

Whether a MAC executes now depends on the data, so a tile's needed set is no longer a product of
per-axis sets (`axes.py`). Here the executed iterations are one boolean tensor with an axis per loop
(temporal loops outer to inner, then spatial loops last to first: flat index = step * PEs + PE), and a
level's tiles are found by one compiled pass over it in (instance, tile) order (`walk.py`): the work is
one visit per executed-tensor entry of the tiles, never a Python loop per MAC or per step.

Several samples are counted in one pass: the tensor gets a leading sample axis and a sample is one more
(most significant) instance digit that no memory serves, so its tiles never share data with another's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.memo import LruMemo
from zz_event.model.geometry import ConvGeometry
from zz_event.model.nest import LoopNest

__all__ = ["Executed", "Walked", "sample_masks"]

UNCOUPLED = ("B", "G", "K", "C")
# The walk's row space, kept per thread between calls: a fresh one per call would fault its pages in anew.
_SCRATCH = threading.local()
_NO_ROWS = np.zeros((0, 6), dtype=np.int64)
_NO_TRANSFERS = (np.zeros((0, 1), dtype=np.int64), np.zeros((0, 1), dtype=np.int64), np.ones(0, dtype=np.int64),
                 np.zeros(0, dtype=np.int64), np.ones(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0)


def sample_masks(geometry: ConvGeometry, masks) -> np.ndarray:
    """Several samples' data masks as a bool array (S, B, G, C, IY, IX). Each sample may be any array of
    the input's elements in that order: ONNX's (B, G*C, IY, IX), one sample's (G*C, IY, IX), a matrix
    product's (F,)."""
    g = geometry
    shape = (g.B, g.G, g.C, g.y.inp, g.x.inp)
    arr = np.asarray(masks)
    if arr.ndim < 1 or arr.size != arr.shape[0] * prod(shape):
        raise ValueError(f"the data masks have shape {arr.shape}; expected (samples, ...) of {shape} per sample")
    return arr.astype(bool, copy=False).reshape((arr.shape[0], *shape))


@dataclass(frozen=True)
class _Axis:
    dim: str
    size: int
    weight: int  # the loop's digit weight in its dimension's index
    temporal: int | None
    array_dim: str | None
    spatial: int | None


@dataclass(frozen=True)
class Walked:
    """One level's tiles of one operand walked over every sample (`walk.walk`), and the grouping's sizes."""

    sums: np.ndarray  # (S, len(QUANTITIES)): per sample, the row quantities summed
    units: np.ndarray  # (S, transfers): per sample, each requested transfer's word units
    links: np.ndarray  # (S, links, 4): per sample and latency link, its `latency.LinkSums`
    triples: np.ndarray  # with `emit`: (sample * n_inst + instance, tile, element, enters, first, leaves, when)
    n_inst: int  # instances per sample
    n_tiles: int
    n_elem: int
    factor: int  # each element stands for this many (output-channel digits inside the tile)
    n_samples: int


@dataclass(frozen=True)
class _Layout:
    """A level's iteration order over the flags (`Executed._layout`)."""

    collapsed: list[bool]  # per axis: inside the tile and visited once (the flags do not vary along it)
    sizes: tuple[int, ...]  # per axis of the iteration order, outer to inner: its visited size
    offset: np.ndarray  # per iteration, its position in the flags
    dims: dict[str, np.ndarray]  # per dimension, its index at each iteration (broadcastable)
    n_inst: int
    n_tiles: int


class _Tensor:
    """The executed flags of every sample, stored in the axis order of the first nest that built them,
    with what every ordering of the same loops shares: MACs, cycles, untouched outputs."""

    def __init__(self, ex: Executed, masks: np.ndarray) -> None:
        from zz_event.engine.walk import WORD  # noqa: PLC0415  (numba loads with the first masked count)

        tensor = ex._executed(masks)
        flags = np.ascontiguousarray(tensor).reshape(ex.n_samples, -1)
        # Per position, the samples that execute it: sample s is bit s % WORD of word s // WORD.
        self.bits = np.zeros((flags.shape[1], -(-ex.n_samples // WORD)), dtype=np.int64)
        for w in range(self.bits.shape[1]):
            chunk = flags[w * WORD:(w + 1) * WORD]
            self.bits[:, w] = (chunk.T.astype(np.int64) << np.arange(chunk.shape[0], dtype=np.int64)).sum(axis=1)
        strides = np.cumprod((1,) + ex.compact[::-1])[-2::-1]
        self.stride = {_axis_id(a): (int(st) if n > 1 else 0) for a, n, st in zip(ex.axes, ex.compact, strides)}
        folded = prod(ex.shape[a] for a in range(len(ex.axes)) if ex.compact[a] == 1)
        self.macs = (np.count_nonzero(flags, axis=1) * folded).tolist()
        spatial = tuple(1 + a for a, ax in enumerate(ex.axes) if ax.spatial is not None)
        steps = np.logical_or.reduce(tensor, axis=spatial) if spatial else tensor
        temporal = [a for a, ax in enumerate(ex.axes) if ax.temporal is not None and ex.compact[a] == 1]
        per = np.count_nonzero(steps.reshape(ex.n_samples, -1), axis=1)
        self.cycles = (per * prod(ex.shape[a] for a in temporal)).tolist()
        self.silent: list[int] | None = None  # outputs without contribution, on first use


def _axis_id(axis: _Axis) -> tuple:
    """What tells a loop apart whatever the order of the others: its dimension, digit weight, size, array."""
    return (axis.dim, axis.weight, axis.size, axis.array_dim)


# Every ordering LOMA tries of one spatial mapping executes the same iterations: its tensor is a
# transposition of the first one's, read through this nest's strides (tests/engine/test_data_masks.py
# holds a warm memo against a cold one). Keyed by the masks' bytes: a search slices them anew per mapping.
_TENSORS = LruMemo(8)


class Executed:
    """The executed iterations of one nest under one switch setting of the filter, for several samples'
    data masks (S, ...) at once (`sample_masks`)."""

    def __init__(self, nest: LoopNest, filtered: bool, masks) -> None:
        self.nest, self.filtered = nest, filtered
        weight: dict[str, int] = {}
        spatial, temporal = [], []
        for s, sl in enumerate(nest.spatial):
            spatial.append(_Axis(sl.dim, sl.size, weight.get(sl.dim, 1), None, sl.array_dim, s))
            weight[sl.dim] = weight.get(sl.dim, 1) * sl.size
        for t, loop in enumerate(nest.temporal):
            temporal.append(_Axis(loop.dim, loop.size, weight.get(loop.dim, 1), t, None, None))
            weight[loop.dim] = weight.get(loop.dim, 1) * loop.size
        self.axes = tuple(reversed(temporal)) + tuple(reversed(spatial))
        self.shape = tuple(a.size for a in self.axes)
        # The data never depends on the output channel: where K's loops tile it exactly, the tensor keeps
        # its K axes at size 1 (`compact`), and sets are scaled or expanded along them where needed.
        self.k_exact = prod(a.size for a in self.axes if a.dim == "K") == nest.dim_size("K")
        self.compact = tuple(1 if self.k_exact and a.dim == "K" else a.size for a in self.axes)
        masks = sample_masks(nest.geometry, masks)
        self.n_samples = masks.shape[0]
        key = (nest.shape_id, filtered, tuple(sorted(map(_axis_id, self.axes))), masks.shape, masks.tobytes())
        self._tensor = _TENSORS.get_or(key, lambda: _Tensor(self, masks))
        self._layouts: dict[tuple, _Layout] = {}

    def _index(self, dim: str) -> np.ndarray:
        """`dim`'s index at every iteration, broadcastable to the tensor."""
        out = np.zeros((1,) * len(self.axes), dtype=np.int64)
        for a, axis in enumerate(self.axes):
            if axis.dim == dim:
                shape = [1] * len(self.axes)
                shape[a] = axis.size
                out = out + (np.arange(axis.size, dtype=np.int64) * axis.weight).reshape(shape)
        return out

    def _executed(self, masks: np.ndarray) -> np.ndarray:
        nest = self.nest
        run = np.ones((1,) * len(self.axes), dtype=bool)
        index = {}
        for dim in UNCOUPLED:
            index[dim] = self._index(dim)
            if dim != "K" or not self.k_exact:
                run = run & (index[dim] < nest.dim_size(dim))
        inputs = []
        for pos_dim, tap_dim, geo in zip(nest.position_dims, ("FY", "FX"), (nest.geometry.y, nest.geometry.x)):
            pos, tap = self._index(pos_dim), self._index(tap_dim)
            run = run & (pos < nest.dim_size(pos_dim)) & (tap < geo.kernel)
            if nest.centric == "input":
                _, valid = geo.output_of(pos, tap)
                inp = pos
            else:
                inp, valid = geo.input_of(pos, tap)
            if self.filtered:
                run = run & valid
            run = run & (inp >= 0) & (inp < geo.inp)  # padding is a zero input
            inputs.append(np.clip(inp, 0, geo.inp - 1))
        b, g, c = (np.minimum(index[d], nest.dim_size(d) - 1) for d in ("B", "G", "C"))
        return np.broadcast_to(run & masks[:, b, g, c, inputs[0], inputs[1]], (self.n_samples, *self.compact))

    def macs(self) -> list[int]:
        """Executed MACs per sample."""
        return self._tensor.macs

    def cycles(self) -> list[int]:
        """Temporal steps in which some PE executes a MAC, per sample."""
        return self._tensor.cycles

    def outputs_without_contribution(self) -> list[int | None]:
        """Real output elements no executed MAC adds to, per sample (None where outputs are not indexed by
        their true position: input-centric without the filter)."""
        if self.nest.centric == "input" and not self.filtered:
            return [None] * self.n_samples
        if self._tensor.silent is None:  # the same for every ordering
            g = self.nest.geometry
            everything = frozenset(sl.array_dim for sl in self.nest.spatial)
            touched = self.walk("O", len(self.nest.temporal), everything).sums[:, 0]  # one tile, one instance
            self._tensor.silent = (g.B * g.G * g.K * g.OY * g.OX - touched).tolist()
        return self._tensor.silent

    def _relevant(self, op: str) -> frozenset[str]:
        pos = frozenset(self.nest.position_dims)
        taps = frozenset({"FY", "FX"})
        if op == "W":
            return frozenset({"G", "K", "C"}) | taps
        if op == "I":
            return frozenset({"B", "G", "C"}) | pos | (taps if self.nest.centric == "output" else frozenset())
        return frozenset({"B", "G", "K"}) | pos | (taps if self.nest.centric == "input" else frozenset())

    def walk(self, op: str, n_inner: int, served: frozenset[str], transfers=_NO_TRANSFERS,
             emit: bool = False) -> Walked:
        """The executed tiles of a level owning temporal loops [0, n_inner) whose instance serves the array
        dimensions `served`, walked once (`walk.walk`; `transfers`: its (terms, coefs, bw, link, link_bw,
        allowed, n_links)). Instances: mixed radix over the spatial loops it does not serve (first loop
        least significant); tiles: over the temporal loops above, in time order."""
        from zz_event.engine.walk import walk  # noqa: PLC0415  (compiled on first use, not at import)

        lay = self._layout(n_inner, served)
        factor = prod(ax.size for ax, c in zip(self.axes, lay.collapsed) if c and ax.dim in self._relevant(op))
        elem, n_elem = self._element(op, lay.dims, (1,) * len(lay.sizes))
        elem = np.ascontiguousarray(np.broadcast_to(elem, lay.sizes)).reshape(-1)
        sums, units, links, triples, _SCRATCH.rows = walk(
            self._tensor.bits, lay.offset, elem, self.n_samples, lay.n_inst, lay.n_tiles,
            elem.size // (lay.n_inst * lay.n_tiles), n_elem, factor, *transfers, emit,
            getattr(_SCRATCH, "rows", _NO_ROWS))
        return Walked(sums, units, links, triples, lay.n_inst, lay.n_tiles, n_elem, factor, self.n_samples)

    def _layout(self, n_inner: int, served: frozenset[str]) -> _Layout:
        """The iteration order of a level's tiles and each iteration's position in the flags (shared by
        the operands whose levels own the same loops and serve the same array dimensions)."""
        if (n_inner, served) in self._layouts:
            return self._layouts[(n_inner, served)]
        axes = self.axes
        inside = [(ax.temporal is not None and ax.temporal < n_inner)
                  or (ax.spatial is not None and ax.array_dim in served) for ax in axes]
        # An axis inside the tile the flags do not vary along (a K axis) is visited once: a relevant one
        # scales the counts, an irrelevant one only repeats the same elements.
        collapsed = [ins and self._tensor.stride[_axis_id(ax)] == 0 for ax, ins in zip(axes, inside)]
        inst = sorted((a for a, ax in enumerate(axes) if ax.spatial is not None and not inside[a]),
                      key=lambda a: -axes[a].spatial)
        tile = sorted((a for a, ax in enumerate(axes) if ax.temporal is not None and not inside[a]),
                      key=lambda a: -axes[a].temporal)
        order = inst + tile + [a for a in range(len(axes)) if inside[a]]  # iteration order, outer to inner
        sizes = tuple(1 if collapsed[a] else axes[a].size for a in order)
        offset = np.zeros((1,) * len(order), dtype=np.int64)
        dims: dict[str, np.ndarray] = {}
        for i, a in enumerate(order):
            digit = np.arange(sizes[i], dtype=np.int64).reshape([-1 if j == i else 1 for j in range(len(order))])
            offset = offset + digit * self._tensor.stride[_axis_id(axes[a])]
            dims[axes[a].dim] = dims.get(axes[a].dim, 0) + digit * axes[a].weight
        offset = np.ascontiguousarray(np.broadcast_to(offset, sizes)).reshape(-1)
        lay = _Layout(collapsed, sizes, offset, dims, prod(sizes[: len(inst)]),
                      prod(sizes[len(inst): len(inst) + len(tile)]))
        self._layouts[(n_inner, served)] = lay
        return lay

    def _element(self, op: str, dims: dict[str, np.ndarray], shape) -> tuple[np.ndarray, int]:
        """Flat element ids of `op` (counting indices, as the dense engine's) and their number."""
        nest = self.nest
        at = lambda d: dims.get(d, np.zeros(shape, dtype=np.int64))  # noqa: E731
        head = {"W": ("G", "K", "C"), "I": ("B", "G", "C"), "O": ("B", "G", "K")}[op]
        comps = [(at(d), nest.dim_size(d)) for d in head]
        for axis, pos_dim, tap_dim in (("Y", nest.position_dims[0], "FY"), ("X", nest.position_dims[1], "FX")):
            geo = nest.geometry.y if axis == "Y" else nest.geometry.x
            pos, tap = at(pos_dim), at(tap_dim)
            comps.append(self._axis_element(op, axis, geo, pos, tap))
        elem, n = np.zeros(shape, dtype=np.int64), 1
        for value, extent in comps:
            elem, n = elem * extent + value, n * extent
        return elem, n

    def _axis_element(self, op: str, axis: str, geo, pos: np.ndarray, tap: np.ndarray) -> tuple[np.ndarray, int]:
        if op == "W":
            return tap, geo.kernel
        centric, filtered = self.nest.centric, self.filtered
        if centric == "input" and op == "I":
            return pos, geo.inp
        if centric == "output" and op == "O":
            return pos, geo.out
        if centric == "input":  # the output of an input-centric layer
            if filtered:
                return (pos + geo.pad_before - geo.dilation * tap) // geo.stride, geo.out
            a, b = self.nest.dense_relation[axis]
            return a * pos + b * tap, a * (geo.inp - 1) + b * (geo.kernel - 1) + 1
        if filtered:  # the input of an output-centric layer
            return pos * geo.stride + tap * geo.dilation - geo.pad_before, geo.inp
        return pos * geo.stride + tap * geo.dilation, geo.stride * (geo.out - 1) + geo.dilation * (geo.kernel - 1) + 1
