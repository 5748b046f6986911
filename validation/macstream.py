"""The loop iterations of a nest: one boolean tensor over all of them, and the index forms of every MAC.

A *step* is one iteration of the temporal loops (step id = mixed radix over `nest.temporal`, innermost
loop least significant, so step ids are time order). A *PE* is one combination of the spatial loops
(mixed radix over `nest.spatial`, first loop least significant). Every (step, PE) pair is a loop
iteration; it executes a MAC when every dimension index is in range and, with the boundary filter,
when both spatial axes pair a real input with a tap that reaches a real output.

The *iteration tensor* has one axis per loop: the temporal loops outer to inner, then the spatial loops
last to first, so that its flat (C-order) index is `step * n_pe + pe`. `Iterations` evaluates, for
every iteration, whether it executes a MAC and whether it adds a real input to a real output.

A dimension's index is a mixed-radix number over its loops: its spatial loops first (in the order of
`nest.spatial`), then its temporal loops from inner to outer, the first one least significant.

Each MAC names one element per operand. Element ids are flat indices over the operand's *components*
(W: G, K, C, wy, wx; I: B, G, C, iy, ix; O: B, G, K, oy, ox) where the per-axis index is the one the
counting rules use (design.md): with the filter the true indices; without it ZigZag's own relation
(input-centric: o = alpha*i + beta*f from `nest.dense_relation`; output-centric: i = s*o + d*f, padding
positions being elements like any other). Every component is `(linear form over dimension indices +
const) // divisor`, the division exact on executed MACs (the divisor is the stride of the filtered output
index of an input-centric layer, 1 otherwise). Independently of the counting index, every MAC also has
the *true* tensor indices used for the arithmetic (`true_out`, `true_in`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.model.nest import LoopNest

__all__ = ["Axis", "Component", "Form", "Iterations", "Layout", "input_mask"]

UNCOUPLED = ("B", "G", "K", "C")


@dataclass(frozen=True)
class Axis:
    """One loop of the nest, i.e. one axis of the iteration tensor."""

    dim: str
    size: int
    weight: int  # the loop's digit weight in its dimension's index
    temporal: int | None  # index into nest.temporal
    spatial: int | None  # index into nest.spatial
    array_dim: str | None  # spatial loops: the array dimension it is unrolled on


@dataclass(frozen=True)
class Component:
    """One index of a flat element id: (sum of coefs[dim] * index(dim) + const) // divisor, in [0, extent)."""

    extent: int
    coefs: dict[str, int]
    const: int = 0
    divisor: int = 1


