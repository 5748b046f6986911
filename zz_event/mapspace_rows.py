"""One mapspace row per evaluated mapping: the column schema and the row of one CostModelEvaluation.

The columns are described in `zz_event.mapspace`'s docstring. This module is pure: it turns a CME (a
`CorrectedCME`, or a plain ZigZag CME of a layer zz-event does not correct) into a list of strings in
the fixed column order, with a stable text form for every number (integers as integers, floats as
Python's shortest round-trip `repr`), so the same run always writes the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from zz_event.corrected_cme import CorrectedCME, operand_levels, raw_figures
from zz_event.nest import DIRECTIONS, OPERANDS

__all__ = [
    "VARIANTS",
    "KEY_COLUMNS",
    "MapspaceSchema",
    "schema_for_accelerator",
    "word_column",
    "metric_columns",
    "format_value",
    "loop_text",
]

# Engine variants logged per mapping: column prefix -> EngineOptions label (zz_event.engine.result).
VARIANTS = ("dense", "filter", "event_driven")
KEY_COLUMNS = (
    "layer",
    "evaluation",
    "spatial_index",
    "spatial_mapping",
    "temporal_ordering",
    "alloc_W",
    "alloc_I",
    "alloc_O",
    "corrected",
    "uncorrected_reason",
)
_RAW_METRICS = ("macs", "latency_cycles", "energy_pj")
_ENGINE_METRICS = ("macs", "compute_cycles", "latency_cycles", "energy_pj")


def word_column(prefix: str, operand: str, level: int, direction: str) -> str:
    """E.g. `raw_W0_rd_out_to_low`: word accesses of operand W at its level 0 (innermost), one direction."""
    return f"{prefix}_{operand}{level}_{direction}"


def metric_columns(prefix: str) -> tuple[str, ...]:
    metrics = _RAW_METRICS if prefix == "raw" else _ENGINE_METRICS
    return tuple(f"{prefix}_{m}" for m in metrics)


@dataclass(frozen=True)
class MapspaceSchema:
    """The fixed column order of one mapspace file; `levels` = word-access levels kept per operand."""

    levels: int

    @property
    def columns(self) -> tuple[str, ...]:
        cols = list(KEY_COLUMNS)
        for prefix in ("raw", *VARIANTS):
            cols += metric_columns(prefix)
            cols += self.word_columns(prefix)
        cols.append("valid_mac_fraction")
        return tuple(cols)

    def word_columns(self, prefix: str) -> list[str]:
        return [
            word_column(prefix, op, j, d) for op in OPERANDS for j in range(self.levels) for d in DIRECTIONS
        ]

    def row(self, cme: Any, layer: str, evaluation: int, spatial_index: int) -> list[str]:
        """The row of one evaluated mapping, as strings in `columns` order."""
        corrected = isinstance(cme, CorrectedCME)
        raw = cme.raw if corrected else raw_figures(cme)
        values: list[Any] = [
            layer,
            evaluation,
            spatial_index,
            spatial_mapping_text(cme),
            ordering_text(cme),
            *(allocation_text(cme, op) for op in OPERANDS),
            1 if corrected else 0,
            "" if corrected else str(getattr(cme, "zz_event_uncorrected", "not corrected")),
        ]
        values += [raw["macs"], float(raw["latency_cycles"]), float(raw["energy_pj"])]
        values += self._words(raw["word_accesses"])
        results = _variant_results(cme) if corrected else {}
        for prefix in VARIANTS:
            result = results.get(prefix)
            if result is None:
                values += [None] * (len(_ENGINE_METRICS) + 3 * self.levels * len(DIRECTIONS))
                continue
            values += [result.macs, result.compute_cycles, result.latency_cycles, float(result.energy_pj)]
            values += self._words({op: [lc.words for lc in levels] for op, levels in result.levels.items()})
        values.append(_valid_fraction(results))
        return [format_value(v) for v in values]

    def _words(self, words: dict[str, list[dict]]) -> list[Any]:
        out: list[Any] = []
        for op in OPERANDS:
            levels = words.get(op, [])
            if len(levels) > self.levels:
                raise ValueError(f"operand {op} has {len(levels)} memory levels; the schema keeps {self.levels}")
            for j in range(self.levels):
                out += [int(levels[j][d]) if j < len(levels) else None for d in DIRECTIONS]
        return out


def schema_for_accelerator(accelerator: Any) -> MapspaceSchema:
    """The schema for an accelerator: as many word-access levels as its deepest memory operand has."""
    hierarchy = accelerator.memory_hierarchy
    depth = max(len(hierarchy.get_memory_levels(mem_op)) for mem_op in hierarchy.get_operands())
    return MapspaceSchema(levels=depth)


def _variant_results(cme: CorrectedCME) -> dict:
    results = dict(cme.engine_variants)
    results[cme.engine.options.label] = cme.engine
    return results


def _valid_fraction(results: dict) -> float | None:
    dense, event = results.get("dense"), results.get("event_driven") or results.get("filter")
    if dense is None or event is None or dense.macs == 0:
        return None
    return event.macs / dense.macs


def format_value(value: Any) -> str:
    """Stable text of one cell: '' for missing, integers as integers, floats as shortest round-trip repr."""
    if type(value) is int:  # most cells: first, and without the isinstance chain
        return str(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(value)
    return str(value)


def loop_text(dim: Any, size: float) -> str:
    """`FY3`; a fractional ZigZag loop size keeps its fraction (`K10.5`)."""
    return _loop_text(str(dim), size)


@lru_cache(maxsize=4096)  # a layer has few distinct loops; every row prints them
def _loop_text(dim: str, size: float) -> str:
    size = float(size)
    return f"{dim}{int(size)}" if size.is_integer() else f"{dim}{size!r}"


def _levels_of(cme: Any, operand: str) -> list:
    for op, levels in cme.temporal_mapping.mapping_dic_origin.items():
        if str(op) == operand:
            return levels
    return []


def ordering_text(cme: Any) -> str:
    """The temporal ordering, inner to outer: `FY3 FX3 IX5 IY5`."""
    levels = _levels_of(cme, "O") or next(iter(cme.temporal_mapping.mapping_dic_origin.values()))
    return " ".join(loop_text(d, s) for level in levels for d, s in level)


def allocation_text(cme: Any, operand: str) -> str:
    """Which loops sit at which memory level for one operand, innermost level first: `rf[FY3] sram[FX3 IX5]`."""
    levels = _levels_of(cme, operand)
    if not levels:
        return ""
    memories = operand_levels(cme).names[operand]
    parts = []
    for j, level in enumerate(levels):
        name = memories[j] if j < len(memories) else f"L{j}"
        parts.append(f"{name}[{' '.join(loop_text(d, s) for d, s in level)}]")
    return " ".join(parts)


def spatial_mapping_text(cme: Any) -> str:
    """The spatial unrolling per array dimension: `D1:K8 D2:C6` (ZigZag's order)."""
    parts = []
    for oa_dim, single in cme.layer.spatial_mapping.items():
        loops = ",".join(loop_text(d, s) for d, s in single.items())
        parts.append(f"{oa_dim}:{loops}")
    return " ".join(parts)
