"""A point's rows of the result table: one per costed layer and one for the network (`kind`).

Columns, after `point` (the point's key) and `point_index` (its place in the spec) and the parameter columns
(`workload`, `layers`, `accelerator`, `mapping`, `mode`, `opt`, `lpf_limit`, `spatial_mappings`, then one
`hw.<key path or name>` per hardware axis):

- `kind` (`layer` / `network`), `layer` (the network row: `(network)`), `layer_index` (the network row: -1);
- the mode's figures: `macs`, `latency_cycles`, `energy_pj`, `words_W`, `words_I`, `words_O` (word accesses
  per operand, every memory level and direction); these are the corrected figures in the modes ZigZag ranks
  on exact counts (event, event-filter, exact-dense) and ZigZag's own in event-raw and frame-*;
- `raw_*`: ZigZag 3.9.1's own figures of the same mapping; `corrected_*`: the exact counts of the same
  mapping (event, event-filter, exact-dense: their switches; event-raw: event-driven, both switches;
  frame-*: none, null); `compute_cycles` (corrected, else null); `corrected` (every layer has corrected
  figures), `temporal_ordering` (inner to outer), `spatial_mapping`, `note`;
- provenance: `zz_event_version`, `zigzag_version`, `stream_version`, `commit`, the `*_sha256` of the point's
  resolved inputs, and `finished_at`, `wall_time_s`, `cpu_time_s` (these three differ run to run).

Counts are exact integers (int64); latency and energy are floats, as ZigZag reports them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["MEASURES", "NETWORK", "RUN_COLUMNS", "point_rows", "result_dtypes"]

NETWORK = "(network)"
OPERANDS = ("W", "I", "O")
MEASURES = ("macs", "latency_cycles", "energy_pj", *(f"words_{op}" for op in OPERANDS))
_FIGURES = {"event", "event-filter", "exact-dense"}  # modes whose own figures are the corrected ones
RUN_COLUMNS = ("finished_at", "wall_time_s", "cpu_time_s")  # vary from run to run: not results


def result_dtypes() -> dict[str, str]:
    """The columns a point's rows have beyond its parameters, with their pandas dtypes (stable per column, so
    every point file has the same Parquet schema)."""
    ints = {m: "Int64" for m in MEASURES if m.startswith(("macs", "words"))}
    floats = {m: "float64" for m in MEASURES if m not in ints}
    measures = {**ints, **floats}
    return {
        "kind": "string", "layer": "string", "layer_index": "int64", "corrected": "bool",
        **measures, **{f"raw_{m}": t for m, t in measures.items()}, **{f"corrected_{m}": t for m, t in measures.items()},
        "compute_cycles": "Int64", "temporal_ordering": "string", "spatial_mapping": "string", "note": "string",
        "zz_event_version": "string", "zigzag_version": "string", "stream_version": "string", "commit": "string",
        "workload_sha256": "string", "accelerator_sha256": "string", "mapping_sha256": "string",
        "finished_at": "string", "wall_time_s": "float64", "cpu_time_s": "float64",
    }  # fmt: skip


def _figures(block: dict | None) -> dict[str, Any]:
    if block is None:
        return dict.fromkeys(MEASURES)
    words = {f"words_{op}": sum(sum(lv[d] for d in lv if d != "memory") for lv in block["word_accesses"].get(op, []))
             for op in OPERANDS}  # fmt: skip
    return {"macs": block["macs"], "latency_cycles": block["latency_cycles"], "energy_pj": block["energy_pj"], **words}


def _layer_row(index: int, entry, mode: str) -> dict[str, Any]:
    summary = entry.summary
    raw = _figures(summary["zigzag"])
    corrected = _figures(summary["event_driven"]) if summary["corrected"] else _figures(None)
    own = corrected if mode in _FIGURES and summary["corrected"] else raw
    note = entry.note or ("" if summary["corrected"] else summary.get("uncorrected_reason", ""))
    return {
        "kind": "layer", "layer": summary["name"], "layer_index": index, "corrected": summary["corrected"], **own,
        **{f"raw_{k}": v for k, v in raw.items()}, **{f"corrected_{k}": v for k, v in corrected.items()},
        "compute_cycles": summary["event_driven"].get("compute_cycles") if summary["corrected"] else None,
        "temporal_ordering": " ".join(f"{d}{s}" for d, s in summary["temporal_ordering"]),
        "spatial_mapping": "; ".join(f"{oa}: " + " x ".join(f"{d} {s}" for d, s in dims.items())
                                     for oa, dims in summary["spatial_mapping"].items()),
        "note": note,
    }  # fmt: skip


def _network_row(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums over the layers (latency too: layers run one after another); null if any layer's is null."""
    row: dict[str, Any] = {"kind": "network", "layer": NETWORK, "layer_index": -1,
                           "corrected": all(r["corrected"] for r in layers), "temporal_ordering": "",
                           "spatial_mapping": "", "note": ""}  # fmt: skip
    for column in [*MEASURES, *(f"{p}_{m}" for p in ("raw", "corrected") for m in MEASURES), "compute_cycles"]:
        values = [r[column] for r in layers]
        row[column] = None if any(v is None for v in values) else sum(values)
    return row


def point_rows(job, entries: list, provenance: dict[str, Any]) -> pd.DataFrame:
    """The table of one finished point: its layers in network order, then the network row."""
    layers = [_layer_row(i, entry, job.mode) for i, entry in enumerate(entries)]
    rows = [*layers, _network_row(layers)]
    head = {"point": job.key, "point_index": job.index, **dict(job.params)}
    frame = pd.DataFrame([{**head, **row, **provenance} for row in rows])
    return frame.astype(result_dtypes())
