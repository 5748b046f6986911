"""An EngineResult as flat numbers: what a correction worker sends back, what the mapspace logger reads.

A search evaluates thousands of mappings and keeps a few. Sent whole, each mapping's results (three
variants in a mapspace run) unpickle into a few dozen objects in ZigZag's process: the unpickling, and
the young-generation garbage collections those objects bring on, are paid by the process the search
runs in. A `PackedResult` is one tuple of numbers per variant; `unpack` rebuilds the identical
`EngineResult` where one is read (`CorrectedCME.engine`).
"""

from __future__ import annotations

from typing import NamedTuple

from zz_event.engine.result import EngineOptions, EngineResult, LevelCounts
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS

__all__ = ["PackedResult", "pack", "unpack"]


class PackedResult(NamedTuple):
    """Per operand (W, I, O) and level (innermost first): `memories`, `level_energy`, and per direction
    (DIRECTIONS order) `elements` and `words`, all flattened in that order; `shape`: levels per operand."""

    options: EngineOptions
    macs: int
    compute_cycles: int
    onload_cycles: int
    stall_cycles: int
    offload_cycles: int
    mac_energy_pj: float
    energy_pj: float  # EngineResult.energy_pj, summed there (floats: the order of the sum is kept)
    shape: tuple[int, ...]
    memories: tuple[str, ...]
    level_energy: tuple[float, ...]
    elements: tuple[int, ...]
    words: tuple[int, ...]
    ports: tuple[tuple[str, int], ...]  # EngineResult.port_busy_cycles, in its order
    drain_cycles: int = 0
    latency_bound_cycles: int = 0

    @property
    def latency_cycles(self) -> int:
        return self.onload_cycles + self.compute_cycles + self.stall_cycles + self.offload_cycles + self.drain_cycles

    def level_words(self, operand: str) -> list[tuple[int, ...]]:
        """`operand`'s word accesses per level, innermost first, each in DIRECTIONS order."""
        i = OPERANDS.index(operand)
        start = 4 * sum(self.shape[:i])
        return [self.words[at : at + 4] for at in range(start, start + 4 * self.shape[i], 4)]


def pack(result: EngineResult) -> PackedResult:
    levels = [lc for op in OPERANDS for lc in result.levels[op]]
    return PackedResult(
        options=result.options,
        macs=result.macs,
        compute_cycles=result.compute_cycles,
        onload_cycles=result.onload_cycles,
        stall_cycles=result.stall_cycles,
        offload_cycles=result.offload_cycles,
        mac_energy_pj=result.mac_energy_pj,
        energy_pj=result.energy_pj,
        shape=tuple(len(result.levels[op]) for op in OPERANDS),
        memories=tuple(lc.memory for lc in levels),
        level_energy=tuple(lc.energy_pj for lc in levels),
        elements=tuple(lc.elements[d] for lc in levels for d in DIRECTIONS),
        words=tuple(lc.words[d] for lc in levels for d in DIRECTIONS),
        ports=tuple(result.port_busy_cycles.items()),
        drain_cycles=result.drain_cycles,
        latency_bound_cycles=result.latency_bound_cycles,
    )


def unpack(packed: PackedResult) -> EngineResult:
    levels: dict[str, tuple[LevelCounts, ...]] = {}
    flat = 0
    for op, n in zip(OPERANDS, packed.shape):
        counts = []
        for i in range(flat, flat + n):
            elements = dict(zip(DIRECTIONS, packed.elements[4 * i : 4 * i + 4]))
            words = dict(zip(DIRECTIONS, packed.words[4 * i : 4 * i + 4]))
            counts.append(LevelCounts(packed.memories[i], elements, words, packed.level_energy[i]))
        levels[op] = tuple(counts)
        flat += n
    return EngineResult(
        options=packed.options,
        macs=packed.macs,
        compute_cycles=packed.compute_cycles,
        levels=levels,
        mac_energy_pj=packed.mac_energy_pj,
        onload_cycles=packed.onload_cycles,
        stall_cycles=packed.stall_cycles,
        offload_cycles=packed.offload_cycles,
        drain_cycles=packed.drain_cycles,
        latency_bound_cycles=packed.latency_bound_cycles,
        port_busy_cycles=dict(packed.ports),
    )
