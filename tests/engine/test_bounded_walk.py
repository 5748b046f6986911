"""Bounded memory (issue 16, item 1): the explicit tile walk (`enumerated.py`) and the output touches
(`touches.py`) work a slice (a few rows) at a time, and the per-child union walk (`siblings.py`)
keeps arrays over the operand's elements only. Taken one row (one element) at a time they must give
exactly what the reference simulator counts, on layers whose spatial unrollings do not divide the loop
and on strided layers with IX/IY unrolled."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings

import zz_event.engine.enumerated as enumerated
import zz_event.engine.touches as touches
from validation.cases import loop_nests, multi_pe_nests
from validation.simulator import simulate
from zz_event.engine.evaluate import clear_caches, evaluate
from zz_event.engine.result import EngineOptions
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS

SWITCHES = [(f, r) for f in (False, True) for r in (False, True)]
_PORTS = {d: Port(f"p.{d}", 8, 8) for d in DIRECTIONS}


@contextmanager
def smallest_parts():
    """Parts of one row and slices of one element: every merge between parts is exercised."""
    saved = touches._CHUNK, enumerated._CELLS
    touches._CHUNK = enumerated._CELLS = 1
    clear_caches()
    try:
        yield
    finally:
        touches._CHUNK, enumerated._CELLS = saved
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
