"""What a Stream run takes beyond Stream's own inputs: the spatial unrollings of an earlier run (for "same spatial
mapping" runs) and the data masks of every MAC layer (events from data)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from zz_event.errors import ZzEventError

__all__ = ["data_masks", "frame_unrollings"]


def frame_unrollings(summary: Any) -> dict[str, dict[str, dict[str, int]]]:
    """Per MAC node of a run's summary (a ``StreamSummary`` or its JSON), the spatial unrolling its cost used (the
    first core's: Stream costs a node once per core type), for another run's ``unrollings``."""
    nodes = summary["nodes"] if isinstance(summary, Mapping) else summary.nodes
    out: dict[str, dict[str, dict[str, int]]] = {}
    for node in nodes:
        node = node if isinstance(node, Mapping) else asdict(node)
        if node.get("spatial_unrolling") and "W" in (node.get("word_accesses") or {}):
            out.setdefault(str(node["node"]), {str(oa): {str(d): int(f) for d, f in per.items()}
                                               for oa, per in node["spatial_unrolling"].items()})  # fmt: skip
    return out


def data_masks(workload: Path, data: Any, calibration: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per Conv/Gemm/MatMul layer of the ONNX ``workload``, its input masks on ``data``; and the summary's block."""
    if data is None:
        return {}, {}
    import onnx  # noqa: PLC0415

    from zz_event.readers.activations import layer_masks, load_batch  # noqa: PLC0415

    model = onnx.load(str(workload))
    batch = load_batch(data, model)
    if calibration is not None and calibration > batch.shape[0]:
        raise ZzEventError(f"calibration {calibration}: the data holds {batch.shape[0]} samples")
    masks = layer_masks(model, batch)
    source = "<data array>" if not isinstance(data, str | os.PathLike) else str(data)
    return masks, {"source": source, "samples": int(batch.shape[0]), "calibration": calibration,
                   "density": {name: float(m.mean()) for name, m in masks.items()}}  # fmt: skip
