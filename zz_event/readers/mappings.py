"""Read a ZigZag mapping file and adapt it to the input-centric layers `load_workload` produced.

ZigZag picks a layer's mapping entry by layer name, else by operator type, else `default`. A mapping written for
the original (output-centric or ONNX) form of a layer may name its output loops; for every converted layer whose
entry does, `load_mapping` adds an entry named after the layer in which

- OY/OX become IY/IX (and D/H, the rows of a matrix product, become B), in `spatial_mapping`,
  `spatial_mapping_hint` and `temporal_ordering`, with a `MappingTranslationWarning`;
- spatial unrolling factors are kept (ZigZag caps them at the layer size);
- temporal loop sizes are rescaled to the input-centric extent T = ceil(size / spatial unrolling) of the new loop.
  Rule: the factors of one loop, innermost first, each become gcd(factor, what is left of T); if the original
  factors covered the whole output extent, the outermost one instead takes all that is left, so a complete
  ordering stays complete ([OX, 28] on a 32-wide input becomes [IX, 32]; [OX, 4], [OX, 7] becomes [IX, 4], [IX, 8]);
  factors that become 1 are dropped. Loops sized `*` only change name.

The result is a list of dicts in ZigZag's mapping format; ZigZag's API only takes a mapping file path (its
`WorkloadParserStage` asserts `.yaml`), so `save_mapping` writes one.
"""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path
from typing import Any

import yaml
from zigzag.parser.mapping_validator import MappingValidator

from zz_event.errors import InputFileError, MappingError, ZzEventError
from zz_event.readers.layers import PreparedWorkload, captured_log, flatten_errors, read_yaml_list

__all__ = ["MappingTranslationWarning", "entry_for_layer", "load_mapping", "save_mapping"]


class MappingTranslationWarning(UserWarning):
    """A mapping named output loops (OY/OX) of a layer that zz-event rewrote with input loops (IY/IX)."""


def load_mapping(path: str | Path, workload: PreparedWorkload) -> list[dict[str, Any]]:
    """The mapping entries of `path`, plus one translated entry per converted layer whose entry names OY/OX."""
    source = str(path)
    file = Path(source)
    if not file.exists():
        raise InputFileError("mapping file not found; expected a ZigZag mapping .yaml file", source)
    if not file.is_file():
        raise InputFileError("mapping path is not a file; expected a ZigZag mapping .yaml file", source)
    entries = read_yaml_list(file, "mapping", "layer or operator type")
    _check_zigzag_accepts(entries, source)
    layers = workload.zigzag_workload
    known = {str(d).upper() for layer in layers for d in layer["loop_dims"]} | {"OY", "OX"}
    known |= {old for origin in workload.origins.values() for old in origin.renamed}
    out = [copy.deepcopy(e) for e in entries]
    for layer in layers:
        entry = entry_for_layer(entries, layer, workload)
        _check_dims(entry, known, source)
        origin = workload.origins.get(layer["name"])
        if origin is None:
            continue
        renamed = {old: new for old, new in origin.renamed.items() if old in _dims_named(entry)}
        if not renamed and entry["name"] in (layer["name"], layer["operator_type"], "default"):
            continue
        new, changes = _translate(entry, layer, origin.sizes, renamed)
        new["name"] = layer["name"]
        out = [e for e in out if e["name"] != layer["name"]] + [new]
        if changes:
            warnings.warn(
                f"{source}: mapping entry {entry['name']!r} for layer {layer['name']!r}, which zz-event wrote with "
                f"input loops: {'; '.join(changes)}",
                MappingTranslationWarning,
                stacklevel=2,
            )
    _check_zigzag_accepts(out, source)
    return out


