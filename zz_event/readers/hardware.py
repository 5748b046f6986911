"""Up-front checks of an accelerator file, so that a bad one fails in one line, before ZigZag runs."""

from __future__ import annotations

import os

import yaml
from zigzag.parser.accelerator_validator import AcceleratorValidator

from zz_event.errors import InputFileError, ZzEventError
from zz_event.readers.layers import captured_log, flatten_errors

__all__ = ["check_accelerator"]


def read_yaml(path: str):
    """Parsed YAML of `path`, or InputFileError naming the file and the problem."""
    if not os.path.isfile(path):
        raise InputFileError("no such file", path)
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as error:
        raise InputFileError(f"cannot be read ({error.strerror})", path) from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputFileError(f"is not valid YAML{where}: {getattr(error, 'problem', error)}", path) from error


def check_accelerator(path: str) -> str:
    """`path` if it is a ZigZag accelerator file ZigZag's validator accepts; else a one-line error."""
    if not str(path).endswith(".yaml"):
        raise InputFileError("an accelerator must be a ZigZag .yaml file", path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ZzEventError("is not a ZigZag accelerator (expected a mapping with memories and operational_array)", path)
    with captured_log("zigzag.parser.accelerator_validator"):
        validator = AcceleratorValidator(data)
        try:
            valid = validator.validate()
        except (KeyError, TypeError) as error:  # the validator indexes sections it has not checked exist
            raise ZzEventError(f"ZigZag's accelerator validator cannot read it: missing or malformed {error}",
                               path) from error
    if not valid:
        errors = flatten_errors(validator.validator.errors) or "rejected"
        raise ZzEventError(f"ZigZag's accelerator validator rejects it: {errors}", path)
    return path
