"""The ZigZag stage that puts zz-event into ZigZag's own pipeline.

`EventDrivenCorrectionStage` sits directly above the temporal-mapping generator (below the inner
Minimal*Stage): it sees every CostModelEvaluation of every temporal mapping and yields corrected ones, so
ZigZag's reduce stages rank mappings on corrected cost. Below `MinimalEnergyStage`,
`EnergyBoundedCorrectionStage` skips the mappings that cannot be its pick (`energy_bound`): directly above the
temporal-mapping generator it hands a `MappingGate` down to the bottom of the search, where `SkippingCostModelStage`
(ZigZag's `CostModelStage` otherwise) builds no CME for a temporal mapping the gate rules out. Layers the engine
does not correct pass through with ZigZag's cost and a `zz_event_uncorrected` reason attached, never silently.
A mapping the engine cannot count for a resource limit (`correction.limit_reason`) raises `LayerNotCorrected`:
`pipeline.LayerGuardStage` then runs the layer's search again with ZigZag's cost for all of it.

It reads zz-event's settings from one keyword passed through MainStage like any ZigZag kwarg:
`zz_event`, a `zz_event.zigzag.settings.CorrectionSettings`. The engine runs in ZigZag's process, mapping
by mapping, as ZigZag yields them.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.cost_model.cost_model_imc import CostModelEvaluationForIMC
from zigzag.hardware.architecture.imc_array import ImcArray
from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
from zigzag.stages.mapping.salsa import SalsaStage
from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
from zigzag.stages.stage import Stage, StageCallable

from zz_event.interruption import raise_if_interrupted
from zz_event.zigzag.adapter import mapping_of_cme, mapping_of_temporal
from zz_event.zigzag.correction import LayerNotCorrected, context_or_reason, correct, limit_reason
from zz_event.zigzag.energy_bound import EnergyThreshold
from zz_event.zigzag.psum_flags import PsumFlags
from zz_event.zigzag.settings import CorrectionSettings

__all__ = ["EnergyBoundedCorrectionStage", "EventDrivenCorrectionStage", "SkippingCostModelStage", "correction_stage"]

GATE_KEYWORD = "zz_event_gate"  # the keyword that carries a bounded correction's MappingGate down to the bottom


class EventDrivenCorrectionStage(Stage):
    """Replace every CostModelEvaluation yielded below by its event-driven correction."""

    bounded = False  # whether mappings that cannot be the energy reducer's pick are skipped (`energy_bound`)

    def __init__(
        self,
        list_of_callables: list[StageCallable],
        *,
        zz_event: CorrectionSettings = CorrectionSettings(),
        **kwargs: Any,
    ):
        super().__init__(list_of_callables, **kwargs)
        self.settings = zz_event
        self.jobs = CorrectionJobs(zz_event)

    def run(self):
        kwargs, threshold, after_evaluation = self.kwargs, None, None
        if self.bounded:
            threshold = EnergyThreshold(self.settings.options)
            gate = MappingGate(threshold, self.jobs)
            if self._gate_goes_down():
                kwargs = {**kwargs, GATE_KEYWORD: gate}
            else:  # stages between see every CME ZigZag builds; the bound then only spares the correction
                after_evaluation = gate
        substage = self.list_of_callables[0](self.list_of_callables[1:], **kwargs)
        for cme, extra_info in substage.run():
            raise_if_interrupted()  # ZigZag's evaluation of `cme` may have swallowed it
            layer = getattr(cme, "layer", None)
            job = self.jobs.of(layer, getattr(cme, "accelerator", None), type(cme))
            if isinstance(job, str):
                cme.zz_event_uncorrected = job
                corrected = cme
            else:
                if after_evaluation is not None and after_evaluation.rules_out(
                        layer, cme.accelerator, cme.spatial_mapping, cme.temporal_mapping):
                    continue
                context, settings, masks = job
                with _limits_to_layer_not_corrected(layer):
                    corrected = correct(cme, context.nest(mapping_of_cme(cme)), settings, masks)
            if threshold is not None:
                threshold.handed_up(corrected.energy_total)
            yield corrected, extra_info

    def _gate_goes_down(self) -> bool:
        """Whether the stages below are the temporal-mapping generator over `SkippingCostModelStage` and nothing
        else, so that no stage of someone else's misses a mapping the gate rules out before ZigZag evaluates it."""
        below = self.list_of_callables
        return (len(below) == 2 and below[0] in (TemporalMappingGeneratorStage, SalsaStage)
                and issubclass(below[1], SkippingCostModelStage))


