"""From the per-sample tables of ``zz_event.report.data_costs`` to the findings of "When event-driven wins".

- `with_network`: the table plus a ``network`` layer, each sample's sum over the layers;
- `band`: mean and p5-p95 of latency and energy per (layer, costing), with the mean energy split;
- `headline`: per layer, event-driven against the best frame-based mapping (WS or OS) under each zero
  handling, mean latency and energy and their ratios;
- `crossovers`: per layer, zero handling, figure and mask kind, the density below which event-driven costs
  less than the best frame-based mapping (linear between the sweep's densities);
- `density_model_error`: per layer, how far the event-driven cost on random masks of the layer's mean
  density is from the cost on the real masks, in percent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from zz_event.engine.baselines import BASELINES
from zz_event.model.vocabulary import FRAME_COSTINGS
from zz_event.report.data_costs import ENERGY_PARTS, EVENT_DRIVEN_COSTING, FIGURES

__all__ = ["NETWORK", "WinsTables", "band", "crossovers", "density_model_error", "headline", "summarise",
           "with_network"]

NETWORK = "network"
METRICS = ("latency_cycles", "energy_pj")


def with_network(table: pd.DataFrame, keys: tuple[str, ...] = ("costing", "sample")) -> pd.DataFrame:
    """``table`` plus, per ``keys``, a ``network`` row summing ``FIGURES`` over the layers (its density: the
    mean of the layers')."""
    summed = table.groupby(list(keys), sort=False)[list(FIGURES)].sum().reset_index()
    summed["density"] = table.groupby(list(keys), sort=False)["density"].mean().to_numpy()
    summed.insert(0, "layer", NETWORK)
    return pd.concat([table, summed[table.columns]], ignore_index=True)


def band(table: pd.DataFrame) -> pd.DataFrame:
    """Per (layer, costing): mean density; mean, p5 and p95 of latency and energy; mean energy parts."""
    grouped = table.groupby(["layer", "costing"], sort=False)
    out = grouped[["density", *(f"{p}_pj" for p in ENERGY_PARTS)]].mean()
    for metric in METRICS:
        out[f"{metric}_mean"] = grouped[metric].mean()
        out[f"{metric}_p5"] = grouped[metric].quantile(0.05)
        out[f"{metric}_p95"] = grouped[metric].quantile(0.95)
    return out.reset_index()


def headline(bands: pd.DataFrame) -> pd.DataFrame:
    """Per layer and zero handling: event-driven's mean latency and energy, the best frame-based mapping's
    (WS or OS, chosen per figure) and event-driven / best."""
    rows = []
    for layer, per in bands.groupby("layer", sort=False):
        by = per.set_index("costing")
        event = by.loc[EVENT_DRIVEN_COSTING]
        for kind in BASELINES:
            row = {"layer": layer, "density": event["density"], "zero_handling": kind}
            for metric in METRICS:
                frames = {f: by.loc[f"{f} {kind}", f"{metric}_mean"] for f in FRAME_COSTINGS}
                best = min(frames, key=frames.get)
                row[f"event {metric}"] = event[f"{metric}_mean"]
                row[f"best frame {metric}"] = frames[best]
                row[f"best frame {metric} mapping"] = best
                row[f"event/frame {metric}"] = event[f"{metric}_mean"] / frames[best] if frames[best] else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def crossovers(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per (layer, zero handling, figure, masks): the density below which event-driven's mean cost is below the
    best frame-based mapping's; NaN where the sign never changes (the flags say which side it is on)."""
    means = sweep.groupby(["layer", "masks", "target_density", "costing"], sort=False)[list(METRICS)].mean()
    rows = []
    for (layer, masks), per in means.groupby(level=["layer", "masks"], sort=False):
        per = per.droplevel(["layer", "masks"])
        densities = sorted(per.index.get_level_values("target_density").unique())
        for kind in BASELINES:
            for metric in METRICS:
                event = np.array([per.loc[(d, EVENT_DRIVEN_COSTING), metric] for d in densities])
                frame = np.array([min(per.loc[(d, f"{f} {kind}"), metric] for f in FRAME_COSTINGS)
                                  for d in densities])  # fmt: skip
                gap = event - frame
                gap[np.isclose(event, frame, rtol=1e-9, atol=0)] = 0.0  # float sums of equal counts
                rows.append({"layer": layer, "masks": masks, "zero_handling": kind, "figure": metric,
                             "crossover_density": _crossing(np.array(densities), gap),
                             "event wins at lowest density": bool(gap[0] < 0),
                             "event wins at highest density": bool(gap[-1] < 0),
                             "equal at every density": bool((gap == 0).all())})  # fmt: skip
    return pd.DataFrame(rows)


def _crossing(densities: np.ndarray, gap: np.ndarray) -> float:
    """The highest density where ``gap`` (event - frame, in density order) goes from negative to not, linear
    between points; NaN if it never does."""
    for i in range(len(gap) - 1, 0, -1):
        if gap[i - 1] < 0 <= gap[i]:
            return float(densities[i - 1] + (densities[i] - densities[i - 1]) * -gap[i - 1] / (gap[i] - gap[i - 1]))
    return float("nan")


def density_model_error(real: pd.DataFrame, modelled: pd.DataFrame) -> pd.DataFrame:
    """Per layer (and the network): mean event-driven MACs, latency and energy on the real masks and on random
    masks of the same mean density, and the density model's error in percent ((random - real) / real)."""
    real_event = real[real["costing"] == EVENT_DRIVEN_COSTING].drop(columns="costing")
    figures = ["macs", *METRICS]
    both = {"real": with_network(real_event, ("sample",)), "random": with_network(modelled, ("sample",))}
    means = {k: v.groupby("layer", sort=False)[["density", *figures]].mean() for k, v in both.items()}
    out = pd.DataFrame({"density": means["real"]["density"]})
    for figure in figures:
        out[f"{figure} real"] = means["real"][figure]
        out[f"{figure} random"] = means["random"][figure]
        out[f"{figure} error %"] = 100.0 * (means["random"][figure] - means["real"][figure]) / means["real"][figure]
    return out.reset_index()


@dataclass(frozen=True)
class WinsTables:
    """The chapter's summary tables (pandas), from its per-sample tables."""

    bands: pd.DataFrame
    headline: pd.DataFrame
    crossovers: pd.DataFrame
    density_model_error: pd.DataFrame


def summarise(real: pd.DataFrame, sweep: pd.DataFrame, density_model: pd.DataFrame) -> WinsTables:
    """``WinsTables`` of the real-data table, the sweep (network rows included) and the density model's table."""
    bands = band(with_network(real))
    return WinsTables(bands, headline(bands), crossovers(sweep), density_model_error(real, density_model))
