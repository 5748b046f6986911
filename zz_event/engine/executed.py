"""Events from data: which loop iterations execute under a data mask, and the elements each one uses.

A data mask says which input elements of one sample are non-zero (design.md, "Events from data"). An input
whose value is zero triggers no event: a MAC executes iff its indices are in range, it is valid (with the
boundary filter on) and its input element is non-zero. The padding positions of an output-centric layer
are zero inputs. Every residency, multi-PE and readiness rule then applies to the executed MACs only.

Whether a MAC executes now depends on the data, so a tile's needed set is no longer a product of
per-axis sets (`axes.py`). Here the executed iterations are one boolean tensor with an axis per loop
(temporal loops outer to inner, then spatial loops last to first: flat index = step * PEs + PE), and a
level's tiles are the distinct (instance, tile, element) triples of its executed iterations, found by
sorting. Loops inside the tile over dimensions the operand ignores are OR-ed away first, so the work is
proportional to the distinct (iteration box, element) pairs, never a Python loop per MAC or per step.

Several samples are counted in one pass: the tensor gets a leading sample axis and a sample is one more
(most significant) instance digit that no memory serves, so its tiles never share data with another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.engine.siblings import _distinct
from zz_event.model.geometry import ConvGeometry
from zz_event.model.nest import LoopNest

__all__ = ["Executed", "Triples", "sample_masks"]

UNCOUPLED = ("B", "G", "K", "C")


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
class Triples:
    """The distinct (instance, tile, element) triples of one grouping, sorted, and the grouping's sizes.
    `inst` numbers (sample, instance) pairs: sample * n_inst + instance."""

    inst: np.ndarray
    tile: np.ndarray
    elem: np.ndarray
    n_inst: int  # instances per sample
    n_tiles: int
    n_elem: int
    factor: int = 1  # each triple stands for this many elements (output-channel digits inside the tile)
    n_samples: int = 1


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
        self.n_pe = prod(sl.size for sl in nest.spatial)
        # The data never depends on the output channel: where K's loops tile it exactly, the tensor keeps
        # its K axes at size 1 (`compact`), and sets are scaled or expanded along them where needed.
        self.k_exact = prod(a.size for a in self.axes if a.dim == "K") == nest.dim_size("K")
        self.compact = tuple(1 if self.k_exact and a.dim == "K" else a.size for a in self.axes)
        masks = sample_masks(nest.geometry, masks)
        self.n_samples = masks.shape[0]
        self.tensor = self._executed(masks)  # axes: sample, then `self.axes`

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
        return np.broadcast_to(run & masks[:, b, g, c, inputs[0], inputs[1]], (self.n_samples, *self.compact)).copy()

    def _folded(self, axes) -> int:
        """How many iterations each entry of the compact tensor stands for along `axes`."""
        return prod(self.shape[a] for a in axes if self.compact[a] == 1)

    def macs(self) -> list[int]:
        """Executed MACs per sample."""
        per = np.count_nonzero(self.tensor.reshape(self.n_samples, -1), axis=1)
        return (per * self._folded(range(len(self.axes)))).tolist()

    def cycles(self) -> list[int]:
        """Temporal steps in which some PE executes a MAC, per sample."""
        spatial = tuple(1 + a for a, ax in enumerate(self.axes) if ax.spatial is not None)
        temporal = [a for a, ax in enumerate(self.axes) if ax.temporal is not None]
        steps = np.logical_or.reduce(self.tensor, axis=spatial) if spatial else self.tensor
        per = np.count_nonzero(steps.reshape(self.n_samples, -1), axis=1)
        return (per * self._folded(temporal)).tolist()

    def outputs_without_contribution(self) -> list[int | None]:
        """Real output elements no executed MAC adds to, per sample (None where outputs are not indexed by
        their true position: input-centric without the filter)."""
        if self.nest.centric == "input" and not self.filtered:
            return [None] * self.n_samples
        g = self.nest.geometry
        everything = frozenset(sl.array_dim for sl in self.nest.spatial)
        whole = self.triples("O", len(self.nest.temporal), everything)
        touched = np.bincount(whole.inst // whole.n_inst, minlength=self.n_samples) * whole.factor
        return (g.B * g.G * g.K * g.OY * g.OX - touched).tolist()

    def _relevant(self, op: str) -> frozenset[str]:
        pos = frozenset(self.nest.position_dims)
        taps = frozenset({"FY", "FX"})
        if op == "W":
            return frozenset({"G", "K", "C"}) | taps
        if op == "I":
            return frozenset({"B", "G", "C"}) | pos | (taps if self.nest.centric == "output" else frozenset())
        return frozenset({"B", "G", "K"}) | pos | (taps if self.nest.centric == "input" else frozenset())

    def triples(self, op: str, n_inner: int, served: frozenset[str]) -> Triples:
        """The distinct (instance, tile, element) triples of a level owning temporal loops [0, n_inner)
        whose instance serves the array dimensions `served`. Instances: mixed radix over the spatial loops
        it does not serve (first loop least significant); tiles: over the temporal loops above, in time order."""
        relevant = self._relevant(op)
        inside = [a for a, ax in enumerate(self.axes) if (ax.temporal is not None and ax.temporal < n_inner)
                  or (ax.spatial is not None and ax.array_dim in served)]
        away = tuple(a for a in inside if self.axes[a].dim not in relevant or self.axes[a].size == 1)
        # The data never depends on the output channel: where K's loops tile it exactly, a K digit inside
        # the tile multiplies every set of W or O by its size. Counted once, then scaled (`factor`).
        factor = 1
        if op != "I" and prod(ax.size for ax in self.axes if ax.dim == "K") == self.nest.dim_size("K"):
            collapsed = tuple(a for a in inside if self.axes[a].dim == "K" and a not in away)
            factor = prod(self.axes[a].size for a in collapsed)
            away += collapsed
        tensor_away = tuple(1 + a for a in away)  # the tensor's axis 0 is the sample
        reduced = np.logical_or.reduce(self.tensor, axis=tensor_away, keepdims=True) if away else self.tensor
        # K loops that pick the tile or the instance are enumerated: expand them to their sizes.
        shape = tuple(1 if a in away else n for a, n in enumerate(self.shape))
        executed = np.flatnonzero(np.broadcast_to(reduced, (self.n_samples, *shape)))
        base, n_inst, n_tiles, n_elem = self._keys(op, n_inner, served, away, shape)
        per_sample = n_inst * n_tiles * n_elem
        keys = _distinct(base[executed % base.size] + executed // base.size * per_sample)
        per_row = keys // n_elem
        return Triples(per_row // n_tiles, per_row % n_tiles, keys % n_elem, n_inst, n_tiles, n_elem, factor,
                       self.n_samples)

    def _keys(self, op: str, n_inner: int, served: frozenset[str], away: tuple, shape: tuple):
        """(key of every position of a tensor of `shape`: (instance * n_tiles + tile) * n_elem + element,
        flat; n_inst, n_tiles, n_elem). Built by broadcasting one term per loop, not per iteration."""
        n = len(self.axes)
        inst = tile = np.zeros((1,) * n, dtype=np.int64)
        n_inst = n_tiles = 1
        dims: dict[str, np.ndarray] = {}
        for a in sorted(range(n), key=lambda a: (self.axes[a].spatial is None, self.axes[a].temporal or 0,
                                                 self.axes[a].spatial or 0)):
            if a in away:
                continue
            ax = self.axes[a]
            digit = np.arange(ax.size, dtype=np.int64).reshape([ax.size if b == a else 1 for b in range(n)])
            dims[ax.dim] = dims.get(ax.dim, 0) + digit * ax.weight
            if ax.temporal is not None and ax.temporal >= n_inner:
                tile, n_tiles = tile + digit * n_tiles, n_tiles * ax.size
            elif ax.spatial is not None and ax.array_dim not in served:
                inst, n_inst = inst + digit * n_inst, n_inst * ax.size
        elem, n_elem = self._element(op, dims, (1,) * n)
        keys = np.broadcast_to((inst * n_tiles + tile) * n_elem + elem, shape)
        return keys.reshape(-1), n_inst, n_tiles, n_elem

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
