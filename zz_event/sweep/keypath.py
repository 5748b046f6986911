"""Key paths into parsed YAML: `memories.sram_256KB.ports[0].bandwidth_min`, `operational_array.sizes[0]`.

A path is dot-separated mapping keys, each optionally followed by `[i]` list indices. Setting a value never
creates a key or list element: a path must name something the file already has, and the new value must be
of the same type (an integer may stand for a float), so a typo or a wrong type fails before anything runs.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["KeyPathError", "coerce_like", "get_path", "join_key_path", "parse_key_path", "set_path"]

_STEP = re.compile(r"^([^.\[\]]+)((?:\[\d+\])*)$")


class KeyPathError(ValueError):
    """A key path that is malformed, names nothing in the data, or a value of the wrong type for it."""


def parse_key_path(path: str) -> tuple[str | int, ...]:
    """`a.b[0].c` -> ("a", "b", 0, "c")."""
    steps: list[str | int] = []
    for part in str(path).split("."):
        match = _STEP.match(part.strip())
        if not match:
            raise KeyPathError(f"key path {path!r} is malformed at {part!r}; expected name.name[index]...")
        steps.append(match.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return tuple(steps)


def _child(node: Any, step: str | int, path: str, done: str) -> Any:
    if isinstance(step, int):
        if not isinstance(node, list) or step >= len(node):
            size = f"a list of {len(node)}" if isinstance(node, list) else type(node).__name__
            raise KeyPathError(f"key path {path!r}: {done or 'the file'} is {size}, no index [{step}]")
        return node[step]
    if not isinstance(node, dict) or step not in node:
        known = ", ".join(map(str, node)) if isinstance(node, dict) else f"a {type(node).__name__}"
        raise KeyPathError(f"key path {path!r}: no key {step!r} in {done or 'the file'} (it has {known})")
    return node[step]


def _walk(data: Any, steps: tuple[str | int, ...], path: str) -> Any:
    node = data
    for depth, step in enumerate(steps):
        node = _child(node, step, path, join_key_path(steps[:depth]))
    return node


def get_path(data: Any, path: str) -> Any:
    return _walk(data, parse_key_path(path), path)


def coerce_like(old: Any, value: Any, path: str) -> Any:
    """`value` as the type of `old`, the value the file has at `path`; an int may become a float."""
    if isinstance(old, bool) or isinstance(value, bool):
        if isinstance(old, bool) and isinstance(value, bool):
            return value
    elif isinstance(old, float) and isinstance(value, int | float):
        return float(value)
    elif type(old) is type(value) and (not isinstance(old, list | dict) or _same_shape(old, value)):
        return value
    raise KeyPathError(
        f"key path {path!r}: value {value!r} is a {type(value).__name__}; the file has {old!r} "
        f"({type(old).__name__}) there"
    )


def _same_shape(old: Any, value: Any) -> bool:
    if isinstance(old, dict):
        return set(old) == set(value)
    return not old or all(type(v) is type(old[0]) for v in value)


def set_path(data: Any, path: str, value: Any) -> Any:
    """Set the existing entry at `path` in `data` (in place) to `value`, coerced to its type; return it."""
    steps = parse_key_path(path)
    parent = _walk(data, steps[:-1], path)
    old = _child(parent, steps[-1], path, join_key_path(steps[:-1]))
    parent[steps[-1]] = new = coerce_like(old, value, path)
    return new


def join_key_path(steps: tuple[str | int, ...]) -> str:
    out = ""
    for step in steps:
        out = f"{out}[{step}]" if isinstance(step, int) else (f"{out}.{step}" if out else step)
    return out
