"""A Stream accelerator as one bundle: its top file and each core's file, with key paths into either.

A key path `cores.<id>.<path>` goes into that core's file (`cores.0.operational_array.sizes[0]`); any other
path into the top file (`core_connectivity[6].bandwidth`). Each core is written as its own file
(`cores/core_<id>.yaml`), so changing core 0 leaves a core 1 that shared its file as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from zz_event.sweep.keypath import KeyPathError, join_key_path, parse_key_path, set_path

__all__ = ["StreamBundle", "read_bundle"]


class StreamBundle:
    def __init__(self, top: dict, cores: dict[Any, dict]) -> None:
        self.top = top
        self.cores = cores

    def set(self, key_path: str, value: Any) -> Any:
        """Set `key_path` (in a core's file if it starts with `cores.<id>.`) to `value`; the value set."""
        steps = parse_key_path(key_path)
        if steps[0] != "cores" or len(steps) < 3:
            return set_path(self.top, key_path, value)
        core = self._core_id(steps[1], key_path)
        return set_path(self.cores[core], join_key_path(steps[2:]), value)

    def _core_id(self, step: Any, key_path: str) -> Any:
        for candidate in (step, str(step), int(step) if str(step).isdigit() else None):
            if candidate in self.cores:
                return candidate
        raise KeyPathError(f"key path {key_path!r}: no core {step} (the accelerator has cores "
                           f"{', '.join(map(str, self.cores))})")  # fmt: skip

    def texts(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """(the top file's YAML naming `./cores/core_<id>.yaml`, ((file name, YAML), ...) of the cores)."""
        top = copy.deepcopy(self.top)
        top["cores"] = {core: f"./cores/core_{core}.yaml" for core in self.cores}
        cores = tuple((f"core_{core}.yaml", yaml.safe_dump(data, sort_keys=False)) for core, data in self.cores.items())
        return yaml.safe_dump(top, sort_keys=False), cores


def _core_path(reference: str, folder: Path) -> Path:
    """Where Stream finds a `cores:` entry: relative to the accelerator's folder, or by bare name in its
    `cores/` folder or beside it (`stream.parser.accelerator_validator.resolve_core_path`)."""
    if "/" in reference:
        return folder / reference if "./" in reference or not Path(reference).is_absolute() else Path(reference)
    for candidate in (folder / "cores" / reference, folder / reference):
        if candidate.is_file():
            return candidate
    return folder / "cores" / reference


def read_bundle(path: str, read: Callable[[str], bytes]) -> StreamBundle:
    """The Stream accelerator at `path` and its cores (`read` returns a file's bytes, or raises)."""
    top = yaml.safe_load(read(path))
    if not isinstance(top, dict) or not isinstance(top.get("cores"), dict) or not top["cores"]:
        raise KeyPathError(f"{path} is not a Stream accelerator (expected a mapping with `cores: {{id: file}}`)")
    folder = Path(path).parent
    cores = {}
    for core, reference in top["cores"].items():
        core_file = _core_path(str(reference), folder)
        cores[core] = yaml.safe_load(read(str(core_file.resolve())))
    return StreamBundle(top, cores)
