"""The ZigZag stage that searches a layer's temporal mappings with the exact engine alone.

`SearchStage` takes the place of ZigZag's temporal-mapping generator and cost model below the spatial-mapping
generator: for each spatial mapping it enumerates LOMA's orderings (`orderings`), allocates each as LOMA does
(`allocation`), costs it with the engine (`costing`) and keeps the best `top_k` by `opt`; only those become
ZigZag CostModelEvaluations, corrected as `zz-event run` corrects them, which it yields best first. What it
found is recorded in the run's `SearchLog` (the stage's `zz_event_search` keyword).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.mapping.temporal_mapping import TemporalMapping
from zigzag.stages.stage import Stage

from zz_event.engine.result import EngineResult
from zz_event.search.costing import SpaceCoster
from zz_event.search.orderings import Lpf, loop_factors, orderings
from zz_event.search.ranking import TopK, score
from zz_event.zigzag.adapter import CmeMapping, layer_is_correctable
from zz_event.zigzag.correction import correct_cme
from zz_event.zigzag.settings import CorrectionSettings

__all__ = ["Found", "SearchLog", "SearchProgress", "SearchStage", "SpatialSearch"]


class SearchProgress(Protocol):
    """What a search reports as it goes (the CLI draws a bar from it; the library never prints)."""

    def start(self, layer: str, spatial_index: int, orderings: int) -> None: ...

    def advance(self, mappings: int) -> None: ...


@dataclass(frozen=True)
class Found:
    """One of the best mappings: its ordering (innermost loop first), the correction's description of it,
    the engine's result and ZigZag's corrected CostModelEvaluation of it."""

    rank: int
    ordering: tuple[Lpf, ...]
    mapping: CmeMapping
    result: EngineResult
    cme: Any


@dataclass
class SpatialSearch:
    """What the search of one spatial mapping of one layer found."""

    layer: str
    spatial_index: int
    spatial_mapping: dict[str, dict[str, float]]
    orderings: int
    evaluated: int  # orderings that fit the memories (LOMA skips the others)
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


_PROGRESS_EVERY = 512


class SearchStage(Stage):
    """A leaf stage below `SpatialMappingGeneratorStage` (see the module docstring)."""

    def __init__(self, list_of_callables, *, accelerator, layer, spatial_mapping, spatial_mapping_int,
                 temporal_mapping_type, zz_event: CorrectionSettings, zz_event_search: SearchLog, **kwargs: Any):
        super().__init__(list_of_callables, **kwargs)
        self.accelerator, self.layer = accelerator, layer
        self.spatial_mapping, self.spatial_mapping_int = spatial_mapping, spatial_mapping_int
        self.mapping_type = temporal_mapping_type
        self.correction, self.log = zz_event, zz_event_search

    def is_leaf(self) -> bool:
        return True

    def run(self):
        layer, log = self.layer, self.log
        name = layer.name
        if log.layers is not None and name not in log.layers:
            return
        reason = self.correction.uncorrected.get(name) or layer_is_correctable(layer)
        if reason:
            log.skipped[name] = reason
            return
        index = sum(1 for s in log.searches if s.layer == name)
        search = self._search(index)
        log.searches.append(search)
        for found in search.best:
            yield found.cme, None

    def _search(self, index: int) -> SpatialSearch:
        log = self.log
        started = time.process_time()
        lpfs = loop_factors(self.accelerator, self.layer, self.spatial_mapping, log.lpf_limit)
        coster = SpaceCoster.build(self.accelerator, self.layer, self.spatial_mapping, self.correction.options,
                                   self.correction.geometries.get(self.layer.name))
        if log.progress is not None:
            log.progress.start(self.layer.name, index, lpfs.count)
        top = TopK(log.top_k)
        evaluated = seen = 0
        for ordering in orderings(lpfs):
            seen += 1
            if log.progress is not None and seen % _PROGRESS_EVERY == 0:
                log.progress.advance(_PROGRESS_EVERY)
            if log.opt == "energy":  # the latency is needed for the best only
                found = coster.energy(ordering)
                if found is not None:
                    top.offer(found[1], ordering)
            else:
                found = coster.cost(ordering)
                if found is not None:
                    top.offer(score(log.opt, *found[1]), ordering)
            evaluated += found is not None
        if log.progress is not None:
            log.progress.advance(seen % _PROGRESS_EVERY)
        best = [self._found(rank, coster, ordering) for rank, (_, ordering) in enumerate(top.best())]
        spatial = {str(oa): {str(d): s for d, s in single.items()} for oa, single in self.layer.spatial_mapping.items()}
        return SpatialSearch(self.layer.name, index, spatial, lpfs.count, evaluated,
                             time.process_time() - started, best)

    def _found(self, rank: int, coster: SpaceCoster, ordering: tuple[Lpf, ...]) -> Found:
        """ZigZag's CostModelEvaluation of one of the best orderings, corrected."""
        mapping, result = coster.result(ordering)
        dims = {str(d): d for d in self.layer.layer_dim_sizes.data}
        allocation = dict(zip(coster.allocator.operands, coster.allocator.allocate(ordering)))
        temporal = {}
        for layer_op in self.layer.layer_operands:
            levels, start = [], 0
            for n in allocation[str(layer_op)]:
                levels.append([(dims[d], s) for d, s in ordering[start:start + n]])
                start += n
            temporal[layer_op] = levels
        cme = CostModelEvaluation(
            accelerator=self.accelerator, layer=self.layer, spatial_mapping=self.spatial_mapping,
            spatial_mapping_int=self.spatial_mapping_int,
            temporal_mapping=TemporalMapping(temporal, self.layer, self.mapping_type),
            access_same_data_considered_as_no_access=True,
        )
        return Found(rank, ordering, mapping, result, correct_cme(cme, self.correction))
