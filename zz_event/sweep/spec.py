"""Read a sweep spec (YAML) into its points: the base inputs and every combination of the axes.

    base:                                    # every point starts from these (paths relative to the spec)
      workload: ../toy/workload.yaml         # or {path: ..., layers: [conv1, conv2]}
      accelerator: ../toy/hardware.yaml
      mapping: ../toy/mapping_lenet5.yaml
      mode: event                            # see MODES
      opt: latency                           # what ZigZag minimises: latency, energy or EDP
      lpf_limit: 6
    axes:                                    # the points are every combination, first axis slowest
      hardware:                              # key paths into the accelerator YAML
        operational_array.sizes[0]: [4, 8]
        bandwidth:                           # a named axis setting several key paths to one value
          paths: [memories.sram_256KB.ports[0].bandwidth_min, memories.sram_256KB.ports[0].bandwidth_max]
          values: [64, 128]
      mode: [event, event-raw]
      workload: [../toy/workload.yaml, {path: ../lenet5/lenet5.onnx, layers: [conv1, conv2]}]
      cores:                                 # a named axis whose values set several options together
        - {label: 2, stream_hardware: ../stream/hardware/dual_core.yaml,
           stream_mapping: ../stream/mapping/lenet5_2core.yaml}

Any option of `base` may be an axis (a list of values). `spatial_mappings` (default 3) is ZigZag's number of
spatial mappings generated. A point with `stream_hardware` (a Stream accelerator; `stream_mapping` optional)
runs Stream on its whole ONNX workload in a STREAM_MODES mode instead, its key paths going into the top file
or, as `cores.<id>.<path>`, into one core's file; `stream_hardware: [null, FILE]` mixes both kinds. `data`
and `zero_handling` are reserved for data-driven events and refused. This module checks the spec's shape
and names; the points' files and substituted hardware are checked by `resolve` and `point`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zz_event.sweep.errors import SweepSpecError
from zz_event.sweep.keypath import KeyPathError, parse_key_path
from zz_event.sweep.rows import result_dtypes

__all__ = ["MODES", "OPTIONS", "STREAM_MODES", "Axis", "Point", "SweepSpec", "read_spec"]

# Single-core modes: ZigZag's search on the layer's input-centric form, ranked on exact counts with both
# switches (event), the boundary filter only (event-filter) or neither (exact-dense); plain ZigZag on it
# (event-raw); plain ZigZag on the output-centric form, best weight- / output-stationary mapping (frame-*).
MODES = ("event", "event-filter", "exact-dense", "event-raw", "frame-WS", "frame-OS")
# Stream points (with `stream_hardware`): Stream's own per-core costs (frame) or zz-event's (event-raw, event).
STREAM_MODES = ("frame", "event-raw", "event")
NOT_YET = {  # options the spec reserves for data-driven zero handling (issue 17): refused until it exists
    "data": "the data axis (--data sources: events from real input masks) is not available yet",
    "zero_handling": "zero handling (dense, gating, skipping) is not available yet",
}
ZERO_HANDLING = ("dense", "gating", "skipping")
OPTIONS = ("workload", "accelerator", "mapping", "mode", "opt", "lpf_limit", "spatial_mappings",
           "stream_hardware", "stream_mapping", "data", "zero_handling")  # fmt: skip
DEFAULTS = {"mode": "event", "opt": "latency", "lpf_limit": 6, "spatial_mappings": 3, "accelerator": None,
            "mapping": None, "stream_hardware": None, "stream_mapping": None}  # fmt: skip
_FILES = ("workload", "accelerator", "mapping", "stream_hardware", "stream_mapping")


@dataclass(frozen=True)
class Axis:
    """One varied parameter: its column name, the key paths it sets (hardware axes) and its values."""

    column: str
    values: tuple[Any, ...]  # a linked axis: (label, {option: value}) pairs
    paths: tuple[str, ...] = ()  # key paths into the accelerator YAML; empty for an option axis
    sets: tuple[str, ...] = ()  # the options it sets
    linked: bool = False


@dataclass(frozen=True)
class Point:
    """One combination: its position in the spec, its options and the hardware values it substitutes."""

    index: int
    options: tuple[tuple[str, Any], ...]  # option -> value (files as absolute paths; workload: (path, layers))
    hardware: tuple[tuple[str, tuple[str, ...], Any], ...]  # (column, key paths, value)
    labels: tuple[tuple[str, Any], ...] = ()  # (column, label) of each linked axis

    def option(self, name: str) -> Any:
        return dict(self.options)[name]


@dataclass(frozen=True)
class SweepSpec:
    path: Path
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]


def read_spec(path: str | Path) -> SweepSpec:
    """The spec at `path` and its points; SweepSpecError (one line naming the file) if it is malformed."""
    path = Path(path)
    data = _load(path)
    base = _section(data, "base", path)
    axes_data = _section(data, "axes", path)
    unknown = sorted(map(str, set(data) - {"base", "axes"}))
    if unknown:
        raise SweepSpecError(f"unknown top-level key(s) {', '.join(unknown)}; expected base and axes", str(path))
    options = {**DEFAULTS, **{k: _option(k, v, path, "base") for k, v in base.items()}}
    axes = _axes(axes_data, path)
    if options.get("workload") is None and not any(a.column == "workload" for a in axes):
        raise SweepSpecError("no workload: give base.workload or an axes.workload list", str(path))
    points = tuple(_points(options, axes))
    return SweepSpec(path, tuple(axes), points)


def _load(path: Path) -> dict:
    if not path.is_file():
        raise SweepSpecError("no such sweep spec", str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SweepSpecError(f"cannot be read as YAML: {str(error).splitlines()[0]}", str(path)) from error
    if not isinstance(data, dict):
        raise SweepSpecError("a sweep spec is a mapping with `base` and `axes`", str(path))
    return data


def _section(data: dict, name: str, path: Path) -> dict:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise SweepSpecError(f"`{name}` must be a mapping, found {type(value).__name__}", str(path))
    return value


def _option(name: str, value: Any, path: Path, where: str) -> Any:
    """One option value, checked and with file paths made absolute (relative to the spec's folder)."""
    label = f"{where}.{name}"
    if name not in OPTIONS:
        raise SweepSpecError(f"{label}: unknown option; expected one of {', '.join(OPTIONS)}, hardware, "
                             "or a named axis whose values are mappings of options", str(path))
    if name in NOT_YET:
        raise SweepSpecError(f"{label}: {NOT_YET[name]}", str(path))
    if name == "workload":
        return _workload(value, path, label)
    if name in _FILES:
        return None if value is None else _file(value, path, label)
    if name == "mode" and value in ZERO_HANDLING:
        raise SweepSpecError(f"{label}: {value!r} is a zero-handling mode: {NOT_YET['zero_handling']}", str(path))
    if name == "mode" and value not in MODES + STREAM_MODES:
        raise SweepSpecError(f"{label}: {value!r} is an unknown mode; expected one of {', '.join(MODES)} "
                             f"(Stream points: {', '.join(STREAM_MODES)})", str(path))  # fmt: skip
    if name == "opt" and value not in ("latency", "energy", "EDP"):
        raise SweepSpecError(f"{label}: opt {value!r}; expected latency, energy or EDP", str(path))
    if name in ("lpf_limit", "spatial_mappings") and (type(value) is not int or value < 1):
        raise SweepSpecError(f"{label}: {value!r}; expected a positive integer", str(path))
    return value


def _file(value: Any, path: Path, label: str) -> str:
    if not isinstance(value, str) or not value:
        raise SweepSpecError(f"{label}: {value!r}; expected a file path", str(path))
    resolved = (path.parent / value).resolve()
    if not resolved.is_file():
        raise SweepSpecError(f"{label}: no such file {value} (looked for {resolved})", str(path))
    return str(resolved)


def _workload(value: Any, path: Path, label: str) -> tuple[str, tuple[str, ...] | None]:
    """(absolute path, layers or None for every MAC layer) of a workload entry."""
    if isinstance(value, dict):
        unknown = set(value) - {"path", "layers"}
        layers = value.get("layers")
        if unknown or "path" not in value or not (layers is None or _str_list(layers)):
            raise SweepSpecError(f"{label}: {value!r}; expected a path or {{path: FILE, layers: [NAME, ...]}}",
                                 str(path))  # fmt: skip
        return _file(value["path"], path, label), tuple(layers) if layers is not None else None
    return _file(value, path, label), None


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _axes(data: dict, path: Path) -> list[Axis]:
    axes: list[Axis] = []
    for name, values in data.items():
        if name == "hardware":
            axes.extend(_hardware_axes(values, path))
            continue
        if not isinstance(values, list) or not values:
            raise SweepSpecError(f"axes.{name}: expected a non-empty list of values", str(path))
        if name not in OPTIONS and all(isinstance(v, dict) for v in values):
            axes.append(_linked_axis(name, values, path))
        else:
            axes.append(Axis(name, tuple(_option(name, v, path, "axes") for v in values), sets=(name,)))
    sets = [option for axis in axes for option in axis.sets]
    if len(set(sets)) != len(sets):
        raise SweepSpecError(f"axes: an option is varied by two axes ({', '.join(sets)})", str(path))
    return axes


def _linked_axis(name: str, values: list[dict], path: Path) -> Axis:
    """A named axis whose every value sets several options together (`label` names the value in the table,
    else its position), e.g. a Stream accelerator with its mapping."""
    if name in ("layers", "point", "point_index", *result_dtypes()) or name.startswith("hw."):
        raise SweepSpecError(f"axes.{name}: the name of a column of the table; name the axis otherwise", str(path))
    keys = sorted({key for value in values for key in value} - {"label"})
    entries = []
    for position, value in enumerate(values):
        if sorted(set(value) - {"label"}) != keys:
            raise SweepSpecError(f"axes.{name}: every value must set the same options ({', '.join(keys)})",
                                 str(path))  # fmt: skip
        options = {key: _option(key, v, path, f"axes.{name}") for key, v in value.items() if key != "label"}
        entries.append((value.get("label", position), options))
    return Axis(name, tuple(entries), sets=tuple(keys), linked=True)


def _hardware_axes(data: Any, path: Path) -> list[Axis]:
    if not isinstance(data, dict) or not data:
        raise SweepSpecError("axes.hardware: expected a mapping of key path -> list of values", str(path))
    axes = []
    for name, entry in data.items():
        paths, values = ([name], entry) if not isinstance(entry, dict) else (entry.get("paths"), entry.get("values"))
        if not _str_list(paths) or not isinstance(values, list) or not values:
            raise SweepSpecError(f"axes.hardware.{name}: expected a list of values, or {{paths: [KEY PATH, ...], "
                                 f"values: [...]}}", str(path))  # fmt: skip
        for key_path in paths:
            try:
                parse_key_path(key_path)
            except KeyPathError as error:
                raise SweepSpecError(f"axes.hardware: {error}", str(path)) from error
        axes.append(Axis(f"hw.{name}", tuple(values), tuple(paths)))
    return axes


def _points(options: dict, axes: list[Axis]):
    for index, combo in enumerate(itertools.product(*(axis.values for axis in axes))):
        chosen = dict(options)
        hardware, labels = [], []
        for axis, value in zip(axes, combo, strict=True):
            if axis.paths:
                hardware.append((axis.column, axis.paths, value))
            elif axis.linked:
                labels.append((axis.column, value[0]))
                chosen.update(value[1])
            else:
                chosen[axis.column] = value
        yield Point(index, tuple(chosen.items()), tuple(hardware), tuple(labels))
