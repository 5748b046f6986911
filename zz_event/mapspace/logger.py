"""The full mapping space of a ZigZag run, raw and corrected, streamed to CSV one mapping per row.

    from zz_event.mapspace import run_mapspace, load
    run = run_mapspace("inputs/toy/workload.yaml", "inputs/toy/hardware.yaml", "inputs/toy/mapping_free.yaml",
                       "out/toy_mapspace.csv")
    frame = load(run.csv)            # a pandas DataFrame, one row per evaluated mapping

`MapspaceLoggerStage` sits directly above zz-event's correction stage (itself directly above ZigZag's
temporal-mapping generator), so it sees every cost-model evaluation of every temporal mapping of every
spatial mapping of every layer. The correction stage computes the event-driven cost (filter + readiness)
and, as variants, the exact dense and filter-only counts, once per mapping; the logger only reads them.
Rows are written as they come, in whole lines (batched: at most half a second or a few hundred rows
behind), so an interrupted run (Ctrl-C, SIGTERM, crash) leaves a CSV of every row made so far. Same
inputs give a byte-identical CSV. The CSV (its header) and a sidecar `<csv>.meta.json` exist from the
moment the inputs are checked; the sidecar says whether the run completed (`completed`, `status`), how
many rows it holds (per layer too), the run's settings and provenance (tool versions, commit, date,
arguments), and the ONNX nodes not logged (`settings.skipped_nodes`). It is rewritten every few hundred
rows; after SIGKILL `read_meta` takes the row count from the CSV and reads `running` as `killed`. One
writer per CSV: a second run to it is refused (`zz_event.output_files.output_lock`). With `pyarrow`
installed a Parquet copy (`<csv stem>.parquet`) is written from the CSV, in chunks, once the run completes.

Columns, in file order (W, I, O are the layer operands; levels are each operand's memory levels,
innermost first, as in `summary.json`):

- `layer`: layer name. `evaluation`: 0-based index of the evaluation within the layer, in ZigZag's order.
- `spatial_index`: 0-based index of the spatial mapping within the layer; `spatial_mapping`: its
  unrolling per array dimension, e.g. `D1:K8 D2:C6`.
- `temporal_ordering`: temporal loops inner to outer, e.g. `FY3 FX3 IX5 IY5`.
- `alloc_W`, `alloc_I`, `alloc_O`: the operand's loops per memory level, innermost first, e.g.
  `rf_128B[FY5] sram_2MB[FX5 IX2] dram[IY32]`.
- `corrected`: 1 if zz-event corrected the layer, 0 if it keeps ZigZag's cost; `uncorrected_reason`:
  why not (empty when corrected).
- `raw_macs`, `raw_latency_cycles`, `raw_energy_pj`: ZigZag 3.9.1's own figures (`latency_total2`,
  `energy_total`, the layer's MAC count).
- For each engine variant `dense` (exact dense count: every iteration executes), `filter` (event-driven,
  valid MACs only) and `event_driven` (filter + output readiness; the cost ZigZag ranks in this run):
  `<v>_macs`, `<v>_compute_cycles`, `<v>_latency_cycles`, `<v>_energy_pj`. Empty on uncorrected layers.
- With data (`data=`, `zz-event mapspace --data FILE.npy` or `mnist:N`) four more: `data_macs`, `data_compute_cycles`,
  `data_latency_cycles`, `data_energy_pj`, the mapping's mean event-driven cost over the calibration samples
  (zero inputs trigger nothing; float64), which ZigZag then ranks; the variants above stay dense-data
  counts; the sidecar's settings name the data and the samples per layer.
- Word accesses for `raw` and each variant: `<prefix>_<operand><level>_<direction>`, e.g.
  `raw_W0_rd_out_to_low`, direction one of `rd_out_to_low`, `wr_in_by_low`, `rd_out_to_high`,
  `wr_in_by_high` (ZigZag's). Levels run to the deepest memory operand of the accelerator; levels an
  operand lacks are empty.
- `valid_mac_fraction`: event-driven MACs / dense MACs (empty on uncorrected layers).

Types (as `load` returns them): the text columns above are `str`; `*_energy_pj`, `raw_latency_cycles` and
`valid_mac_fraction` are float64; every other column is a nullable integer (`Int64`). Floats are written
as Python's shortest round-trip form, so values read back are bit-identical to those computed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from zigzag.opt.loma.engine import LomaEngine
from zigzag.stages.stage import Stage
from zigzag.stages.workload_iterator import WorkloadStage

from zz_event.engine.result import EngineOptions
from zz_event.errors import ZzEventError
from zz_event.interruption import signal_behind
from zz_event.mapspace.rows import MapspaceSchema, schema_for_spec
from zz_event.mapspace.writer import (
    RowStream,
    csv_line,
    csv_to_parquet,
    meta_path,
    parquet_available,
    write_meta,
)
from zz_event.output_files import check_output_file, output_lock
from zz_event.provenance import provenance
from zz_event.readers.inputs import read_zigzag_inputs
from zz_event.zigzag.data import masks_for_run
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import EventDrivenCorrectionStage

__all__ = [
    "MapspaceLog",
    "MapspaceLoggerStage",
    "MapspaceProgress",
    "MapspaceRun",
    "meta_path",
    "run_mapspace",
]

FORMAT = "zz-event mapspace"
FORMAT_VERSION = 1
META_EVERY = 256  # rows between sidecar updates while running; `read_meta` counts a killed run's rows from the CSV


class MapspaceProgress(Protocol):
    """What a run reports as it goes (the CLI draws bars from it; the library never prints)."""

    def spatial_mapping(self, layer: str, index: int, expected: int | None) -> None: ...

    def row(self, layer: str) -> None: ...


class MapspaceLog:
    """The shared state of one logging run: the open CSV, the schema, per-layer counts, the sidecar.

    The CSV (its header) and the sidecar exist from the moment it is made, so that an interruption at any
    point leaves a CSV that the sidecar describes.
    """

    def __init__(self, csv_path: str | Path, meta: dict, schema: MapspaceSchema,
                 progress: MapspaceProgress | None = None):  # fmt: skip
        self.csv_path = Path(csv_path)
        self.meta = dict(meta)
        self.progress = progress
        self.schema = schema
        self.stream: RowStream | None = RowStream(self.csv_path, schema.columns)
        # Per layer: spatial mappings begun, and rows before the current layer's stretch; the current
        # layer's rows since are counted by the stream (so one append counts a row everywhere).
        self.layers: dict[str, dict[str, int]] = {}
        self._current: tuple[str | None, int] = (None, 0)  # (layer, stream rows when its stretch began)
        self._write_meta("running")

    @property
    def rows(self) -> int:
        return self.stream.rows if self.stream else 0

    def layer_rows(self, layer: str) -> int:
        current, start = self._current
        return self.layers[layer]["rows"] + (self.rows - start if layer == current else 0)

    def begin_spatial_mapping(self, layer: str, accelerator: Any, expected: int | None) -> int:
        counts = self.layers.setdefault(layer, {"rows": 0, "spatial_mappings": 0})
        if self._current[0] != layer:
            self._end_stretch()
            self._current = (layer, self.rows)
        index = counts["spatial_mappings"]
        counts["spatial_mappings"] += 1
        self._write_meta("running")
        if self.progress is not None:
            self.progress.spatial_mapping(layer, index, expected)
        return index

    def _end_stretch(self) -> None:
        current, start = self._current
        if current is not None:
            self.layers[current]["rows"] += self.rows - start
            self._current = (None, self.rows)

    def record(self, cme: Any, layer: str, spatial_index: int) -> None:
        evaluation = self.layer_rows(layer)
        self.stream.write_line(csv_line(self.schema.row(cme, layer, evaluation, spatial_index)))
        if self.stream.rows % META_EVERY == 0:
            self._write_meta("running")
        if self.progress is not None:
            self.progress.row(layer)

    def close(self, status: str, error: str | None = None, parquet: str | None = None) -> None:
        if self.stream is not None:
            self.stream.close()
        self._end_stretch()
        self._write_meta(status, error, parquet)

    def _write_meta(self, status: str, error: str | None = None, parquet: str | None = None) -> None:
        if self.stream is not None:
            self.stream.flush()  # the rows it counts are in the file
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "csv": self.csv_path.name,
            "completed": status == "completed",
            "status": status,
            "error": error,
            "rows": self.rows,
            "columns": len(self.schema.columns) if self.schema else None,
            "layers": [{"name": name, **counts, "rows": self.layer_rows(name)} for name, counts in self.layers.items()],
            "parquet": parquet,
            **self.meta,
        }
        write_meta(self.csv_path, meta)


class MapspaceLoggerStage(Stage):
    """Write one row per CostModelEvaluation yielded below, then pass it on unchanged.

    Subclassed with `log` (the run's `MapspaceLog`) bound, as ZigZag instantiates stages itself (see
    `run_mapspace`). Place it directly above `EventDrivenCorrectionStage` so that it logs corrected CMEs.
    With data it asks that stage for each mapping's dense-data result too (`dense_beside_data`): a row
    shows it beside the data mean ZigZag ranks on.
    """

    log: MapspaceLog

    def run(self):
        layer = self.kwargs["layer"]
        expected = _expected_orderings(self.kwargs)
        index = self.log.begin_spatial_mapping(layer.name, self.kwargs["accelerator"], expected)
        settings = replace(self.kwargs["zz_event"], dense_beside_data=True)
        kwargs = {**self.kwargs, "zz_event": settings}
        substage = self.list_of_callables[0](self.list_of_callables[1:], **kwargs)
        for cme, extra_info in substage.run():
            self.log.record(cme, layer.name, index)
            yield cme, extra_info


class LayerFilterStage(Stage):
    """Below ZigZag's WorkloadStage: run only the layers named in `names` (None: all), bound by subclassing."""

    names: frozenset | None = None

    def run(self):
        if self.names is not None and self.kwargs["layer"].name not in self.names:
            return
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        yield from substage.run()


