"""The compiled per-axis side (`side_kernel.side_rows`, used by `axis_configs._side`) gives the same rows
and counts, in the same order, as the numpy path it replaces, on every side random mapped layers build."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from validation.cases import loop_nests
from zz_event.engine import axis_configs
from zz_event.engine.analytic import analytic_applicable, analytic_events
from zz_event.engine.touches import OutputTouches
from zz_event.memo import clear_caches

FIELDS = ("group", "size", "kept", "first", "pred_size", "pred_last", "count")


def _boundaries(nest):
    for op, levels in nest.levels.items():
        for j in range(-1, len(levels) - 1):
            n_inner = levels[j].top if j >= 0 else 0
            for served in {levels[j + 1].served} | ({levels[j].served} if j >= 0 else set()):
                yield op, n_inner, served


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(loop_nests(overshoot=False))
def test_compiled_side_equals_numpy_side(nest):
    clear_caches()
    built = []
    original = axis_configs._side

    def spy(table, kinds, own):
        side = original(table, kinds, own)
        built.append((side, axis_configs._side_numpy(table, kinds, own)))
        return side

    axis_configs._side = spy
    try:
        for op, n_inner, served in _boundaries(nest):
            if analytic_applicable(nest, n_inner, served):
                for filtered in (False, True):
                    for touches in (None, OutputTouches(nest, filtered)) if op == "O" else (None,):
                        analytic_events(nest, op, n_inner, served, filtered, touches)
    finally:
        axis_configs._side = original
    assert built  # every boundary of an exactly tiled nest takes the per-axis path, which builds sides
    for compiled, reference in built:
        for name in FIELDS:
            a, b = getattr(compiled, name), getattr(reference, name)
            assert a.dtype == b.dtype == np.int64 and np.array_equal(a, b), name
