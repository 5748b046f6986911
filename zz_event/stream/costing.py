"""Event-driven per-core costs of Stream's MAC nodes: the function zz-event's Stream backend calls.

    cost_node_event_driven(node, core, *, layer, mode, search) -> CostModelEvaluation

:mod:`zz_event.stream.backend` calls it for every Conv, Gemm or MatMul node Stream costs on a ZigZag compute core
while an event mode is active (``mode`` is ``"event-raw"`` or ``"event"``); ``core`` is the core's ZigZag
accelerator (``Core.to_zigzag_core()``), ``layer`` the output-centric ZigZag layer Stream built for that core (dims
``D0..Dn`` at their per-core extent), ``search`` the ZigZag search Stream asked for
(:class:`zz_event.stream.backend.ZigZagSearch`).

What it costs. :func:`zz_event.stream.node_geometry.conv_view` gives the true geometry of the tile one core runs
(stride, dilation, and the padding Stream's own layer drops). From it :func:`node_layer` writes the input-centric ZigZag
layer zz-event costs everywhere else (``zz_event.readers.workloads``: loops ``B, K, C, IY, IX, FY, FX``, relations
``ox=1*ix+1*fx``, ``oy=1*iy+1*fy``; a matrix product is a 1x1 convolution whose contraction dims, e.g. ``C, C1, C2``
behind a folded Flatten, are folded into one ``C``), with

- the precisions of Stream's layer (``W`` = its second input ``B``, ``I`` = its first input ``A``, ``O`` at the
  core's accumulator precision, ``O_final`` the output tensor's);
- Stream's memory-operand links (``W`` -> ``B``'s memory operand, ``I`` -> ``A``'s, ``O`` -> ``O``);
- both inputs constant, sourced from layer 0, as in Stream's layer;
- a spatial mapping: the one the run names for the node (``zz_event.stream.settings``: e.g. frame mode's, for a
  "same spatial mapping" comparison), else the core's ``dataflows``, both with their dims renamed to the
  input-centric loops (``D<n>`` through ``conv_view``, ``OY``/``OX`` -> ``IY``/``IX``, contraction dims -> ``C``),
  else -- a core without dataflows, such as the toy core, whose unrolling Stream leaves to ZigZag's generator in frame
  mode -- in mode ``event-raw`` plain ZigZag's own pick (its generator, with Stream's retry with mixed unrollings),
  in mode ``event`` the best of every spatial unrolling over ``K, C, IY, IX, FY, FX`` that fits the array
  (:mod:`zz_event.stream.spatial`), ranked as Stream ranks: steady latency, then energy. Each candidate is a full
  ZigZag search; candidates are visited by increasing lower bound on their latency (their compute cycles, which
  no temporal mapping changes) and the search stops at the first bound above the best latency found, so the pick
  is the best of all candidates, not of a sample.

Events from data (mode ``event``, when the run gives masks for the node's layer): every tile of the node, on every
sample, is a mask (:mod:`zz_event.stream.node_data`); mappings are ranked on the mean over the calibration samples'
tiles, and the pick is costed on them all: Stream's per-core cost is the mean data-driven cost.

How. ZigZag's ``MainStage`` runs the stages Stream's ``ZigZagCostEstimator`` runs (``MinimalLatencyStage,
SpatialMappingGeneratorStage, MinimalLatencyStage, TemporalMappingGeneratorStage, CostModelStage``) on ``core``
with Stream's ``loma_lpf_limit``, ``temporal_mapping_type`` and number of spatial mappings, and ZigZag's API
default ``access_same_data_considered_as_no_access=True``. In mode ``event``,
:class:`zz_event.zigzag.stages.EventDrivenCorrectionStage` sits directly above the temporal-mapping generator (with
the tile's geometry), so ZigZag's reduce stages rank every temporal mapping on its corrected cost, and the result is
the best mapping's :class:`zz_event.zigzag.corrected_cme.CorrectedCME` (``.raw`` holds ZigZag's own figures of that
mapping). In mode ``event-raw`` the same stages run without it: plain ZigZag on the input-centric layer, whose
overestimate (every (input, tap) pair a MAC, outputs as partial sums) is what Stream then schedules. Stream's retry
with mixed spatial mappings is not needed in mode ``event``: the spatial search covers mixed unrollings.

Errors. A node that is not a plain Conv or a 2-D matrix product raises ``UnsupportedLayerError`` (the backend then
keeps ZigZag's own cost and says so). Anything else that stops the costing -- ZigZag failing, a layer the engine
cannot correct in mode ``event`` -- raises :class:`zz_event.errors.StreamBackendError` naming the node and the
core: never a zero-energy estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from zigzag.parser.mapping_validator import MappingValidator
from zigzag.parser.workload_factory import LayerNodeFactory
from zigzag.parser.workload_validator import WorkloadValidator
from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
from zigzag.stages.main import MainStage
from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage

from zz_event.engine.evaluate import evaluate_samples
from zz_event.engine.result import EngineOptions
from zz_event.engine.samples import mean_result
from zz_event.errors import StreamBackendError, UnsupportedLayerError, ZzEventError
from zz_event.model.vocabulary import EVENT_MODES
from zz_event.readers.layers import CONV_EQUATION, CONV_RELATIONS, captured_log
from zz_event.readers.workloads import load_workload
from zz_event.stream.node_data import tile_masks
from zz_event.stream.node_geometry import conv_view
from zz_event.stream.settings import StreamCosting, active_settings
from zz_event.stream.spatial import Unrolling, candidates, latency_bound, loop_sizes
from zz_event.zigzag.adapter import context_for, context_of_cme, mapping_of_cme
from zz_event.zigzag.corrected_cme import correct_cme_with
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings

if TYPE_CHECKING:
    from zigzag.cost_model.cost_model import CostModelEvaluation

    from zz_event.model.geometry import ConvGeometry
    from zz_event.stream.backend import ZigZagSearch

__all__ = ["NodeLayer", "cost_node_event_driven", "input_centric_unrolling", "node_layer", "spatial_mapping_for"]

_INPUT_CENTRIC = ("B", "K", "C", "IY", "IX", "FY", "FX")
_RENAMED = {"OY": "IY", "OX": "IX"}
_OPTIONS = EngineOptions(filter=True, readiness=True)


@dataclass(frozen=True)
class NodeLayer:
    """The input-centric ZigZag layer zz-event costs for one Stream node on one core: a ZigZag workload dict
    (``zz_event.readers.workloads`` form), the mapping entry that goes with it, and the tile's true geometry."""

    name: str
    layer: dict[str, Any] = field(repr=False)
    mapping: dict[str, Any] = field(repr=False)
    geometry: ConvGeometry


