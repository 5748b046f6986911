"""Check and run one point: the sweep's only door into the rest of zz-event (ZigZag pipeline and readers).

Every point costs the MAC layers of its workload (convolutions and matrix products, or those named in
`layers`), each on its own with both inputs constant, as `zz-event report` and Stream cost a node: written
input-centric for the event modes and output-centric for the frame modes, with the workload's own operand
precisions, so that every mode costs the very same layers. One ZigZag search per point, its correction inline
(a Dask worker is the unit of parallelism), without LOMA's progress bar.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from stream.parser.accelerator_validator import AcceleratorValidator
from zigzag.stages.results.save import CompleteSaveStage, PickleSaveStage, SimpleSaveStage
from zigzag.stages.results.visualization import VisualizationStage
from zigzag.stages.stage import Stage

from zz_event.engine.result import EngineOptions
from zz_event.errors import ZzEventError
from zz_event.provenance import provenance
from zz_event.readers.hardware import check_accelerator, read_yaml
from zz_event.readers.layers import captured_log, read_yaml_list
from zz_event.readers.mappings import load_mapping
from zz_event.readers.workloads import load_workload
from zz_event.report.single_core import ReportLayer, input_centric, output_centric, temporal_ordering
from zz_event.stream.runner import StreamRunOptions, run_stream
from zz_event.sweep.resolve import STREAM_OPTIONS
from zz_event.zigzag.correction import correct_cme
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.result import layer_result
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import correction_stage
from zz_event.zigzag.summary import layer_summary

__all__ = ["LayerEntry", "check_job", "run_job", "tool_versions"]

_SWITCHES = {"event": EngineOptions(True, True), "event-filter": EngineOptions(True, False),
             "exact-dense": EngineOptions(False, False)}  # fmt: skip
_STATIONARY = {"frame-WS": frozenset({"B", "OY", "OX"}), "frame-OS": frozenset({"C", "FY", "FX"})}


@dataclass(frozen=True)
class LayerEntry:
    """One costed layer: its summary.json entry (`zz_event.zigzag.summary`) and a note on how it was chosen."""

    summary: dict[str, Any]
    note: str = ""


@dataclass(frozen=True)
class _Files:
    workload: str
    accelerator: str
    mapping: str | None


def tool_versions() -> dict[str, str | None]:
    info = provenance()
    return {**info["versions"], "commit": info["commit"]}


def check_job(job) -> None:
    """Raise ZzEventError (one line) if the job's files or layers cannot run; nothing is costed."""
    with tempfile.TemporaryDirectory(prefix="zz-event-sweep-") as tmp:
        files = _materialize(job, Path(tmp))
        if job.is_stream:
            return _check_stream(files)
        check_accelerator(files.accelerator)
        layers, prepared = _mac_layers(files.workload, job.layers)
        if not job.mode.startswith("frame-"):
            load_mapping(files.mapping, _input_centric(layers, prepared))
        else:
            read_yaml_list(Path(files.mapping), "mapping", "layer or operator type")


def run_job(job) -> list[LayerEntry] | Any:
    """The job's MAC layers costed in its mode, in network order; a Stream point's `StreamSummary`."""
    with tempfile.TemporaryDirectory(prefix="zz-event-sweep-") as tmp:
        files = _materialize(job, Path(tmp))
        if job.is_stream:
            return _stream(job, files, Path(tmp))
        layers, prepared = _mac_layers(files.workload, job.layers)
        if job.mode.startswith("frame-"):
            return _frame(job, files, layers, prepared, tmp)
        return _event(job, files, layers, prepared, tmp)


def _materialize(job, folder: Path) -> _Files:
    """The job's contents as files (ZigZag, Stream and the readers take paths); a Stream point's cores in
    `cores/`, as its top file names them."""
    files = _Files(str(folder / f"workload{job.workload_suffix}"), str(folder / "accelerator.yaml"),
                   str(folder / "mapping.yaml") if job.mapping else None)  # fmt: skip
    Path(files.workload).write_bytes(job.workload)
    Path(files.accelerator).write_text(job.accelerator, encoding="utf-8")
    if files.mapping:
        Path(files.mapping).write_text(job.mapping, encoding="utf-8")
    for name, text in job.stream_cores:
        (folder / "cores").mkdir(exist_ok=True)
        (folder / "cores" / name).write_text(text, encoding="utf-8")
    return files


def _check_stream(files: _Files) -> None:
    """Stream's own accelerator validator on the substituted files; the ONNX and mapping must read."""
    with captured_log("stream.parser.accelerator_validator"):
        validator = AcceleratorValidator(yaml.safe_load(Path(files.accelerator).read_text()), files.accelerator)
        valid = validator.validate()
    if not valid:
        raise ZzEventError(f"Stream's accelerator validator rejects it: {'; '.join(validator.errors)[:400]}",
                           "<stream_hardware>")  # fmt: skip
    load_workload(files.workload)
    if files.mapping and not isinstance(read_yaml(files.mapping), dict):
        raise ZzEventError("is not a Stream mapping (expected a mapping with `layers`)", "<stream_mapping>")


def _stream(job, files: _Files, folder: Path) -> Any:
    """Stream on the point's files (`zz_event.stream.runner.run_stream`), without its artifacts."""
    options = StreamRunOptions(solver=STREAM_OPTIONS["solver"], time_limit_s=STREAM_OPTIONS["time_limit_s"],
                               artifacts=False)  # fmt: skip
    return run_stream(files.accelerator, files.workload, files.mapping, job.mode, folder / "stream", options)


