"""An accelerator file read and checked before ZigZag runs: ZigZag's own validator first (its messages quoted),
then what it lets through but fails on later (a size, bandwidth or array dimension of 0 or below, a memory operand
no mapping can link)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml
from zigzag.parser.accelerator_validator import AcceleratorValidator

from zz_event.errors import InputFileError, ZzEventError
from zz_event.readers.layers import captured_log, flatten_errors, one_line

__all__ = ["MEMORY_OPERANDS", "AcceleratorSpec", "check_accelerator", "read_accelerator", "read_yaml"]

MEMORY_OPERANDS = ("I1", "I2", "O")  # what ZigZag 3.9.1 lets a memory store (its validator's OPERAND_REGEX)


@dataclass(frozen=True)
class AcceleratorSpec:
    """A checked accelerator: its file, array dimensions and sizes, and memories (name -> ZigZag's fields)."""

    path: str
    dimensions: dict[str, int]
    memories: dict[str, dict[str, Any]]

    @property
    def memory_operands(self) -> set[str]:
        return {op for memory in self.memories.values() for op in memory["operands"]}


def read_yaml(path: str):
    """Parsed YAML of `path`, or InputFileError naming the file and the problem."""
    if not os.path.isfile(path):
        raise InputFileError("no such file" if not os.path.exists(path) else "is not a file", path)
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as error:
        raise InputFileError(f"cannot be read ({error.strerror})", path) from error
    except UnicodeDecodeError as error:
        raise InputFileError(f"is not UTF-8 text ({one_line(error)})", path) from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputFileError(f"is not valid YAML{where}: {getattr(error, 'problem', error)}", path) from error


def check_accelerator(path: str) -> str:
    """`path` if it is an accelerator file zz-event can run; else a one-line error."""
    read_accelerator(path)
    return path


def read_accelerator(path: str) -> AcceleratorSpec:
    """The accelerator of `path`, checked by ZigZag's validator and by the rules below; else a one-line error."""
    path = str(path)
    if not path.endswith(".yaml"):
        raise InputFileError("an accelerator must be a ZigZag .yaml file", path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ZzEventError("is not a ZigZag accelerator (expected a mapping with memories and operational_array)", path)
    with captured_log("zigzag.parser.accelerator_validator") as log:
        validator = AcceleratorValidator(data)
        try:
            valid = validator.validate()
        except (KeyError, TypeError, AttributeError) as error:  # it indexes sections it has not checked exist
            raise ZzEventError(f"ZigZag's accelerator validator cannot read it: missing or malformed {error}",
                               path) from error
    if not valid:
        problems = [m.split("invalid. ", 1)[-1] for m in log if "restrictions apply" not in m]
        schema = flatten_errors(validator.validator.errors)
        raise ZzEventError(f"ZigZag's accelerator validator rejects it: {'; '.join(filter(None, [schema, *problems]))}",
                           path)  # fmt: skip
    data = validator.data  # normalized: defaults filled in
    array = data["operational_array"]
    dimensions = dict(zip(array["dimensions"], array["sizes"]))
    _check_positive(path, {f"operational_array.sizes ({dim})": size for dim, size in dimensions.items()})
    for name, memory in data["memories"].items():
        _check_memory(path, name, memory)
    return AcceleratorSpec(path, dimensions, dict(data["memories"]))


def _check_memory(path: str, name: str, memory: dict[str, Any]) -> None:
    numbers = {f"memories.{name}.size": memory["size"]}
    for i, port in enumerate(memory.get("ports") or []):
        for key in ("bandwidth_min", "bandwidth_max"):
            numbers[f"memories.{name}.ports[{i}].{key}"] = port[key]
    _check_positive(path, numbers)
    if memory["latency"] < 0:
        raise ZzEventError(f"memories.{name}.latency is {memory['latency']}; expected 0 or more cycles", path)
    for key in ("r_cost", "w_cost", "area"):
        if isinstance(memory.get(key), (int, float)) and memory[key] < 0:
            raise ZzEventError(f"memories.{name}.{key} is {memory[key]}; expected 0 or more", path)
    stored = set(memory["operands"])
    for port in memory.get("ports") or []:
        for allocation in port.get("allocation") or []:
            operand = allocation.split(",")[0].strip()
            if operand not in stored:
                raise ZzEventError(f"memories.{name}: port {port['name']} serves {operand}, which the memory does not "
                                   f"store (operands: {', '.join(sorted(stored))})", path)  # fmt: skip


def _check_positive(path: str, numbers: dict[str, Any]) -> None:
    for key, value in numbers.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ZzEventError(f"{key} is {value!r}; expected a positive integer", path)
