"""Events from data in a ZigZag run: per-layer masks from the user's input batch, and the chosen mapping of
every corrected layer costed on every sample.

`masks_for_run` turns the network input (`data=`: a .npy path, an array (N, C, H, W), or `mnist:N`) into the data
masks `CorrectionSettings.masks` carries: per corrected layer, a bool array (N, B, G, C, IY, IX) of its
non-zero inputs, from the ONNX model run on the batch (`zz_event.readers.activations`). The search ranks
each mapping on the mean over the first `calibration` samples; `cost_on_samples` then costs each layer's
chosen mapping on every sample and attaches the per-sample results to its CME (`zz_event_samples`), which
`LayerResult.data` and `summary.json`'s `event_driven_data` read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zz_event.engine.evaluate import evaluate_samples
from zz_event.engine.result import EngineResult
from zz_event.errors import ZzEventError
from zz_event.model.geometry import ConvGeometry

__all__ = ["SampleResults", "cost_on_samples", "masks_for_run"]

_CHUNK = 64  # samples counted in one pass: the pass holds a few arrays per executed iteration of each


class SampleResults(list):
    """One layer's chosen mapping costed on every sample: `EngineResult`s in sample order, plus each
    sample's input density (fraction of non-zero inputs) and the number of calibration samples ranked on."""

    def __init__(self, results: list[EngineResult], densities: list[float], calibration: int) -> None:
        super().__init__(results)
        self.densities = densities
        self.calibration = calibration


def masks_for_run(workload: Any, data: Any, geometries: dict[str, ConvGeometry]) -> dict[str, np.ndarray]:
    """Per corrected layer, its data masks (N, B, G, C, IY, IX); `workload` must be an ONNX model (path or
    ModelProto)."""
    import onnx  # noqa: PLC0415

    from zz_event.readers.activations import layer_masks, load_batch  # noqa: PLC0415

    if isinstance(workload, onnx.ModelProto):
        model = workload
    elif isinstance(workload, str) and workload.lower().endswith(".onnx"):
        model = onnx.load(workload)
    else:
        raise ZzEventError("data= needs an ONNX workload (activations are computed by running the model)",
                           str(data) if not isinstance(data, np.ndarray) else None)
    batch = load_batch(data, model)
    per_layer = layer_masks(model, batch)
    masks = {}
    for name, geo in geometries.items():
        if name not in per_layer:
            continue
        shape = (geo.B, geo.G, geo.C, geo.y.inp, geo.x.inp)
        found = per_layer[name]
        if found[0].size != int(np.prod(shape)):
            raise ZzEventError(f"layer {name!r}: its input per sample has shape {found.shape[1:]}, the layer "
                               f"expects {shape} (B, G, C, IY, IX)")
        masks[name] = found.reshape((found.shape[0], *shape))
    return masks


def cost_on_samples(cmes: list, settings) -> None:
    """Cost the chosen mapping of every corrected layer with masks on every sample, in place."""
    from zz_event.zigzag.adapter import context_of_cme, mapping_of_cme  # noqa: PLC0415
    from zz_event.zigzag.corrected_cme import CorrectedCME  # noqa: PLC0415

    for _total, per_layer in cmes:
        for cme, _extra in per_layer:
            name = getattr(getattr(cme, "layer", None), "name", None)
            if not isinstance(cme, CorrectedCME) or name not in settings.masks:
                continue
            geometry, centric = settings.geometries[name]
            nest = context_of_cme(cme, geometry, centric).nest(mapping_of_cme(cme))
            masks = settings.masks[name]
            results = [r for at in range(0, len(masks), _CHUNK)
                       for r in evaluate_samples(nest, settings.options, masks[at:at + _CHUNK])]
            densities = [float(m.mean()) for m in masks]
            cme.zz_event_samples = SampleResults(results, densities, len(settings.ranking_masks(name)))
