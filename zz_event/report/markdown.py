"""``report.md``: the comparison report as Markdown, from :class:`zz_event.report.build.ReportData`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zz_event.model.vocabulary import OPERANDS, STREAM_MODES
from zz_event.provenance import SOURCE_ROOT
from zz_event.report.costs import Costs, Row
from zz_event.report.findings import findings, pct
from zz_event.report.multi_core import like_for_like, stream_layer_costs, unrolling_table
from zz_event.report.plots import ROWS, network_total
from zz_event.report.wins_markdown import wins_section

__all__ = ["render"]

_COSTS_HEADER = ("| costing | MACs | latency (cycles) | energy (pJ) | MAC | W | I | O | words W | words I | words O |"
                 " simulator |")  # fmt: skip
_DEFINITIONS = """\
- **frame-WS / frame-OS**: plain ZigZag on the layer's output-centric (frame-based) form. One LOMA search per layer;
  frame-WS is the best mapping whose innermost temporal loop is irrelevant to the weights (B, OY or OX: consecutive
  steps reuse the weight held at the MAC), frame-OS the best whose innermost temporal loop is irrelevant to the
  output (C, FY or FX: consecutive steps accumulate into the same output). A layer without such a loop (a
  fully-connected layer at batch 1 has none for W) gets the best mapping of all, noted in its row. Frame-based
  counts are dense: padding taps are work.
- **event-raw**: plain ZigZag on the input-centric layer (loops B, K, C, IY, IX, FY, FX; `ox=1*ix+1*fx`): what
  ZigZag reports for an event-driven core, every (input, tap) pair counted as a MAC.
- **event**: zz-event. The same search, every temporal mapping corrected before ZigZag ranks it: only valid MACs
  execute, tiles bring only what valid MACs use, outputs leave as final exactly once (readiness).
- **event, no readiness**: the event row's mapping with the boundary filter but ZigZag's static partial-sum rule.
- **event-IS**: the best event-driven mapping whose innermost temporal loop is irrelevant to the input (K, FY or
  FX): input-stationary, each input used for consecutive taps (the input-triggered dataflow).
- Every search ranks on latency, then energy (as Stream does). Energy: MAC plus every memory level of each operand;
  word accesses: every level and direction. The network rows sum the MAC layers (pooling and ReLU are not costed on
  the single core; Stream puts them on its pooling and SIMD cores).
