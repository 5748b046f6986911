"""Run Stream 2.1.1 on a workload with stock (``frame``) or zz-event (``event-raw``, ``event``) per-core costs.

:func:`run_stream` is the one front door. It calls :func:`stream.api.evaluate_mapping` (Stream's own entry point:
parse the accelerator, take the fixed mapping or let the generic generator propose one, then per fused group tile,
cost every node on its cores, lower and solve the allocation with OR-Tools) with :data:`zz_event.stream.backend.
MODE_ENV` set to the mode for the duration of the call: ``frame`` leaves Stream's ``zigzag`` backend in charge,
an event mode lets :data:`~zz_event.stream.backend.ZZ_EVENT_BACKEND` claim the ZigZag compute cores.

Layout of ``out_dir``::

    stream_summary.json            what :class:`StreamSummary` holds (written on every run)
    workload_stream.onnx           the ONNX Stream ran, when the input needed a rewrite (see below)
    stream_<mode>/group_<i>/...    Stream's own outputs, per-core cost cache core_cost_lut.pickle included

Each mode has its own Stream directory, and before a run every ``core_cost_lut.pickle`` in it is checked entry by
entry (:func:`~zz_event.stream.backend.foreign_cost_entries`): a cache holding an entry written in another mode is
deleted, never reused. After the run the caches are checked again, so a summary never mixes modes.

Workload rewrite: Stream's Gemm parser ignores ``transB``, reading ``B[n][k]`` as ``B[k][n]``; behind a folded
Flatten that leaves an operand index over three loops, which Stream's ZigZag estimator cannot express, and whose
ideal-cycle fallback then crashes. An ONNX whose Gemms carry ``transB=1`` over an initializer is therefore run with
that initializer transposed and ``transB=0`` (the same product); the rewrite is listed in the summary.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from zz_event.errors import InputFileError, UnsupportedLayerError, ZzEventError
from zz_event.model.vocabulary import EVENT_MODES, STREAM_MODES
from zz_event.output_files import write_json_atomic
from zz_event.stream.backend import (
    BACKEND_NAME,
    MODE_ENV,
    StreamBackendError,
    foreign_cost_entries,
)
from zz_event.stream.node_geometry import conv_view
from zz_event.stream.run_inputs import data_masks, frame_unrollings
from zz_event.stream.settings import StreamCosting, costing_settings
from zz_event.zigzag.result import layer_result

__all__ = ["NodeCost", "StreamRunOptions", "StreamSummary", "frame_unrollings", "prepare_onnx", "run_stream"]

logger = logging.getLogger(__name__)

SUMMARY_FILE = "stream_summary.json"
LUT_FILE = "core_cost_lut.pickle"
IDEAL_CYCLE = "ideal-cycle"


@dataclass(frozen=True)
class StreamRunOptions:
    """How Stream solves: ``solver`` is a ``stream.opt.solver.SolverBackend`` name (``ortools_highs``,
    ``ortools_gscip``; no Gurobi licence needed), ``time_limit_s`` bounds each group's allocation solve,
    ``stage_options`` reach Stream's stages (e.g. ``fusion_cut_points="per-layer"`` for the generic generator)."""

    solver: str = "ortools_highs"
    time_limit_s: float = 60.0
    temporal_mapping_type: str = "uneven"
    artifacts: bool = True
    stage_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeCost:
    """One per-core cost Stream used: ``node`` on ``core`` in fused group ``group``, and who produced it."""
    group: int
    node: str
    core: int
    latency_cycles: float
    energy_pj: float
    backend: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    macs: int | float | None = None  # executed MACs: the engine's (with data, the mean over the samples), else ZigZag's
    mac_energy_pj: float | None = None
    operand_energy_pj: Mapping[str, float] = field(default_factory=dict)  # W, I, O: every memory level
    word_accesses: Mapping[str, int] = field(default_factory=dict)  # W, I, O: every level and direction
    spatial_mapping: str = ""  # the unrolling over the core's array, in the layer's own loop names (OX, K, ...)
    spatial_unrolling: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # the same, {array dim: {loop: n}}


