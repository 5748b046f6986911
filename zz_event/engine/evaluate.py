"""The engine's front door: one LoopNest and two switches in, exact counts, words, energy, latency out."""

from __future__ import annotations

from collections import defaultdict
from math import prod

import numpy as np

from zz_event.engine.axes import CoupledAxis, UncoupledAxis
from zz_event.engine.latency import latency_parts
from zz_event.engine.result import EngineOptions, EngineResult, LevelCounts
from zz_event.engine.tiles import UNCOUPLED, tile_sequence
from zz_event.engine.transfers import Events, operand_traffic
from zz_event.engine.words import READ_DIRECTIONS, event_words
from zz_event.nest import DIRECTIONS, OPERANDS, LoopNest

__all__ = ["evaluate", "executed_macs", "compute_cycles"]


def executed_macs(nest: LoopNest, filtered: bool) -> int:
    """MACs that execute: every iteration of the loop nest, or only the valid ones."""
    everything = lambda d: False  # noqa: E731  (no digit fixed: one key spans the whole dimension)
    count = prod(int(UncoupledAxis(nest, dim, everything).size.sum()) for dim in UNCOUPLED)
    for axis in ("Y", "X"):
        count *= int(CoupledAxis(nest, axis, "W", everything, filtered).pair_valid.sum())
    return count


def compute_cycles(nest: LoopNest, filtered: bool) -> int:
    """Temporal steps in which at least one processing element executes a MAC."""
    all_dims = frozenset(sl.array_dim for sl in nest.spatial)
    return int(tile_sequence(nest, "W", 0, all_dims, filtered).executed.sum())


def evaluate(nest: LoopNest, options: EngineOptions = EngineOptions()) -> EngineResult:
    p_partial, p_final = nest.precision["O"], nest.precision["O_final"]
    levels: dict[str, tuple[LevelCounts, ...]] = {}
    port_words: defaultdict[str, int] = defaultdict(int)
    onload: dict[str, int] = {}
    offload = 0
    for op in OPERANDS:
        traffic = operand_traffic(nest, op, options.filter, options.readiness)
        precision = (p_partial, p_final) if op == "O" else (nest.precision[op], nest.precision[op])
        counts = []
        for j, (level, per_dir) in enumerate(zip(nest.levels[op], traffic)):
            words = {d: event_words(per_dir[d], level, d, *precision) for d in DIRECTIONS}
            for d in DIRECTIONS:
                if words[d]:
                    port_words[level.ports[d].name] += words[d]
            energy = sum(words[d] * (level.read_cost if d in READ_DIRECTIONS else level.write_cost) for d in DIRECTIONS)
            counts.append(LevelCounts(level.name, {d: per_dir[d].elements for d in DIRECTIONS}, words, energy))
        levels[op] = tuple(counts)
        top = len(nest.levels[op]) - 1
        if op != "O":
            onload[op] = sum(_first_event_words(traffic[j]["wr_in_by_high"], nest.levels[op][j], *precision) for j in range(top))
        else:
            offload = sum(_flush_words(nest, traffic[j]["rd_out_to_high"], nest.levels[op][j], *precision) for j in range(top))
    cycles = compute_cycles(nest, options.filter)
    on, stall, off = latency_parts(cycles, dict(port_words), onload, offload)
    return EngineResult(
        options=options,
        macs=executed_macs(nest, options.filter),
        compute_cycles=cycles,
        levels=levels,
        mac_energy_pj=executed_macs(nest, options.filter) * nest.mac_energy,
        onload_cycles=on,
        stall_cycles=stall,
        offload_cycles=off,
        port_busy_cycles=dict(port_words),
    )


def _first_event_words(events: Events, level, p_partial: int, p_final: int) -> int:
    if events.partial.size == 0:
        return 0
    first = Events(events.partial[:1], events.final[:1], events.replicas)
    return event_words(first, level, "wr_in_by_high", p_partial, p_final)


def _flush_words(nest: LoopNest, events: Events, level, p_partial: int, p_final: int) -> int:
    # The final flush events are the last ones of the up-going sequence (one per instance row).
    if events.partial.size == 0:
        return 0
    last = Events(events.partial[-1:], events.final[-1:], events.replicas)
    return event_words(last, level, "rd_out_to_high", p_partial, p_final)
