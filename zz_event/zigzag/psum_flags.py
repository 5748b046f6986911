"""ZigZag's static partial-sum flags of the output levels (`Mapping.psum_flag`) for an allocation.

The engine follows them where output readiness is off (`MemLevel.psum`). ZigZag derives them from a whole
`Mapping`: the output's loops after its stationarity merge-down (`TemporalMapping`), spatial loops added
per level, partially relevant loops split into relevant and reuse parts (`decouple_pr_loop`); a level
holds partial sums iff some level from its own up has an irrelevant (or reuse) part above 1. The merge is
redone here on tuples; the split is ZigZag's own function, memoised per level contents (within a level
only its multiset matters: a reuse part exceeds 1 somewhere in a level iff the level's cumulative reuse
grows, which does not depend on the order of its loops). `tests/search/test_allocation.py` holds the flags
equal to ZigZag's on every ordering it checks, `tests/zigzag/test_psum_flags.py` on LOMA's temporal mappings of
ZigZag's bundled networks and cores. Used by the search (its allocations) and by the energy bound's gate (a temporal
mapping, before ZigZag builds its CME: `stages.MappingGate`).
"""

from __future__ import annotations

from typing import Any

from zigzag.mapping.mapping_assist_funcs import decouple_pr_loop

__all__ = ["PsumFlags"]


class PsumFlags:
    """`Mapping.psum_flag` of one layer and spatial mapping, for the output's loops per memory level."""

    def __init__(self, layer: Any, spatial_mapping: Any) -> None:
        self.layer = layer
        out = layer.output_operand
        self.out = out
        self.ir = frozenset(str(d) for d in layer.loop_relevancy_info.get_ir_layer_dims(out))
        self.decoupled_ir = layer.pr_decoupled_relevancy_info.get_ir_layer_dims(out)
        self.spatial = spatial_mapping.mapping_dict_origin
        self.dims = {str(d): d for d in layer.layer_dim_sizes.data}
        self._flags: dict[tuple, tuple[bool, ...]] = {}

    def flags(self, levels: tuple[tuple[tuple[str, int], ...], ...]) -> tuple[bool, ...]:
        """The flags (one per output memory level and a final False, as ZigZag lists them) for the output's
        loops per level, innermost first, each level's loops innermost first."""
        merged = self._merge_down(levels)
        key = tuple(tuple(sorted(level)) for level in merged)
        found = self._flags.get(key)
        if found is None:
            found = self._flags[key] = self._compute(key)
        return found

    def _merge_down(self, levels) -> list[list[tuple[str, int]]]:
        """`TemporalMapping.innermost_stationary_loop_merge_down` for the output: irrelevant loops at the
        bottom of a level move to the top of the level below, until nothing moves."""
        previous = [list(level) for level in levels]
        while True:
            merged: list[list] = [[] for _ in previous]
            for j, loops in enumerate(previous):
                for n, loop in enumerate(loops):
                    if loop[0] in self.ir:
                        merged[max(j - 1, 0)].append(loop)
                    else:
                        merged[j].extend(loops[n:])
                        break
            if merged == previous:
                return merged
            previous = merged

    def _compute(self, levels) -> tuple[bool, ...]:
        """`Mapping.get_psum_flags` on the 1s1t combination of the merged levels."""
        spatial = self.spatial
        combined = {op: [list(spatial[op][0])] + [[(self.dims[d], s) for d, s in level] + list(spatial[op][j + 1])
                                                  for j, level in enumerate(levels)]
                    for op in spatial if op == self.out}
        for op in spatial:  # decouple_pr_loop reads every operand with partly relevant loops
            combined.setdefault(op, [list(level) for level in spatial[op]])
        reform = decouple_pr_loop(combined, self.layer)[self.out]
        ir_flag = [any(dim in self.decoupled_ir and size > 1 for dim, size in level) for level in reform]
        arch = len(reform)
        high_to_low = [any(ir_flag[lv:arch]) for lv in reversed(range(arch))]
        return tuple(list(reversed(high_to_low))[1:]) + (False,)
