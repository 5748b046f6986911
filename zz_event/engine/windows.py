"""ZigZag 3.9.1's memory-updating windows, read off a `LoopNest`: what each transfer link may take per window.

A link is one operand's transfers in one direction at one memory level (ZigZag's `DataMovePattern` entry).
Its windows are the tile changes of the child side of the boundary: one per `period` cycles, `count` over
the layer; the data of a window must arrive within `allowed` cycles (the whole period if the child level
can double-buffer, else the period over its top irrelevant loops). These depend on the loop order only,
never on the counts, and follow ZigZag's `TemporalMapping` (stationary loops merged down, top ir/r loops),
`Mapping.calc_req_mem_bw_and_data_transfer_rate` and `CostModelEvaluation.calc_double_buffer_flag`, here
reimplemented on the engine's nest (the engine does not import ZigZag).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import NamedTuple

from zz_event.model.nest import LoopNest
from zz_event.model.vocabulary import OPERANDS

__all__ = ["Link", "Structure", "structure"]

# ZigZag's relevant and irrelevant dimensions per operand and layer kind; the rest are partially relevant.
_RELEVANT = {
    "input": {"W": {"G", "K", "C", "FY", "FX"}, "I": {"G", "B", "C", "IY", "IX"}, "O": {"G", "B", "K"}},
    "output": {"W": {"G", "K", "C", "FY", "FX"}, "I": {"G", "B", "C"}, "O": {"G", "B", "K", "OY", "OX"}},
}
_IRRELEVANT = {
    "input": {"W": {"B", "IY", "IX"}, "I": {"K", "FY", "FX"}, "O": {"C"}},
    "output": {"W": {"B", "OY", "OX"}, "I": {"K"}, "O": {"C", "FY", "FX"}},
}
_ZIGZAG_ORDER = ("O", "W", "I")  # ZigZag's layer_operands: the double-buffer test runs in this order


class Link(NamedTuple):  # a named tuple: some fifteen are built per mapping, a frozen dataclass is slower
    op: str
    level: int
    direction: str
    port: str
    bw: int  # the port's maximum bandwidth, bits per cycle
    period: int
    count: int
    allowed: int


@dataclass(frozen=True)
class Structure:
    """The loop-order part of ZigZag's latency for one nest."""

    links: tuple[Link, ...]
    total_cycles: int  # ZigZag's `temporal_mapping.total_cycle`
    first_tile_bits: dict[str, int]  # per operand: the tile one innermost instance holds (onload's minimum)
    shared_input_ports: frozenset[str]  # ports serving both W and I (`port_is_shared_by_two_input_operands`)


def _stationary(levels: list[list[tuple[str, int]]], ir: set[str]) -> tuple[list[list[tuple[str, int]]], int]:
    """`TemporalMapping.innermost_stationary_loop_merge_down`: each level's bottom irrelevant loops join
    the level below, until nothing moves; those of level 0 make the MAC level's stationary cycles."""
    previous = [list(loops) for loops in levels]
    while True:
        current = [list(loops) for loops in previous]
        merged: list[list[tuple[str, int]]] = [[] for _ in previous]
        mac = 1
        for lv, loops in enumerate(previous):
            for loop in loops:
                if loop[0] not in ir:
                    merged[lv].extend(current[lv])
                    break
                current[lv].remove(loop)
                if lv == 0:
                    mac *= loop[1]
                    merged[0].append(loop)
                else:
                    merged[lv - 1].append(loop)
        if merged == previous:
            return merged, mac
        previous = merged


def _top(loops: list[tuple[str, int]], dims: set[str]) -> int:
    size = 1
    for dim, s in reversed(loops):
        if dim not in dims:
            break
        size *= s
    return size


def _tile(nest: LoopNest, op: str, temporal_size: dict[str, int], served: frozenset[str]) -> int:
    """ZigZag's unrolled data size: relevant loop products, partially relevant pairs as their extent.
    `temporal_size`: per dimension, the product of the temporal loops at or below the level."""
    size = dict(temporal_size)
    for sl in nest.spatial:
        if sl.array_dim in served:
            size[sl.dim] = size.get(sl.dim, 1) * sl.size
    relevant = _RELEVANT[nest.centric][op]
    elems = prod(size.get(d, 1) for d in relevant)
    pr_pos = {"input": ("IY", "IX"), "output": ("OY", "OX")}[nest.centric]
    if (op == "O") == (nest.centric == "input"):
        for axis, pos, (a, b) in zip("YX", pr_pos, _coefficients(nest)):
            elems *= a * (size.get(pos, 1) - 1) + b * (size.get("F" + axis, 1) - 1) + 1
    return elems


def _coefficients(nest: LoopNest) -> tuple[tuple[int, int], tuple[int, int]]:
    if nest.centric == "input":
        return nest.dense_relation["Y"], nest.dense_relation["X"]
    g = nest.geometry
    return (g.y.stride, g.y.dilation), (g.x.stride, g.x.dilation)


