"""The exact engine's cost of each ordering of one layer and spatial mapping, without ZigZag's cost model.

An ordering and its allocation become the same `LoopNest` the correction builds from a CME
(`NestContext.nest` of the loops, the loops each level owns and ZigZag's partial-sum flags), so the
counts are `evaluate`'s, bit for bit. The engine memoises what orderings share (`evaluate`'s operand and
order-free memos, keyed by structure); an operand's view of every boundary is often the same for many
orderings, so most of a mapping's cost is looked up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from zz_event.engine.evaluate import energy_pj, evaluate
from zz_event.engine.result import EngineOptions, EngineResult
from zz_event.model.geometry import ConvGeometry
from zz_event.model.nest import SpatialLoop
from zz_event.model.vocabulary import OPERANDS
from zz_event.search.allocation import Allocation, Allocator
from zz_event.search.orderings import Lpf
from zz_event.zigzag.adapter import CmeMapping, NestContext, context_for
from zz_event.zigzag.psum_flags import PsumFlags

__all__ = ["MappingCost", "SpaceCoster", "spatial_loops"]


class MappingCost(NamedTuple):
    """One mapping's engine cost: energy (pJ, `EngineResult.energy_pj`) and latency (cycles)."""

    energy_pj: float
    latency_cycles: int


def spatial_loops(unrolling: Any) -> tuple[SpatialLoop, ...]:
    """A layer's spatial unrolling (ZigZag's `SpatialMapping`, `layer.spatial_mapping` while ZigZag searches it)
    as the correction reads it (`adapter.context_of_cme`): ZigZag's fractional unrolling of a dimension the array
    does not divide is the whole array width."""
    return tuple(
        SpatialLoop(str(oa_dim), str(dim), math.ceil(size - 1e-9))
        for oa_dim, single in unrolling.items()
        for dim, size in single.items()
        if math.ceil(size - 1e-9) > 1
    )


@dataclass
class SpaceCoster:
    """Allocation and engine cost of the orderings of one layer, accelerator and spatial mapping."""

    context: NestContext
    allocator: Allocator
    psum: PsumFlags
    options: EngineOptions

    @classmethod
    def build(cls, accelerator: Any, layer: Any, spatial_mapping: Any, options: EngineOptions,
              geometry: tuple[ConvGeometry, str] | None = None, unrolling: Any = None) -> SpaceCoster:
        """`unrolling`: the user-format spatial mapping of `spatial_mapping` (default `layer.spatial_mapping`,
        which ZigZag sets to the one it is searching)."""
        geo, centric = geometry if geometry else (None, None)
        loops = spatial_loops(layer.spatial_mapping if unrolling is None else unrolling)
        context = context_for(layer, accelerator, loops, geo, centric)
        return cls(context, Allocator(accelerator, layer, spatial_mapping), PsumFlags(layer, spatial_mapping),
                   options)

    def mapping(self, ordering: tuple[Lpf, ...], allocation: Allocation) -> CmeMapping:
        """The correction's description of a mapping (`adapter.CmeMapping`) for an ordering and its allocation."""
        owned = dict(zip(self.allocator.operands, allocation))
        out = owned["O"]
        levels, start = [], 0
        for n in out:
            levels.append(ordering[start:start + n])
            start += n
        return tuple(ordering), tuple(owned[op] for op in OPERANDS), self.psum.flags(tuple(levels))

    def result(self, ordering: tuple[Lpf, ...]) -> tuple[CmeMapping, EngineResult] | None:
        """The engine's result for `ordering`, or None if LOMA's allocation finds it does not fit."""
        mapping = self.fitting(ordering)
        return None if mapping is None else (mapping, evaluate(self.context.nest(mapping), self.options))

    def energy(self, ordering: tuple[Lpf, ...]) -> tuple[CmeMapping, float] | None:
        """`evaluate(...).energy_pj` of `ordering` without the latency, or None if it does not fit."""
        mapping = self.fitting(ordering)
        return None if mapping is None else (mapping, energy_pj(self.context.nest(mapping), self.options))

    def fitting(self, ordering: tuple[Lpf, ...]) -> CmeMapping | None:
        """The mapping of `ordering` with LOMA's allocation, or None if it does not fit."""
        allocation = self.allocator.allocate(ordering)
        return None if allocation is None else self.mapping(ordering, allocation)

    def cost(self, ordering: tuple[Lpf, ...]) -> tuple[CmeMapping, MappingCost] | None:
        found = self.result(ordering)
        if found is None:
            return None
        mapping, result = found
        return mapping, MappingCost(result.energy_pj, result.latency_cycles)
