"""SequenceEvents from an explicit (compressed) tile sequence: the reference backend of the engine."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from zz_event.engine.chunked import tally
from zz_event.engine.events import SequenceEvents
from zz_event.engine.tiles import TileSequence, sequence_shape, tile_sequence
from zz_event.engine.touches import OutputTouches
from zz_event.model.nest import LoopNest

__all__ = ["enumerated_events"]


# Instance rows are walked a few at a time, so that about this many (instance, tile) cells are held at once.
_CELLS = 1 << 19


def enumerated_events(
    nest: LoopNest, op: str, n_inner: int, served: frozenset[str], filtered: bool, touches: OutputTouches | None
) -> SequenceEvents:
    """The events of every instance row; rows are independent, so their event lists are concatenated."""
    n_inst, n_tiles = sequence_shape(nest, op, n_inner, served, touches is not None)
    step = max(1, _CELLS // max(n_tiles, 1))
    if step >= n_inst:
        return _events(tile_sequence(nest, op, n_inner, served, filtered, touches is not None), touches)
    # Each part's event lists are tallied (equal events merged, weights summed): they are multisets, and
    # this way they take memory by distinct event, not by (instance, tile).
    parts = [_tallied(_events(tile_sequence(nest, op, n_inner, served, filtered, touches is not None,
                                            (start, min(start + step, n_inst))), touches))
             for start in range(0, n_inst, step)]
    merged = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(SequenceEvents)
              if f.name != "steps"}
    return _tallied(SequenceEvents(**merged, steps=sum(p.steps for p in parts)))


# The event lists of SequenceEvents: parallel columns, then their weight.
_GROUPS = (("entry", "entry_first", "entry_weight"), ("exit", "exit_final", "exit_weight"),
           ("tile", "tile_first", "tile_last", "tile_weight"), ("onload", "onload_weight"),
           ("offload", "offload_weight"))


def _tallied(ev: SequenceEvents) -> SequenceEvents:
    """The same multisets of events, equal events merged into one entry with their weights summed."""
    out = {}
    for *names, weight_name in _GROUPS:
        columns, weight = [getattr(ev, n) for n in names], getattr(ev, weight_name)
        if weight.size:
            columns, weight = tally(columns, weight)
        out |= dict(zip(names, columns)) | {weight_name: weight}
    return SequenceEvents(**out, steps=ev.steps)


def _events(seq: TileSequence, touches: OutputTouches | None) -> SequenceEvents:
    ex = seq.executed
    if touches is not None:
        first, last = touches.counts(seq)
    else:
        first = last = np.zeros_like(seq.size)
    weight = seq.weights[ex]
    pred = seq.pred
    last_of_pred = np.where(pred >= 0, np.take_along_axis(last, np.maximum(pred, 0), axis=1), 0)
    rows = np.arange(seq.size.shape[0])
    return SequenceEvents(
        entry=seq.entries[ex],
        entry_first=first[ex],
        entry_weight=weight,
        exit=np.concatenate([seq.evictions()[ex], seq.block_flush()[ex]]),
        exit_final=np.concatenate([last_of_pred[ex], np.where(seq.block_last, last, 0)[ex]]),
        exit_weight=np.concatenate([weight, weight]),
        tile=seq.size[ex],
        tile_first=first[ex],
        tile_last=last[ex],
        tile_weight=weight * seq.repeats,
        steps=seq.executed_steps(),
        onload=_at_rows(seq, rows, seq.first_executed()),
        onload_weight=np.full(len(rows), seq.spatial_replicas, dtype=np.int64),
        offload=_at_rows(seq, rows, seq.last_executed()),
        offload_weight=np.full(len(rows), seq.spatial_replicas, dtype=np.int64),
    )


def _at_rows(seq: TileSequence, rows: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    return np.where(tiles >= 0, seq.size[rows, np.maximum(tiles, 0)], 0)
