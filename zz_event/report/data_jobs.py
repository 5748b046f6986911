"""The data part of the report ("When event-driven wins"): its units of work, made once the single-core searches
have chosen the mappings, and the chapter's tables assembled from their results.

The network input (``ReportOptions.data``: a ``.npy`` batch, or ``mnist:N``) is run through the ONNX network once,
in the main process (``zz_event.readers.activations``); each layer's real input values then go to the workers:

- ``wins data <layer> <first sample>``: every costing on a chunk of samples' real masks;
- ``wins sweep <layer> <density>``: every costing at a target density, clustered and random, on the first
  ``sweep_samples`` samples;
- ``wins density model <layer> <first sample>``: event-driven on random masks of the layer's mean real density.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zz_event.report.data_costs import DATA_COSTINGS, LayerNests, density_model_table, sample_table, sweep_table
from zz_event.report.wins import WinsTables, summarise, with_network

__all__ = ["DATA_TASK_PREFIX", "DataChapter", "assemble", "data_tasks", "layer_values"]

DATA_TASK_PREFIX = "wins "

CHUNK = 250  # samples per unit of work: a few seconds of conv1 on an idle machine
_SEED = 2026  # the sweep's and the density model's random masks


@dataclass(frozen=True)
class DataChapter:
    """Per-sample tables (pandas) of "When event-driven wins": real data, the density sweep, the density model,
    and their summary; ``samples`` is the number of samples, ``source`` what they are."""

    source: str
    samples: int
    real: pd.DataFrame
    sweep: pd.DataFrame
    density_model: pd.DataFrame
    tables: WinsTables


def layer_values(network: str, data: Any, geometries: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per layer of ``geometries``, its real input values per sample, (S, B, G, C, IY, IX)."""
    import onnx  # noqa: PLC0415

    from zz_event.readers.activations import layer_inputs, load_batch  # noqa: PLC0415

    model = onnx.load(network)
    per_layer = layer_inputs(model, load_batch(data, model))
    return {name: per_layer[name].reshape((-1, g.B, g.G, g.C, g.y.inp, g.x.inp)) for name, g in geometries.items()}


def data_tasks(values: dict[str, np.ndarray], nests: dict[str, dict], sweep_samples: int,
               densities: tuple[float, ...]) -> dict[str, tuple[Callable, tuple]]:
    """The chapter's units of work (name -> (function, arguments))."""
    tasks: dict[str, tuple[Callable, tuple]] = {}
    for layer, v in values.items():
        chosen = LayerNests(layer, nests[layer]["event"], {k: n for k, n in nests[layer].items() if k != "event"})
        for i, density in enumerate(densities):
            tasks[f"{DATA_TASK_PREFIX}sweep {layer} {density}"] = (sweep_table,
                                                                   (chosen, v[:sweep_samples], (density,), _SEED + i))
        masks = v != 0
        density = float(masks.mean())
        for at in range(0, len(v), CHUNK):
            tasks[f"{DATA_TASK_PREFIX}data {layer} {at}"] = (sample_table, (chosen, masks[at:at + CHUNK], at))
            tasks[f"{DATA_TASK_PREFIX}density model {layer} {at}"] = (density_model_table,
                                                    (chosen, masks[at:at + CHUNK], density, _SEED + at, at))
    return tasks


def assemble(source: str, layers: list[str], results: dict[str, pd.DataFrame]) -> DataChapter:
    """The chapter's tables from the units' results (in any order), sorted by ``layers`` (network order),
    costing and sample; the sweep gains its network rows."""

    def joined(prefix: str, keys: list[str]) -> pd.DataFrame:
        table = pd.concat([t for name, t in results.items() if name.startswith(DATA_TASK_PREFIX + prefix)],
                          ignore_index=True)
        order = {"layer": layers, "costing": DATA_COSTINGS}
        return table.sort_values(keys, kind="stable", key=lambda col: col.map(
            {v: i for i, v in enumerate(order[col.name])}) if col.name in order else col).reset_index(drop=True)

    real = joined("data ", ["layer", "costing", "sample"])
    sweep = joined("sweep ", ["layer", "masks", "target_density", "costing", "sample"])
    sweep = with_network(sweep, ("masks", "target_density", "costing", "sample"))
    modelled = joined("density model ", ["layer", "sample"])
    return DataChapter(source, int(real["sample"].nunique()), real, sweep, modelled, summarise(real, sweep, modelled))
