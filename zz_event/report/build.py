"""The comparison report: event-driven vs frame-based costs of LeNet-5 on one core (ZigZag) and on 1, 2 and 4
cores (Stream), with the reference simulator's check of the single-core numbers.

    from zz_event.report.build import ReportOptions, build_report
    result = build_report("out/demo")          # out/demo/report.md, out/demo/report_files/...

What it runs (nothing is cached between runs; every run recomputes everything):

- single core, ZigZag on ``accelerator`` (the toy 8-MAC core) with ``mapping`` (K on the array), every MAC layer of
  ``network`` four ways: best frame-based weight-stationary and output-stationary mappings, event-raw (plain ZigZag
  on the input-centric layer) and event-driven (zz-event) -- :mod:`zz_event.report.single_core`;
- the same for the layers ``padded_layers`` of ``padded`` (LeNet-5's conv1 with padding 2 on 28x28);
- the reference simulator's replay of every single-core row (:mod:`zz_event.report.costs`);
- Stream on ``inputs/stream`` with 1, 2 and 4 compute cores, each in frame, event-raw and event mode
  (:mod:`zz_event.report.multi_core`);
- with ``data`` (the network input), "When event-driven wins": the single-core event, frame-WS and frame-OS
  mappings costed exactly on every sample, a density sweep and the density-only model's error
  (:mod:`zz_event.report.data_jobs`), once the single-core searches have chosen the mappings.

Every search ranks mappings as Stream does (latency, then energy), at LOMA's ``lpf_limit`` (Stream fixes 6 for its
own runs). The work runs in ``jobs`` worker processes. Output: ``report.md`` and ``report_files/`` (PNG figures,
``report.json`` with every number and its provenance, Stream's summaries), written into a staging folder and moved
into ``out_dir`` only when complete, replacing the previous report's files and nothing else in ``out_dir``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import onnx

from zz_event.errors import InputFileError, ZzEventError
from zz_event.model.vocabulary import STREAM_MODES
from zz_event.output_files import staged_directory, write_json_atomic
from zz_event.provenance import SOURCE_ROOT, provenance
from zz_event.readers.activations import load_batch
from zz_event.readers.inputs import read_zigzag_inputs
from zz_event.report.data_jobs import DATA_TASK_PREFIX, DataChapter, assemble, data_tasks, layer_values
from zz_event.report.jobs import event_job, frame_job, prepare_worker
from zz_event.report.markdown import render
from zz_event.report.multi_core import DATA, StreamCase, same_mapping_job, stream_job
from zz_event.report.plots import draw
from zz_event.report.single_core import SearchSettings

__all__ = ["FILES_DIR", "REPORT_FILE", "ReportData", "ReportOptions", "ReportResult", "build_report"]

ROOT = SOURCE_ROOT
REPORT_FILE = "report.md"
# The data chapter's per-sample tables, by DataChapter field.
CHAPTER_FILES = {"real": "data_samples.csv", "sweep": "density_sweep.csv", "density_model": "density_model.csv"}
FILES_DIR = "report_files"
_STREAM_SECONDS = {"frame": 20.0, "event-raw": 20.0, "event": 80.0}  # LeNet-5, one compute core, idle machine


@dataclass(frozen=True)
class ReportOptions:
    """What the report runs; paths default to this source tree's ``inputs/``."""

    network: str = str(ROOT / "inputs" / "lenet5" / "lenet5_mnist.onnx")  # trained: its ReLU sparsity is real
    padded: str = str(ROOT / "inputs" / "lenet5" / "lenet5_pad2_28.onnx")
    padded_layers: tuple[str, ...] = ("conv1",)
    accelerator: str = str(ROOT / "inputs" / "toy" / "hardware.yaml")
    mapping: str = str(ROOT / "inputs" / "toy" / "mapping_lenet5.yaml")
    inputs: str = str(ROOT / "inputs")
    lpf_limit: int = 6
    precision: int = 32
    cores: tuple[int, ...] = (1, 2, 4)  # Stream's compute cores; () runs no Stream
    modes: tuple[str, ...] = STREAM_MODES
    # Stream's event mode also on this network input (`zz-event run --data`'s forms; a few samples: every one is
    # costed on every core), its searches ranked on the first `calibration` samples.
    stream_data: str | None = None
    calibration: int | None = None
    simulator: bool = True
    # "When event-driven wins": the network input (a .npy batch (N, C, H, W), or mnist:N), None for no chapter;
    # the density sweep's samples (the first of the data) and target densities.
    data: str | None = "mnist:1000"
    sweep_samples: int = 32
    sweep_densities: tuple[float, ...] = (1.0, 0.8, 0.6, 0.45, 0.3, 0.2, 0.1, 0.05)
    jobs: int = 2
    worker_initializer: Callable[[], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ReportData:
    """Every number of the report: rows per layer and costing (``zz_event.report.costs.Row``), Stream summaries per
    (cores, mode), and how long each piece took."""

    options: ReportOptions
    single: dict[str, dict[str, Any]]
    padded: dict[str, dict[str, Any]]
    stream: dict[tuple[int, str], dict[str, Any]]
    job_seconds: dict[str, float]
    provenance: dict[str, Any]
    data: DataChapter | None = None


@dataclass(frozen=True)
class ReportResult:
    report: Path
    data: ReportData
    wall_time_s: float


def build_report(out_dir: str | Path, options: ReportOptions | None = None) -> ReportResult:
    """Run everything, write ``out_dir/report.md`` and ``out_dir/report_files/``; see the module docstring."""

    options = options or ReportOptions()
    _check(options)
    start = time.perf_counter()
    with staged_directory(out_dir) as scratch:
        files = scratch / FILES_DIR
        files.mkdir()
        data = collect(options, files)
        figures = draw(data, files)
        wall = time.perf_counter() - start
        write_json_atomic(files / "report.json", to_json(data, wall))
        write_chapter_tables(data.data, files)
        (scratch / REPORT_FILE).write_text(render(data, figures, FILES_DIR, wall), encoding="utf-8")
    return ReportResult(Path(out_dir) / REPORT_FILE, data, wall)


def collect(options: ReportOptions, files: Path) -> ReportData:
    """Run the report's jobs (longest first) in ``options.jobs`` worker processes, or inline with one job; with
    ``options.data``, the data chapter's jobs follow as soon as the single-core searches have chosen the mappings."""
    results, seconds = _run(options, _tasks(options, files), _data_follow_up(options))
    stream = {(c, label): summary for name, found in results.items() if name.startswith("stream ")
              for c in [int(name.split()[1])] for label, summary in found.items()}  # fmt: skip
    single = _merge(results["single frame"].rows, results["single event"].rows)
    padded = (_merge(results["padded frame"].rows, results["padded event"].rows) if options.padded_layers
              else {})  # fmt: skip
    chapter = None
    if options.data is not None:
        layers = list(results["single event"].nests)
        chapter = assemble(str(options.data), layers,
                           {k: v for k, v in results.items() if k.startswith(DATA_TASK_PREFIX)})
    arguments = {k: v for k, v in vars(options).items() if k != "worker_initializer"}
    return ReportData(options, single, padded, stream, seconds, provenance(arguments), chapter)


def _data_follow_up(options: ReportOptions) -> Callable[[dict[str, Any]], dict | None]:
    """Once both single-core searches are done: the data chapter's tasks (None before; {} without data)."""

    def follow_up(results: dict[str, Any]) -> dict | None:
        if options.data is None:
            return {}
        if "single frame" not in results or "single event" not in results:
            return None
        nests = _merge(results["single frame"].nests, results["single event"].nests)
        counted = {k: n["event"].geometry for k, n in nests.items() if "event" in n}  # layers the engine corrected
        values = layer_values(options.network, options.data, counted)
        return data_tasks(values, nests, options.sweep_samples, options.sweep_densities)

    return follow_up


def _run(options: ReportOptions, tasks: dict[str, tuple[Callable, tuple]],
         follow_up: Callable[[dict[str, Any]], dict | None]) -> tuple[dict[str, Any], dict[str, float]]:
    """Every task's result and seconds; ``follow_up(results so far)`` is asked after each task until it returns
    tasks ({} for none), which then run too."""
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    more: dict | None = None
    if options.jobs <= 1:
        queue = dict(tasks)
        while queue:
            name, (fn, args) = next(iter(queue.items()))
            del queue[name]
            results[name], seconds[name] = _timed(fn, *args)
            if more is None and (more := follow_up(results)) is not None:
                queue.update(more)
        return results, seconds
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold solver threads
    with ProcessPoolExecutor(options.jobs, mp_context=context, initializer=prepare_worker,
                             initargs=(options.worker_initializer, os.getpid())) as pool:  # fmt: skip
        pending: dict[Future, str] = {pool.submit(_timed, fn, *args): name for name, (fn, args) in tasks.items()}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    name = pending.pop(future)
                    results[name], seconds[name] = future.result()
                if more is None and (more := follow_up(results)) is not None:
                    pending.update({pool.submit(_timed, fn, *args): name for name, (fn, args) in more.items()})
        except BaseException:
            _end_pool(pool)  # a failed or interrupted job ends the report: run nothing more, wait for nothing
            raise
    return results, seconds


def _end_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and kill what runs: the executor's own shutdown waits for running jobs
    (minutes for a Stream run), which made Ctrl-C hang."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the executor keeps no public list
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join(timeout=5)


def _tasks(options: ReportOptions, files: Path) -> dict[str, tuple[Callable, tuple]]:

    settings = SearchSettings(options.accelerator, options.mapping, options.lpf_limit, options.precision)
    tasks: dict[str, tuple[float, Callable, tuple]] = {
        "single event": (90.0, event_job, (options.network, (), settings, options.simulator)),
        "single frame": (15.0, frame_job, (options.network, (), settings, options.simulator)),
    }
    if options.padded_layers:
        tasks["padded event"] = (60.0, event_job, (options.padded, options.padded_layers, settings, options.simulator))
        tasks["padded frame"] = (5.0, frame_job, (options.padded, options.padded_layers, settings, options.simulator))
    for cores in options.cores:
        for mode in options.modes:
            # Frame mode's run also gives its unrollings to the event mode: "same spatial mapping" (on data too).
            like = mode == "frame" and "event" in options.modes
            case = StreamCase(cores, mode, options.network, options.inputs,
                              data=options.stream_data if like else None, calibration=options.calibration)
            estimate = _STREAM_SECONDS[mode] / cores**0.5
            out = str(files / "stream" / f"{cores}core_{mode}")
            label = None if like else mode
            tasks[f"stream {cores} {mode}"] = (estimate * (3 if like else 1), _labelled,
                                               (same_mapping_job if like else stream_job, case, out, label))
        if options.stream_data is not None and "event" in options.modes:
            case = StreamCase(cores, "event", options.network, options.inputs, data=options.stream_data,
                              calibration=options.calibration)
            out = str(files / "stream" / f"{cores}core_data")
            tasks[f"stream {cores} {DATA}"] = (_STREAM_SECONDS["event"] * 2, _labelled, (stream_job, case, out, DATA))
    ordered = sorted(tasks.items(), key=lambda item: -item[1][0])  # longest first (seconds on an idle machine)
    return {name: (fn, args) for name, (_estimate, fn, args) in ordered}


def _labelled(job: Callable, case: StreamCase, out: str, label: str | None) -> dict[str, dict[str, Any]]:
    """A Stream job's summaries by label: one run's under ``label``, or a job's own labels (``label`` None)."""
    found = job(case, out)
    return found if label is None else {label: found}


def _timed(fn: Callable, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def _merge(*parts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for part in parts:
        for layer, rows in part.items():
            out.setdefault(layer, {}).update(rows)
    return out


def _check(options: ReportOptions) -> None:
    for label in ("network", "accelerator", "mapping") + (("padded",) if options.padded_layers else ()):
        path = getattr(options, label)
        if not Path(path).is_file():
            raise InputFileError(f"{label} file not found", path)
    bad = [m for m in options.modes if m not in STREAM_MODES]
    if bad or not options.modes or any(c not in (1, 2, 4) for c in options.cores):
        raise ZzEventError(f"report modes {options.modes} / cores {options.cores}: expected modes from {STREAM_MODES} "
                           "and core counts from 1, 2, 4 (none: no Stream runs)")
    if options.calibration is not None and options.stream_data is None:
        raise ZzEventError(f"calibration {options.calibration}: expected with Stream's data only")
    if options.stream_data is not None and options.cores:
        samples = load_batch(options.stream_data, onnx.load(options.network)).shape[0]
        if options.calibration is not None and options.calibration > samples:
            raise ZzEventError(f"calibration {options.calibration}: the data holds {samples} samples")
    for cores in options.cores:
        case = StreamCase(cores, options.modes[0], options.network, options.inputs)
        for path in (case.hardware, case.mapping):
            if not path.is_file():
                raise InputFileError(f"no Stream input for {cores} core(s)", str(path))
    read_zigzag_inputs(options.network, options.accelerator, options.mapping, False, warn=False)
    if options.data is not None:
        if not options.network.lower().endswith(".onnx"):
            raise InputFileError("--data needs an ONNX network (its layers' inputs come from running it)",
                                 options.network)
        load_batch(options.data, onnx.load(options.network))
    if not all(0.0 <= d <= 1.0 for d in options.sweep_densities) or options.sweep_samples < 1:
        raise ZzEventError(f"density sweep {options.sweep_densities} on {options.sweep_samples} samples: expected "
                           "densities in [0, 1] and at least one sample")


def to_json(data: ReportData, wall: float) -> dict[str, Any]:
    """``report.json``: every number of ``data`` (rows as nested dicts), the wall time and the provenance."""

    def rows(block: dict[str, dict[str, Any]]) -> dict:
        return {layer: {label: asdict(row) for label, row in per.items()} for layer, per in block.items()}

    return {
        "provenance": data.provenance,
        "wall_time_s": wall,
        "job_seconds": data.job_seconds,
        "single_core": rows(data.single),
        "padded": rows(data.padded),
        "stream": [{"cores": c, "mode": m, **summary} for (c, m), summary in data.stream.items()],
        "when_event_driven_wins": _chapter_json(data.data),
    }


def _chapter_json(chapter: DataChapter | None) -> dict[str, Any] | None:
    """The data chapter's summary tables as lists of records (its per-sample tables are CSV files beside)."""
    if chapter is None:
        return None
    records = {name: json.loads(table.to_json(orient="records")) for name, table in vars(chapter.tables).items()}
    return {"data": chapter.source, "samples": chapter.samples, "files": list(CHAPTER_FILES.values()), **records}


def write_chapter_tables(chapter: DataChapter | None, files: Path) -> None:
    """The data chapter's per-sample tables as CSV in ``files``."""
    if chapter is None:
        return
    for name, file in CHAPTER_FILES.items():
        getattr(chapter, name).to_csv(files / file, index=False)
