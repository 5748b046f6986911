"""zz-event's Stream core-cost backend: event-driven per-core costs through Stream 2.1.1's official seam.

Stream 2.1.1's core-cost seam, as read from the installed sources
==================================================================

Registration. A backend is an entry point in the group ``stream.core_cost_backends``
(``stream/stages/estimation/core_cost_backends.py``, ``CORE_COST_BACKENDS_GROUP``, ``CONTRACT_VERSION = 1``).
Its target is an object, or a class Stream instantiates without arguments, with a ``name: str``, a
``priority: int``, ``claims(core) -> bool`` and ``make(context) -> estimator``. ``stream.plugins.load_group``
discovers the group through ``importlib.metadata`` once per process (``functools.cache``), skips a distribution
that ``STREAM_OVERLAYS`` (comma-separated allowlist, when set) does not name, and skips -- with only a warning --
a plugin that fails to import. Built-ins: ``aie`` (priority 10, claims ``aie2.*`` compute tiles) and ``zigzag``
(priority 0, claims every core). zz-event registers ``zz_event = zz_event.stream.backend:ZZ_EVENT_BACKEND``.

Selection, per core. ``CoreCostEstimationStage.update_cost_lut`` walks every computation node of a fused group's
tiled workload and every core of its resource allocation. For a (node, core) pair its LUT lacks it calls
``select_backend(core).make(stage).estimate(node, core)``: among the discovered backends whose ``claims(core)`` is
true, the highest ``priority`` wins, a tie going to the later registration. ``claims`` sees only the ``Core``
(``core.id``, ``core.core_type`` such as ``"zigzag.compute"``, ``core.type`` such as ``"compute"``), never the
node or the run, and must be cheap (the conformance kit checks it imports nothing heavy). ``make`` is called anew
for every uncached pair, with the stage itself as ``context`` (``CoreCostContext``: ``workload``,
``accelerator``, ``mapping``, ``temporal_mapping_type``, ``loma_lpf_limit``, ``nb_spatial_mappings_generated``,
``fusion_splits``; the stage also has ``ctx``, ``output_path``, ``cost_lut``).

What an estimator receives and returns. ``estimate(node, core)`` gets a ``stream.workload.node.ComputationNode``
(op ``type``, ``inputs``/``outputs`` tensors, one xdsl ``AffineMap`` per tensor in ``operand_mapping``: a Conv
iterates ``(b, ox, oy, fx, fy, c, k)`` = ``D0..D6`` and reads its input at ``s*oy + d*fy - pad``; a Gemm
``(m, k, n)``, a folded Flatten splitting ``k`` into more loops) and a ``stream.hardware.architecture.core.Core``
(``core.to_zigzag_core()`` is its ZigZag ``Accelerator``). It returns a ``stream.cost_model.core_cost.CoreCostEntry``:

- ``latency_total``: cycles one evaluation of the node keeps the core busy (ZigZag: ``latency_total2 -
  systolic_drain_cycle``); the allocation takes ``ceil`` of the max over the node's cores, times its active fraction;
- ``energy_total``: pJ per evaluation; the ``energy`` family multiplies it by the active fraction, per core placed;
- ``ideal_cycle``, ``ideal_temporal_cycle``: reported as ideal compute cycles / efficiency;
- ``mem_energy_breakdown``, ``cme`` (a ZigZag ``CostModelEvaluation`` or None), ``mapping`` (``cme.mapping``,
  read for the allocation report's loops), ``layer`` (the node: its ``type`` and ``operand_mapping`` are read);
- ``metadata``: ``"backend"`` (must name a registered backend, or ``"ideal-cycle"``; the report flags a MAC node
  tagged ``"ideal-cycle"`` as a fallback) and ``"drain_cycles"`` (the ``overlap`` family reads it).

Any other attribute of an entry is delegated to its ``cme`` (e.g. ``mac_spatial_utilization``). Optional
capabilities are found on the *backend* with ``isinstance`` against runtime-checkable protocols:
``port_traffic(entry) -> ((role, direction, bits), ...)`` (``traffic`` family: words each operand's top memory
level moves to/from the datapath, ``cme.memory_word_access[op][top]``, times the port width) and
``contiguous_axes(entry)`` (``layouts``: per tensor, the axes ``cme.layer.spatial_mapping`` unrolls widest).
A backend that does not subclass ``ZigZagBackend`` loses both, so the one here subclasses it and hands Stream a
corrected CME: the corrected ``memory_word_access`` then flows into Stream's port traffic too.

Caching. The stage keeps a ``CoreCostLUT`` at ``<output_path>/group_<i>/core_cost_lut.pickle`` (``{"version":
COST_MODEL_VERSION (1), "lut": {node: {core: entry}}}`` plus a ``core_cost_lut.yaml`` summary), loads it when
the stage is built and reuses any entry whose node is equal (and whose ``node_key``, a digest of op type and
per-operand precision, shape and map, matches) on the same core -- whichever backend wrote it. A new node equal
to a costed one on an interchangeable core of the same performance gets a copy of that entry. Nothing in the file
records the backend's mode, so :mod:`zz_event.stream.runner` gives every mode its own output directory and
checks the tags of a cache before Stream may reuse it (:func:`foreign_cost_entries`).

How ``ZigZagBackend`` runs ZigZag for a node (``ZigZagCostEstimator``). ``get_layer_node(node, core)`` builds a
ZigZag ``LayerNode`` (``layer_id`` 0): loop dims ``D0..D{n-1}`` as the node's loops at their per-core extent (a
dim split evenly across cores by ``inter_core_tiling`` is divided by the split); each two-term operand index
``c1*Da + c2*Db (+ const)`` becomes an extra dim ``D{n+j}`` with the relation ``D{n+j} = c1*Da + c2*Db`` and as
``pr`` size the operand's interior-tile extent; the constant (the padding) is dropped and ``padding`` is empty,
so Stream's layer is always output-centric and unpadded; an index with more than two loops fails. Equation
``O[..] = A[..] * B[..]`` over the first two inputs of a MAC op (a bias is dropped); precisions from the tensor
dtypes, ``O`` at the core's ``operand_precision.accumulator`` for MAC ops; every input constant, sourced from
layer 0; memory operands ``A -> I1``, ``B -> I2``, ``O -> O``; spatial mapping = the core's ``dataflows`` or
empty (generated), no hint, no temporal ordering (LOMA searches). ``run_zigzag`` runs ZigZag's ``MainStage`` with
``[MinimalLatencyStage, SpatialMappingGeneratorStage, MinimalLatencyStage, TemporalMappingGeneratorStage,
CostModelStage]`` on ``core.to_zigzag_core()`` with ``loma_lpf_limit`` (``stream.api`` fixes 6),
``temporal_mapping_type`` (``SolveOptions``: uneven), ``nb_mappings_generated = nb_spatial_mappings_generated``
(1), once without and, if it fills more of the array, once with mixed spatial mappings, keeping the lower steady
latency; ``increase_cc_per_op`` then re-evaluates the CME at 4 cycles/op for silu/sigmoid/exp.
When any of this raises, ``estimate`` logs a warning and returns an "ideal-cycle" entry: ``ceil(prod(dims) /
units) * cycles_per_op`` cycles and **zero energy** (``cme=None``). That fallback rebuilds the layer's
attributes, so a failure in building the layer (a three-loop index: a Gemm reading a folded Flatten through
``transB`` weights) crashes the run instead.

This module
===========

:data:`ZZ_EVENT_BACKEND` (``name = "zz_event"``, ``priority = 5``: above ``zigzag``, below ``aie``) claims
``zigzag.compute`` cores only while event-driven costing is requested through :data:`MODE_ENV`, so a stock Stream
run, or :func:`zz_event.stream.runner.run_stream` in ``frame`` mode, never sees it. Its estimator sends every MAC
node to :func:`zz_event.stream.costing.cost_node_event_driven` (the seam; imported when a node is first costed)::

    cost_node_event_driven(node: ComputationNode, core: zigzag Accelerator, *, layer: zigzag LayerNode,
                           mode: "event-raw" | "event", search: ZigZagSearch) -> CostModelEvaluation

``layer`` is the output-centric layer Stream built for this core (:func:`conv_view` names its ``D`` dims and gives
the tile's true geometry), ``search`` the ZigZag search Stream asked for; the result is, in mode ``event``, the
chosen mapping's CME with corrected counts substituted (a ``CorrectedCME``, its ``raw`` holding ZigZag's figures),
in mode ``event-raw`` plain ZigZag's CME of the input-centric layer, or ``UnsupportedLayerError`` to keep ZigZag's
own cost (tagged in the entry's ``costing``). It costs non-MAC nodes with ZigZag as Stream does, and raises
:class:`zz_event.errors.StreamBackendError` (re-exported here) wherever Stream would fall back to a zero-energy
estimate.

What the engine must know about Stream's layers: their dims are ``D0..Dn``, not ``B, K, C, OY, ...``
(``zz_event.zigzag.adapter.layer_is_correctable`` rejects them; :func:`conv_view` maps them); they are the
tile one core runs after the inter-core split, costed once and copied to every interchangeable core, so a conv
split along a padded spatial axis has edge tiles that differ from the one costed (:func:`conv_view` refuses
it); and ZigZag's per-node search is ~90 % of a Stream run's wall time (LeNet-5 on the single-core toy
architecture: ~6,300 cost-model evaluations), so the engine's cost per evaluation is the overhead that matters.
"""

