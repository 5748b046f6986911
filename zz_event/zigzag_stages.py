"""ZigZag stages that put zz-event into ZigZag's own pipeline.

`EventDrivenCorrectionStage` sits directly above the temporal-mapping generator (below the inner
Minimal*Stage): it sees every CostModelEvaluation of every temporal mapping and yields corrected ones,
so ZigZag's reduce stages rank mappings on corrected cost. Layers the engine does not correct pass
through with ZigZag's cost and a `zz_event_uncorrected` reason attached, never silently.

Stage keyword arguments (passed through MainStage like any ZigZag kwarg):
- `zz_event_options`: EngineOptions (defaults to event-driven: filter and readiness on);
- `zz_event_geometries`: layer name -> (ConvGeometry, centric), the true geometry of converted layers;
- `zz_event_uncorrected`: layer name -> reason, layers the workload reader already knows to leave alone;
- `zz_event_variants`: extra EngineOptions to evaluate and keep on each CME (e.g. the exact dense count);
- `zz_event_workers`: 1 (default with two or more cores) to correct in a worker process overlapped with
  ZigZag, n > 1 to spread batches over n workers, 0 to correct inline. A child process always corrects
  inline: at exit it joins its own children before any atexit handler could stop the worker.
- `zz_event_row_schema`: set by the mapspace logger above (`zz_event.mapspace`): each corrected CME also
  carries its row from `temporal_ordering` on, as CSV text (`zz_event_row_tail`), made where the engine
  ran, so that the worker, not ZigZag's process, formats it.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import os
import pickle
import signal
from collections import deque
from dataclasses import dataclass
from typing import Any

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.stages.stage import Stage, StageCallable

from zz_event.corrected_cme import (
    CorrectionAnswer,
    EnergyCosts,
    correct_cme_with,
    correction_answer,
    operand_levels,
    raw_state,
)
from zz_event.engine.evaluate import evaluate
from zz_event.engine.packed import pack
from zz_event.engine.result import EngineOptions
from zz_event.errors import UnsupportedLayerError
from zz_event.mapspace_rows import MapspaceSchema, RawNumbers, raw_numbers, texts_of_mapping
from zz_event.mapspace_writer import csv_line
from zz_event.zigzag_adapter import NestContext, context_of_cme, layer_is_correctable, mapping_of_cme

__all__ = ["EventDrivenCorrectionStage", "correct_cme", "evaluate_all", "answer", "default_workers", "end_workers"]


def _context_or_reason(cme, geometry_and_centric) -> tuple[NestContext | None, str | None]:
    """The nest context of a correctable CME, else the reason it keeps ZigZag's cost."""
    reason = layer_is_correctable(cme.layer) if isinstance(cme, CostModelEvaluation) else "not a single-layer CME"
    if reason is None and type(cme) is not CostModelEvaluation:
        reason = f"{type(cme).__name__} is not ZigZag's digital cost model"
    if reason is not None:
        return None, reason
    geometry, centric = geometry_and_centric if geometry_and_centric else (None, None)
    try:
        return context_of_cme(cme, geometry, centric), None
    except UnsupportedLayerError as error:
        return None, str(error)


def evaluate_all(nest, options: EngineOptions, variants: tuple[EngineOptions, ...]):
    """The engine's result for `options` and for each variant, packed (a module-level function: runs in
    workers, whose answers are these)."""
    return pack(evaluate(nest, options)), {v.label: pack(evaluate(nest, v)) for v in variants if v != options}


def answer(context: NestContext, options: EngineOptions, variants: tuple[EngineOptions, ...],
           schema: MapspaceSchema | None, costs: EnergyCosts, mapping, raw: RawNumbers | None) -> CorrectionAnswer:
    """What ZigZag's process needs of one mapping (`costs`: the memory energies per word, to sum the
    memory energy here rather than there); with a row schema it carries the mapspace row's tail as CSV
    text. Runs in workers."""
    result, extra = evaluate_all(context.nest(mapping), options, variants)
    if schema is None:
        return correction_answer(result, extra, costs)
    texts = texts_of_mapping(mapping[0], mapping[1], context.memory_names)
    cells = schema.tail_cells(texts, None, raw, {**extra, options.label: result})
    return correction_answer(result, extra, costs, csv_line(cells)[:-1])


