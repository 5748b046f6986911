"""One search run: ZigZag's inputs read and parsed, each layer's spatial mappings searched by `SearchStage`."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
from zigzag.stages.workload_iterator import WorkloadStage

from zz_event.engine.result import EngineOptions
from zz_event.readers.inputs import ZigZagInputs, read_zigzag_inputs
from zz_event.search.stage import SearchLog, SearchProgress, SearchStage
from zz_event.zigzag.pipeline import PreparedWorkloadParserStage, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings

__all__ = ["run_search"]


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
    correction = CorrectionSettings.for_workload(inputs.workload, options=event_driven, workers=0)
    log = SearchLog(opt, top_k, lpf_limit, progress, layers)
    stages = [PreparedWorkloadParserStage, AcceleratorParserStage, WorkloadStage, SpatialMappingGeneratorStage,
              SearchStage]
    with tempfile.TemporaryDirectory(prefix="zz-event-search-") as scratch:  # ZigZag's stages want a dump folder
        main_stage(stages, settings, correction, accelerator=accelerator, workload=inputs.workload.zigzag_workload,
                   mapping=inputs.mapping, zz_event_search=log, dump_folder=scratch,
                   pickle_filename=os.path.join(scratch, "cmes.pickle")).run()
    return log, inputs
