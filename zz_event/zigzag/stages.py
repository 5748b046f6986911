"""The ZigZag stage that puts zz-event into ZigZag's own pipeline.

`EventDrivenCorrectionStage` sits directly above the temporal-mapping generator (below the inner
Minimal*Stage): it sees every CostModelEvaluation of every temporal mapping and yields corrected ones, so
ZigZag's reduce stages rank mappings on corrected cost. Below `MinimalEnergyStage`,
`EnergyBoundedCorrectionStage` skips the mappings that cannot be its pick (`energy_bound`). Layers the engine
does not correct pass through with ZigZag's cost and a `zz_event_uncorrected` reason attached, never silently.
A mapping the engine cannot count for a resource limit (`correction.limit_reason`) raises `LayerNotCorrected`:
`pipeline.LayerGuardStage` then runs the layer's search again with ZigZag's cost for all of it.

It reads zz-event's settings from one keyword passed through MainStage like any ZigZag kwarg:
`zz_event`, a `zz_event.zigzag.settings.CorrectionSettings`. The engine runs in ZigZag's process, mapping
by mapping, as ZigZag yields them.
"""

from __future__ import annotations

from typing import Any

from zigzag.stages.stage import Stage, StageCallable

from zz_event.interruption import raise_if_interrupted
from zz_event.zigzag.adapter import mapping_of_cme
from zz_event.zigzag.correction import LayerNotCorrected, context_or_reason, correct, limit_reason
from zz_event.zigzag.energy_bound import EnergyThreshold
from zz_event.zigzag.settings import CorrectionSettings

__all__ = ["EnergyBoundedCorrectionStage", "EventDrivenCorrectionStage", "correction_stage"]


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
        self._last_job: tuple = ()  # layer, accelerator, type, spatial mapping of the last CME; its job

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        threshold = EnergyThreshold(self.settings.options) if self.bounded else None
        for cme, extra_info in substage.run():
            raise_if_interrupted()  # ZigZag's evaluation of `cme` may have swallowed it
            job = self._job_of(cme)
            if isinstance(job, str):
                cme.zz_event_uncorrected = job
                corrected = cme
            else:
                context, settings, masks = job
                try:
                    nest = context.nest(mapping_of_cme(cme))
                    if threshold is not None and masks is None and threshold.rules_out(context, nest):
                        continue
                    corrected = correct(cme, nest, settings, masks)
                except Exception as error:
                    reason = limit_reason(error)
                    if reason is None:  # a bug: as it is
                        raise
                    raise LayerNotCorrected(cme.layer.name, reason) from error
            if threshold is not None:
                threshold.handed_up(corrected.energy_total)
            yield corrected, extra_info

    def _job_of(self, cme) -> tuple | str:
        """`correct`'s (context, settings, masks) for a CME, else the reason it keeps ZigZag's cost. Kept for
        the last layer, accelerator, CME type and spatial mapping: ZigZag hands a stage every temporal
        mapping of one spatial mapping in turn, and reading the layer again for each costs a fifth of the
        correction's share per mapping."""
        layer, accelerator = getattr(cme, "layer", None), getattr(cme, "accelerator", None)
        spatial = getattr(layer, "spatial_mapping", None)
        last = self._last_job
        if last and last[0] is layer and last[1] is accelerator and last[2] is type(cme) and last[3] is spatial:
            return last[4]
        name = getattr(layer, "name", None)
        settings = self.settings
        if name in settings.uncorrected:
            found = settings.uncorrected[name]
        else:
            context, reason = context_or_reason(cme, settings.geometries.get(name))
            found = reason if context is None else (context, settings, settings.ranking_masks(name))
        self._last_job = (layer, accelerator, type(cme), spatial, found)
        return found


class EnergyBoundedCorrectionStage(EventDrivenCorrectionStage):
    """The correction directly below ZigZag's `MinimalEnergyStage`: a mapping that cannot be its pick is neither
    corrected nor handed up (`energy_bound`), so the reducer keeps the CME it would keep if all were."""

    bounded = True


def correction_stage(opt: str) -> type[EventDrivenCorrectionStage]:
    """The correction stage to place directly below ZigZag's reducer of `opt` (nothing between them)."""
    return EnergyBoundedCorrectionStage if opt == "energy" else EventDrivenCorrectionStage