def structure(nest: LoopNest) -> Structure:
    flat = nest.loop_pairs
    per_op = {}
    for op in OPERANDS:
        starts = [0] + [lv.top for lv in nest.levels[op][:-1]]
        levels = [flat[s:lv.top] for s, lv in zip(starts, nest.levels[op])]
        levels[-1] = flat[starts[-1]:]  # the top level owns every loop left
        per_op[op] = _stationary(levels, _IRRELEVANT[nest.centric][op])
    total = prod(s for _, s in flat)
    tiles, top_ir, precision = {}, {}, {}
    for op in OPERANDS:
        st, _mac = per_op[op]
        ir, r = _IRRELEVANT[nest.centric][op], _RELEVANT[nest.centric][op]
        levels = nest.levels[op]
        # arch level lv+1 is memory level lv; ZigZag's precision of an output arch level reads the psum flag
        # of the memory level with the same index (its list is shifted by one; reproduced as it is).
        prec = [_precision(nest, op, lv) for lv in range(len(levels) + 1)]
        precision[op] = prec
        tiles[op] = []
        below: dict[str, int] = {}  # per dimension, the loops at or below level lv
        for lv, level in enumerate(levels):
            for dim, size in st[lv]:
                below[dim] = below.get(dim, 1) * size
            tiles[op].append(_tile(nest, op, below, level.served))
        top_ir[op] = [_top(st[lv], ir) for lv in range(len(levels))]
        per_op[op] = (*per_op[op], [(tiles[op][lv] * prec[lv + 1]) // _top(st[lv], r) for lv in range(len(levels))])
    double = _double_buffered(nest, per_op)
    links = []
    for op in OPERANDS:
        st, mac, _eff = per_op[op]
        cabl, cycles = [], 1
        for loops in st:
            cycles *= prod(size for _, size in loops)
            cabl.append(cycles)
        links += _links(nest, op, cabl, 1 if op == "O" else mac, total, double[op], top_ir[op])
    first = {op: tiles[op][0] * precision[op][1] for op in OPERANDS}
    users: dict[str, set[str]] = {}
    for op in ("W", "I"):
        for level in nest.levels[op]:
            for port in level.ports.values():
                users.setdefault(port.name, set()).add(op)
    shared = frozenset(name for name, ops in users.items() if len(ops) == 2)
    return Structure(tuple(links), total, first, shared)


def _precision(nest: LoopNest, op: str, arch: int) -> int:
    if op != "O":
        return nest.precision[op]
    levels = nest.levels["O"]
    psum = levels[arch].psum if arch < len(levels) else False
    return nest.precision["O"] if psum else nest.precision["O_final"]


def _double_buffered(nest: LoopNest, per_op) -> dict[str, list[bool]]:
    """`calc_double_buffer_flag`: a level double-buffers if its effective data (its tile over its top
    relevant loops) fills at most half of the memory, counting the other operands it shares it with."""
    individual = {op: [_share(bits, lv.size_bits) for bits, lv in zip(per_op[op][2], nest.levels[op])]
                  for op in OPERANDS}
    shared = {op: list(u) for op, u in individual.items()}
    for op in OPERANDS:
        for j, lv in enumerate(nest.levels[op]):
            shared[op][j] = sum(individual[o][k] for o in OPERANDS for k, other in enumerate(nest.levels[o])
                                if other.name == lv.name)
    flags = {}
    for op in _ZIGZAG_ORDER:
        flags[op] = []
        for j, lv in enumerate(nest.levels[op]):
            if shared[op][j] <= 0.5:
                flags[op].append(True)
            elif individual[op][j] <= 1 - shared[op][j]:
                flags[op].append(True)
                for o in OPERANDS:
                    for k, other in enumerate(nest.levels[o]):
                        if other.name == lv.name:
                            shared[o][k] += individual[op][j]
            else:
                flags[op].append(False)
    return flags


def _share(bits: int, size: int) -> float:
    return bits / size if size else 0.0


def _links(nest, op, cabl, mac, total, double, top_ir) -> list[Link]:
    levels = nest.levels[op]
    top = len(levels) - 1

    def allowed(period: int, child: int) -> int:
        if child < 0 or double[child]:
            return period
        return int(period / top_ir[child])

    out = []
    for j, level in enumerate(levels):
        below = mac if j == 0 else cabl[j - 1]
        down = [("rd_out_to_low", below, j - 1)] if op != "O" else [("wr_in_by_low", below, j - 1)]
        if op == "O" and level.psum:
            down.append(("rd_out_to_low", below, j - 1))
        up = []
        if j < top:
            up = [("wr_in_by_high", cabl[j], j)] if op != "O" else [("rd_out_to_high", cabl[j], j)]
            if op == "O" and levels[j + 1].psum:
                up.append(("wr_in_by_high", cabl[j], j))
        for direction, period, child in down + up:
            port = level.ports.get(direction)
            if port is None or period == 0:
                continue
            out.append(Link(op, j, direction, port.name, port.bw_max, period, total // period,
                            allowed(period, child)))
    return out
