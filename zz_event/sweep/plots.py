"""Figures of a sweep (matplotlib, Agg): the network rows of `load(DIR)`, one panel per workload.

- `<measure>_vs_<parameter>.png`: for each numeric parameter the sweep varies (an array size, a memory
  size, a bandwidth, lpf_limit), energy and latency against it, one line per mode (other parameters: the
  mean over their values, marked in the title when there are any).
- `pareto.png`: latency against energy of every point, by mode, with the Pareto front (no other point is
  better in both) drawn through it.
- `sweep_report.md`: the network rows as a table, and the figures.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

__all__ = ["draw_sweep", "pareto_front", "varied_parameters"]

_NOT_PARAMETERS = {"point", "point_index"}


def varied_parameters(table: pd.DataFrame) -> list[str]:
    """The parameter columns (those before `kind`) that take more than one value in `table`."""
    columns = list(table.columns)
    params = [c for c in columns[: columns.index("kind")] if c not in _NOT_PARAMETERS]
    return [c for c in params if table[c].nunique(dropna=False) > 1]


def pareto_front(frame: pd.DataFrame, x: str = "latency_cycles", y: str = "energy_pj") -> pd.DataFrame:
    """The rows no other row beats in both `x` and `y` (lower is better), sorted by `x`."""
    ordered = frame.dropna(subset=[x, y]).sort_values([x, y], kind="stable")
    keep, best = [], float("inf")
    for index, value in ordered[y].items():
        if value < best:
            keep.append(index)
            best = value
    return ordered.loc[keep]


def draw_sweep(table: pd.DataFrame, folder: str | Path) -> list[Path]:
    """Write the figures and `sweep_report.md` into `folder`; the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    network = table[table["kind"] == "network"]
    if network.empty:
        return []
    varied = varied_parameters(network)
    numeric = [c for c in varied if c not in ("mode", "workload") and pd.api.types.is_numeric_dtype(network[c])]
    written = [_versus(network, column, varied, folder) for column in numeric]
    written.append(_pareto(network, folder))
    written.append(_report(network, varied, written, folder))
    return written


def _panels(network: pd.DataFrame, rows: int = 1):
    workloads = list(dict.fromkeys(network["workload"]))
    fig, axes = plt.subplots(rows, len(workloads), figsize=(5 * len(workloads), 3.6 * rows), squeeze=False)
    return fig, axes, workloads


def _versus(network: pd.DataFrame, column: str, varied: list[str], folder: Path) -> Path:
    fig, axes, workloads = _panels(network, rows=2)
    others = [c for c in varied if c not in (column, "mode", "workload", "layers")]
    for j, workload in enumerate(workloads):
        part = network[network["workload"] == workload]
        for i, (measure, label) in enumerate((("energy_pj", "energy (pJ)"), ("latency_cycles", "latency (cycles)"))):
            ax = axes[i][j]
            for mode, rows in part.groupby("mode", sort=False):
                series = rows.groupby(column)[measure].mean()
                ax.plot(series.index, series.values, marker="o", label=mode)
            ax.set_xticks(sorted(part[column].dropna().unique()))
            ax.set_xlabel(column)
            ax.set_ylabel(label)
            ax.set_title(workload if not others else f"{workload}\n(mean over {', '.join(others)})", fontsize=9)
            ax.legend(fontsize=8)
    fig.tight_layout()
    path = folder / f"energy_latency_vs_{_file_name(column)}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _pareto(network: pd.DataFrame, folder: Path) -> Path:
    fig, axes, workloads = _panels(network)
    for j, workload in enumerate(workloads):
        ax = axes[0][j]
        part = network[network["workload"] == workload]
        for mode, rows in part.groupby("mode", sort=False):
            ax.scatter(rows["latency_cycles"], rows["energy_pj"], label=mode, s=24)
        front = pareto_front(part)
        ax.plot(front["latency_cycles"], front["energy_pj"], color="black", linewidth=1, label="Pareto front")
        ax.set_xlabel("latency (cycles)")
        ax.set_ylabel("energy (pJ)")
        ax.set_title(workload, fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = folder / "pareto.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _report(network: pd.DataFrame, varied: list[str], figures: list[Path], folder: Path) -> Path:
    columns = ["point_index", *varied, "macs", "latency_cycles", "energy_pj", "raw_energy_pj", "corrected_energy_pj"]
    front = {i for w in network["workload"].unique() for i in pareto_front(network[network["workload"] == w]).index}
    shown = network[columns].assign(pareto=["yes" if i in front else "" for i in network.index])
    lines = ["# Sweep", "",
             "Network rows (sums over the costed layers); `pareto`: on its workload's latency-energy front.",
             "", _markdown(shown), ""]
    lines += [f"![{p.stem}]({p.name})" for p in figures]
    path = folder / "sweep_report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _markdown(frame: pd.DataFrame) -> str:
    cells = [[f"{v:.10g}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def _file_name(column: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in column).strip("_")