def correct_cme(
    cme: CostModelEvaluation,
    options: EngineOptions = EngineOptions(),
    geometry_and_centric: tuple | None = None,
    variants: tuple[EngineOptions, ...] = (),
):
    """The corrected CME of one evaluated mapping, or `cme` itself (marked) if the layer is not correctable."""
    context, reason = _context_or_reason(cme, geometry_and_centric)
    if context is None:
        cme.zz_event_uncorrected = reason
        return cme
    result, extra = evaluate_all(context.nest(mapping_of_cme(cme)), options, variants)
    return correct_cme_with(cme, correction_answer(result, extra, operand_levels(cme).energy_costs))


_BATCH = 4  # mappings per message: each pipe write that wakes the other process costs tens of µs
# Messages are pickled with `pickle` itself: Connection.send's pickler copies the copyreg table per call.
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_LAG = 2 * _BATCH  # mappings not yet answered: one batch computing while the next fills


@dataclass(frozen=True)
class _Ticket:
    """Marks a CME whose engine results `worker` will answer (`number` orders that worker's answers)."""

    worker: "_Worker"
    number: int


class _Worker:
    """One forked process that evaluates the nests sent over a pipe and answers in order.

    A bare pipe, not a ProcessPoolExecutor: the executor's feeder and manager threads contend for the
    GIL with ZigZag at every mapping, which cost more than the engine itself. What is sent per mapping
    is only its `CmeMapping` (a few hundred bytes; with a mapspace row schema, ZigZag's figures as
    `RawNumbers` too), in batches; each job (context, switches, schema, energy costs) goes once. What
    comes back is a `CorrectionAnswer` per mapping. Sends never block for long: at most `_LAG` mappings
    are unanswered, far below the pipe's buffer. Answers carry their ticket, so those of a run abandoned
    part-way are skipped, never misassigned."""

    def __init__(self, others: list["_Worker"]) -> None:
        context = multiprocessing.get_context("fork")
        # Two one-way pipes (not a socket pair): a closed end reads as a clean EOF on the other side.
        request_in, self.requests = context.Pipe(duplex=False)
        self.answers, answer_out = context.Pipe(duplex=False)
        # The fork copies the parent's ends of these pipes and of the other workers' pipes: the child
        # closes them all, or a parent's close would never reach a worker as EOF.
        parent_ends = [end for w in [*others, self] for end in (w.requests, w.answers)]
        self.process = context.Process(target=_serve, args=(request_in, answer_out, parent_ends),
                                       daemon=True, name="zz-event-correction")
        # Objects alive at the fork go to the permanent generation, on both sides, for as long as a worker
        # lives (the fork recipe of the gc docs): the child's collections never walk the parent's heap,
        # and the parent's full collections neither write the GC header of every old object, which
        # copied each shared page on write (14.9k page faults per tpu_like search, 4.6k now), nor walk
        # them. They run about twice as often as in plain ZigZag (CMEs held while their answers come
        # get promoted), so that walk mattered. Cyclic garbage among the frozen objects waits for the
        # last worker's end; acyclic garbage is freed as usual.
        gc.freeze()
        self.process.start()
        _LIVE.add(self)
        request_in.close()
        answer_out.close()
        self.sent = self.answered = 0
        # id of `answer`'s (context, options, variants, schema, costs) -> its number there, and the job (kept
        # alive so that its id stays its own). By id: hashing the tuple costs a µs per mapping.
        self.jobs: dict[int, tuple[int, tuple]] = {}
        self.dead = False
        self.batch: list[tuple] = []  # requests not sent yet
        self.received: deque = deque()  # answers read from the pipe, not yet handed out

    @property
    def in_flight(self) -> int:
        return self.sent - self.answered

    def submit(self, job: tuple, mapping, raw) -> _Ticket:
        """Queue one mapping; `job`: `answer`'s (context, options, variants, schema, costs)."""
        number = self.sent
        known = self.jobs.get(id(job))
        new = known is None  # few (one per layer, core, spatial mapping and stage): the worker keeps them all
        if new:
            known = self.jobs[id(job)] = (len(self.jobs), job)
        self.batch.append((number, known[0], job if new else None, mapping, raw))
        self.sent += 1
        # A new job's first mapping goes at once: the worker's first answer for a context is the slowest
        # (its caches are cold), and a search waits for it a batch later.
        if new or len(self.batch) >= _BATCH:
            self.flush()
        return _Ticket(self, number)

    def flush(self) -> None:
        if self.batch:
            try:
                self.requests.send_bytes(pickle.dumps(self.batch, _PROTOCOL))
            except BrokenPipeError:
                raise self._gone() from None
            self.batch = []

    def _gone(self) -> RuntimeError:
        self.dead = True  # the next stage starts a new worker
        return RuntimeError(f"the correction worker process ended unexpectedly (exit code {self.process.exitcode})")

    def receive(self, ticket: int):
        """The answer for submission number `ticket` (earlier, abandoned ones are dropped); the worker's
        exception is raised here."""
        while True:
            if not self.received:
                self.flush()
                try:
                    self.received.extend(pickle.loads(self.answers.recv_bytes()))
                except EOFError:
                    raise self._gone() from None
            number, ok, value = self.received.popleft()
            self.answered = number + 1
            if number < ticket:
                continue
            if not ok:
                raise value
            return value

    def close(self) -> None:
        """End the worker (it exits when its pipe closes) and wait for it; the last one to end returns
        the objects frozen at the forks to the garbage collector."""
        self.requests.close()
        self.answers.close()
        self.process.join()
        _LIVE.discard(self)
        if not _LIVE:
            gc.unfreeze()


