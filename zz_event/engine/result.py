"""Frozen results of the engine: exact integer counts, words, energy and latency of one mapping."""

from __future__ import annotations

from dataclasses import dataclass, field

from zz_event.model.vocabulary import VARIANT_OF_SWITCHES

__all__ = ["EngineOptions", "EngineResult", "LevelCounts"]


@dataclass(frozen=True)
class EngineOptions:
    """The two independent switches. Off/off is the exact dense count; on/on is event-driven."""

    filter: bool = True  # boundary filter: only valid MACs execute
    readiness: bool = True  # output-readiness tracking

    @property
    def label(self) -> str:
        return VARIANT_OF_SWITCHES[self.filter, self.readiness]


@dataclass(frozen=True)
class LevelCounts:
    """One operand at one memory level: element transfers and word accesses per ZigZag direction."""

    memory: str
    elements: dict[str, int]
    words: dict[str, int]
    energy_pj: float


@dataclass(frozen=True)
class EngineResult:
    options: EngineOptions
    macs: int
    compute_cycles: int
    levels: dict[str, tuple[LevelCounts, ...]]  # W, I, O -> innermost first
    mac_energy_pj: float
    onload_cycles: int
    stall_cycles: int
    offload_cycles: int
    drain_cycles: int = 0  # systolic drain after the last step (ZigZag's `systolic_drain_cycle`)
    latency_bound_cycles: int = 0  # the loop-order-blind throughput bound (`latency.latency_bound`)
    port_busy_cycles: dict[str, int] = field(default_factory=dict)
    # Events from data: real output elements that receive no contribution (no non-zero input reaches them).
    # The core never writes them; their memory keeps what it was initialised with (the bias). None without
    # a data mask, or where the dense count indexes outputs by ZigZag's relation (input-centric, no filter).
    outputs_without_contribution: int | None = None

    @property
    def memory_energy_pj(self) -> float:
        return sum(lc.energy_pj for levels in self.levels.values() for lc in levels)

    @property
    def energy_pj(self) -> float:
        return self.mac_energy_pj + self.memory_energy_pj

    @property
    def latency_cycles(self) -> int:
        """ZigZag's `latency_total2` with the exact transfers (`engine/latency.py`)."""
        return self.onload_cycles + self.compute_cycles + self.stall_cycles + self.offload_cycles + self.drain_cycles

    def word_accesses(self) -> dict[str, list[dict]]:
        """The `summary.json` shape: per operand, per level (innermost first), memory and four directions."""
        return {
            op: [{"memory": lc.memory, **lc.words} for lc in levels] for op, levels in self.levels.items()
        }
