"""What a search writes: the best mappings as a table (pandas; JSON and CSV) and as ZigZag mapping files.

A mapping file is the run's mapping with one entry for the searched layer (its name, the spatial mapping
searched, its complete temporal ordering, innermost loop first, and the memory operand links of the entry
ZigZag used): `zz-event run` with it evaluates exactly that mapping for the layer (LOMA allocates a complete
ordering as the search did) and searches the other layers as before.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from zz_event.readers.mappings import entry_for_layer, save_mapping
from zz_event.search.stage import Found, SearchLog, SpatialSearch

__all__ = ["best_table", "mapping_entries", "write_mapping_files"]


def _ordering_text(found: Found) -> str:
    return " ".join(f"{d}{s}" for d, s in found.ordering)


def _spatial_text(search: SpatialSearch) -> str:
    return " ".join(f"{oa}:" + ",".join(f"{d}{math.ceil(s - 1e-9)}" for d, s in single.items())
                    for oa, single in search.spatial_mapping.items())


def best_table(log: SearchLog):
    """One row per kept mapping (layer, spatial mapping, rank): its ordering and the engine's and ZigZag's raw
    costs, and the search's size and speed."""
    import pandas as pd  # noqa: PLC0415 -- loaded when a table is made

    rows = []
    for search in log.searches:
        for found in search.best:
            result, raw = found.result, found.cme.raw
            rows.append({
                "layer": search.layer,
                "spatial_index": search.spatial_index,
                "spatial_mapping": _spatial_text(search),
                "rank": found.rank,
                "temporal_ordering": _ordering_text(found),
                "energy_pj": result.energy_pj,
                "latency_cycles": result.latency_cycles,
                "macs": result.macs,
                "zigzag_energy_pj": raw["energy_pj"],
                "zigzag_latency_cycles": raw["latency_cycles"],
                "orderings": search.orderings,
                "ranked": search.ranked,
                "costed": search.costed,
                "mappings_per_cpu_s": round(search.ranked / search.cpu_seconds, 1) if search.cpu_seconds else None,
            })
    return pd.DataFrame(rows)


def mapping_entries(entries: list[dict[str, Any]], prepared: Any, search: SpatialSearch,
                    found: Found) -> list[dict[str, Any]]:
    """The run's mapping `entries` with the searched layer's entry set to `found`."""
    base = entry_for_layer(entries, prepared.layer(search.layer), prepared)
    entry = {
        "name": search.layer,
        "spatial_mapping": {oa: [f"{d}, {math.ceil(s - 1e-9)}" for d, s in single.items()]
                            for oa, single in search.spatial_mapping.items()},
        "temporal_ordering": [[d, int(s)] for d, s in found.ordering],
        "memory_operand_links": copy.deepcopy(base["memory_operand_links"]),
    }
    return [e for e in copy.deepcopy(entries) if e["name"] != search.layer] + [entry]


def write_mapping_files(folder: Path, log: SearchLog, entries: list[dict[str, Any]], prepared: Any) -> list[Path]:
    """One mapping file per kept mapping: `<layer>_s<spatial index>_r<rank>.yaml`."""
    written = []
    for search in log.searches:
        for found in search.best:
            path = folder / f"{search.layer}_s{search.spatial_index}_r{found.rank}.yaml"
            save_mapping(mapping_entries(entries, prepared, search, found), path)
            written.append(path)
    return written
