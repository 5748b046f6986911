"""The three inputs of a ZigZag run read and checked together, before any work: the one place every command (and
the front door, and the reference simulator's script) gets them from."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zz_event.readers.hardware import AcceleratorSpec, read_accelerator
from zz_event.readers.layers import PreparedWorkload
from zz_event.readers.mapping_checks import check_mapping_fits
from zz_event.readers.mappings import MappingTranslationWarning, load_mapping
from zz_event.readers.workloads import load_workload

__all__ = ["ZigZagInputs", "read_zigzag_inputs"]


@dataclass(frozen=True)
class ZigZagInputs:
    """A workload converted for ZigZag, the accelerator it runs on and the mapping adapted to its layers."""

    workload: PreparedWorkload
    accelerator: AcceleratorSpec
    mapping: list[dict[str, Any]]


def read_zigzag_inputs(workload: Any, accelerator: str | Path, mapping: str | Path,
                       cost_pooling_and_add: bool = False, *, warn: bool = True) -> ZigZagInputs:
    """Read and cross-check the three inputs; a `ZzEventError` naming the file and the problem if any is bad.

    Files are checked in the order a user would fix them: accelerator, workload, mapping (which needs both).
    `warn=False` for a check ahead of the run that reads them again: the run warns about translated mapping
    entries, once."""
    spec = read_accelerator(str(accelerator))
    prepared = load_workload(workload, cost_pooling_and_add)
    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore", MappingTranslationWarning)
        entries = load_mapping(mapping, prepared)
    check_mapping_fits(entries, prepared, spec, str(mapping))
    return ZigZagInputs(prepared, spec, entries)
