"""Transfers from explicit tile sets: the engine's path for data masks (`executed.py`).

The residency rules of `tiles.py` applied literally to each grouping's distinct (instance, tile, element)
triples, with no per-axis factorisation and no combined tile: every instance keeps its own tile, an
executed tile receives what the instance's previous executed tile did not hold, tiles without a MAC are
skipped, and the last tile is flushed at the end. A parent level always exchanges with its child
instances per transition (`siblings.py`'s rule: the union of their entries down, the union of what they
evict at one moment up), because under a mask siblings over an input channel need not execute the same
tiles, and the combined tile would then miscount. Readiness is per instance: an element read down must
have been used by the same instance in an earlier tile; an element leaving is final when no later tile
of the instance (at the parent: of any child of the parent instance) uses it.

Everything is sorting and counting on arrays of triples; no Python loop runs per MAC, step or tile.
The same `SequenceEvents`, `UnionEvents` and direction rules as the dense path (`transfers.py`) turn
them into per-level traffic.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from math import prod
from typing import NamedTuple

import numpy as np

from zz_event.engine.events import SequenceEvents
from zz_event.engine.executed import Executed, Triples
from zz_event.engine.siblings import UnionEvents, _distinct, _last_touch, _Parents
from zz_event.engine.transfers import BoundaryLoads, Events, OperandTraffic, _mac_boundary_outputs, _output_boundary
from zz_event.model.vocabulary import DIRECTIONS

__all__ = ["Chain", "masked_traffic"]


class Chain:
    """One grouping's triples with their links: each instance's executed tiles in time order (rows), and
    per triple whether the element enters, leaves, and is first or last used by the instance."""

    def __init__(self, t: Triples) -> None:
        rid = t.inst * t.n_tiles + t.tile  # sorted: triples come by instance, tile, element
        new = np.ones(rid.size, dtype=bool)
        new[1:] = rid[1:] != rid[:-1]
        row_keys, self.row_inst, self.row_tile = rid[new], t.inst[new], t.tile[new]
        n_rows = self.row_inst.size
        self.has_pred = np.zeros(n_rows, dtype=bool)
        self.has_pred[1:] = self.row_inst[1:] == self.row_inst[:-1]
        self.has_succ = np.zeros(n_rows, dtype=bool)
        self.has_succ[:-1] = self.has_pred[1:]
        # From here on the triples are kept by (instance, element), in time order: each one's neighbours
        # are the same element's previous and next rows in that instance.
        by_pair = np.sort((t.inst * t.n_elem + t.elem) * t.n_tiles + t.tile)
        pair, tile = by_pair // t.n_tiles, by_pair % t.n_tiles
        self.t = replace(t, inst=pair // t.n_elem, tile=tile, elem=pair % t.n_elem)
        self.row = np.searchsorted(row_keys, self.t.inst * t.n_tiles + tile)  # each triple's row
        same = pair[1:] == pair[:-1]
        prev_row, next_row = np.full(rid.size, -1), np.full(rid.size, -1)
        prev_row[1:] = np.where(same, self.row[:-1], -1)
        next_row[:-1] = np.where(same, self.row[1:], -1)
        self.first, self.last = prev_row < 0, next_row < 0
        self.entering = ~(self.has_pred[self.row] & (prev_row == self.row - 1))
        self.leaving = ~(self.has_succ[self.row] & (next_row == self.row + 1))

    def _per_row(self, flags: np.ndarray | None = None) -> np.ndarray:
        n = self.row_inst.size
        rows = self.row if flags is None else self.row[flags]
        return np.bincount(rows, minlength=n).astype(np.int64) * self.t.factor

    @cached_property
    def _rows(self) -> dict[str, np.ndarray]:
        """Per-row counts (every sample): size, entries, evictions at the change into the row, flushes."""
        size = self._per_row()
        evicted = self.leaving & self.has_succ[self.row]
        # Evictions happen at the change into the successor row (the next row of the same instance).
        out, out_final = np.zeros_like(size), np.zeros_like(size)
        out[1:], out_final[1:] = self._per_row(evicted)[:-1], self._per_row(evicted & self.last)[:-1]
        return {"size": size, "entry": self._per_row(self.entering),
                "entry_first": self._per_row(self.entering & self.first), "out": out, "out_final": out_final,
                "flush": np.where(self.has_succ, 0, size), "first": self._per_row(self.first),
                "last": self._per_row(self.last)}

    @cached_property
    def _bounds(self) -> np.ndarray:
        """Row ranges per sample: rows of sample s are [bounds[s], bounds[s + 1])."""
        return np.searchsorted(self.row_inst // self.t.n_inst, np.arange(self.t.n_samples + 1))

    def events(self, sample: int) -> SequenceEvents:
        lo, hi = self._bounds[sample], self._bounds[sample + 1]
        r = {k: v[lo:hi] for k, v in self._rows.items()}
        has_pred, has_succ = self.has_pred[lo:hi], self.has_succ[lo:hi]
        ones = np.ones(hi - lo, dtype=np.int64)
        return SequenceEvents(
            entry=r["entry"], entry_first=r["entry_first"], entry_weight=ones,
            exit=np.concatenate([r["out"], r["flush"]]), exit_final=np.concatenate([r["out_final"], r["flush"]]),
            exit_weight=np.concatenate([ones, ones]),
            tile=r["size"], tile_first=r["first"], tile_last=r["last"], tile_weight=ones, steps=int(hi - lo),
            onload=r["size"][~has_pred], onload_weight=ones[~has_pred],
            offload=r["flush"][~has_succ], offload_weight=ones[~has_succ],
        )

    def union(self, nest, child_served: frozenset[str], parent_served: frozenset[str], outputs: bool):
        """The parent side of the boundary above this (child) grouping, per transition: a function of the
        sample giving its `UnionEvents`; `outputs`: the operand also moves up (evictions, finals)."""
        t, n_tiles, n_elem = self.t, self.t.n_tiles, self.t.n_elem
        unfolded = _Unfolded(t.n_inst, ())  # every child instance counted: no spatial loop folded out
        parents = _SampleParents(_Parents(nest, child_served, parent_served, unfolded), t.n_inst,
                                 prod(sl.size for sl in nest.spatial if sl.array_dim not in parent_served))
        per_sample = (n_tiles + 1) * parents.n_parent  # event ids of one sample

        def per_event(mask: np.ndarray, when: np.ndarray, last=None):
            idx, parent = parents.of(t.inst, mask)
            moment = parent * (n_tiles + 1) + when[idx]
            pairs = _distinct(moment * n_elem + t.elem[idx])
            events, count = np.unique(pairs // n_elem, return_counts=True)
            final = np.zeros(events.size, dtype=np.int64)
            if last is not None:  # final: no child of the parent instance uses the element at or after then
                moment = pairs // n_elem
                done = last(moment // (n_tiles + 1) * n_elem + pairs % n_elem) < moment % (n_tiles + 1)
                final = np.bincount(np.searchsorted(events, pairs[done] // n_elem), minlength=events.size)
            bounds = np.searchsorted(events // per_sample, np.arange(t.n_samples + 1))
            return events, count.astype(np.int64) * t.factor, final.astype(np.int64) * t.factor, bounds

        down_events, down, _, down_at = per_event(self.entering, t.tile)
        first = np.unique(down_events // (n_tiles + 1), return_index=True)[1]  # each parent's first transition
        onload_at = np.searchsorted(first, down_at)
        if not outputs:
            return lambda s: UnionEvents(*(down[down_at[s]:down_at[s + 1]],) * 2, _NONE, _NONE,
                                         down[first[onload_at[s]:onload_at[s + 1]]])
        _, touched, _, touched_at = per_event(self.entering & ~self.first, t.tile)
        succ_tile = np.zeros_like(self.row_tile)
        succ_tile[:-1] = self.row_tile[1:]
        when = np.where(self.has_succ[self.row], succ_tile[self.row], n_tiles)
        _, up, up_final, up_at = per_event(self.leaving, when, _last_touch(parents, t.inst, t.tile, t.elem, n_elem))
        return lambda s: UnionEvents(down[down_at[s]:down_at[s + 1]], touched[touched_at[s]:touched_at[s + 1]],
                                     up[up_at[s]:up_at[s + 1]], up_final[up_at[s]:up_at[s + 1]],
                                     down[first[onload_at[s]:onload_at[s + 1]]])


class _Unfolded(NamedTuple):
    """What `siblings._Parents` reads of its axes: the child instances and the spatial loops folded out."""

    n_child: int
    folded: tuple


class _SampleParents:
    """`siblings._Parents` over (sample, instance) ids: a sample's children belong to that sample's parents."""

    def __init__(self, parents: _Parents, n_child: int, n_parent: int) -> None:
        self.parents, self.n_child, self.n_parent = parents, n_child, n_parent

    def of(self, child: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx, parent = self.parents.of(child % self.n_child, mask)
        return idx, child[idx] // self.n_child * self.n_parent + parent


_NONE = np.zeros(0, dtype=np.int64)


def masked_traffic(ex: Executed, op: str, readiness: bool) -> list[tuple[OperandTraffic, BoundaryLoads]]:
    """Transfer events of one operand at every level, per sample of `ex`, by `transfers.py`'s rules."""
    levels = ex.nest.levels[op]
    bank = Chain(ex.triples(op, 0, levels[0].served))  # the register bank below level 0
    sides = []
    for j in range(len(levels) - 1):
        chain = Chain(ex.triples(op, levels[j].top, levels[j].served))
        sides.append((chain, chain.union(ex.nest, levels[j].served, levels[j + 1].served, op == "O")))
    return [_sample_traffic(levels, op, readiness, bank.events(s), [(c.events(s), u(s)) for c, u in sides])
            for s in range(ex.n_samples)]


