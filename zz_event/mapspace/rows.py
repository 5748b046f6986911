"""One mapspace row per evaluated mapping: the column schema and the row of one CostModelEvaluation.

The columns are described in `zz_event.mapspace.logger`'s docstring. This module is pure: it turns a CME (a
`CorrectedCME`, or a plain ZigZag CME of a layer zz-event does not correct) into a list of strings in
the fixed column order, with a stable text form for every number (integers as integers, floats as
Python's shortest round-trip `repr`), so the same run always writes the same bytes.

A row is its key cells (up to `spatial_mapping`) and its tail (`tail_cells`), made from the CME's
mapping texts, ZigZag's figures as numbers (`RawNumbers`) and the engine's results by variant label.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from zigzag.hardware.architecture.memory_port import DataDirection

from zz_event.engine.result import EngineResult
from zz_event.memo import lru_cache
from zz_event.model.vocabulary import DIRECTIONS, MAPSPACE_VARIANTS, OPERANDS
from zz_event.zigzag.corrected_cme import CorrectedCME, operand_levels, raw_state

__all__ = [
    "DATA_COLUMNS",
    "KEY_COLUMNS",
    "VARIANTS",
    "MapspaceSchema",
    "RawNumbers",
    "format_value",
    "key_cells",
    "loop_text",
    "mapping_texts",
    "metric_columns",
    "raw_numbers",
    "schema_for_accelerator",
    "schema_for_spec",
    "spatial_mapping_text",
    "tail_parts",
    "word_column",
]

# Engine variants logged per mapping: column prefix -> EngineOptions label (zz_event.engine.result).
VARIANTS = MAPSPACE_VARIANTS
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
# With data: each mapping's mean data-driven cost over the calibration samples (floats: means).
DATA_COLUMNS = ("data_macs", "data_compute_cycles", "data_latency_cycles", "data_energy_pj")
_RAW_METRICS = ("macs", "latency_cycles", "energy_pj")
_ENGINE_METRICS = ("macs", "compute_cycles", "latency_cycles", "energy_pj")
_ROW_DIRECTIONS = tuple(next(d for d in DataDirection if str(d) == name) for name in DIRECTIONS)
_EMPTY = [""]


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
    data: bool = False  # the run has data: `DATA_COLUMNS` follow

    @property
    def columns(self) -> tuple[str, ...]:
        cols = list(KEY_COLUMNS)
        for prefix in ("raw", *VARIANTS):
            cols += metric_columns(prefix)
            cols += self.word_columns(prefix)
        cols.append("valid_mac_fraction")
        return tuple(cols) + (DATA_COLUMNS if self.data else ())

    def word_columns(self, prefix: str) -> list[str]:
        return [
            word_column(prefix, op, j, d) for op in OPERANDS for j in range(self.levels) for d in DIRECTIONS
        ]

    def row(self, cme: Any, layer: str, evaluation: int, spatial_index: int) -> list[str]:
        """The row of one evaluated mapping, as strings in `columns` order."""
        keys = key_cells(layer, evaluation, spatial_index, spatial_mapping_text(cme))
        return [*keys, *self.tail_cells(*tail_parts(cme))]

    def tail_cells(self, texts: tuple[str, ...], reason: str | None, raw: RawNumbers, results: dict) -> list[str]:
        """The row from `temporal_ordering` on: `texts` (`mapping_texts`), why the layer keeps ZigZag's cost
        (None if corrected), ZigZag's figures, the engine's results by variant label."""
        cells = [*texts, "0" if reason is not None else "1", reason or ""]
        cells += self._raw_cells(raw)
        for prefix in VARIANTS:
            cells += self._variant_cells(results.get(prefix))
        cells.append(format_value(_valid_fraction(results)))
        if self.data:
            mean = results.get("data")
            cells += _EMPTY * len(DATA_COLUMNS) if mean is None else [
                format_value(float(mean.macs)), format_value(float(mean.compute_cycles)),
                format_value(float(mean.latency_cycles)), format_value(float(mean.energy_pj))]
        return cells

    def _raw_cells(self, raw: RawNumbers) -> list[str]:
        cells = [str(raw.macs), format_value(raw.latency), format_value(raw.energy)]
        for op, levels in zip(OPERANDS, raw.words):
            self._check_depth(op, len(levels))
            for words in levels:
                cells += map(str, words)
            cells += _EMPTY * (len(DIRECTIONS) * (self.levels - len(levels)))
        return cells

    def _variant_cells(self, result: EngineResult | None) -> list[str]:
        if result is None:
            return _EMPTY * (len(_ENGINE_METRICS) + len(OPERANDS) * self.levels * len(DIRECTIONS))
        cells = [str(result.macs), str(result.compute_cycles), str(result.latency_cycles),
                 format_value(float(result.energy_pj))]
        for op in OPERANDS:
            levels = result.levels[op]
            self._check_depth(op, len(levels))
            for counts in levels:
                cells += [str(counts.words[d]) for d in DIRECTIONS]
            cells += _EMPTY * (len(DIRECTIONS) * (self.levels - len(levels)))
        return cells

    def _check_depth(self, operand: str, levels: int) -> None:
        if levels > self.levels:
            raise ValueError(f"operand {operand} has {levels} memory levels; the schema keeps {self.levels}")


def schema_for_accelerator(accelerator: Any) -> MapspaceSchema:
    """The schema for an accelerator: as many word-access levels as its deepest memory operand has."""
    hierarchy = accelerator.memory_hierarchy
    depth = max(len(hierarchy.get_memory_levels(mem_op)) for mem_op in hierarchy.get_operands())
    return MapspaceSchema(levels=depth)


def schema_for_spec(spec: Any) -> MapspaceSchema:
    """The same schema from a checked accelerator file (`zz_event.readers.hardware.AcceleratorSpec`), before ZigZag
    parses it: ZigZag gives a memory operand one level per memory that stores it."""
    depth: dict[str, int] = {}
    for memory in spec.memories.values():
        for operand in memory["operands"]:
            depth[operand] = depth.get(operand, 0) + 1
    return MapspaceSchema(levels=max(depth.values()))


class RawNumbers(NamedTuple):
    """ZigZag's own figures of one CME, as a row prints them: plain numbers."""

    macs: int
    latency: float
    energy: float
    words: tuple[tuple[tuple[int, ...], ...], ...]  # per operand (W, I, O), per level, DIRECTIONS order


