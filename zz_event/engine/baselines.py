"""Frame-based baselines on the same data, in Sparseloop's and Eyeriss v2's terms (design.md, "Events from
data"), for output-centric (frame-based WS/OS) mappings:

- `dense`: no zero handling. Every iteration is work, padding taps included (the filter is off): the
  exact dense count.
- `gating`: a zero input's MAC keeps its cycle (compute cycles, input and output traffic as `dense`) but
  spends no MAC energy and reads no weight: weights move as for the non-zero inputs' MACs only, and MACs
  (and MAC energy) count the non-zero ones.
- `skipping`: a zero input's step is skipped: no cycle, no weight read, no output read or write for it.
  Weights, outputs, MACs and cycles follow the non-zero inputs' MACs only; inputs are still read as in
  `dense` (the core must see a value to know it is zero).
Padding positions are zeros. Event-driven (input-centric, `evaluate(..., mask=...)`) skips zero inputs by
construction, inputs included: they are never sent.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from zz_event.engine.evaluate import _result, _sample_costs, evaluate, operand_costs
from zz_event.engine.executed import Executed
from zz_event.engine.explicit import masked_counts
from zz_event.engine.result import EngineOptions, EngineResult
from zz_event.model.nest import LoopNest
from zz_event.model.vocabulary import OPERANDS

__all__ = ["BASELINES", "frame_baseline", "frame_baselines"]

Baseline = Literal["dense", "gating", "skipping"]
BASELINES: tuple[Baseline, ...] = ("dense", "gating", "skipping")
# Which operands follow the non-zero inputs' MACs only, per baseline.
_SPARSE_OPERANDS = {"dense": frozenset(), "gating": frozenset({"W"}), "skipping": frozenset({"W", "O"})}


def frame_baseline(nest: LoopNest, kind: Baseline, mask, readiness: bool = True) -> EngineResult:
    """The frame-based `kind` baseline of an output-centric `nest` on one sample's data `mask`."""
    return frame_baselines(nest, kind, np.asarray(mask)[None], readiness)[0]


def frame_baselines(nest: LoopNest, kind: Baseline, masks, readiness: bool = True) -> list[EngineResult]:
    """`frame_baseline` for every sample's mask of `masks` (S, ...), counted in one pass."""
    if kind not in BASELINES:
        raise ValueError(f"baseline {kind!r}; expected one of {', '.join(BASELINES)}")
    if nest.centric != "output":
        raise ValueError("frame-based baselines apply to output-centric mappings; event-driven layers are "
                         "costed with evaluate(nest, options, mask=...)")
    nest = nest.without_unit_loops()
    options = EngineOptions(filter=False, readiness=readiness)
    dense = evaluate(nest, options)
    if kind == "dense":
        return [dense] * len(masks)
    ex = Executed(nest, False, masks)
    per_op = {op: _sample_costs(nest, op, masked_counts(ex, op, readiness)) for op in _SPARSE_OPERANDS[kind]}
    shared = {op: operand_costs(nest, op, options) for op in OPERANDS if op not in per_op}
    results = []
    for s, (macs, cycles) in enumerate(zip(ex.macs(), ex.cycles())):
        costs = shared | {op: per_op[op][s] for op in per_op}
        gating = kind == "gating"
        results.append(_result(nest, options, macs, dense.compute_cycles if gating else cycles, costs,
                               skips_steps=not gating))
    return results
