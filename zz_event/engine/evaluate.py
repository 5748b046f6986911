"""The engine's front door: one LoopNest and two switches in, exact counts, words, energy, latency out."""

from __future__ import annotations

from collections import defaultdict
from math import prod


from zz_event.engine.axes import coupled_axis, dim_digits, uncoupled_axis
from zz_event.engine.latency import latency_parts
from zz_event.engine.result import EngineOptions, EngineResult, LevelCounts
from zz_event.engine.tiles import UNCOUPLED
from zz_event.engine.transfers import operand_traffic, sequence_events
from zz_event.engine.words import READ_DIRECTIONS, event_words
from zz_event.memo import LruMemo
from zz_event.nest import DIRECTIONS, OPERANDS, LoopNest

__all__ = ["evaluate", "executed_macs", "compute_cycles", "clear_caches"]


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


def evaluate(nest: LoopNest, options: EngineOptions = EngineOptions()) -> EngineResult:
    p_partial, p_final = nest.precision["O"], nest.precision["O_final"]
    levels: dict[str, tuple[LevelCounts, ...]] = {}
    port_words: defaultdict[str, int] = defaultdict(int)
    onload: dict[str, int] = {}
    offload = 0
    for op in OPERANDS:
        traffic, loads = operand_traffic(nest, op, options.filter, options.readiness)
        precision = (p_partial, p_final) if op == "O" else (nest.precision[op], nest.precision[op])
        op_levels = nest.levels[op]
        counts = []
        for level, per_dir in zip(op_levels, traffic):
            words = {d: event_words(per_dir[d], level, d, *precision) for d in DIRECTIONS}
            # Each instance of a memory has its own ports, working in parallel.
            instances = prod(sl.size for sl in nest.spatial if sl.array_dim not in level.served)
            for d in DIRECTIONS:
                if words[d]:
                    port_words[level.ports[d].name] += -(-words[d] // instances)
            energy = sum(words[d] * (level.read_cost if d in READ_DIRECTIONS else level.write_cost) for d in DIRECTIONS)
            counts.append(LevelCounts(level.name, {d: per_dir[d].elements for d in DIRECTIONS}, words, energy))
        levels[op] = tuple(counts)
        onload[op] = sum(event_words(ev, op_levels[j], "rd_out_to_low", *precision) for j, ev in loads.onload)
        offload += sum(event_words(ev, op_levels[j], "rd_out_to_high", *precision) for j, ev in loads.offload)
    cycles = compute_cycles(nest, options.filter)
    on, stall, off = latency_parts(cycles, dict(port_words), onload, offload)
    macs = executed_macs(nest, options.filter)
    return EngineResult(
        options=options,
        macs=macs,
        compute_cycles=cycles,
        levels=levels,
        mac_energy_pj=macs * nest.mac_energy,
        onload_cycles=on,
        stall_cycles=stall,
        offload_cycles=off,
        port_busy_cycles=dict(port_words),
    )


def clear_caches() -> None:
    """Forget every memoised tile sequence, axis side, touch count, MAC and cycle count (tests compare
    cold and warm runs)."""
    from zz_event.engine.axis_configs import SIDES, TOUCH_COUNTS  # noqa: PLC0415
    from zz_event.engine.transfers import _SEQUENCES  # noqa: PLC0415

    _SEQUENCES.clear()
    SIDES.clear()
    TOUCH_COUNTS.clear()
    _ORDER_FREE.clear()
