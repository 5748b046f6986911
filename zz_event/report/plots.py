"""PNG figures of the comparison report (matplotlib, Agg backend: no display needed).

- ``single_core.png``: per LeNet-5 layer and for the network, for each costing (frame-WS, frame-OS, event-raw,
  event): latency; energy split into MAC / W / I / O; word accesses per operand.
- ``padded.png``: the same for the padded layers (conv1 of LeNet-5 with padding 2 on 28x28).
- ``stream.png``: Stream on 1, 2 and 4 cores per costing mode: latency; energy split into the compute nodes' MAC /
  W / I / O, the other nodes (pooling, ReLU) and the transfers between cores and memories.
- with data, the figures of "When event-driven wins" (``zz_event.report.wins_plots``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from zz_event.model.vocabulary import OPERANDS
from zz_event.report.costs import Costs
from zz_event.report.multi_core import DATA, SAME, SAME_DATA
from zz_event.report.wins_plots import draw_wins

__all__ = ["ROWS", "draw", "network_total"]

ROWS = ("frame-WS", "frame-OS", "event-raw", "event")
_PARTS = ("MAC", *OPERANDS)
_COLOURS = {"MAC": "#4c72b0", "W": "#55a868", "I": "#dd8452", "O": "#c44e52", "other nodes": "#8c8c8c",
            "transfers": "#b3b3b3"}  # fmt: skip


def draw(data: Any, folder: Path) -> dict[str, str]:
    """Write the figures into ``folder``; {figure: file name}."""
    figures = {"single_core": "single_core.png", "stream": "stream.png"}
    _layers_figure(data.single, folder / figures["single_core"], "single core (ZigZag, toy 8-MAC core)")
    if data.padded:
        figures["padded"] = "padded.png"
        _layers_figure(data.padded, folder / figures["padded"], "padded layers (single core)", with_total=False)
    if data.stream:
        _stream_figure(data.stream, folder / figures["stream"])
    else:
        del figures["stream"]
    if data.data is not None:
        figures |= draw_wins(data.data, folder)
    return figures


def network_total(rows: dict[str, dict[str, Any]], label: str) -> Costs:
    """The sum of ``label``'s costs over the layers (latency: layers run one after the other)."""
    layers = [per[label].costs for per in rows.values()]
    total = layers[0]
    for costs in layers[1:]:
        total = total + costs
    return total


def _layers_figure(rows: dict[str, dict[str, Any]], path: Path, title: str, with_total: bool = True) -> None:
    columns = {layer: {label: per[label].costs for label in ROWS} for layer, per in rows.items()}
    if with_total:
        columns["network"] = {label: network_total(rows, label) for label in ROWS}
    fig, axes = plt.subplots(3, len(columns), figsize=(2.6 * len(columns) + 1, 8.5), squeeze=False)
    for j, (name, costs) in enumerate(columns.items()):
        _bars(axes[0][j], {r: {"latency": c.latency_cycles} for r, c in costs.items()}, {"latency": "#7f7f7f"})
        parts = {r: {"MAC": c.mac_energy_pj, **{op: c.operand_energy_pj.get(op, 0.0) for op in OPERANDS}}
                 for r, c in costs.items()}  # fmt: skip
        _bars(axes[1][j], {r: {k: v / 1e3 for k, v in p.items()} for r, p in parts.items()}, _COLOURS)
        words = {r: {op: c.word_accesses.get(op, 0) for op in OPERANDS} for r, c in costs.items()}
        _bars(axes[2][j], words, _COLOURS)
        axes[0][j].set_title(name)
    for i, label in enumerate(("latency (cycles)", "energy (nJ)", "word accesses")):
        axes[i][0].set_ylabel(label)
    _legend(fig, _PARTS)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _stream_figure(stream: dict[tuple[int, str], dict[str, Any]], path: Path) -> None:
    cores = sorted({c for c, _ in stream})
    modes = [m for m in ("frame", SAME, "event", "event-raw", SAME_DATA, DATA) if any(m == mm for _, mm in stream)]
    fig, axes = plt.subplots(1, len(cores), figsize=(4.2 * len(cores), 4.2), squeeze=False)
    for j, n in enumerate(cores):
        stacks = {mode: _stream_energy_parts(stream[(n, mode)]) for mode in modes if (n, mode) in stream}
        _bars(axes[0][j], {m: {k: v / 1e6 for k, v in s.items()} for m, s in stacks.items()}, _COLOURS)
        twin = axes[0][j].twinx()
        latency = [stream[(n, m)]["total_latency_cycles"] for m in stacks]
        twin.plot(range(len(latency)), latency, "kD", label="latency")
        twin.set_ylim(0, max(latency) * 1.15)
        axes[0][j].set_title(f"{n} compute core{'s' if n > 1 else ''}")
        axes[0][j].set_ylabel("energy (uJ)")
        twin.set_ylabel("latency (cycles, black diamonds)")
    _legend(fig, (*_PARTS, "other nodes", "transfers"))
    fig.suptitle("Stream: LeNet-5 energy (bars) and latency (diamonds) per costing mode")
    fig.tight_layout(rect=(0, 0.06, 1, 0.94))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _stream_energy_parts(summary: dict[str, Any]) -> dict[str, float]:
    parts = dict.fromkeys((*_PARTS, "other nodes"), 0.0)
    for node in summary["nodes"]:
        if "W" in (node.get("word_accesses") or {}):  # a MAC node (pooling and ReLU read only I)
            parts["MAC"] += float(node.get("mac_energy_pj") or 0.0)
            for op in OPERANDS:
                parts[op] += float(node["operand_energy_pj"].get(op, 0.0))
        else:
            parts["other nodes"] += float(node["energy_pj"])
    parts["transfers"] = float(summary.get("transfer_energy_pj") or 0.0)
    return parts


def _bars(ax: Any, stacks: dict[str, dict[str, float]], colours: dict[str, str]) -> None:
    """One stacked bar per key of ``stacks``."""
    labels = list(stacks)
    bottoms = [0.0] * len(labels)
    for part in dict.fromkeys(k for s in stacks.values() for k in s):
        values = [stacks[label].get(part, 0.0) for label in labels]
        ax.bar(range(len(labels)), values, bottom=bottoms, color=colours.get(part, "#4c72b0"), width=0.7)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)


def _legend(fig: Any, parts: tuple[str, ...]) -> None:
    handles = [plt.Rectangle((0, 0), 1, 1, color=_COLOURS[p]) for p in parts]
    fig.legend(handles, parts, loc="lower center", ncol=len(parts), fontsize=9, frameon=False)
