"""Spatial unrollings of an input-centric layer for Stream's event modes: the candidates, and a cheap lower bound on
each one's latency that lets :mod:`zz_event.stream.costing` search them exactly.

Candidates. Per operational-array dimension, every combination of the input-centric loops :data:`SEARCH_DIMS`
(``K, C, IY, IX, FY, FX``; batch and groups are never unrolled) whose factors are non-trivial divisors of ZigZag's
own maximal unrolling of that loop there (``SpatialMappingGeneratorStage.get_max_unrolling``: the loop size, the
array dimension and the innermost memories' bandwidth per operand element), with a product that fits the array
dimension -- the rule ZigZag's generator applies to frame mode's mixed unrollings. Stride, dilation and padding need
no rule of their own: the engine counts only the valid MACs of whatever the array holds, so an unrolling that the
geometry leaves idle costs its idle cycles.

Lower bound. Whatever the temporal mapping, a layer's latency is at least its compute cycles, and those depend on
the spatial unrolling alone (``zz_event.engine.evaluate.compute_cycles``: a dimension's temporal digits cover the
same index range in any loop order). In mode ``event`` they are the engine's temporal steps with an executed MAC
(with data: the mean over the samples ranked on); in ``event-raw`` ZigZag's ``ideal_temporal_cycle``, every
temporal step (ZigZag's stalls, on- and off-loading are never negative). A search that visits candidates by
increasing bound can stop at the first bound above the best latency found: that is exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from zz_event.engine.result import EngineOptions
from zz_event.model.geometry import ConvGeometry
from zz_event.model.nest import LoopNest, SpatialLoop
from zz_event.model.vocabulary import OPERANDS

__all__ = ["SEARCH_DIMS", "Unrolling", "candidates", "latency_bound", "loop_sizes"]

SEARCH_DIMS = ("K", "C", "IY", "IX", "FY", "FX")
_OPTIONS = EngineOptions(filter=True, readiness=True)


@dataclass(frozen=True, order=True)
class Unrolling:
    """A spatial unrolling: per array dimension, ``(loop, factor)`` pairs (factors above one)."""

    per_array_dim: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]

    @classmethod
    def of(cls, mapping: Mapping[str, Mapping[str, int]]) -> Unrolling:
        """From ``{array dim: {loop: factor}}``; factors of one are dropped."""
        return cls(tuple(sorted((str(oa), tuple((str(d), int(f)) for d, f in loops.items() if int(f) > 1))
                                for oa, loops in mapping.items())))  # fmt: skip

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {oa: dict(loops) for oa, loops in self.per_array_dim}

    def mapping_entry(self) -> dict[str, list[str]]:
        """ZigZag's mapping-file ``spatial_mapping`` (an array dimension left empty unrolls ``K`` once)."""
        return {oa: [f"{d}, {f}" for d, f in loops] or ["K, 1"] for oa, loops in self.per_array_dim}

    def factor(self, dim: str) -> int:
        return math.prod(f for _oa, loops in self.per_array_dim for d, f in loops if d == dim)

    def units(self) -> int:
        """Processing elements the unrolling occupies."""
        return math.prod(f for _oa, loops in self.per_array_dim for _d, f in loops)

    def loops(self) -> tuple[SpatialLoop, ...]:
        """As the engine's spatial loops."""
        return tuple(SpatialLoop(oa, d, f) for oa, loops in self.per_array_dim for d, f in loops)

    def label(self) -> str:
        return "; ".join(f"{oa}: " + (" x ".join(f"{d} {f}" for d, f in loops) or "none")
                         for oa, loops in self.per_array_dim)  # fmt: skip


def loop_sizes(g: ConvGeometry) -> dict[str, int]:
    """The input-centric layer's loop sizes."""
    return {"B": g.B, "K": g.K, "C": g.C, "IY": g.y.inp, "IX": g.x.inp, "FY": g.y.kernel, "FX": g.x.kernel}


