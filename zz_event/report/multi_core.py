"""Multi-core numbers of the comparison report: Stream runs of the network on 1, 2 and 4 compute cores, in the three
costing modes, and the per-layer view of their per-core costs.

A Stream run costs each node once per core it runs on (a tile after the inter-core split). Per layer the report
shows the layer's cores together: latency = the slowest core's tile (they run in parallel), energy, its MAC / W / I /
O parts and word accesses = the sum over the cores. Whole network: Stream's own schedule latency and its total
energy, which adds the energy of moving tensors between cores and off-chip memory (``transfer_energy_pj``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zz_event.model.vocabulary import OPERANDS
from zz_event.report.costs import Costs
from zz_event.stream.runner import StreamRunOptions, run_stream

__all__ = ["ARCHITECTURES", "StreamCase", "stream_job", "stream_layer_costs"]

ARCHITECTURES = {1: "single_core", 2: "dual_core", 4: "quad_core"}


@dataclass(frozen=True)
class StreamCase:
    """One Stream run of the report: ``cores`` compute cores (``inputs/stream/hardware/<arch>.yaml`` and
    ``inputs/stream/mapping/<prefix>_<cores>core.yaml`` under ``inputs``), one costing mode."""

    cores: int
    mode: str
    workload: str
    inputs: str
    mapping_prefix: str = "lenet5"

    @property
    def hardware(self) -> Path:
        return Path(self.inputs) / "stream" / "hardware" / f"{ARCHITECTURES[self.cores]}.yaml"

    @property
    def mapping(self) -> Path:
        return Path(self.inputs) / "stream" / "mapping" / f"{self.mapping_prefix}_{self.cores}core.yaml"


def stream_job(case: StreamCase, out_dir: str) -> dict[str, Any]:
    """Run ``case`` into ``out_dir``; the run's summary (``StreamSummary.to_json()``)."""

    summary = run_stream(case.hardware, case.workload, case.mapping, case.mode, out_dir,
                         StreamRunOptions(artifacts=False))  # fmt: skip
    return summary.to_json()


def stream_layer_costs(summary: Mapping[str, Any], layers: tuple[str, ...]) -> dict[str, Costs]:
    """Per layer of ``layers``: its cores' costs together (see the module docstring)."""
    out: dict[str, Costs] = {}
    for name in layers:
        nodes = [n for n in summary["nodes"] if n["node"] == name]
        if not nodes:
            continue
        out[name] = Costs(
            macs=sum(int(n.get("macs") or 0) for n in nodes),
            latency_cycles=max(float(n["latency_cycles"]) for n in nodes),
            energy_pj=sum(float(n["energy_pj"]) for n in nodes),
            mac_energy_pj=sum(float(n.get("mac_energy_pj") or 0.0) for n in nodes),
            operand_energy_pj={op: sum(float(n["operand_energy_pj"].get(op, 0.0)) for n in nodes) for op in OPERANDS},
            word_accesses={op: sum(int(n["word_accesses"].get(op, 0)) for n in nodes) for op in OPERANDS},
            note=f"{len(nodes)} core(s): " + ", ".join(str(n["core"]) for n in nodes),
        )
    return out