def _expected_orderings(kwargs: dict) -> int | None:
    """How many temporal orderings LOMA will try for this spatial mapping (an upper bound on the rows)."""
    layer = kwargs["layer"]
    if kwargs.get("temporal_mapping_search_engine", "loma") != "loma" or "spatial_mapping" not in kwargs:
        return None
    engine = LomaEngine(
        accelerator=kwargs["accelerator"], layer=layer, spatial_mapping=kwargs["spatial_mapping"],
        mapping_type=kwargs.get("temporal_mapping_type"), loma_lpf_limit=kwargs.get("loma_lpf_limit"),
    )
    loops = engine.get_temporal_loops()
    if layer.temporal_ordering.is_complete(loops):
        return 1
    engine.temporal_loop_dim_size = loops
    engine.update_min_lpf_factor(loops)
    engine.get_prime_factors()
    return int(engine.nb_permutations)


@dataclass(frozen=True)
class MapspaceRun:
    """What `run_mapspace` wrote: the CSV, its sidecar, the Parquet copy (or None), and the row counts."""

    csv: Path
    meta: Path
    parquet: Path | None
    rows: int
    layer_rows: tuple[tuple[str, int], ...]
    skipped_nodes: tuple[tuple[str, str], ...] = ()  # ONNX nodes not logged, and why


