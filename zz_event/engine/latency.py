"""Latency of a corrected mapping: ZigZag 3.9.1's latency model with the exact transfers in place of its own.

`latency_parts` (the model every result carries), following `CostModelEvaluation.calc_latency`:
- compute: temporal steps in which some processing element executes a MAC (without the filter: every
  step, ZigZag's `ideal_temporal_cycle`);
- stalls: per link (operand, level, direction; `windows.py`) its windows' transfer cycles (per event,
  per instance: ceil(bits / the port's maximum bandwidth), as ZigZag's `real_data_trans_cycle`) against
  the window's allowed cycles, over every window but the first (that one is on-loading): a link's stall is
  the sum of what its windows exceed, its slack what they leave unused. Links sharing a physical port
  combine as in ZigZag (stalls add; slack offsets only the overlap of their windows, ZigZag's MUW union);
  ports work in parallel, so the worst port counts (`stall_slack_comb`);
- on-loading: per port, ZigZag's first windows, shortened by what the port can load during computation
  (`calc_loading_single_port`), combined over levels and the two inputs (`calc_onloading_combined`);
- off-loading: the outputs' last windows up the hierarchy, summed over levels (`calc_offloading_combined`);
- drain: one cycle per unit along each systolic array dimension but the first (`systolic_drain_cycle`).
ZigZag takes a window's transfer as the whole tile; here it is the exact transfer of that window (the mean
over a link's transfer events, a link's stall or slack rounded up: windows of equal data give ZigZag's
number exactly). So with both
switches off and counts equal to ZigZag's the latency is ZigZag's, and it depends on the loop order where
ZigZag's does (periods, allowed windows, double buffering). With the filter, a link's windows are its loop
windows times the executed fraction of steps (rounded up): skipped tiles take no time and move nothing.

`latency_bound` keeps the earlier throughput bound (busiest port's words beyond the compute cycles, plus
first tiles and last outputs), which ignores the loop order.
"""

from __future__ import annotations

from math import ceil, lcm
from typing import NamedTuple

import numpy as np

from zz_event.engine.result import LatencyParts
from zz_event.engine.windows import Link, Structure, structure
from zz_event.memo import lru_cache
from zz_event.model.nest import LoopNest

__all__ = ["LatencyParts", "LinkSums", "Transfers", "latency_bound", "latency_parts", "link_sums", "links_of"]

# What the model reads of a link's transfer events i (weights w_i, cycles c_i = ceil(bits_i / the link's
# bandwidth)): (events, bits, busy, excess) = (sum w_i, sum bits_i w_i, sum c_i w_i, sum max(c_i - allowed,
# 0) w_i). The dense path sums its event arrays (`link_sums`), the masked path's compiled pass sums them
# per sample (`walk.py`).
LinkSums = tuple[int, int, int, int]


class _Activity(NamedTuple):
    link: Link
    windows: int
    stall_or_slack: int  # over every window but the first: cycles beyond the allowed ones, else minus the unused
    window_sum: int  # allowed cycles over every window but the first (ZigZag's MUW)
    real: int  # cycles of one window (the mean over the link's events, rounded up)
    required_bw: int  # bits per cycle the link needs on average (ZigZag's `REQ_MEM_BW_AVER`)


def latency_parts(nest: LoopNest, compute: int, filtered: bool,
                  sums: dict[tuple[str, int, str], LinkSums]) -> LatencyParts:
    """`sums`: per link (operand, level, direction) its `LinkSums`; links without an entry move nothing."""
    s = _structure(nest)
    acts = [a for a in (_activity(link, sums, compute, s.total_cycles, filtered) for link in s.links) if a]
    stall = _stall(acts)
    loads = _loads(acts, s, compute + stall)
    return LatencyParts(ceil(_onload(nest, loads)), stall, ceil(_offload(nest, loads)), _drain(nest))


@lru_cache(maxsize=8)
def _structure(nest: LoopNest) -> Structure:
    """`structure(nest)`, once per nest: a search evaluates each mapping under several switch settings."""
    return structure(nest)


def links_of(nest: LoopNest) -> dict[tuple[str, int, str], Link]:
    """The nest's links by (operand, level, direction)."""
    return {(link.op, link.level, link.direction): link for link in _structure(nest).links}


