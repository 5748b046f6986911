"""Bounded memory (issue 16, item 1): the explicit tile walk (`enumerated.py`) works a slice (a few rows)
at a time, the output touches (`touches.py`) visit their (element, instance) pairs one at a time in a
compiled pass, and the per-child union walk (`siblings.py`) keeps arrays over the operand's elements
only. Taken one row at a time they must give
exactly what the reference simulator counts, on layers whose spatial unrollings do not divide the loop
and on strided layers with IX/IY unrolled."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings

import zz_event.engine.enumerated as enumerated
from validation.cases import loop_nests, multi_pe_nests
from validation.simulator import simulate
from zz_event.engine.analytic import analytic_applicable
from zz_event.engine.evaluate import clear_caches, evaluate
from zz_event.engine.result import EngineOptions
from zz_event.engine.touches import OutputTouches
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS

SWITCHES = [(f, r) for f in (False, True) for r in (False, True)]
_PORTS = {d: Port(f"p.{d}", 8, 8) for d in DIRECTIONS}


@contextmanager
def smallest_parts():
    """Parts of one row: every merge between parts is exercised."""
    saved = enumerated._CELLS
    enumerated._CELLS = 1
    clear_caches()
    try:
        yield
    finally:
        enumerated._CELLS = saved
        clear_caches()


def assert_engine_equals_simulator(nest: LoopNest) -> None:
    with smallest_parts():
        for filt, ready in SWITCHES:
            eng = evaluate(nest, EngineOptions(filter=filt, readiness=ready))
            sim = simulate(nest, filter=filt, readiness=ready)
            assert (eng.macs, eng.compute_cycles) == (sim.macs, sim.compute_cycles)
            for op in ("W", "I", "O"):
                for e, s in zip(eng.levels[op], sim.levels[op], strict=True):
                    assert (e.elements, e.words) == (s.elements, s.words), (nest, filt, ready, op, e, s)


def _lv(name, top, served=(), psum=True) -> MemLevel:
    return MemLevel(name, top, frozenset(served), 1.0, 1.0, _PORTS, psum)


# C 5 on a 4-wide array (2 temporal: the second step has one valid PE) and K 3 on 2 (likewise), per-PE
# registers under a shared SRAM: what AlexNet's C 48 on 32 and MobileNetV2's K 144 on 32 become.
NON_DIVIDING = LoopNest(
    ConvGeometry(B=1, K=3, C=5, y=AxisGeometry(4, 2), x=AxisGeometry(5, 3, pad_before=1, pad_after=1)), "input",
    (Loop("IX", 5), Loop("C", 2), Loop("FX", 3), Loop("K", 2), Loop("IY", 4), Loop("FY", 2)),
    (SpatialLoop("D1", "C", 4), SpatialLoop("D2", "K", 2)),
    {"W": (_lv("reg", 3), _lv("sram", 6, {"D1", "D2"})), "I": (_lv("sram", 6, {"D1", "D2"}),),
     "O": (_lv("reg", 0, {"D1"}), _lv("sram", 6, {"D1", "D2"}))},
    {"W": 8, "I": 8, "O": 16, "O_final": 8},
)

# A stride-2 layer with IX and IY unrolled (3 of 7, 2 of 6: neither divides), each PE with its own output
# register: the shape of AlexNet's 11x11 stride-4 conv1 on meta_prototype, scaled down.
STRIDED = LoopNest(
    ConvGeometry(B=1, K=2, C=1, y=AxisGeometry(6, 3, stride=2), x=AxisGeometry(7, 3, stride=2)), "input",
    (Loop("FX", 3), Loop("IX", 3), Loop("K", 2), Loop("IY", 3), Loop("FY", 3)),
    (SpatialLoop("D1", "IX", 3), SpatialLoop("D2", "IY", 2)),
    {"W": (_lv("reg", 1), _lv("sram", 5, {"D1", "D2"})), "I": (_lv("sram", 5, {"D1", "D2"}),),
     "O": (_lv("reg", 0), _lv("sram", 5, {"D1", "D2"}))},
    {"W": 8, "I": 8, "O": 16, "O_final": 8},
)


@pytest.mark.parametrize("nest", [NON_DIVIDING, STRIDED], ids=["non-dividing", "strided-ix-iy"])
def test_windowed_walk_equals_simulator(nest):
    assert_engine_equals_simulator(nest)


@pytest.mark.parametrize("nest", [NON_DIVIDING, STRIDED], ids=["non-dividing", "strided-ix-iy"])
def test_window_sizes_do_not_change_counts(nest):
    clear_caches()
    whole = evaluate(nest, EngineOptions())
    with smallest_parts():
        assert evaluate(nest, EngineOptions()) == whole


FAST = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@FAST
@given(multi_pe_nests(overshoot=True))
def test_windowed_walk_on_generated_multi_pe_layers(nest):
    assert_engine_equals_simulator(nest)


@FAST
@given(loop_nests(overshoot=True))
def test_windowed_touches_on_generated_overshooting_layers(nest):
    assert_engine_equals_simulator(nest)


def _explicit_events(nest: LoopNest) -> dict:
    """Every tile sequence the explicit walk counts for `nest` (each level's own, both filter settings, with
    and without output touches), as multisets of events."""
    out = {}
    for op, levels in nest.levels.items():
        for n_inner, served in {(0, levels[0].served)} | {(lv.top, lv.served) for lv in levels[:-1]}:
            if analytic_applicable(nest, n_inner, served):
                continue
            for filt in (False, True):
                for ready in (False, True) if op == "O" else (False,):
                    ev = enumerated.enumerated_events(nest, op, n_inner, served, filt,
                                                      OutputTouches(nest, filt) if ready else None)
                    out[(op, n_inner, served, filt, ready)] = {group[-1]: _multiset(ev, group)
                                                               for group in enumerated._GROUPS} | {"steps": ev.steps}
    return out


def _multiset(ev, group) -> Counter:
    """An event list as a multiset: each event (its columns) with the sum of its weights."""
    *names, weight = group
    out: Counter = Counter()
    for *key, w in zip(*(getattr(ev, n).tolist() for n in names), getattr(ev, weight).tolist()):
        out[tuple(key)] += w
    return +out


def _one_row_per_instance(*_args) -> int:
    return 1


@FAST
@given(multi_pe_nests(overshoot=True))
def test_coupled_rows_fold_gives_the_events_of_every_row_walked(nest):
    """Instances over position or tap digits that hold translates of one another's elements are walked as
    one row standing for all: the same events as walking each row."""
    clear_caches()
    folded = _explicit_events(nest)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(enumerated, "_coupled_rows", _one_row_per_instance)
        clear_caches()
        walked = _explicit_events(nest)
    clear_caches()
    assert folded == walked