def _mac_layers(workload: str, only: tuple[str, ...] | None) -> tuple[tuple[ReportLayer, ...], Any]:
    prepared = load_workload(workload)
    known = list(prepared.geometry)
    unknown = [name for name in only or () if name not in known]
    if unknown or not known:
        raise ZzEventError(f"layers {', '.join(unknown) or '(none)'} are not MAC layers of the workload; "
                           f"it has {', '.join(known) or 'no convolution or matrix product'}")  # fmt: skip
    layers = tuple(ReportLayer(n, prepared.origins[n].op_type, prepared.geometry[n]) for n in known
                   if not only or n in only)  # fmt: skip
    grouped = [layer.name for layer in layers if layer.geometry.G != 1]
    if grouped:
        raise ZzEventError(f"grouped convolutions ({', '.join(grouped)}) are not supported by the sweep yet")
    return layers, prepared


def _with_precision(layer_dict: dict, prepared: Any) -> dict:
    """A layer written by report_single (one precision for all operands) with the workload's own precisions."""
    layer_dict["operand_precision"] = dict(prepared.layer(layer_dict["name"])["operand_precision"])
    return layer_dict


def _input_centric(layers, prepared):
    return load_workload([_with_precision(input_centric(layer, i, 0), prepared) for i, layer in enumerate(layers)])


def _inputs(files: _Files, dump: str) -> dict[str, Any]:
    """What the pipeline's first stages read, bar the workload and mapping."""
    return {"accelerator": files.accelerator, "dump_folder": dump, "pickle_filename": str(Path(dump) / "cmes.pickle")}


def _settings(job) -> RunSettings:
    return RunSettings(opt=job.opt, lpf_limit=job.lpf_limit, nb_spatial_mappings_generated=job.spatial_mappings,
                       loma_show_progress_bar=False)  # fmt: skip


def _stages(job, correction: list) -> list:
    """ZigZag's stage list without its writers (JSON, pickle, figures): a point keeps only its rows, and
    ZigZag's visualisation and pickling of every CME cost a LeNet-5 point about a second."""
    writers = (CompleteSaveStage, PickleSaveStage, SimpleSaveStage, VisualizationStage)
    return [stage for stage in build_stages(_settings(job), correction) if stage not in writers]


def _event(job, files: _Files, layers, prepared, dump: str) -> list[LayerEntry]:
    """event / event-filter / exact-dense: ZigZag ranks on the engine's counts; event-raw: plain ZigZag, its
    pick then counted exactly (event-driven, both switches) for the corrected columns."""
    centric = _input_centric(layers, prepared)
    correction = CorrectionSettings.for_workload(centric, options=_SWITCHES.get(job.mode, EngineOptions()))
    raw = job.mode == "event-raw"
    cmes = main_stage(_stages(job, [] if raw else [correction_stage(job.opt)]), _settings(job), correction,
                      workload=centric.zigzag_workload, mapping=load_mapping(files.mapping, centric),
                      **_inputs(files, dump)).run()
    chosen = [cme for _total, per_layer in cmes for cme, _extra in per_layer]
    if raw:
        event = CorrectionSettings.for_workload(centric, options=EngineOptions(True, True))
        chosen = [correct_cme(cme, event) for cme in chosen]
    note = "ZigZag's pick, counted exactly" if raw else ""
    return [LayerEntry(layer_summary(layer_result(cme)), note) for cme in chosen]


def _frame(job, files: _Files, layers, prepared, dump: str) -> list[LayerEntry]:
    """frame-WS / frame-OS: plain ZigZag on the output-centric layers; the best mapping (by `opt`) whose
    innermost temporal loop keeps the weight (WS) or the output (OS) in the MAC, else the best of all."""
    sink: dict[str, dict[str, Any]] = {}
    collector = type("SweepFrameCollector", (_BestStage,), {"sink": sink, "dims": _STATIONARY[job.mode],
                                                            "opt": job.opt})  # fmt: skip
    workload = [_with_precision(output_centric(layer, i, 0), prepared) for i, layer in enumerate(layers)]
    mapping = read_yaml_list(Path(files.mapping), "mapping", "layer or operator type")
    main_stage(_stages(job, [collector]), _settings(job), workload=workload, mapping=mapping,
               **_inputs(files, dump)).run()
    entries = []
    for layer in layers:
        best = sink[layer.name]
        found = "stationary" in best
        note = "" if found else f"no {job.mode} mapping (no such innermost loop): best of all orderings"
        entries.append(LayerEntry(layer_summary(layer_result(best["stationary" if found else "any"])), note))
    return entries


def _rank(cme: Any, opt: str) -> tuple:
    latency, energy = cme.latency_total2, cme.energy_total
    return {"latency": (latency, energy), "energy": (energy, latency)}.get(opt, (latency * energy, latency))


class _BestStage(Stage):
    """Directly above the temporal-mapping generator: passes every CME up, and keeps per layer the best
    (by `opt`) of all and of those whose innermost temporal loop is in `dims`. Bound by subclassing
    (ZigZag instantiates stages itself)."""

    sink: dict[str, dict[str, Any]]
    dims: frozenset[str]
    opt: str

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        for cme, extra_info in substage.run():
            best = self.sink.setdefault(cme.layer.name, {})
            loops = [dim for dim, size in temporal_ordering(cme) if size > 1]
            for label in ("any", "stationary") if loops and loops[0] in self.dims else ("any",):
                if label not in best or _rank(cme, self.opt) < _rank(best[label], self.opt):
                    best[label] = cme
            yield cme, extra_info
