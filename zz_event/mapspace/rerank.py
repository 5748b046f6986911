"""Re-ranking a logged mapping space: what ZigZag's raw costs pick versus what the corrected costs pick.

    from zz_event.mapspace.rerank import rerank_file
    report = rerank_file("out/lenet5_toy.csv", by="latency")
    report.to_json()["layers"][0]["regret_pct"]

Per corrected layer of a mapspace file (see `zz_event.mapspace.logger`), with cost = latency, energy or EDP
(energy x latency), raw = ZigZag's own figures and corrected = one engine variant (default
`event_driven`, i.e. filter + readiness):

- `raw_best` / `corrected_best`: the mapping each cost picks, with ZigZag's own tie rule (latency ties go
  to the lower energy, energy ties to the lower latency, EDP has none; a remaining tie goes to the mapping
  evaluated first), so `raw_best` is plain ZigZag's pick. `differ` says whether they are different mappings.
- `regret_pct`: 100 x (corrected cost of `raw_best` - corrected cost of `corrected_best`) / the latter.
- `kendall_tau`: Kendall's tau-b between the raw and corrected costs of all mappings (ties handled; null
  when one of them is constant).
- `top_overlap`: for k = 1, 10, 100, the fraction of the k best mappings by raw cost that are also among
  the k best by corrected cost (ranks with the tie rule above; k is capped at the number of mappings).
- `mappings_lost`, `mappings_lost_pct`: mappings whose corrected cost is strictly below that of
  `raw_best`, as a count and as a percentage of the layer's mappings.

Layers zz-event does not correct are listed under `skipped`. `plot_layer` draws raw against corrected
cost per mapping with both optima marked (matplotlib's Agg canvas, no global backend change).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from zz_event.errors import InputFileError, ZzEventError
from zz_event.mapspace.reader import load
from zz_event.model.vocabulary import MAPSPACE_VARIANTS

__all__ = ["COSTS", "LayerRerank", "Pick", "RerankReport", "kendall_tau_b", "plot_layer", "rerank", "rerank_file"]

COSTS = ("latency", "energy", "edp")
TOP_K = (1, 10, 100)
_VARIANTS = tuple(reversed(MAPSPACE_VARIANTS))  # the most corrected first
_ID_COLUMNS = ["layer", "evaluation", "spatial_mapping", "temporal_ordering", "alloc_W", "alloc_I", "alloc_O",
               "corrected", "uncorrected_reason"]


@dataclass(frozen=True)
class Pick:
    """One mapping of a layer and its two costs."""

    evaluation: int
    spatial_mapping: str
    temporal_ordering: str
    allocation: dict[str, str]
    raw_cost: float
    corrected_cost: float

    def to_json(self) -> dict:
        return {
            "evaluation": self.evaluation, "spatial_mapping": self.spatial_mapping,
            "temporal_ordering": self.temporal_ordering, "allocation": dict(self.allocation),
            "raw_cost": self.raw_cost, "corrected_cost": self.corrected_cost,
        }


@dataclass(frozen=True)
class LayerRerank:
    name: str
    mappings: int
    raw_best: Pick
    corrected_best: Pick
    regret_pct: float | None
    kendall_tau: float | None
    top_overlap: dict[int, float]
    mappings_lost: int
    mappings_lost_pct: float

    @property
    def differ(self) -> bool:
        return self.raw_best.evaluation != self.corrected_best.evaluation

    def to_json(self) -> dict:
        return {
            "name": self.name, "mappings": self.mappings, "raw_best": self.raw_best.to_json(),
            "corrected_best": self.corrected_best.to_json(), "differ": self.differ, "regret_pct": self.regret_pct,
            "kendall_tau": self.kendall_tau, "top_overlap": {str(k): v for k, v in self.top_overlap.items()},
            "mappings_lost": self.mappings_lost, "mappings_lost_pct": self.mappings_lost_pct,
        }


@dataclass(frozen=True)
class RerankReport:
    by: str
    variant: str
    layers: tuple[LayerRerank, ...]
    skipped: tuple[tuple[str, str, int], ...]  # (layer, reason, mappings)

    def to_json(self) -> dict:
        return {
            "by": self.by, "variant": self.variant, "layers": [layer.to_json() for layer in self.layers],
            "skipped": [{"name": n, "reason": r, "mappings": m} for n, r, m in self.skipped],
        }


def kendall_tau_b(x: Any, y: Any) -> float | None:
    """Kendall's tau-b of two equally long sequences (O(n log n)); None if either is constant or n < 2."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"kendall_tau_b needs two 1-D sequences of one length; got {x.shape} and {y.shape}")
    n = x.size
    if n < 2:
        return None
    order = np.lexsort((y, x))
    xs, ys = x[order], y[order]
    total = n * (n - 1) // 2
    x_ties = _tied_pairs(np.flatnonzero(np.diff(xs) != 0), n)
    y_ties = _tied_pairs(np.flatnonzero(np.diff(np.sort(y)) != 0), n)
    both_ties = _tied_pairs(np.flatnonzero((np.diff(xs) != 0) | (np.diff(ys) != 0)), n)
    discordant = _inversions(np.unique(ys, return_inverse=True)[1].astype(np.int64))
    denominator = math.sqrt(total - x_ties) * math.sqrt(total - y_ties)
    if denominator == 0:
        return None
    return float((total - x_ties - y_ties + both_ties - 2 * discordant) / denominator)