from __future__ import annotations

import importlib
import logging
import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stream.cost_model.core_cost import CoreCostEntry
from stream.stages.estimation.core_cost_backends import CoreCostContext, ZigZagBackend
from stream.stages.estimation.zigzag_cost_estimator import ZigZagCostEstimator
from stream.workload.utils import is_mac_operator_type
from zigzag.cost_model.cost_model import CostModelEvaluation

from zz_event.errors import StreamBackendError, UnsupportedLayerError
from zz_event.model.vocabulary import EVENT_MODES, FRAME_MODE
from zz_event.stream.node_geometry import ConvView, conv_view

if TYPE_CHECKING:
    from stream.hardware.architecture.core import Core
    from stream.workload.workload import ComputationNode
    from zigzag.mapping.temporal_mapping import TemporalMappingType

__all__ = [
    "BACKEND_NAME",
    "MODE_ENV",
    "ZZ_EVENT_BACKEND",
    "ConvView",
    "StreamBackendError",
    "ZigZagSearch",
    "ZzEventBackend",
    "ZzEventCostEstimator",
    "active_mode",
    "conv_view",
    "entry_from_cme",
    "foreign_cost_entries",
]

logger = logging.getLogger(__name__)

BACKEND_NAME = "zz_event"
MODE_ENV = "ZZ_EVENT_STREAM_MODE"
_ENGINE = ("zz_event.stream.costing", "cost_node_event_driven")