def link_sums(link: Link, bits: np.ndarray, weight: np.ndarray) -> LinkSums:
    """`LinkSums` of the transfer events `bits` (each standing for `weight` events) through `link`."""
    if len(bits) <= _SHORT:  # the usual case: a few entries, plain ints are faster than numpy
        bw, allowed = link.bw, link.allowed
        events = total = busy = excess = 0
        for b, w in zip(bits.tolist(), weight.tolist()):
            c = -(-b // bw)
            events += w
            total += b * w
            busy += c * w
            if c > allowed:
                excess += (c - allowed) * w
        return events, total, busy, excess
    cycles = -(-bits // link.bw)
    return (int(weight.sum()), int(np.dot(bits, weight)), int(np.dot(cycles, weight)),
            int(np.dot(np.maximum(cycles - link.allowed, 0), weight)))


class Transfers:
    """The transfer events of one operand at one level and direction (the dense path): bits each, and how
    many events each entry stands for. Memoised events serve many mappings whose links differ only in
    their windows: their `LinkSums` are kept per (bandwidth, allowed cycles), all that `link_sums` reads.
    Built for every new boundary, read only when a latency is (`result.LazyLatency`): what moves nothing
    is left out on first read."""

    __slots__ = ("_moving", "_sums", "bits", "direction", "level", "weight")

    def __init__(self, level: int, direction: str, bits: np.ndarray, weight: np.ndarray) -> None:
        self.level, self.direction, self.bits, self.weight = level, direction, bits, weight
        self._moving: tuple[np.ndarray, np.ndarray] | None = None
        self._sums: dict[tuple[int, int], LinkSums] = {}

    def sums(self, link: Link) -> LinkSums:
        key = (link.bw, link.allowed)
        found = self._sums.get(key)
        if found is None:
            if self._moving is None:
                bits, weight = self.bits, self.weight
                moved = (bits > 0) & (weight > 0)  # an event that moves nothing is no transfer (and no window)
                self._moving = (bits, weight) if moved.all() else (bits[moved], weight[moved])
            found = self._sums[key] = link_sums(link, *self._moving)
        return found


def _activity(link: Link, sums: dict, compute: int, total: int, filtered: bool) -> _Activity | None:
    events, bits, busy, excess = sums.get((link.op, link.level, link.direction), _NONE)
    if not events:
        return None
    windows = link.count if not filtered or total == 0 else -(-link.count * compute // total)
    later = max(windows - 1, 0)
    stall = -(-excess * later // events)  # per link rounded up: exact whenever its windows move equal data
    muw = link.allowed * later
    ss = stall if stall > 0 else -(-busy * later // events) - muw
    required = bits // (events * link.period)
    return _Activity(link, windows, ss, muw, -(-busy // events), required)


_SHORT = 16
_NONE = (0, 0, 0, 0)


def _stall(acts: list[_Activity]) -> int:
    """`combine_data_transfer_rate_per_physical_port`: per port, stalls add and slack offsets only where
    the links' windows overlap; the worst port counts."""
    per_port: dict[str, list[_Activity]] = {}
    for a in acts:
        per_port.setdefault(a.link.port, []).append(a)
    worst = 0
    for port_acts in per_port.values():
        if len(port_acts) == 1:
            comb = port_acts[0].stall_or_slack
        else:
            positive = sum(a.stall_or_slack for a in port_acts if a.stall_or_slack > 0)
            negative = sum(a.stall_or_slack for a in port_acts if a.stall_or_slack <= 0)
            windows = sum(a.window_sum for a in port_acts)
            comb = positive + max(0, negative + windows - _window_union(port_acts))
        worst = max(worst, comb)
    return worst


def _window_union(acts: list[_Activity]) -> int:
    """ZigZag's `__calc_mem_updating_window_union`: how many cycles some link's window covers. ZigZag lays
    the windows out over its longest period; over the periods' least common multiple here, which is that
    period whenever the others divide it (always in ZigZag's mappings) and never fails otherwise."""
    for a in acts:
        if a.link.period == a.link.allowed:
            return a.link.period * a.windows
    longest = max(acts, key=lambda a: a.link.period)
    span = lcm(*(a.link.period for a in acts))
    used = np.zeros(span, dtype=bool)
    for a in acts:
        used.reshape(-1, a.link.period)[:, : a.link.allowed] = True
    return int(used.sum()) * longest.windows * longest.link.period // span


def _loads(acts: list[_Activity], s: Structure, computation: int) -> dict[tuple[str, int, str], tuple[float, bool]]:
    """`calc_loading_single_port`: per port, the first window of every link (a link with one window loads
    all its data before computing, less what the port's spare bandwidth moves during computation)."""
    per_port: dict[str, list[_Activity]] = {}
    for a in acts:
        if a.link.op == "O" and a.link.direction in ("rd_out_to_low", "wr_in_by_high"):
            continue  # partial sums flowing down are not part of the final off-loading
        per_port.setdefault(a.link.port, []).append(a)
    out = {}
    for port, port_acts in per_port.items():
        shared = port in s.shared_input_ports
        once = [a for a in port_acts if a.windows == 1]
        repeated = [a for a in port_acts if a.windows > 1]
        bw = port_acts[0].link.bw
        required = sum(a.required_bw for a in repeated)
        surplus = max(0.0, (bw - required) / bw * computation)
        remaining = _reduce_ordered([float(a.real) for a in once],
                                    [float(ceil(s.first_tile_bits[a.link.op] / bw)) for a in once], surplus)
        for a, rem in zip(once, remaining):
            out[(a.link.op, a.link.level, a.link.direction)] = (rem, shared)
        for a in repeated:
            out[(a.link.op, a.link.level, a.link.direction)] = (float(a.real), shared)
    return out


def _reduce_ordered(c: list[float], m: list[float], s: float) -> list[float]:
    """ZigZag's `reduce_ordered`: shorten the longest first, each down to its minimum, by `s` in all."""
    c = list(c)
    for i in sorted(range(len(c)), key=lambda i: c[i], reverse=True):
        if s <= 0:
            break
        cut = min(max(0.0, c[i] - m[i]), s)
        c[i] -= cut
        s -= cut
    return c


def _onload(nest: LoopNest, loads) -> float:
    """`calc_onloading_combined`: per input and level pair the slower side; inputs whose ports are
    separate load in parallel, shared ports in series."""
    individual, half, shared = {"W": 0.0, "I": 0.0}, {"W": 0.0, "I": 0.0}, {"W": 0.0, "I": 0.0}
    for op in ("W", "I"):
        for lv in range(len(nest.levels[op]) - 1):
            c1, s1 = loads.get((op, lv, "wr_in_by_high"), (0.0, False))
            c2, s2 = loads.get((op, lv + 1, "rd_out_to_low"), (0.0, False))
            longest = max(c1, c2)
            if not s1 and not s2:
                individual[op] += longest
            elif s1 and s2:
                shared[op] += longest
            else:
                half[op] = longest  # ZigZag assigns, not adds: kept as it is
    both = [shared[a] + max(shared[b] + half[b] + individual[b], half[a] + individual[a])
            for a, b in (("W", "I"), ("I", "W"))]
    return min(both)


def _offload(nest: LoopNest, loads) -> float:
    return sum(max(loads.get(("O", lv, "rd_out_to_high"), (0.0, False))[0],
                   loads.get(("O", lv + 1, "wr_in_by_low"), (0.0, False))[0])
               for lv in range(len(nest.levels["O"]) - 1))


def _drain(nest: LoopNest) -> int:
    per_dim: dict[str, int] = {}
    for sl in nest.spatial:
        per_dim[sl.array_dim] = per_dim.get(sl.array_dim, 1) * sl.size
    return sum(size - 1 for dim, size in per_dim.items() if dim in nest.systolic)


def latency_bound(compute: int, port_words: dict[str, int], onload: dict[str, int], offload: int) -> int:
    """The throughput bound: compute, plus the slowest input's first tiles, plus the busiest port's words
    beyond the compute cycles, plus the outputs left below the top at the end."""
    busiest = max(port_words.values(), default=0)
    return compute + max(onload.values(), default=0) + max(0, busiest - compute) + offload
