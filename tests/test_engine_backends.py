"""The engine's two backends agree: per-axis (analytic) event multisets equal the explicit tile walk's,
for every operand, level boundary, served set and switch setting, on random mapped layers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from validation.cases import loop_nests
from zz_event.engine.analytic import analytic_applicable, analytic_events
from zz_event.engine.enumerated import enumerated_events
from zz_event.engine.touches import OutputTouches

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


def check(nest) -> None:
    for op, n_inner, served in boundaries(nest):
        for filtered in (False, True):
            for touches in (None, OutputTouches(nest, filtered)) if op == "O" else (None,):
                a = analytic_events(nest, op, n_inner, served, filtered, touches)
                b = enumerated_events(nest, op, n_inner, served, filtered, touches)
                context = (op, n_inner, sorted(served), filtered, touches is not None)
                for name, fields in FIELDS.items():
                    assert multiset(a, fields) == multiset(b, fields), (name, context)
                assert a.steps == b.steps, ("steps", context)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(loop_nests())
def test_analytic_equals_enumerated(nest):
    if analytic_applicable(nest):
        check(nest)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(loop_nests())
def test_analytic_equals_enumerated_many(nest):
    if analytic_applicable(nest):
        check(nest)
