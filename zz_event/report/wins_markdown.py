"""The Markdown of "When event-driven wins", from the report's ``DataChapter``."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from zz_event.report.data_costs import ENERGY_PARTS
from zz_event.report.data_jobs import DataChapter

__all__ = ["wins_section"]

_INTRO = """\
Events from data: an input whose value is zero triggers nothing (its MACs do not execute, it is never moved, no
weight or output is fetched on its behalf); padding is a zero input. Each layer's mappings are the dense-best ones
of the single-core section (a core's dataflow is fixed before the data arrives): the **event** row's for
**event-driven**, the **frame-WS** and **frame-OS** rows' for the frame-based baselines, each under three zero
handlings (Sparseloop's and Eyeriss v2's terms):

- **dense**: no zero handling, every step is work;
- **gating**: a zero input's MAC keeps its cycle but spends no MAC energy and reads no weight;
- **skipping**: a zero input's step is skipped: no cycle, no weight read, no output read or write (inputs are still
  read: the core must see a value to know it is zero).

Every figure is the engine's exact count on one sample (no density model); the tables give means over the samples
and the p5-p95 band. "Best frame" is the better of frame-WS and frame-OS for that figure. The network sums its MAC
layers per sample."""


def wins_section(chapter: DataChapter | None, figures: dict[str, str], folder: str, network: str) -> list[str]:
    if chapter is None:
        return []
    t = chapter.tables
    out = ["## When event-driven wins", "", f"Data: `{chapter.source}`, {chapter.samples:,} samples through "
           f"`{network}`.", "", _INTRO, "", "### Event-driven against the best frame-based mapping", ""]  # fmt: skip
    out += _table(t.headline, {
        "layer": "layer", "density": "input density", "zero_handling": "zero handling",
        "event latency_cycles": "event latency", "best frame latency_cycles": "best frame latency",
        "best frame latency_cycles mapping": "(mapping)", "event/frame latency_cycles": "event / frame",
        "event energy_pj": "event energy (pJ)", "best frame energy_pj": "best frame energy (pJ)",
        "best frame energy_pj mapping": "(mapping) ", "event/frame energy_pj": "event / frame ",
    })  # fmt: skip
    out += ["", f"![costs on the data]({folder}/{figures['wins_costs']})", "",
            "### Every costing: mean [p5, p95] and the energy split", ""]  # fmt: skip
    bands = t.bands.copy()
    for metric in ("latency_cycles", "energy_pj"):
        bands[metric] = [f"{m:,.0f} [{lo:,.0f}, {hi:,.0f}]" for m, lo, hi in
                         zip(bands[f"{metric}_mean"], bands[f"{metric}_p5"], bands[f"{metric}_p95"])]  # fmt: skip
    out += _table(bands, {"layer": "layer", "costing": "costing", "latency_cycles": "latency (cycles)",
                          "energy_pj": "energy (pJ)", **{f"{p}_pj": f"{p} (pJ)" for p in ENERGY_PARTS}})
    out += ["", "### Density sweep: where event-driven crosses each baseline", "",
            f"![density sweep]({folder}/{figures['wins_sweep']})", "",
            "Each layer's inputs on the first samples, thinned (the smallest non-zero inputs dropped first) or "
            "thickened (the zeros nearest a non-zero input turned on first) to each density (**clustered**), and "
            "random masks of the same density (**random**). Crossover: the density below which event-driven costs "
            "less than the best frame-based mapping (linear between sweep points); \"always\"/\"never\"/\"equal\" "
            "where it wins, does not win, or costs the same at every density swept.", ""]  # fmt: skip
    out += _crossover_table(t.crossovers)
    out += ["", "### How far a density-only model is from the exact count", "",
            f"![density model error]({folder}/{figures['wins_density_model']})", "",
            "Event-driven on random masks of each layer's mean density (one per sample) against the real masks; "
            "error = (random - real) / real.", ""]  # fmt: skip
    out += _table(t.density_model_error, {
        "layer": "layer", "density": "density", "macs real": "MACs real", "macs random": "MACs random",
        "macs error %": "MACs error %", "latency_cycles error %": "latency error %",
        "energy_pj error %": "energy error %",
    })  # fmt: skip
    return [*out, ""]


def _crossover_table(crossovers: pd.DataFrame) -> list[str]:
    rows = []
    for (layer, kind), per in crossovers.groupby(["layer", "zero_handling"], sort=False):
        row = {"layer": layer, "zero handling": kind}
        for _, c in per.iterrows():
            row[f"{c['figure'].split('_')[0]} ({c['masks']})"] = _crossing(c)
        rows.append(row)
    frame = pd.DataFrame(rows)
    return _table(frame, {c: c for c in frame.columns})


def _crossing(c: Any) -> str:
    if c["equal at every density"]:
        return "equal"
    if not math.isnan(c["crossover_density"]):
        return f"below {c['crossover_density']:.0%}"
    if c["event wins at lowest density"] and c["event wins at highest density"]:
        return "always"
    return "never" if not c["event wins at lowest density"] else "--"


def _table(frame: pd.DataFrame, columns: dict[str, str]) -> list[str]:
    """A Markdown table of ``frame``'s ``columns`` (renamed), numbers with thousands separators."""
    header = "| " + " | ".join(columns.values()) + " |"
    lines = [header, "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(_cell(row[c], c) for c in columns) + " |")
    return lines


def _cell(value: Any, column: str) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "--"
        if column == "density":
            return f"{value:.1%}"
        if "/" in column or "%" in column:
            return f"{value:.3f}" if "/" in column else f"{value:+.1f}"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
