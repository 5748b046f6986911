"""Multi-core numbers of the comparison report: Stream runs of the network on 1, 2 and 4 compute cores, in the three
costing modes, and the per-layer view of their per-core costs.

Like for like. Stream's frame mode lets ZigZag's generator pick each layer's spatial unrolling; the event modes search
theirs over the input-centric loops (``zz_event.stream.spatial``). Two comparisons follow (:func:`like_for_like`):
"same spatial mapping" -- the event mode run with every MAC layer unrolled as frame mode unrolled it (``OX``/``OY``
read as ``IX``/``IY``: :data:`SAME`) -- and "each at its best" (``event`` against ``frame``). With data the event
runs are repeated on it (:data:`DATA`, :data:`SAME_DATA`); frame mode is dense (zeros are work) either way.

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
from zz_event.stream.runner import StreamRunOptions, frame_unrollings, run_stream

__all__ = ["ARCHITECTURES", "DATA", "SAME", "SAME_DATA", "StreamCase", "like_for_like", "same_mapping_job",
           "stream_job", "stream_layer_costs", "unrolling_table"]

ARCHITECTURES = {1: "single_core", 2: "dual_core", 4: "quad_core"}
SAME = "event, frame's unrolling"
DATA = "event on data"
SAME_DATA = "event on data, frame's unrolling"


@dataclass(frozen=True)
class StreamCase:
    """One Stream run of the report: ``cores`` compute cores (``inputs/stream/hardware/<arch>.yaml`` and
    ``inputs/stream/mapping/<prefix>_<cores>core.yaml`` under ``inputs``), one costing mode."""

    cores: int
    mode: str
    workload: str
    inputs: str
    mapping_prefix: str = "lenet5"
    data: Any = None  # mode event: events from this network input (as `zz-event run --data` takes it)
    calibration: int | None = None

    @property
    def hardware(self) -> Path:
        return Path(self.inputs) / "stream" / "hardware" / f"{ARCHITECTURES[self.cores]}.yaml"

    @property
    def mapping(self) -> Path:
        return Path(self.inputs) / "stream" / "mapping" / f"{self.mapping_prefix}_{self.cores}core.yaml"


def stream_job(case: StreamCase, out_dir: str) -> dict[str, Any]:
    """Run ``case`` into ``out_dir``; the run's summary (``StreamSummary.to_json()``)."""

    summary = run_stream(case.hardware, case.workload, case.mapping, case.mode, out_dir,
                         StreamRunOptions(artifacts=False), data=case.data,
                         calibration=case.calibration if case.data is not None else None)  # fmt: skip
    return summary.to_json()


def same_mapping_job(case: StreamCase, out_dir: str) -> dict[str, dict[str, Any]]:
    """Frame mode, then mode event with every MAC node unrolled as frame mode unrolled it (and, with
    ``case.data``, the same on the data): {``"frame"``: summary, :data:`SAME`: summary[, :data:`SAME_DATA`: ...]}."""
    options = StreamRunOptions(artifacts=False)
    frame = run_stream(case.hardware, case.workload, case.mapping, "frame", f"{out_dir}/frame", options)
    unrollings = frame_unrollings(frame)
    out = {"frame": frame.to_json()}
    out[SAME] = run_stream(case.hardware, case.workload, case.mapping, "event", f"{out_dir}/same", options,
                           unrollings=unrollings).to_json()  # fmt: skip
    if case.data is not None:
        out[SAME_DATA] = run_stream(case.hardware, case.workload, case.mapping, "event", f"{out_dir}/same_data",
                                    options, unrollings=unrollings, data=case.data,
                                    calibration=case.calibration).to_json()  # fmt: skip
    return out


def like_for_like(stream: Mapping[tuple[int, str], Mapping[str, Any]]) -> list[str]:
    """The report's table: per core count, frame vs event with the same spatial mapping and each at its best
    (Stream's schedule latency and total energy), dense and, where run, on data; markdown lines."""
    columns = [(SAME, "same spatial mapping"), ("event", "each at its best"), (SAME_DATA, "same spatial mapping, data"),
               (DATA, "each at its best, data")]  # fmt: skip
    shown = [(mode, label) for mode, label in columns if any(m == mode for _c, m in stream)]
    if not shown or not any(m == "frame" for _c, m in stream):
        return []
    header = "| compute cores | frame | " + " | ".join(f"event, {label}" for _m, label in shown) + " |"
    out = [header, "|" + "---|" * (header.count("|") - 1)]
    for cores in sorted({c for c, m in stream if m == "frame"}):
        frame = stream[(cores, "frame")]
        cells = [_cell(stream.get((cores, mode)), frame) for mode, _label in shown]
        out.append(f"| {cores} | {_cell(frame, None)} | " + " | ".join(cells) + " |")
    return out


def _cell(summary: Mapping[str, Any] | None, frame: Mapping[str, Any] | None) -> str:
    if summary is None:
        return "not run"
    latency, energy = summary["total_latency_cycles"], summary["total_energy_pj"]
    text = f"{latency:,.0f} cycles, {energy / 1e6:,.2f} uJ" if energy is not None else f"{latency:,.0f} cycles"
    if frame is not None:
        text += f" ({(latency / frame['total_latency_cycles'] - 1) * 100:+.1f} % latency)"
    return text


def unrolling_table(stream: Mapping[tuple[int, str], Mapping[str, Any]], cores: int) -> list[str]:
    """Per MAC layer on ``cores`` cores, the spatial unrolling each run used; markdown lines."""
    modes = [m for m in ("frame", SAME, "event", "event-raw", SAME_DATA, DATA) if (cores, m) in stream]
    per_layer: dict[str, dict[str, str]] = {}
    for mode in modes:
        for node in stream[(cores, mode)]["nodes"]:
            if "W" in (node.get("word_accesses") or {}):
                per_layer.setdefault(node["node"], {}).setdefault(mode, node.get("spatial_mapping", ""))
    if not per_layer:
        return []
    header = "| layer | " + " | ".join(modes) + " |"
    out = [header, "|" + "---|" * (header.count("|") - 1)]
    out += [f"| {layer} | " + " | ".join(maps.get(m, "") for m in modes) + " |" for layer, maps in per_layer.items()]
    # Where the event mode could not take frame's unrolling as it is (ZigZag caps each loop at what the memories
    # feed; a Gemm's contraction, split over several loops in frame mode, is one loop C input-centric), say so.
    differ = [layer for layer, maps in per_layer.items() if SAME in maps and "frame" in maps
              and _input_centric(maps["frame"]) != maps[SAME]]  # fmt: skip
    if differ:
        out += ["", f"Not frame's unrolling as it is ({', '.join(differ)}): ZigZag caps each loop at what the memories "
                "feed, and a matrix product's contraction, split over several loops in frame mode, is one loop C in "
                "the input-centric layer."]  # fmt: skip
    return out


def _input_centric(label: str) -> str:
    """A frame-mode unrolling label with OX/OY read as IX/IY."""
    return label.replace("OX ", "IX ").replace("OY ", "IY ")


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
