"""A point's rows of the result table: one per costed layer and one for the network (`kind`).

Columns, after `point` (the point's key) and `point_index` (its place in the spec) and the parameter columns
(`workload`, `layers`, `accelerator`, `mapping`, `mode`, `opt`, `lpf_limit`, `spatial_mappings`, then one
`hw.<key path or name>` per hardware axis):

- `kind` (`layer` / `network`), `layer` (the network row: `(network)`), `layer_index` (the network row: -1),
  `core` (Stream points: the core that ran the node; a row per node and core; else null);
- the mode's figures: `macs`, `latency_cycles`, `energy_pj`, `words_W`, `words_I`, `words_O` (word accesses
  per operand, every memory level and direction); these are the corrected figures in the modes ZigZag ranks
  on exact counts (event, event-filter, exact-dense) and ZigZag's own in event-raw and frame-*;
- `raw_*`: ZigZag 3.9.1's own figures of the same mapping; `corrected_*`: the exact counts of the same
  mapping (event, event-filter, exact-dense: their switches; event-raw: event-driven, both switches;
  frame-*: none, null); `compute_cycles` (corrected, else null); `corrected` (every layer has corrected
  figures), `temporal_ordering` (inner to outer), `spatial_mapping`, `note`;
- Stream points: the mode's figures of each node on each core as Stream used them (`stream_summary.json`;
  latency: ZigZag's less the systolic drain, as Stream takes it), the network row Stream's own totals
  (latency: its schedule; energy: nodes and transfers); a node the engine corrected (event mode) also has
  `corrected_*` (its figures) and ZigZag's `raw_macs`, `raw_latency_cycles`, `raw_energy_pj` (as the backend
  records them); `compute_cycles` null; `note` names the cost backend and how it costed the node;
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
        "kind": "string", "layer": "string", "layer_index": "int64", "core": "Int64", "corrected": "bool",
        **measures, **{f"raw_{m}": t for m, t in measures.items()},
        **{f"corrected_{m}": t for m, t in measures.items()},
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
        "kind": "layer", "layer": summary["name"], "layer_index": index, "core": None,
        "corrected": summary["corrected"], **own,
        **{f"raw_{k}": v for k, v in raw.items()}, **{f"corrected_{k}": v for k, v in corrected.items()},
        "compute_cycles": summary["event_driven"].get("compute_cycles") if summary["corrected"] else None,
        "temporal_ordering": " ".join(f"{d}{s}" for d, s in summary["temporal_ordering"]),
        "spatial_mapping": "; ".join(f"{oa}: " + " x ".join(f"{d} {s}" for d, s in dims.items())
                                     for oa, dims in summary["spatial_mapping"].items()),
        "note": note,
    }  # fmt: skip


def _network_row(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums over the layers (latency too: layers run one after another); null if any layer's is null."""
    row: dict[str, Any] = {"kind": "network", "layer": NETWORK, "layer_index": -1, "core": None,
                           "corrected": all(r["corrected"] for r in layers), "temporal_ordering": "",
                           "spatial_mapping": "", "note": ""}  # fmt: skip
    for column in [*MEASURES, *(f"{p}_{m}" for p in ("raw", "corrected") for m in MEASURES), "compute_cycles"]:
        values = [r.get(column) for r in layers]
        row[column] = None if any(v is None for v in values) else sum(values)
    return row


def _stream_node(index: int, node: Any) -> dict[str, Any]:
    meta = node.metadata
    # a node without an operand (ReLU has no W) accesses none of it; no breakdown at all: not known
    words = {f"words_{op}": node.word_accesses.get(op, 0) if node.word_accesses else None for op in OPERANDS}
    own = {"macs": node.macs, "latency_cycles": node.latency_cycles, "energy_pj": node.energy_pj, **words}
    corrected = "raw_energy_pj" in meta  # the engine's corrected cost, ZigZag's own figures kept beside it
    raw = {"macs": meta.get("raw_macs"), "latency_cycles": meta.get("raw_latency_cycles"),
           "energy_pj": meta.get("raw_energy_pj")} if corrected else {}  # fmt: skip
    costing = f": {meta['costing']}" if "costing" in meta else ""
    return {
        "kind": "layer", "layer": node.node, "layer_index": index, "core": node.core, "corrected": corrected, **own,
        **{f"raw_{m}": raw.get(m) for m in MEASURES},
        **{f"corrected_{m}": own[m] if corrected else None for m in MEASURES},
        "spatial_mapping": node.spatial_mapping, "note": f"backend {node.backend}{costing}",
    }  # fmt: skip


def _stream_rows(summary: Any) -> list[dict[str, Any]]:
    """One row per (node, core) cost Stream used, in its order, then its totals."""
    nodes = [_stream_node(index, node) for index, node in enumerate(summary.nodes)]
    network = _network_row(nodes)
    network.update(latency_cycles=summary.total_latency_cycles, energy_pj=summary.total_energy_pj)
    return [*nodes, network]


def point_rows(job, result: Any, provenance: dict[str, Any]) -> pd.DataFrame:
    """The table of one finished point: its layers in network order, then the network row. `result`: the
    `point.LayerEntry`s of a single-core point, the `StreamSummary` of a Stream point."""
    if job.is_stream:
        rows = _stream_rows(result)
    else:
        layers = [_layer_row(i, entry, job.mode) for i, entry in enumerate(result)]
        rows = [*layers, _network_row(layers)]
    head = {"point": job.key, "point_index": job.index, **dict(job.params)}
    dtypes = result_dtypes()
    frame = pd.DataFrame([{**head, **row, **provenance} for row in rows], columns=[*head, *dtypes])
    return frame.astype(dtypes)