def _sample_traffic(levels, op: str, readiness: bool, bank: SequenceEvents, sides: list):
    """One sample's traffic from its register-bank events and, per boundary, (child events, union events)."""
    traffic: OperandTraffic = [{d: Events.none() for d in DIRECTIONS} for _ in levels]
    loads = BoundaryLoads([], [])
    ready = readiness and op == "O"
    if op != "O":
        traffic[0]["rd_out_to_low"] = Events.of(bank.entry, bank.entry_weight)
    else:
        _mac_boundary_outputs(bank, levels[0].psum, ready, traffic[0])
    one = np.int64(1)
    for j, (child, ev) in enumerate(sides):
        parent, up_traffic = levels[j + 1], traffic[j + 1]
        if op != "O":
            traffic[j]["wr_in_by_high"] = Events.of(child.entry, child.entry_weight)
            up_traffic["rd_out_to_low"] = Events.of(ev.down, one)
            loads.onload.append((j + 1, Events.of(ev.onload, one)))
            continue
        traffic[j]["wr_in_by_high"], traffic[j]["rd_out_to_high"] = _output_boundary(child, parent.psum, ready)
        loads.offload.append((j, Events.of(child.offload, child.offload_weight, final=True)))
        if not ready:
            up_traffic["rd_out_to_low"] = Events.of(ev.down, one) if parent.psum else Events.none()
            up_traffic["wr_in_by_low"] = Events.of(ev.up, one, final=not parent.psum)
        else:
            up_traffic["rd_out_to_low"] = Events.of(ev.down_touched, one)
            keep = ev.up > 0
            up_traffic["wr_in_by_low"] = Events(ev.up[keep] - ev.up_final[keep], ev.up_final[keep],
                                                np.ones(int(keep.sum()), dtype=np.int64))
    return traffic, loads