- **simulator**: the reference simulator (`validation/simulator.py`) replays the row's mapping step by step under
  the row's rules -- event-driven for zz-event's rows (must match exactly), the exact dense count for ZigZag's rows
  (expected to match W and I; O may differ where ZigZag averages partially-relevant loops)."""


def render(data: Any, figures: dict[str, str], folder: str, wall_s: float) -> str:
    o, p = data.options, data.provenance
    lines = [
        f"# zz-event comparison report: {Path(o.network).stem}, event-driven vs frame-based",
        "",
        f"Generated {p['date']} by zz-event {p['versions'].get('zz-event')} (commit {p.get('commit') or 'unknown'}; "
        f"zigzag-dse {p['versions'].get('zigzag-dse')}, stream-dse {p['versions'].get('stream-dse')}) in "
        f"{wall_s:,.0f} s. Every number below was recomputed for this report; `{folder}/report.json` holds them all.",
        "",
        f"Network `{_rel(o.network)}`; single core: ZigZag on `{_rel(o.accelerator)}` with `{_rel(o.mapping)}`; "
        f"multi-core: Stream on `{_rel(o.inputs)}/stream` ({', '.join(map(str, o.cores)) or 'no'} compute cores). All "
        f"operands {o.precision}-bit (Stream's precision for float32 tensors), LOMA lpf_limit {o.lpf_limit}.",
        "",
        "## Findings",
        "",
        *[f"- {text}" for text in findings(data)],
        "",
        "## How each row is costed",
        "",
        _DEFINITIONS,
        "",
        *_single_section(data, figures, folder),
        *wins_section(data.data, figures, folder, _rel(o.network)),
        *_simulator_section(data),
        *_padded_section(data, figures, folder),
        *_stream_section(data, figures, folder),
    ]
    return "\n".join(lines) + "\n"


def _single_section(data: Any, figures: dict[str, str], folder: str) -> list[str]:
    out = ["## Single core (ZigZag on the toy core)", "", f"![single core]({folder}/{figures['single_core']})", "",
           "### Whole network (sum of the MAC layers)", "", _COSTS_HEADER, _separator(_COSTS_HEADER)]  # fmt: skip
    out += [_costs_line(label, network_total(data.single, label), _network_check(data.single, label)) for label in ROWS]
    for layer, rows in data.single.items():
        out += ["", f"### {layer}", "", _COSTS_HEADER, _separator(_COSTS_HEADER)]
        out += [_costs_line(label, row.costs, _check_cell(row)) for label, row in rows.items()]
        out += ["", "Mappings (temporal loops inner to outer; spatial unrolling):", ""]
        out += [f"- {label}: {_ordering(row.costs)}" + (f" -- {row.costs.note}" if row.costs.note else "")
                for label, row in rows.items()]  # fmt: skip
    return [*out, ""]


def _simulator_section(data: Any) -> list[str]:
    header = "| layer | costing | rules | against | MACs | latency | energy (pJ) | words W / I / O | result |"
    out = ["## Simulator check of the single-core rows", "", header, _separator(header)]
    for block in (data.single, data.padded):
        for layer, rows in block.items():
            for label, row in rows.items():
                out.append(_sim_line(layer, label, row))
    return [*out, ""]


def _sim_line(layer: str, label: str, row: Row) -> str:
    c = row.check
    if c is None:
        return f"| {layer} | {label} | -- | -- | | | | | {row.check_note} |"
    words = " / ".join(f"{c.word_accesses[op]:,}" for op in OPERANDS)
    result = "identical" if c.matches else "differs: " + "; ".join(c.differences)
    return (f"| {layer} | {label} | {c.rules} | {c.against} | {c.macs:,} | {c.latency_cycles:,} | "
            f"{c.energy_pj:,.1f} | {words} | {result} |")  # fmt: skip


def _padded_section(data: Any, figures: dict[str, str], folder: str) -> list[str]:
    if not data.padded:
        return []
    out = [f"## Padding: `{_rel(data.options.padded)}`", ""]
    if "padded" in figures:
        out += [f"![padded layers]({folder}/{figures['padded']})", ""]
    for layer, rows in data.padded.items():
        out += [f"### {layer} (padded)", "", _COSTS_HEADER, _separator(_COSTS_HEADER)]
        out += [_costs_line(label, row.costs, _check_cell(row)) for label, row in rows.items()]
        out += [""]
    return out


def _stream_section(data: Any, figures: dict[str, str], folder: str) -> list[str]:
    if not data.stream:
        return []
    header = ("| compute cores | mode | latency (cycles) | vs frame | energy (pJ) | vs frame | nodes (pJ) |"
              " transfers (pJ) |")
    out = ["## Multi-core (Stream)", "", f"![stream]({folder}/{figures['stream']})", "",
           "Stream's schedule latency and total energy (nodes plus transfers between cores and memories):", "",
           header, _separator(header)]  # fmt: skip
    for (cores, mode), s in sorted(data.stream.items(), key=lambda kv: (kv[0][0], _mode_order(kv[0][1]))):
        frame = data.stream.get((cores, "frame"), {})
        out.append(
            f"| {cores} | {mode} | {s['total_latency_cycles']:,.0f} | "
            f"{pct(s['total_latency_cycles'], frame.get('total_latency_cycles', 0))} | {_num(s['total_energy_pj'])} | "
            f"{pct(s['total_energy_pj'] or 0, frame.get('total_energy_pj') or 0)} | {_num(s['node_energy_pj'])} | "
            f"{_num(s['transfer_energy_pj'])} |"
        )
    like = like_for_like(data.stream)
    if like:
        out += ["", "### Like for like", "",
                "Frame vs event: Stream's schedule latency and total energy, the event mode with frame mode's spatial "
                "unrolling of every MAC layer (same spatial mapping) and with the best one "
                "its own search finds (each at its best); on data the event mode's per-core costs are the mean over "
                "the samples, frame mode's are dense (zeros are work).", "", *like]  # fmt: skip
        for cores in sorted({c for c, _ in data.stream}):
            out += ["", f"Spatial unrollings, {cores} compute core(s):", "", *unrolling_table(data.stream, cores)]
    layers = tuple(data.single)
    for cores in sorted({c for c, _ in data.stream}):
        out += ["", f"### {cores} compute core(s), per layer (slowest core's latency; energy and words over the "
                    f"layer's cores)", "", _COSTS_HEADER.replace(" simulator |", " cores |"),
                _separator(_COSTS_HEADER)]  # fmt: skip
        for layer in layers:
            for mode in sorted((m for c, m in data.stream if c == cores), key=_mode_order):
                costs = stream_layer_costs(data.stream[(cores, mode)], (layer,)).get(layer)
                if costs is not None:
                    out.append(_costs_line(f"{layer} {mode}", costs, costs.note))
    return [*out, ""]


def _costs_line(label: str, c: Costs, check: str) -> str:
    energy = " | ".join(f"{v:,.0f}" for v in (c.mac_energy_pj, *(c.operand_energy_pj.get(op, 0.0) for op in OPERANDS)))
    words = " | ".join(f"{c.word_accesses.get(op, 0):,}" for op in OPERANDS)
    return f"| {label} | {c.macs:,} | {c.latency_cycles:,.0f} | {c.energy_pj:,.1f} | {energy} | {words} | {check} |"


def _check_cell(row: Row) -> str:
    if row.check is None:
        return row.check_note
    return f"identical ({row.check.against})" if row.check.matches else f"differs ({len(row.check.differences)})"


def _network_check(rows: dict[str, dict[str, Row]], label: str) -> str:
    checks = [per[label].check for per in rows.values()]
    if any(c is None for c in checks):
        return "see layers"
    return "all layers identical" if all(c.matches for c in checks) else "see layers"


def _ordering(c: Costs) -> str:
    return ", ".join(f"{d} {s}" for d, s in c.temporal_ordering) + f"; {c.spatial_mapping}"


def _separator(header: str) -> str:
    return "|" + "---|" * (header.count("|") - 1)


def _mode_order(mode: str) -> int:
    return STREAM_MODES.index(mode) if mode in STREAM_MODES else 9


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _rel(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(SOURCE_ROOT))
    except ValueError:
        return str(path)
