"""`CmeBuilder` builds ZigZag's own CostModelEvaluations: on a sample of LOMA's orderings of LeNet-5 conv1 and conv2
on the toy core and tpu_like, and of the padded conv1 (lenet5_pad2_28.onnx) on the toy core, each built CME
equals, field for field and type for type (integer latency fields stay integers), the CME ZigZag's constructor
builds of the same temporal mapping, the builder's memo of partially relevant splits warm from earlier orderings."""

from __future__ import annotations

import math
from enum import Enum

import pytest
from conftest import INPUTS
from test_allocation import CORES, LENET
from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.opt.loma.memory_allocator import MemoryAllocator, MemoryHierarchyTooSmallException, MemoryTooSmallException

from zz_event.search.orderings import loop_factors, orderings
from zz_event.search.run import layer_spaces
from zz_event.zigzag.cme_builder import CmeBuilder

PADDED = INPUTS / "lenet5" / "lenet5_pad2_28.onnx"
CASES = [("toy", str(LENET), "conv1"), ("toy", str(LENET), "conv2"), ("tpu_like", str(LENET), "conv1"),
         ("tpu_like", str(LENET), "conv2"), ("toy", str(PADDED), "conv1")]


def differences(a, b, path: str = "cme", seen: set | None = None) -> list[str]:
    """Where `a` and `b` differ, recursively through containers and objects' fields; numbers must agree in type."""
    seen = set() if seen is None else seen
    if a is b or (id(a), id(b)) in seen:
        return []
    seen.add((id(a), id(b)))
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} {a!r} vs {type(b).__name__} {b!r}"]
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return []
    if isinstance(a, (int, float, str, bool, bytes, Enum)) or a is None:
        return [] if a == b else [f"{path}: {a!r} vs {b!r}"]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for k, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{k}]", seen)]
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{path}: keys {list(a)} vs {list(b)}"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}[{k!r}]", seen)]
    if hasattr(a, "__dict__"):
        return differences(vars(a), vars(b), f"{path}.", seen)
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def test_differences_sees_a_type_change():
    assert differences({"x": [1, 2]}, {"x": [1, 2.0]}) == ["cme['x'][1]: int 2 vs float 2.0"]


@pytest.mark.parametrize(("core", "workload", "layer"), CASES)
def test_built_cmes_equal_zigzags_own(core, workload, layer):
    hardware, mapping = CORES[core]
    (s,) = layer_spaces(workload, str(hardware), str(mapping), layer)
    s.layer.spatial_mapping = s.unrolling
    builder = CmeBuilder(s.accelerator, s.layer, s.spatial_mapping, s.spatial_mapping_int)
    dims = {str(d): d for d in s.layer.layer_dim_sizes.data}
    built = 0
    for ordering in list(orderings(loop_factors(s.accelerator, s.layer, s.spatial_mapping, 6)))[::37]:
        try:
            temporal = MemoryAllocator(s.accelerator, s.layer, s.spatial_mapping,
                                       [(dims[d], f) for d, f in ordering], s.temporal_mapping_type).run()
        except (MemoryTooSmallException, MemoryHierarchyTooSmallException):
            continue
        theirs = CostModelEvaluation(accelerator=s.accelerator, layer=s.layer, spatial_mapping=s.spatial_mapping,
                                     spatial_mapping_int=s.spatial_mapping_int, temporal_mapping=temporal,
                                     access_same_data_considered_as_no_access=True)
        ours = builder.build(temporal)
        assert differences(ours, theirs) == [], ordering
        assert type(ours.latency_total2) is type(theirs.latency_total2)
        built += 1
    assert built >= 10
