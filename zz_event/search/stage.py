"""The ZigZag stage that searches a layer's temporal mappings with the exact engine alone.

`SearchStage` takes the place of ZigZag's temporal-mapping generator and cost model below the spatial-mapping
generator: for each spatial mapping it enumerates LOMA's orderings (`orderings`), allocates each as LOMA does
(`allocation`), costs it with the engine (`costing`) and keeps the best `top_k` by `opt`; only those become
ZigZag CostModelEvaluations, corrected as `zz-event run` corrects them, which it yields best first. What it
found is recorded in the run's `SearchLog` (the stage's `zz_event_search` keyword). `search_space` builds the
best's CostModelEvaluation at once and the others' when first asked for (`Found.cme`): the stage yields every
one, the CLI reports and writes every one, a caller that wants only the best pays for one. They are built by one
`CmeBuilder` per search, which shares what ZigZag's constructor would redo for each (`zigzag.cme_builder`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from zigzag.mapping.temporal_mapping import TemporalMapping
from zigzag.stages.stage import Stage

from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineResult
from zz_event.errors import MappingError
from zz_event.interruption import raise_if_interrupted
from zz_event.search.costing import SpaceCoster
from zz_event.search.orderings import Lpf, loop_factors, orderings
from zz_event.search.pruned import BoundedEnergy
from zz_event.search.ranking import TopK, score
from zz_event.zigzag.adapter import CmeMapping, layer_is_correctable
from zz_event.zigzag.cme_builder import CmeBuilder
from zz_event.zigzag.corrected_cme import correct_cme_with
from zz_event.zigzag.correction import limit_reason
from zz_event.zigzag.settings import CorrectionSettings

__all__ = ["Found", "LayerSpace", "SearchLog", "SearchProgress", "SearchStage", "SpatialSearch", "search_space"]


class SearchProgress(Protocol):
    """What a search reports as it goes (the CLI draws a bar from it; the library never prints)."""

    def start(self, layer: str, spatial_index: int, orderings: int) -> None: ...

    def advance(self, mappings: int) -> None: ...


@dataclass(frozen=True)
class Found:
    """One of the best mappings: its ordering (innermost loop first), the correction's description of it,
    the engine's result and (`cme`) ZigZag's corrected CostModelEvaluation of it."""

    rank: int
    ordering: tuple[Lpf, ...]
    mapping: CmeMapping
    result: EngineResult
    build: Callable[[], Any] = field(repr=False, compare=False)  # makes `cme`

    @cached_property
    def cme(self) -> Any:
        """ZigZag's corrected CostModelEvaluation, built on first use."""
        return self.build()


@dataclass
class SpatialSearch:
    """What the search of one spatial mapping of one layer found."""

    layer: str
    spatial_index: int
    spatial_mapping: dict[str, dict[str, float]]
    orderings: int
    # Orderings ranked: those that fit the memories (LOMA skips the others), and with opt energy those the bound
    # rules out (`pruned`: a whole prefix at a time, not allocated; fitting or not, none of them can rank).
    ranked: int
    costed: int  # orderings costed in full (all that fit, but for those ruled out)
    cpu_seconds: float
    best: list[Found]


@dataclass
class SearchLog:
    """What a run's searches found, layer by layer; `skipped`: layer name -> why it was not searched."""

    opt: str
    top_k: int
    lpf_limit: int
    progress: SearchProgress | None = None
    layers: tuple[str, ...] | None = None
    searches: list[SpatialSearch] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    bound: bool = True  # opt energy: skip the orderings whose energy bound cannot rank (the best are the same)


_PROGRESS_EVERY = 512


@dataclass
class LayerSpace:
    """ZigZag's parsed objects of one layer and spatial mapping: what a search (or LOMA) starts from."""

    accelerator: Any
    layer: Any
    spatial_mapping: Any
    spatial_mapping_int: Any
    temporal_mapping_type: Any
    correction: CorrectionSettings
    unrolling: Any  # the user-format spatial mapping (ZigZag's `layer.spatial_mapping` while it was current)


class SearchStage(Stage):
    """A leaf stage below `SpatialMappingGeneratorStage` (see the module docstring)."""

    def __init__(self, list_of_callables, *, accelerator, layer, spatial_mapping, spatial_mapping_int,
                 temporal_mapping_type, zz_event: CorrectionSettings, zz_event_search: SearchLog, **kwargs: Any):
        super().__init__(list_of_callables, **kwargs)
        self.space = LayerSpace(accelerator, layer, spatial_mapping, spatial_mapping_int, temporal_mapping_type,
                                zz_event, layer.spatial_mapping)
        self.log = zz_event_search

    def is_leaf(self) -> bool:
        return True

    def run(self):
        layer, log = self.space.layer, self.log
        name = layer.name
        if log.layers is not None and name not in log.layers:
            return
        reason = self.space.correction.uncorrected.get(name) or layer_is_correctable(layer)
        if reason:
            log.skipped[name] = reason
            return
        search = search_space(self.space, log, sum(1 for s in log.searches if s.layer == name))
        log.searches.append(search)
        for found in search.best:
            yield found.cme, None


