"""SequenceEvents from an explicit (compressed) tile sequence: the reference backend of the engine."""

from __future__ import annotations

from dataclasses import fields
from math import prod

import numpy as np

from zz_event.engine.axes import dim_digits
from zz_event.engine.chunked import tally
from zz_event.engine.events import SequenceEvents
from zz_event.engine.siblings import ChildAxes, coupled_translates
from zz_event.engine.tiles import UNCOUPLED, TileSequence, _exact_dim, sequence_shape, tile_sequence
from zz_event.engine.touches import OutputTouches
from zz_event.model.nest import LoopNest

__all__ = ["enumerated_events", "summed", "tallied"]


# Instance rows are walked a few at a time, so that about this many (instance, tile) cells are held at once.
_CELLS = 1 << 19


def enumerated_events(
    nest: LoopNest, op: str, n_inner: int, served: frozenset[str], filtered: bool, touches: OutputTouches | None
) -> SequenceEvents:
    """The events of every instance row; rows are independent, so their event lists are concatenated, and
    rows of identical instances (`_row_classes`) are walked once, their events weighted by the copies."""
    n_inst, n_tiles = sequence_shape(nest, op, n_inner, served, touches is not None)
    ranges = _row_classes(nest, op, n_inner, served, filtered, n_inst)
    step = max(1, _CELLS // max(n_tiles, 1))
    if ranges == [(0, n_inst, 1)] and step >= n_inst:
        return _events(tile_sequence(nest, op, n_inner, served, filtered, touches is not None), touches)
    # Each part's event lists are tallied (equal events merged, weights summed): they are multisets, and
    # this way they take memory by distinct event, not by (instance, tile).
    parts = [tallied(_events(tile_sequence(nest, op, n_inner, served, filtered, touches is not None,
                                           (start, min(start + step, stop))), touches), copies)
             for first, stop, copies in ranges for start in range(first, stop, step)]
    return summed(parts)


def summed(parts: list[SequenceEvents]) -> SequenceEvents:
    """The events of independent instance rows together: their multisets added."""
    merged = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(SequenceEvents)
              if f.name != "steps"}
    return tallied(SequenceEvents(**merged, steps=sum(p.steps for p in parts)))


def _row_classes(nest: LoopNest, op: str, n_inner: int, served: frozenset[str], filtered: bool,
                 n_inst: int) -> list[tuple[int, int, int]]:
    """(first row, stop, copies) of one value of the overshooting digits per class of identical instances.

    Instances that differ only in spatial digits of an overshooting uncoupled dimension and see the same
    number of its valid indices at every value of its tile digits hold tile sequences that are the same up
    to a relabelling (disjoint copies, or the same data, per instance): one stands for its class. Their
    rows are contiguous (`tile_sequence` numbers the coupled digits first). If the instances over every
    coupled digit hold translates of one another's elements (`_coupled_rows`), one row stands for them too."""
    per_dim = []  # per overshooting dimension with unserved spatial digits: (rep value, class size) pairs
    for dim in UNCOUPLED:
        digits = dim_digits(nest, dim)
        spatial = [d for d in digits if d.temporal is None and d.array_dim not in served]
        if _exact_dim(nest, dim) or not spatial:
            continue
        index = np.arange(nest.dim_size(dim), dtype=np.int64)
        value, radix = np.zeros_like(index), 1
        for d in spatial:
            value, radix = value + index // d.weight % d.size * radix, radix * d.size
        n_value = radix
        tile, radix = np.zeros_like(index), 1
        for d in digits:
            if d.temporal is not None and d.temporal >= n_inner:
                tile, radix = tile + index // d.weight % d.size * radix, radix * d.size
        rho = np.bincount(value * radix + tile, minlength=n_value * radix).reshape(n_value, radix)
        _, first, size = np.unique(rho, axis=0, return_index=True, return_counts=True)
        per_dim.append((n_value, list(zip(first.tolist(), size.tolist()))))
    n_coupled = n_inst // prod(n for n, _ in per_dim)
    rows = n_coupled if n_coupled == 1 or _coupled_rows(nest, op, n_inner, served, filtered) != n_coupled else 1
    if not per_dim:
        return [(0, n_inst, 1)] if rows == n_coupled else [(0, 1, n_coupled)]
    ranges = [(0, 1)]  # (value of the overshooting digits so far, copies)
    radix = 1
    for n_value, reps in per_dim:
        ranges = [(v + rep * radix, c * size) for v, c in ranges for rep, size in reps]
        radix *= n_value
    return [(v * n_coupled, v * n_coupled + rows, copies * n_coupled // rows) for v, copies in sorted(ranges)]


def _coupled_rows(nest: LoopNest, op: str, n_inner: int, served: frozenset[str], filtered: bool) -> int:
    """How many instances one row stands for over the coupled spatial digits: all of them if, per coupled
    axis, the instances differing in its digits execute the same tiles and hold translates of one
    another's elements (`siblings.coupled_translates`: then their tile sequences are the same up to a
    relabelling), else 1."""
    axes = ChildAxes(nest, op, n_inner, served, filtered)
    child = np.arange(axes.n_child, dtype=np.int64)
    stride, radix = {}, 1
    for sl in axes.unserved:
        stride[sl], radix = radix, radix * sl.size
    rows = 1
    for i, (axis, pos_dim) in enumerate(zip(("Y", "X"), nest.position_dims)):
        loops = [sl for sl in axes.unserved if sl.dim in (pos_dim, "F" + axis)]
        if not loops:
            continue
        combo, radix_c = np.zeros_like(child), 1
        for sl in loops:
            combo += child // stride[sl] % sl.size * radix_c
            radix_c *= sl.size
        kind, n = coupled_translates(axes, len(axes._tables) - 2 + i, len(UNCOUPLED) + i, child, combo)
        if not kind:
            return 1
        rows *= n
    return rows


# The event lists of SequenceEvents: parallel columns, then their weight.
_GROUPS = (("entry", "entry_first", "entry_weight"), ("exit", "exit_final", "exit_weight"),
           ("tile", "tile_first", "tile_last", "tile_weight"), ("onload", "onload_weight"),
           ("offload", "offload_weight"))


def tallied(ev: SequenceEvents, copies: int = 1) -> SequenceEvents:
    """The same multisets of events (each `copies` times), equal events merged into one entry with their
    weights summed."""
    out = {}
    for *names, weight_name in _GROUPS:
        columns, weight = [getattr(ev, n) for n in names], getattr(ev, weight_name) * copies
        if weight.size:
            columns, weight = tally(columns, weight)
        out |= dict(zip(names, columns)) | {weight_name: weight}
    return SequenceEvents(**out, steps=ev.steps * copies)


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
