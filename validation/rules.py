"""From replayed tile events to transfers, words, energy and latency: the rules of the spec docstrings.

Re-implemented from the text of zz_event/engine/transfers.py, words.py and latency.py (no code shared):

- W, I move down only. The register bank below level 0 takes the entries of every step's tile
  (level 0 `rd_out_to_low`). Between j and j+1: level j's own tiles' entries are written into it
  (`wr_in_by_high`); j+1 reads, per transition, the union of what its child instances take in
  (`rd_out_to_low`, a multicast: `validation.shared`).
- O at the MAC boundary: every executed step's outputs are written into level 0 (`wr_in_by_low`) and
  read from it (`rd_out_to_low`) if it holds partial sums — with readiness, only those the instance
  touched before the step; a write is final when the instance never touches the element again.
- O between j and j+1: down = entries (all if j+1 holds partial sums, none otherwise; with readiness
  the entries the instance touched before the tile), up = evictions and the end-of-layer flush (partial
  if j+1 holds partial sums, final otherwise; with readiness final exactly when the instance never
  touches the element again). Child side on level j's own tiles; parent side per transition
  (`validation.shared`): down the union of the children's reads, up the union of what they write up at
  that moment (copies written at different moments each one write), final when no child of the parent
  instance touches the element again. So every boundary conserves: per transition the parent sends
  exactly the union of what its children take in and takes in exactly what they send up, merged.
- Words: per event ceil((n_partial*P_O + n_final*P_Ofinal) / bw_min), summed, then * bw_min // bw_max.
- Energy: words at the read cost (rd_*) or write cost (wr_*), plus MACs * MAC energy.
- Latency: the engine's earlier throughput bound (now `latency.latency_bound`; the engine's main latency
  is ZigZag's window model, checked against ZigZag instead): compute cycles + on-loading + stalls +
  off-loading. Each instance of a memory has its own ports, so port time is counted per instance and
  instances work in parallel: a port's busy time is its busiest instance's words; on-loading is, per
  operand W/I, the sum over levels below the top of the busiest instance's first-tile words at the
  writing port (`wr_in_by_high`), the slowest operand counting; off-loading is the sum over output levels
  below the top of the busiest instance's end-of-layer flush (final outputs) at `rd_out_to_high`; stalls
  are the busiest port's excess over the compute cycles.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from validation.buffers import TileEvents
from validation.reference import reference_conv
from validation.shared import ParentEvents
from zz_event.model.nest import LoopNest
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS

__all__ = ["LevelSim", "SimResult", "assemble", "groupings", "parent_groupings"]

READS = ("rd_out_to_low", "rd_out_to_high")


@dataclass(frozen=True)
class LevelSim:
    memory: str
    elements: dict[str, int]
    words: dict[str, int]
    energy_pj: float


@dataclass(frozen=True)
class SimResult:
    filter: bool
    readiness: bool
    macs: int
    iterations: int  # loop iterations of the layer (every dimension in range), executed or not
    compute_cycles: int
    levels: dict[str, tuple[LevelSim, ...]]
    mac_energy_pj: float
    onload_cycles: int
    stall_cycles: int
    offload_cycles: int
    port_busy_cycles: dict[str, int] = field(default_factory=dict)
    outputs: np.ndarray | None = None  # the simulated arithmetic, (B, G, K, OY, OX)
    reference: np.ndarray | None = None  # numpy reference convolution of the same data
    inputs: np.ndarray | None = None  # the data used, (B, G, C, IY, IX)
    weights: np.ndarray | None = None  # (G, K, C, FY, FX)

    @property
    def output_matches_reference(self) -> bool:
        return self.outputs is not None and np.array_equal(self.outputs, self.reference)

    @property
    def memory_energy_pj(self) -> float:
        return sum(lv.energy_pj for levels in self.levels.values() for lv in levels)

    @property
    def energy_pj(self) -> float:
        return self.mac_energy_pj + self.memory_energy_pj

    @property
    def latency_cycles(self) -> int:
        return self.onload_cycles + self.compute_cycles + self.stall_cycles + self.offload_cycles

    def word_accesses(self) -> dict[str, list[dict]]:
        return {op: [{"memory": lv.memory, **lv.words} for lv in levels] for op, levels in self.levels.items()}

    def element_accesses(self) -> dict[str, list[dict]]:
        return {op: [{"memory": lv.memory, **lv.elements} for lv in levels] for op, levels in self.levels.items()}


@dataclass(frozen=True)
class _Events:
    """Element counts per event, partial and final (None: none); events starts[i]:starts[i+1] are
    instance i's."""

    partial: np.ndarray | None
    final: np.ndarray | None
    starts: np.ndarray

    @cached_property
    def per_instance(self) -> list[np.ndarray | None]:
        """[partial, final] elements per instance."""
        return [None if c is None else _segment_sums(c, self.starts) for c in (self.partial, self.final)]

    def units(self, precisions: tuple[int, int], bw: int) -> np.ndarray:
        """Port units per instance: each event's bits rounded up to `bw`."""
        counts = [(c, p) for c, p in zip((self.partial, self.final), precisions) if c is not None]
        moved = counts[0][0] if len(counts) == 1 else counts[0][0] + counts[1][0]
        if moved.size == 0 or moved.max() <= 1:  # one element per event at most: round per element
            return sum(total * -(-p // bw) for total, p in zip(self.per_instance, precisions) if total is not None)
        bits = sum(c.astype(np.int64) * p for c, p in counts)
        return _segment_sums(-(-bits // bw), self.starts)


@dataclass(frozen=True)
class _Ev:
    """Transfer events of one direction at one level: tile events, and for write-backs also the
    end-of-layer flush (one event per instance)."""

    parts: tuple[_Events, ...] = ()

    @property
    def elements(self) -> int:
        return sum(int(c.sum()) for part in self.parts for c in part.per_instance if c is not None)


def _partial(counts, starts) -> _Events:
    return _Events(counts, None, starts)


def _final(counts, starts) -> _Events:
    return _Events(None, counts, starts)


def _segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum of values[starts[i]:starts[i+1]] for every i."""
    lengths = starts[1:] - starts[:-1]
    if lengths.size and (lengths == lengths[0]).all():
        return values.reshape(lengths.size, -1).sum(axis=1, dtype=np.int64)
    out = np.zeros(lengths.size, dtype=np.int64)
    filled = lengths > 0
    if filled.any():  # reduceat sums from one filled segment's start to the next one's
        out[filled] = np.add.reduceat(values, starts[:-1][filled], dtype=np.int64)
    return out


def groupings(nest: LoopNest) -> dict[str, list[tuple[int, frozenset[str]]]]:
    """Per operand, the (top, served) tile groupings the rules need: the register bank and every level
    below the top (its own instances' tiles)."""
    out = {}
    for op in OPERANDS:
        lv = nest.levels[op]
        out[op] = list(dict.fromkeys([(0, lv[0].served)] + [(lv[j].top, lv[j].served) for j in range(len(lv) - 1)]))
    return out


def parent_groupings(nest: LoopNest) -> dict[str, list[tuple[int, frozenset[str], frozenset[str]]]]:
    """Per operand, per boundary j/j+1: (top of j, served by j, served by j+1), for `shared.parent_replay`."""
    return {op: list(dict.fromkeys((lv[j].top, lv[j].served, lv[j + 1].served) for j in range(len(lv) - 1)))
            for op, lv in nest.levels.items()}


def _transfers(nest: LoopNest, op: str, seqs: dict, parents: dict, readiness: bool):
    """Per level: direction -> events; plus per level below the top its first-tile and flush events."""
    lv = nest.levels[op]
    per_level = [{d: _Ev() for d in DIRECTIONS} for _ in lv]
    first_tiles, flushes = [], []
    reg: TileEvents = seqs[(0, lv[0].served)]
    if op != "O":
        per_level[0]["rd_out_to_low"] = _Ev((_partial(reg.entries, reg.starts),))
    elif not readiness:
        make = _partial if lv[0].psum else _final
        per_level[0]["wr_in_by_low"] = _Ev((make(reg.size, reg.starts),))
        per_level[0]["rd_out_to_low"] = _Ev((_partial(reg.size, reg.starts),)) if lv[0].psum else _Ev()
    else:
        per_level[0]["wr_in_by_low"] = _Ev((_Events(reg.size - reg.size_final, reg.size_final, reg.starts),))
        per_level[0]["rd_out_to_low"] = _Ev((_partial(reg.size_touched, reg.starts),))
    for j in range(len(lv) - 1):
        child = seqs[(lv[j].top, lv[j].served)]
        parent: ParentEvents = parents[(lv[j].top, lv[j].served, lv[j + 1].served)]
        if op != "O":
            per_level[j]["wr_in_by_high"] = _Ev((_partial(child.entries, child.starts),))
            per_level[j + 1]["rd_out_to_low"] = _Ev((_partial(parent.down.count, parent.down.starts),))
            first_tiles.append(_Ev((_partial(child.first_entries, np.arange(child.flush_size.size + 1)),)))
            continue
        psum = lv[j + 1].psum
        each = np.arange(child.flush_size.size + 1)  # one flush event per instance
        if not readiness:
            make = _partial if psum else _final
            per_level[j]["wr_in_by_high"] = _Ev((_partial(child.entries, child.starts),)) if psum else _Ev()
            per_level[j]["rd_out_to_high"] = _Ev((make(child.evicted, child.starts), make(child.flush_size, each)))
            per_level[j + 1]["rd_out_to_low"] = _Ev((_partial(parent.down.count, parent.down.starts),)) if psum \
                else _Ev()
            per_level[j + 1]["wr_in_by_low"] = _Ev(tuple(make(t.count, t.starts) for t in (parent.up, parent.flush)))
        else:
            per_level[j]["wr_in_by_high"] = _Ev((_partial(child.entries_touched, child.starts),))
            per_level[j]["rd_out_to_high"] = _Ev((
                _Events(child.evicted - child.evicted_final, child.evicted_final, child.starts),
                _Events(child.flush_size - child.flush_final, child.flush_final, each)))
            per_level[j + 1]["rd_out_to_low"] = _Ev((_partial(parent.down_touched.count, parent.down_touched.starts),))
            per_level[j + 1]["wr_in_by_low"] = _Ev(tuple(_Events(t.count - t.final, t.final, t.starts)
                                                         for t in (parent.up, parent.flush)))
        # At the end every output is final.
        flushes.append(_Ev((_final(child.flush_size, np.arange(child.flush_size.size + 1)),)))
    return per_level, first_tiles, flushes


def _port(level, direction: str, ev: _Ev):
    if ev.elements == 0:
        return None
    port = level.ports.get(direction)
    if port is None:
        raise ValueError(f"memory {level.name} has no port for {direction} but data must move that way")
    return port


def words(ev: _Ev, level, direction: str, p_partial: int, p_final: int) -> tuple[int, np.ndarray]:
    """(word accesses, words per instance) of one direction at one level; ZigZag's rounding per event."""
    port = _port(level, direction, ev)
    if port is None:
        return 0, np.zeros(0, dtype=np.int64)
    units = sum(part.units((p_partial, p_final), port.bw_min) for part in ev.parts)
    return int(units.sum()) * port.bw_min // port.bw_max, units * port.bw_min // port.bw_max


def _busiest(ev_list, levels, direction, prec) -> int:
    return sum(int(words(ev, levels[j], direction, *prec)[1].max(initial=0)) for j, ev in enumerate(ev_list))


def assemble(nest: LoopNest, filter: bool, readiness: bool, macs: int, cycles: int, seqs: dict, parents: dict,
             outputs: np.ndarray, data: dict[str, np.ndarray]) -> SimResult:
    """Apply the direction, word, energy and latency rules to replayed tile events."""
    levels: dict[str, tuple[LevelSim, ...]] = {}
    port_time: defaultdict[tuple[str, int], int] = defaultdict(int)
    onload: dict[str, int] = {}
    offload = 0
    for op in OPERANDS:
        own = {(top, served): ev for (o, top, served), ev in seqs.items() if o == op}
        own_parents = {key[1:]: ev for key, ev in parents.items() if key[0] == op}
        per_level, first_tiles, flushes = _transfers(nest, op, own, own_parents, readiness)
        prec = (nest.precision["O"], nest.precision["O_final"]) if op == "O" else (nest.precision[op],) * 2
        out = []
        for level, per_dir in zip(nest.levels[op], per_level):
            w = {}
            for dr in DIRECTIONS:
                w[dr], per_instance = words(per_dir[dr], level, dr, *prec)
                for inst in np.flatnonzero(per_instance):
                    port_time[(level.ports[dr].name, int(inst))] += int(per_instance[inst])
            energy = sum(n * (level.read_cost if dr in READS else level.write_cost) for dr, n in w.items())
            out.append(LevelSim(level.name, {dr: per_dir[dr].elements for dr in DIRECTIONS}, w, energy))
        levels[op] = tuple(out)
        if op != "O":
            onload[op] = _busiest(first_tiles, nest.levels[op], "wr_in_by_high", prec)
        else:
            offload = _busiest(flushes, nest.levels[op], "rd_out_to_high", prec)
    busy: dict[str, int] = {}
    for (port, _), n in port_time.items():
        busy[port] = max(busy.get(port, 0), n)
    g = nest.geometry
    return SimResult(
        filter=filter, readiness=readiness, macs=macs, iterations=_iterations(nest), compute_cycles=cycles,
        levels=levels, mac_energy_pj=macs * nest.mac_energy, onload_cycles=max(onload.values(), default=0),
        stall_cycles=max(0, max(busy.values(), default=0) - cycles), offload_cycles=offload,
        port_busy_cycles=busy, outputs=outputs, reference=reference_conv(g, data["I"], data["W"]),
        inputs=data["I"], weights=data["W"],
    )


def _iterations(nest: LoopNest) -> int:
    total = 1
    for dim in ("B", "G", "K", "C", *nest.position_dims, "FY", "FX"):
        total *= nest.dim_size(dim)
    return total
