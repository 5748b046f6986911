"""Several processing elements sharing output elements (design.md, "Several processing elements").

Every instance keeps its own tile; per transition a level sends its children the union of what they take
in and takes in once what they write up at the same moment; copies written up at different moments are
separate writes. The hand-counted example of issue #15, conservation at every boundary (engine and
simulator), and engine == simulator on generated layers whose PEs share output elements (the FX, FY, IX,
IY loops unrolled, per-PE output registers under shared levels).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import write_stats
from hypothesis import HealthCheck, assume, given, seed, settings

from validation.cases import loop_nests, multi_pe_nests
from validation.conservation import conservation_errors, shares_outputs_across_pes
from validation.naive import naive_result
from validation.simulator import simulate
from zz_event.engine import register_jumps, siblings, tile_copies, union_run
from zz_event.engine.evaluate import evaluate
from zz_event.engine.one_child import one_child, one_child_events
from zz_event.engine.result import EngineOptions
from zz_event.engine.union_run import compiled_events
from zz_event.memo import clear_caches
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS

SWITCHES = [(f, r) for f in (False, True) for r in (False, True)]
STATS: Counter = Counter()
_PORTS = {d: Port(f"p.{d}", 8, 8) for d in DIRECTIONS}


def _lv(name, top, served=(), psum=True) -> MemLevel:
    return MemLevel(name, top, frozenset(served), 1.0, 1.0, _PORTS, psum)


# Input 3 wide, kernel 2 wide, FX on 2 PEs with one output register each under one SRAM, IX (3) temporal
# above the registers. PE0 (fx=0) adds into O0 at step 0 and O1 at step 1; PE1 (fx=1) into O0 at step 1
# and O1 at step 2. The registers send up O0 at step 1 (PE0), O0 at step 2 (PE1) and both O1 copies at the
# end (one moment): 4 sends, 3 writes into the SRAM.
HAND = LoopNest(
    ConvGeometry(B=1, K=1, C=1, y=AxisGeometry(1, 1), x=AxisGeometry(3, 2)), "input",
    (Loop("IX", 3),), (SpatialLoop("D1", "FX", 2),),
    {"W": (_lv("sram", 1, {"D1"}),), "I": (_lv("sram", 1, {"D1"}),), "O": (_lv("reg", 0), _lv("sram", 1, {"D1"}))},
    {"W": 8, "I": 8, "O": 8, "O_final": 8},
)


@pytest.mark.parametrize("readiness", [False, True])
def test_hand_example_three_writes_into_the_sram(readiness):
    for res in (evaluate(HAND, EngineOptions(filter=True, readiness=readiness)),
                simulate(HAND, filter=True, readiness=readiness), naive_result(HAND, True, readiness)):
        reg, sram = (lv.elements for lv in res.levels["O"])
        assert reg["rd_out_to_high"] == 4
        assert sram["wr_in_by_low"] == 3
        # Down: without readiness (psum flag) each PE reads every entry: O0 at step 0 (PE0); O1 (PE0) and O0
        # (PE1) at step 1; O1 at step 2 (PE1): 4. With readiness no PE ever held the element it takes in: 0.
        assert reg["wr_in_by_high"] == sram["rd_out_to_low"] == (0 if readiness else 4)


def test_hand_example_conserves():
    """Per transition the SRAM sends the union of what the registers take in and takes in the union of what
    they send at each moment. Before issue #15 engine and simulator both said 2 writes into the SRAM, which
    this check rejects ("parent_in is 2, conservation says 3"; run against commit 8d7611d)."""
    for filt, ready in SWITCHES:
        for res in (evaluate(HAND, EngineOptions(filter=filt, readiness=ready)), simulate(HAND, filt, ready)):
            assert conservation_errors(HAND, res, filt, ready) == []


def _check(nest: LoopNest) -> None:
    shares = shares_outputs_across_pes(nest)
    STATS["cases"] += 1
    STATS["cases sharing output elements across PEs"] += shares
    for filt, ready in SWITCHES:
        eng = evaluate(nest, EngineOptions(filter=filt, readiness=ready))
        sim = simulate(nest, filter=filt, readiness=ready)
        assert (eng.macs, eng.compute_cycles) == (sim.macs, sim.compute_cycles)
        for op in ("W", "I", "O"):
            for e, s in zip(eng.levels[op], sim.levels[op], strict=True):
                assert (e.elements, e.words) == (s.elements, s.words), (nest, filt, ready, op, e, s)
        assert sim.output_matches_reference
        assert conservation_errors(nest, eng, filt, ready) == [], (nest, filt, ready)


FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@FAST
@given(multi_pe_nests())
def test_shared_outputs_engine_equals_simulator_and_conserves(nest):
    _check(nest)


@FAST
@given(multi_pe_nests(overshoot=True))
def test_shared_outputs_with_overshooting_loops(nest):
    _check(nest)


def _tallies(ev) -> dict:
    """A UnionEvents as multisets: per list, each (count...) with its number of events."""
    def tally(columns, times):
        weights = [1] * len(columns[0]) if times is None else times.tolist()
        out: Counter = Counter()
        for *key, w in zip(*(c.tolist() for c in columns), weights):
            out[tuple(key)] += w * ev.weight
        return +out
    return {"down": tally([ev.down], ev.down_times), "touched": tally([ev.down_touched], ev.touched_times),
            "up": tally([ev.up, ev.up_final], ev.up_times), "onload": tally([ev.onload], ev.onload_times)}


def _union_boundaries(nest: LoopNest):
    """(operand, level index, child level, parent level) of every boundary the combined tile would miscount."""
    for op, levels in nest.levels.items():
        for j in range(len(levels) - 1):
            if siblings.needs_union(nest, levels[j].served, levels[j + 1].served):
                yield op, j, levels[j], levels[j + 1]


def _union_tallies(nest: LoopNest) -> tuple[dict, int]:
    """Every union boundary's event multisets, both filter settings; and how many children the coupled
    fold (`siblings._coupled_copies`) let one child stand for."""
    out, folded = {}, 0
    for op, j, child, parent in _union_boundaries(nest):
        for filt in (False, True):
            args = (nest, op, child.top, child.served, parent.served, filt)
            out[(op, j, filt)] = _tallies(siblings.union_events(*args))
            folded = max(folded, int(siblings._classes(siblings._UnionWalk(*args), parent.served)[1].max()))
    return out, folded


def _every_child_walked(*_args) -> int:
    return 0


@FAST
@given(multi_pe_nests(overshoot=True))
def test_coupled_fold_gives_the_events_of_every_child_walked(nest):
    """Children differing only in spatial digits of a position or tap dimension that hold translates of one
    another's elements (never shared) or the same elements are walked once: the same event multisets as
    walking each of them."""
    folded, copies = _union_tallies(nest)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(siblings, "_coupled_copies", _every_child_walked)
        clear_caches()  # the classes are kept per loop structure (`union_run._ORDER_FREE`)
        walked, unfolded_copies = _union_tallies(nest)
    clear_caches()
    STATS["nests where the coupled fold applied"] += copies > unfolded_copies
    assert folded == walked


def _every_iteration_walked(init):
    def walked(self, *args):
        init(self, *args)
        self.repeats = np.zeros_like(self.repeats)
    return walked


@FAST
@given(multi_pe_nests(overshoot=True, uncoupled_max=6))
def test_repeating_iterations_walked_once_give_the_events_of_every_iteration(nest):
    """Iterations from 1 on of a loop of an exactly tiled B/K/C (to size - 2 for outputs over a dimension
    they do not depend on) are walked once for all of them (`ChildAxes.repeats`): the same event multisets
    as walking every iteration, and the simulator's counts."""
    skipped, _ = _union_tallies(nest)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(siblings.ChildAxes, "__init__", _every_iteration_walked(siblings.ChildAxes.__init__))
        walked, _ = _union_tallies(nest)
    axes = [siblings.ChildAxes(nest, op, child.top, child.served, False)
            for op, _j, child, _parent in _union_boundaries(nest)]
    STATS["nests with a repeating loop above a union boundary"] += any(ax.repeats.any() for ax in axes)
    STATS["nests with a loop's iterations walked once up to its last"] += any(
        ((ax.repeats > 0) & (ax.repeats == ax.loop_sizes - 1)).any() for ax in axes)
    assert skipped == walked
    _check(nest)


