"""The figures the comparison report shows for one layer under one costing, and the simulator's check of them.

:class:`Costs` is read the same way from ZigZag's CMEs and zz-event's ``CorrectedCME``s (whose word accesses and
memory energy are the engine's, substituted into ZigZag's own fields): MACs, latency, energy split into MAC and the
three operands (every memory level), and word accesses per operand (every level and direction).

:func:`simulator_check` replays the costed mapping in the reference simulator (``validation/simulator.py``,
``simulate(nest, filter, readiness)``), which shares no counting code with the engine, under the rules the row
claims: event-driven (boundary filter and output readiness) for zz-event's rows, the exact dense count (every
iteration, ZigZag's static partial-sum rule) for ZigZag's rows. An engine row must match exactly; a ZigZag row is
expected to match for W and I and may differ for O, where ZigZag averages partially-relevant loops (design.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zz_event.model.vocabulary import OPERANDS
from zz_event.zigzag.adapter import nest_from_cme
from zz_event.zigzag.result import layer_result

__all__ = ["Costs", "Row", "SimCheck", "costs_of", "costs_of_engine", "load_simulator", "simulator_check"]



@dataclass(frozen=True)
class Costs:
    """One layer under one costing (or a sum of layers: ``temporal_ordering`` then empty)."""

    macs: int
    latency_cycles: float
    energy_pj: float
    mac_energy_pj: float
    operand_energy_pj: Mapping[str, float]
    word_accesses: Mapping[str, int]
    temporal_ordering: tuple[tuple[str, int], ...] = ()
    spatial_mapping: str = ""
    note: str = ""

    def __add__(self, other: Costs) -> Costs:
        return Costs(
            macs=self.macs + other.macs,
            latency_cycles=self.latency_cycles + other.latency_cycles,
            energy_pj=self.energy_pj + other.energy_pj,
            mac_energy_pj=self.mac_energy_pj + other.mac_energy_pj,
            operand_energy_pj={op: self.operand_energy_pj.get(op, 0.0) + other.operand_energy_pj.get(op, 0.0)
                               for op in OPERANDS},
            word_accesses={op: self.word_accesses.get(op, 0) + other.word_accesses.get(op, 0) for op in OPERANDS},
        )


@dataclass(frozen=True)
class SimCheck:
    """The simulator's replay of one row's mapping: its figures, and how they compare with the row's."""

    rules: str
    against: str
    macs: int
    latency_cycles: int
    energy_pj: float
    word_accesses: Mapping[str, int]
    matches: bool
    differences: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Row:
    """A row of the report: the figures, and the simulator's check of them (or why there is none)."""

    costs: Costs
    check: SimCheck | None = None
    check_note: str = ""


def costs_of(cme: Any, note: str = "") -> Costs:
    """The figures of a ZigZag CME, or of a ``CorrectedCME`` (the engine's figures of the ranked switches)."""
    layer = layer_result(cme)
    figures = layer.event_driven
    return Costs(
        macs=int(figures.macs),
        latency_cycles=float(figures.latency_cycles),
        energy_pj=float(figures.energy_pj),
        mac_energy_pj=float(figures.mac_energy_pj),
        operand_energy_pj=dict(figures.operand_energy_pj),
        word_accesses={op: figures.words(op) for op in figures.word_accesses},
        temporal_ordering=layer.temporal_ordering,
        spatial_mapping=_spatial(layer.spatial_mapping),
        note=note,
    )


def costs_of_engine(result: Any, like: Costs, note: str) -> Costs:
    """The figures of an ``EngineResult`` for the mapping ``like`` describes."""
    return Costs(
        macs=int(result.macs),
        latency_cycles=float(result.latency_cycles),
        energy_pj=float(result.energy_pj),
        mac_energy_pj=float(result.mac_energy_pj),
        operand_energy_pj={op: float(sum(lc.energy_pj for lc in result.levels[op])) for op in OPERANDS},
        word_accesses={op: int(sum(sum(lc.words.values()) for lc in result.levels[op])) for op in OPERANDS},
        temporal_ordering=like.temporal_ordering,
        spatial_mapping=like.spatial_mapping,
        note=note,
    )


def load_simulator() -> Any:
    """``validation.simulator.simulate``: the reference simulator, installed beside zz-event."""
    from validation.simulator import simulate  # noqa: PLC0415 -- heavy; only the report's check needs it

    return simulate


def simulator_check(simulate: Any, cme: Any, geometry: Any, centric: str, row: Costs, event: bool) -> SimCheck:
    """Replay ``cme``'s mapping of the layer (true ``geometry``, ``centric`` loops) under the event-driven rules
    (``event``: a zz-event row) or the exact dense ones (a ZigZag row), and compare it with ``row``."""
    nest = nest_from_cme(cme, geometry, centric)
    sim = simulate(nest, filter=event, readiness=event)
    words = {op: int(sum(sum(lv.words.values()) for lv in sim.levels[op])) for op in OPERANDS}
    pairs = [("MACs", sim.macs, row.macs), ("latency", sim.latency_cycles, row.latency_cycles),
             ("energy pJ", sim.energy_pj, row.energy_pj)]  # fmt: skip
    pairs += [(f"{op} words", words[op], row.word_accesses.get(op, 0)) for op in OPERANDS]
    differences = tuple(_difference(label, s, r) for label, s, r in pairs if not _close(s, r))
    return SimCheck(
        rules="event-driven (filter + readiness)" if event else "exact dense (every iteration, static psum rule)",
        against="engine" if event else "ZigZag",
        macs=int(sim.macs),
        latency_cycles=int(sim.latency_cycles),
        energy_pj=float(sim.energy_pj),
        word_accesses=words,
        matches=not differences,
        differences=differences,
    )


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def _difference(label: str, sim: float, row: float) -> str:
    rel = f" ({(row - sim) / sim:+.1%})" if sim else ""
    return f"{label}: simulator {sim:,.6g}, row {row:,.6g}{rel}"


def _spatial(spatial_mapping: dict[str, dict[str, float]]) -> str:
    parts = [f"{oa}: " + " x ".join(f"{d} {round(s, 2):g}" for d, s in single.items())
             for oa, single in spatial_mapping.items()]  # fmt: skip
    return "; ".join(parts)
