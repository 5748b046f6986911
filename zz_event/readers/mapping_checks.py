"""A mapping checked against the layers it maps and the accelerator it maps them on, before ZigZag runs.

ZigZag's mapping validator checks the file's form only; what it lets through fails deep inside ZigZag (`KeyError`
for a link to a memory operand no memory stores, `ValueError: tuple.index(x)` in LOMA for a temporal loop size
that does not divide the layer, an assertion for an unrolling of 0). Here each becomes one line naming the
mapping entry, the layer and what was expected.
"""

from __future__ import annotations

import math
from typing import Any

from zz_event.errors import MappingError
from zz_event.readers.hardware import AcceleratorSpec
from zz_event.readers.layers import PreparedWorkload
from zz_event.readers.mappings import entry_for_layer

__all__ = ["check_mapping_fits"]


def check_mapping_fits(entries: list[dict[str, Any]], workload: PreparedWorkload, accelerator: AcceleratorSpec,
                       source: str) -> None:  # fmt: skip
    """MappingError unless the entry ZigZag picks for every layer fits that layer and `accelerator`."""
    for layer in workload.zigzag_workload:
        entry = entry_for_layer(entries, layer, workload)
        where = f"mapping entry {entry['name']!r} for layer {layer['name']!r}"
        _check_links(entry, accelerator, where, source)
        unroll = _check_spatial(entry, layer, accelerator, where, source)
        _check_temporal(entry, layer, unroll, where, source)


def _check_links(entry: dict[str, Any], accelerator: AcceleratorSpec, where: str, source: str) -> None:
    stored = accelerator.memory_operands
    for operand, memory_operand in (entry.get("memory_operand_links") or {}).items():
        if memory_operand not in stored:
            raise MappingError(f"{where} links operand {operand} to memory operand {memory_operand}, which no "
                               f"memory of {accelerator.path} stores (it has {', '.join(sorted(stored))})",
                               source)  # fmt: skip


def _check_spatial(entry: dict[str, Any], layer: dict[str, Any], accelerator: AcceleratorSpec, where: str,
                   source: str) -> dict[str, int]:  # fmt: skip
    """The spatial unrolling per layer dimension (each array dimension checked to exist and to hold it)."""
    unroll: dict[str, int] = {}
    for oa_dim, items in (entry.get("spatial_mapping") or {}).items():
        if oa_dim not in accelerator.dimensions:
            raise MappingError(f"{where} unrolls over array dimension {oa_dim}, which {accelerator.path} does "
                               f"not have (it has {', '.join(accelerator.dimensions)})", source)  # fmt: skip
        total = 1
        for item in items or []:
            dim, factor = item.split(",")[0].strip().upper(), int(item.split(",")[-1])
            if factor < 1:
                raise MappingError(f"{where} unrolls {dim} by {factor} over {oa_dim}; expected a positive integer",
                                   source)  # fmt: skip
            unroll[dim] = unroll.get(dim, 1) * factor
            total *= factor
        if total > accelerator.dimensions[oa_dim]:
            raise MappingError(f"{where} unrolls {total} iterations over {oa_dim}, which has "
                               f"{accelerator.dimensions[oa_dim]} processing elements", source)  # fmt: skip
    return unroll


def _check_temporal(entry: dict[str, Any], layer: dict[str, Any], unroll: dict[str, int], where: str,
                    source: str) -> None:  # fmt: skip
    sizes = {str(d).upper(): int(s) for d, s in zip(layer["loop_dims"], layer["loop_sizes"])}
    given: dict[str, int] = {}
    for dim, factor in entry.get("temporal_ordering") or []:
        dim = str(dim).upper()
        if factor == "*":
            continue
        if not isinstance(factor, int) or factor < 1:
            raise MappingError(f"{where}: temporal loop [{dim}, {factor}] has a size below 1; expected a positive "
                               "integer or '*'", source)  # fmt: skip
        if dim not in sizes:
            continue  # ZigZag drops loops of dimensions the layer lacks, with a warning
        given[dim] = given.get(dim, 1) * factor
    for dim, product in given.items():
        extent = math.ceil(sizes[dim] / min(unroll.get(dim, 1), sizes[dim]))
        if extent % product:
            raise MappingError(f"{where}: temporal loops over {dim} multiply to {product}, which does not divide "
                               f"the {extent} iterations {dim} has left after spatial unrolling (layer size "
                               f"{sizes[dim]})", source)  # fmt: skip