def _no_jumps(loop_axes, *_args):
    none = np.full(len(loop_axes), -1, dtype=np.int64)
    return none, none, np.zeros_like(none)


@FAST
@given(multi_pe_nests(overshoot=True, axis_max=16))
def test_translated_iterations_walked_once_give_the_events_of_every_iteration(nest):
    """Output registers whose last uses add up per axis, and interior runs of a position loop's iterations
    that are translates of one another walked once, for every operand's registers (`register_jumps`): the
    same event multisets as a first pass and every iteration walked, and the simulator's counts."""
    runs = []

    def recorded(*args):
        lo, hi, shift = position_jumps(*args)
        runs.append(int((hi > lo).sum()))
        return lo, hi, shift

    position_jumps = register_jumps.position_jumps
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(register_jumps, "position_jumps", recorded)
        jumped, _ = _union_tallies(nest)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(union_run, "_last_uses", lambda *_args: None)
        patch.setattr(register_jumps, "position_jumps", _no_jumps)
        walked, _ = _union_tallies(nest)
    STATS["nests with a position loop's interior walked once"] += any(runs)
    assert jumped == walked
    _check(nest)


def _nothing_factored(nest, _op, n_inner):
    return nest, n_inner, 1


@FAST
@given(multi_pe_nests(overshoot=True, uncoupled_max=6))
def test_relevant_loops_inside_child_tiles_factored_out_give_the_events_of_the_whole_tiles(nest):
    """Loops of exactly tiled B/G/K/C an operand depends on, below a union boundary, walked as copies of
    one element each (`tile_copies.factored`): the same event multisets as the whole tiles walked, and the
    simulator's counts."""
    factored, _ = _union_tallies(nest)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tile_copies, "factored", _nothing_factored)
        whole, _ = _union_tallies(nest)
    STATS["nests with a relevant loop factored out of a child tile"] += any(
        tile_copies.factored(nest, op, child.top)[2] > 1 for op, _j, child, _parent in _union_boundaries(nest))
    assert factored == whole
    _check(nest)


