"""A correction worker answers with packed results (`zz_event.engine.packed`); the main process rebuilds
the engine's result from them where one is read. The rebuilt result must be the one the engine computed,
field for field, and the packed scalars those the CorrectedCME and the mapspace read."""

from __future__ import annotations

import pickle

from hypothesis import HealthCheck, given, settings

from validation.cases import loop_nests
from zz_event.engine.evaluate import evaluate
from zz_event.engine.packed import pack, unpack
from zz_event.engine.result import EngineOptions
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS

SWITCHES = [EngineOptions(f, r) for f in (False, True) for r in (False, True)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loop_nests())
def test_unpack_rebuilds_the_engines_result(nest):
    for options in SWITCHES:
        result = evaluate(nest, options)
        packed = pickle.loads(pickle.dumps(pack(result)))  # as a worker's answer arrives
        rebuilt = unpack(packed)
        assert rebuilt == result
        assert list(rebuilt.port_busy_cycles.items()) == list(result.port_busy_cycles.items())
        assert (packed.latency_cycles, packed.energy_pj) == (result.latency_cycles, result.energy_pj)
        for op in OPERANDS:
            assert packed.level_words(op) == [tuple(lc.words[d] for d in DIRECTIONS) for lc in result.levels[op]]
