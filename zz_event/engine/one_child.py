"""The parent side of a boundary whose child level is one instance under several parents.

A memory that serves every PE below parents that each serve only some (ascend_like's DRAM serves two of
its four array dimensions) is one child shared by all of them: each parent instance's union of its
children's transfers is that one child's own, at every transition. So the union events are the child's
tile-sequence events (entries, those touched before, evictions and which leave final, the first tile's
reads), once per parent instance: per axis, without walking the child's tiles element by element.
"""

from __future__ import annotations

from math import prod

import numpy as np

from zz_event.engine.chunked import tally
from zz_event.engine.events import SequenceEvents
from zz_event.engine.siblings import UnionEvents
from zz_event.engine.touches import OutputTouches
from zz_event.model.nest import LoopNest

__all__ = ["one_child", "one_child_events"]


def one_child(nest: LoopNest, child_served: frozenset[str]) -> bool:
    """Whether the child level is one instance: it serves every array dimension a loop unrolls."""
    return all(sl.size == 1 or sl.array_dim in child_served for sl in nest.spatial)


def one_child_events(nest: LoopNest, op: str, n_inner: int, child_served: frozenset[str],
                     parent_served: frozenset[str], filtered: bool) -> UnionEvents:
    """The union events of `one_child`'s boundary, from the child's tile sequence (outputs: both readiness
    settings)."""
    from zz_event.engine.transfers import sequence_events  # noqa: PLC0415  (transfers reads unions)

    output = op == "O"
    ev: SequenceEvents = sequence_events(nest, op, n_inner, child_served, filtered,
                                         OutputTouches(nest, filtered) if output else None)
    parents = prod(sl.size for sl in nest.spatial if sl.array_dim not in parent_served)
    down, down_times = _tally([ev.entry], ev.entry_weight * parents)
    onload, onload_times = _tally([ev.onload], ev.onload_weight * parents)
    if not output:
        empty = np.zeros(0, dtype=np.int64)
        return UnionEvents(down[0], down[0], empty, empty, onload[0], 1, down_times, down_times, None, onload_times)
    touched, touched_times = _tally([ev.entry - ev.entry_first], ev.entry_weight * parents)
    (up, up_final), up_times = _tally([ev.exit, ev.exit_final], ev.exit_weight * parents)
    return UnionEvents(down[0], touched[0], up, up_final, onload[0], 1, down_times, touched_times, up_times,
                       onload_times)


def _tally(columns: list[np.ndarray], weights: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct nonzero events (by their first column) and their summed weights, as the walk tallies them."""
    keep = (columns[0] > 0) & (weights > 0)
    columns = [c[keep] for c in columns]
    return tally(columns, weights[keep])