@dataclass(frozen=True)
class StreamSummary:
    """What a Stream run produced. ``total_latency_cycles`` is Stream's estimate (groups plus dispatch);
    ``total_energy_pj`` its ``energy`` family over every iteration (nodes plus transfers), None if it did not run.
    ``fallbacks`` lists ``node@core`` entries Stream priced with its zero-energy ideal-cycle guess. ``unrollings``:
    the spatial unrollings the run imposed per node (else each node searched its own); ``data``: where the event
    mode's events came from (source, samples, calibration, each layer's mean input density), empty when dense."""

    mode: str
    hardware: str
    workload: str
    mapping: str | None
    total_latency_cycles: float
    total_energy_pj: float | None
    node_energy_pj: float | None
    transfer_energy_pj: float | None
    group_latency_cycles: tuple[float, ...]
    nodes: tuple[NodeCost, ...]
    fallbacks: tuple[str, ...]
    workload_rewrites: tuple[str, ...]
    purged_caches: tuple[str, ...]
    stream_dir: str
    wall_time_s: float
    versions: Mapping[str, str]
    unrollings: Mapping[str, Mapping[str, Mapping[str, int]]] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_stream(
    hardware: str | os.PathLike,
    workload: str | os.PathLike,
    mapping: str | os.PathLike | None,
    mode: str,
    out_dir: str | os.PathLike,
    options: StreamRunOptions | None = None,
    *,
    unrollings: Mapping[str, Mapping[str, Mapping[str, int]]] | None = None,
    data: Any = None,
    calibration: int | None = None,
) -> StreamSummary:
    """Run Stream on ``workload`` (an ONNX path) mapped by ``mapping`` (a Stream mapping YAML, or None for Stream's
    generic generator) onto ``hardware`` (a Stream accelerator YAML) in ``mode``; write
    ``out_dir/stream_summary.json``.

    Event modes only: ``unrollings`` fixes the spatial unrolling of the nodes it names (``{node: {array dim: {loop:
    factor}}}``, e.g. :func:`frame_unrollings` of a frame run: "same spatial mapping"); ``data`` (the network input, as
    ``zz-event run --data`` takes it) makes mode ``event`` cost every Conv/Gemm node on the data, the mean over the
    samples (``calibration``: rank mappings on the first K samples, then cost the pick on all)."""
    if mode not in STREAM_MODES:
        raise ZzEventError(f"Stream mode {mode!r} is not one of {STREAM_MODES}")
    options = options or StreamRunOptions()
    out = Path(out_dir)
    for label, path in (("hardware", hardware), ("workload", workload), ("mapping", mapping)):
        if path is not None and not Path(path).is_file():
            raise InputFileError(f"{label} file not found; expected a Stream {label} file", str(path))
    out.mkdir(parents=True, exist_ok=True)
    onnx_path, rewrites = prepare_onnx(Path(workload), out / "workload_stream.onnx")
    stream_dir = out / f"stream_{mode}"
    purged = _purge_foreign_caches(stream_dir, mode)
    if mode in EVENT_MODES:
        _require_backend()
    elif unrollings or data is not None:
        raise ZzEventError(f"spatial unrollings and data apply to the event modes {EVENT_MODES}, not {mode!r}")
    if data is not None and mode != "event":
        raise ZzEventError(f"data applies to mode 'event' (corrected costs), not {mode!r}")
    if calibration is not None and data is None:
        raise ZzEventError(f"calibration {calibration}: expected with data only")
    masks, data_block = data_masks(Path(workload), data, calibration)
    costing = StreamCosting(unrollings={str(k): v for k, v in (unrollings or {}).items()}, masks=masks,
                            calibration=calibration)

    from stream.api import SolveOptions, evaluate_mapping  # noqa: PLC0415 -- heavy; keep the module cheap

    solve = SolveOptions(
        backend=options.solver,
        time_limit_s=options.time_limit_s,
        temporal_mapping_type=options.temporal_mapping_type,
        artifacts=options.artifacts,
        stage_options=dict(options.stage_options),
    )
    start = time.perf_counter()
    with _costing_mode(mode), costing_settings(costing):
        estimate = evaluate_mapping(str(hardware), str(onnx_path), str(stream_dir), _opt_str(mapping), solve)
    wall = time.perf_counter() - start
    summary = _summarize(estimate, mode, stream_dir)
    summary = StreamSummary(
        mode=mode,
        hardware=str(hardware),
        workload=str(workload),
        mapping=_opt_str(mapping),
        workload_rewrites=tuple(rewrites),
        purged_caches=tuple(purged),
        stream_dir=str(stream_dir),
        wall_time_s=wall,
        versions={d: version(d) for d in ("stream-dse", "zigzag-dse", "zz-event")},
        unrollings=costing.unrollings,
        data=data_block,
        **summary,
    )
    write_json_atomic(out / SUMMARY_FILE, json.loads(json.dumps(summary.to_json(), default=str)))
    return summary