def run_mapspace(
    workload: str,
    accelerator: str,
    mapping: str,
    csv_path: str | Path,
    *,
    opt: str = "latency",
    lpf_limit: int = 6,
    nb_spatial_mappings_generated: int = 3,
    layers: tuple[str, ...] | None = None,
    progress: MapspaceProgress | None = None,
    arguments: dict | None = None,
    parquet: bool | None = None,
    cost_pooling_and_add: bool = False,
    data: Any = None,
    calibration: int | None = None,
) -> MapspaceRun:
    """Run ZigZag (LOMA) with event-driven correction, logging every evaluated mapping to `csv_path`.

    `layers` restricts the run to the named layers (default: all). `parquet`: None writes Parquet when
    pyarrow is installed, True requires it, False never writes it. `arguments` go to the sidecar.
    `cost_pooling_and_add`: log ONNX pooling and Add layers too (ZigZag's own cost; its ONNX parser leaves them out).
    `data`, `calibration`: events from data, as in `run_zigzag_event_driven` (ONNX workloads).
    """
    check_output_file(csv_path, "--csv")
    if parquet and not parquet_available():
        raise ZzEventError("Parquet output needs pyarrow; install it (pip install pyarrow) or leave Parquet off")
    inputs = read_zigzag_inputs(workload, accelerator, mapping, cost_pooling_and_add)
    selected = _check_layers(layers, inputs.workload)
    masks = {} if data is None else masks_for_run(workload, data, inputs.workload.geometry)
    settings = {
        "workload": str(workload), "accelerator": str(accelerator), "mapping": str(mapping), "opt": opt,
        "lpf_limit": lpf_limit, "nb_spatial_mappings_generated": nb_spatial_mappings_generated,
        "layers": sorted(selected) if selected is not None else None,
        "variants": ["dense", "filter", "event_driven"],
        "skipped_nodes": [{"name": n, "reason": r} for n, r in inputs.workload.skipped.items()],
    }
    if masks:
        samples = {name: len(m[:calibration]) for name, m in masks.items()}
        settings.update(data=str(data) if isinstance(data, (str, Path)) else "<array>", data_samples=samples,
                        event_driven="mean over the data samples (events from data)")
    with output_lock(csv_path, "--csv"):
        return _logged_run(csv_path, settings, arguments, progress, parquet, inputs, selected,
                           (masks, calibration))


