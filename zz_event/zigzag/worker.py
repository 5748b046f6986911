"""Correction worker processes: the engine runs beside ZigZag's search, fed through pipes.

On machines with two or more cores the correction stage (`zz_event.zigzag.stages`) hands each mapping to
a forked worker and collects the answers in ZigZag's order; `CorrectionSettings.workers=0` keeps it inline.
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

from zz_event.zigzag.correction import answer

__all__ = ["LAG", "Ticket", "Worker", "WorkerDiedError", "default_workers", "end_workers", "workers"]


class WorkerDiedError(RuntimeError):
    """The worker process ended while mappings were in flight (e.g. killed by the kernel for its memory)."""


_BATCH = 4  # mappings per message: each pipe write that wakes the other process costs tens of µs
# Messages are pickled with `pickle` itself: Connection.send's pickler copies the copyreg table per call.
_PROTOCOL = pickle.HIGHEST_PROTOCOL
LAG = 2 * _BATCH  # mappings not yet answered: one batch computing while the next fills


@dataclass(frozen=True)
class Ticket:
    """Marks a CME whose engine results `worker` will answer (`number` orders that worker's answers)."""

    worker: Worker
    number: int


class Worker:
    """One forked process that evaluates the nests sent over a pipe and answers in order.

    A bare pipe, not a ProcessPoolExecutor: the executor's feeder and manager threads contend for the
    GIL with ZigZag at every mapping, which cost more than the engine itself. What is sent per mapping
    is only its `CmeMapping` (a few hundred bytes; with a mapspace row schema, ZigZag's figures as
    `RawNumbers` too), in batches; each job (context, switches, schema, energy costs, data masks) goes once. What
    comes back is a `CorrectionAnswer` per mapping. Sends never block for long: at most `LAG` mappings
    are unanswered, far below the pipe's buffer. Answers carry their ticket, so those of a run abandoned
    part-way are skipped, never misassigned."""

    def __init__(self, others: list[Worker]) -> None:
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

    def submit(self, job: tuple, mapping, raw) -> Ticket:
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
        return Ticket(self, number)

    def flush(self) -> None:
        if self.batch:
            try:
                self.requests.send_bytes(pickle.dumps(self.batch, _PROTOCOL))
            except BrokenPipeError:
                raise self._gone() from None
            self.batch = []

    def _gone(self) -> WorkerDiedError:
        self.dead = True  # the next stage starts a new worker
        self.process.join(timeout=5)  # its exit code, once the kernel has reaped it
        return WorkerDiedError(f"the correction worker process ended unexpectedly (exit code {self.process.exitcode})")

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


_LIVE: set[Worker] = set()  # workers started and not closed


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
            except Exception as error:  # noqa: BLE001 -- handed to the parent, which raises it where wanted
                out.append((ticket, False, error))
        try:
            answers.send_bytes(pickle.dumps(out, _PROTOCOL))
        except BrokenPipeError:  # the parent is gone: nobody wants the answer
            return


_WORKERS: list[Worker] = []


def workers(n: int) -> list[Worker]:
    """`n` worker processes, reused by every correction stage of the run (their engine caches stay warm);
    one found dead is replaced."""
    for dead in [w for w in _WORKERS if w.dead]:
        dead.close()
        _WORKERS.remove(dead)
    while len(_WORKERS) < n:
        _WORKERS.append(Worker(_WORKERS))
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
