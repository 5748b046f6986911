"""Transfers from explicit tile sets: the engine's path for data masks (`executed.py`).

The residency rules of `tiles.py` applied literally to each level's executed tiles, with no per-axis
factorisation and no combined tile: every instance keeps its own tile, an executed tile receives what the
instance's previous executed tile did not hold, tiles without a MAC are skipped, and the last tile is
flushed at the end. A parent level always exchanges with its child instances per transition
(`siblings.py`'s rule: the union of their entries down, the union of what they evict at one moment up),
because under a mask siblings over an input channel need not execute the same tiles, and the combined
tile would then miscount. Readiness is per instance: an element read down must have been used by the same
instance in an earlier tile; an element leaving is final when no later tile of the instance (at the
parent: of any child of the parent instance) uses it.

Each level's tiles are walked once by a compiled pass (`walk.py`) that sums, per sample, the words of the
transfers asked of it, each a combination of per-tile quantities (`walk.QUANTITIES`) at a precision; the
parent side sorts the child's (tile, element) pairs. Every sample is counted at once. The direction rules
are those of the dense path (`transfers.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import NamedTuple

import numpy as np

from zz_event.engine.executed import Executed
from zz_event.engine.latency import links_of
from zz_event.engine.siblings import Parents, distinct, last_touch
from zz_event.engine.words import segment_sums
from zz_event.model.nest import MemLevel
from zz_event.model.vocabulary import DIRECTIONS

__all__ = ["MaskedCounts", "masked_counts"]


@dataclass(frozen=True)
class MaskedCounts:
    """One operand's transfers, every sample: elements and words per level and direction (arrays over
    samples), and the words at the very start and end (`transfers.BoundaryLoads`)."""

    elements: list[dict[str, np.ndarray]]
    words: list[dict[str, np.ndarray]]
    onload: np.ndarray
    offload: np.ndarray
    links: dict[tuple[int, str], np.ndarray]  # per latency link (level, direction): (S, 4) `latency.LinkSums`


class _Transfer(NamedTuple):
    """Where a transfer lands (a level and direction, or "onload"/"offload" of a level), and its elements
    per tile as {quantity: coefficient} for the partial and the final part."""

    level: int
    direction: str
    partial: dict
    final: dict


class _Tally:
    """Elements and word units per level and direction (and per load), summed over transfers; and per
    latency link (`links`: (level, direction) -> `windows.Link`) its `latency.LinkSums`."""

    def __init__(self, levels: tuple[MemLevel, ...], precision: tuple[int, int], n: int, links: dict) -> None:
        self.levels, self.precision, self.n = levels, precision, n
        self.links = links
        self.link_ids = {key: i for i, key in enumerate(links)}
        self.link_sums = np.zeros((n, len(links), 4), dtype=np.int64)
        self.elements = [{d: np.zeros(n, dtype=np.int64) for d in DIRECTIONS} for _ in levels]
        self.units = [{d: np.zeros(n, dtype=np.int64) for d in DIRECTIONS} for _ in levels]
        self.loads = {"onload": np.zeros(n, dtype=np.int64), "offload": np.zeros(n, dtype=np.int64)}

    def port(self, level: int, direction: str):
        port_dir = {"onload": "rd_out_to_low", "offload": "rd_out_to_high"}.get(direction, direction)
        return self.levels[level], port_dir, self.levels[level].ports.get(port_dir)

    def add(self, level: int, direction: str, elements: np.ndarray, units: np.ndarray) -> None:
        mem, port_dir, port = self.port(level, direction)
        if port is None:
            if units.any():
                raise ValueError(f"memory {mem.name} has no port for {port_dir} but data must move that way")
            return
        if direction in self.loads:  # each load is rounded to words on its own, as `event_words` does
            self.loads[direction] += units * port.bw_min // port.bw_max
            return
        self.elements[level][direction] += elements
        self.units[level][direction] += units

    def spec(self, transfers: list[_Transfer]) -> tuple:
        """`walk.walk`'s (terms, coefs, bw, link, link_bw, allowed, n_links) for `transfers`: bits per tile,
        the port's width, and the latency link each one's events belong to (-1: none, as the loads)."""
        from zz_event.engine.walk import QUANTITIES  # noqa: PLC0415  (numba loads with the first masked count)

        p_partial, p_final = self.precision
        width = max([len(set(t.partial) | set(t.final)) for t in transfers], default=1)
        terms = np.zeros((len(transfers), width), dtype=np.int64)
        coefs = np.zeros((len(transfers), width), dtype=np.int64)
        bw = np.ones(len(transfers), dtype=np.int64)
        link = np.full(len(transfers), -1, dtype=np.int64)
        link_bw, allowed = np.ones(len(transfers), dtype=np.int64), np.zeros(len(transfers), dtype=np.int64)
        for f, t in enumerate(transfers):
            if (t.level, t.direction) in self.links:
                the = self.links[(t.level, t.direction)]
                link[f], link_bw[f], allowed[f] = self.link_ids[(t.level, t.direction)], the.bw, the.allowed
            for k, q in enumerate(sorted(set(t.partial) | set(t.final))):
                terms[f, k] = QUANTITIES.index(q)
                coefs[f, k] = t.partial.get(q, 0) * p_partial + t.final.get(q, 0) * p_final
            port = self.port(t.level, t.direction)[2]
            bw[f] = port.bw_min if port is not None else 1
        return terms, coefs, bw, link, link_bw, allowed, len(self.links)

    def add_walked(self, transfers: list[_Transfer], sums: np.ndarray, units: np.ndarray, links: np.ndarray) -> None:
        from zz_event.engine.walk import QUANTITIES  # noqa: PLC0415

        self.link_sums += links
        for f, t in enumerate(transfers):
            coef = np.zeros(len(QUANTITIES), dtype=np.int64)
            for part in (t.partial, t.final):
                for q, c in part.items():
                    coef[QUANTITIES.index(q)] += c
            self.add(t.level, t.direction, sums @ coef, units[:, f])

    def add_events(self, level: int, direction: str, partial: np.ndarray, final: np.ndarray, bounds) -> None:
        """Per-event counts of every sample (sample s: events [bounds[s], bounds[s + 1]))."""
        p_partial, p_final = self.precision
        port = self.port(level, direction)[2]
        bits = partial * p_partial + final * p_final
        units = segment_sums(-(-bits // (port.bw_min if port is not None else 1)), bounds)
        self.add(level, direction, segment_sums(partial + final, bounds), units)
        link = self.links.get((level, direction))
        if link is not None:  # an event that moves nothing is no transfer (`evaluate._event_bits`)
            moved = (bits > 0).astype(np.int64)
            cycles = -(-bits // link.bw) * moved
            per_event = (moved, bits, cycles, np.maximum(cycles - link.allowed, 0))
            for k, v in enumerate(per_event):
                self.link_sums[:, self.link_ids[(level, direction)], k] += segment_sums(v, bounds)

    def counts(self) -> MaskedCounts:
        words = []
        for mem, per_dir in zip(self.levels, self.units):
            words.append({d: (u * mem.ports[d].bw_min // mem.ports[d].bw_max if d in mem.ports else u)
                          for d, u in per_dir.items()})
        links = {key: self.link_sums[:, i] for key, i in self.link_ids.items()}
        return MaskedCounts(self.elements, words, self.loads["onload"], self.loads["offload"], links)


def masked_counts(ex: Executed, op: str, readiness: bool) -> MaskedCounts:
    """Transfers of one operand at every level, every sample of `ex`, by `transfers.py`'s rules."""
    nest = ex.nest
    levels = nest.levels[op]
    precision = (nest.precision["O"], nest.precision["O_final"]) if op == "O" else (nest.precision[op],) * 2
    links = {(j, d): link for (o, j, d), link in links_of(nest).items() if o == op}
    tally = _Tally(levels, precision, ex.n_samples, links)
    ready = readiness and op == "O"
    # The tile sequences to walk, (n_inner, served) -> transfers: the register bank below level 0 (every
    # step a tile), then the child side of every boundary.
    walks: dict[tuple[int, frozenset[str]], list[_Transfer]] = {(0, levels[0].served): _bank(op, levels[0], ready)}
    for j in range(len(levels) - 1):
        walks.setdefault((levels[j].top, levels[j].served), []).extend(_child(op, j, levels[j + 1].psum, ready))
    children = {(levels[j].top, levels[j].served) for j in range(len(levels) - 1)}
    walked = {}
    for (n_inner, served), transfers in walks.items():
        w = ex.walk(op, n_inner, served, tally.spec(transfers), emit=(n_inner, served) in children)
        tally.add_walked(transfers, w.sums, w.units, w.links)
        walked[(n_inner, served)] = w
    for j in range(len(levels) - 1):
        _parent(tally, nest, op, j, walked[(levels[j].top, levels[j].served)], ready)
    return tally.counts()


