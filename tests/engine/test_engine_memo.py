"""The engine memoises tile sequences on their structure (`transfers.structural_key`), so one mapping's
sequences serve another's. Sound only if a sequence depends on nothing else: here a nest is evaluated
cold, and again after a sibling has filled the memo - one that shares its upper boundaries (the same
loops above, the inner loops shuffled), or one whose outer loops come in another order (which the key
ignores above the innermost relevant loop, where it can); the results must be identical."""

from __future__ import annotations

import pickle
from dataclasses import replace

from conftest import toy_nest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validation.cases import loop_nests
from zz_event.engine.evaluate import clear_caches, evaluate
from zz_event.engine.result import EngineOptions
from zz_event.engine.transfers import _SEQUENCES, structural_key
from zz_event.model.nest import Loop, SpatialLoop

SWITCHES = [EngineOptions(f, r) for f in (False, True) for r in (False, True)]


@st.composite
def nest_pairs(draw):
    """A nest and a sibling whose innermost `n` temporal loops come in another order."""
    nest = draw(loop_nests())
    n = draw(st.integers(0, len(nest.temporal)))
    inner = draw(st.permutations(nest.temporal[:n]))
    return nest, replace(nest, temporal=tuple(inner) + nest.temporal[n:]), n


@st.composite
def outer_shuffles(draw):
    """A nest and a sibling whose temporal loops from the `n`-th up come in another order."""
    nest = draw(loop_nests())
    n = draw(st.integers(0, len(nest.temporal)))
    outer = draw(st.permutations(nest.temporal[n:]))
    return nest, replace(nest, temporal=nest.temporal[:n] + tuple(outer)), n


def assert_warm_equals_cold(nest, sibling):
    for options in SWITCHES:
        clear_caches()
        cold = evaluate(nest, options)
        clear_caches()
        evaluate(sibling, options)
        assert evaluate(nest, options) == cold


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nest_pairs())
def test_a_warm_memo_gives_the_cold_result(pair):
    assert_warm_equals_cold(*pair[:2])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outer_shuffles())
def test_a_memo_warmed_by_other_outer_orders_gives_the_cold_result(pair):
    assert_warm_equals_cold(*pair[:2])


def test_the_key_ignores_inner_order_and_sees_outer_order():
    nest = toy_nest()
    swapped_inner = replace(nest, temporal=(nest.temporal[1], nest.temporal[0], *nest.temporal[2:]))
    swapped_outer = replace(nest, temporal=(*nest.temporal[:2], nest.temporal[3], nest.temporal[2]))
    key = lambda n: structural_key(n, "W", 2, frozenset(), True, False, frozenset({"entry"}))  # noqa: E731
    assert key(nest) == key(swapped_inner)
    assert key(nest) != key(swapped_outer)


def test_the_key_ignores_the_order_above_the_innermost_relevant_loop_only_where_it_can():
    toy = toy_nest()
    fy, fx, ix, iy = toy.temporal
    k, c = Loop("K", 2), Loop("C", 2)
    nest = replace(toy, geometry=replace(toy.geometry, C=2), temporal=(fy, k, fx, c, ix, iy),
                   spatial=(SpatialLoop("D1", "K", 4),))
    shuffled = replace(nest, temporal=(fy, k, iy, ix, c, fx))  # the same loops above K
    c_moved = replace(nest, temporal=(fy, k, fx, ix, c, iy))  # only C moves among them
    below = replace(nest, temporal=(k, fy, fx, c, ix, iy))
    key = lambda n, op, need, ready=False: structural_key(n, op, 0, frozenset(), True, ready, frozenset(need))  # noqa: E731
    assert key(nest, "W", {"entry"}) == key(shuffled, "W", {"entry"})  # K is relevant to weights
    assert key(nest, "W", {"entry"}) != key(below, "W", {"entry"})
    assert key(nest, "W", {"entry", "onload"}) != key(shuffled, "W", {"entry", "onload"})  # the first tile
    assert key(nest, "I", {"entry"}) != key(shuffled, "I", {"entry"})  # C (relevant to inputs) is higher
    assert key(nest, "I", {"entry"}) == key(replace(nest, temporal=(fy, k, fx, c, iy, ix)), "I", {"entry"})
    # Touches: the coupled loops keep their order, the output-irrelevant C does not.
    assert key(nest, "O", {"tile"}, ready=True) == key(c_moved, "O", {"tile"}, ready=True)
    assert key(nest, "O", {"tile"}, ready=True) != key(shuffled, "O", {"tile"}, ready=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loop_nests())
def test_filter_only_reuses_the_readiness_sequences_and_gives_the_cold_result(nest):
    """Outputs without readiness read the readiness variant's sequences (the same event multisets, only
    split further by touches), so evaluating it right after the event-driven one computes nothing new."""
    filter_only = EngineOptions(filter=True, readiness=False)
    clear_caches()
    cold = evaluate(nest, filter_only)
    clear_caches()
    evaluate(nest, EngineOptions(filter=True, readiness=True))
    held = len(_SEQUENCES._entries)
    assert evaluate(nest, filter_only) == cold
    assert len(_SEQUENCES._entries) == held


def test_a_pickled_nest_leaves_its_per_process_shape_id_behind():
    nest = toy_nest()
    assert nest.shape_id == toy_nest().shape_id  # one id per shape in this process
    copy = pickle.loads(pickle.dumps(nest))
    assert "shape_id" not in copy.__dict__ and copy.temporal == nest.temporal
    assert evaluate(copy) == evaluate(nest)


def test_an_operand_entry_serves_only_its_own_levels_and_precision():
    """Operands' counts and words are memoised on their sequences plus their levels (by identity) and
    precision: a nest sharing the sequences but not those must get its own."""
    nest = toy_nest()
    wider = replace(nest, precision={**nest.precision, "W": 32, "O": 32})
    costlier = replace(nest, levels={op: tuple(replace(lv, read_cost=2 * lv.read_cost) for lv in levels)
                                     for op, levels in nest.levels.items()})
    for other in (wider, costlier):
        clear_caches()
        cold = evaluate(other)
        clear_caches()
        evaluate(nest)
        assert evaluate(other) == cold != evaluate(nest)