def cost_node_event_driven(
    node: Any, core: Any, *, layer: Any, mode: str, search: ZigZagSearch
) -> CostModelEvaluation:
    """The CME Stream should use for ``node`` on ``core`` in ``mode`` (see the module docstring)."""
    if mode not in EVENT_MODES:
        raise StreamBackendError(f"costing mode {mode!r} is not one of {EVENT_MODES}")
    settings = active_settings()
    spec = node_layer(node, core, layer)
    where = f"node {spec.name!r} on core {_core_label(core)}"
    try:
        masks = _node_masks(node, layer, spec, mode, settings)
        fixed = settings.unrollings.get(spec.name)
        if fixed is not None:
            spec = _with_unrolling(spec, Unrolling.of(input_centric_unrolling(fixed)))
        if fixed is not None or getattr(core, "dataflows", None):
            cme = _cost_one(spec, core, mode, search, where, _ranked(masks, settings))
        elif mode == "event-raw":
            cme = _zigzag_own_unrolling(spec, core, search, where)
        else:
            cme = _search_unrollings(spec, core, mode, search, where, _ranked(masks, settings))
        if masks is not None and len(_ranked(masks, settings)) < len(masks):
            cme = _recost_on(cme, spec, masks)
    except (StreamBackendError, UnsupportedLayerError):
        raise
    except ZzEventError as exc:
        raise StreamBackendError(f"zz-event could not cost {where} in mode {mode!r}: {exc}") from exc
    except Exception as exc:  # re-raised with the node and core named, never swallowed
        raise StreamBackendError(
            f"ZigZag could not cost {where} in mode {mode!r} ({type(exc).__name__}: {' '.join(str(exc).split())})"
        ) from exc
    return cme


