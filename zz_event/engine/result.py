"""Frozen results of the engine: exact integer counts, words, energy and latency of one mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from zz_event.model.vocabulary import VARIANT_OF_SWITCHES

__all__ = ["EngineOptions", "EngineResult", "LatencyParts", "LazyLatency", "LevelCounts"]


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
class LatencyParts:
    """ZigZag's latency terms beside the compute cycles (`engine/latency.py`)."""

    onload: int
    stall: int
    offload: int
    drain: int  # systolic drain after the last step (ZigZag's `systolic_drain_cycle`)


class LazyLatency:
    """`LatencyParts` computed on first read. A search ranking on energy reads a mapping's latency only on
    an energy tie (ZigZag's `MinimalEnergyStage`), and the latency is about a third of the engine's work per
    mapping. Equal to the parts it computes; pickled as them."""

    __slots__ = ("_compute", "_parts")

    def __init__(self, compute: Callable[[], LatencyParts]) -> None:
        self._compute: Callable[[], LatencyParts] | None = compute
        self._parts: LatencyParts | None = None

    @property
    def parts(self) -> LatencyParts:
        if self._parts is None:
            self._parts, self._compute = self._compute(), None  # what it computes from is released
        return self._parts

    def __eq__(self, other: object) -> bool:
        return self.parts == (other.parts if isinstance(other, LazyLatency) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.parts)

    def __reduce__(self):
        return LatencyParts, (self.parts.onload, self.parts.stall, self.parts.offload, self.parts.drain)


@dataclass(frozen=True)
class EngineResult:
    options: EngineOptions
    macs: int
    compute_cycles: int
    levels: dict[str, tuple[LevelCounts, ...]]  # W, I, O -> innermost first
    mac_energy_pj: float
    latency: LatencyParts | LazyLatency  # read through `onload_cycles` ... `drain_cycles`
    latency_bound_cycles: int = 0  # the loop-order-blind throughput bound (`latency.latency_bound`)
    port_busy_cycles: dict[str, int] = field(default_factory=dict)
    # Events from data: real output elements that receive no contribution (no non-zero input reaches them).
    # The core never writes them; their memory keeps what it was initialised with (the bias). None without
    # a data mask, or where the dense count indexes outputs by ZigZag's relation (input-centric, no filter).
    outputs_without_contribution: int | None = None

    @property
    def latency_parts(self) -> LatencyParts:
        latency = self.latency
        return latency if isinstance(latency, LatencyParts) else latency.parts

    @property
    def onload_cycles(self) -> int:
        return self.latency_parts.onload

    @property
    def stall_cycles(self) -> int:
        return self.latency_parts.stall

    @property
    def offload_cycles(self) -> int:
        return self.latency_parts.offload

    @property
    def drain_cycles(self) -> int:
        return self.latency_parts.drain

    @property
    def memory_energy_pj(self) -> float:
        return sum(lc.energy_pj for levels in self.levels.values() for lc in levels)

    @property
    def energy_pj(self) -> float:
        return self.mac_energy_pj + self.memory_energy_pj

    @property
    def latency_cycles(self) -> int:
        """ZigZag's `latency_total2` with the exact transfers (`engine/latency.py`)."""
        parts = self.latency_parts
        return parts.onload + self.compute_cycles + parts.stall + parts.offload + parts.drain

    def word_accesses(self) -> dict[str, list[dict]]:
        """The `summary.json` shape: per operand, per level (innermost first), memory and four directions."""
        return {
            op: [{"memory": lc.memory, **lc.words} for lc in levels] for op, levels in self.levels.items()
        }
