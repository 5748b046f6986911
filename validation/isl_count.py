"""A third, polyhedral count of data motion with islpy (the timestamp recipe of seeds/004).

The engine counts analytically, the simulator replays every MAC; this module states the residency rules
(zz_event/engine/tiles.py, rules 1-4) as integer sets and relations and lets isl do the set algebra:

1. the iteration set ``IS[b, g, k, c, fy, fx, iy, ix]`` (every dimension index in range; with the boundary
   filter only the valid MACs ``exists oy: iy + pad - dil*fy = stride*oy and 0 <= oy < OY``, same in x);
2. per grouping (a level owning the temporal loops [0, top) whose instance serves the array dimensions
   ``served``) a map from iterations to ``Tile[instance digits, temporal digits above top]``: the digits
   of a dimension split into several loops are ``floor(idx / radix) mod size`` (quasi-affine; the nest's
   mixed-radix convention: spatial loops least significant, then temporal inner to outer), the instance
   is the spatial digits on array dimensions the level does not serve, the temporal digits are written
   outer to inner so that lexicographic order is time order;
3. needed(t) = the operand elements used by the (executed) iterations of tile t, the executed tiles are
   the range of the tile map restricted to executed iterations (empty tiles are skipped, rule 2);
4. prev(t) = lexmax of the executed tiles of the same instance that are lexicographically smaller;
5. entries = the relation needed(t) - needed(prev(t)) (an isl map difference), counted exactly by isl
   (``Set.count_val`` on the wrapped relation: the number of (tile, element) pairs).

Groupings and directions (transfers.py / rules.py): the register bank ``(0, served_0)`` gives level 0's
``rd_out_to_low``; at each boundary j/j+1 the child ``(top_j, served_j)`` gives level j's
``wr_in_by_high``, and level j+1's ``rd_out_to_low`` is, per parent instance and transition, the union of
its children's entries (design.md, "Several processing elements"): the child entries related to the parent
instances that share a PE with the child (``PT[parent instance, tile]``), counted as distinct pairs.
W and I never move up: their ``wr_in_by_low`` and ``rd_out_to_high`` are 0, and the top level's
``wr_in_by_high`` (traffic with the outside world) is not counted.

Scope (what isl expresses cleanly here, and what tests/test_isl_count.py checks): input operands W and I
only (outputs need readiness, i.e. "touched before / never again", which is not a previous-tile
difference, so readiness does not change these counts); element counts only (no words: words are
rounded per transfer event, not a set property); input-centric layers (I indexed by (iy, ix) directly;
output-centric layers index inputs through padding, left out); stride, asymmetric padding, dilation,
groups, any number of memory levels, filter on and off, loops that overshoot a dimension's size (the
extra indices are no iterations). The construction itself accepts any spatial unrolling, but it is only
checked on layers with at most one spatially unrolled dimension. Counting enumerates points inside isl,
so it is meant for small layers (a few thousand iterations).
"""

from __future__ import annotations

import islpy as isl

from zz_event.model.nest import LoopNest
from zz_event.model.vocabulary import DIRECTIONS

__all__ = ["IslScopeError", "entries", "in_scope", "isl_counts", "iteration_set"]

DIMS = ("B", "G", "K", "C", "FY", "FX", "IY", "IX")
VARS = {d: d.lower() for d in DIMS}
IS_TUPLE = "IS[" + ", ".join(VARS[d] for d in DIMS) + "]"
OPERAND_TUPLE = {"W": "W[g, k, c, fy, fx]", "I": "I[b, g, c, iy, ix]"}
INPUT_OPERANDS = ("W", "I")


class IslScopeError(ValueError):
    """The nest is outside what this module counts (see the module docstring)."""


def in_scope(nest: LoopNest) -> bool:
    """Input-centric layers with at most one spatially unrolled dimension (the checked scope)."""
    return nest.centric == "input" and len({sl.dim for sl in nest.spatial}) <= 1


def _digits(nest: LoopNest) -> tuple[dict[tuple[str, int], str], dict[tuple[str, int], str]]:
    """Quasi-affine expression of every loop digit in the dimension indices: (spatial, temporal)."""
    radix = dict.fromkeys(DIMS, 1)
    spatial, temporal = {}, {}

    def expr(dim: str, size: int) -> str:
        v, r = VARS[dim], radix[dim]
        e = f"({v} mod {size})" if r == 1 else f"(floor({v}/{r}) mod {size})"
        radix[dim] *= size
        return e

    for i, sl in enumerate(nest.spatial):
        spatial[("s", i)] = expr(sl.dim, sl.size)
    for i, lp in enumerate(nest.temporal):
        temporal[("t", i)] = expr(lp.dim, lp.size)
    return spatial, temporal


def iteration_set(nest: LoopNest, filtered: bool) -> isl.Set:
    """The executed iterations: every index in range; with the filter, only valid MACs."""
    g = nest.geometry
    cons = [f"0 <= {VARS[d]} < {nest.dim_size(d)}" for d in DIMS]
    if filtered:
        for axis, iv, fv, ov in ((g.y, "iy", "fy", "oy"), (g.x, "ix", "fx", "ox")):
            cons.append(f"(exists {ov} : {iv} + {axis.pad_before} - {axis.dilation}*{fv} = {axis.stride}*{ov}"
                        f" and 0 <= {ov} < {axis.out})")
    return isl.Set("{ " + IS_TUPLE + " : " + " and ".join(cons) + " }")


