"""A third count of W and I data motion, with islpy sets and relations, equals the engine and the simulator.

validation/isl_count.py follows the timestamp recipe of seeds/004 (iterations -> tiles, per-tile needed
sets, previous executed tile by lexmax, "current minus previous"); its scope is in its docstring.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings

pytest.importorskip("islpy")

from test_exactness import _lv, _nest

from validation.cases import loop_nests, multi_pe_nests
from validation.isl_count import in_scope, isl_counts
from validation.simulator import simulate
from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS

MAX_ITERATIONS = 3000  # isl counts by enumerating points: keep the random layers small


def three_counts(nest: LoopNest, filt: bool) -> tuple[dict, dict, dict]:
    """(isl, engine, simulator) element counts of W and I, per level and direction."""
    isl = isl_counts(nest, filt)
    eng = evaluate(nest, EngineOptions(filter=filt, readiness=True))
    sim = simulate(nest, filter=filt, readiness=True)

    def shape(res):
        return {op: [{d: lv.elements[d] for d in DIRECTIONS} for lv in res.levels[op]] for op in ("W", "I")}

    return isl, shape(eng), shape(sim)


def assert_agree(nest: LoopNest) -> None:
    for filt in (True, False):
        isl, eng, sim = three_counts(nest, filt)
        assert isl == eng == sim, f"filter={filt}\n isl {isl}\n engine {eng}\n sim {sim}\n nest {nest}"


TOY = _nest(
    ConvGeometry(B=1, K=8, C=1, y=AxisGeometry(5, 3), x=AxisGeometry(5, 3)),
    [Loop("FY", 3), Loop("FX", 3), Loop("IX", 5), Loop("IY", 5)], [SpatialLoop("D1", "K", 8)],
    {"W": (_lv("sram", 4, {"D1"}),), "I": (_lv("sram_i", 4, {"D1"}),), "O": (_lv("sram", 4, {"D1"}, True),)},
)


def test_seed_toy():
    """77 weight events of 8 weights each (616 elements), 25 input events of one element; dense: 225 x 8."""
    filtered = isl_counts(TOY, True)
    assert filtered["W"][0]["rd_out_to_low"] == 77 * 8
    assert filtered["I"][0]["rd_out_to_low"] == 25
    dense = isl_counts(TOY, False)
    assert dense["W"][0]["rd_out_to_low"] == 225 * 8
    assert dense["I"][0]["rd_out_to_low"] == 25
    assert_agree(TOY)


# Stride 2, asymmetric padding, dilation 2 in y; taps innermost, then IX split in two loops; C on the array
# with per-PE registers under a buffer serving them all.
STRIDED = _nest(
    ConvGeometry(B=1, K=2, C=2, y=AxisGeometry(6, 3, stride=2, dilation=2, pad_before=2, pad_after=1),
                 x=AxisGeometry(6, 2, stride=2, pad_before=1)),
    [Loop("FX", 2), Loop("FY", 3), Loop("IX", 2), Loop("K", 2), Loop("IX", 3), Loop("IY", 6)],
    [SpatialLoop("D1", "C", 2)],
    {"W": (_lv("reg", 2), _lv("gb", 6, {"D1"})), "I": (_lv("reg", 0), _lv("gb", 6, {"D1"})),
     "O": (_lv("gb", 6, {"D1"}, True),)},
)


def test_stride_padding_dilation():
    isl = isl_counts(STRIDED, True)
    assert isl["I"][0]["rd_out_to_low"] > 0 and isl["W"][1]["rd_out_to_low"] > 0
    assert_agree(STRIDED)


# Three levels for W and two for I, tiles of several loops each (one overshooting: IY = 5 as 2 x 3), a
# spatial K unrolling served at the upper levels only (per-PE registers, broadcast inputs).
TWO_LEVELS = _nest(
    ConvGeometry(B=2, K=4, C=1, y=AxisGeometry(5, 2, pad_before=1), x=AxisGeometry(3, 3, pad_before=1, pad_after=1)),
    [Loop("FX", 3), Loop("IY", 2), Loop("FY", 2), Loop("IX", 3), Loop("B", 2), Loop("IY", 3), Loop("K", 2)],
    [SpatialLoop("D1", "K", 2)],
    {"W": (_lv("reg", 1), _lv("lb", 4, {"D1"}), _lv("gb", 7, {"D1"})),
     "I": (_lv("lb", 3, {"D1"}), _lv("gb", 7, {"D1"})), "O": (_lv("gb", 7, {"D1"}, True),)},
)


def test_two_memory_levels():
    isl = isl_counts(TWO_LEVELS, True)
    assert isl["W"][0]["wr_in_by_high"] > 0 and isl["I"][0]["wr_in_by_high"] > 0
    assert_agree(TWO_LEVELS)


@settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(loop_nests(overshoot=True))
def test_isl_equals_engine_equals_simulator(nest):
    assume(in_scope(nest))
    steps = nest.temporal_steps
    for sl in nest.spatial:
        steps *= sl.size
    assume(steps <= MAX_ITERATIONS)
    assert_agree(nest)


# Weights under IX spread over two PEs (IX = 4 as 2 PEs x 2 steps, FX inner), per-PE registers under one
# SRAM. PE0 (ix 0, 2) uses w0 at step 0, skips step 1 (no valid tap), keeps w0 at step 2 and takes w1 at
# step 3; PE1 (ix 1, 3) takes w0 at step 0 and w1 at step 1, skips step 2 and keeps w1 at step 3. Per step
# the SRAM sends the union of the registers' intakes: {w0}, {w1}, -, {w1}: 3 reads (a combined tile of the
# two registers would read w0 again at step 2: 4).
HALO_W = _nest(
    ConvGeometry(B=1, K=1, C=1, y=AxisGeometry(1, 1), x=AxisGeometry(4, 2)),
    [Loop("FX", 2), Loop("IX", 2)], [SpatialLoop("D1", "IX", 2)],
    {"W": (_lv("reg", 0), _lv("sram", 2, {"D1"})), "I": (_lv("sram", 2, {"D1"}),),
     "O": (_lv("sram", 2, {"D1"}, True),)},
)


def test_weights_multicast_per_transition():
    isl = isl_counts(HALO_W, True)
    assert isl["W"][0]["wr_in_by_high"] == 4 and isl["W"][1]["rd_out_to_low"] == 3
    assert_agree(HALO_W)


@settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(multi_pe_nests(overshoot=True))
def test_isl_on_layers_whose_pes_share_data(nest):
    assume(in_scope(nest))
    steps = nest.temporal_steps
    for sl in nest.spatial:
        steps *= sl.size
    assume(steps <= MAX_ITERATIONS)
    assert_agree(nest)