def save_mapping(mapping: list[dict[str, Any]], path: str | Path) -> str:
    """Write a mapping list as YAML for ZigZag's API (which only takes a file path ending in .yaml)."""
    target = Path(path)
    if target.suffix != ".yaml":
        raise ZzEventError("ZigZag only reads mapping files whose name ends in .yaml", str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    return str(target)


def entry_for_layer(entries: list[dict[str, Any]], layer: dict[str, Any], workload: PreparedWorkload) -> dict:
    """The entry ZigZag would use: by layer name, by the original operator type (e.g. MatMul), by the operator
    type, else `default`."""
    origin = workload.origins.get(layer["name"])
    keys = [layer["name"], origin.op_type if origin else None, layer["operator_type"], "default"]
    by_name = {e["name"]: e for e in entries}
    return next(by_name[k] for k in keys if k in by_name)  # ZigZag's validator guarantees a default


def _dims_named(entry: dict[str, Any]) -> list[str]:
    dims = [item.split(",")[0].strip().upper() for items in (entry.get("spatial_mapping") or {}).values()
            for item in items]  # fmt: skip
    dims += [str(d).upper() for hints in (entry.get("spatial_mapping_hint") or {}).values() for d in hints]
    dims += [str(loop[0]).upper() for loop in entry.get("temporal_ordering") or []]
    return dims


def _check_dims(entry: dict[str, Any], known: set[str], source: str) -> None:
    for dim in _dims_named(entry):
        if dim not in known and dim != "*":
            raise MappingError(
                f"mapping entry {entry['name']!r} names loop dimension {dim!r}, which no layer of the workload has "
                f"(known: {', '.join(sorted(known))})",
                source,
            )


def _translate(
    entry: dict[str, Any], layer: dict[str, Any], old_sizes: dict[str, int], renamed: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """A copy of `entry` for `layer` with renamed loops and rescaled temporal sizes, and what changed."""
    new = copy.deepcopy(entry)
    changes: list[str] = []
    sizes = {str(d).upper(): int(s) for d, s in zip(layer["loop_dims"], layer["loop_sizes"])}
    unroll_old: dict[str, int] = {}
    unroll_new: dict[str, int] = {}
    for oa_dim, items in (entry.get("spatial_mapping") or {}).items():
        factors: dict[str, int] = {}
        for item in items:
            dim, factor = item.split(",")[0].strip().upper(), int(item.split(",")[-1])
            unroll_old[dim] = unroll_old.get(dim, 1) * factor
            factors[renamed.get(dim, dim)] = factors.get(renamed.get(dim, dim), 1) * factor
            if dim in renamed:
                changes.append(f"spatial {oa_dim} '{item}' -> '{renamed[dim]}, {factor}'")
        new["spatial_mapping"][oa_dim] = [f"{d}, {f}" for d, f in factors.items()]
        for d, f in factors.items():
            unroll_new[d] = unroll_new.get(d, 1) * f
    for oa_dim, hints in (entry.get("spatial_mapping_hint") or {}).items():
        new["spatial_mapping_hint"][oa_dim] = list(dict.fromkeys(renamed.get(str(d).upper(), d) for d in hints))
        if new["spatial_mapping_hint"][oa_dim] != hints:
            changes.append(f"spatial hint {oa_dim} {hints} -> {new['spatial_mapping_hint'][oa_dim]}")
    ordering = [list(loop) for loop in entry.get("temporal_ordering") or []]
    for old, target_dim in renamed.items():
        positions = [i for i, loop in enumerate(ordering) if str(loop[0]).upper() == old]
        for i in positions:
            ordering[i][0] = target_dim
        factors = [ordering[i][1] for i in positions]
        if not positions or "*" in factors or old_sizes.get(old) == sizes.get(target_dim):
            changes += [f"temporal [{old}, {f}] -> [{target_dim}, {f}]" for f in factors]
            continue
        extent_old = math.ceil(old_sizes[old] / min(unroll_old.get(old, 1), old_sizes[old]))
        extent = math.ceil(sizes[target_dim] / min(unroll_new.get(target_dim, 1), sizes[target_dim]))
        complete = math.prod(factors) == extent_old
        for n, i in enumerate(positions):
            ordering[i][1] = extent if complete and n == len(positions) - 1 else math.gcd(ordering[i][1], extent)
            extent //= ordering[i][1]
        changes.append(f"temporal {[[old, f] for f in factors]} -> {[ordering[i] for i in positions]}")
    if ordering:
        new["temporal_ordering"] = [loop for loop in ordering if loop[1] != 1]
    return new, changes


def _check_zigzag_accepts(entries: list[dict[str, Any]], source: str) -> None:
    with captured_log("zigzag.parser.mapping_validator") as log:
        validator = MappingValidator(copy.deepcopy(entries))
        accepted = validator.validate()
    if accepted:
        return
    problems = []
    errors = validator.validator.errors
    for item in errors if isinstance(errors, list) else [errors]:
        for row, details in item.items():
            name = entries[row].get("name") if isinstance(row, int) and row < len(entries) else None
            problems.append(f"entry {repr(name) if name else f'#{row}'}: {flatten_errors(details)}")
    problems += [m.split("invalid. ", 1)[-1] for m in log if "restrictions apply" not in m]
    raise MappingError(f"ZigZag's mapping validator rejects the mapping: {'; '.join(problems)}", source)
