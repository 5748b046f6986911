"""Conservation at every boundary, per transition (design.md, "Several processing elements"), for tiny layers.

From plain Python sets (one MAC at a time, as `validation.naive`) this lists, for every boundary j/j+1 of
every operand and every transition, what each child instance of level j takes in from above and what it
sends up. The rule then fixes both sides of the boundary:
- the child level's `wr_in_by_high` (`rd_out_to_high`) is the sum over children of their intakes (sends);
- the parent's `rd_out_to_low` is, per transition and parent instance, the size of the union of its
  children's intakes (one read serves every child needing the element then), and its `wr_in_by_low` the
  size of the union of what they send up at that moment (copies sent at different moments count apart).
`boundary_expectations` returns these four totals per boundary; `conservation_errors` compares a result's
element counts with them. A count that treats the children as one memory holding the union of their tiles
(what the engine and simulator did before issue #15) fails it whenever an element moves between PEs.
"""

from __future__ import annotations

from collections import defaultdict
from math import prod

from validation.naive import _digits, _instance, _mac
from zz_event.model.nest import LoopNest

__all__ = ["boundary_expectations", "conservation_errors", "shares_outputs_across_pes"]


def _child_tiles(nest: LoopNest, filtered: bool, op: str, top: int, served: frozenset[str]):
    """{child instance: [(tile, set of elements)] in time order}, and {child: step of first touch per
    output element}."""
    t_sizes, s_sizes = [lp.size for lp in nest.temporal], [sl.size for sl in nest.spatial]
    dims = ("B", "G", "K", "C", *nest.position_dims, "FY", "FX")
    digits = {d: _digits(nest, d) for d in dims}
    inner = prod(t_sizes[:top])
    tiles: dict = defaultdict(lambda: defaultdict(set))
    for step in range(prod(t_sizes)):
        t_dig = [(step // prod(t_sizes[:t])) % t_sizes[t] for t in range(len(t_sizes))]
        for pe in range(prod(s_sizes)):
            s_dig = [(pe // prod(s_sizes[:s])) % s_sizes[s] for s in range(len(s_sizes))]
            idx = {d: sum((t_dig[i] if kind == "t" else s_dig[i]) * w for kind, i, _, w in digits[d]) for d in dims}
            hit = _mac(nest, filtered, idx)
            if hit is not None:
                tiles[_instance(nest, s_dig, served)][step // inner].add(hit[0][op])
    return {c: sorted(per.items()) for c, per in tiles.items()}


def _flows(seq, op: str, readiness: bool, psum: bool, end: int):
    """One child's (moment, intake set) and (moment, sent-up set) lists."""
    takes, sends, held, seen = [], [], set(), set()
    for tile, T in seq:
        new = T - held
        if op != "O":
            takes.append((tile, new))
        elif readiness:
            takes.append((tile, new & seen))
        elif psum:
            takes.append((tile, new))
        if held:
            sends.append((tile, held - T))
        seen |= T
        held = T
    sends.append((end, held))
    return takes, sends if op == "O" else []


def boundary_expectations(nest: LoopNest, filtered: bool, readiness: bool) -> dict[tuple[str, int], dict[str, int]]:
    """Per (operand, j): the child's intake and sends summed, and the parent's per-transition unions."""
    out = {}
    s_sizes = [sl.size for sl in nest.spatial]
    pes = [[(pe // prod(s_sizes[:s])) % s_sizes[s] for s in range(len(s_sizes))] for pe in range(prod(s_sizes))]
    end = prod(lp.size for lp in nest.temporal)
    for op, levels in nest.levels.items():
        for j in range(len(levels) - 1):
            child, parent = levels[j], levels[j + 1]
            parents_of = defaultdict(set)
            for d in pes:
                parents_of[_instance(nest, d, child.served)].add(_instance(nest, d, parent.served))
            down, up = defaultdict(set), defaultdict(set)
            totals = dict.fromkeys(("child_in", "child_out", "parent_out", "parent_in"), 0)
            for c, seq in _child_tiles(nest, filtered, op, child.top, child.served).items():
                takes, sends = _flows(seq, op, readiness, parent.psum, end)
                totals["child_in"] += sum(len(s) for _, s in takes)
                totals["child_out"] += sum(len(s) for _, s in sends)
                for p in parents_of[c]:
                    for moment, s in takes:
                        down[(p, moment)] |= s
                    for moment, s in sends:
                        up[(p, moment)] |= s
            totals["parent_out"] = sum(len(s) for s in down.values())
            totals["parent_in"] = sum(len(s) for s in up.values())
            out[(op, j)] = totals
    return out


def conservation_errors(nest: LoopNest, result, filtered: bool, readiness: bool) -> list[str]:
    """Where `result` (an engine or simulator result, element counts per level) breaks conservation."""
    errors = []
    for (op, j), want in boundary_expectations(nest, filtered, readiness).items():
        lv_child, lv_parent = result.levels[op][j].elements, result.levels[op][j + 1].elements
        got = {"child_in": lv_child["wr_in_by_high"], "parent_out": lv_parent["rd_out_to_low"]}
        if op == "O":
            got |= {"child_out": lv_child["rd_out_to_high"], "parent_in": lv_parent["wr_in_by_low"]}
        errors += [f"{op} boundary {j}/{j + 1}: {k} is {v}, conservation says {want[k]}"
                   for k, v in got.items() if v != want[k]]
    return errors


def shares_outputs_across_pes(nest: LoopNest, filtered: bool = True) -> bool:
    """Whether some output element receives partial sums from two PEs at different steps (a halo), so
    that per-PE output registers hold copies of it at different moments."""
    per_pe = _child_tiles(nest, filtered, "O", 0, frozenset())
    steps_of = defaultdict(set)
    for pe, seq in per_pe.items():
        for step, elems in seq:
            for e in elems:
                steps_of[e].add((pe, step))
    return any(len({pe for pe, _ in s}) > 1 and len({st for _, st in s}) > 1 for s in steps_of.values())
