"""The report's units of work, each a plain function of picklable arguments (the report runs them in worker
processes): the single-core frame-based and event-driven searches of a network's MAC layers with the simulator's
check of every row, and one Stream run (:func:`zz_event.report.multi_core.stream_job`).

Rows per layer: ``frame-WS``, ``frame-OS``, ``event-raw``, ``event``, ``event-IS`` (see
:mod:`zz_event.report.single_core`) and ``event, no readiness``: the engine on the ``event`` mapping with the boundary
filter but ZigZag's static partial-sum rule for outputs, which isolates what output readiness saves in partial-sum
traffic.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.model.nest import LoopNest
from zz_event.model.vocabulary import FRAME_COSTINGS
from zz_event.report.costs import Row, costs_of, costs_of_engine, load_simulator, simulator_check
from zz_event.report.single_core import ReportLayer, SearchSettings, event_search, frame_search, mac_layers
from zz_event.zigzag.adapter import nest_from_cme
from zz_event.zigzag.result import layer_result

__all__ = ["NO_READINESS", "JobResult", "event_job", "frame_job", "prepare_worker"]

NO_READINESS = "event, no readiness"


@dataclass(frozen=True)
class JobResult:
    """A single-core job's rows {layer: {label: Row}} and the mappings it chose {layer: {label: LoopNest}}
    (frame-WS / frame-OS, or event): what "When event-driven wins" costs on data."""

    rows: dict[str, dict[str, Row]]
    nests: dict[str, dict[str, LoopNest]]


def frame_job(onnx_path: str, only: tuple[str, ...], settings: SearchSettings, check: bool) -> JobResult:
    """Rows {layer: {"frame-WS": Row, "frame-OS": Row}} and the rows' mappings as loop nests."""
    layers = mac_layers(onnx_path, only)
    found = frame_search(layers, settings)
    simulate, why = _simulator(check)
    out: dict[str, dict] = {}
    nests: dict[str, dict] = {}
    for layer in layers:
        out[layer.name], nests[layer.name] = {}, {}
        for label in FRAME_COSTINGS:
            cme = found[layer.name][label]
            costs = costs_of(cme, found[layer.name][f"{label} note"])
            out[layer.name][label] = _row(simulate, why, cme, layer, "output", costs, event=False)
            nests[layer.name][label] = nest_from_cme(cme, layer.geometry, "output")
    return JobResult(out, nests)


def event_job(onnx_path: str, only: tuple[str, ...], settings: SearchSettings, check: bool) -> JobResult:
    """Rows {layer: {"event-raw": Row, "event": Row, "event, no readiness": Row, "event-IS": Row}} and the event
    row's mapping as a loop nest."""

    layers = mac_layers(onnx_path, only)
    found = event_search(layers, settings)
    simulate, why = _simulator(check)
    out: dict[str, dict] = {}
    nests: dict[str, dict] = {}
    for layer in layers:
        raw, event = found[layer.name]["event-raw"], found[layer.name]["event"]
        corrected = layer_result(event)  # a layer the engine could not count keeps ZigZag's cost: said in the row
        event_costs = costs_of(event, "" if corrected.corrected else
                               f"not corrected, ZigZag's cost kept: {corrected.uncorrected_reason}")
        if corrected.corrected:  # the engine's variant, and the data chapter, only where the engine counts
            nest = nest_from_cme(event, layer.geometry, "input")
            nests[layer.name] = {"event": nest}
            partial = costs_of_engine(evaluate(nest, EngineOptions(filter=True, readiness=False)), event_costs,
                                      "the event mapping with ZigZag's static partial-sum rule")  # fmt: skip
        else:
            partial = event_costs
        stationary = found[layer.name].get("event-IS")
        note = "" if stationary is not None else "no mapping has a temporal loop irrelevant to the input: the event row"
        stationary = stationary if stationary is not None else event
        out[layer.name] = {
            "event-raw": _row(simulate, why, raw, layer, "input", costs_of(raw), event=False),
            "event": _row(simulate, why, event, layer, "input", event_costs, event=True),
            NO_READINESS: Row(partial, None, "not replayed (a variant of the event row's mapping)"),
            "event-IS": _row(simulate, why, stationary, layer, "input", costs_of(stationary, note), event=True),
        }
    return JobResult(out, nests)


def _simulator(check: bool) -> tuple[Any, str]:
    if not check:
        return None, "simulator check not requested"
    try:
        return load_simulator(), ""
    except Exception as exc:  # noqa: BLE001 -- reported in the report's check column, never hidden
        return None, f"simulator unavailable ({type(exc).__name__}: {exc})"


def _row(simulate: Any, why: str, cme: Any, layer: ReportLayer, centric: str, costs: Any, event: bool) -> Row:
    if simulate is None:
        return Row(costs, None, why)
    try:
        return Row(costs, simulator_check(simulate, cme, layer.geometry, centric, costs, event))
    except Exception as exc:  # noqa: BLE001 -- reported in the report's check column, never hidden
        return Row(costs, None, f"simulator failed ({type(exc).__name__}: {' '.join(str(exc).split())})")


def prepare_worker(initializer: Callable[[], None] | None = None, parent: int | None = None) -> None:
    """Run first in every worker process: die with the parent ``parent`` (even if it is killed), ignore Ctrl-C
    (the parent handles it and ends the workers), then the caller's ``initializer`` (e.g. the CLI's logging
    set-up). (Workers correct inline: the correction stage starts its own engine process only in the main
    process.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    if initializer is not None:
        initializer()


def _die_with_parent(parent: int | None) -> None:
    """Linux: the kernel sends SIGKILL when the parent ends (PR_SET_PDEATHSIG); elsewhere nothing is done."""
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)