def active_mode() -> str:
    """The costing mode :data:`MODE_ENV` requests: ``"frame"`` when unset or empty, else one of :data:`EVENT_MODES`."""
    mode = os.environ.get(MODE_ENV, "").strip() or FRAME_MODE
    if mode != FRAME_MODE and mode not in EVENT_MODES:
        raise StreamBackendError(
            f"{MODE_ENV}={mode!r} is not a costing mode; expected unset, {FRAME_MODE!r} or one of {EVENT_MODES}"
        )
    return mode


@dataclass(frozen=True)
class ZigZagSearch:
    """How Stream asked ZigZag to search a node's mappings; the engine should search the same space. Stream also
    retries with mixed spatial mappings when they fill more of the array, keeping the lower steady latency
    (``ZigZagCostEstimator.run_zigzag``)."""

    loma_lpf_limit: int
    temporal_mapping_type: TemporalMappingType
    nb_spatial_mappings_generated: int = 1


class ZzEventBackend(ZigZagBackend):
    """The zz-event core-cost backend: ZigZag's port traffic and layouts, event-driven costs."""

    name = BACKEND_NAME
    priority = 5

    def claims(self, core: Core) -> bool:
        """True for a ZigZag compute core while :data:`MODE_ENV` names an event mode. Reads one variable."""
        if os.environ.get(MODE_ENV, "").strip() not in EVENT_MODES:
            return False
        return str(getattr(core, "core_type", "")) == "zigzag.compute"

    def make(self, context: CoreCostContext) -> ZzEventCostEstimator:
        mode = active_mode()
        if mode not in EVENT_MODES:
            raise StreamBackendError(f"the zz_event backend was selected while {MODE_ENV} requests {mode!r}")
        return ZzEventCostEstimator(
            workload=context.workload,
            accelerator=context.accelerator,
            mapping=context.mapping,
            temporal_mapping_type=context.temporal_mapping_type,
            loma_lpf_limit=context.loma_lpf_limit,
            nb_spatial_mappings_generated=context.nb_spatial_mappings_generated,
            mode=mode,
        )


