"""Figures of "When event-driven wins" (matplotlib, Agg backend).

- ``wins_costs.png``: per layer and the network, every costing's mean latency and energy on the data, the
  p5-p95 band as a black line, energy split into MAC / W / I / O;
- ``wins_sweep.png``: per layer and the network, mean latency and energy against input density for
  event-driven and the best frame-based mapping under each zero handling; real clustered masks solid,
  random masks of the same density dashed;
- ``wins_density_model.png``: per layer, the density-only model's error in MACs, latency and energy.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from zz_event.engine.baselines import BASELINES
from zz_event.model.vocabulary import FRAME_COSTINGS
from zz_event.report.data_costs import DATA_COSTINGS, ENERGY_PARTS, EVENT_DRIVEN_COSTING
from zz_event.report.data_jobs import DataChapter

__all__ = ["FIGURES", "draw_wins"]

FIGURES = {"costs": "wins_costs.png", "sweep": "wins_sweep.png", "density_model": "wins_density_model.png"}
_PART_COLOURS = {"MAC": "#4c72b0", "W": "#55a868", "I": "#dd8452", "O": "#c44e52"}
_LINE_COLOURS = {EVENT_DRIVEN_COSTING: "#000000", "dense": "#4c72b0", "gating": "#dd8452", "skipping": "#55a868"}
_METRICS = {"latency_cycles": "latency (cycles)", "energy_pj": "energy (nJ)"}


def draw_wins(chapter: DataChapter, folder: Path) -> dict[str, str]:
    """Write the chapter's figures into ``folder``; {figure: file name}."""
    _costs_figure(chapter.tables.bands, folder / FIGURES["costs"])
    _sweep_figure(chapter.sweep, folder / FIGURES["sweep"])
    _density_model_figure(chapter.tables.density_model_error, folder / FIGURES["density_model"])
    return {f"wins_{name}": file for name, file in FIGURES.items()}


def _costs_figure(bands: pd.DataFrame, path: Path) -> None:
    layers = list(dict.fromkeys(bands["layer"]))
    fig, axes = plt.subplots(2, len(layers), figsize=(2.9 * len(layers) + 1, 7.5), squeeze=False)
    x = range(len(DATA_COSTINGS))
    for j, layer in enumerate(layers):
        per = bands[bands["layer"] == layer].set_index("costing").loc[list(DATA_COSTINGS)]
        axes[0][j].bar(x, per["latency_cycles_mean"], color="#7f7f7f")
        axes[0][j].vlines(x, per["latency_cycles_p5"], per["latency_cycles_p95"], color="black")
        bottom = pd.Series(0.0, index=per.index)
        for part in ENERGY_PARTS:
            axes[1][j].bar(x, per[f"{part}_pj"] / 1e3, bottom=bottom / 1e3, color=_PART_COLOURS[part], label=part)
            bottom = bottom + per[f"{part}_pj"]
        axes[1][j].vlines(x, per["energy_pj_p5"] / 1e3, per["energy_pj_p95"] / 1e3, color="black")
        axes[0][j].set_title(f"{layer} (density {per['density'].iloc[0]:.0%})")
        for ax in axes[:, j]:
            ax.set_xticks(list(x), list(DATA_COSTINGS), rotation=70, fontsize=7)
    axes[0][0].set_ylabel(_METRICS["latency_cycles"])
    axes[1][0].set_ylabel(_METRICS["energy_pj"])
    handles, labels = axes[1][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(ENERGY_PARTS))
    fig.suptitle("costs on the data: mean, p5-p95 band")
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _sweep_figure(sweep: pd.DataFrame, path: Path) -> None:
    means = sweep.groupby(["layer", "masks", "target_density", "costing"], sort=False)[list(_METRICS)].mean()
    layers = list(dict.fromkeys(sweep["layer"]))
    fig, axes = plt.subplots(2, len(layers), figsize=(2.9 * len(layers) + 1, 6.5), squeeze=False)
    for j, layer in enumerate(layers):
        for masks, style in (("clustered", "-"), ("random", "--")):
            per = means.loc[(layer, masks)]
            densities = sorted(per.index.get_level_values("target_density").unique())
            x = [100 * d for d in densities]
            for i, metric in enumerate(_METRICS):
                scale = 1e3 if metric == "energy_pj" else 1
                curves = {EVENT_DRIVEN_COSTING: [per.loc[(d, EVENT_DRIVEN_COSTING), metric] for d in densities]}
                for kind in BASELINES:
                    curves[kind] = [min(per.loc[(d, f"{f} {kind}"), metric] for f in FRAME_COSTINGS)
                                    for d in densities]  # fmt: skip
                for name, values in curves.items():
                    axes[i][j].plot(x, [v / scale for v in values], style, color=_LINE_COLOURS[name],
                                    label=f"{name} ({masks})")
        axes[0][j].set_title(layer)
        axes[1][j].set_xlabel("input density (%)")
    for i, label in enumerate(_METRICS.values()):
        axes[i][0].set_ylabel(label)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7)
    fig.suptitle("density sweep: event-driven vs the best frame-based mapping per zero handling")
    fig.tight_layout(rect=(0, 0.09, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _density_model_figure(errors: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.5))
    figures = ("macs", "latency_cycles", "energy_pj")
    width = 0.8 / len(figures)
    for i, figure in enumerate(figures):
        ax.bar([k + i * width for k in range(len(errors))], errors[f"{figure} error %"], width, label=figure)
    ax.set_xticks([k + width for k in range(len(errors))], list(errors["layer"]))
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("density model error (%)")
    ax.legend(fontsize=8)
    ax.set_title("random masks of each layer's mean density vs the real masks (event-driven)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
