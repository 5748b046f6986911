"""The engine's analytic counts equal the reference simulator's replay, integer for integer.

For every operand, memory level and direction: element transfers and word accesses; plus executed MACs
and compute cycles; on random mapped layers (validation.cases.loop_nests: input- and output-centric,
stride/padding/dilation, 1-3 levels per operand incl. register levels, random spatial unrollings and
loop orders) under all four switch combinations. The simulator shares no counting code with the
engine (validation/README.md).

The engine declines no configuration, so every generated case is compared; the counts are reported at the
end of the module. Latency is not compared here: the
simulator computes the earlier throughput bound with exact per-instance port time, the engine's latency is
ZigZag's window model, checked against ZigZag itself (validation/README.md, "Latency"; tests/zigzag/test_latency.py).

Layers whose loops overshoot a dimension's size (what ZigZag's fractional unrollings become) are checked
as strictly as exact factorisations; the minimal cases below pin an engine bug the simulator found there
(after a skipped empty tile the engine compared with the wrong predecessor), now fixed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from conftest import write_stats
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from validation.cases import loop_nests
from validation.simulator import simulate
from zz_event.engine.evaluate import clear_caches, evaluate
from zz_event.engine.result import EngineOptions
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS

SWITCHES = [(f, r) for f in (False, True) for r in (False, True)]
STATS: Counter = Counter()
FAST = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def differences(nest: LoopNest, filt: bool, ready: bool) -> list[tuple]:
    """Mismatches between engine and simulator (the engine declines no configuration)."""
    eng = evaluate(nest, EngineOptions(filter=filt, readiness=ready))
    sim = simulate(nest, filter=filt, readiness=ready)
    STATS["compared"] += 1
    diffs = []
    if (eng.macs, eng.compute_cycles) != (sim.macs, sim.compute_cycles):
        diffs.append(("macs/cycles", (eng.macs, eng.compute_cycles), (sim.macs, sim.compute_cycles)))
    for op in ("W", "I", "O"):
        for j, (e, s) in enumerate(zip(eng.levels[op], sim.levels[op], strict=True)):
            for d in DIRECTIONS:
                if (e.elements[d], e.words[d]) != (s.elements[d], s.words[d]):
                    diffs.append((op, j, d, "engine", (e.elements[d], e.words[d]), "sim", (s.elements[d], s.words[d])))
    assert sim.output_matches_reference, "the simulator's arithmetic disagrees with the reference convolution"
    return diffs


def check_all_switches(nest: LoopNest) -> None:
    found = {}
    for filt, ready in SWITCHES:
        diffs = differences(nest, filt, ready)
        if diffs:
            found[(filt, ready)] = diffs
    assert not found, f"engine != simulator for {nest}: {found}"


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    write_stats(request, "test_exactness", dict(STATS))  # engine-vs-simulator comparisons


# -- random layers ---------------------------------------------------------------------------------------

@FAST
@given(loop_nests(overshoot=False))
def test_engine_equals_simulator(nest):
    STATS["cases (exact tiling)"] += 1
    check_all_switches(nest)


@FAST
@given(loop_nests(overshoot=True))
def test_engine_vs_simulator_overshooting_loops(nest):
    STATS["cases (overshooting loops allowed)"] += 1
    check_all_switches(nest)


@st.composite
def _with_unit_loops(draw, nests) -> tuple[LoopNest, LoopNest]:
    """(a random nest, the same nest with 1-3 loops of size 1 of random dimensions inserted at random
    places, the levels' tops moved over each or not): both run the same iterations."""
    nest = draw(nests)
    temporal, levels = list(nest.temporal), nest.levels
    dims = ("B", "G", "K", "C", "FY", "FX", *nest.position_dims)
    for _ in range(draw(st.integers(1, 3))):
        t, above = draw(st.integers(0, len(temporal))), draw(st.booleans())
        moved = lambda top: top > t or (top == t and (above or top == len(temporal)))  # noqa: B023, E731
        levels = {op: tuple(replace(m, top=m.top + moved(m.top)) for m in ms) for op, ms in levels.items()}
        temporal.insert(t, Loop(draw(st.sampled_from(dims)), 1))
    return nest, replace(nest, temporal=tuple(temporal), levels=levels)


@FAST
@given(_with_unit_loops(loop_nests(overshoot=True)))
def test_loops_of_size_one_change_nothing(pair):
    """A loop that runs once is no change of data: the engine counts what the simulator replays, and
    exactly what it counts without the loop (latency included)."""
    STATS["cases (loops of size 1 inserted)"] += 1
    nest, with_units = pair
    check_all_switches(with_units)
    for filt, ready in SWITCHES:
        options = EngineOptions(filter=filt, readiness=ready)
        clear_caches()
        plain = evaluate(nest, options)
        clear_caches()
        units = evaluate(with_units, options)
        assert (units.macs, units.compute_cycles, units.levels, units.latency_parts) == \
               (plain.macs, plain.compute_cycles, plain.levels, plain.latency_parts)


@pytest.mark.slow
@seed(20261121)
@SLOW
@given(loop_nests(overshoot=False))
def test_engine_equals_simulator_slow(nest):
    STATS["slow cases (exact tiling)"] += 1
    check_all_switches(nest)


@pytest.mark.slow
@seed(20261122)
@SLOW
@given(loop_nests(overshoot=True))
def test_engine_vs_simulator_overshooting_loops_slow(nest):
    STATS["slow cases (overshooting loops allowed)"] += 1
    check_all_switches(nest)


# -- minimal cases -----------------------------------------------------------------------------------------

_PORTS = {d: Port(f"p.{d}", 8, 8) for d in DIRECTIONS}
_PRECISION = {"W": 8, "I": 8, "O": 8, "O_final": 8}


def _lv(name: str, top: int, served=(), psum: bool = False) -> MemLevel:
    return MemLevel(name, top, frozenset(served), 1.0, 1.0, _PORTS, psum)


def _nest(geometry, temporal, spatial, levels) -> LoopNest:
    return LoopNest(geometry, "input", tuple(temporal), tuple(spatial), levels, _PRECISION)


def _one(size=1, kernel=1) -> AxisGeometry:
    return AxisGeometry(size, kernel)


# W: C = 3 split as 2 (spatial, D1) x 2 (temporal, innermost) under a B loop; per-PE weight registers.
# PE c0 uses c = 0, 2 alternately: 4 reads; PE c1 only c = 1 (c = 3 is out of range) at both B values
# and keeps it in its register: 1 read. Expected 5 element reads of the weight register bank.
OVERSHOOT_W = _nest(
    ConvGeometry(B=2, K=1, C=3, y=_one(), x=_one()),
    [Loop("C", 2), Loop("B", 2)], [SpatialLoop("D1", "C", 2)],
    {"W": (_lv("reg", 2),), "I": (_lv("reg", 2),), "O": (_lv("reg", 2),)},
)

# O: B = 3 split as 2 (spatial) x 2 (temporal, inner) under a C loop; per-PE output registers (top 0)
# below a buffer. PE b0 alternates b = 0, 2 over both C values: 3 evictions + 1 flush; PE b1 keeps b = 1
# for both C values: 0 evictions + 1 flush. Expected 5 elements up out of the registers.
OVERSHOOT_O = _nest(
    ConvGeometry(B=3, K=1, C=2, y=_one(), x=_one()),
    [Loop("B", 2), Loop("C", 2)], [SpatialLoop("D1", "B", 2)],
    {"W": (_lv("reg", 2),), "I": (_lv("reg", 2),), "O": (_lv("reg", 0), _lv("lb", 2))},
)


# I, no spatial unrolling: B = 3 as 2 (inner) x 2 (outer) with an FX loop (kernel 2, padding 1) between.
# Inputs are indexed by b alone: 0, 1, 0, 1 (b_hi = 0), then 2, [3 skipped], 2, [3 skipped]. The register
# reloads at every change: 5 reads (the second b = 2 follows the first b = 2 once the empty step is skipped).
OVERSHOOT_TEMPORAL_I = _nest(
    ConvGeometry(B=3, K=1, C=1, y=_one(), x=AxisGeometry(1, 2, pad_after=1)),
    [Loop("B", 2), Loop("FX", 2), Loop("B", 2)], [],
    {"W": (_lv("reg", 3),), "I": (_lv("reg", 3),), "O": (_lv("reg", 3),)},
)


def test_minimal_cases_simulator_counts():
    """The hand-derived counts of the minimal cases, from the simulator (not the engine)."""
    w = simulate(OVERSHOOT_W, filter=False, readiness=False)
    assert w.levels["W"][0].elements["rd_out_to_low"] == 5
    o = simulate(OVERSHOOT_O, filter=False, readiness=False)
    assert o.levels["O"][0].elements["rd_out_to_high"] == 5
    assert o.levels["O"][1].elements["wr_in_by_low"] == 5
    i = simulate(OVERSHOOT_TEMPORAL_I, filter=False, readiness=False)
    assert i.levels["I"][0].elements["rd_out_to_low"] == 5


def test_engine_overshooting_spatial_unrolling_weights():
    check_all_switches(OVERSHOOT_W)


def test_engine_overshooting_spatial_unrolling_outputs():
    check_all_switches(OVERSHOOT_O)


def test_engine_overshooting_temporal_loop_inputs():
    check_all_switches(OVERSHOOT_TEMPORAL_I)


# A relevant loop of size 1 between two irrelevant ones changes no data: C 1 between two K loops leaves the
# one input in its register for all four K values (written into it once); K 1 between two B loops, the weight.
UNIT_RELEVANT_I = _nest(
    ConvGeometry(B=1, K=4, C=1, y=_one(), x=_one()),
    [Loop("K", 2), Loop("C", 1), Loop("K", 2)], [],
    {"W": (_lv("reg", 0), _lv("lb", 3)), "I": (_lv("reg", 0), _lv("lb", 3)), "O": (_lv("reg", 0), _lv("lb", 3))},
)
UNIT_RELEVANT_W = _nest(
    ConvGeometry(B=4, K=1, C=1, y=_one(), x=_one()),
    [Loop("B", 2), Loop("K", 1), Loop("B", 2)], [],
    {"W": (_lv("reg", 1), _lv("lb", 3)), "I": (_lv("reg", 1), _lv("lb", 3)), "O": (_lv("reg", 1), _lv("lb", 3))},
)


@pytest.mark.parametrize("nest, op", [(UNIT_RELEVANT_I, "I"), (UNIT_RELEVANT_W, "W")], ids=["I", "W"])
def test_relevant_loop_of_size_one_reads_one_element(nest, op):
    """The hand count (one element, read once into the register) from the simulator, then the engine."""
    assert simulate(nest, filter=False, readiness=False).levels[op][0].elements["wr_in_by_high"] == 1
    check_all_switches(nest)


def test_engine_equals_simulator_on_the_seed_toy():
    toy = _nest(
        ConvGeometry(B=1, K=8, C=1, y=AxisGeometry(5, 3), x=AxisGeometry(5, 3)),
        [Loop("FY", 3), Loop("FX", 3), Loop("IX", 5), Loop("IY", 5)], [SpatialLoop("D1", "K", 8)],
        {"W": (_lv("sram", 4, {"D1"}),), "I": (_lv("sram_i", 4, {"D1"}),), "O": (_lv("sram", 4, {"D1"}, True),)},
    )
    check_all_switches(toy)
