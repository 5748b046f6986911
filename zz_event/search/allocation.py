"""Which memory level holds which loops of an ordering: LOMA's memory allocation, computed without ZigZag.

ZigZag's `MemoryAllocator` (zigzag/opt/loma/memory_allocator.py) walks the memory levels bottom-up and
gives each the prefix of every operand's remaining loops that fits it and, over the operands sharing the
level, minimises the accesses to the level above (ties: the last combination tried). It builds loop
objects, dictionaries and ZigZag tensor sizes per ordering, about 1 ms each. `Allocator` reads the hierarchy
once per (layer, accelerator, spatial mapping) and follows the same rule on plain tuples: tensor sizes are
memoised on the dimension sizes they depend on, the rest is integer arithmetic in ZigZag's order (so sums
and comparisons of fractional unrollings agree to the bit). Only ZigZag's default "uneven" mapping type is
followed. `tests/search/test_allocation.py` holds it equal to ZigZag's on every ordering of its layers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import product
from typing import Any

from zigzag.datatypes import Constants
from zigzag.workload.layer_attributes import LayerDimSizes

from zz_event.search.orderings import Lpf

__all__ = ["Allocation", "Allocator"]

# Per operand in the layer's order of memory operands: how many of the ordering's loops each of its
# memory levels holds, innermost first. None: the ordering does not fit the hierarchy (LOMA skips it).
Allocation = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class _Slot:
    """One operand at one memory level."""

    op: int  # index into Allocator.operands
    memory: str  # the memory's name, for the error when nothing fits
    capacity: float
    double_buffered: bool
    top: bool  # the operand's top level: it must take every remaining loop


class Allocator:
    """LOMA's allocation for every ordering of one layer, accelerator and spatial mapping."""

    def __init__(self, accelerator: Any, layer: Any, spatial_mapping: Any) -> None:
        self.layer = layer
        pairs = layer.memory_operand_links.layer_and_mem_ops()
        self.layer_ops = tuple(lop for lop, _ in pairs)
        self.operands = tuple(str(lop) for lop in self.layer_ops)  # ZigZag's order, as its allocation dict
        mem_ops = [mop for _, mop in pairs]
        hierarchy = accelerator.memory_hierarchy
        top = {mop: hierarchy.get_operand_top_level(mop) for mop in mem_ops}
        self.nodes: tuple[tuple[_Slot, ...], ...] = tuple(
            tuple(_Slot(mem_ops.index(mop), node.memory_instance.name, node.memory_instance.size,
                        bool(node.memory_instance.force_double_buffering), node == top[mop])
                  for mop in node.operands if mop in mem_ops)
            for node in hierarchy.topological_sort()
        )
        precision = layer.operand_precision
        self.precision = tuple(precision[lop] for lop in self.layer_ops)
        self.final_precision = precision.final_output_precision
        self.output = next((k for k, mop in enumerate(mem_ops) if mop == Constants.OUTPUT_MEM_OP), None)
        self.ir_dims = frozenset(str(d) for d in layer.loop_relevancy_info.get_ir_layer_dims(layer.output_operand))
        # Per operand and level (0 = below the first memory): the spatial loops that level adds, and the
        # dimensions unrolled at that level or above (what decides the outputs' precision).
        arch = spatial_mapping.arch_level
        self.spatial = tuple(tuple(tuple((str(d), s) for d, s in spatial_mapping.get_unrolling(op=lop, level=lv))
                                   for lv in range(arch[lop])) for lop in self.layer_ops)
        self.spatial_above = tuple(
            tuple(frozenset(str(d) for d, _ in spatial_mapping.get_unrolling_all(lop, lv)) for lv in range(arch[lop]))
            for lop in self.layer_ops)
        self._bits: dict[tuple, float] = {}
        self.overflows: Counter[str] = Counter()  # memory name -> orderings that did not fit there
        self._dims = {str(d): d for d in layer.layer_dim_sizes.data}
        # Where every memory is the top of each operand it holds and none double-buffers (one level per
        # operand), each takes every loop: whether they fit depends on the loops' products per dimension and
        # on the set of dimensions only, not on their order (exact with whole spatial unrollings, whose
        # products are integers in any order). The first ordering's answer is then every ordering's.
        self._order_free = all(slot.top and not slot.double_buffered for slots in self.nodes for slot in slots) and all(
            float(s).is_integer() for per_op in self.spatial for level in per_op for _, s in level)
        self._answer: tuple[Allocation | None, Counter[str]] | None = None

    def allocate(self, ordering: tuple[Lpf, ...]) -> Allocation | None:
        """LOMA's allocation of `ordering` (innermost loop first), or None where LOMA raises that it does not fit."""
        if not self._order_free:
            return self._allocate(ordering)
        if self._answer is None:
            before = Counter(self.overflows)
            allocation = self._allocate(ordering)
            self._answer = allocation, self.overflows - before
        else:
            allocation, overflow = self._answer
            self.overflows.update(overflow)
        return allocation

    def _allocate(self, ordering: tuple[Lpf, ...]) -> Allocation | None:
        n_ops = len(self.operands)
        start = [0] * n_ops  # first unallocated loop of each operand
        # The allocated loops of each operand, spatial ones included, in ZigZag's order.
        allocated: list[list[tuple[str, Any]]] = [list(self.spatial[k][0]) for k in range(n_ops)]
        level = [1] * n_ops
        counts: list[list[int]] = [[] for _ in range(n_ops)]
        suffix = [1] * (len(ordering) + 1)  # iterations of the loops from each position on
        for p in range(len(ordering) - 1, -1, -1):
            suffix[p] = ordering[p][1] * suffix[p + 1]
        for slots in self.nodes:
            if not slots:
                continue
            all_sizes = []
            for slot in slots:
                found = self._size_slices(slot, allocated[slot.op], ordering, start[slot.op], level[slot.op])
                if found is None:
                    self.overflows[slot.memory] += 1
                    return None
                all_sizes.append(found)
            best = self._best_combination(slots, all_sizes, suffix, start)
            if best is None:
                self.overflows[slots[0].memory] += 1
                return None
            for slot, take in zip(slots, best):
                k = slot.op
                allocated[k].extend(ordering[start[k]:start[k] + take])
                counts[k].append(take)
                start[k] += take
                allocated[k].extend(self.spatial[k][level[k]] if level[k] < len(self.spatial[k]) else ())
                if slot.top and start[k] < len(ordering):
                    self.overflows[slot.memory] += 1
                    return None
                level[k] += 1
        return tuple(tuple(c) for c in counts)

    def _precision(self, k: int, remaining: tuple[Lpf, ...], level: int) -> int:
        if k != self.output:
            return self.precision[k]
        above = self.spatial_above[k][level] if level < len(self.spatial_above[k]) else frozenset()
        partial = any(d in self.ir_dims for d in above) or any(d in self.ir_dims for d, _ in remaining)
        return self.precision[k] if partial else self.final_precision

    def _bits_of(self, k: int, per_dim: dict[str, Any], precision: int):
        """`MemoryAllocator.calc_loops_size`: the operand's tensor size, in bits, for the per-dimension
        products of its loops (multiplied in the order of the loops, as ZigZag multiplies them)."""
        key = (k, precision, tuple(per_dim.items()))
        bits = self._bits.get(key)
        if bits is None:
            # A defaultdict, as ZigZag passes: a partly relevant dimension reads its absent parts as 1.
            dim_sizes = LayerDimSizes(defaultdict(lambda: 1, {self._dims[d]: s for d, s in per_dim.items()}))
            bits = self._bits[key] = self.layer.calc_tensor_size(self.layer_ops[k], dim_sizes) * precision
        return bits

    def _size_slices(self, slot: _Slot, allocated, ordering, first: int, level: int) -> list | None:
        """`MemoryAllocator.calc_size_slices`: the bits of the allocated loops plus each prefix of the
        remaining ones, up to the first that overflows; None if even the allocated loops overflow."""
        remaining = ordering[first:]
        k = slot.op
        precision = self._precision(k, remaining, level)
        per_dim: dict[str, Any] = {}
        for dim, size in allocated:
            per_dim[dim] = per_dim.get(dim, 1) * size
        if slot.top and not slot.double_buffered:
            # A top level keeps only the last slice (all the loops). Tensor sizes grow with every loop, so
            # without double buffering all slices fit iff the last does; if it does not, LOMA stops short of
            # it and finds loops left over (or none fit): the ordering does not fit either way.
            for dim, size in remaining:
                per_dim[dim] = per_dim.get(dim, 1) * size
            size = self._bits_of(k, per_dim, precision)
            return None if size > slot.capacity else [None] * len(remaining) + [size]
        if slot.double_buffered:
            every = dict(per_dim)
            for dim, size in remaining:
                every[dim] = every.get(dim, 1) * size
            everything = self._bits_of(k, every, precision)
        sizes = []
        capacity = slot.capacity
        n = len(remaining)
        for i in range(n + 1):
            if i:
                dim, factor = remaining[i - 1]
                per_dim[dim] = per_dim.get(dim, 1) * factor
            size = self._bits_of(k, per_dim, precision)
            if slot.double_buffered and n > i and size < everything:
                size *= 2
            if size > capacity:
                if i == 0:
                    return None
                break
            sizes.append(size)
        return sizes

    @staticmethod
    def _best_combination(slots, all_sizes: list[list], suffix: list[int], start: list[int]) -> list[int] | None:
        """`MemoryAllocator.find_best_loop_combination` for the uneven mapping type: how many loops each
        operand takes at this level (the last of the combinations with the fewest accesses above).
        `suffix[p]`: the product of the ordering's loop sizes from position p on (the iterations above)."""
        offsets = []
        options = []
        for slot, slices in zip(slots, all_sizes):
            if slot.top:
                offsets.append(len(slices) - 1)
                options.append(([slices[-1]], [0]))
            else:
                offsets.append(0)
                first = start[slot.op]
                options.append((slices, [suffix[first + i] * size for i, size in enumerate(slices)]))
        capacity = slots[0].capacity
        if len(options) == 2:  # the common case, without building combinations
            best = _best_pair(options, capacity)
            return None if best is None else [best[0] + offsets[0], best[1] + offsets[1]]
        best, best_accesses, first = None, float("inf"), True
        # itertools.product runs the first operand's index slowest, as ZigZag's mixed-radix counter does.
        for combination in product(*(zip(range(len(slices)), slices, accesses) for slices, accesses in options)):
            size_comb = 0
            accesses_comb = 0
            for _, size, accesses in combination:
                size_comb += size
                accesses_comb += accesses
            if size_comb > capacity:
                if first:  # not even the loops below fit
                    return None
                first = False
                continue
            first = False
            if accesses_comb <= best_accesses:
                best_accesses, best = accesses_comb, combination
        return [c[0] + offset for c, offset in zip(best, offsets)]


def _best_pair(options, capacity) -> tuple[int, int] | None:
    """`_best_combination` for two operands: the same sums, in the same order, in two plain loops."""
    (sizes0, accesses0), (sizes1, accesses1) = options
    best, best_accesses = None, float("inf")
    for i, (size0, acc0) in enumerate(zip(sizes0, accesses0)):
        size0, acc0 = 0 + size0, 0 + acc0  # ZigZag's sums start from 0
        for j, (size1, acc1) in enumerate(zip(sizes1, accesses1)):
            if size0 + size1 > capacity:
                if i == 0 and j == 0:  # not even the loops below fit
                    return None
                continue
            accesses = acc0 + acc1
            if accesses <= best_accesses:
                best_accesses, best = accesses, (i, j)
    return best
