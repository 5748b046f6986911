"""ZigZag stages that put zz-event into ZigZag's own pipeline.

`EventDrivenCorrectionStage` sits directly above the temporal-mapping generator (below the inner
Minimal*Stage): it sees every CostModelEvaluation of every temporal mapping and yields corrected ones,
so ZigZag's reduce stages rank mappings on corrected cost. Layers the engine does not correct pass
through with ZigZag's cost and a `zz_event_uncorrected` reason attached, never silently.

Stage keyword arguments (passed through MainStage like any ZigZag kwarg):
- `zz_event_options`: EngineOptions (defaults to event-driven: filter and readiness on);
- `zz_event_geometries`: layer name -> (ConvGeometry, centric), the true geometry of converted layers;
- `zz_event_uncorrected`: layer name -> reason, layers the workload reader already knows to leave alone;
- `zz_event_variants`: extra EngineOptions to evaluate and keep on each CME (e.g. the exact dense count).
"""

from __future__ import annotations

from typing import Any

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.stages.stage import Stage, StageCallable

from zz_event.corrected_cme import correct_cme_with
from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.errors import UnsupportedLayerError
from zz_event.zigzag_adapter import layer_is_correctable, nest_from_cme

__all__ = ["EventDrivenCorrectionStage", "correct_cme"]


def correct_cme(
    cme: CostModelEvaluation,
    options: EngineOptions = EngineOptions(),
    geometry_and_centric: tuple | None = None,
    variants: tuple[EngineOptions, ...] = (),
):
    """The corrected CME of one evaluated mapping, or `cme` itself (marked) if the layer is not correctable."""
    reason = layer_is_correctable(cme.layer) if isinstance(cme, CostModelEvaluation) else "not a single-layer CME"
    if reason is None and type(cme) is not CostModelEvaluation:
        reason = f"{type(cme).__name__} is not ZigZag's digital cost model"
    if reason is not None:
        cme.zz_event_uncorrected = reason
        return cme
    geometry, centric = geometry_and_centric if geometry_and_centric else (None, None)
    try:
        nest = nest_from_cme(cme, geometry, centric)
    except UnsupportedLayerError as error:
        cme.zz_event_uncorrected = str(error)
        return cme
    result = evaluate(nest, options)
    extra = {v.label: evaluate(nest, v) for v in variants if v != options}
    return correct_cme_with(cme, result, extra)


class EventDrivenCorrectionStage(Stage):
    """Replace every CostModelEvaluation yielded below by its event-driven correction."""

    def __init__(
        self,
        list_of_callables: list[StageCallable],
        *,
        zz_event_options: EngineOptions = EngineOptions(),
        zz_event_geometries: dict[str, tuple] | None = None,
        zz_event_variants: tuple[EngineOptions, ...] = (),
        zz_event_uncorrected: dict[str, str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(list_of_callables, **kwargs)
        self.options = zz_event_options
        self.geometries = zz_event_geometries or {}
        self.variants = zz_event_variants
        self.uncorrected = zz_event_uncorrected or {}

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        for cme, extra_info in substage.run():
            name = getattr(getattr(cme, "layer", None), "name", None)
            if name in self.uncorrected:
                cme.zz_event_uncorrected = self.uncorrected[name]
                yield cme, extra_info
                continue
            yield correct_cme(cme, self.options, self.geometries.get(name), self.variants), extra_info