def _bank(op: str, level0: MemLevel, ready: bool) -> list[_Transfer]:
    """The MAC boundary: the register bank's entries, or for outputs (no accumulator in the MAC) every
    executed step's reads and writes (`transfers._mac_boundary_outputs`)."""
    if op != "O":
        return [_Transfer(0, "rd_out_to_low", {"entry": 1}, {})]
    if ready:
        return [_Transfer(0, "wr_in_by_low", {"size": 1, "last": -1}, {"last": 1}),
                _Transfer(0, "rd_out_to_low", {"size": 1, "first": -1}, {})]
    written = _Transfer(0, "wr_in_by_low", *(({"size": 1}, {}) if level0.psum else ({}, {"size": 1})))
    return [written, _Transfer(0, "rd_out_to_low", {"size": 1}, {})] if level0.psum else [written]


def _child(op: str, j: int, psum: bool, ready: bool) -> list[_Transfer]:
    """The child side of boundary j/j+1: its entries and, for outputs, its evictions (at each change and
    the flush at the end) and the off-load (`transfers._output_boundary`); `psum` is the parent's flag."""
    if op != "O":
        return [_Transfer(j, "wr_in_by_high", {"entry": 1}, {})]
    offload = _Transfer(j, "offload", {}, {"flush": 1})
    if ready:
        return [_Transfer(j, "wr_in_by_high", {"entry": 1, "first": -1}, {}),
                _Transfer(j, "rd_out_to_high", {"out": 1, "out_final": -1}, {"out_final": 1}),
                _Transfer(j, "rd_out_to_high", {}, {"flush": 1}), offload]
    split = (lambda q: ({q: 1}, {})) if psum else (lambda q: ({}, {q: 1}))
    down = [_Transfer(j, "wr_in_by_high", {"entry": 1}, {})] if psum else []
    return down + [_Transfer(j, "rd_out_to_high", *split("out")), _Transfer(j, "rd_out_to_high", *split("flush")),
                   offload]


