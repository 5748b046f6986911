"""One evaluated mapping, corrected: the engine's answer for a ZigZag CostModelEvaluation's mapping."""

from __future__ import annotations

from zigzag.cost_model.cost_model import CostModelEvaluation

from zz_event.engine.budget import EngineBudgetError
from zz_event.engine.evaluate import evaluate, evaluate_samples
from zz_event.engine.result import EngineOptions
from zz_event.engine.samples import mean_result
from zz_event.errors import UnsupportedLayerError
from zz_event.model.nest import LoopNest
from zz_event.zigzag.adapter import NestContext, context_of, layer_is_correctable, mapping_of_cme
from zz_event.zigzag.corrected_cme import CorrectedCME, correct_cme_with
from zz_event.zigzag.settings import CorrectionSettings

__all__ = ["LayerNotCorrected", "context_or_reason", "correct", "correct_cme", "evaluate_all", "limit_reason"]


class LayerNotCorrected(Exception):
    """A mapping of `layer` could not be counted for a resource limit (not a bug): the whole layer keeps
    ZigZag's cost, so that ZigZag never ranks corrected mappings against raw ones."""

    def __init__(self, layer: str, reason: str) -> None:
        self.layer, self.reason = layer, reason
        super().__init__(f"layer {layer!r} keeps ZigZag's cost: {reason}")


def limit_reason(error: BaseException) -> str | None:
    """Why a layer keeps ZigZag's cost, if `error` is a resource limit of the engine (its memory budget, a
    MemoryError); None for anything else, which is a bug and must propagate."""
    if isinstance(error, EngineBudgetError):
        return str(error)
    if isinstance(error, MemoryError):
        return f"the engine ran out of memory ({type(error).__name__}: {error})"
    return None


def context_or_reason(layer, accelerator, cme_type: type,
                      geometry_and_centric) -> tuple[NestContext | None, str | None]:
    """The nest context of a correctable CME of type `cme_type` (built or to be built) of `layer` on `accelerator`,
    else the reason it keeps ZigZag's cost."""
    single = issubclass(cme_type, CostModelEvaluation)
    reason = layer_is_correctable(layer) if single else "not a single-layer CME"
    if reason is None and cme_type is not CostModelEvaluation:
        reason = f"{cme_type.__name__} is not ZigZag's digital cost model"
    if reason is not None:
        return None, reason
    geometry, centric = geometry_and_centric if geometry_and_centric else (None, None)
    try:
        return context_of(layer, accelerator, geometry, centric), None
    except UnsupportedLayerError as error:
        return None, str(error)


def evaluate_all(nest, options: EngineOptions, variants: tuple[EngineOptions, ...], masks=None):
    """The engine's result for `options` and, by label, for each other variant. With `masks` (events from
    data, one per sample) the result for `options` is the mean over the samples, which is what the search
    ranks on."""
    if masks is not None:
        result = mean_result(evaluate_samples(nest, options, masks))
    else:
        result = evaluate(nest, options)
    return result, {v.label: evaluate(nest, v) for v in variants if v != options}


def correct(cme: CostModelEvaluation, nest: LoopNest, settings: CorrectionSettings, masks) -> CorrectedCME:
    """`cme` (whose nest is `nest`) corrected by the engine (`masks`: the data it is ranked on, or None). With data
    and `settings.dense_beside_data` it also carries the dense-data result for the run's switches."""
    result, extra = evaluate_all(nest, settings.options, settings.variants, masks)
    corrected = correct_cme_with(cme, result, extra)
    if masks is not None and settings.dense_beside_data:
        corrected.zz_event_dense_data = evaluate(nest, settings.options)
    return corrected


def correct_cme(cme: CostModelEvaluation, settings: CorrectionSettings) -> CostModelEvaluation:
    """One evaluated mapping corrected outside a search (e.g. plain ZigZag's pick, counted exactly), or `cme`
    itself marked with the reason it keeps ZigZag's cost."""
    name = cme.layer.name
    context, reason = context_or_reason(cme.layer, cme.accelerator, type(cme), settings.geometries.get(name))
    reason = settings.uncorrected.get(name, reason)
    if context is None or reason is not None:
        cme.zz_event_uncorrected = reason
        return cme
    try:
        result, extra = evaluate_all(context.nest(mapping_of_cme(cme)), settings.options, settings.variants)
    except MemoryError as error:
        cme.zz_event_uncorrected = limit_reason(error)
        return cme
    return correct_cme_with(cme, result, extra)
