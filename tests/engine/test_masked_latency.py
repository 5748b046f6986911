"""The masked path feeds ZigZag's window latency model exactly (engine/latency.py, engine/walk.py).

The compiled pass sums, per sample and link, the four numbers the model reads of a link's transfer events
(`latency.LinkSums`: events, bits, busy cycles, cycles beyond the allowed) instead of keeping the events.
The reference here keeps them: the plain replay (`validation.naive`) gives every tile and parent event,
the simulator's own direction rules (`validation.rules._transfers`) turn them into per-level, per-direction
events, and this file sums their bits and cycles one by one. Both the sums and every latency part must
equal the engine's, on generated masked layers under all four switch settings.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from conftest import write_stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validation.cases import data_masks, loop_nests, multi_pe_nests
from validation.naive import naive_simulate
from validation.rules import _transfers
from zz_event.engine.evaluate import evaluate
from zz_event.engine.executed import Executed
from zz_event.engine.explicit import masked_counts
from zz_event.engine.latency import latency_parts, links_of
from zz_event.engine.result import EngineOptions
from zz_event.model.vocabulary import OPERANDS

SWITCHES = [(f, r) for f in (False, True) for r in (False, True)]
STATS: Counter = Counter()


def _reference_sums(nest, filt: bool, ready: bool, mask) -> tuple[int, dict]:
    """(compute cycles, per link (op, level, direction) its sums), from the replay's events one by one."""
    _macs, cycles, seqs, parents, _out, _data = naive_simulate(nest, filt, ready, mask)
    links = links_of(nest)
    sums = {}
    for op in OPERANDS:
        own = {(top, served): ev for (o, top, served), ev in seqs.items() if o == op}
        own_parents = {key[1:]: ev for key, ev in parents.items() if key[0] == op}
        per_level, _, _ = _transfers(nest, op, own, own_parents, ready)
        p_partial, p_final = (nest.precision["O"], nest.precision["O_final"]) if op == "O" \
            else (nest.precision[op],) * 2
        for j, per_dir in enumerate(per_level):
            for d, ev in per_dir.items():
                link = links.get((op, j, d))
                if link is None:
                    continue
                bits = []
                for part in ev.parts:
                    n = len(part.partial if part.partial is not None else part.final)
                    partial = part.partial if part.partial is not None else np.zeros(n, dtype=np.int64)
                    final = part.final if part.final is not None else np.zeros(n, dtype=np.int64)
                    bits += [int(a) * p_partial + int(b) * p_final for a, b in zip(partial, final)]
                bits = [b for b in bits if b > 0]  # an event moving nothing is no transfer
                if not bits:
                    continue
                cycles_each = [-(-b // link.bw) for b in bits]
                sums[(op, j, d)] = (len(bits), sum(bits), sum(cycles_each),
                                    sum(max(c - link.allowed, 0) for c in cycles_each))
    return cycles, sums


def _check(nest, mask) -> None:
    for filt, ready in SWITCHES:
        cycles, expected = _reference_sums(nest, filt, ready, mask)
        ex = Executed(nest, filt, mask[None])
        got = {}
        for op in OPERANDS:
            for (j, d), per_sample in masked_counts(ex, op, ready).links.items():
                if per_sample[0, 0]:
                    got[(op, j, d)] = tuple(int(v) for v in per_sample[0])
        assert got == expected
        parts = latency_parts(nest, cycles, filt, expected)
        result = evaluate(nest, EngineOptions(filter=filt, readiness=ready), mask=mask)
        assert result.compute_cycles == cycles
        assert (result.onload_cycles, result.stall_cycles, result.offload_cycles, result.drain_cycles) == \
            (parts.onload, parts.stall, parts.offload, parts.drain)
        STATS["comparisons"] += 1
        STATS["links compared"] += len(expected)
        STATS["with stalls"] += parts.stall > 0
        STATS["links with cycles beyond the allowed"] += sum(1 for s in expected.values() if s[3])
        # busy not a multiple of events: the link's events take different cycles each
        STATS["links whose events differ in cycles"] += sum(1 for s in expected.values() if s[2] % s[0])


@st.composite
def _masked(draw, nests):
    nest = draw(nests)
    mask, _kind = draw(data_masks(nest.geometry))
    return nest, mask


CASES = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


@CASES
@given(_masked(st.one_of(loop_nests(overshoot=False), loop_nests(overshoot=True))))
def test_masked_latency_equals_the_replayed_events(case):
    _check(*case)


@CASES
@given(_masked(multi_pe_nests()))
def test_masked_latency_equals_the_replayed_events_several_pes(case):
    _check(*case)


def test_the_comparisons_exercise_the_model():
    """Run after the generated cases (file order): some links exceed their allowed cycles and some
    links' events differ in size, so the per-event rounding matters."""
    assert STATS["comparisons"] > 0
    assert STATS["links with cycles beyond the allowed"] > 0
    assert STATS["links whose events differ in cycles"] > 0


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    write_stats(request, "test_masked_latency", dict(sorted(STATS.items())))
