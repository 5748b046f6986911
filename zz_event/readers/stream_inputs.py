"""The inputs of a Stream run read and checked before Stream starts: the accelerator with Stream's own validator
(its messages quoted), the ONNX workload, and the mapping with Stream's validator plus what it lets through and
Stream then fails on (a layer name the workload does not have, a core the accelerator does not have, a MAC layer
with no entry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnx
from google.protobuf.message import DecodeError

from zz_event.errors import InputFileError, MappingError, ZzEventError
from zz_event.readers.hardware import read_yaml
from zz_event.readers.layers import captured_log, flatten_errors, one_line

__all__ = ["check_stream_inputs"]

_MAC_TYPES = ("Conv", "Gemm", "MatMul", "QLinearConv")


def check_stream_inputs(hardware: str | Path, workload: str | Path, mapping: str | Path | None) -> None:
    """A `ZzEventError` naming the file and the problem unless Stream can be given these three."""
    expected = {"hardware": "a Stream accelerator .yaml file", "workload": "an .onnx model",
                "mapping": "a Stream mapping .yaml file"}  # fmt: skip
    for label, path in (("hardware", hardware), ("workload", workload), ("mapping", mapping)):
        if path is not None and not Path(path).exists():
            raise InputFileError(f"{label} file not found; expected {expected[label]}", str(path))
        if path is not None and not Path(path).is_file():
            raise InputFileError(f"{label} path is not a file; expected {expected[label]}", str(path))
    cores = _check_hardware(str(hardware))
    model = _read_onnx(str(workload))
    if mapping is not None:
        _check_mapping(str(mapping), model, cores)


def _check_hardware(path: str) -> set[int]:
    from stream.parser.accelerator_validator import AcceleratorValidator  # noqa: PLC0415 -- loads Stream

    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ZzEventError("is not a Stream accelerator (expected a mapping with cores and core_connectivity)", path)
    with captured_log("stream.parser.accelerator_validator"):
        try:
            validator = AcceleratorValidator(data, path)
            valid = validator.validate()
        except OSError as error:  # a core file it opens
            raise InputFileError(f"Stream's accelerator validator cannot open {error.filename} ({error.strerror})",
                                 path) from error  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError) as error:  # it indexes what it has not checked
            raise ZzEventError(f"Stream's accelerator validator cannot read it: missing or malformed {error}",
                               path) from error  # fmt: skip
    if not valid:
        raise ZzEventError(f"Stream's accelerator validator rejects it: {'; '.join(validator.errors) or 'rejected'}",
                           path)  # fmt: skip
    return set(validator.data["cores"])


def _read_onnx(path: str) -> onnx.ModelProto:
    if not path.endswith(".onnx"):
        raise InputFileError("a Stream workload must be an .onnx model", path)
    try:
        model = onnx.load(path, load_external_data=False)
    except (OSError, ValueError, DecodeError) as error:
        raise InputFileError(f"not a readable ONNX model ({one_line(error)})", path) from error
    if not any(node.op_type in _MAC_TYPES for node in model.graph.node):
        raise InputFileError(f"the ONNX model has no layer Stream's ZigZag cores cost ({', '.join(_MAC_TYPES)})", path)
    return model


def _check_mapping(path: str, model: onnx.ModelProto, cores: set[int]) -> None:
    from stream.parser.mapping_validator import MappingValidator  # noqa: PLC0415 -- loads Stream

    data = read_yaml(path)
    for i, entry in enumerate(data.get("layers") or [] if isinstance(data, dict) else []):
        missing = [key for key in ("name", "core_allocation") if not isinstance(entry, dict) or key not in entry]
        if missing:  # Stream's validator indexes both before checking them (a TypeError)
            raise MappingError(f"layers[{i}] has no {' or '.join(missing)}; Stream requires both", path)
    with captured_log("stream.parser.mapping_validator"):
        validator = MappingValidator(data)
        try:
            valid = validator.validate()
        except (KeyError, TypeError, ValueError, AttributeError) as error:  # it indexes what it has not checked
            raise MappingError(f"Stream's mapping validator cannot read it: missing or malformed {error}",
                               path) from error  # fmt: skip
    if not valid:
        raise MappingError(f"Stream's mapping validator rejects it: {flatten_errors(validator.errors)}", path)
    layers: list[dict[str, Any]] = validator.normalized_data["layers"]
    known = {node.name for node in model.graph.node} | {node.op_type for node in model.graph.node}
    known_lower = {name.lower() for name in known}
    for entry in layers:
        if entry["name"].lower() not in known_lower:
            raise MappingError(f"layer entry {entry['name']!r} names no node or operator type of the workload "
                               f"(nodes: {', '.join(n.name for n in model.graph.node)})", path)  # fmt: skip
        for group in entry["core_allocation"]:
            for core in group:
                if core not in cores:
                    raise MappingError(f"layer entry {entry['name']!r} allocates core {core}, which the accelerator "
                                       f"does not have (cores: {', '.join(map(str, sorted(cores)))})", path)
    named = {entry["name"].lower() for entry in layers}
    for node in model.graph.node:
        if node.op_type in _MAC_TYPES and not {node.name.lower(), node.op_type.lower()} & named:
            raise MappingError(f"no layer entry for node {node.name!r} ({node.op_type}); expected one named after "
                               "the node or its operator type", path)  # fmt: skip
