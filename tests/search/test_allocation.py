"""The search walks LOMA's space: the same orderings as `LomaEngine`, and on every one of them the same memory
allocation as ZigZag's `MemoryAllocator` (or the same verdict that it does not fit) and the same partial-sum flags
as ZigZag's `Mapping`. LeNet-5 conv1 and conv2 on the toy core (one level per operand) and tpu_like (three to four
levels, shared memories), lpf 6; lpf 8 in the slow suite."""

from __future__ import annotations

from functools import cache

import pytest
from conftest import INPUTS
from zigzag.mapping.mapping import Mapping
from zigzag.mapping.temporal_mapping import TemporalMapping
from zigzag.opt.loma.engine import LomaEngine
from zigzag.opt.loma.memory_allocator import MemoryAllocator, MemoryHierarchyTooSmallException, MemoryTooSmallException
from zigzag.opt.loma.multipermute import permutations

from zz_event.search.allocation import Allocator
from zz_event.search.orderings import LoopFactors, loop_factors, ordering_at, orderings
from zz_event.search.run import layer_spaces
from zz_event.zigzag.psum_flags import PsumFlags

LENET = INPUTS / "lenet5" / "lenet5.onnx"
CORES = {"toy": (INPUTS / "toy" / "hardware.yaml", INPUTS / "toy" / "mapping_lenet5.yaml"),
         "tpu_like": (INPUTS / "tpu_like" / "hardware.yaml", INPUTS / "tpu_like" / "mapping.yaml")}
CASES = [(core, layer) for core in CORES for layer in ("conv1", "conv2")]


@cache
def space(core: str, layer: str):
    hardware, mapping = CORES[core]
    (found,) = layer_spaces(str(LENET), str(hardware), str(mapping), layer)
    return found


def loma_orderings(s, lpf: int) -> list[tuple]:
    engine = LomaEngine(accelerator=s.accelerator, layer=s.layer, spatial_mapping=s.spatial_mapping,
                        mapping_type=s.temporal_mapping_type, loma_lpf_limit=lpf)
    engine.temporal_loop_dim_size = engine.get_temporal_loops()
    engine.update_min_lpf_factor(engine.temporal_loop_dim_size)
    engine.get_prime_factors()
    return [tuple(o) for o in permutations(list(engine.lpfs))]


def check_space(s, lpf: int) -> int:
    """Orderings, allocations and flags against LOMA's on every ordering of `s`; how many fit."""
    theirs = loma_orderings(s, lpf)
    lpfs = loop_factors(s.accelerator, s.layer, s.spatial_mapping, lpf)
    ours = list(orderings(lpfs))
    assert [ordering_at(lpfs, place) for place in range(lpfs.count)] == ours
    assert sorted(ours) == sorted(tuple((str(d), int(f)) for d, f in o) for o in theirs)
    assert len(ours) == lpfs.count == len(set(ours))
    allocator, psum = Allocator(s.accelerator, s.layer, s.spatial_mapping), PsumFlags(s.layer, s.spatial_mapping)
    fitted = 0
    for ordering in theirs:
        ours_ordering = tuple((str(d), int(f)) for d, f in ordering)
        allocation = allocator.allocate(ours_ordering)
        try:
            mapping = MemoryAllocator(s.accelerator, s.layer, s.spatial_mapping, list(ordering),
                                      s.temporal_mapping_type).run()
        except (MemoryTooSmallException, MemoryHierarchyTooSmallException):
            assert allocation is None, ordering
            continue
        expected = tuple(tuple(len(level) for level in mapping.mapping_dic_origin[op]) for op in allocator.layer_ops)
        assert allocation == expected, ordering
        out = s.layer.output_operand
        levels, start = [], 0
        for n in allocation[allocator.layer_ops.index(out)]:
            levels.append(ours_ordering[start:start + n])
            start += n
        zigzag_flags = Mapping(s.accelerator, s.spatial_mapping, TemporalMapping(
            mapping.mapping_dic_origin, s.layer, s.temporal_mapping_type), s.layer, True).psum_flag
        assert psum.flags(tuple(levels)) == tuple(zigzag_flags), ordering
        fitted += 1
    return fitted


@pytest.mark.parametrize(("core", "layer"), CASES)
def test_allocation_is_lomas_at_lpf_6(core, layer):
    assert check_space(space(core, layer), 6) > 0


@pytest.mark.slow
@pytest.mark.parametrize(("core", "layer"), CASES)
def test_allocation_is_lomas_at_lpf_8(core, layer):
    assert check_space(space(core, layer), 8) > 0


@pytest.mark.parametrize("sram_bits", [3000, 20000])
def test_allocation_is_lomas_on_a_small_shared_buffer(sram_bits):
    """On LeNet-5 every ordering gets the same allocation (its tiles fit tpu_like's levels whole). With
    tpu_like's 2 MB SRAM (inputs and outputs) cut to a few thousand bits, orderings split between it and DRAM
    in many ways, ranked on the accesses to the level above: still ZigZag's allocation on every ordering."""
    hardware, mapping = CORES["tpu_like"]
    (s,) = layer_spaces(str(LENET), str(hardware), str(mapping), "conv2")
    (sram,) = [n for n in s.accelerator.memory_hierarchy.topological_sort() if n.name == "sram_2MB"]
    sram.memory_instance.size = sram_bits
    allocator = Allocator(s.accelerator, s.layer, s.spatial_mapping)
    assert len({allocator.allocate(o) for o in orderings(loop_factors(s.accelerator, s.layer, s.spatial_mapping, 6))
                }) >= 10
    assert check_space(s, 6) == 720


def test_ordering_at_is_the_enumerations_place_with_repeated_factors():
    lpfs = LoopFactors((("IY", 2), ("K", 3), ("FX", 5), ("C", 2)), (3, 1, 2, 2), {})
    every = list(orderings(lpfs))
    assert len(every) == len(set(every)) == lpfs.count == 1680
    assert [ordering_at(lpfs, place) for place in range(lpfs.count)] == every
