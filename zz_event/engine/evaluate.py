"""The engine's front door: one LoopNest and two switches in, exact counts, words, energy, latency out.

`evaluate(nest, options, mask=...)` adds events from data: a MAC executes iff it is valid and its input
element is non-zero (padding counts as zero); tiles hold only what executed MACs use, tiles with none are
skipped, readiness follows the last executed contribution, and outputs no input reaches are never written
(`EngineResult.outputs_without_contribution`). Without a mask the per-axis path; with one, explicit sets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from math import prod
from typing import NamedTuple

import numpy as np

from zz_event.engine.axes import coupled_axis, dim_digits, uncoupled_axis
from zz_event.engine.boundary_costs import boundary_costs
from zz_event.engine.latency import LinkSums, Transfers, latency_bound, latency_parts, links_of
from zz_event.engine.result import EngineOptions, EngineResult, LatencyParts, LazyLatency, LevelCounts
from zz_event.engine.tiles import UNCOUPLED
from zz_event.engine.touches import OutputTouches
from zz_event.engine.transfers import boundary_plan, sequence_events, sequence_keys
from zz_event.memo import LruMemo, clear_caches  # clear_caches: re-exported, where callers have found it
from zz_event.model.nest import LoopNest, MemLevel
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS

__all__ = ["clear_caches", "compute_cycles", "energy_pj", "evaluate", "evaluate_samples", "executed_macs",
           "operand_costs"]


def executed_macs(nest: LoopNest, filtered: bool) -> int:
    """MACs that execute: every iteration of the loop nest, or only the valid ones."""
    return _ORDER_FREE.get_or(("macs", _order_free_key(nest, filtered)), lambda: _executed_macs(nest, filtered))


def compute_cycles(nest: LoopNest, filtered: bool) -> int:
    """Temporal steps in which at least one processing element executes a MAC."""
    return _ORDER_FREE.get_or(("cycles", _order_free_key(nest, filtered)), lambda: _compute_cycles(nest, filtered))


# MACs and compute cycles do not depend on the order of the temporal loops: a dimension's temporal
# digits (above its spatial ones) enumerate the same index range in any order, and whether a step
# executes depends only on the indices it covers. So every ordering LOMA tries of one spatial mapping
# shares them (tests/test_engine_memo.py holds this against cold evaluation).
_ORDER_FREE = LruMemo(256)


def _order_free_key(nest: LoopNest, filtered: bool) -> tuple:
    per_dim: dict[str, int] = {}
    for loop in nest.temporal:
        per_dim[loop.dim] = per_dim.get(loop.dim, 1) * loop.size
    return (nest.shape_id, filtered, tuple(sorted(per_dim.items())))


def _executed_macs(nest: LoopNest, filtered: bool) -> int:
    free = lambda dim: (False,) * len(dim_digits(nest, dim))  # noqa: E731  (one key spans the dimension)
    count = prod(int(uncoupled_axis(nest, dim, free(dim)).size.sum()) for dim in UNCOUPLED)
    for axis, pos_dim in zip(("Y", "X"), nest.position_dims):
        count *= int(coupled_axis(nest, axis, "W", free(pos_dim), free("F" + axis), filtered).pair_valid.sum())
    return count


def _compute_cycles(nest: LoopNest, filtered: bool) -> int:
    all_dims = frozenset(sl.array_dim for sl in nest.spatial)
    return sequence_events(nest, "W", 0, all_dims, filtered, None, frozenset()).steps


def evaluate(nest: LoopNest, options: EngineOptions = EngineOptions(), mask=None) -> EngineResult:
    """Exact counts of `nest` under the two switches; with `mask` (which input elements are non-zero,
    (B, G, C, IY, IX) or ONNX's layout) events come from data: a zero input triggers nothing
    (`executed.py`, `explicit.py`). An all-true mask gives the dense-data counts."""
    nest = nest.without_unit_loops()
    if mask is not None:
        return _evaluate_masked(nest, options, mask)
    costs = {op: operand_costs(nest, op, options) for op in OPERANDS}
    return _result(nest, options, executed_macs(nest, options.filter), compute_cycles(nest, options.filter), costs)


def energy_pj(nest: LoopNest, options: EngineOptions = EngineOptions()) -> float:
    """`evaluate(nest, options).energy_pj` (the same sum in the same order) without the latency, which a
    search ranking on energy needs for its best mappings only."""
    nest = nest.without_unit_loops()
    memory = sum(lc.energy_pj for op in OPERANDS for lc in operand_costs(nest, op, options).counts)
    return executed_macs(nest, options.filter) * nest.mac_energy + memory


def _evaluate_masked(nest: LoopNest, options: EngineOptions, mask) -> EngineResult:
    return evaluate_samples(nest, options, np.asarray(mask)[None])[0]


def evaluate_samples(nest: LoopNest, options: EngineOptions, masks) -> list[EngineResult]:
    """`evaluate(nest, options, mask=m)` for every sample's mask `m` of `masks` (S, ...), counted in one pass."""
    from zz_event.engine.executed import Executed  # noqa: PLC0415  (loaded on first use: compiles a kernel)
    from zz_event.engine.explicit import masked_counts  # noqa: PLC0415

    nest = nest.without_unit_loops()
    ex = Executed(nest, options.filter, masks)
    per_op = {op: _sample_costs(nest, op, masked_counts(ex, op, options.readiness)) for op in OPERANDS}
    results = []
    for s, (macs, cycles, silent) in enumerate(zip(ex.macs(), ex.cycles(), ex.outputs_without_contribution())):
        costs = {op: per_op[op][s] for op in OPERANDS}
        results.append(replace(_result(nest, options, macs, cycles, costs), outputs_without_contribution=silent))
    return results


def _sample_costs(nest: LoopNest, op: str, counts) -> list[OperandCosts]:
    """Per sample, `_costs_of` from `explicit.masked_counts`."""
    elements = [{d: v.tolist() for d, v in per_dir.items()} for per_dir in counts.elements]
    words = [{d: v.tolist() for d, v in per_dir.items()} for per_dir in counts.words]
    links = [((j, d), per_link.tolist()) for (j, d), per_link in counts.links.items()]

    def pick(per_level: list[dict], s: int) -> list[dict]:
        return [{d: v[s] for d, v in per_dir.items()} for per_dir in per_level]

    return [_assemble(nest, op, pick(elements, s), pick(words, s), on, off,
                      link_sums=tuple((j, d, tuple(per_link[s])) for (j, d), per_link in links if per_link[s][0]))
            for s, (on, off) in enumerate(zip(counts.onload.tolist(), counts.offload.tolist()))]


def _precision(nest: LoopNest, op: str) -> tuple[int, int]:
    return (nest.precision["O"], nest.precision["O_final"]) if op == "O" else (nest.precision[op],) * 2


def _result(nest: LoopNest, options: EngineOptions, macs: int, cycles: int, costs: dict,
            skips_steps: bool = False) -> EngineResult:
    """`skips_steps`: steps without an executed MAC take no time even with the filter off (frame-based
    skipping), so the latency's windows follow the executed steps as with the filter. The latency is
    computed on first read (`LazyLatency`)."""
    levels: dict[str, tuple[LevelCounts, ...]] = {}
    port_words: defaultdict[str, int] = defaultdict(int)
    onload: dict[str, int] = {}
    offload = 0
    for op in OPERANDS:
        levels[op] = costs[op].counts
        for port, words in costs[op].port_words:
            port_words[port] += words
        onload[op] = costs[op].onload_words
        offload += costs[op].offload_words
    windows_follow_executed = options.filter or skips_steps
    return EngineResult(
        options=options,
        macs=macs,
        compute_cycles=cycles,
        levels=levels,
        mac_energy_pj=macs * nest.mac_energy,
        latency=LazyLatency(lambda: _latency(nest, cycles, windows_follow_executed, costs)),
        latency_bound_cycles=latency_bound(cycles, dict(port_words), onload, offload),
        port_busy_cycles=dict(port_words),
    )


def _latency(nest: LoopNest, cycles: int, windows_follow_executed: bool, costs: dict) -> LatencyParts:
    """`latency_parts` of the operands' transfer events (`OperandCosts.transfers`, `.link_sums`)."""
    sums: dict[tuple[str, int, str], LinkSums] = {}
    links = links_of(nest)
    for op in OPERANDS:
        for transfers in costs[op].transfers:
            link = links.get((op, transfers.level, transfers.direction))
            if link is not None:
                sums[(op, transfers.level, transfers.direction)] = transfers.sums(link)
        sums.update(((op, j, d), link) for j, d, link in costs[op].link_sums)
    return latency_parts(nest, cycles, windows_follow_executed, sums)


class OperandCosts(NamedTuple):
    """One operand's share of a result: its levels' counts, the words it puts through each port (in
    level and direction order), and its words at the very start and end. (A named tuple: one is built for
    most mappings, and a frozen dataclass is slow to build.)"""

    counts: tuple[LevelCounts, ...]
    port_words: tuple[tuple[str, int], ...]
    onload_words: int
    offload_words: int
    # The latency's windows, per level and direction: its transfer events (the dense path), or the link's
    # `latency.LinkSums` (the masked path, summed in its compiled pass).
    transfers: tuple[Transfers, ...]
    link_sums: tuple[tuple[int, str, LinkSums], ...]
    levels: tuple[MemLevel, ...]  # kept alive while memoised: the memo key names them by id


# Many mappings of a LOMA search share an operand's every tile sequence (the weights' above all): their
# counts and words are then the same too. Keyed by the levels' ids, which `NestContext` reuses across
# the mappings of one layer; a nest with fresh levels misses, which is only slower.
_OPERAND_COSTS = LruMemo(1024)


def operand_costs(nest: LoopNest, op: str, options: EngineOptions) -> OperandCosts:
    nest = nest.without_unit_loops()
    op_levels = nest.levels[op]
    plan = boundary_plan(op_levels, op)
    keys = sequence_keys(nest, op, options.filter, options.readiness, plan)
    precision = (nest.precision["O"], nest.precision["O_final"]) if op == "O" else (nest.precision[op],) * 2
    key = (op, options.filter, options.readiness, tuple(map(id, op_levels)), precision, keys)
    return _OPERAND_COSTS.get_or(key, lambda: _operand_costs(nest, op, options, precision, plan, keys))


def _operand_costs(nest, op, options, precision, plan, keys) -> OperandCosts:
    """The union of the costs each boundary feeds (`boundary_costs`)."""
    op_levels = nest.levels[op]
    touches = OutputTouches(nest, options.filter) if op == "O" and options.readiness else None
    elements = [dict.fromkeys(DIRECTIONS, 0) for _ in op_levels]
    words = [dict.fromkeys(DIRECTIONS, 0) for _ in op_levels]
    transfers: list[Transfers] = []
    onload = offload = 0
    for j, side, side_keys in zip(range(-1, len(op_levels) - 1), plan, keys):
        part = boundary_costs(nest, op, options.filter, options.readiness, precision, j, side, side_keys, touches)
        for level, d, level_elements, level_words in part.cells:
            elements[level][d], words[level][d] = level_elements, level_words
        transfers += part.transfers
        onload += part.onload_words
        offload += part.offload_words
    return _assemble(nest, op, elements, words, onload, offload, transfers=tuple(transfers))


def _assemble(nest, op, elements: list[dict], words: list[dict], onload: int, offload: int,
              transfers: tuple = (), link_sums: tuple = ()) -> OperandCosts:
    """One operand's costs from its elements and words per level and direction, and its transfer events
    (`OperandCosts.transfers`, `OperandCosts.link_sums`)."""
    op_levels = nest.levels[op]
    counts = []
    port_words: list[tuple[str, int]] = []
    rd_low, wr_low, rd_high, wr_high = DIRECTIONS
    for level, elems, level_words in zip(op_levels, elements, words):
        # Each instance of a memory has its own ports, working in parallel.
        instances = prod(sl.size for sl in nest.spatial if sl.array_dim not in level.served)
        port_words += [(level.ports[d].name, -(-level_words[d] // instances)) for d in DIRECTIONS if level_words[d]]
        read, write = level.read_cost, level.write_cost
        # sum() over DIRECTIONS in their order (its compensated float sum: bit-identical energies)
        energy = sum((level_words[rd_low] * read, level_words[wr_low] * write, level_words[rd_high] * read,
                      level_words[wr_high] * write))
        counts.append(LevelCounts(level.name, elems, level_words, energy))
    return OperandCosts(tuple(counts), tuple(port_words), onload, offload, transfers, link_sums, op_levels)
