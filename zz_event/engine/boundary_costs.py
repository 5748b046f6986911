"""One boundary's share of an operand's costs: the elements, words and transfer events of the levels and
directions its tile sequences feed, and its words at the very start and end.

Each level and direction is fed by one boundary only (`transfers.boundary_traffic`), so an operand's costs
are the union of its boundaries'. At LOMA's orderings of one spatial mapping the MAC boundary's sequences
change with every ordering, the upper boundaries' rarely: memoised per boundary, a mapping rounds words
and builds event arrays only where its sequences are new.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from zz_event.engine.latency import Transfers
from zz_event.engine.transfers import boundary_traffic
from zz_event.engine.words import bits_words, event_words
from zz_event.memo import LruMemo
from zz_event.model.nest import LoopNest, MemLevel

__all__ = ["BoundaryCosts", "boundary_costs"]


class BoundaryCosts(NamedTuple):  # a named tuple: built for every new boundary, and quick to build
    cells: tuple[tuple[int, str, int, int], ...]  # (level index, direction, elements, words) it feeds
    transfers: tuple[Transfers, ...]  # the events that move something, per level and direction
    onload_words: int
    offload_words: int
    levels: tuple[MemLevel, ...]  # kept alive while memoised: the memo key names them by id


# Keyed by the two levels' ids, which `NestContext` reuses across the mappings of one layer (a nest with
# fresh levels misses, which is only slower), and the boundary's `transfers.sequence_keys`.
_BOUNDARIES = LruMemo(1024)  # as many as `evaluate._OPERAND_COSTS`, which holds the same arrays


def boundary_costs(nest: LoopNest, op: str, filtered: bool, readiness: bool, precision: tuple[int, int], j: int,
                   side, keys: tuple, touches) -> BoundaryCosts:
    """The costs of operand `op` fed by the boundary above level j (-1: the MAC's); `side` and `keys` are
    its entries of `boundary_plan` and `sequence_keys`, `precision` (partial, final) bits per element."""
    levels = tuple(nest.levels[op][max(j, 0):j + 2])
    key = (op, filtered, readiness, j, tuple(map(id, levels)), precision, keys)
    return _BOUNDARIES.get_or(key, lambda: _boundary_costs(nest, op, filtered, readiness, precision, j, side, keys,
                                                             touches, levels))


def _boundary_costs(nest, op, filtered, readiness, precision, j, side, keys, touches, levels) -> BoundaryCosts:
    traffic, loads = boundary_traffic(nest, op, filtered, readiness, j, side, keys, touches)
    op_levels = nest.levels[op]
    p_partial, p_final = precision
    cells, transfers = [], []
    for (level, d), events in traffic.items():
        weight = events.weight
        if not weight.size:
            cells.append((level, d, 0, 0))
            continue
        bits = events.bits(p_partial, p_final)  # computed once for words and windows
        cells.append((level, d, int(np.dot(events.count, weight)), bits_words(bits, weight, op_levels[level], d)))
        transfers.append(Transfers(level, d, bits, weight))
    onload = sum(event_words(ev, op_levels[i], "rd_out_to_low", *precision) for i, ev in loads.onload)
    offload = sum(event_words(ev, op_levels[i], "rd_out_to_high", *precision) for i, ev in loads.offload)
    return BoundaryCosts(tuple(cells), tuple(transfers), onload, offload, levels)