def _tied_pairs(breaks: np.ndarray, n: int) -> int:
    """Pairs inside runs of equal values, given the positions where a sorted sequence of n changes value."""
    bounds = np.concatenate(([0], breaks + 1, [n]))
    runs = np.diff(bounds).astype(np.int64)
    return int((runs * (runs - 1) // 2).sum())


def _inversions(ranks: np.ndarray) -> int:
    """Pairs i < j with ranks[i] > ranks[j], by a bottom-up merge sort vectorised per pass."""
    n = ranks.size
    span = int(ranks.max()) + 1 if n else 1
    a = ranks.copy()
    position = np.arange(n, dtype=np.int64)
    count = 0
    width = 1
    while width < n:
        block = position // width
        pair = block // 2
        right = (block % 2) == 1
        key = pair * span + a
        left_keys = key[~right]  # each left block is sorted and pairs are in order: globally sorted
        right_pair = pair[right]
        end = np.searchsorted(left_keys, (right_pair + 1) * span, side="left")
        not_greater = np.searchsorted(left_keys, key[right], side="right")
        count += int((end - not_greater).sum())
        a = np.sort(key) - (position // (2 * width)) * span
        width *= 2
    return count


def _costs(frame, prefix: str, by: str) -> tuple[np.ndarray, np.ndarray | None]:
    latency = frame[f"{prefix}_latency_cycles"].to_numpy(dtype=float)
    energy = frame[f"{prefix}_energy_pj"].to_numpy(dtype=float)
    if by == "latency":
        return latency, energy
    if by == "energy":
        return energy, latency
    return latency * energy, None


def _ranking(primary: np.ndarray, secondary: np.ndarray | None, evaluation: np.ndarray) -> np.ndarray:
    """Row positions best first, with ZigZag's tie rule."""
    keys = (evaluation, primary) if secondary is None else (evaluation, secondary, primary)
    return np.lexsort(keys)


def _pick(frame, row: int, raw: np.ndarray, corrected: np.ndarray) -> Pick:
    record = frame.iloc[row]
    return Pick(
        evaluation=int(record["evaluation"]), spatial_mapping=str(record["spatial_mapping"]),
        temporal_ordering=str(record["temporal_ordering"]),
        allocation={op: str(record[f"alloc_{op}"]) for op in ("W", "I", "O")},
        raw_cost=float(raw[row]), corrected_cost=float(corrected[row]),
    )


def rerank_layer(frame, name: str, by: str = "latency", variant: str = "event_driven") -> LayerRerank:
    """The re-ranking figures of one layer's rows (all corrected)."""
    frame = frame.reset_index(drop=True)
    evaluation = frame["evaluation"].to_numpy(dtype=np.int64)
    raw, raw_2nd = _costs(frame, "raw", by)
    corrected, corrected_2nd = _costs(frame, variant, by)
    raw_order = _ranking(raw, raw_2nd, evaluation)
    corrected_order = _ranking(corrected, corrected_2nd, evaluation)
    raw_best, corrected_best = int(raw_order[0]), int(corrected_order[0])
    n = len(frame)
    best = corrected[corrected_best]
    regret = 100.0 * (corrected[raw_best] - best) / best if best > 0 else None
    overlap = {}
    for k in TOP_K:
        kk = min(k, n)
        overlap[k] = len(set(raw_order[:kk].tolist()) & set(corrected_order[:kk].tolist())) / kk
    lost = int((corrected < corrected[raw_best]).sum())
    return LayerRerank(
        name=name, mappings=n, raw_best=_pick(frame, raw_best, raw, corrected),
        corrected_best=_pick(frame, corrected_best, raw, corrected), regret_pct=regret,
        kendall_tau=kendall_tau_b(raw, corrected), top_overlap=overlap, mappings_lost=lost,
        mappings_lost_pct=100.0 * lost / n,
    )


def rerank(frame, by: str = "latency", variant: str = "event_driven") -> RerankReport:
    """Re-rank every layer of a mapspace DataFrame (as `zz_event.mapspace.load` returns it)."""
    by = by.lower()
    if by not in COSTS:
        raise ZzEventError(f"cost is {by!r}; expected one of {', '.join(COSTS)}")
    if variant not in _VARIANTS:
        raise ZzEventError(f"variant is {variant!r}; expected one of {', '.join(_VARIANTS)}")
    layers, skipped = [], []
    for name in dict.fromkeys(frame["layer"].tolist()):
        rows = frame[frame["layer"] == name]
        corrected = rows[rows["corrected"] == 1]
        if len(corrected) < len(rows) or corrected[f"{variant}_latency_cycles"].isna().any():
            reasons = rows.loc[rows["corrected"] != 1, "uncorrected_reason"]
            skipped.append((name, str(reasons.iloc[0]) if len(reasons) else "corrected costs missing", len(rows)))
            continue
        layers.append(rerank_layer(corrected, name, by, variant))
    return RerankReport(by=by, variant=variant, layers=tuple(layers), skipped=tuple(skipped))


def rerank_file(path: str | Path, by: str = "latency", variant: str = "event_driven") -> RerankReport:
    """`rerank` of a mapspace file; InputFileError if it is not one (or holds no corrected layer)."""
    columns = _ID_COLUMNS + [f"{p}_{m}" for p in ("raw", variant) for m in ("latency_cycles", "energy_pj")]
    frame = load(path, columns=columns)
    if frame.empty:
        raise InputFileError("holds no mappings", str(path))
    report = rerank(frame, by, variant)
    if not report.layers:
        raise InputFileError("holds no corrected layer to re-rank", str(path))
    return report


def plot_layer(
    frame, result: LayerRerank, path: str | Path, by: str = "latency", variant: str = "event_driven"
) -> Path:
    """A PNG scatter of raw against corrected cost per mapping of one layer, both optima marked."""
    rows = frame[(frame["layer"] == result.name) & (frame["corrected"] == 1)]
    raw, _ = _costs(rows, "raw", by)
    corrected, _ = _costs(rows, variant, by)
    unit = {"latency": "cycles", "energy": "pJ", "edp": "pJ x cycles"}[by]
    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.scatter(raw, corrected, s=9, alpha=0.4, color="tab:blue", linewidths=0, label=f"{len(rows)} mappings",
               rasterized=True)
    for pick, style in ((result.raw_best, dict(marker="X", color="tab:red", s=170, label="ZigZag's raw pick")),
                        (result.corrected_best, dict(marker="*", color="tab:green", s=110, label="corrected optimum"))):
        ax.scatter([pick.raw_cost], [pick.corrected_cost], edgecolors="black", zorder=3, **style)
    ax.set_xlabel(f"ZigZag raw {by} ({unit})")
    ax.set_ylabel(f"corrected ({variant}) {by} ({unit})")
    tau = "n/a" if result.kendall_tau is None else f"{result.kendall_tau:.3f}"
    regret = "n/a" if result.regret_pct is None else f"{result.regret_pct:.2f}%"
    ax.set_title(f"{result.name}: regret {regret}, Kendall tau-b {tau}, lost {result.mappings_lost}", fontsize=10)
    ax.legend(loc="best", fontsize=8)
    ax.grid(True, alpha=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path


def plot_file(path: str | Path, report: RerankReport, plot_dir: str | Path) -> list[Path]:
    """One PNG per re-ranked layer of `path` into `plot_dir`, named `<layer>_<cost>.png`."""
    metrics = ("latency_cycles", "energy_pj")
    columns = ["layer", "corrected"] + [f"{p}_{m}" for p in ("raw", report.variant) for m in metrics]
    frame = load(path, columns=columns)
    out = []
    for result in report.layers:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", result.name)
        out.append(plot_layer(frame, result, Path(plot_dir) / f"{name}_{report.by}.png", report.by, report.variant))
    return out


def dumps(report: RerankReport) -> str:
    return json.dumps(report.to_json(), indent=2)