def search_space(space: LayerSpace, log: SearchLog, index: int = 0) -> SpatialSearch:
    """Search one layer's spatial mapping: every ordering allocated and costed, the best `log.top_k` by
    `log.opt` built as corrected ZigZag CMEs. `index`: the spatial mapping's number within the layer."""
    started = time.process_time()
    layer = space.layer
    lpfs = loop_factors(space.accelerator, layer, space.spatial_mapping, log.lpf_limit)
    coster = SpaceCoster.build(space.accelerator, layer, space.spatial_mapping, space.correction.options,
                               space.correction.geometries.get(layer.name), space.unrolling)
    progress = log.progress
    if progress is not None:
        progress.start(layer.name, index, lpfs.count)
    top = TopK(log.top_k)
    by_energy = BoundedEnergy(coster, top, log.bound) if log.opt == "energy" else None  # latency: the best only
    ranked = seen = pending = 0

    def advance(n: int) -> None:  # n more orderings done: the progress hears of them in batches
        nonlocal seen, pending
        seen += n
        pending += n
        if progress is not None and pending >= _PROGRESS_EVERY:
            progress.advance(pending)
            pending = 0

    if by_energy is not None:
        ranked = by_energy.walk(lpfs, advance)
    else:
        for ordering in orderings(lpfs):
            advance(1)
            found = coster.cost(ordering)
            if found is not None:
                top.offer(score(log.opt, *found[1]), ordering)
                ranked += 1
    if progress is not None and pending:
        progress.advance(pending)
    if not ranked:  # as `zz-event run` says when LOMA finds no valid temporal mapping
        where = ", ".join(f"{memory} ({count})" for memory, count in coster.allocator.overflows.most_common())
        raise MappingError(f"layer {layer.name!r}: none of its {seen} loop orderings fits the memories; "
                           f"orderings that overflow each: {where}")
    builder = CmeBuilder(space.accelerator, layer, space.spatial_mapping, space.spatial_mapping_int)
    best = [_found(space, rank, coster, builder, ordering) for rank, (_, ordering) in enumerate(top.best())]
    if best:
        best[0].cme  # noqa: B018 -- the best's CME is part of every search; the others' are built when asked for
    spatial = {str(oa): {str(d): s for d, s in single.items()} for oa, single in space.unrolling.items()}
    costed = ranked if by_energy is None else by_energy.costed
    return SpatialSearch(layer.name, index, spatial, lpfs.count, ranked, costed, time.process_time() - started,
                         best)


def _found(space: LayerSpace, rank: int, coster: SpaceCoster, builder: CmeBuilder,
           ordering: tuple[Lpf, ...]) -> Found:
    """One of the best orderings, its engine result and the means to build its corrected CME."""
    mapping, result = coster.result(ordering)
    return Found(rank, ordering, mapping, result,
                 lambda: _corrected_cme(space, coster, builder, ordering, mapping, result))


def _corrected_cme(space: LayerSpace, coster: SpaceCoster, builder: CmeBuilder, ordering: tuple[Lpf, ...],
                   mapping: CmeMapping, result: EngineResult) -> Any:
    """ZigZag's CostModelEvaluation of `ordering`, corrected with the engine's `result` for it, which the search
    already holds (`correct_cme` would read the same nest back from the CME and count it again)."""
    layer = space.layer
    dims = {str(d): d for d in layer.layer_dim_sizes.data}
    allocation = dict(zip(coster.allocator.operands, coster.allocator.allocate(ordering)))
    temporal = {}
    for layer_op in layer.layer_operands:
        levels, start = [], 0
        for n in allocation[str(layer_op)]:
            levels.append([(dims[d], s) for d, s in ordering[start:start + n]])
            start += n
        temporal[layer_op] = levels
    # ZigZag's cost model and the correction read the layer's current spatial mapping: the one searched (a
    # CME built after the search has moved on puts back the one current then).
    current, layer.spatial_mapping = layer.spatial_mapping, space.unrolling
    try:
        cme = builder.build(TemporalMapping(temporal, layer, space.temporal_mapping_type))
        raise_if_interrupted()  # ZigZag's evaluation may have swallowed it
    finally:
        layer.spatial_mapping = current
    settings = space.correction
    try:
        variants = {v.label: evaluate(coster.context.nest(mapping), v) for v in settings.variants
                    if v != settings.options}
    except MemoryError as error:  # as `correct_cme`: a resource limit keeps ZigZag's cost
        cme.zz_event_uncorrected = limit_reason(error)
        return cme
    return correct_cme_with(cme, result, variants)
