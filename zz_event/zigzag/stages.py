"""The ZigZag stage that puts zz-event into ZigZag's own pipeline.

`EventDrivenCorrectionStage` sits directly above the temporal-mapping generator (below the inner
Minimal*Stage): it sees every CostModelEvaluation of every temporal mapping and yields corrected ones,
so ZigZag's reduce stages rank mappings on corrected cost. Layers the engine does not correct pass
through with ZigZag's cost and a `zz_event_uncorrected` reason attached, never silently. A mapping the
engine cannot count for a resource limit (`correction.limit_reason`) raises `LayerNotCorrected`:
`pipeline.LayerGuardStage` then runs the layer's search again with ZigZag's cost for all of it.

It reads zz-event's settings from one keyword passed through MainStage like any ZigZag kwarg:
`zz_event`, a `zz_event.zigzag.settings.CorrectionSettings`. A child process always corrects inline: at
exit it joins its own children before any atexit handler could stop a worker.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from typing import Any

from zigzag.stages.stage import Stage, StageCallable

from zz_event.zigzag.adapter import mapping_of_cme
from zz_event.zigzag.corrected_cme import correct_cme_with, operand_levels
from zz_event.zigzag.correction import LayerNotCorrected, answer, context_or_reason, limit_reason
from zz_event.zigzag.settings import CorrectionSettings
from zz_event.zigzag.worker import LAG, Ticket, default_workers, workers

__all__ = ["EventDrivenCorrectionStage"]


class EventDrivenCorrectionStage(Stage):
    """Replace every CostModelEvaluation yielded below by its event-driven correction.

    With `CorrectionSettings.workers=1` (the default on machines with two or more cores) the engine runs
    in a worker process while ZigZag evaluates the next mappings; results are yielded in ZigZag's order
    and are identical to inline evaluation (`workers=0`). With `n` > 1, batches go to `n` workers in
    turn: worth it when the engine is the slower side (tiles that an overshooting loop empties take the
    explicit walk), as then ZigZag's process mostly waits.
    """

    def __init__(
        self,
        list_of_callables: list[StageCallable],
        *,
        zz_event: CorrectionSettings = CorrectionSettings(),
        **kwargs: Any,
    ):
        super().__init__(list_of_callables, **kwargs)
        self.settings = zz_event
        in_main = multiprocessing.current_process().name == "MainProcess"
        self.workers = (default_workers() if zz_event.workers is None else zz_event.workers) if in_main else 0
        if self.workers and zz_event.masks:
            from zz_event.engine.walk import warm_up  # noqa: PLC0415  (numba: only for runs with data)

            warm_up()  # before the workers fork, so that none of them loads numba and the pass again
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
        return not isinstance(work, Ticket) or work.worker.in_flight >= LAG

    def _start(self, cme):
        """The engine's answer, a ticket if the worker computes it, or the reason the CME keeps
        ZigZag's cost."""
        job = self._job_of(cme)
        if isinstance(job, str):
            return job
        rows = self.settings.row_formatter
        raw = None if rows is None else rows.raw_of(cme)
        try:
            if not self.workers:
                return answer(*job, mapping_of_cme(cme), raw)
            pool = workers(self.workers)
            worker = pool[self._turn % len(pool)]
            ticket = worker.submit(job, mapping_of_cme(cme), raw)  # a dead worker is found here too
        except Exception as error:
            raise _not_corrected(cme, error) from error
        if not worker.batch:  # its batch just went: the next fills at the next worker
            self._turn += 1
        return ticket

    def _job_of(self, cme) -> tuple | str:
        """`answer`'s (context, options, variants, row formatter, costs, masks) for a CME, else the reason it keeps
        ZigZag's cost. Kept for the last layer, accelerator, CME type and spatial mapping: ZigZag hands a
        stage every temporal mapping of one spatial mapping in turn, and reading the layer again for each
        cost a fifth of the main process's share per mapping."""
        layer, accelerator = getattr(cme, "layer", None), getattr(cme, "accelerator", None)
        spatial = getattr(layer, "spatial_mapping", None)
        last = self._last_job
        if last and last[0] is layer and last[1] is accelerator and last[2] is type(cme) and last[3] is spatial:
            return last[4]
        name = getattr(layer, "name", None)
        settings = self.settings
        if name in settings.uncorrected:
            found = settings.uncorrected[name]
        else:
            context, reason = context_or_reason(cme, settings.geometries.get(name))
            found = reason if context is None else (context, settings.options, settings.variants,
                                                    settings.row_formatter, operand_levels(cme).energy_costs,
                                                    settings.ranking_masks(name))
        self._last_job = (layer, accelerator, type(cme), spatial, found)
        return found

    @staticmethod
    def _finish(cme, extra_info, work):
        if isinstance(work, str):
            cme.zz_event_uncorrected = work
            return cme, extra_info
        if isinstance(work, Ticket):
            try:
                work = work.worker.receive(work.number)
            except Exception as error:
                raise _not_corrected(cme, error) from error
        return correct_cme_with(cme, work), extra_info


def _not_corrected(cme, error: Exception) -> Exception:
    """`LayerNotCorrected` for a resource limit of the engine; any other error (a bug) as it is."""
    reason = limit_reason(error)
    return error if reason is None else LayerNotCorrected(cme.layer.name, reason)