def prepare_onnx(src: Path, dst: Path) -> tuple[Path, list[str]]:
    """``src``, or ``dst`` holding ``src`` with each Gemm's ``transB`` folded into its initializer; and the rewrites."""
    import onnx  # noqa: PLC0415
    from onnx import numpy_helper  # noqa: PLC0415

    model = onnx.load(str(src))
    initializers = {init.name: init for init in model.graph.initializer}
    rewrites: list[str] = []
    for node in model.graph.node:
        if node.op_type != "Gemm":
            continue
        attrs = {a.name: a for a in node.attribute}
        if attrs.get("transA") is not None and attrs["transA"].i:
            raise InputFileError(f"Gemm {node.name!r} has transA=1, which Stream 2.1.1 ignores", str(src))
        if attrs.get("transB") is None or not attrs["transB"].i:
            continue
        weight = initializers.get(node.input[1])
        if weight is None:
            raise InputFileError(
                f"Gemm {node.name!r} has transB=1 over a computed B, which Stream 2.1.1 ignores; expected an "
                f"initializer B (transposed here) or transB=0",
                str(src),
            )
        weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight).T.copy(), weight.name))
        attrs["transB"].i = 0
        rewrites.append(f"{node.name}: transB=1 folded into initializer {weight.name}")
    if not rewrites:
        return src, []
    onnx.save(model, str(dst))
    return dst, rewrites


@contextmanager
def _costing_mode(mode: str) -> Iterator[None]:
    previous = os.environ.get(MODE_ENV)
    os.environ[MODE_ENV] = mode
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MODE_ENV, None)
        else:
            os.environ[MODE_ENV] = previous


def _require_backend() -> None:
    from stream.stages.estimation.core_cost_backends import discover_backends  # noqa: PLC0415

    names = [backend.name for backend in discover_backends()]
    if BACKEND_NAME not in names:
        raise StreamBackendError(
            f"Stream does not discover the {BACKEND_NAME!r} core-cost backend (found {names}); reinstall zz-event "
            f"(`pip install -e .`) or add zz-event to STREAM_OVERLAYS if that variable is set"
        )


def _load_lut(path: Path) -> dict:
    with path.open("rb") as fp:
        data = pickle.load(fp)  # Stream's own cache, written by this process's Stream
    return data.get("lut", {}) if isinstance(data, dict) else {}


def _purge_foreign_caches(stream_dir: Path, mode: str) -> list[str]:
    """Delete every cost cache under ``stream_dir`` holding an entry ``mode`` must not reuse."""
    purged: list[str] = []
    for path in sorted(stream_dir.rglob(LUT_FILE)) if stream_dir.exists() else []:
        try:
            foreign = foreign_cost_entries(_load_lut(path), mode)
        except Exception as exc:  # noqa: BLE001 -- an unreadable cache is as unusable as a foreign one
            foreign = [f"unreadable ({type(exc).__name__}: {exc})"]
        if foreign:
            logger.warning("Deleting %s: %d entries from another costing mode (%s)", path, len(foreign), foreign[0])
            path.unlink()
            path.with_suffix(".yaml").unlink(missing_ok=True)
            purged.append(str(path))
    return purged


def _summarize(estimate: Any, mode: str, stream_dir: Path) -> dict[str, Any]:
    allocations = estimate.context.get("group_allocations")
    nodes: list[NodeCost] = []
    energy: dict[str, float] | None = {"total": 0.0, "node": 0.0, "transfer": 0.0}
    for group in sorted(allocations):
        lut_path = stream_dir / f"group_{group}" / LUT_FILE
        lut = _load_lut(lut_path) if lut_path.exists() else {}
        if foreign := foreign_cost_entries(lut, mode):
            raise StreamBackendError(f"{lut_path} mixes costing modes after a {mode!r} run: {foreign}")
        nodes.extend(_node_costs(group, lut))
        group_energy = ((allocations[group] or {}).get("performance") or {}).get("energy")
        if energy is None or not group_energy:
            energy = None
            continue
        iterations = float(group_energy["total_pj"]) / (float(group_energy["per_iteration_pj"]) or 1.0)
        energy["total"] += float(group_energy["total_pj"])
        energy["node"] += float(group_energy["node_pj_per_iteration"]) * iterations
        energy["transfer"] += float(group_energy["transfer_pj_per_iteration"]) * iterations
    return {
        "total_latency_cycles": float(estimate.cycles),
        "total_energy_pj": energy and energy["total"],
        "node_energy_pj": energy and energy["node"],
        "transfer_energy_pj": energy and energy["transfer"],
        "group_latency_cycles": tuple(float(c) for c in estimate.group_cycles),
        "nodes": tuple(nodes),
        "fallbacks": tuple(f"{n.node}@{n.core}" for n in nodes if n.backend == IDEAL_CYCLE),
    }


