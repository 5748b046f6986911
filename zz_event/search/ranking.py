"""The k best mappings of a search by ZigZag's criteria (`--opt`), kept as they come."""

from __future__ import annotations

import heapq
from typing import Any

__all__ = ["TopK", "score"]


def score(opt: str, energy_pj: float, latency_cycles: float) -> float:
    """What ZigZag's reduce stage of `opt` minimises: energy, latency, or their product (EDP)."""
    if opt == "energy":
        return energy_pj
    if opt == "latency":
        return latency_cycles
    return energy_pj * latency_cycles


class TopK:
    """The `k` items of least score; among equal scores the one seen first ranks first. (ZigZag 3.9.1's reducers
    differ on ties: `MinimalEnergyStage` keeps the lower latency of equal energies, `MinimalLatencyStage` the lower
    energy of equal latencies, `MinimalEDPStage` the first. So where scores tie, the search's first may not be the
    mapping ZigZag would keep.)"""

    def __init__(self, k: int) -> None:
        self.k = k
        self._heap: list[tuple[float, int, Any]] = []  # (-score, -arrival, item): the worst kept on top
        self._seen = 0

    def offer(self, value: float, item: Any, arrival: int | None = None) -> None:
        """`arrival`: the item's place in the order the ranking follows, where items are offered out of that
        order (default: the order of the offers)."""
        entry = (-value, -(self._seen if arrival is None else arrival), item)
        self._seen += 1
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, entry)
        elif entry[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, entry)

    def worst(self) -> float | None:
        """The score an item must beat to be kept (`offer` keeps only less, or equal and earlier), or None while
        fewer than k are kept."""
        return -self._heap[0][0] if len(self._heap) == self.k else None

    def worst_entry(self) -> tuple[float, int] | None:
        """The score and arrival of the worst kept (an offer must score less, or as much and arrive earlier), or
        None while fewer than k are kept."""
        if len(self._heap) < self.k:
            return None
        value, arrival, _ = self._heap[0]
        return -value, -arrival

    def best(self) -> list[tuple[float, Any]]:
        """(score, item), best first."""
        return [(-v, item) for v, _, item in sorted(self._heap, key=lambda e: (-e[0], -e[1]))]