@dataclass
class ZzEventCostEstimator(ZigZagCostEstimator):
    """Stream's ZigZag estimator with the engine in place of ZigZag for MAC nodes and no silent fallback."""

    mode: str = "event"
    engine: Any = field(default=None, repr=False)  # injectable for tests; default: zz_event.stream.costing's

    def estimate(self, node: ComputationNode, core: Core) -> CoreCostEntry:
        layer = self._layer(node, core)
        if not is_mac_operator_type(node.type):
            return self._zigzag_entry(node, core, layer, note="zigzag: not a MAC operator")
        engine = self._engine()
        try:
            cme = engine(node, core.to_zigzag_core(), layer=layer, mode=self.mode, search=self._search())
        except UnsupportedLayerError as exc:
            logger.warning("zz-event keeps ZigZag's cost for %s on core %s: %s", node.name, core.id, exc)
            return self._zigzag_entry(node, core, layer, note=f"zigzag: {exc}")
        except Exception as exc:
            raise StreamBackendError(
                f"event-driven costing of node {node.name!r} on core {core.id} failed ({type(exc).__name__}: "
                f"{exc}); zz-event does not fall back to Stream's zero-energy estimate -- fix the layer, core "
                f"or mapping, or run in 'frame' mode"
            ) from exc
        return entry_from_cme(cme, node, self.mode)

    def _search(self) -> ZigZagSearch:
        return ZigZagSearch(self.loma_lpf_limit, self.temporal_mapping_type, self.nb_spatial_mappings_generated)

    def _engine(self) -> Any:
        if self.engine is not None:
            return self.engine
        module_name, attr = _ENGINE
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise StreamBackendError(
                f"{module_name}.{attr} is not available ({exc}); event-driven Stream modes need the zz-event "
                f"engine -- run in 'frame' mode until it is installed"
            ) from exc

    def _layer(self, node: ComputationNode, core: Core) -> Any:
        try:
            return self.get_layer_node(node, core)
        except Exception as exc:
            raise StreamBackendError(
                f"Stream cannot express node {node.name!r} ({node.type}) as a ZigZag layer for core {core.id} "
                f"({type(exc).__name__}: {exc}); an operand index over more than two loops (a Gemm reading a "
                f"folded Flatten through transB weights) is the usual cause -- give the Gemm untransposed weights"
            ) from exc

    def _zigzag_entry(self, node: ComputationNode, core: Core, layer: Any, note: str) -> CoreCostEntry:
        """Stream's own ZigZag cost of ``node``, raising where Stream would fall back to an ideal-cycle guess."""
        try:
            cme = self.increase_cc_per_op(self.run_zigzag(layer, core), node.type)
        except Exception as exc:
            raise StreamBackendError(
                f"ZigZag could not cost node {node.name!r} ({node.type}) on core {core.id} ({type(exc).__name__}: "
                f"{exc}); in event modes zz-event raises instead of using Stream's zero-energy ideal-cycle estimate"
            ) from exc
        metadata = {"backend": BACKEND_NAME, "zz_event_mode": self.mode, "costing": note,
                    "drain_cycles": float(cme.systolic_drain_cycle)}
        return _cost_entry(cme, node, float(self.steady_latency(cme)), float(cme.energy_total), metadata)