def _node_costs(group: int, lut: Mapping) -> list[NodeCost]:
    rows = []
    for node, per_core in lut.items():
        for core, entry in per_core.items():
            meta = {str(k): v for k, v in (entry.metadata or {}).items() if isinstance(v, str | int | float | bool)}
            rows.append(
                NodeCost(
                    group=group,
                    node=node.name,
                    core=int(core.id),
                    latency_cycles=float(entry.latency_total),
                    energy_pj=float(entry.energy_total),
                    backend=str(meta.get("backend", "?")),
                    metadata=meta,
                    **_breakdown(entry.cme),
                    spatial_mapping=_spatial_mapping(node, entry.cme),
                    spatial_unrolling=_spatial_unrolling(node, entry.cme),
                )
            )
    return rows


# Stream's layers name a MAC's operands A (the activations, ZigZag's I) and B (the weights, W); zz-event's W, I, O.
_OPERAND_NAMES = {"A": "I", "B": "W", "O": "O", "I": "I", "W": "W"}


def _breakdown(cme: Any) -> dict[str, Any]:
    """MAC energy, memory energy and word accesses per operand (W, I, O) of a ZigZag CME, or nothing without one."""
    if cme is None:
        return {}
    figures = layer_result(cme).event_driven
    energy: dict[str, float] = {}
    words: dict[str, int] = {}
    for op, value in figures.operand_energy_pj.items():
        name = _OPERAND_NAMES.get(op, op)
        energy[name] = energy.get(name, 0.0) + value
    for op in figures.word_accesses:
        name = _OPERAND_NAMES.get(op, op)
        words[name] = words.get(name, 0) + figures.words(op)
    macs = float(figures.macs)  # with data a mean over the samples, else an integer count
    return {"macs": int(macs) if macs.is_integer() else macs, "mac_energy_pj": float(figures.mac_energy_pj),
            "operand_energy_pj": energy, "word_accesses": words}  # fmt: skip


def _opt_str(path: str | os.PathLike | None) -> str | None:
    return None if path is None else str(path)


def _spatial_mapping(node: Any, cme: Any) -> str:
    """``cme``'s spatial mapping, Stream's ``D<n>`` dims of a convolution or matrix product named as the engine
    names them (``conv_view``); other nodes keep Stream's names."""
    if cme is None:
        return ""
    names = _engine_names(node, cme)
    return "; ".join(
        f"{oa}: " + " x ".join(f"{names.get(str(d), str(d))} {round(float(f), 2):g}" for d, f in single.items())
        for oa, single in cme.layer.spatial_mapping.items()
    )


def _spatial_unrolling(node: Any, cme: Any) -> dict[str, dict[str, int]]:
    """The same as ``{array dim: {loop: factor}}``, factors as the array runs them (rounded up), ones left out."""
    if cme is None:
        return {}
    names = _engine_names(node, cme)
    out: dict[str, dict[str, int]] = {}
    for oa, single in cme.layer.spatial_mapping.items():
        per = out.setdefault(str(oa), {})
        for d, f in single.items():
            if math.ceil(float(f) - 1e-9) > 1:
                name = names.get(str(d), str(d))
                per[name] = per.get(name, 1) * math.ceil(float(f) - 1e-9)
    return out


def _engine_names(node: Any, cme: Any) -> Mapping[str, str]:
    if not any(str(d).startswith("D") for d in cme.layer.layer_dim_sizes.data):
        return {}
    try:
        return conv_view(node, cme.layer).dim_names
    except UnsupportedLayerError:  # pooling, ReLU: no engine names; Stream's D<n> are kept
        return {}
