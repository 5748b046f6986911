"""The engine's two backends agree: per-axis (analytic) event multisets equal the explicit tile walk's,
for every operand, level boundary, served set and switch setting, on random mapped layers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings

from validation.cases import loop_nests
from zz_event.engine.analytic import analytic_applicable, analytic_events
from zz_event.engine.enumerated import enumerated_events
from zz_event.engine.instance_split import split_nests
from zz_event.engine.tiles import UNCOUPLED, _exact_dim
from zz_event.engine.touches import OutputTouches
from zz_event.engine.transfers import sequence_events
from zz_event.memo import clear_caches
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS

FIELDS = {
    "entry": ("entry", "entry_first", "entry_weight"),
    "exit": ("exit", "exit_final", "exit_weight"),
    "tile": ("tile", "tile_first", "tile_last", "tile_weight"),
    "onload": ("onload", "onload_weight"),
    "offload": ("offload", "offload_weight"),
}


def multiset(events, fields) -> dict:
    """Weighted multiset of event tuples, ignoring empty events."""
    out: dict = {}
    *values, weight = (getattr(events, f).tolist() for f in fields)
    for row in zip(*values, weight):
        key, w = row[:-1], row[-1]
        if w and any(key):
            out[key] = out.get(key, 0) + w
    return out


def boundaries(nest):
    for op, levels in nest.levels.items():
        for j in range(-1, len(levels) - 1):
            n_inner = levels[j].top if j >= 0 else 0
            served = {levels[j + 1].served} | ({levels[j].served} if j >= 0 else set())
            for s in served:
                yield op, n_inner, s


def overshoots(nest) -> bool:
    return any(not _exact_dim(nest, dim) for dim in UNCOUPLED)


def check(nest) -> int:
    """Compare the backends wherever the analytic one applies; the number of boundaries compared."""
    compared = 0
    for op, n_inner, served in boundaries(nest):
        if not analytic_applicable(nest, n_inner, served):
            continue
        compared += 1
        for filtered in (False, True):
            for touches in (None, OutputTouches(nest, filtered)) if op == "O" else (None,):
                assert_same_events(analytic_events(nest, op, n_inner, served, filtered, touches),
                                   enumerated_events(nest, op, n_inner, served, filtered, touches),
                                   (op, n_inner, sorted(served), filtered, touches is not None))
    return compared


def assert_same_events(a, b, context) -> None:
    for name, fields in FIELDS.items():
        assert multiset(a, fields) == multiset(b, fields), (name, context)
    assert a.steps == b.steps, ("steps", context)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(loop_nests())
def test_analytic_equals_enumerated(nest):
    check(nest)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(loop_nests())
def test_analytic_equals_enumerated_many(nest):
    check(nest)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(loop_nests())
def test_analytic_equals_enumerated_with_overshooting_loops(nest):
    """Overshooting uncoupled loops that empty no tile: blocks of unequal size, still per-axis."""
    assume(overshoots(nest))
    assume(check(nest) > 0)


def _single_level_nest(k: int, k_pes: int, temporal: tuple[Loop, ...], served: frozenset[str]) -> LoopNest:
    ports = {d: Port(f"sram.{d}", 128, 128) for d in DIRECTIONS}
    level = lambda psum: (MemLevel("sram", len(temporal), served, 10.5, 12.8, ports, psum),)  # noqa: E731
    axis = AxisGeometry(inp=6, kernel=3, stride=1, dilation=1, pad_before=0, pad_after=0)
    return LoopNest(
        geometry=ConvGeometry(B=1, K=k, C=1, y=axis, x=axis, G=1), centric="input", temporal=temporal,
        spatial=(SpatialLoop("D1", "K", k_pes),), levels={"W": level(False), "I": level(False), "O": level(True)},
        precision={"W": 8, "I": 8, "O": 16, "O_final": 8}, mac_energy=0.0,
        dense_relation={"Y": (1, 1), "X": (1, 1)},
    )


def test_overshooting_output_channels_on_served_pes_stay_per_axis():
    """Stream's LeNet-5 conv1 tile shape: K 6 on 4 PEs in two steps (4 + 2 channels). The PEs are served
    by one memory, so no tile is empty: the per-axis backend applies and equals the explicit walk."""
    temporal = (Loop("K", 2), Loop("IY", 6), Loop("IX", 6), Loop("FY", 3), Loop("FX", 3))
    nest = _single_level_nest(6, 4, temporal, frozenset({"D1"}))
    assert check(nest) == 3


def test_overshooting_loops_that_empty_tiles_take_the_explicit_walk():
    """Per-PE instances (nothing served): PEs 2 and 3 have no channel in the second step."""
    temporal = (Loop("K", 2), Loop("IY", 6), Loop("IX", 6), Loop("FY", 3), Loop("FX", 3))
    nest = _single_level_nest(6, 4, temporal, frozenset())
    assert not analytic_applicable(nest, 0, frozenset())
    assert check(nest) == 0


def check_split(nest) -> int:
    """Compare the dispatch that splits empty-tile overshoots into per-instance nests with the explicit walk
    (outputs with and without readiness); the number of boundaries split."""
    compared = 0
    for op, n_inner, served in boundaries(nest):
        if analytic_applicable(nest, n_inner, served) or split_nests(nest, n_inner, served) is None:
            continue
        compared += 1
        for filtered in (False, True):
            for touches in (None, OutputTouches(nest, filtered)) if op == "O" else (None,):
                clear_caches()  # a memoised readiness variant stands for the other (its extra columns unread)
                assert_same_events(sequence_events(nest, op, n_inner, served, filtered, touches),
                                   enumerated_events(nest, op, n_inner, served, filtered, touches),
                                   (op, n_inner, sorted(served), filtered, touches is not None))
    return compared


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(loop_nests())
def test_overshooting_loops_that_empty_tiles_split_per_instance_equal_the_explicit_walk(nest):
    assume(overshoots(nest))
    assume(check_split(nest) > 0)


def test_an_instance_whose_last_step_is_empty_keeps_its_data_across_it():
    """C 3 on 2 PEs in 2 steps, between two K loops: PE 1 holds input channel 1 and nothing in the second
    step, so it keeps channel 1 for all 4 of its tiles (1 entry); PE 0 alternates channels 0 and 2 (4)."""
    ports = {d: Port(f"reg.{d}", 8, 8) for d in DIRECTIONS}
    axis = AxisGeometry(inp=1, kernel=1, stride=1, dilation=1, pad_before=0, pad_after=0)
    nest = LoopNest(
        geometry=ConvGeometry(B=1, K=4, C=3, y=axis, x=axis), centric="input",
        temporal=(Loop("K", 2), Loop("C", 2), Loop("K", 2)), spatial=(SpatialLoop("D1", "C", 2),),
        levels={op: (MemLevel("reg", 3, frozenset(), 0.5, 0.7, ports),) for op in ("W", "I", "O")},
        precision={"W": 8, "I": 8, "O": 16, "O_final": 8},
    )
    views = split_nests(nest, 0, frozenset())
    assert [(v.geometry.C, v.loop_pairs, v.spatial, n_inner, n) for v, n_inner, n in views] == [
        (1, (("K", 2), ("K", 2)), (), 0, 1), (2, (("K", 2), ("C", 2), ("K", 2)), (), 0, 1)]
    events = sequence_events(nest, "I", 0, frozenset(), False, None)
    assert multiset(events, FIELDS["entry"]) == {(1, 0): 5}
    assert check_split(nest) == 3