def _tile_map(nest: LoopNest, top: int, served: frozenset[str]) -> tuple[isl.Map, int]:
    """Iterations -> Tile[instance digits, temporal digits top..n-1 outer to inner]; also the instance width."""
    spatial, temporal = _digits(nest)
    inst = [spatial[("s", i)] for i, sl in enumerate(nest.spatial) if sl.array_dim not in served]
    outer = [temporal[("t", i)] for i in reversed(range(top, len(nest.temporal)))]
    coords = inst + outer
    names = [f"x{n}" for n in range(len(coords))]
    cons = [f"{n} = {e}" for n, e in zip(names, coords)]
    body = f"{IS_TUPLE} -> Tile[{', '.join(names)}]"
    text = "{ " + body + (" : " + " and ".join(cons) if cons else "") + " }"
    return isl.Map(text), len(inst)


def _earlier_same_instance(width: int, n_inst: int) -> isl.Map:
    """{ t -> p : p has t's instance digits and p's temporal digits are lexicographically smaller }."""
    a = [f"a{n}" for n in range(width)]
    b = [f"b{n}" for n in range(width)]
    same = [f"{b[n]} = {a[n]}" for n in range(n_inst)]
    lex = []
    for k in range(n_inst, width):
        eq = [f"{b[n]} = {a[n]}" for n in range(n_inst, k)]
        lex.append("(" + " and ".join(eq + [f"{b[k]} < {a[k]}"]) + ")")
    if not lex:  # a single tile per instance: nothing is earlier
        return isl.Map(f"{{ Tile[{', '.join(a)}] -> Tile[{', '.join(b)}] : 1 = 0 }}")
    cond = " and ".join(same + ["(" + " or ".join(lex) + ")"])
    return isl.Map(f"{{ Tile[{', '.join(a)}] -> Tile[{', '.join(b)}] : {cond} }}")


def _child_to_parent(nest: LoopNest, top: int, child: frozenset[str], parent: frozenset[str]) -> isl.Map:
    """{ Tile[child instance, t] -> PT[parent instance, t] : the two instances share a PE }."""
    s = [f"s{i}" for i in range(len(nest.spatial))]
    n_t = len(nest.temporal) - top
    t = [f"t{i}" for i in range(n_t)]
    c = [s[i] for i, sl in enumerate(nest.spatial) if sl.array_dim not in child]
    p = [s[i] for i, sl in enumerate(nest.spatial) if sl.array_dim not in parent]
    a = [f"a{i}" for i in range(len(c) + n_t)]
    b = [f"b{i}" for i in range(len(p) + n_t)]
    cons = [f"0 <= {v} < {sl.size}" for v, sl in zip(s, nest.spatial)]
    cons += [f"{x} = {y}" for x, y in zip(a, c + t)] + [f"{x} = {y}" for x, y in zip(b, p + t)]
    ex = f"exists {', '.join(s + t)} : " if s or t else ""
    return isl.Map(f"{{ Tile[{', '.join(a)}] -> PT[{', '.join(b)}] : {ex}{' and '.join(cons) or '1 = 1'} }}")


def entries(nest: LoopNest, op: str, top: int, served: frozenset[str], filtered: bool,
            parent: frozenset[str] | None = None) -> int:
    """Sum over executed tiles (all instances) of |needed(t) - needed(prev(t))| for one grouping; with
    `parent`, the sum over (parent instance, tile) of the union of its children's entries instead."""
    executed = iteration_set(nest, filtered)
    access = isl.Map("{ " + IS_TUPLE + " -> " + OPERAND_TUPLE[op] + " }").intersect_domain(executed)
    tiles, n_inst = _tile_map(nest, top, served)
    tiles = tiles.intersect_domain(executed)
    needed = tiles.reverse().apply_range(access)  # Tile -> elements
    ran = tiles.range()  # executed tiles (a tile without a MAC has no iteration here)
    width = ran.dim(isl.dim_type.set)
    prev = _earlier_same_instance(width, n_inst).intersect_domain(ran).intersect_range(ran).lexmax()
    held = prev.apply_range(needed)  # Tile -> elements of its previous executed tile
    new = needed.subtract(held)
    if parent is not None:  # one read per (parent instance, transition, element): a multicast
        new = _child_to_parent(nest, top, served, parent).reverse().apply_range(new)
    return int(new.wrap().count_val().to_python())


def isl_counts(nest: LoopNest, filtered: bool) -> dict[str, list[dict[str, int]]]:
    """Element transfers of W and I per level and direction, in the engine's/simulator's shape."""
    if nest.centric != "input":
        raise IslScopeError("only input-centric layers are counted with isl")
    out: dict[str, list[dict[str, int]]] = {}
    for op in INPUT_OPERANDS:
        levels = nest.levels[op]
        per = [dict.fromkeys(DIRECTIONS, 0) for _ in levels]
        per[0]["rd_out_to_low"] = entries(nest, op, 0, levels[0].served, filtered)
        for j in range(len(levels) - 1):
            per[j]["wr_in_by_high"] = entries(nest, op, levels[j].top, levels[j].served, filtered)
            per[j + 1]["rd_out_to_low"] = entries(nest, op, levels[j].top, levels[j].served, filtered,
                                                  levels[j + 1].served)
        out[op] = per
    return out
