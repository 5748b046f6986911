"""A deliberately plain replay (Python loops and sets, one MAC at a time) for tiny layers.

It checks the vectorised replay of `validation.buffers`: it enumerates every (step, PE), computes each
dimension's index digit by digit, builds every tile of every grouping as a Python set, and walks each
instance's tiles in time order. It produces the same `TileEvents` and goes through the same direction
and word rules (`validation.rules.assemble`), so any difference between the two is a replay bug.
"""

from __future__ import annotations

from collections import defaultdict
from math import prod

import numpy as np

from validation.buffers import TileEvents
from validation.macstream import input_mask
from validation.reference import as_layer_data, random_data
from validation.shared import ParentEvents, Transfers
from zz_event.model.nest import LoopNest

__all__ = ["naive_result", "naive_simulate"]


def _digits(nest: LoopNest, dim: str):
    out, weight = [], 1
    for s, sl in enumerate(nest.spatial):
        if sl.dim == dim:
            out.append(("s", s, sl.size, weight))
            weight *= sl.size
    for t, loop in enumerate(nest.temporal):
        if loop.dim == dim:
            out.append(("t", t, loop.size, weight))
            weight *= loop.size
    return out


def _mac(nest: LoopNest, filtered: bool, idx: dict[str, int]):
    """(counting element per operand, true output, true input) of one iteration, or None if no MAC."""
    g = nest.geometry
    for dim, i in idx.items():
        if i >= nest.dim_size(dim):
            return None
    elems, true = {"W": [], "I": [], "O": []}, {"in": [], "out": []}
    for axis, geo in (("Y", g.y), ("X", g.x)):
        pos, tap = idx[("I" if nest.centric == "input" else "O") + axis], idx["F" + axis]
        if nest.centric == "input":
            shifted = pos + geo.pad_before - geo.dilation * tap
            real = shifted >= 0 and shifted % geo.stride == 0 and shifted // geo.stride < geo.out
            out = shifted // geo.stride
            if filtered and not real:
                return None
            a, b = nest.dense_relation[axis]
            o_count = out if filtered else a * pos + b * tap
            elems["I"].append(pos), elems["W"].append(tap), elems["O"].append(o_count)
            true["in"].append(pos), true["out"].append(out if real else None)
        else:
            inp = pos * geo.stride + tap * geo.dilation - geo.pad_before
            real = 0 <= inp < geo.inp
            if filtered and not real:
                return None
            i_count = inp if filtered else pos * geo.stride + tap * geo.dilation
            elems["I"].append(i_count), elems["W"].append(tap), elems["O"].append(pos)
            true["in"].append(inp if real else None), true["out"].append(pos)
    b, gg, k, c = idx["B"], idx["G"], idx["K"], idx["C"]
    key = {"W": (gg, k, c, *elems["W"]), "I": (b, gg, c, *elems["I"]), "O": (b, gg, k, *elems["O"])}
    t_out = None if None in true["out"] else (b, gg, k, *true["out"])
    t_in = None if None in true["in"] else (b, gg, c, *true["in"])
    return key, t_out, t_in


def _instance(nest: LoopNest, pe_digits: list[int], served: frozenset[str]) -> int:
    """Mixed radix over the spatial loops the memory does not serve (first loop least significant)."""
    inst, radix = 0, 1
    for d, sl in zip(pe_digits, nest.spatial):
        if sl.array_dim not in served:
            inst += d * radix
            radix *= sl.size
    return inst