def _cost_one(spec: NodeLayer, core: Any, mode: str, search: ZigZagSearch, where: str, masks: Any) -> Any:
    """ZigZag's search (corrected in mode ``event``) of ``spec`` with its spatial mapping."""
    answers = _main_stage(spec, _zigzag_layer_node(spec), core, mode, search, masks).run()
    if len(answers) != 1:
        raise StreamBackendError(f"ZigZag returned {len(answers)} results for {where}; expected one")
    cme = answers[0][0]
    reason = getattr(cme, "zz_event_uncorrected", None)
    if mode == "event" and (reason is not None or not hasattr(cme, "engine")):
        raise StreamBackendError(f"the engine did not correct {where}: {reason or 'no engine result'}")
    return cme


def _search_unrollings(spec: NodeLayer, core: Any, mode: str, search: ZigZagSearch, where: str, masks: Any) -> Any:
    """The best mapping over every candidate spatial unrolling (:mod:`zz_event.stream.spatial`), ranked as Stream
    ranks (steady latency, then energy): candidates in increasing order of their latency bound, each searched by
    ZigZag, until the next bound exceeds the best latency found."""
    zigzag_layer = _zigzag_layer_node(spec)
    stage = SpatialMappingGeneratorStage([CostModelStage], accelerator=core, layer=zigzag_layer)
    limits = {str(oa): {str(d): int(f) for d, f in per.items()} for oa, per in stage.get_max_unrolling().items()}
    array = {str(oa): int(n) for oa, n in core.operational_array.dimension_sizes.items()}
    found = candidates(limits, array, loop_sizes(spec.geometry))
    if not found:
        raise StreamBackendError(f"no spatial unrolling of {where} fits the core's array {array}")
    ranked = sorted((latency_bound(context_for(zigzag_layer, core, u.loops(), spec.geometry, "input"), u, mode,
                                   masks), u) for u in found)  # fmt: skip
    best, best_key = None, None
    for bound, unrolling in ranked:
        if best_key is not None and bound > best_key[0]:
            break
        cme = _cost_one(_with_unrolling(spec, unrolling), core, mode, search, where, masks)
        key = (float(cme.latency_total2 - cme.systolic_drain_cycle), float(cme.energy_total))
        if key[0] < bound * (1 - 1e-12):
            raise StreamBackendError(f"{where}: unrolling {unrolling.label()} costs {key[0]} cycles, below its lower "
                                     f"bound {bound}; the spatial search would not be exact")  # fmt: skip
        if best_key is None or key < best_key:
            best, best_key = cme, key
    best.zz_event_spatial_search = (len(found), sum(1 for b, _u in ranked if b <= best_key[0]))
    return best


def _zigzag_own_unrolling(spec: NodeLayer, core: Any, search: ZigZagSearch, where: str) -> Any:
    """Plain ZigZag's pick for the input-centric layer, as Stream's ``ZigZagCostEstimator.run_zigzag`` picks for its
    own layers in frame mode: ZigZag's generator without, then -- if that fills more of the array -- with mixed
    unrollings, the lower steady latency kept."""
    spec = replace(spec, mapping={**spec.mapping, "spatial_mapping": {}})
    settings = RunSettings(opt="latency", lpf_limit=search.loma_lpf_limit, loma_show_progress_bar=False,
                           temporal_mapping_type=search.temporal_mapping_type.value,
                           nb_spatial_mappings_generated=search.nb_spatial_mappings_generated)
    stages = build_stages(settings, [], parse=False)
    found, fill = [], {}
    for mix in (False, True):
        layer = _zigzag_layer_node(spec)
        fill[mix] = next(SpatialMappingGeneratorStage([CostModelStage], accelerator=core, layer=layer,
                                                      enable_mix_spatial_mapping_generation=mix,
                                                      nb_mappings_generated=1).generate_spatial_mappings()).hw_utilization
        if mix and fill[True] <= fill[False]:
            break
        stage = MainStage(list_of_callables=stages, loma_lpf_limit=settings.lpf_limit, loma_show_progress_bar=False,
                          nb_mappings_generated=settings.nb_spatial_mappings_generated,
                          enable_mix_spatial_mapping_generation=mix, access_same_data_considered_as_no_access=True,
                          temporal_mapping_type=search.temporal_mapping_type, zz_event=CorrectionSettings(),
                          layer=layer, accelerator=core)  # fmt: skip
        answers = stage.run()
        if len(answers) != 1:
            raise StreamBackendError(f"ZigZag returned {len(answers)} results for {where}; expected one")
        found.append(answers[0][0])
    return min(found, key=lambda cme: cme.latency_total2 - cme.systolic_drain_cycle)