class EnergyBoundedCorrectionStage(EventDrivenCorrectionStage):
    """The correction directly below ZigZag's `MinimalEnergyStage`: a mapping that cannot be its pick is neither
    corrected nor handed up (`energy_bound`), so the reducer keeps the CME it would keep if all were. Directly above
    the temporal-mapping generator over `SkippingCostModelStage` (as `build_stages` places it), ZigZag does not
    evaluate it either; with other stages between, they see every CME ZigZag builds."""

    bounded = True


class SkippingCostModelStage(CostModelStage):
    """ZigZag's `CostModelStage`, which builds no CostModelEvaluation for a temporal mapping the energy bound rules
    out: a ZigZag CME costs more than the engine's counts that rule a mapping out. Without an
    `EnergyBoundedCorrectionStage` above (no gate among its keywords) it is ZigZag's stage."""

    def run(self):
        gate = self.kwargs.get(GATE_KEYWORD)
        if gate is not None and gate.rules_out(self.layer, self.accelerator, self.spatial_mapping,
                                               self.temporal_mapping):
            return
        yield from super().run()


class CorrectionJobs:
    """`correct`'s (context, settings, masks) for the CMEs of a layer, accelerator, CME type and spatial mapping,
    else the reason they keep ZigZag's cost. Kept for the last of them: ZigZag hands a stage every temporal mapping of
    one spatial mapping in turn, and reading the layer again for each costs a fifth of the correction's share per
    mapping."""

    def __init__(self, settings: CorrectionSettings) -> None:
        self.settings = settings
        self._last: tuple = ()  # layer, accelerator, CME type, spatial mapping; their job

    def of(self, layer, accelerator, cme_type: type) -> tuple | str:
        spatial = getattr(layer, "spatial_mapping", None)
        last = self._last
        if last and last[0] is layer and last[1] is accelerator and last[2] is cme_type and last[3] is spatial:
            return last[4]
        name = getattr(layer, "name", None)
        settings = self.settings
        if name in settings.uncorrected:
            found = settings.uncorrected[name]
        else:
            context, reason = context_or_reason(layer, accelerator, cme_type, settings.geometries.get(name))
            found = reason if context is None else (context, settings, settings.ranking_masks(name))
        self._last = (layer, accelerator, cme_type, spatial, found)
        return found


class MappingGate:
    """Whether a temporal mapping, before ZigZag evaluates it, is sure to cost more energy than the least handed up
    to the reducer (`EnergyThreshold`). Never on data (`energy_bound`), nor where the layer keeps ZigZag's cost."""

    def __init__(self, threshold: EnergyThreshold, jobs: CorrectionJobs) -> None:
        self.threshold, self.jobs = threshold, jobs
        self._psum: tuple = ()  # layer, spatial mapping; their PsumFlags

    def rules_out(self, layer, accelerator, spatial_mapping, temporal_mapping) -> bool:
        if self.threshold.least == math.inf:
            return False
        digital = not isinstance(accelerator.operational_array, ImcArray)  # what CostModelStage builds
        job = self.jobs.of(layer, accelerator, CostModelEvaluation if digital else CostModelEvaluationForIMC)
        if isinstance(job, str) or job[2] is not None:
            return False
        context = job[0]
        with _limits_to_layer_not_corrected(layer):
            nest = context.nest(mapping_of_temporal(temporal_mapping, self._psum_flags(layer, spatial_mapping)))
            return self.threshold.rules_out(context, nest)

    def _psum_flags(self, layer, spatial_mapping) -> PsumFlags:
        last = self._psum
        if not (last and last[0] is layer and last[1] is spatial_mapping):
            last = self._psum = (layer, spatial_mapping, PsumFlags(layer, spatial_mapping))
        return last[2]


@contextmanager
def _limits_to_layer_not_corrected(layer):
    """A resource limit of the engine while counting a mapping of `layer` (`correction.limit_reason`) becomes
    `LayerNotCorrected`; anything else is a bug and propagates as it is."""
    try:
        yield
    except Exception as error:
        reason = limit_reason(error)
        if reason is None:
            raise
        raise LayerNotCorrected(layer.name, reason) from error


def correction_stage(opt: str) -> type[EventDrivenCorrectionStage]:
    """The correction stage to place directly below ZigZag's reducer of `opt` (nothing between them)."""
    return EnergyBoundedCorrectionStage if opt == "energy" else EventDrivenCorrectionStage
