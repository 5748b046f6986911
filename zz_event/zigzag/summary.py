"""The public `summary.json` of a run: per layer, ZigZag's raw figures and the event-driven ones.

Contract (names are stable): `layers` is a list; each layer has `name`, `corrected` (and
`uncorrected_reason` when false), `temporal_ordering` (inner to outer `[dim, size]` pairs),
`spatial_mapping`, and blocks `zigzag` and `event_driven`, each with `macs`, `latency_cycles`,
`energy_pj` and `word_accesses` (per operand W, I, O: a list over its memory levels, innermost first, of
`{memory, rd_out_to_low, wr_in_by_low, rd_out_to_high, wr_in_by_high}`); `event_driven` also has
`compute_cycles`. `total` sums both blocks over the layers. `skipped_nodes` lists every ONNX node not costed
(`name`, `reason`), empty for a YAML workload.

With data (events from data), each corrected layer also has `event_driven_data`: `samples` (N), `density`
(mean fraction of non-zero inputs), `calibration_samples` (how many the search ranked on; `event_driven`
is then the mean over those), for each of `macs`, `compute_cycles`, `latency_cycles`, `energy_pj` and
`outputs_without_contribution` (real outputs no non-zero input reaches: never written, their memory keeps
the bias) `{mean, min, p50, p95, max}`, and `word_accesses` shaped as `event_driven.word_accesses` with
per-sample means. For N = 1 these are that sample's exact integers.
"""

from __future__ import annotations

from zz_event.model.vocabulary import DIRECTIONS, OPERANDS
from zz_event.zigzag.result import Figures, LayerResult, layer_results

__all__ = ["SAMPLE_COLUMNS", "build_summary", "layer_summary", "sample_rows"]

SAMPLE_COLUMNS = ("layer", "sample", "calibration", "density", "macs", "compute_cycles", "latency_cycles",
                  "energy_pj", "outputs_without_contribution")


def _block(figures: Figures, count=int) -> dict:
    words = {op: [{"memory": level["memory"], **{d: count(level[d]) for d in DIRECTIONS}} for level in levels]
             for op, levels in figures.word_accesses.items()}
    return {"macs": figures.macs, "latency_cycles": figures.latency_cycles, "energy_pj": figures.energy_pj,
            "word_accesses": words}


def _number(value) -> int | float:
    """A count as an integer, unless it is a mean that is not one (ranked on several data samples)."""
    return int(value) if float(value).is_integer() else float(value)


def layer_summary(layer: LayerResult) -> dict:
    entry: dict = {"name": layer.name, "corrected": layer.corrected}
    zigzag = _block(layer.zigzag)
    if layer.corrected:
        event = layer.event_driven
        block = _block(event, _number)
        words = block["word_accesses"]
        event_block = {"macs": block["macs"], "compute_cycles": event.compute_cycles,
                       "latency_cycles": block["latency_cycles"], "energy_pj": block["energy_pj"],
                       "word_accesses": {op: words[op] for op in OPERANDS if op in words}}
    else:
        entry["uncorrected_reason"] = layer.uncorrected_reason
        event_block = {**zigzag, "compute_cycles": None}
    entry.update(
        temporal_ordering=[list(loop) for loop in layer.temporal_ordering],
        spatial_mapping={oa: {d: int(round(s)) for d, s in single.items()}
                         for oa, single in layer.spatial_mapping.items()},
        zigzag=zigzag,
        event_driven=event_block,
    )
    if layer.data is not None:
        entry["event_driven_data"] = layer.data
    return entry


def _total(blocks: list[dict]) -> dict:
    total = {"macs": 0, "latency_cycles": 0.0, "energy_pj": 0.0}
    for block in blocks:
        for key in total:
            total[key] += block[key]
    return total


def build_summary(cmes: list, provenance: dict | None = None, skipped: dict[str, str] | None = None) -> dict:
    """summary.json of a run's CMEs; `skipped`: the workload's nodes not costed and why
    (`PreparedWorkload.skipped`)."""
    layers = [layer_summary(layer) for layer in layer_results(cmes)]
    total = {"zigzag": _total([entry["zigzag"] for entry in layers]),
             "event_driven": _total([entry["event_driven"] for entry in layers])}
    total["event_driven"]["compute_cycles"] = sum(entry["event_driven"]["compute_cycles"] or 0 for entry in layers)
    total["uncorrected_layers"] = [entry["name"] for entry in layers if not entry["corrected"]]
    summary = {"layers": layers, "total": total,
               "skipped_nodes": [{"name": name, "reason": reason} for name, reason in (skipped or {}).items()]}
    if provenance:
        summary["provenance"] = provenance
    return summary


def sample_rows(cmes: list) -> list[dict]:
    """One row per (corrected layer, sample) of a run with data (`DIR/samples.csv`): the chosen mapping's
    exact figures on that sample; `calibration` marks the samples the search ranked on."""
    rows = []
    for layer in layer_results(cmes):
        if layer.samples is None:
            continue
        for i, (result, density) in enumerate(zip(layer.samples, layer.samples.densities)):
            rows.append({"layer": layer.name, "sample": i, "calibration": i < layer.samples.calibration,
                         "density": density, "macs": result.macs, "compute_cycles": result.compute_cycles,
                         "latency_cycles": result.latency_cycles, "energy_pj": result.energy_pj,
                         "outputs_without_contribution": result.outputs_without_contribution})
    return rows