def _with_unrolling(spec: NodeLayer, unrolling: Unrolling) -> NodeLayer:
    return replace(spec, mapping={**spec.mapping, "spatial_mapping": unrolling.mapping_entry()})


def input_centric_unrolling(unrolling: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """``{array dim: {loop: factor}}`` in the input-centric layer's loops: ``OY``/``OX`` become ``IY``/``IX`` (the
    same factor over input instead of output positions), a Gemm's contraction dims ``C1, C2, ...`` fold into ``C``."""
    out: dict[str, dict[str, int]] = {}
    for oa_dim, single in unrolling.items():
        factors: dict[str, int] = {}
        for dim, factor in single.items():
            name = "C" if dim.startswith("C") and dim[1:].isdigit() else _RENAMED.get(dim, dim)
            if name not in _INPUT_CENTRIC:
                raise StreamBackendError(f"the unrolling {dict(single)} over {oa_dim} names {dim}, which the "
                                         f"input-centric layer (loops {', '.join(_INPUT_CENTRIC)}) does not have")
            factors[name] = factors.get(name, 1) * int(math.ceil(factor))
        out[str(oa_dim)] = factors
    return out


def _node_masks(node: Any, layer: Any, spec: NodeLayer, mode: str, settings: StreamCosting) -> Any:
    """The data masks of every tile of the node (mode ``event`` with data for its layer), else None."""
    if mode != "event" or spec.name not in settings.masks:
        return None
    return tile_masks(node, layer, spec.geometry, settings.masks[spec.name])


def _ranked(masks: Any, settings: StreamCosting) -> Any:
    """The masks mappings are ranked on: the calibration samples' tiles (samples are sample-major)."""
    if masks is None or settings.calibration is None:
        return masks
    per_sample = len(masks) // len(next(iter(settings.masks.values())))
    return masks[: settings.calibration * per_sample]


def _recost_on(cme: Any, spec: NodeLayer, masks: Any) -> Any:
    """``cme``'s mapping costed on every mask: the mean, as a corrected CME keeping ZigZag's raw figures."""
    nest = context_of_cme(cme, spec.geometry, "input").nest(mapping_of_cme(cme))
    results = [r for at in range(0, len(masks), 64) for r in evaluate_samples(nest, _OPTIONS, masks[at:at + 64])]
    mean = mean_result(results)
    recosted = correct_cme_with(cme, mean)
    recosted.zz_event_raw_state = cme.zz_event_raw_state
    return recosted


def node_layer(node: Any, core: Any, layer: Any) -> NodeLayer:
    """The input-centric layer and mapping entry for ``node`` as Stream's ``layer`` sizes it on ``core``."""
    view = conv_view(node, layer)
    g = view.geometry
    if g.G != 1:
        raise UnsupportedLayerError(f"node {node.name!r} is a grouped convolution ({g.G} groups)")
    sizes = (g.B, g.K, g.C, g.y.inp, g.x.inp, g.y.kernel, g.x.kernel)
    data = {
        "id": 0,
        "name": str(node.name),
        "operator_type": "Conv" if node.type == "Conv" else "Gemm",  # ZigZag's validator knows Gemm, not MatMul
        "equation": CONV_EQUATION,
        "dimension_relations": list(CONV_RELATIONS),
        "loop_dims": list(_INPUT_CENTRIC),
        "loop_sizes": [int(s) for s in sizes],
        "operand_precision": _precision(layer),
        "operand_source": {"I": 0, "W": 0},
        "zz_event": {
            "stride": [g.y.stride, g.x.stride],
            "dilation": [g.y.dilation, g.x.dilation],
            "padding": [g.y.pad_before, g.y.pad_after, g.x.pad_before, g.x.pad_after],
            "output": [g.OY, g.OX],
        },
    }
    mapping = {
        "name": "default",
        "spatial_mapping": spatial_mapping_for(core, view.dim_names),
        "memory_operand_links": _operand_links(layer),
    }
    return NodeLayer(str(node.name), data, mapping, g)


def spatial_mapping_for(core: Any, dim_names: dict[str, str]) -> dict[str, list[str]]:
    """ZigZag mapping-file ``spatial_mapping`` for the input-centric layer: the core's dataflows renamed, or K over
    every operational-array dimension (see the module docstring). ``dim_names`` is :func:`conv_view`'s map."""
    dataflows = getattr(core, "dataflows", None)
    if not dataflows:
        return {str(d): [f"K, {int(size)}"] for d, size in core.operational_array.dimension_sizes.items()}
    out: dict[str, list[str]] = {}
    for oa_dim, single in dataflows.items():
        factors: dict[str, int] = {}
        for dim, factor in single.items():
            name = dim_names.get(str(dim), str(dim))
            name = "C" if name.startswith("C") and name[1:].isdigit() else _RENAMED.get(name, name)
            if name not in _INPUT_CENTRIC:
                raise StreamBackendError(
                    f"the core's dataflow unrolls {dim} ({name}) over {oa_dim}, which the input-centric layer "
                    f"(loops {', '.join(_INPUT_CENTRIC)}) does not have; give the core a dataflow over these loops"
                )
            factors[name] = factors.get(name, 1) * int(math.ceil(factor))
        out[str(oa_dim)] = [f"{d}, {f}" for d, f in factors.items()]
    return out


def _precision(layer: Any) -> dict[str, int]:
    data = {str(k): int(v) for k, v in layer.operand_precision.data.items()}
    missing = {"A", "B", "O_final"} - set(data)
    if missing:
        raise UnsupportedLayerError(f"Stream's layer has no precision for {sorted(missing)}; expected A, B, O_final")
    return {"W": data["B"], "I": data["A"], "O": data.get("O", data["O_final"]), "O_final": data["O_final"]}


def _operand_links(layer: Any) -> dict[str, str]:
    links = {str(k): str(v) for k, v in layer.memory_operand_links.data.items()}
    if not {"A", "B", "O"} <= set(links):
        raise UnsupportedLayerError(f"Stream's layer links operands {sorted(links)}; expected A, B and O")
    return {"O": links["O"], "W": links["B"], "I": links["A"]}


def _zigzag_layer_node(spec: NodeLayer) -> Any:
    """ZigZag's ``LayerNode`` of ``spec``, built as ZigZag's own workload parser builds it."""
    prepared = load_workload([spec.layer])  # validates; strips the zz_event block
    if prepared.geometry.get(spec.name) != spec.geometry:
        raise StreamBackendError(
            f"node {spec.name!r}: the input-centric layer reads back as {prepared.geometry.get(spec.name)}, not "
            f"the tile's geometry {spec.geometry}"
        )
    with captured_log("zigzag.parser"):
        workload = WorkloadValidator(prepared.zigzag_workload)
        mapping = MappingValidator([spec.mapping])
        accepted = workload.validate() and mapping.validate()
    if not accepted:
        raise StreamBackendError(
            f"ZigZag's validators reject the input-centric layer of node {spec.name!r}: "
            f"{workload.validator.errors or mapping.validator.errors}"
        )
    return LayerNodeFactory(workload.normalized_data[0], mapping.normalized_data).create()


def _main_stage(spec: NodeLayer, zigzag_layer: Any, core: Any, mode: str, search: ZigZagSearch,
                masks: Any = None) -> Any:
    """The stages Stream's ``ZigZagCostEstimator`` runs, with the correction stage in mode ``event`` (ranking on the
    mean over ``masks`` when given)."""
    settings = RunSettings(opt="latency", lpf_limit=search.loma_lpf_limit, loma_show_progress_bar=False,
                           temporal_mapping_type=search.temporal_mapping_type.value,
                           nb_spatial_mappings_generated=search.nb_spatial_mappings_generated)
    correction = CorrectionSettings(options=_OPTIONS, geometries={spec.name: (spec.geometry, "input")},
                                    masks={} if masks is None else {spec.name: masks})
    stages = build_stages(settings, None if mode == "event" else [], parse=False)
    return main_stage(stages, settings, correction, layer=zigzag_layer, accelerator=core)


def _core_label(core: Any) -> str:
    core_id = getattr(core, "id", None)
    name = getattr(core, "name", None)
    return " ".join(str(p) for p in (core_id, f"({name})" if name else None) if p is not None) or repr(core)