def _logged_run(csv_path, settings, arguments, progress, parquet, inputs, selected, correction) -> MapspaceRun:
    """`correction`: (data masks by layer, calibration samples)."""
    prepared, mapping_input = inputs.workload, inputs.mapping
    opt, lpf_limit, nb_spatial = settings["opt"], settings["lpf_limit"], settings["nb_spatial_mappings_generated"]
    meta = {"settings": settings, "provenance": provenance(arguments or settings)}
    schema = replace(schema_for_spec(inputs.accelerator), data="data" in settings)
    log = MapspaceLog(csv_path, meta, schema, progress)
    try:
        with tempfile.TemporaryDirectory(prefix="zz-event-mapspace-") as dump:
            _run_zigzag(prepared, inputs.accelerator.path, mapping_input, dump, opt, lpf_limit, nb_spatial,
                        selected, log, correction)
    except ZzEventError as error:
        log.close("failed", str(error))
        if log.rows == 0:  # bad input found inside ZigZag (e.g. no temporal mapping fits): leave nothing behind
            _remove(log)
        raise
    except BaseException as error:
        if isinstance(error, SystemExit) or signal_behind(error) is not None:  # (wrapped: see `signal_behind`)
            log.close("interrupted", "interrupted before the run completed")
        else:
            log.close("failed", f"{type(error).__name__}: {error}".splitlines()[0])
        raise
    parquet_path = None
    if log.rows == 0:
        log.close("failed", "ZigZag evaluated no mapping")
        _remove(log)
        raise ZzEventError("ZigZag evaluated no mapping (no layer selected or none could be mapped)")
    log.stream.close()
    if parquet or (parquet is None and parquet_available()):
        parquet_path = csv_to_parquet(log.csv_path, log.csv_path.with_suffix(".parquet"))
    log.close("completed", parquet=parquet_path.name if parquet_path else None)
    return MapspaceRun(
        csv=log.csv_path, meta=meta_path(log.csv_path), parquet=parquet_path, rows=log.rows,
        layer_rows=tuple((name, log.layer_rows(name)) for name in log.layers),
        skipped_nodes=tuple(inputs.workload.skipped.items()),
    )


def _remove(log: MapspaceLog) -> None:
    log.csv_path.unlink(missing_ok=True)
    meta_path(log.csv_path).unlink(missing_ok=True)


def _check_layers(layers: tuple[str, ...] | None, prepared: Any) -> frozenset | None:
    if layers is None:
        return None
    known = [layer["name"] for layer in prepared.zigzag_workload]
    unknown = [name for name in layers if name not in known]
    if unknown:
        raise ZzEventError(f"unknown layer(s) {', '.join(unknown)}; the workload has {', '.join(known)}")
    return frozenset(layers)


def _run_zigzag(prepared, accelerator, mapping_input, dump, opt, lpf_limit, nb_spatial, selected, log, correcting):
    settings = RunSettings(opt=opt, lpf_limit=lpf_limit, nb_spatial_mappings_generated=nb_spatial,
                           loma_show_progress_bar=False)
    masks, calibration = correcting
    correction = CorrectionSettings.for_workload(
        prepared, options=EngineOptions(filter=True, readiness=True), masks=masks,
        calibration=calibration,
        variants=(EngineOptions(filter=False, readiness=False), EngineOptions(filter=True, readiness=False)))
    logger = type("BoundMapspaceLogger", (MapspaceLoggerStage,), {"log": log})
    stages = build_stages(settings, [logger, EventDrivenCorrectionStage])
    stages.insert(stages.index(WorkloadStage) + 1, type("BoundLayerFilter", (LayerFilterStage,), {"names": selected}))
    main_stage(stages, settings, correction, accelerator=accelerator, workload=prepared.zigzag_workload,
               mapping=mapping_input, dump_folder=dump, pickle_filename=os.path.join(dump, "list_of_cmes.pickle")).run()