def candidates(max_unrolling: Mapping[str, Mapping[str, int]], array: Mapping[str, int],
               sizes: Mapping[str, int]) -> list[Unrolling]:
    """Every unrolling of :data:`SEARCH_DIMS` that fits (see the module docstring), in a fixed order.
    ``max_unrolling``: ZigZag's per array dimension and loop; ``array``: the array dimensions' sizes."""
    per_dim = [[(str(oa), combo) for combo in _single_dim(max_unrolling.get(oa, {}), int(size))]
               for oa, size in sorted(array.items(), key=lambda item: str(item[0]))]  # fmt: skip
    out = []
    for choice in _product(per_dim):
        total: dict[str, int] = {}
        for _oa, combo in choice:
            for d, f in combo:
                total[d] = total.get(d, 1) * f
        if all(f <= sizes[d] for d, f in total.items()):
            out.append(Unrolling(tuple(choice)))
    return sorted(out)


def _single_dim(limits: Mapping[str, int], size: int) -> Iterator[tuple[tuple[str, int], ...]]:
    factors = {d: [f for f in range(2, int(limits.get(d, 1)) + 1) if int(limits[d]) % f == 0] for d in SEARCH_DIMS}

    def extend(i: int, room: int, chosen: tuple) -> Iterator[tuple]:
        if i == len(SEARCH_DIMS):
            yield chosen
            return
        yield from extend(i + 1, room, chosen)
        for f in factors[SEARCH_DIMS[i]]:
            if f <= room:
                yield from extend(i + 1, room // f, (*chosen, (SEARCH_DIMS[i], f)))

    yield from extend(0, size, ())


def _product(lists: list[list]) -> Iterator[list]:
    if not lists:
        yield []
        return
    for head in lists[0]:
        for tail in _product(lists[1:]):
            yield [head, *tail]


def latency_bound(context: Any, unrolling: Unrolling, mode: str, masks: Any = None) -> float:
    """A lower bound on the steady latency of every mapping with ``unrolling`` (see the module docstring).
    ``context``: the layer's ``zz_event.zigzag.adapter.NestContext`` on the core with this unrolling; ``masks``
    (samples, ...) in mode ``event``: the mean over the samples of each sample's bound."""
    sizes = loop_sizes(context.geometry)
    temporal = {d: -(-sizes[d] // unrolling.factor(d)) for d in sizes}
    if mode != "event":
        return float(math.prod(temporal.values()))
    from zz_event.engine.evaluate import evaluate, evaluate_samples  # noqa: PLC0415 -- the engine, on first use

    nest = _bound_nest(context, temporal)
    results = [evaluate(nest, _OPTIONS)] if masks is None else evaluate_samples(nest, _OPTIONS, masks)
    level = nest.levels["O"][0]
    instances = math.prod(sl.size for sl in nest.spatial if sl.array_dim not in level.served)
    bounds = [max(r.compute_cycles, -(-r.levels["O"][0].words["wr_in_by_low"] // instances)) for r in results]
    return float(sum(bounds)) / len(bounds)


def _bound_nest(context: Any, temporal: Mapping[str, int]) -> LoopNest:
    """One temporal loop per dimension, all in the innermost level of every operand; partial sums and finals at the
    smaller of their precisions. Only the order-free figures of this nest are read: its compute cycles and the
    outputs the MAC array writes up each step (outputs have no accumulator in the MAC, so every executed step writes
    every output it touches, once after the adder tree, whatever the order or the levels)."""
    loops = tuple((d, n) for d, n in temporal.items() if n > 1) or (("K", 1),)
    owned = tuple((len(loops),) + (0,) * (len(context.levels[op]) - 1) for op in OPERANDS)
    psum = (False,) * len(context.levels["O"])
    nest = context.nest((loops, owned, psum))
    low = min(nest.precision["O"], nest.precision["O_final"])
    return replace(nest, precision={**nest.precision, "O": low, "O_final": low})
