"""Resolve a spec's points into jobs: file contents after substitution, options, and the hash that keys them.

A job carries its inputs' contents, not their paths, so a worker on another machine (`--scheduler`) needs
no shared file system. Its key is the sha256 of the canonical JSON of everything that decides its result
(the files' contents after substitution, the options and the row format), so a rerun skips a finished
point, and a changed input file runs again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zz_event.sweep.errors import SweepSpecError
from zz_event.sweep.keypath import KeyPathError, set_path
from zz_event.sweep.spec import MODES, STREAM_MODES, Point, SweepSpec
from zz_event.sweep.stream_bundle import read_bundle

__all__ = ["ROW_FORMAT", "STREAM_OPTIONS", "PointJob", "resolve_points", "sha256"]

ROW_FORMAT = 2  # bump when rows.py changes what a point's rows hold: every point then runs again
STREAM_OPTIONS = {"solver": "ortools_highs", "time_limit_s": 60.0}  # zz_event.stream.runner's defaults
_PARAMS = ("workload", "layers", "accelerator", "mapping", "stream_hardware", "stream_mapping", "mode", "opt",
           "lpf_limit", "spatial_mappings")  # fmt: skip


@dataclass(frozen=True)
class PointJob:
    """What a worker needs to run one point, and how its rows are labelled."""

    index: int
    key: str  # sha256 of the resolved inputs
    params: tuple[tuple[str, Any], ...]  # the table's parameter columns, in spec order
    mode: str
    opt: str
    lpf_limit: int
    spatial_mappings: int
    layers: tuple[str, ...] | None
    workload_suffix: str  # .onnx or .yaml: how the contents are read
    workload: bytes
    accelerator: str  # YAML text after substitution: ZigZag's accelerator, or a Stream point's top file
    mapping: str  # ZigZag's mapping; a Stream point's mapping, or "" for Stream's generic generator
    input_hashes: tuple[tuple[str, str], ...]  # (column, sha256) of each input's resolved contents
    stream_cores: tuple[tuple[str, str], ...] = ()  # a Stream point's cores: (file name, YAML text)

    @property
    def is_stream(self) -> bool:
        return bool(self.stream_cores)


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def resolve_points(spec: SweepSpec) -> list[PointJob]:
    """Every point of `spec` as a job, or SweepSpecError naming the first point that cannot be built."""
    files: dict[str, bytes] = {}

    def read(path: str) -> bytes:
        if path not in files:
            try:
                files[path] = Path(path).read_bytes()
            except OSError as error:
                raise SweepSpecError(f"cannot read {path} ({error.strerror})", str(spec.path)) from error
        return files[path]

    return [_resolve(spec, point, read) for point in spec.points]


def _check_kind(spec: SweepSpec, point: Point, stream: bool) -> None:
    mode, workload = point.option("mode"), point.option("workload")
    where = f"point {point.index}"
    if stream and mode not in STREAM_MODES:
        problem = f"mode {mode!r} is not a Stream mode; a point with stream_hardware takes {', '.join(STREAM_MODES)}"
    elif stream and (workload[1] or not workload[0].lower().endswith(".onnx")):
        problem = "a Stream point runs a whole ONNX network: give an .onnx workload without layers"
    elif not stream and mode not in MODES:
        problem = f"mode {mode!r} is a Stream mode; a point without stream_hardware takes {', '.join(MODES)}"
    elif not stream and not (point.option("accelerator") and point.option("mapping")):
        problem = "a single-core point needs an accelerator and a mapping (or stream_hardware for Stream)"
    else:
        return
    raise SweepSpecError(f"{where}: {problem}", str(spec.path))


def _resolve(spec: SweepSpec, point: Point, read) -> PointJob:
    stream = point.option("stream_hardware") is not None
    _check_kind(spec, point, stream)
    workload_path, layers = point.option("workload")
    workload = read(workload_path)
    hardware, cores, values = _stream_hardware(spec, point, read) if stream else _accelerator(spec, point, read)
    mapping_path = point.option("stream_mapping" if stream else "mapping")
    mapping = read(mapping_path).decode("utf-8", errors="replace") if mapping_path else ""
    options = {"mode": point.option("mode"), "layers": sorted(layers) if layers else None}  # rows: network order
    if stream:
        options["stream"] = STREAM_OPTIONS
    else:
        options.update(opt=point.option("opt"), lpf_limit=point.option("lpf_limit"),
                       spatial_mappings=point.option("spatial_mappings"))  # fmt: skip
    hashes = {"workload_sha256": sha256(workload), "mapping_sha256": sha256(mapping),
              "accelerator_sha256": sha256(json.dumps([hardware, cores]) if cores else hardware)}  # fmt: skip
    suffix = Path(workload_path).suffix.lower()
    key = sha256(json.dumps({"row_format": ROW_FORMAT, "workload_suffix": suffix, **options, **hashes},
                            sort_keys=True, separators=(",", ":")))  # fmt: skip
    return PointJob(
        index=point.index, key=key, params=tuple(_params(spec, point, layers, values)), mode=options["mode"],
        opt=point.option("opt"), lpf_limit=point.option("lpf_limit"), spatial_mappings=point.option("spatial_mappings"),
        layers=layers, workload_suffix=suffix, workload=workload, accelerator=hardware, mapping=mapping,
        input_hashes=tuple(hashes.items()), stream_cores=cores,
    )  # fmt: skip


def _axis_error(spec: SweepSpec, point: Point, column: str, error: KeyPathError, file: str) -> SweepSpecError:
    return SweepSpecError(f"axes.{column.replace('hw.', 'hardware.', 1)}: {error} (in {file})", str(spec.path))


def _accelerator(spec: SweepSpec, point: Point, read) -> tuple[str, tuple, dict[str, Any]]:
    """The ZigZag accelerator YAML with the point's hardware values set (canonical YAML if any are), and the
    values as set (an int given for a float is a float)."""
    text = read(point.option("accelerator"))
    if not point.hardware:
        return text.decode("utf-8", errors="replace"), (), {}
    data = copy.deepcopy(yaml.safe_load(text))
    values = {}
    for column, paths, value in point.hardware:
        for key_path in paths:
            try:
                values[column] = set_path(data, key_path, value)
            except KeyPathError as error:
                raise _axis_error(spec, point, column, error, point.option("accelerator")) from error
    return yaml.safe_dump(data, sort_keys=False), (), values


def _stream_hardware(spec: SweepSpec, point: Point, read) -> tuple[str, tuple, dict[str, Any]]:
    """A Stream point's top file and cores with its hardware values set (`stream_bundle`)."""
    path = point.option("stream_hardware")
    try:
        bundle = read_bundle(path, read)
    except (KeyPathError, yaml.YAMLError) as error:
        raise SweepSpecError(f"point {point.index}: {str(error).splitlines()[0]}", str(spec.path)) from error
    values = {}
    for column, paths, value in point.hardware:
        for key_path in paths:
            try:
                values[column] = bundle.set(key_path, value)
            except KeyPathError as error:
                raise _axis_error(spec, point, column, error, path) from error
    hardware, cores = bundle.texts()
    return hardware, cores, values


def _params(spec: SweepSpec, point: Point, layers: tuple[str, ...] | None, values: dict[str, Any]):
    """The parameter columns: the options (files relative to the spec's folder, "" if none), then the hardware
    axes (their values as set)."""
    folder = spec.path.resolve().parent
    ignored = ("accelerator", "mapping") if point.option("stream_hardware") else ()  # ZigZag's: not a Stream point's
    for name in _PARAMS:
        if name == "workload":
            yield name, os.path.relpath(point.option("workload")[0], folder)
        elif name == "layers":
            yield name, ",".join(layers) if layers else ""
        elif name in ("accelerator", "mapping", "stream_hardware", "stream_mapping"):
            value = None if name in ignored else point.option(name)
            yield name, os.path.relpath(value, folder) if value else ""
        else:
            yield name, point.option(name)
    yield from point.labels
    for column, _paths, value in point.hardware:
        yield column, values.get(column, value)
