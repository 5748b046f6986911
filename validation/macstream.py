"""The MAC iterations of a loop nest, generated in step order, one block of temporal steps at a time.

A *step* is one iteration of the temporal loops (step id = mixed radix over `nest.temporal`, innermost
loop least significant, so step ids are time order). A *PE* is one combination of the spatial loops
(mixed radix over `nest.spatial`, first loop least significant). Every (step, PE) pair is a loop
iteration; it executes a MAC when every dimension index is in range and, with the boundary filter,
when both spatial axes pair a real input with a tap that reaches a real output.

A dimension's index is a mixed-radix number over its loops: its spatial loops first (in the order of
`nest.spatial`), then its temporal loops from inner to outer, the first one least significant.

Each MAC names one element per operand. Element ids are flat indices over the operand's dimensions
(W: G, K, C, wy, wx; I: B, G, C, iy, ix; O: B, G, K, oy, ox) where the per-axis index is the one the
counting rules use (design.md): with the filter the true indices; without it ZigZag's own relation
(input-centric: o = alpha*i + beta*f from `nest.dense_relation`; output-centric: i = s*o + d*f, padding
positions being elements like any other). Independently of the counting index, every MAC also carries
the *true* tensor indices used for the arithmetic (-1 where the MAC reaches no real output, or reads a
padding position).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.nest import LoopNest

__all__ = ["Layout", "Block", "blocks"]

UNCOUPLED = ("B", "G", "K", "C")


@dataclass(frozen=True)
class _Digit:
    size: int
    weight: int
    temporal: int | None  # index into nest.temporal
    spatial: int | None  # index into nest.spatial


class Layout:
    """Static facts about a nest: digits of every dimension, PE grid, element spaces, block size."""

    def __init__(self, nest: LoopNest, filtered: bool, block_iterations: int = 1 << 19) -> None:
        self.nest = nest
        self.filtered = filtered
        self.t_sizes = [int(loop.size) for loop in nest.temporal]
        self.s_sizes = [int(sl.size) for sl in nest.spatial]
        self.n_steps = prod(self.t_sizes)
        self.n_pe = prod(self.s_sizes)
        self.t_stride = [prod(self.t_sizes[:t]) for t in range(len(self.t_sizes))]
        self.s_stride = [prod(self.s_sizes[:s]) for s in range(len(self.s_sizes))]
        self.pos_y, self.pos_x = nest.position_dims
        dims = UNCOUPLED + (self.pos_y, self.pos_x, "FY", "FX")
        self.digits: dict[str, list[_Digit]] = {}
        self.overshoots: set[str] = set()
        for dim in dims:
            digits, weight = [], 1
            for s, sl in enumerate(nest.spatial):
                if sl.dim == dim:
                    digits.append(_Digit(sl.size, weight, None, s))
                    weight *= sl.size
            for t, loop in enumerate(nest.temporal):
                if loop.dim == dim:
                    digits.append(_Digit(loop.size, weight, t, None))
                    weight *= loop.size
            self.digits[dim] = digits
            if weight < nest.dim_size(dim):
                raise ValueError(f"the loops over {dim} span {weight} iterations but {dim} has size "
                                 f"{nest.dim_size(dim)}; the mapping does not cover the layer")
            if weight > nest.dim_size(dim):
                self.overshoots.add(dim)
        unknown = {loop.dim for loop in nest.temporal} | {sl.dim for sl in nest.spatial}
        unknown -= set(dims)
        if unknown:
            raise ValueError(f"loops over {sorted(unknown)}: not dimensions of a {nest.centric}-centric convolution")
        # The block: the innermost temporal loops whose steps times PEs stay within the budget.
        top = 0
        while top < len(self.t_sizes) and prod(self.t_sizes[: top + 1]) * self.n_pe <= block_iterations:
            top += 1
        self.block_top = top
        self.block_steps = prod(self.t_sizes[:top])
        self._pe = np.arange(self.n_pe, dtype=np.int64)
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

    # -- PE groups -----------------------------------------------------------------------------------
    def instances(self, served: frozenset[str]) -> tuple[np.ndarray, int]:
        """Instance id of every PE for a memory whose instance serves the array dimensions `served`."""
        inst = np.zeros(self.n_pe, dtype=np.int64)
        radix = 1
        for s, sl in enumerate(self.nest.spatial):
            if sl.array_dim not in served:
                inst += ((self._pe // self.s_stride[s]) % sl.size) * radix
                radix *= sl.size
        return inst, radix

    # -- dimension indices -----------------------------------------------------------------------------
    def dim_index(self, dim: str, steps: np.ndarray) -> np.ndarray:
        """Index of `dim` for every (step, PE): shape broadcastable to (len(steps), n_pe)."""
        t_part = np.zeros((len(steps), 1), dtype=np.int64)
        s_part = np.zeros((1, self.n_pe), dtype=np.int64)
        has_t = has_s = False
        for d in self.digits[dim]:
            if d.temporal is not None:
                t_part = t_part + ((steps[:, None] // self.t_stride[d.temporal]) % d.size) * d.weight
                has_t = True
            else:
                s_part = s_part + ((self._pe[None, :] // self.s_stride[d.spatial]) % d.size) * d.weight
                has_s = True
        if has_t and has_s:
            return t_part + s_part
        return t_part if has_t else s_part


@dataclass
class Block:
    """All loop iterations of a run of consecutive steps, as (steps, PEs) arrays."""

    step0: int
    n_steps: int
    mac: np.ndarray  # bool: this iteration executes a MAC
    elem: dict[str, np.ndarray]  # counting element id per operand (valid where `mac`)
    true_out: np.ndarray  # flat index into the real output tensor, -1 where it reaches no real output
    true_in: np.ndarray  # flat index into the real input tensor, -1 for a padding position
    dims: dict[str, np.ndarray]  # dimension index per loop dimension (broadcastable)


def _axis(layout: Layout, axis: str, pos: np.ndarray, tap: np.ndarray):
    """(counting index per operand, true input, true output, pair is a MAC) along one spatial axis."""
    nest = layout.nest
    geo = nest.geometry.y if axis == "Y" else nest.geometry.x
    if nest.centric == "input":
        shifted = pos + geo.pad_before - geo.dilation * tap
        out = shifted // geo.stride
        real = (shifted >= 0) & (shifted % geo.stride == 0) & (out < geo.out)
        true_in, true_out = pos, np.where(real, out, -1)
        if layout.filtered:
            return {"I": pos, "W": tap, "O": out}, true_in, true_out, real
        a, b = nest.dense_relation[axis]
        return {"I": pos, "W": tap, "O": a * pos + b * tap}, true_in, true_out, None
    inp = pos * geo.stride + tap * geo.dilation - geo.pad_before
    real = (inp >= 0) & (inp < geo.inp)
    true_in, true_out = np.where(real, inp, -1), pos
    if layout.filtered:
        return {"I": inp, "W": tap, "O": pos}, true_in, true_out, real
    return {"I": pos * geo.stride + tap * geo.dilation, "W": tap, "O": pos}, true_in, true_out, None


def _flat(parts: list[np.ndarray], extents: tuple[int, ...]) -> np.ndarray:
    idx = np.zeros((1, 1), dtype=np.int64)
    for part, ext in zip(parts, extents):
        idx = idx * ext + part
    return idx


def make_block(layout: Layout, step0: int, n_steps: int) -> Block:
    nest, g = layout.nest, layout.nest.geometry
    steps = np.arange(step0, step0 + n_steps, dtype=np.int64)
    dims = {dim: layout.dim_index(dim, steps) for dim in layout.digits}
    shape = (n_steps, layout.n_pe)
    mac = np.ones(shape, dtype=bool)
    for dim in layout.overshoots:
        mac &= dims[dim] < nest.dim_size(dim)
    per_axis = {}
    for axis, pos_dim in (("Y", layout.pos_y), ("X", layout.pos_x)):
        ops, t_in, t_out, real = _axis(layout, axis, dims[pos_dim], dims["F" + axis])
        per_axis[axis] = (ops, t_in, t_out)
        if real is not None:
            mac &= real
    b, gg, k, c = dims["B"], dims["G"], dims["K"], dims["C"]
    ey, ex = per_axis["Y"][0], per_axis["X"][0]
    elem = {
        "W": _flat([gg, k, c, ey["W"], ex["W"]], layout.extent["W"]),
        "I": _flat([b, gg, c, ey["I"], ex["I"]], layout.extent["I"]),
        "O": _flat([b, gg, k, ey["O"], ex["O"]], layout.extent["O"]),
    }
    (_, iy, oy), (_, ix, ox) = per_axis["Y"], per_axis["X"]
    true_in = np.where((iy >= 0) & (ix >= 0), _flat([b, gg, c, iy, ix], (g.B, g.G, g.C, g.y.inp, g.x.inp)), -1)
    true_out = np.where((oy >= 0) & (ox >= 0), _flat([b, gg, k, oy, ox], (g.B, g.G, g.K, g.OY, g.OX)), -1)
    elem = {op: np.broadcast_to(e, shape) for op, e in elem.items()}
    return Block(step0, n_steps, mac, elem, np.broadcast_to(true_out, shape), np.broadcast_to(true_in, shape), dims)


def blocks(layout: Layout):
    """Blocks of `layout.block_steps` consecutive steps, in time order."""
    for step0 in range(0, layout.n_steps, layout.block_steps):
        yield make_block(layout, step0, layout.block_steps)
