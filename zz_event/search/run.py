"""One search run: ZigZag's inputs read and parsed, each layer's spatial mappings searched by `SearchStage`."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
from zigzag.stages.stage import Stage
from zigzag.stages.workload_iterator import WorkloadStage

from zz_event.engine.result import EngineOptions
from zz_event.readers.inputs import ZigZagInputs, read_zigzag_inputs
from zz_event.search.stage import LayerSpace, SearchLog, SearchProgress, SearchStage
from zz_event.zigzag.pipeline import PreparedWorkloadParserStage, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings

__all__ = ["LayerSpace", "layer_spaces", "run_search"]

_SEARCH_STAGES = [PreparedWorkloadParserStage, AcceleratorParserStage, WorkloadStage, SpatialMappingGeneratorStage]


def run_search(workload: Any, accelerator: str, mapping: str, *, opt: str = "energy", lpf_limit: int = 8,
               top_k: int = 5, layers: tuple[str, ...] | None = None, nb_spatial_mappings_generated: int = 3,
               event_driven: EngineOptions = EngineOptions(), progress: SearchProgress | None = None,
               inputs: ZigZagInputs | None = None) -> tuple[SearchLog, ZigZagInputs]:
    """Search every layer (or `layers`) of `workload` on `accelerator` with the spatial mappings ZigZag
    generates from `mapping`; returns the log of what was found and the inputs as read."""
    settings = RunSettings(opt=opt, lpf_limit=lpf_limit, nb_spatial_mappings_generated=nb_spatial_mappings_generated,
                           loma_show_progress_bar=False)
    if inputs is None:
        inputs = read_zigzag_inputs(workload, accelerator, mapping)
    correction = CorrectionSettings.for_workload(inputs.workload, options=event_driven)
    log = SearchLog(opt, top_k, lpf_limit, progress, layers)
    _run([*_SEARCH_STAGES, SearchStage], settings, correction, accelerator, inputs, zz_event_search=log)
    return log, inputs


class _SpaceStage(Stage):
    """A leaf that hands up each layer's spatial mapping as a `LayerSpace`."""

    def __init__(self, list_of_callables, *, accelerator, layer, spatial_mapping, spatial_mapping_int,
                 temporal_mapping_type, zz_event, **kwargs):
        super().__init__(list_of_callables, **kwargs)
        self.space = LayerSpace(accelerator, layer, spatial_mapping, spatial_mapping_int, temporal_mapping_type,
                                zz_event, layer.spatial_mapping)

    def is_leaf(self) -> bool:
        return True

    def run(self):
        yield self.space, None


def layer_spaces(workload: Any, accelerator: str, mapping: str, layer: str,
                 nb_spatial_mappings_generated: int = 3) -> list[LayerSpace]:
    """The spatial mappings ZigZag generates for `layer`, with its parsed layer and accelerator (for tests and
    benchmarks that run LOMA beside the search)."""
    settings = RunSettings(nb_spatial_mappings_generated=nb_spatial_mappings_generated, loma_show_progress_bar=False)
    inputs = read_zigzag_inputs(workload, accelerator, mapping)
    correction = CorrectionSettings.for_workload(inputs.workload)
    found = _run([*_SEARCH_STAGES, _SpaceStage], settings, correction, accelerator, inputs)
    return [space for space, _ in found if space.layer.name == layer]


def _run(stages: list, settings: RunSettings, correction: CorrectionSettings, accelerator: str,
         inputs: ZigZagInputs, **extra: Any) -> list:
    with tempfile.TemporaryDirectory(prefix="zz-event-search-") as scratch:  # ZigZag's stages want a dump folder
        return main_stage(stages, settings, correction, accelerator=accelerator,
                          workload=inputs.workload.zigzag_workload, mapping=inputs.mapping, dump_folder=scratch,
                          pickle_filename=os.path.join(scratch, "cmes.pickle"), **extra).run()
