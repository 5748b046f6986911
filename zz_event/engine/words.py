"""Element transfers to word accesses and energy, with ZigZag's own rules.

ZigZag turns a transfer of n elements of p bits through a port of bandwidth [min, max] bits into
ceil(n*p / min) * min/max word accesses (`CostModelEvaluation._calc_memory_access`). Applied here per
transfer event (per instance and tile change), partial sums at the `O` precision and final outputs at
`O_final`. Energy: reads at the level's read cost, writes at its write cost, plus the MAC energy of the
MACs that execute.
"""

from __future__ import annotations

import numpy as np

from zz_event.engine.transfers import Events
from zz_event.model.nest import MemLevel

__all__ = ["bits_words", "event_words", "segment_sums"]


def event_words(events: Events, level: MemLevel, direction: str, p_partial: int, p_final: int) -> int:
    if events.count.size == 0:
        return 0
    return bits_words(events.bits(p_partial, p_final), events.weight, level, direction)


def bits_words(bits: np.ndarray, weight: np.ndarray, level: MemLevel, direction: str) -> int:
    """Word accesses of transfer events of `bits` each (each entry standing for `weight` events): every
    event rounded up to whole port units on its own."""
    port = level.ports.get(direction)
    if port is None:
        raise ValueError(f"memory {level.name} has no port for {direction} but data must move that way")
    units = int(np.dot((bits + (port.bw_min - 1)) // port.bw_min, weight))  # bits >= 0: rounded up
    return units * port.bw_min // port.bw_max


def segment_sums(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Sums of values[bounds[s]:bounds[s + 1]] for every s, exact in int64."""
    total = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(values, dtype=np.int64)])
    return total[bounds[1:]] - total[bounds[:-1]]
