"""The correction's worker process answers exactly what inline evaluation gives, skips the answers of
abandoned work instead of handing them to the wrong mapping, and raises the engine's own errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import toy_nest

from zz_event.engine.result import EngineOptions
from zz_event.zigzag.adapter import NestContext
from zz_event.zigzag.correction import answer
from zz_event.zigzag.worker import Worker as _Worker

DENSE = EngineOptions(False, False)


def context_and_mappings(nest):
    """The toy nest as a NestContext, and three orderings of its loops as CmeMappings."""
    levels = {op: tuple(replace(level, top=0, psum=False) for level in lv) for op, lv in nest.levels.items()}
    context = NestContext(nest.geometry, nest.centric, nest.spatial, levels, nest.precision, nest.mac_energy,
                          nest.dense_relation)
    loops = [(loop.dim, loop.size) for loop in nest.temporal]
    orders = [loops, loops[::-1], loops[2:] + loops[:2]]
    owned = tuple((len(loops),) for _ in range(3))
    return context, [(tuple(order), owned, (True,)) for order in orders]


def energy_costs(context):
    return tuple((op, tuple((lv.read_cost, lv.write_cost) for lv in levels)) for op, levels in context.levels.items())


def submit(worker, context, mapping, variants=()):
    return worker.submit((context, EngineOptions(), variants, None, energy_costs(context), None), mapping, None)


def inline(context, mapping, variants=()):
    return answer(context, EngineOptions(), variants, None, energy_costs(context), None, mapping, None)


def same(received, expected) -> bool:
    """Equal answers: the same scalars and row, and the same results once unpickled."""
    return received._replace(results=b"") == expected._replace(results=b"") and (
        received.unpickled() == expected.unpickled())


@pytest.fixture
def worker():
    w = _Worker([])
    yield w
    w.close()


def test_answers_equal_inline_evaluation_in_order(worker):
    context, mappings = context_and_mappings(toy_nest())
    tickets = [submit(worker, context, m, (DENSE,)) for m in mappings]
    for ticket, mapping in zip(tickets, mappings):
        assert same(worker.receive(ticket.number), inline(context, mapping, (DENSE,)))


def test_answers_of_abandoned_work_are_skipped(worker):
    context, mappings = context_and_mappings(toy_nest())
    submit(worker, context, mappings[0])  # a run that stopped before reading its answers
    submit(worker, context, mappings[1])
    ticket = submit(worker, context, mappings[2])
    assert same(worker.receive(ticket.number), inline(context, mappings[2]))
    assert worker.in_flight == 0


def test_the_engines_error_is_raised_in_the_parent(worker):
    context, mappings = context_and_mappings(toy_nest())
    (o_level,) = context.levels["O"]
    broken = replace(context, levels={**context.levels, "O": (replace(o_level, ports={}),)})
    ticket = submit(worker, broken, mappings[0])
    with pytest.raises(ValueError, match="has no port"):
        worker.receive(ticket.number)
    ok = submit(worker, context, mappings[0])  # the worker lives on
    assert same(worker.receive(ok.number), inline(context, mappings[0]))


def test_a_killed_worker_is_reported_and_replaced():
    import os
    import signal

    from zz_event.zigzag import worker as zigzag_stages

    context, mappings = context_and_mappings(toy_nest())
    first = zigzag_stages.workers(1)[0]
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.join()
    with pytest.raises(RuntimeError, match="ended unexpectedly"):  # sending or receiving, whichever fails first
        ticket = submit(first, context, mappings[0])
        first.receive(ticket.number)
    second = zigzag_stages.workers(1)[0]
    assert second is not first and second.process.is_alive()
    ticket = submit(second, context, mappings[0])
    assert same(second.receive(ticket.number), inline(context, mappings[0]))
    zigzag_stages.end_workers()


def test_each_of_two_workers_ends_when_its_pipe_closes():
    """A later fork inherits the earlier worker's pipe ends; unless it closes them, the earlier worker
    would never see its pipe close."""
    from zz_event.zigzag import worker as zigzag_stages

    zigzag_stages.end_workers()
    first, second = zigzag_stages.workers(2)
    first.requests.close()
    first.answers.close()
    first.process.join(timeout=10)
    assert first.process.exitcode == 0
    zigzag_stages._WORKERS.remove(first)
    first.close()
    assert second.process.is_alive()
    zigzag_stages.end_workers()
    assert second.process.exitcode == 0


def test_the_heap_is_frozen_exactly_while_a_worker_lives():
    """Objects alive at a fork stay out of the collector's walks while a worker shares their pages, and
    return to it when the last worker ends."""
    import gc

    from zz_event.zigzag import worker as zigzag_stages

    zigzag_stages.end_workers()
    assert gc.get_freeze_count() == 0
    first = zigzag_stages.Worker([])
    frozen = gc.get_freeze_count()
    assert frozen > 1000
    second = zigzag_stages.Worker([first])
    first.close()
    assert gc.get_freeze_count() >= frozen  # the second worker still shares them
    second.close()
    assert gc.get_freeze_count() == 0


def test_a_new_jobs_first_mapping_goes_at_once_and_the_rest_in_batches(worker):
    """The first answer for a context is the slowest (cold caches): it is asked for before the batch fills."""
    context, mappings = context_and_mappings(toy_nest())
    job = (context, EngineOptions(), (), None, energy_costs(context), None)
    first = worker.submit(job, mappings[0], None)
    assert worker.batch == [] and worker.in_flight == 1
    tickets = [worker.submit(job, mappings[i % 3], None) for i in range(1, 4)]
    assert len(worker.batch) == 3  # held until the batch is full
    assert same(worker.receive(first.number), inline(context, mappings[0]))
    assert same(worker.receive(tickets[-1].number), inline(context, mappings[0]))