def naive_simulate(nest: LoopNest, filtered: bool, readiness: bool, mask=None, data=None):
    """Returns (macs, compute_cycles, tile events per (op, top, served), parent events per (op, top, child
    served, parent served), outputs, data). `mask`: events from data, a MAC runs only on a non-zero input."""
    from validation.rules import groupings as _groupings
    from validation.rules import parent_groupings as _parent_groupings

    t_sizes, s_sizes = [lp.size for lp in nest.temporal], [sl.size for sl in nest.spatial]
    dims = ("B", "G", "K", "C", *nest.position_dims, "FY", "FX")
    digits = {d: _digits(nest, d) for d in dims}
    groupings = [(op, top, served) for op, gs in _groupings(nest).items() for top, served in gs]
    tiles = {gr: defaultdict(set) for gr in groupings}
    first, last = {}, {}
    data = random_data(nest.geometry) if data is None else as_layer_data(nest.geometry, data)
    g = nest.geometry
    nonzero = None if mask is None else input_mask(g, mask)
    out = np.zeros((g.B, g.G, g.K, g.OY, g.OX), dtype=np.int64)
    macs = cycles = 0
    for step in range(prod(t_sizes)):
        t_dig = [(step // prod(t_sizes[:t])) % t_sizes[t] for t in range(len(t_sizes))]
        any_mac = False
        for pe in range(prod(s_sizes)):
            s_dig = [(pe // prod(s_sizes[:s])) % s_sizes[s] for s in range(len(s_sizes))]
            idx = {d: sum((t_dig[i] if kind == "t" else s_dig[i]) * w for kind, i, _, w in digits[d]) for d in dims}
            hit = _mac(nest, filtered, idx)
            if hit is None:
                continue
            key, t_out, t_in = hit
            if nonzero is not None and (t_in is None or not nonzero[t_in]):
                continue  # a zero input (or padding) triggers nothing
            macs += 1
            any_mac = True
            if t_out is not None and t_in is not None:
                out[t_out] += data["I"][t_in] * data["W"][key["W"]]
            for op, top, served in groupings:
                tile = step // prod(t_sizes[:top])
                inst = _instance(nest, s_dig, served)
                tiles[(op, top, served)][(inst, tile)].add(key[op])
                first.setdefault((served, inst, key["O"]), step)
                last[(served, inst, key["O"])] = step
        cycles += any_mac
    end = prod(t_sizes)
    events = {gr: _events(nest, gr, tiles[gr], first, last, end, readiness and gr[0] == "O") for gr in groupings}
    parents = {}
    for op, keys in _parent_groupings(nest).items():
        for top, child_served, parent_served in keys:
            pes = [[(pe // prod(s_sizes[:s])) % s_sizes[s] for s in range(len(s_sizes))] for pe in range(prod(s_sizes))]
            pairs = {(_instance(nest, d, child_served), _instance(nest, d, parent_served)) for d in pes}
            n_parents = prod(sl.size for sl in nest.spatial if sl.array_dim not in parent_served)
            n_tiles = end // prod(t_sizes[:top])
            parents[(op, top, child_served, parent_served)] = _parent_events(
                tiles[(op, top, child_served)], pairs, n_parents, n_tiles)
    return macs, cycles, events, parents, out, data


def _parent_events(child_tiles: dict, pairs: set, n_parents: int, n_tiles: int) -> ParentEvents:
    """Per transition and parent instance: the union of its children's entries (and of those the same child
    used before), of their evictions, and at the end of their last tiles (design.md, several PEs)."""
    down, touched, up, flush = (defaultdict(set) for _ in range(4))
    last: dict = {}
    per_child = defaultdict(list)
    for (inst, tile), elems in sorted(child_tiles.items()):
        per_child[inst].append((tile, elems))
    for c, seq in per_child.items():
        mine = [p for cc, p in pairs if cc == c]
        seen, held = set(), None
        for tile, T in seq:
            for p in mine:
                for e in T:
                    last[(p, e)] = max(last.get((p, e), -1), tile)
                down[(p, tile)] |= T - (held or set())
                touched[(p, tile)] |= (T - (held or set())) & seen
                if held is not None:
                    up[(p, tile)] |= held - T
            seen |= T
            held = T
        for p in mine:
            flush[(p, n_tiles)] |= held

    def transfers(sets: dict) -> Transfers:
        rows = sorted((p, t) for (p, t), elems in sets.items() if elems)
        count = [len(sets[r]) for r in rows]
        final = [sum(last[(r[0], e)] < r[1] for e in sets[r]) for r in rows]
        starts = [sum(1 for r in rows if r[0] < p) for p in range(n_parents + 1)]
        return Transfers(np.array(count, dtype=np.int64), np.array(final, dtype=np.int64), np.array(starts))

    return ParentEvents(transfers(down), transfers(touched), transfers(up), transfers(flush))


def _events(nest, grouping, tiles, first, last, end, ready) -> TileEvents:
    inner = prod(lp.size for lp in nest.temporal[: grouping[1]])
    served = grouping[2]
    n_inst = prod(sl.size for sl in nest.spatial if sl.array_dim not in served)
    per_inst = defaultdict(list)
    for (inst, tile), elems in sorted(tiles.items()):
        per_inst[inst].append((tile, elems))
    rows = defaultdict(list)
    starts, flush_size, flush_final = [0], [0] * n_inst, [0] * n_inst
    for inst in range(n_inst):
        f_of = {e: v for (sv, i, e), v in first.items() if sv == served and i == inst}
        l_of = {e: v for (sv, i, e), v in last.items() if sv == served and i == inst}
        held: set = set()
        for tile, T in per_inst[inst]:
            start = tile * inner
            rows["size"].append(len(T))
            rows["entries"].append(len(T - held)), rows["evicted"].append(len(held - T))
            rows["entries_touched"].append(sum(f_of[e] < start for e in T - held) if ready else 0)
            rows["size_touched"].append(sum(f_of[e] < start for e in T) if ready else 0)
            rows["size_final"].append(sum(l_of[e] < start + inner for e in T) if ready else 0)
            rows["evicted_final"].append(sum(l_of[e] < start for e in held - T) if ready else 0)
            held = T
        starts.append(starts[-1] + len(per_inst[inst]))
        flush_size[inst] = len(held)
        flush_final[inst] = sum(l_of[e] < end for e in held) if ready else 0
    fields = ("size", "entries", "evicted", "entries_touched", "size_touched", "size_final", "evicted_final")
    arr = {k: np.array(rows[k], dtype=np.int64) for k in fields}
    return TileEvents(np.array(starts), **arr, flush_size=np.array(flush_size, dtype=np.int64),
                      flush_final=np.array(flush_final, dtype=np.int64))


def naive_result(nest: LoopNest, filtered: bool = True, readiness: bool = True, mask=None, data=None):
    """The plain replay turned into a `SimResult` by the simulator's own transfer rules."""
    from validation.rules import assemble

    macs, cycles, events, parents, out, data = naive_simulate(nest, filtered, readiness, mask, data)
    return assemble(nest, filtered, readiness, macs, cycles, events, parents, out, data)
