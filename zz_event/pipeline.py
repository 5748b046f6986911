"""ZigZag's stage list, rebuilt with zz-event's stages in it (what `zigzag.api` hard-codes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
from zigzag.stages.exploit_data_locality_stages import (
    ExploitInterLayerDataLocalityStage,
    SearchInterLayerDataLocalityStage,
)
from zigzag.stages.mapping.salsa import SalsaStage
from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
from zigzag.stages.parser.workload_parser import WorkloadParserStage
from zigzag.stages.results.reduce_stages import MinimalEDPStage, MinimalEnergyStage, MinimalLatencyStage, SumStage
from zigzag.stages.results.save import CompleteSaveStage, PickleSaveStage, SimpleSaveStage
from zigzag.stages.results.visualization import VisualizationStage
from zigzag.stages.workload_iterator import WorkloadStage

from zigzag.parser.mapping_validator import MappingValidator
from zigzag.stages.stage import Stage

from zz_event.errors import ZzEventError
from zz_event.zigzag_stages import EventDrivenCorrectionStage

__all__ = ["RunSettings", "build_stages", "PreparedWorkloadParserStage"]


class PreparedWorkloadParserStage(WorkloadParserStage):
    """ZigZag's workload parser, also taking the mapping as data (zz-event translates mappings in memory)."""

    def __init__(self, list_of_callables, *, workload, mapping, **kwargs):
        Stage.__init__(self, list_of_callables, **kwargs)
        self.workload = workload
        self.mapping = mapping

    def _parse_mapping_data(self):
        if isinstance(self.mapping, str):
            return self.parse_mapping_data(self.mapping)
        validator = MappingValidator(self.mapping)
        data = validator.normalized_data
        if not validator.validate():
            raise ZzEventError(f"ZigZag's mapping validator rejects the mapping: {validator.validator.errors}")
        return data

_OPT_STAGES = {"energy": MinimalEnergyStage, "latency": MinimalLatencyStage, "EDP": MinimalEDPStage}


@dataclass(frozen=True)
class RunSettings:
    """ZigZag's own knobs, as `get_hardware_performance_zigzag` names them."""

    temporal_mapping_search_engine: Literal["loma", "salsa"] = "loma"
    temporal_mapping_type: Literal["uneven", "even"] = "uneven"
    opt: str = "latency"
    lpf_limit: int = 6
    nb_spatial_mappings_generated: int = 3
    in_memory_compute: bool = False
    exploit_data_locality: bool = False
    enable_mix_spatial_mapping: bool = False
    loma_show_progress_bar: bool = True


def build_stages(settings: RunSettings, correction_stages: list | None = None) -> list:
    """ZigZag's stage list with `correction_stages` directly above the temporal-mapping generator."""
    if settings.opt not in _OPT_STAGES:
        raise ZzEventError(f"opt is {settings.opt!r}; expected one of {', '.join(_OPT_STAGES)}")
    opt_stage = _OPT_STAGES[settings.opt]
    locality = settings.in_memory_compute or settings.exploit_data_locality or settings.enable_mix_spatial_mapping
    engine = SalsaStage if settings.temporal_mapping_search_engine == "salsa" else TemporalMappingGeneratorStage
    correction = [EventDrivenCorrectionStage] if correction_stages is None else correction_stages
    stages = [
        PreparedWorkloadParserStage,
        AcceleratorParserStage,
        SimpleSaveStage,
        PickleSaveStage,
        SumStage,
        SearchInterLayerDataLocalityStage if locality else None,
        WorkloadStage,
        VisualizationStage,
        ExploitInterLayerDataLocalityStage if locality else None,
        CompleteSaveStage,
        opt_stage,
        SpatialMappingGeneratorStage,
        opt_stage,
        *correction,
        engine,
        CostModelStage,
    ]
    return [s for s in stages if s is not None]