_LIVE: set[_Worker] = set()  # workers started and not closed


def _serve(requests, answers, parent_ends) -> None:
    """The worker's loop. Interrupts are the parent's to handle: it stops the work and reports once."""
    for end in parent_ends:
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    jobs: dict[int, tuple] = {}
    while True:
        try:
            batch = pickle.loads(requests.recv_bytes())
        except EOFError:  # the parent closed the pipe: no more work
            return
        out = []
        for ticket, known, job, mapping, raw in batch:
            if job is not None:
                jobs[known] = job
            try:
                out.append((ticket, True, answer(*jobs[known], mapping, raw)))
            except Exception as error:  # handed to the parent, which raises it where the result is wanted
                out.append((ticket, False, error))
        try:
            answers.send_bytes(pickle.dumps(out, _PROTOCOL))
        except BrokenPipeError:  # the parent is gone: nobody wants the answer
            return


_WORKERS: list[_Worker] = []


def _workers(n: int) -> list[_Worker]:
    """`n` worker processes, reused by every correction stage of the run (their engine caches stay warm);
    one found dead is replaced."""
    for dead in [w for w in _WORKERS if w.dead]:
        dead.close()
        _WORKERS.remove(dead)
    while len(_WORKERS) < n:
        _WORKERS.append(_Worker(_WORKERS))
    return _WORKERS[:n]


def end_workers() -> None:
    """End the worker processes now (they would end at exit), e.g. to read their resource usage."""
    while _WORKERS:
        _WORKERS.pop().close()


atexit.register(end_workers)


def default_workers() -> int:
    """A worker process when there is a spare core: on a 2-core machine the overlap cuts the correction's
    added time from 55-85% of ZigZag's search to about 5-15% (benchmarks/correction_overhead.py prints
    both ways). Never a worker in a child process (see EventDrivenCorrectionStage)."""
    return 1 if (os.cpu_count() or 1) >= 2 else 0