def _parent(tally: _Tally, nest, op: str, j: int, child, ready: bool) -> None:
    """The parent side of boundary j/j+1, per transition: the union of the child instances' entries down
    and of what they evict at one moment up (`transfers._parent_per_transition`)."""
    levels = nest.levels[op]
    psum = levels[j + 1].psum
    u = _union(nest, levels[j].served, levels[j + 1].served, child, op == "O")
    if op != "O":
        tally.add_events(j + 1, "rd_out_to_low", *u["down"])
        tally.add_events(j + 1, "onload", *u["onload"])
    elif not ready:
        if psum:
            tally.add_events(j + 1, "rd_out_to_low", *u["down"])
        partial, final, bounds = u["up"]
        total, zero = partial + final, np.zeros_like(partial)
        tally.add_events(j + 1, "wr_in_by_low", *((total, zero) if psum else (zero, total)), bounds)
    else:
        tally.add_events(j + 1, "rd_out_to_low", *u["down_touched"])
        tally.add_events(j + 1, "wr_in_by_low", *u["up"])


def _union(nest, child_served: frozenset[str], parent_served: frozenset[str], w, outputs: bool) -> dict:
    """Per (parent instance, transition) of every sample, as (partial, final, bounds): `down`, `onload`
    and, with `outputs` (the operand also moves up), `down_touched`, `up`."""
    inst, tile, elem, entering, first, leaving, when = (w.triples[:, k] for k in range(7))
    n_tiles, n_elem = w.n_tiles, w.n_elem
    unfolded = _Unfolded(w.n_inst, ())  # every child instance counted: no spatial loop folded out
    parents = _SampleParents(Parents(nest, child_served, parent_served, unfolded), w.n_inst,
                             prod(sl.size for sl in nest.spatial if sl.array_dim not in parent_served))
    per_sample = (n_tiles + 1) * parents.n_parent  # event ids of one sample
    steps = np.arange(w.n_samples + 1)

    def per_event(mask: np.ndarray, at: np.ndarray, last=None):
        idx, parent = parents.of(inst, mask)
        moment = parent * (n_tiles + 1) + at[idx]
        pairs = distinct(moment * n_elem + elem[idx])
        events, count = np.unique(pairs // n_elem, return_counts=True)
        final = np.zeros(events.size, dtype=np.int64)
        if last is not None:  # final: no child of the parent instance uses the element at or after then
            moment = pairs // n_elem
            done = last(moment // (n_tiles + 1) * n_elem + pairs % n_elem) < moment % (n_tiles + 1)
            final = np.bincount(np.searchsorted(events, pairs[done] // n_elem), minlength=events.size)
        bounds = np.searchsorted(events // per_sample, steps)
        return events, count.astype(np.int64) * w.factor, final.astype(np.int64) * w.factor, bounds

    down_events, down, _, down_at = per_event(entering == 1, tile)
    start = np.unique(down_events // (n_tiles + 1), return_index=True)[1]  # each parent's first transition
    zero = np.zeros_like(down)
    flows = {"down": (down, zero, down_at), "onload": (down[start], zero[start], np.searchsorted(start, down_at))}
    if not outputs:
        return flows
    _, touched, _, touched_at = per_event((entering == 1) & (first == 0), tile)
    _, up, up_final, up_at = per_event(leaving == 1, when, last_touch(parents, inst, tile, elem, n_elem))
    flows["down_touched"] = (touched, np.zeros_like(touched), touched_at)
    flows["up"] = (up - up_final, up_final, up_at)
    return flows


class _Unfolded(NamedTuple):
    """What `siblings.Parents` reads of its axes: the child instances and the spatial loops folded out."""

    n_child: int
    folded: tuple


class _SampleParents:
    """`siblings.Parents` over (sample, instance) ids: a sample's children belong to that sample's parents."""

    def __init__(self, parents: Parents, n_child: int, n_parent: int) -> None:
        self.parents, self.n_child, self.n_parent = parents, n_child, n_parent

    def of(self, child: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx, parent = self.parents.of(child % self.n_child, mask)
        return idx, child[idx] // self.n_child * self.n_parent + parent
