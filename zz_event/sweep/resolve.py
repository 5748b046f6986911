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
from zz_event.sweep.spec import Point, SweepSpec

__all__ = ["ROW_FORMAT", "PointJob", "resolve_points", "sha256"]

ROW_FORMAT = 1  # bump when rows.py changes what a point's rows hold: every point then runs again


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
    accelerator: str  # YAML text, after substitution
    mapping: str
    input_hashes: tuple[tuple[str, str], ...]  # (column, sha256) of each input file's resolved contents


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def resolve_points(spec: SweepSpec) -> list[PointJob]:
    """Every point of `spec` as a job, or SweepSpecError naming the first point that cannot be built."""
    files: dict[str, bytes] = {}
    return [_resolve(spec, point, files) for point in spec.points]


def _read(path: str, files: dict[str, bytes], spec: SweepSpec) -> bytes:
    if path not in files:
        try:
            files[path] = Path(path).read_bytes()
        except OSError as error:
            raise SweepSpecError(f"cannot read {path} ({error.strerror})", str(spec.path)) from error
    return files[path]


def _resolve(spec: SweepSpec, point: Point, files: dict[str, bytes]) -> PointJob:
    mode = point.option("mode")
    workload_path, layers = point.option("workload")
    accelerator = _substituted(spec, point, _read(point.option("accelerator"), files, spec))
    workload = _read(workload_path, files, spec)
    mapping = _read(point.option("mapping"), files, spec).decode("utf-8", errors="replace")
    options = {"mode": mode, "opt": point.option("opt"), "lpf_limit": point.option("lpf_limit"),
               "spatial_mappings": point.option("spatial_mappings"), "layers": list(layers) if layers else None}  # fmt: skip
    hashes = {"workload_sha256": sha256(workload), "accelerator_sha256": sha256(accelerator),
              "mapping_sha256": sha256(mapping)}  # fmt: skip
    suffix = Path(workload_path).suffix.lower()
    key = sha256(json.dumps({"row_format": ROW_FORMAT, "workload_suffix": suffix, **options, **hashes},
                            sort_keys=True, separators=(",", ":")))  # fmt: skip
    return PointJob(
        index=point.index, key=key, params=tuple(_params(spec, point, layers)), mode=mode, opt=options["opt"],
        lpf_limit=options["lpf_limit"], spatial_mappings=options["spatial_mappings"], layers=layers,
        workload_suffix=suffix, workload=workload, accelerator=accelerator, mapping=mapping,
        input_hashes=tuple(hashes.items()),
    )  # fmt: skip


def _substituted(spec: SweepSpec, point: Point, text: bytes) -> str:
    """The accelerator YAML with the point's hardware values set, as canonical YAML text."""
    if not point.hardware:
        return text.decode("utf-8", errors="replace")
    data = copy.deepcopy(yaml.safe_load(text))
    for column, paths, value in point.hardware:
        for key_path in paths:
            try:
                set_path(data, key_path, value)
            except KeyPathError as error:
                raise SweepSpecError(f"axes.{column.replace('hw.', 'hardware.', 1)}: {error} "
                                     f"(in {point.option('accelerator')})", str(spec.path)) from error  # fmt: skip
    return yaml.safe_dump(data, sort_keys=False)


def _params(spec: SweepSpec, point: Point, layers: tuple[str, ...] | None):
    """The parameter columns: every option (files relative to the spec's folder), then the hardware axes."""
    folder = spec.path.resolve().parent
    for name, value in point.options:
        if name == "workload":
            yield "workload", os.path.relpath(value[0], folder)
            yield "layers", ",".join(layers) if layers else ""
        elif name in ("accelerator", "mapping"):
            yield name, os.path.relpath(value, folder)
        elif name in ("mode", "opt", "lpf_limit", "spatial_mappings"):
            yield name, value
    for column, _paths, value in point.hardware:
        yield column, value