def entry_from_cme(cme: CostModelEvaluation, node: ComputationNode, mode: str) -> CoreCostEntry:
    """The ``CoreCostEntry`` Stream stores for the engine's CME, as ``ZigZagBackend`` builds it (steady latency =
    ``latency_total2 - systolic_drain_cycle``), tagged with the mode and ZigZag's raw scalars (``cme.raw``, as
    ``zz_event.zigzag.corrected_cme.CorrectedCME`` carries them); latency and energy must be finite and positive."""
    if not isinstance(cme, CostModelEvaluation):
        raise StreamBackendError(
            f"the engine returned a {type(cme).__name__} for node {node.name!r}; expected a ZigZag "
            f"CostModelEvaluation (a zz_event.zigzag.corrected_cme.CorrectedCME) carrying the corrected costs"
        )
    latency, energy = cme.latency_total2 - cme.systolic_drain_cycle, cme.energy_total
    for label, value in (("latency_cycles", latency), ("energy_pj", energy)):
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
            raise StreamBackendError(
                f"the engine returned {label}={value!r} for node {node.name!r}; expected a finite positive number "
                f"(a zero would silently make the node free in Stream's schedule)"
            )
    raw = getattr(cme, "raw", None) or {}
    metadata: dict[str, Any] = {
        "backend": BACKEND_NAME,
        "zz_event_mode": mode,
        "costing": _costing_label(mode, bool(raw)),
        "drain_cycles": float(cme.systolic_drain_cycle),
    }
    metadata.update({f"raw_{k}": v for k, v in raw.items() if isinstance(v, numbers.Real)})
    return _cost_entry(cme, node, float(latency), float(energy), metadata)


def _cost_entry(cme: CostModelEvaluation, node: ComputationNode, latency: float, energy: float,
                metadata: dict[str, Any]) -> CoreCostEntry:
    """Stream's cost entry for a CME, the fields filled as ``ZigZagBackend`` fills them."""
    return CoreCostEntry(
        energy_total=energy,
        latency_total=latency,
        ideal_cycle=float(cme.ideal_cycle),
        ideal_temporal_cycle=float(cme.ideal_temporal_cycle),
        mem_energy_breakdown=cme.mem_energy_breakdown,
        cme=cme,
        mapping=cme.mapping,
        layer=node,
        metadata=metadata,
    )


def _costing_label(mode: str, corrected: bool) -> str:
    if corrected:
        return "event-driven"
    if mode == "event-raw":
        return "zigzag on the input-centric layer (event-raw)"
    return "zigzag (engine returned an uncorrected CME)"


def foreign_cost_entries(lut: Mapping[Any, Mapping[Any, CoreCostEntry]], mode: str) -> list[str]:
    """``"node@core: why"`` for each entry of a loaded ``CoreCostLUT.lut`` that ``mode`` must not reuse.

    An event mode reuses only zz_event entries of the same mode; ``frame`` only entries zz-event did not write.
    """
    foreign: list[str] = []
    for node, per_core in lut.items():
        for core, entry in per_core.items():
            meta = getattr(entry, "metadata", None) or {}
            backend, tag = meta.get("backend"), meta.get("zz_event_mode")
            if mode in EVENT_MODES and (backend != BACKEND_NAME or tag != mode):
                reason = f"written by backend {backend!r} in mode {tag or FRAME_MODE!r}"
            elif mode not in EVENT_MODES and backend == BACKEND_NAME:
                reason = f"written by zz_event in mode {tag!r}"
            else:
                continue
            foreign.append(f"{getattr(node, 'name', node)}@{getattr(core, 'id', core)}: {reason}")
    return foreign


# Entry-point target (pyproject.toml: [project.entry-points."stream.core_cost_backends"]).
ZZ_EVENT_BACKEND = ZzEventBackend()