@FAST
@given(multi_pe_nests(overshoot=True), multi_pe_nests(overshoot=True))
def test_stamps_kept_from_earlier_passes_change_no_event(earlier, nest):
    """The union passes keep their per-element stamps from one pass to the next (`union_run._Stamps`): a
    nest's walks after another nest's give the event multisets they give on fresh stamps."""
    union_run._STAMPS.__init__()
    fresh, _ = _union_tallies(nest)
    _union_tallies(earlier)
    after, _ = _union_tallies(nest)
    assert after == fresh


def test_pointwise_conv_rows_over_pes_fold_and_stay_exact():
    """A 1x1 convolution with IX on 4 PEs and per-PE output registers: the four registers hold disjoint
    translates, so one is walked for four; the counts still equal the simulator's."""
    nest = LoopNest(
        ConvGeometry(B=1, K=2, C=2, y=AxisGeometry(3, 1), x=AxisGeometry(8, 1)), "input",
        (Loop("C", 2), Loop("IX", 2), Loop("K", 2), Loop("IY", 3)), (SpatialLoop("D1", "IX", 4),),
        {"W": (_lv("reg", 0), _lv("sram", 4, {"D1"})), "I": (_lv("sram", 4, {"D1"}),),
         "O": (_lv("reg", 0), _lv("sram", 4, {"D1"}))},
        {"W": 8, "I": 8, "O": 16, "O_final": 8},
    )
    _, copies = _union_tallies(nest)
    assert copies == 4
    _check(nest)


@pytest.mark.slow
@seed(20261206)
@SLOW
@given(multi_pe_nests())
def test_shared_outputs_slow(nest):
    _check(nest)


@pytest.mark.slow
@seed(20261207)
@SLOW
@given(multi_pe_nests(overshoot=True))
def test_shared_outputs_with_overshooting_loops_slow(nest):
    _check(nest)


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    write_stats(request, "test_multi_pe", dict(STATS))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(loop_nests())
def test_one_child_under_several_parents_gives_the_events_of_its_walk(nest):
    """A child level of one instance (it serves every PE) below parents that each serve some: every parent's
    union is the child's own tile sequence, read per axis (`one_child.py`) as the walk reads it."""
    compared = 0
    for op, j, child, parent in _union_boundaries(nest):
        for filt in (False, True):
            walk = siblings._UnionWalk(nest, op, child.top, child.served, parent.served, filt)
            assert one_child(nest, child.served) == (walk.axes.n_child == 1 and not walk.axes.folded)
            if not one_child(nest, child.served):
                continue
            compared += 1
            clear_caches()
            ev = one_child_events(nest, op, child.top, child.served, parent.served, filt)
            assert _tallies(ev) == _tallies(compiled_events(walk)), (op, j, filt)
    assume(compared > 0)
