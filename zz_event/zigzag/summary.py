"""The public `summary.json` of a run: per layer, ZigZag's raw figures and the event-driven ones.

Contract (names are stable): `layers` is a list; each layer has `name`, `corrected` (and
`uncorrected_reason` when false), `temporal_ordering` (inner to outer `[dim, size]` pairs),
`spatial_mapping`, and blocks `zigzag` and `event_driven`, each with `macs`, `latency_cycles`,
`energy_pj` and `word_accesses` (per operand W, I, O: a list over its memory levels, innermost first, of
`{memory, rd_out_to_low, wr_in_by_low, rd_out_to_high, wr_in_by_high}`); `event_driven` also has
`compute_cycles`. `total` sums both blocks over the layers.
"""

from __future__ import annotations

from typing import Any

from zz_event.zigzag.corrected_cme import CorrectedCME, raw_figures
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS

__all__ = ["build_summary", "layer_cmes"]


def layer_cmes(cmes: list) -> list:
    """The per-layer CMEs of a `run_zigzag_event_driven` / ZigZag result list, in workload order."""
    return [cme for _total, per_layer in cmes for cme, _extra in per_layer]


def _memories(cme: Any) -> dict[str, list[str]]:
    hierarchy = cme.accelerator.memory_hierarchy
    links = cme.layer.memory_operand_links
    out = {}
    for layer_op in cme.layer.layer_operands:
        out[str(layer_op)] = [ml.name for ml in hierarchy.get_memory_levels(links.layer_to_mem_op(layer_op))]
    return out


def _words_block(words: dict[str, list[dict]], memories: dict[str, list[str]]) -> dict[str, list[dict]]:
    return {
        op: [{"memory": memories[op][j], **{d: int(level[d]) for d in DIRECTIONS}} for j, level in enumerate(levels)]
        for op, levels in words.items()
    }


def layer_summary(cme: Any) -> dict:
    ordering = [[str(d), int(round(s))] for level in next(iter(cme.temporal_mapping.mapping_dic_origin.values())) for d, s in level]
    spatial = {str(oa): {str(d): int(round(s)) for d, s in single.items()} for oa, single in cme.layer.spatial_mapping.items()}
    memories = _memories(cme)
    raw = cme.raw if isinstance(cme, CorrectedCME) else raw_figures(cme)
    zigzag = {k: raw[k] for k in ("macs", "latency_cycles", "energy_pj")}
    zigzag["word_accesses"] = _words_block(raw["word_accesses"], memories)
    entry = {"name": cme.layer.name, "corrected": isinstance(cme, CorrectedCME)}
    if isinstance(cme, CorrectedCME):
        result = cme.engine
        event = {
            "macs": result.macs,
            "compute_cycles": result.compute_cycles,
            "latency_cycles": result.latency_cycles,
            "energy_pj": float(cme.energy_total),
            "word_accesses": _words_block(
                {op: [lc.words for lc in result.levels[op]] for op in OPERANDS if op in memories}, memories
            ),
        }
    else:
        entry["uncorrected_reason"] = getattr(cme, "zz_event_uncorrected", "not corrected")
        event = {**zigzag, "compute_cycles": None}
    entry.update(temporal_ordering=ordering, spatial_mapping=spatial, zigzag=zigzag, event_driven=event)
    return entry


def _total(blocks: list[dict]) -> dict:
    total = {"macs": 0, "latency_cycles": 0.0, "energy_pj": 0.0}
    for block in blocks:
        for key in total:
            total[key] += block[key]
    return total


def build_summary(cmes: list, provenance: dict | None = None) -> dict:
    layers = [layer_summary(cme) for cme in layer_cmes(cmes)]
    total = {"zigzag": _total([l["zigzag"] for l in layers]), "event_driven": _total([l["event_driven"] for l in layers])}
    total["event_driven"]["compute_cycles"] = sum(l["event_driven"]["compute_cycles"] or 0 for l in layers)
    total["uncorrected_layers"] = [l["name"] for l in layers if not l["corrected"]]
    summary = {"layers": layers, "total": total}
    if provenance:
        summary["provenance"] = provenance
    return summary
