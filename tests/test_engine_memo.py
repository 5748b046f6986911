"""The engine memoises tile sequences on their structure (`transfers.structural_key`), so one mapping's
sequences serve another's. Sound only if a sequence depends on nothing else: here a nest is evaluated
cold, and again after a nest that shares its upper boundaries (the same loops above, the inner loops
shuffled) has filled the memo; the results must be identical."""

from __future__ import annotations

import pickle
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_simulator import toy_nest
from validation.cases import loop_nests
from zz_event.engine.evaluate import clear_caches, evaluate
from zz_event.engine.result import EngineOptions
from zz_event.engine.transfers import _SEQUENCES, structural_key

SWITCHES = [EngineOptions(f, r) for f in (False, True) for r in (False, True)]


@st.composite
def nest_pairs(draw):
    """A nest and a sibling whose innermost `n` temporal loops come in another order."""
    nest = draw(loop_nests())
    n = draw(st.integers(0, len(nest.temporal)))
    inner = draw(st.permutations(nest.temporal[:n]))
    return nest, replace(nest, temporal=tuple(inner) + nest.temporal[n:]), n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nest_pairs())
def test_a_warm_memo_gives_the_cold_result(pair):
    nest, sibling, n = pair
    for options in SWITCHES:
        clear_caches()
        cold = evaluate(nest, options)
        clear_caches()
        evaluate(sibling, options)
        assert evaluate(nest, options) == cold


def test_the_key_ignores_inner_order_and_sees_outer_order():
    nest = toy_nest()
    swapped_inner = replace(nest, temporal=(nest.temporal[1], nest.temporal[0], *nest.temporal[2:]))
    swapped_outer = replace(nest, temporal=(*nest.temporal[:2], nest.temporal[3], nest.temporal[2]))
    key = lambda n: structural_key(n, "W", 2, frozenset(), True, False, frozenset({"entry"}))  # noqa: E731
    assert key(nest) == key(swapped_inner)
    assert key(nest) != key(swapped_outer)


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