class Layout:
    """Static facts about a nest: loops and digits of every dimension, PE grid, element spaces, blocks."""

    def __init__(self, nest: LoopNest, filtered: bool, block_iterations: int = 1 << 15) -> None:
        self.nest = nest
        self.filtered = filtered
        self.t_sizes = [int(loop.size) for loop in nest.temporal]
        self.s_sizes = [int(sl.size) for sl in nest.spatial]
        self.n_steps = prod(self.t_sizes)
        self.n_pe = prod(self.s_sizes)
        self.s_stride = [prod(self.s_sizes[:s]) for s in range(len(self.s_sizes))]
        self.pos_y, self.pos_x = nest.position_dims
        dims = UNCOUPLED + (self.pos_y, self.pos_x, "FY", "FX")
        unknown = {loop.dim for loop in nest.temporal} | {sl.dim for sl in nest.spatial}
        unknown -= set(dims)
        if unknown:
            raise ValueError(f"loops over {sorted(unknown)}: not dimensions of a {nest.centric}-centric convolution")
        weight = dict.fromkeys(dims, 1)
        spatial, temporal = [], []
        for s, sl in enumerate(nest.spatial):
            spatial.append(Axis(sl.dim, int(sl.size), weight[sl.dim], None, s, sl.array_dim))
            weight[sl.dim] *= sl.size
        for t, loop in enumerate(nest.temporal):
            temporal.append(Axis(loop.dim, int(loop.size), weight[loop.dim], t, None, None))
            weight[loop.dim] *= loop.size
        self.axes: tuple[Axis, ...] = tuple(reversed(temporal)) + tuple(reversed(spatial))
        self.shape = tuple(a.size for a in self.axes)
        self.overshoots: set[str] = set()
        for dim in dims:
            if weight[dim] < nest.dim_size(dim):
                raise ValueError(f"the loops over {dim} span {weight[dim]} iterations but {dim} has size "
                                 f"{nest.dim_size(dim)}; the mapping does not cover the layer")
            if weight[dim] > nest.dim_size(dim):
                self.overshoots.add(dim)
        self.block_steps = max(1, block_iterations // self.n_pe)  # steps per block of the MAC pass
        self.extent = self._extents()

    # -- element spaces ------------------------------------------------------------------------------
    def _axis_extent(self, axis: str) -> dict[str, int]:
        nest = self.nest
        geo = nest.geometry.y if axis == "Y" else nest.geometry.x
        pos_size = geo.inp if nest.centric == "input" else geo.out
        if nest.centric == "input":
            if self.filtered:
                return {"I": geo.inp, "W": geo.kernel, "O": geo.out}
            a, b = nest.dense_relation[axis]
            return {"I": geo.inp, "W": geo.kernel, "O": a * (pos_size - 1) + b * (geo.kernel - 1) + 1}
        if self.filtered:
            return {"I": geo.inp, "W": geo.kernel, "O": geo.out}
        return {"I": geo.stride * (pos_size - 1) + geo.dilation * (geo.kernel - 1) + 1, "W": geo.kernel, "O": geo.out}

    def _extents(self) -> dict[str, tuple[int, ...]]:
        g = self.nest.geometry
        ey, ex = self._axis_extent("Y"), self._axis_extent("X")
        return {
            "W": (g.G, g.K, g.C, ey["W"], ex["W"]),
            "I": (g.B, g.G, g.C, ey["I"], ex["I"]),
            "O": (g.B, g.G, g.K, ey["O"], ex["O"]),
        }

    def n_elements(self, op: str) -> int:
        return prod(self.extent[op])

    def _spatial_axis(self, axis: str) -> list[Component]:
        """Per spatial axis (Y, X): the counting index of W, I and O as components."""
        nest = self.nest
        geo = nest.geometry.y if axis == "Y" else nest.geometry.x
        pos, tap = self.pos_y if axis == "Y" else self.pos_x, "F" + axis
        ext = self._axis_extent(axis)
        w = Component(ext["W"], {tap: 1})
        if nest.centric == "input":
            if self.filtered:
                o = Component(ext["O"], {pos: 1, tap: -geo.dilation}, geo.pad_before, geo.stride)
            else:
                a, b = nest.dense_relation[axis]
                o = Component(ext["O"], {pos: a, tap: b})
            return [w, Component(ext["I"], {pos: 1}), o]
        pad = geo.pad_before if self.filtered else 0
        return [w, Component(ext["I"], {pos: geo.stride, tap: geo.dilation}, -pad), Component(ext["O"], {pos: 1})]

    def components(self, op: str) -> list[Component]:
        """The components of `op`'s counting element id, most significant first."""
        g = self.nest.geometry
        head = {"W": (("G", g.G), ("K", g.K), ("C", g.C)), "I": (("B", g.B), ("G", g.G), ("C", g.C)),
                "O": (("B", g.B), ("G", g.G), ("K", g.K))}[op]
        which = "WIO".index(op)
        return [Component(n, {d: 1}) for d, n in head] + [self._spatial_axis(a)[which] for a in ("Y", "X")]

    def true_components(self, tensor: str) -> list[Component]:
        """Components of the true output ("O") or input ("I") index used by the arithmetic (valid where the
        MAC adds: `Iterations.tensor(adds=True)`)."""
        g, nest = self.nest.geometry, self.nest
        out = tensor == "O"
        third = "K" if out else "C"
        head = [Component(g.B, {"B": 1}), Component(g.G, {"G": 1}), Component(nest.dim_size(third), {third: 1})]
        for axis, geo in (("Y", g.y), ("X", g.x)):
            pos, tap = self.pos_y if axis == "Y" else self.pos_x, "F" + axis
            if nest.centric == "input":
                head.append(Component(geo.out, {pos: 1, tap: -geo.dilation}, geo.pad_before, geo.stride) if out
                            else Component(geo.inp, {pos: 1}))
            else:
                head.append(Component(geo.out, {pos: 1}) if out
                            else Component(geo.inp, {pos: geo.stride, tap: geo.dilation}, -geo.pad_before))
        return head

    # -- dimension indices -----------------------------------------------------------------------------
    def dim_tensor(self, dim: str) -> np.ndarray:
        """Index of `dim` at every iteration, as an array broadcastable to the iteration tensor."""
        out = np.zeros((1,) * len(self.axes), dtype=np.int64)
        for a, axis in enumerate(self.axes):
            if axis.dim == dim:
                shape = [1] * len(self.axes)
                shape[a] = axis.size
                out = out + (np.arange(axis.size, dtype=np.int64) * axis.weight).reshape(shape)
        return out

    def _parts(self, coefs: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """A linear form over dimension indices as (per step, per PE) parts."""
        n_t = len(self.t_sizes)
        t_part = np.zeros([1] * n_t, dtype=np.int64)
        s_part = np.zeros(self.n_pe, dtype=np.int64)
        pe = np.arange(self.n_pe, dtype=np.int64)
        for a in self.axes:
            c = coefs.get(a.dim, 0) * a.weight
            if c and a.temporal is not None:  # step ids: temporal loops outer to inner
                t_part = t_part + (np.arange(a.size) * c).reshape([-1] + [1] * a.temporal)
            elif c:
                s_part += c * (pe // self.s_stride[a.spatial] % a.size)
        return np.broadcast_to(t_part, self.t_sizes[::-1]).reshape(-1), s_part

    def form(self, components: list[Component], pe_offset: np.ndarray | None = None) -> Form:
        """The flat index over `components` (plus `pe_offset` per PE) as a function of step and PE."""
        coefs: dict[str, int] = {}
        const, mult, divided = 0, 1, []
        for comp in reversed(components):
            if comp.divisor == 1:
                for dim, c in comp.coefs.items():
                    coefs[dim] = coefs.get(dim, 0) + c * mult
                const += comp.const * mult
            else:
                t_part, s_part = self._parts(comp.coefs)
                divided.append((t_part + comp.const, s_part, comp.divisor, mult))
            mult *= comp.extent
        t_part, s_part = self._parts(coefs)
        if pe_offset is not None:
            s_part += pe_offset
        return Form(t_part + const, s_part, divided)


@dataclass(frozen=True)
class Form:
    """A flat index at (step, PE): t_part[step] + s_part[PE], plus components with a divisor, each
    (t_part, s_part, divisor, mult) contributing ((t_part[step] + s_part[PE]) // divisor) * mult."""

    t_part: np.ndarray
    s_part: np.ndarray
    divided: list[tuple[np.ndarray, np.ndarray, int, int]]

    def at(self, steps: slice) -> np.ndarray:
        """The index at `steps` and every PE: broadcastable to (steps, PEs)."""
        out = self.t_part[steps, None]
        if self.s_part.any():
            out = out + self.s_part
        for t_part, s_part, divisor, mult in self.divided:
            out = out + (t_part[steps, None] + s_part) // divisor * mult
        return out


class Iterations:
    """Every loop iteration: does it execute a MAC, and does that MAC add a real input to a real output (a
    dense MAC may reach no real output or read a padding position).

    Both are evaluated from per-axis conditions (dimensions in range, the boundary filter) that each
    involve a few loops; `tensor` evaluates them at every iteration, with the iteration tensor's axes in
    any order, so that each consumer gets the layout it reads fastest."""

    def __init__(self, layout: Layout, mask: np.ndarray | None = None) -> None:
        nest = layout.nest
        self.layout = layout
        in_range = np.ones((1,) * len(layout.axes), dtype=bool)
        for dim in layout.overshoots:
            in_range = in_range & (layout.dim_tensor(dim) < nest.dim_size(dim))
        real = np.ones((1,) * len(layout.axes), dtype=bool)
        for axis, pos_dim in (("Y", layout.pos_y), ("X", layout.pos_x)):
            geo = nest.geometry.y if axis == "Y" else nest.geometry.x
            pos, tap = layout.dim_tensor(pos_dim), layout.dim_tensor("F" + axis)
            if nest.centric == "input":
                shifted = pos + geo.pad_before - geo.dilation * tap
                real = real & (shifted >= 0) & (shifted % geo.stride == 0) & (shifted // geo.stride < geo.out)
            else:
                inp = pos * geo.stride + tap * geo.dilation - geo.pad_before
                real = real & (inp >= 0) & (inp < geo.inp)
        self._mac = in_range & real if layout.filtered else in_range
        if mask is not None:  # events from data: a zero input triggers no MAC (padding is zero)
            self._mac = self._mac & self._nonzero_input(input_mask(nest.geometry, mask))
        self._adds = self._mac & real

    def _nonzero_input(self, mask: np.ndarray) -> np.ndarray:
        """Whether the true input of every iteration is a real, non-zero element of `mask` (B, G, C, IY, IX)."""
        lay, nest = self.layout, self.layout.nest
        index, real = [], np.ones((1,) * len(lay.axes), dtype=bool)
        for dim in ("B", "G", "C"):
            index.append(np.minimum(lay.dim_tensor(dim), nest.dim_size(dim) - 1))
        for pos_dim, tap_dim, geo in ((lay.pos_y, "FY", nest.geometry.y), (lay.pos_x, "FX", nest.geometry.x)):
            pos = lay.dim_tensor(pos_dim)
            if nest.centric == "output":
                pos = pos * geo.stride + lay.dim_tensor(tap_dim) * geo.dilation - geo.pad_before
            inp = pos
            real = real & (inp >= 0) & (inp < geo.inp)
            index.append(np.clip(inp, 0, geo.inp - 1))
        return real & mask[tuple(index)]


    def tensor(self, order: list[int] | None = None, adds: bool = False, any_over: int = 0) -> np.ndarray:
        """Executes a MAC (or, with `adds`, adds to a real output) at every iteration; axes in `order`.

        `any_over`: OR away the first that many axes of `order` (the conditions are ORed before they are
        broadcast to the other axes, which gives the same tensor as ORing the full one)."""
        order = list(range(len(self.layout.axes))) if order is None else order
        cond = (self._adds if adds else self._mac).transpose(order)
        cond = np.ascontiguousarray(np.logical_or.reduce(cond, axis=tuple(range(any_over))))
        shape = [self.layout.shape[a] for a in order[any_over:]]
        # Merge neighbouring axes the conditions both vary along, or both ignore: fewer, longer loops.
        merged_cond, merged = [], []
        for c, n in zip(cond.shape, shape):
            if merged and (c == 1) == (merged_cond[-1] == 1):
                merged_cond[-1] *= c
                merged[-1] *= n
            else:
                merged_cond.append(c)
                merged.append(n)
        full = np.empty(merged, dtype=bool)
        full[...] = cond.reshape(merged_cond)
        return full.reshape(shape)


def input_mask(geometry, mask) -> np.ndarray:
    """A data mask as a bool array (B, G, C, IY, IX); accepts ONNX's (B, G*C, IY, IX) and, for B = 1, (G*C, IY, IX)."""
    g = geometry
    shape = (g.B, g.G, g.C, g.y.inp, g.x.inp)
    arr = np.asarray(mask, dtype=bool)
    if arr.size != prod(shape):
        raise ValueError(f"the data mask has shape {arr.shape}; expected {shape} (or the ONNX 4-D layout)")
    return arr.reshape(shape)