class EventDrivenCorrectionStage(Stage):
    """Replace every CostModelEvaluation yielded below by its event-driven correction.

    With `zz_event_workers=1` (the default on machines with two or more cores) the engine runs in a
    worker process while ZigZag evaluates the next mappings; results are yielded in ZigZag's order and
    are identical to inline evaluation (`zz_event_workers=0`). With `n` > 1, batches go to `n` workers in
    turn: worth it when the engine is the slower side (tiles that an overshooting loop empties take the
    explicit walk), as then ZigZag's process mostly waits.
    """

    def __init__(
        self,
        list_of_callables: list[StageCallable],
        *,
        zz_event_options: EngineOptions = EngineOptions(),
        zz_event_geometries: dict[str, tuple] | None = None,
        zz_event_variants: tuple[EngineOptions, ...] = (),
        zz_event_uncorrected: dict[str, str] | None = None,
        zz_event_workers: int | None = None,
        zz_event_row_schema: MapspaceSchema | None = None,
        **kwargs: Any,
    ):
        super().__init__(list_of_callables, **kwargs)
        self.options = zz_event_options
        self.geometries = zz_event_geometries or {}
        self.variants = zz_event_variants
        self.uncorrected = zz_event_uncorrected or {}
        self.row_schema = zz_event_row_schema
        in_main = multiprocessing.current_process().name == "MainProcess"
        self.workers = (default_workers() if zz_event_workers is None else zz_event_workers) if in_main else 0
        self._turn = 0  # the worker whose batch is filling
        self._last_job: tuple = ()  # layer, accelerator, type, spatial mapping of the last CME; its job

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        pending: deque = deque()  # (cme, extra_info, reason, answer or ticket), in ZigZag's order
        for cme, extra_info in substage.run():
            pending.append((cme, extra_info, self._start(cme)))
            while pending and self._answered(pending[0][2]):
                yield self._finish(*pending.popleft())
        while pending:
            yield self._finish(*pending.popleft())

    @staticmethod
    def _answered(work) -> bool:
        """Whether to finish the head of the queue now: it is not a worker's, or enough are in flight
        at its worker that its answer is due. (Not polling pipes at each mapping saves the main process time.)"""
        return not isinstance(work, _Ticket) or work.worker.in_flight >= _LAG

    def _start(self, cme):
        """The engine's answer, a ticket if the worker computes it, or the reason the CME keeps
        ZigZag's cost."""
        job = self._job_of(cme)
        if isinstance(job, str):
            return job
        raw = None if self.row_schema is None else raw_numbers(raw_state(cme))
        if self.workers:
            workers = _workers(self.workers)
            worker = workers[self._turn % len(workers)]
            ticket = worker.submit(job, mapping_of_cme(cme), raw)
            if not worker.batch:  # its batch just went: the next fills at the next worker
                self._turn += 1
            return ticket
        return answer(*job, mapping_of_cme(cme), raw)

    def _job_of(self, cme) -> tuple | str:
        """`answer`'s (context, options, variants, schema, costs) for a CME, else the reason it keeps
        ZigZag's cost. Kept for the last layer, accelerator, CME type and spatial mapping: ZigZag hands a
        stage every temporal mapping of one spatial mapping in turn, and reading the layer again for each
        cost a fifth of the main process's share per mapping."""
        layer, accelerator = getattr(cme, "layer", None), getattr(cme, "accelerator", None)
        spatial = getattr(layer, "spatial_mapping", None)
        last = self._last_job
        if last and last[0] is layer and last[1] is accelerator and last[2] is type(cme) and last[3] is spatial:
            return last[4]
        name = getattr(layer, "name", None)
        if name in self.uncorrected:
            found = self.uncorrected[name]
        else:
            context, reason = _context_or_reason(cme, self.geometries.get(name))
            found = reason if context is None else (
                context, self.options, self.variants, self.row_schema, operand_levels(cme).energy_costs)
        self._last_job = (layer, accelerator, type(cme), spatial, found)
        return found

    @staticmethod
    def _finish(cme, extra_info, work):
        if isinstance(work, str):
            cme.zz_event_uncorrected = work
            return cme, extra_info
        work = work.worker.receive(work.number) if isinstance(work, _Ticket) else work
        return correct_cme_with(cme, work), extra_info
