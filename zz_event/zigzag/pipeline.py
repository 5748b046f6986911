"""ZigZag's stage list, rebuilt with zz-event's stages in it (what `zigzag.api` hard-codes)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from zigzag.mapping.temporal_mapping import TemporalMappingType
from zigzag.opt.loma.engine import NoValidLoopOrderingFoundException
from zigzag.opt.loma.memory_allocator import MemoryHierarchyTooSmallException
from zigzag.parser.mapping_validator import MappingValidator
from zigzag.stages.main import MainStage
from zigzag.stages.mapping.salsa import SalsaStage
from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
from zigzag.stages.parser.accelerator_parser import AcceleratorParserStage
from zigzag.stages.parser.workload_parser import WorkloadParserStage
from zigzag.stages.results.reduce_stages import MinimalEDPStage, MinimalEnergyStage, MinimalLatencyStage, SumStage
from zigzag.stages.results.save import CompleteSaveStage, PickleSaveStage, SimpleSaveStage
from zigzag.stages.results.visualization import VisualizationStage
from zigzag.stages.stage import Stage
from zigzag.stages.workload_iterator import WorkloadStage

from zz_event.errors import MappingError, ZzEventError
from zz_event.memo import clear_caches
from zz_event.zigzag.correction import LayerNotCorrected
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import SkippingCostModelStage, correction_stage

__all__ = ["NO_MAPPING_FITS", "LayerGuardStage", "PreparedWorkloadParserStage", "build_stages", "main_stage"]


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

# What ZigZag raises when no temporal mapping of a layer fits the mapping and memories it was given.
NO_MAPPING_FITS = (NoValidLoopOrderingFoundException, MemoryHierarchyTooSmallException)


class LayerGuardStage(Stage):
    """Below ZigZag's WorkloadStage: LOMA finding no temporal mapping for a layer becomes one line naming it,
    and a layer the engine cannot count for a resource limit (`LayerNotCorrected`) is searched again with
    ZigZag's cost for every mapping, marked uncorrected with the reason; the rest of the network goes on."""

    def run(self):
        layer = self.kwargs["layer"]
        given = layer.spatial_mapping  # ZigZag's spatial-mapping stage overwrites it with its last pick
        try:
            results = self._search(self.kwargs)
        except LayerNotCorrected as failed:
            results, failure = None, {failed.layer: failed.reason}
        if results is None:
            # Searched again outside the handler, so that the failed count's frames and arrays (held by the
            # exception's traceback) are gone, and with the engine's memos emptied: a resource limit is why
            # it failed.
            clear_caches()
            layer.spatial_mapping = given
            settings = self.kwargs["zz_event"]
            uncorrected = replace(settings, uncorrected={**settings.uncorrected, **failure})
            results = self._search({**self.kwargs, "zz_event": uncorrected})
        yield from results

    def _search(self, kwargs) -> list:
        """The layer's results (a few: ZigZag reduces them below), whole before any is handed up."""
        layer = kwargs["layer"]
        substage = self.list_of_callables[0](self.list_of_callables[1:], **kwargs)
        try:
            return list(substage.run())
        except NoValidLoopOrderingFoundException as error:
            causes = [line.lstrip("- ") for line in str(error).splitlines()[1:] if line.strip()]
            raise MappingError(f"layer {layer.name!r}: ZigZag's LOMA found no valid temporal mapping; its common "
                               f"causes: {'; '.join(causes)}") from error  # fmt: skip
        except MemoryHierarchyTooSmallException as error:  # a fixed temporal mapping that does not fit
            raise MappingError(f"layer {layer.name!r}: ZigZag: {error}") from error


_OPT_STAGES = {"energy": MinimalEnergyStage, "latency": MinimalLatencyStage, "EDP": MinimalEDPStage}


def build_stages(settings: RunSettings, correction_stages: list | None = None, *, parse: bool = True) -> list:
    """ZigZag's stage list with `correction_stages` (default: the correction stage for `settings.opt`,
    `stages.correction_stage`) directly above the temporal-mapping generator, and below it ZigZag's cost model as
    `SkippingCostModelStage` (ZigZag's own but for mappings a bounded correction rules out). `parse=False` gives
    the part below the workload iterator, for a caller that hands ZigZag one parsed layer and accelerator
    (Stream's per-core costing)."""
    opt_stage = _OPT_STAGES[settings.opt]
    engine = SalsaStage if settings.temporal_mapping_search_engine == "salsa" else TemporalMappingGeneratorStage
    correction = [correction_stage(settings.opt)] if correction_stages is None else correction_stages
    search = [opt_stage, SpatialMappingGeneratorStage, opt_stage, *correction, engine, SkippingCostModelStage]
    if not parse:
        return search
    stages = [
        PreparedWorkloadParserStage,
        AcceleratorParserStage,
        SimpleSaveStage,
        PickleSaveStage,
        SumStage,
        WorkloadStage,
        LayerGuardStage,
        VisualizationStage,
        CompleteSaveStage,
        *search,
    ]
    return stages


def main_stage(stages: list, settings: RunSettings, correction: CorrectionSettings | None = None,
               **inputs: Any) -> MainStage:
    """ZigZag's MainStage over `stages`, with the keywords `get_hardware_performance_zigzag` passes for
    `settings` and zz-event's `correction` as the one keyword `zz_event`. `inputs`: what the first stage
    reads (accelerator, workload, mapping, dump_folder, pickle_filename; or layer and accelerator)."""
    return MainStage(
        list_of_callables=stages,
        loma_lpf_limit=settings.lpf_limit,
        loma_show_progress_bar=settings.loma_show_progress_bar,
        nb_mappings_generated=settings.nb_spatial_mappings_generated,
        enable_mix_spatial_mapping_generation=False,  # RunSettings refuses it
        access_same_data_considered_as_no_access=True,
        temporal_mapping_type=TemporalMappingType(settings.temporal_mapping_type),
        zz_event=correction or CorrectionSettings(),
        **inputs,
    )
