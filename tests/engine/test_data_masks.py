"""Events from data (issue #17): a zero input triggers nothing; engine == simulator on masked layers.

A MAC executes iff it is valid and its input element is non-zero (design.md, "Events from data"); every
residency, multi-PE and readiness rule then follows the executed MACs. Checked here:
- a hand-counted 5x5 toy with four non-zero pixels (every count derived in the comments);
- an all-true mask gives exactly the dense-data engine (the per-axis path), an all-false one nothing;
- engine == simulator (every operand, level and direction, elements and words, MACs and cycles) on
  generated layers x generated masks (random, clustered blobs, single pixels, all-zero, all-one), with
  stride, padding, dilation, several PEs and 1-3 levels; the simulator's arithmetic, run on data that is
  zero where the mask is, equals the reference convolution; the plain replay agrees on small layers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields, replace

import numpy as np
import pytest
from conftest import write_stats
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from validation.cases import data_masks, loop_nests, multi_pe_nests
from validation.naive import naive_result
from validation.reference import onnx_reference_conv, random_data
from validation.simulator import simulate
from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions, EngineResult
from zz_event.engine.samples import mean_result
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS

SWITCHES = [(f, r) for f in (False, True) for r in (False, True)]
STATS: Counter = Counter()
_PORTS = {d: Port(f"p.{d}", 8, 8) for d in DIRECTIONS}  # 8-bit ports, 8-bit data: one word per element


def _toy(psum: bool = True) -> LoopNest:
    """The seed's toy: I 5x5, W 8x3x3 (K on 8 PEs), O 8x3x3, loops FY, FX, IX, IY inner to outer, one SRAM
    per operand serving the 8 PEs."""
    def sram(name: str, flag: bool = False) -> tuple[MemLevel]:
        return (MemLevel(name, 4, frozenset({"D1"}), 1.0, 2.0, _PORTS, flag),)

    return LoopNest(
        ConvGeometry(B=1, K=8, C=1, y=AxisGeometry(5, 3), x=AxisGeometry(5, 3)), "input",
        (Loop("FY", 3), Loop("FX", 3), Loop("IX", 5), Loop("IY", 5)), (SpatialLoop("D1", "K", 8),),
        {"W": sram("w"), "I": sram("i"), "O": sram("o", psum)}, {"W": 8, "I": 8, "O": 8, "O_final": 8},
    )


# Non-zero pixels (iy, ix), in time order (IY outer, then IX): A (0,0), E (0,4), D (2,3), C (4,4). Output
# (oy, ox) = (iy - fy, ix - fx) must lie in 0..2, so the valid taps per axis are: i=0 -> f=0, i=2 -> f=0..2,
# i=3 -> f=1..2, i=4 -> f=2.
#   A (0,0): tap (fy,fx) (0,0) -> out (0,0)                                     1 step
#   E (0,4): tap (0,2) -> out (0,2)                                             1 step
#   D (2,3): fx=1: taps (0,1) (1,1) (2,1) -> outs (2,2) (1,2) (0,2)
#            fx=2: taps (0,2) (1,2) (2,2) -> outs (2,1) (1,1) (0,1)              6 steps
#   C (4,4): tap (2,2) -> out (2,2)                                             1 step
# 9 steps, each on all 8 PEs: 72 MACs, 9 compute cycles.
# W: the register bank holds one tap's 8 weights; it reloads when the tap differs from the previous executed
#   step's: (0,0) | (0,2) | (0,1) (1,1) (2,1) (0,2) (1,2) (2,2) | (2,2) kept -> 8 loads x 8 = 64 reads.
# I: one input per pixel, shared by the 8 PEs: 4 reads.
# O: every step writes its 8 outputs: 72 writes. Positions touched: (0,0) once, (0,2) twice (E, D), (2,2)
#   twice (D, C), (1,2) (2,1) (1,1) (0,1) once: 7 positions, so with readiness 9 - 7 = 2 steps read a partial
#   sum back (16 reads) and 7 x 8 = 56 writes are final; without readiness (the SRAM holds partial sums) every
#   write is preceded by a read: 72. Positions (1,0) and (2,0) receive nothing: 2 x 8 = 16 outputs are never
#   written (their memory keeps the bias).
TOY_PIXELS = [(0, 0), (0, 4), (2, 3), (4, 4)]


def _toy_mask() -> np.ndarray:
    mask = np.zeros((1, 1, 1, 5, 5), dtype=bool)
    for iy, ix in TOY_PIXELS:
        mask[0, 0, 0, iy, ix] = True
    return mask


@pytest.mark.parametrize("readiness", [True, False])
def test_hand_counted_toy(readiness):
    nest, mask = _toy(), _toy_mask()
    data = random_data(nest.geometry)
    data["I"] = np.where(mask, np.where(data["I"] == 0, 1, data["I"]), 0)
    results = (evaluate(nest, EngineOptions(True, readiness), mask=mask),
               simulate(nest, True, readiness, data=data, mask=mask),
               naive_result(nest, True, readiness, mask=mask, data=data))
    for res in results:
        assert (res.macs, res.compute_cycles) == (72, 9)
        (w,), (i,), (o,) = (lv.words for lv in res.levels["W"]), (lv.words for lv in res.levels["I"]), \
            (lv.words for lv in res.levels["O"])
        assert w == {"rd_out_to_low": 64, "wr_in_by_low": 0, "rd_out_to_high": 0, "wr_in_by_high": 0}
        assert i == {"rd_out_to_low": 4, "wr_in_by_low": 0, "rd_out_to_high": 0, "wr_in_by_high": 0}
        assert o == {"rd_out_to_low": 16 if readiness else 72, "wr_in_by_low": 72, "rd_out_to_high": 0,
                     "wr_in_by_high": 0}
    assert results[1].output_matches_reference
    # The layer's true output, as ONNX's reference evaluator computes it on the same input and weights.
    assert (results[1].outputs == onnx_reference_conv(nest.geometry, data["I"], data["W"])).all()
    assert results[0].outputs_without_contribution == 16


def test_all_zero_mask_does_nothing():
    nest = _toy()
    res = evaluate(nest, EngineOptions(), mask=np.zeros((5, 5), dtype=bool)[None])
    assert (res.macs, res.compute_cycles, res.energy_pj, res.latency_cycles) == (0, 0, 0.0, 0)
    assert res.outputs_without_contribution == 8 * 3 * 3


def test_all_true_mask_is_the_seed_toy():
    """The README's event-driven row: 648 MACs, 81 cycles, W 77, I 25, O 72 / 81 words (16-bit data on
    128-bit ports there; here one element per word, so x8 for W and O)."""
    res = evaluate(_toy(), EngineOptions(), mask=np.ones((1, 5, 5), dtype=bool))
    assert (res.macs, res.compute_cycles) == (648, 81)
    (w,), (i,), (o,) = (res.levels[op] for op in "WIO")
    assert (w.words["rd_out_to_low"], i.words["rd_out_to_low"]) == (77 * 8, 25)
    assert (o.words["rd_out_to_low"], o.words["wr_in_by_low"]) == (72 * 8, 81 * 8)


def _same(a, b) -> list:
    diffs = []
    if (a.macs, a.compute_cycles) != (b.macs, b.compute_cycles):
        diffs.append(("macs/cycles", (a.macs, a.compute_cycles), (b.macs, b.compute_cycles)))
    for op in "WIO":
        for j, (x, y) in enumerate(zip(a.levels[op], b.levels[op], strict=True)):
            if (x.elements, x.words) != (y.elements, y.words):
                diffs.append((op, j, x.elements, x.words, y.elements, y.words))
    return diffs


def _check_masked(nest: LoopNest, mask: np.ndarray, kind: str) -> None:
    STATS[f"masked cases ({kind})"] += 1
    data = random_data(nest.geometry, low=1, high=9)  # non-zero values, then zero where the mask is
    data["I"] = np.where(mask, data["I"], 0)
    for filt, ready in SWITCHES:
        eng = evaluate(nest, EngineOptions(filt, ready), mask=mask)
        sim = simulate(nest, filt, ready, data=data, mask=mask)
        assert _same(eng, sim) == [], (nest, kind, filt, ready)
        assert sim.output_matches_reference
        if kind == "zeros":
            assert eng.macs == 0 and eng.memory_energy_pj == 0
        STATS["engine-vs-simulator comparisons"] += 1


def _check_all_true_is_dense(nest: LoopNest) -> None:
    """All-true data is the dense engine, except that padding is a zero input under a mask: an output-centric
    layer without the filter does its padding MACs on dense data but not under a mask."""
    g = nest.geometry
    ones = np.ones((g.B, g.G, g.C, g.y.inp, g.x.inp), dtype=bool)
    padded = any(a.pad_before or a.pad_after for a in (g.y, g.x)) and nest.centric == "output"
    for filt, ready in SWITCHES:
        if padded and not filt:
            continue
        options = EngineOptions(filt, ready)
        masked, dense = evaluate(nest, options, mask=ones), evaluate(nest, options)
        assert _same(masked, dense) == [], (nest, filt, ready)
        assert (masked.latency_cycles, masked.energy_pj) == (dense.latency_cycles, pytest.approx(dense.energy_pj))
    STATS["all-true == dense engine"] += 1


@st.composite
def _masked(draw, nests):
    nest = draw(nests)
    mask, kind = draw(data_masks(nest.geometry))
    return nest, mask, kind


FAST = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
FAST_PE = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
ANY_NEST = st.one_of(loop_nests(overshoot=False), loop_nests(overshoot=True))
PE_NEST = st.one_of(multi_pe_nests(), multi_pe_nests(overshoot=True))


@FAST
@given(_masked(ANY_NEST))
def test_masked_engine_equals_simulator(case):
    _check_masked(*case)


@FAST_PE
@given(_masked(PE_NEST))
def test_masked_engine_equals_simulator_several_pes(case):
    _check_masked(*case)


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(loop_nests(overshoot=False))
def test_all_true_mask_equals_dense_engine(nest):
    _check_all_true_is_dense(nest)


@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(_masked(multi_pe_nests()))
def test_plain_replay_agrees_on_masked_layers(case):
    nest, mask, _ = case
    for filt, ready in SWITCHES:
        assert _same(naive_result(nest, filt, ready, mask=mask), simulate(nest, filt, ready, mask=mask)) == []


@pytest.mark.slow
@seed(20261217)
@SLOW
@given(_masked(ANY_NEST))
def test_masked_engine_equals_simulator_slow(case):
    _check_masked(*case)


@pytest.mark.slow
@seed(20261218)
@SLOW
@given(_masked(PE_NEST))
def test_masked_engine_equals_simulator_several_pes_slow(case):
    _check_masked(*case)


@pytest.mark.slow
@seed(20261219)
@SLOW
@given(loop_nests(overshoot=False))
def test_all_true_mask_equals_dense_engine_slow(nest):
    _check_all_true_is_dense(nest)


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    write_stats(request, "test_data_masks", dict(sorted(STATS.items())))


# -- frame-based baselines ------------------------------------------------------------------------------

def _frame_toy() -> LoopNest:
    """The toy as a frame-based (output-centric) layer: loops FY, FX, OX, OY inner to outer, K on 8 PEs."""
    nest = _toy()
    return LoopNest(nest.geometry, "output", (Loop("FY", 3), Loop("FX", 3), Loop("OX", 3), Loop("OY", 3)),
                    nest.spatial, nest.levels, nest.precision, mac_energy=1.0)


# The same four pixels, frame-based. Steps run over (oy, ox, fx, fy); a step's input is i = o + f. The
# non-zero steps, in time order, with their taps (fy, fx):
#   o(0,0): (0,0) [A]; o(0,1): (2,2) [D]; o(0,2): (2,1) [D], (0,2) [E]; o(1,1): (1,2) [D]; o(1,2): (1,1) [D];
#   o(2,1): (0,2) [D]; o(2,2): (0,1) [D], (2,2) [C]
# 9 non-zero steps of 81; no two consecutive ones share a tap: 9 weight loads x 8 = 72 weight reads.
# dense: 81 steps x 8 = 648 MACs, 81 cycles; weights: the tap changes at every step (taps innermost): 81 x 8;
#   inputs: i = o + f changes at every step, also from one output's last tap (2,2) to the next's first: 81;
#   outputs (readiness): 648 writes, 648 - 9 x 8 first touches = 576 reads.
# gating: as dense but 72 weight reads and 72 MACs (72 pJ of MAC energy at 1 pJ per MAC).
# skipping: 72 MACs, 9 cycles, 72 weight reads, 81 input reads (as dense), outputs: 72 writes, 7 positions
#   touched, so (9 - 7) x 8 = 16 reads.
FRAME = {"dense": (648, 81, 648, 81, 576, 648), "gating": (72, 81, 72, 81, 576, 648),
         "skipping": (72, 9, 72, 81, 16, 72)}  # MACs, cycles, W reads, I reads, O reads, O writes


@pytest.mark.parametrize("kind", sorted(FRAME))
def test_frame_baselines_hand_counted(kind):
    from zz_event.engine.baselines import frame_baseline

    res = frame_baseline(_frame_toy(), kind, _toy_mask())
    (w,), (i,), (o,) = (res.levels[op] for op in "WIO")
    got = (res.macs, res.compute_cycles, w.words["rd_out_to_low"], i.words["rd_out_to_low"],
           o.words["rd_out_to_low"], o.words["wr_in_by_low"])
    assert got == FRAME[kind]
    assert res.mac_energy_pj == FRAME[kind][0] * 1.0


def test_skipping_is_the_masked_frame_layer_with_dense_inputs():
    """Skipping's weights and outputs are the masked engine's, its inputs the dense engine's; on all-non-zero
    data without padding every baseline is the dense count."""
    from zz_event.engine.baselines import BASELINES, frame_baseline

    nest, mask = _frame_toy(), _toy_mask()
    skip, masked = frame_baseline(nest, "skipping", mask), evaluate(nest, EngineOptions(False, True), mask=mask)
    dense = evaluate(nest, EngineOptions(False, True))
    assert skip.levels["W"] == masked.levels["W"] and skip.levels["O"] == masked.levels["O"]
    assert skip.levels["I"] == dense.levels["I"]
    ones = np.ones((5, 5), dtype=bool)[None]
    for kind in BASELINES:
        assert _same(frame_baseline(nest, kind, ones), dense) == []


@st.composite
def _batches(draw, nests):
    nest = draw(nests)
    return nest, np.stack([draw(data_masks(nest.geometry))[0] for _ in range(3)])


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(_batches(st.one_of(ANY_NEST, PE_NEST)))
def test_samples_counted_together_equal_one_by_one(case):
    """Several samples counted in one pass (a sample is one more instance digit) give each sample's own
    result: every count, word, latency part and the outputs without contribution."""
    from zz_event.engine.evaluate import evaluate_samples

    nest, masks = case
    for filt, ready in SWITCHES:
        together = evaluate_samples(nest, EngineOptions(filt, ready), masks)
        alone = [evaluate(nest, EngineOptions(filt, ready), mask=m) for m in masks]
        assert together == alone
    STATS["batches of 3 samples == one by one"] += 1


@st.composite
def _reordered(draw, nests):
    """A nest, the same nest with its temporal loops in another order (the loops of one dimension keep
    theirs, so each keeps its digit weight, as in the orderings LOMA tries), and masks of 1 to 3 samples."""
    nest = draw(nests)
    dims = draw(st.permutations([loop.dim for loop in nest.temporal]))
    queues = {d: [loop for loop in nest.temporal if loop.dim == d] for d in dims}
    order = tuple(queues[d].pop(0) for d in dims)
    masks = np.stack([draw(data_masks(nest.geometry))[0] for _ in range(draw(st.integers(1, 3)))])
    return nest, replace(nest, temporal=order), masks


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(_reordered(st.one_of(ANY_NEST, PE_NEST)))
def test_a_tensor_memoised_by_another_ordering_gives_the_cold_result(case):
    """Every ordering of the same loops executes the same iterations: the executed-flag tensor (and its
    MACs, cycles, untouched outputs) is memoised across orderings and read through each nest's strides."""
    from zz_event.engine.evaluate import clear_caches, evaluate_samples
    from zz_event.engine.executed import _TENSORS

    nest, sibling, masks = case
    for filt, ready in SWITCHES:
        options = EngineOptions(filt, ready)
        clear_caches()
        cold = evaluate_samples(nest, options, masks)
        clear_caches()
        evaluate_samples(sibling, options, masks)
        warm = evaluate_samples(nest, options, masks.copy())  # equal masks in a new array hit the memo
        assert len(_TENSORS._entries) == 1
        assert warm == cold
    STATS["reordered nests sharing one memoised tensor"] += 1