def raw_numbers(state: tuple) -> RawNumbers:
    """`RawNumbers` from a CME's `raw_state`."""
    word_access, macs, latency, energy = state[:4]
    by_name = {str(op): levels for op, levels in word_access.items()}
    # List comprehensions, not generator expressions: Python 3.12 inlines them (this runs per mapping).
    words = tuple([tuple([_row_words(access.data) for access in by_name.get(op, ())]) for op in OPERANDS])
    return RawNumbers(int(macs), float(latency), float(energy), words)


def _row_words(data: dict) -> tuple[int, ...]:
    """One level's word accesses in DIRECTIONS order. ZigZag fills the dict in that order: then its values
    are read as they are (looking each direction up hashes an enum, in Python, 4 times per level)."""
    if tuple(data) == _ROW_DIRECTIONS:
        return tuple(map(int, data.values()))
    return tuple([int(data[d]) for d in _ROW_DIRECTIONS])


def key_cells(layer: str, evaluation: int, spatial_index: int, spatial_text: str) -> list[str]:
    """The row's cells up to `spatial_mapping` (`spatial_text`: `spatial_mapping_text` of the CME)."""
    return [layer, str(evaluation), str(spatial_index), spatial_text]


def tail_parts(cme: Any) -> tuple:
    """`MapspaceSchema.tail_cells`'s arguments for a CME (corrected or not)."""
    if isinstance(cme, CorrectedCME):
        engine = cme.engine
        results = {**cme.engine_variants, engine.options.label: engine}
        dense = getattr(cme, "zz_event_dense_data", None)  # with data: the row shows both (settings.dense_beside_data)
        if dense is not None:
            results[engine.options.label], results["data"] = dense, engine
        return mapping_texts(cme), None, raw_numbers(cme.zz_event_raw_state), results
    reason = str(getattr(cme, "zz_event_uncorrected", "not corrected"))
    return mapping_texts(cme), reason, raw_numbers(raw_state(cme)), {}


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


def mapping_texts(cme: Any) -> tuple[str, ...]:
    """The temporal ordering's text, then each operand's allocation text (W, I, O): one walk of the
    temporal mapping, each distinct loop's text made once (a row prints every loop four times)."""
    by_name = {str(op): levels for op, levels in cme.temporal_mapping.mapping_dic_origin.items()}
    texts: dict[tuple, str] = {}  # (id(dim), size) -> text: the dims stay alive for the call

    def text(dim: Any, size: float) -> str:
        key = (id(dim), size)
        found = texts.get(key)
        if found is None:
            found = texts[key] = loop_text(dim, size)
        return found

    order_levels = by_name.get("O") or next(iter(by_name.values()))
    out = [" ".join(text(d, s) for level in order_levels for d, s in level)]
    memories = operand_levels(cme).names if by_name else {}
    for operand in OPERANDS:
        levels = by_name.get(operand)
        if not levels:
            out.append("")
            continue
        out.append(_allocation_text(memories[operand], ([text(d, s) for d, s in level] for level in levels)))
    return tuple(out)


def _allocation_text(names: list[str], level_texts: Iterable[list[str]]) -> str:
    """`rf[FY3] sram[FX3 IX5]`: each level's memory name (`L<j>` past the names known) and its loops."""
    return " ".join(
        f"{names[j] if j < len(names) else f'L{j}'}[{' '.join(texts)}]" for j, texts in enumerate(level_texts)
    )


def spatial_mapping_text(cme: Any) -> str:
    """The spatial unrolling per array dimension: `D1:K8 D2:C6` (ZigZag's order)."""
    parts = []
    for oa_dim, single in cme.layer.spatial_mapping.items():
        loops = ",".join(loop_text(d, s) for d, s in single.items())
        parts.append(f"{oa_dim}:{loops}")
    return " ".join(parts)
