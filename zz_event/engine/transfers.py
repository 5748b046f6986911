"""Element transfers per operand, memory level and direction, under the two switches.

Directions follow ZigZag: at each level, `rd_out_to_low` (read, sent down), `wr_in_by_low` (written by
the level below), `rd_out_to_high` (read, sent up), `wr_in_by_high` (written from above). Traffic
between the top level and the world outside is not counted, as in ZigZag.

Inputs (W, I) only move down. Between level j and the level above, the child's instances receive the
entries of their own tile sequence (`wr_in_by_high`), and each parent instance reads the entries of
its children's combined tile (`rd_out_to_low`). Below level 0, the MAC array's register bank takes
the entries of the step tiles.

Outputs (O) have no accumulator in the MAC: at every executed step, level 0 is written with the step's
outputs (`wr_in_by_low`) and read for them (`rd_out_to_low`) when they carry a partial sum. Between
level j and the level above, elements go down on entry and up on eviction (and at the end).
- Without readiness a level's reads down follow ZigZag's static flag (`MemLevel.psum`): all entries are
  read down from a flagged level, none from an unflagged one; transfers up are partial sums into a
  flagged level and final outputs into an unflagged one.
- With readiness an element is read down only if it already holds a partial sum (it was touched
  before), and an eviction carries a final output exactly when it ends the element's last residency.
Each transfer event keeps its own element count, because words are rounded per event (`words`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zz_event.engine.tiles import TileSequence, tile_sequence
from zz_event.engine.touches import OutputTouches
from zz_event.nest import DIRECTIONS, LoopNest

__all__ = ["Events", "OperandTraffic", "operand_traffic"]


@dataclass(frozen=True)
class Events:
    """Transfer events of one direction at one level: element counts per event (partial, final)."""

    partial: np.ndarray
    final: np.ndarray
    replicas: int = 1

    @property
    def elements(self) -> int:
        return int((self.partial.sum() + self.final.sum()) * self.replicas)

    @staticmethod
    def none() -> "Events":
        return Events(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    @staticmethod
    def of(counts: np.ndarray, replicas: int, final: bool = False) -> "Events":
        counts = counts[counts > 0].astype(np.int64)
        zero = np.zeros_like(counts)
        return Events(zero, counts, replicas) if final else Events(counts, zero, replicas)


OperandTraffic = list[dict[str, Events]]  # per level, per direction


def _level_serving(nest: LoopNest, op: str, j: int) -> frozenset[str]:
    return nest.levels[op][j].served


def operand_traffic(nest: LoopNest, op: str, filtered: bool, readiness: bool) -> OperandTraffic:
    levels = nest.levels[op]
    traffic: OperandTraffic = [{d: Events.none() for d in DIRECTIONS} for _ in levels]
    touches = OutputTouches(nest, filtered) if op == "O" and readiness else None
    for j in range(-1, len(levels) - 1):
        n_inner = levels[j].top if j >= 0 else 0
        parent = levels[j + 1]
        group = tile_sequence(nest, op, n_inner, parent.served, filtered)
        child = tile_sequence(nest, op, n_inner, levels[j].served, filtered) if j >= 0 else None
        if op != "O":
            traffic[j + 1]["rd_out_to_low"] = Events.of(group.entries[group.executed], group.replicas)
            if child is not None:
                traffic[j]["wr_in_by_high"] = Events.of(child.entries[child.executed], child.replicas)
        elif j < 0:
            _mac_boundary_outputs(nest, group, parent.psum, touches, traffic[0])
        else:
            down, up = _output_boundary(nest, group, parent.psum, touches)
            traffic[j + 1]["rd_out_to_low"], traffic[j + 1]["wr_in_by_low"] = down, up
            down, up = _output_boundary(nest, child, parent.psum, touches)
            traffic[j]["wr_in_by_high"], traffic[j]["rd_out_to_high"] = down, up
    return traffic


def _mac_boundary_outputs(nest, seq: TileSequence, psum: bool, touches, level0: dict[str, Events]) -> None:
    ex = seq.executed
    size = seq.size[ex]
    if touches is None:
        level0["wr_in_by_low"] = Events.of(size, seq.replicas, final=not psum)
        level0["rd_out_to_low"] = Events.of(size, seq.replicas) if psum else Events.none()
        return
    first, last = touches.counts(seq)
    finals = last[ex]
    level0["wr_in_by_low"] = Events(size - finals, finals, seq.replicas)
    level0["rd_out_to_low"] = Events.of(size - first[ex], seq.replicas)


def _output_boundary(nest, seq: TileSequence, psum: bool, touches) -> tuple[Events, Events]:
    """(reads down into the tiles, write-backs up out of them) for one tile sequence of outputs."""
    ex = seq.executed
    entries = seq.entries[ex]
    evict = np.concatenate([seq.evictions()[ex], seq.final_flush()])
    if touches is None:
        down = Events.of(entries, seq.replicas) if psum else Events.none()
        return down, Events.of(evict, seq.replicas, final=not psum)
    first, last = touches.counts(seq)
    down = Events.of(entries - first[ex], seq.replicas)
    # The finals evicted at the change into tile c are those last touched in its predecessor.
    pred = seq.pred
    last_of_pred = np.where(pred >= 0, np.take_along_axis(last, np.maximum(pred, 0), axis=1), 0)[ex]
    rows = np.arange(last.shape[0])
    flush_final = np.where(seq.last >= 0, last[rows, np.maximum(seq.last, 0)], 0)
    finals = np.concatenate([last_of_pred, flush_final])
    return down, Events(evict - finals, finals, seq.replicas)
