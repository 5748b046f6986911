"""One mapping costed on many data samples: the mean result a search ranks on, and per-sample statistics.

Each sample's `EngineResult` (from `evaluate(nest, options, mask=...)`) holds exact integers. A search
ranks a mapping on the mean over its calibration samples (`mean_result`, whose counts are then means, not
integers); the chosen mapping is costed on every sample and summarised by `sample_statistics`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from zz_event.engine.result import EngineResult, LatencyParts, LevelCounts

__all__ = ["SAMPLE_FIGURES", "mean_result", "sample_statistics"]

SAMPLE_FIGURES = ("macs", "compute_cycles", "latency_cycles", "energy_pj")


def _mean(values) -> float | int:
    """The mean; an integer when it is one (so that one sample gives its exact integers). Integer counts are
    summed exactly (in a search this runs per mapping, and `np.mean` on short lists costs more than that)."""
    if all(isinstance(v, (int, np.integer)) for v in values):
        total = sum(int(v) for v in values)
        return total // len(values) if total % len(values) == 0 else total / len(values)
    m = float(np.mean(values))
    return int(m) if m.is_integer() else m


def mean_result(results: list[EngineResult]) -> EngineResult:
    """The per-field mean of several samples' results of one mapping (one sample: that result)."""
    if len(results) == 1:
        return results[0]
    first = results[0]
    levels = {}
    for op, per_level in first.levels.items():
        levels[op] = tuple(
            LevelCounts(lc.memory,
                        {d: _mean([r.levels[op][j].elements[d] for r in results]) for d in lc.elements},
                        {d: _mean([r.levels[op][j].words[d] for r in results]) for d in lc.words},
                        float(np.mean([r.levels[op][j].energy_pj for r in results])))
            for j, lc in enumerate(per_level))
    ports = {p: _mean([r.port_busy_cycles.get(p, 0) for r in results])
             for p in dict.fromkeys(p for r in results for p in r.port_busy_cycles)}
    fields = ("macs", "compute_cycles", "latency_bound_cycles")
    latency = LatencyParts(*(_mean([getattr(r, f) for r in results])
                             for f in ("onload_cycles", "stall_cycles", "offload_cycles", "drain_cycles")))
    silent = [r.outputs_without_contribution for r in results]
    return replace(first, levels=levels, port_busy_cycles=ports, latency=latency,
                   mac_energy_pj=float(np.mean([r.mac_energy_pj for r in results])),
                   outputs_without_contribution=None if None in silent else _mean(silent),
                   **{f: _mean([getattr(r, f) for r in results]) for f in fields})


def _stats(values: list) -> dict:
    arr = np.asarray(values, dtype=float)
    integers = all(isinstance(v, (int, np.integer)) for v in values)

    def pick(v: float) -> int | float:  # integral figures of integer counts stay integers (N = 1: exact)
        return int(v) if integers and float(v).is_integer() else float(v)

    return {"mean": _mean(values), "min": pick(arr.min()), "p50": pick(np.percentile(arr, 50)),
            "p95": pick(np.percentile(arr, 95)), "max": pick(arr.max())}


def sample_statistics(results: list[EngineResult], densities: list[float]) -> dict:
    """`summary.json`'s `event_driven_data` block for one layer: the number of samples, the mean input
    density, mean/min/p50/p95/max of MACs, compute and latency cycles and energy, the outputs no input
    reached, and the mean word accesses per operand and level."""
    block: dict = {"samples": len(results), "density": float(np.mean(densities))}
    for name in SAMPLE_FIGURES:
        block[name] = _stats([getattr(r, name) for r in results])
    silent = [r.outputs_without_contribution for r in results]
    if None not in silent:
        block["outputs_without_contribution"] = _stats(silent)
    block["word_accesses"] = mean_result(results).word_accesses()
    return block
