"""A mapped layer as the engine and the reference simulator both see it: loops, levels, ports.

This is the only thing the engine and `validation/` share: a frozen, ZigZag-free description of one
temporal + spatial mapping on one memory hierarchy. `zz_event.zigzag.adapter` builds it from a ZigZag
CostModelEvaluation; tests build it directly.

Conventions
- Loop dimensions: B, G, K, C and per spatial axis a position dimension (IY/IX for input-centric
  layers, OY/OX for output-centric ones) and a tap dimension (FY/FX).
- A dimension's index is a mixed-radix number over its loops: first its spatial loops (in the order
  given), then its temporal loops from inner to outer; the first is the least significant digit.
  Indices past the dimension's size (loops whose product overshoots it) are not iterations. A temporal
  loop of size 1 is no loop: the engine counts the nest without it (`LoopNest.without_unit_loops`).
- `temporal` is inner to outer. Each operand's levels are innermost first; level j owns the temporal
  loops with index < `levels[j].top` that lower levels do not own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

from zz_event.model.geometry import ConvGeometry
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS

__all__ = ["DIRECTIONS", "OPERANDS", "Loop", "LoopNest", "MemLevel", "Port", "SpatialLoop"]

Centric = Literal["input", "output"]
_SHAPE_IDS: dict[tuple, int] = {}  # see LoopNest.shape_id; one entry per layer and spatial mapping seen
_CACHED = frozenset({"_dim_sizes", "shape_id", "loop_pairs"})  # LoopNest's cached properties


@dataclass(frozen=True)
class Loop:
    dim: str
    size: int


@dataclass(frozen=True)
class SpatialLoop:
    array_dim: str
    dim: str
    size: int


@dataclass(frozen=True)
class Port:
    """The physical port one direction of one operand uses at one level (bits per cycle)."""

    name: str
    bw_min: int
    bw_max: int


@dataclass(frozen=True)
class MemLevel:
    """One memory level of one operand."""

    name: str
    top: int  # temporal loops [0, top) are at or below this level
    served: frozenset[str]  # array dimensions one instance of this memory serves
    read_cost: float  # pJ per word read
    write_cost: float  # pJ per word written
    ports: dict[str, Port] = field(default_factory=dict)  # direction -> port
    psum: bool = False  # ZigZag's static flag: this (output) level holds partial sums
    size_bits: int = 0  # capacity of one instance (ZigZag's double-buffering test); 0: unknown, assumed ample


@dataclass(frozen=True, eq=False)  # hashed by identity: the engine memoises per nest
class LoopNest:
    geometry: ConvGeometry
    centric: Centric
    temporal: tuple[Loop, ...]
    spatial: tuple[SpatialLoop, ...]
    levels: dict[str, tuple[MemLevel, ...]]
    precision: dict[str, int]  # W, I, O (partial sums), O_final
    mac_energy: float = 0.0  # pJ per MAC
    # ZigZag's own coefficients of the input-centric relation o = a*i + b*f, used only to index outputs
    # in the dense (unfiltered) count, which is what ZigZag intends to count for such a layer.
    dense_relation: dict[str, tuple[int, int]] = field(default_factory=lambda: {"Y": (1, 1), "X": (1, 1)})
    # Array dimensions along which results drain one unit per cycle after the last step (ZigZag's
    # `systolic_dimensions`): latency only.
    systolic: frozenset[str] = frozenset()

    @property
    def position_dims(self) -> tuple[str, str]:
        return ("IY", "IX") if self.centric == "input" else ("OY", "OX")

    def dim_size(self, dim: str) -> int:
        return self._dim_sizes[dim]

    @cached_property
    def _dim_sizes(self) -> dict[str, int]:
        g = self.geometry
        return {
            "B": g.B, "G": g.G, "K": g.K, "C": g.C, "FY": g.y.kernel, "FX": g.x.kernel,
            "IY": g.y.inp, "IX": g.x.inp, "OY": g.OY, "OX": g.OX,
        }

    @cached_property
    def shape_id(self) -> int:
        """One small integer per distinct (geometry, centric, spatial loops, dense relation): the part of
        the engine's memo keys that all mappings of one layer and spatial mapping share, hashed once per
        nest instead of at every lookup."""
        shape = (self.geometry, self.centric, self.spatial, tuple(sorted(self.dense_relation.items())))
        return _SHAPE_IDS.setdefault(shape, len(_SHAPE_IDS))

    @cached_property
    def loop_pairs(self) -> tuple[tuple[str, int], ...]:
        """The temporal loops as (dim, size) pairs, inner to outer (cheap to hash, for memo keys)."""
        return tuple((loop.dim, loop.size) for loop in self.temporal)

    def __getstate__(self) -> dict:
        # Cached values stay behind: shape ids number shapes per process, so one carried to another
        # process could name a different shape there.
        return {k: v for k, v in self.__dict__.items() if k not in _CACHED}

    @property
    def temporal_steps(self) -> int:
        steps = 1
        for loop in self.temporal:
            steps *= loop.size
        return steps

    def without_unit_loops(self) -> LoopNest:
        """This nest without its temporal loops of size 1 (levels' tops renumbered), or itself if it has
        none. A loop that runs once changes nothing, but the engine's residency rules read a relevant loop
        as a change of data whatever its size, so the engine's front doors count this nest instead."""
        temporal = self.temporal
        if all(loop.size != 1 for loop in temporal):
            return self
        kept = [t for t, loop in enumerate(temporal) if loop.size != 1]
        below = [sum(1 for t in kept if t < top) for top in range(len(temporal) + 1)]  # kept loops under a top
        levels = {op: tuple(replace(m, top=below[m.top]) for m in ms) for op, ms in self.levels.items()}
        return replace(self, temporal=tuple(temporal[t] for t in kept), levels=levels)

    def without_unit_loops_at(self, n_inner: int) -> tuple[LoopNest, int]:
        """`without_unit_loops()` and the boundary above the loops [0, n_inner) renumbered with it."""
        return self.without_unit_loops(), n_inner - sum(1 for loop in self.temporal[:n_inner] if loop.size == 1)
