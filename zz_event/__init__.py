"""zz-event: exact event-driven (input-triggered) costs for ZigZag and Stream.

    from zz_event import run_zigzag_event_driven, layer_results

    energy, latency, cmes = run_zigzag_event_driven(
        "inputs/toy/workload.yaml", "inputs/toy/hardware.yaml", "inputs/toy/mapping.yaml", opt="energy")
    for layer in layer_results(cmes):
        print(layer.name, layer.zigzag.macs, layer.event_driven.macs, layer.event_driven.energy_pj)

The package is split by seam, imports running one way (a test holds them to it):

| subpackage | its one job |
|---|---|
| `model` | what a mapped layer is: geometry, loop nest, shared names (no ZigZag, no Stream) |
| `engine` | exact counts, words, energy and latency of one mapped layer |
| `readers` | workloads, mappings and accelerators read and checked |
| `zigzag` | the correction inside ZigZag's pipeline, the front door, `LayerResult`, `summary.json` |
| `mapspace` | every evaluated mapping logged, loaded and re-ranked |
| `search` | the engine's own temporal-mapping search (`zz-event search`), ZigZag costing only the best |
| `stream` | the Stream core-cost backend and runner |
| `report` | the comparison report |
| `sweep` | design-space sweeps on Dask: spec, points, one Parquet table, plots |
| `commands` | the `zz-event` subcommands (`cli` is the entry point) |

Top-level modules: `errors` (the one exception family), `memo` (bounded caches), `provenance`,
`output_files` (atomic writes). The names below load on first use, so that `import zz_event` (and
`zz-event --help`) does not load ZigZag.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "CorrectionSettings",
    "EngineOptions",
    "Figures",
    "LayerResult",
    "RunSettings",
    "ZzEventError",
    "build_summary",
    "layer_result",
    "layer_results",
    "run_mapspace",
    "run_search",
    "run_zigzag_event_driven",
]

_HOMES = {
    "CorrectionSettings": "zz_event.zigzag.settings",
    "EngineOptions": "zz_event.engine.result",
    "Figures": "zz_event.zigzag.result",
    "LayerResult": "zz_event.zigzag.result",
    "RunSettings": "zz_event.zigzag.settings",
    "ZzEventError": "zz_event.errors",
    "build_summary": "zz_event.zigzag.summary",
    "layer_result": "zz_event.zigzag.result",
    "layer_results": "zz_event.zigzag.result",
    "run_mapspace": "zz_event.mapspace.logger",
    "run_search": "zz_event.search.run",
    "run_zigzag_event_driven": "zz_event.zigzag.front_door",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'zz_event' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