def test_more_samples_than_a_word_of_flags():
    """Samples are bits of 64-bit words: 70 samples span two words and each still gets its own counts."""
    from zz_event.engine.evaluate import evaluate_samples

    nest = _toy()
    rng = np.random.default_rng(5)
    masks = rng.random((70, 1, 1, 1, 5, 5)) < 0.4
    masks[3] = False
    masks[66] = True
    together = evaluate_samples(nest, EngineOptions(), masks)
    for s in (0, 3, 63, 64, 66, 69):
        assert together[s] == evaluate(nest, EngineOptions(), mask=masks[s])
    assert together[3].macs == 0 and together[66] == evaluate(nest, EngineOptions(), mask=np.ones((5, 5), bool))


def test_mean_result_averages_every_count():
    """The mean over samples takes every integer field's mean, none kept from the first sample."""
    nest = _toy()
    results = [evaluate(nest, EngineOptions(), mask=m) for m in (_toy_mask(), np.ones((1, 1, 1, 5, 5), bool))]
    mean = mean_result(results)
    differ = [f.name for f in fields(EngineResult) if getattr(results[0], f.name) != getattr(results[1], f.name)]
    assert "latency_bound_cycles" in differ  # the field the mean once kept from the first sample
    for f in fields(EngineResult):
        values = [getattr(r, f.name) for r in results]
        if isinstance(values[0], int) and not isinstance(values[0], bool):
            assert getattr(mean, f.name) == sum(values) / 2, f.name
    assert mean.latency_cycles == sum(r.latency_cycles for r in results) / 2
