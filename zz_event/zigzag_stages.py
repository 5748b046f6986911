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
  ZigZag, 0 to correct inline. A child process always corrects inline: at exit it joins its own children
  before any atexit handler could stop the worker.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.stages.stage import Stage, StageCallable

from zz_event.corrected_cme import correct_cme_with
from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.errors import UnsupportedLayerError
from zz_event.zigzag_adapter import layer_is_correctable, nest_from_cme

__all__ = ["EventDrivenCorrectionStage", "correct_cme", "evaluate_all", "default_workers"]


def _nest_or_reason(cme, geometry_and_centric):
    """The LoopNest of a correctable CME, else the reason it keeps ZigZag's cost."""
    reason = layer_is_correctable(cme.layer) if isinstance(cme, CostModelEvaluation) else "not a single-layer CME"
    if reason is None and type(cme) is not CostModelEvaluation:
        reason = f"{type(cme).__name__} is not ZigZag's digital cost model"
    if reason is not None:
        return None, reason
    geometry, centric = geometry_and_centric if geometry_and_centric else (None, None)
    try:
        return nest_from_cme(cme, geometry, centric), None
    except UnsupportedLayerError as error:
        return None, str(error)


def evaluate_all(nest, options: EngineOptions, variants: tuple[EngineOptions, ...]):
    """The engine's result for `options` and for each variant (a module-level function: runs in workers)."""
    return evaluate(nest, options), {v.label: evaluate(nest, v) for v in variants if v != options}


def correct_cme(
    cme: CostModelEvaluation,
    options: EngineOptions = EngineOptions(),
    geometry_and_centric: tuple | None = None,
    variants: tuple[EngineOptions, ...] = (),
):
    """The corrected CME of one evaluated mapping, or `cme` itself (marked) if the layer is not correctable."""
    nest, reason = _nest_or_reason(cme, geometry_and_centric)
    if nest is None:
        cme.zz_event_uncorrected = reason
        return cme
    return correct_cme_with(cme, *evaluate_all(nest, options, variants))


_POOL: ProcessPoolExecutor | None = None
_IN_FLIGHT = 32


def _pool() -> ProcessPoolExecutor:
    """One worker process, reused by every correction stage of the run (its engine caches stay warm)."""
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("fork"), initializer=_quiet_worker
        )
        atexit.register(_POOL.shutdown, cancel_futures=True)
    return _POOL


def _quiet_worker() -> None:
    """Interrupts are the parent's to handle: it cancels the work and reports once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def default_workers() -> int:
    """A worker process when there is a spare core: on an otherwise idle 2-core machine the overlap halves
    the correction's added time (benchmarks/correction_overhead.py prints both ways). Never a worker in a
    child process (see EventDrivenCorrectionStage)."""
    return 1 if (os.cpu_count() or 1) >= 2 else 0


class EventDrivenCorrectionStage(Stage):
    """Replace every CostModelEvaluation yielded below by its event-driven correction.

    With `zz_event_workers=1` (the default on machines with two or more cores) the engine runs in a
    worker process while ZigZag evaluates the next mappings; results are yielded in ZigZag's order and
    are identical to inline evaluation (`zz_event_workers=0`).
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
        **kwargs: Any,
    ):
        super().__init__(list_of_callables, **kwargs)
        self.options = zz_event_options
        self.geometries = zz_event_geometries or {}
        self.variants = zz_event_variants
        self.uncorrected = zz_event_uncorrected or {}
        in_main = multiprocessing.current_process().name == "MainProcess"
        self.workers = (default_workers() if zz_event_workers is None else zz_event_workers) if in_main else 0

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        pending: deque = deque()
        for cme, extra_info in substage.run():
            pending.append((cme, extra_info, self._start(cme)))
            while pending and (len(pending) > _IN_FLIGHT or _ready(pending[0][2])):
                yield self._finish(*pending.popleft())
        while pending:
            yield self._finish(*pending.popleft())

    def _start(self, cme):
        """A nest's evaluation under way (a future), or the reason the CME keeps ZigZag's cost."""
        name = getattr(getattr(cme, "layer", None), "name", None)
        if name in self.uncorrected:
            return self.uncorrected[name]
        nest, reason = _nest_or_reason(cme, self.geometries.get(name))
        if nest is None:
            return reason
        if self.workers:
            return _pool().submit(evaluate_all, nest, self.options, self.variants)
        return evaluate_all(nest, self.options, self.variants)

    @staticmethod
    def _finish(cme, extra_info, work):
        if isinstance(work, str):
            cme.zz_event_uncorrected = work
            return cme, extra_info
        result, variants = work.result() if isinstance(work, Future) else work
        return correct_cme_with(cme, result, variants), extra_info


def _ready(work) -> bool:
    return not isinstance(work, Future) or work.done()
