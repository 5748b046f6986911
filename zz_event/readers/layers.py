"""What every workload reader shares: the layer forms zz-event gives ZigZag, the prepared workload, and
reading helpers (YAML lists, ZigZag's validator verdict, ZigZag's log messages). See
`zz_event.readers.workloads` for the forms."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from zigzag.parser.workload_validator import WorkloadValidator

from zz_event.errors import InputFileError, ZzEventError
from zz_event.model.geometry import ConvGeometry

__all__ = [
    "ADD_EQUATION",
    "CONV_EQUATION",
    "CONV_RELATIONS",
    "CONV_TYPES",
    "GROUPED_CONV_EQUATION",
    "POOL_EQUATION",
    "POOL_TYPES",
    "ZZ_EVENT_KEYS",
    "LayerOrigin",
    "PreparedWorkload",
    "captured_log",
    "check_layer_links",
    "check_zigzag_accepts",
    "conv_layer",
    "flatten_errors",
    "layer_label",
    "one_line",
    "read_yaml_list",
    "zigzag_workload_errors",
]


CONV_EQUATION = "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]"
GROUPED_CONV_EQUATION = "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]"
CONV_RELATIONS = ("ox=1*ix+1*fx", "oy=1*iy+1*fy")
POOL_EQUATION = "O[b][g][oy][ox]+=W[fy][fx]*I[b][g][iy][ix]"
ADD_EQUATION = "O[b][g][oy][ox]=W[b][g][oy][ox]+I[b][g][oy][ox]"
CONV_TYPES = ("Conv", "Conv_downsample", "Gemm")
ZZ_EVENT_KEYS = ("stride", "padding", "dilation", "output")
POOL_TYPES = ("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool", "LpPool")


@dataclass(frozen=True)
class LayerOrigin:
    """A converted layer as it was written: operator type, loop sizes, and the loop names it lost."""

    op_type: str
    sizes: dict[str, int]
    renamed: dict[str, str]  # e.g. {"OY": "IY", "OX": "IX"} or {"D": "B"}


@dataclass(frozen=True)
class PreparedWorkload:
    """A workload ready for ZigZag, with the true geometry of every layer zz-event corrects."""

    zigzag_workload: list[dict[str, Any]]
    geometry: dict[str, ConvGeometry]
    uncorrected: dict[str, str]  # layer name -> why zz-event keeps ZigZag's own cost
    source: str
    skipped: dict[str, str] = field(default_factory=dict)  # ONNX nodes not given to ZigZag -> why
    origins: dict[str, LayerOrigin] = field(default_factory=dict)  # every converted layer

    def layer(self, name: str) -> dict[str, Any]:
        """The ZigZag layer dict of the given name."""
        for layer in self.zigzag_workload:
            if layer["name"] == name:
                return layer
        raise KeyError(name)


def read_yaml_list(path: Path, what: str, item: str) -> list[dict[str, Any]]:
    """A YAML file holding a non-empty list of dicts, or InputFileError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read the {what} file ({one_line(exc)})", str(path)) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputFileError(f"invalid YAML in the {what} file: {one_line(exc)}", str(path)) from exc
    if not isinstance(data, list) or not data or not all(isinstance(x, dict) for x in data):
        found = type(data).__name__ if not isinstance(data, list) else "a list with non-dict items or no items"
        raise InputFileError(f"a {what} file must be a YAML list with one dict per {item}; found {found}", str(path))
    return data


# ----------------------------------------------------------------------------------------------------- YAML input


def conv_layer(layer_id: int, name: str, op_type: str, geo: ConvGeometry, precision: dict) -> dict[str, Any]:
    grouped = geo.G > 1
    sizes = [geo.B] + [geo.G] * grouped + [geo.K, geo.C, geo.y.inp, geo.x.inp, geo.y.kernel, geo.x.kernel]
    return {
        "id": layer_id,
        "name": name,
        "operator_type": op_type,
        "equation": GROUPED_CONV_EQUATION if grouped else CONV_EQUATION,
        "dimension_relations": list(CONV_RELATIONS),
        "loop_dims": ["B"] + ["G"] * grouped + ["K", "C", "IY", "IX", "FY", "FX"],
        "loop_sizes": sizes,
        "operand_precision": dict(precision),
    }


def check_zigzag_accepts(layers: list[dict[str, Any]], source: str, what: str) -> None:
    problems = zigzag_workload_errors(layers)
    if problems:
        raise ZzEventError(f"ZigZag's workload validator rejects the {what}: {'; '.join(problems)}", source)


def check_layer_links(layers: list[dict[str, Any]], source: str) -> None:
    """What ZigZag's validator lets through and then asserts on: operand precisions below 1 (zero or negative
    energy) and an `operand_source` naming a layer id the workload does not have."""
    ids = {layer.get("id") for layer in layers}
    for i, layer in enumerate(layers):
        label = layer_label(layer, i)
        for operand, bits in (layer.get("operand_precision") or {}).items():
            dummy = operand == "W" and layer.get("operator_type") == "Pooling" and bits == 0  # ZigZag's own form
            if not dummy and (not isinstance(bits, int) or isinstance(bits, bool) or bits < 1):
                raise ZzEventError(f"layer {label}: operand_precision {operand} is {bits!r}; expected a positive "
                                   "number of bits", source)  # fmt: skip
        for operand, layer_id in (layer.get("operand_source") or {}).items():
            if layer_id not in ids:
                raise ZzEventError(f"layer {label}: operand_source {operand} names layer id {layer_id!r}, which the "
                                   f"workload does not have (ids: {', '.join(map(str, sorted(ids)))})",
                                   source)  # fmt: skip


def zigzag_workload_errors(layers: list[dict[str, Any]]) -> list[str]:
    """ZigZag 3.9.1's WorkloadValidator verdict on a layer list, one line per problem (empty if it accepts it)."""
    with captured_log("zigzag.parser.workload_validator") as log:
        validator = WorkloadValidator(copy.deepcopy(layers))
        accepted = validator.validate()
    if accepted:
        return []
    problems = []
    errors = validator.validator.errors
    for item in errors if isinstance(errors, list) else [errors]:
        for row, details in item.items():
            label = layer_label(layers[row], row) if isinstance(row, int) and row < len(layers) else str(row)
            problems.append(f"layer {label}: {flatten_errors(details)}")
    problems += [m.split("invalid. ", 1)[-1] for m in log if "restrictions apply" not in m]
    return problems or ["no detail given"]


@contextmanager
def captured_log(name: str) -> Iterator[list[str]]:
    """Collect one logger's messages instead of letting them reach stderr (ZigZag reports through logging)."""
    messages: list[str] = []
    logger = logging.getLogger(name)

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler, propagate = _Collect(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def flatten_errors(details: Any, prefix: str = "") -> str:
    if isinstance(details, dict):
        return ", ".join(flatten_errors(v, f"{prefix}{k}.") for k, v in details.items())
    if isinstance(details, list):
        return ", ".join(flatten_errors(v, prefix) for v in details)
    return f"{prefix.rstrip('.')}: {details}" if prefix else str(details)


def layer_label(layer: dict[str, Any], index: int) -> str:
    return repr(layer["name"]) if layer.get("name") else f"#{index} (id {layer.get('id')})"


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
