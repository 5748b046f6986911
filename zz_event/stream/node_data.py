"""Events from data for a Stream node: the data masks of the tiles its cores run.

Stream costs a node split across cores once, at its per-core extent, and gives every core that cost. With data the
tiles differ (conv1 split over output rows: the top half of a digit is not its bottom half), so the node is costed on
every tile of every sample and Stream receives the mean: summed over the cores, the energy is then the layer's exact
mean energy; the latency is the mean tile's, not the slowest one's.

:func:`tile_masks` cuts a layer's input masks (samples, ...) -- ONNX's layout, a matrix product's flattened
features included -- into the tiles: per axis of the node's input tensor, a loop index split across cores gives
blocks of its per-core extent; a convolution's spatial axis split across cores gives each tile's input window
(the split axis is unpadded: :func:`zz_event.stream.node_geometry.conv_view` refuses the rest).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from xdsl.ir.affine import AffineConstantExpr, AffineDimExpr

from zz_event.errors import StreamBackendError
from zz_event.model.geometry import ConvGeometry

__all__ = ["tile_masks"]


def tile_masks(node: Any, layer: Any, geometry: ConvGeometry, masks: np.ndarray) -> np.ndarray:
    """The masks of every tile of every sample, sample-major: (samples * tiles, B, G, C, IY, IX)."""
    shape = tuple(int(s) for s in node.inputs[0].shape)
    masks = np.asarray(masks, dtype=bool)
    if masks[0].size != int(np.prod(shape)):
        raise StreamBackendError(f"node {node.name!r}: its input holds {int(np.prod(shape))} elements per sample, "
                                 f"the data masks {masks[0].size}")  # fmt: skip
    masks = masks.reshape((masks.shape[0], *shape))
    sizes = {str(d): int(s) for d, s in layer.layer_dim_sizes.items()}
    ranges = [_axis_windows(node, a, expr, shape[a], sizes, geometry)
              for a, expr in enumerate(node.operand_mapping[0].results)]  # fmt: skip
    per_tile = geometry.B * geometry.G * geometry.C * geometry.y.inp * geometry.x.inp
    tiles = []
    for windows in itertools.product(*ranges):
        tile = masks[(slice(None), *np.ix_(*windows))]
        if tile[0].size != per_tile:
            raise StreamBackendError(f"node {node.name!r}: a tile of its input holds {tile[0].size} elements, its "
                                     f"per-core layer {per_tile}; expected them equal")  # fmt: skip
        tiles.append(tile.reshape(tile.shape[0], -1))
    return np.stack(tiles, axis=1).reshape(masks.shape[0] * len(tiles), geometry.B, geometry.G, geometry.C,
                                           geometry.y.inp, geometry.x.inp)  # fmt: skip


def _axis_windows(node: Any, axis: int, expr: Any, full: int, sizes: dict[str, int], g: ConvGeometry) -> list:
    """The index windows of the node's input ``axis`` over its tiles."""
    if axis == 0:  # the batch: the samples, one at a time (Stream's tiles have batch 1)
        return [np.arange(full)]
    if isinstance(expr, AffineConstantExpr):
        return [np.array([expr.value])]
    if isinstance(expr, AffineDimExpr):
        tile = sizes[f"D{expr.position}"]
        if full % tile:
            raise StreamBackendError(f"node {node.name!r}: input axis {axis} of {full} is split into tiles of {tile}")
        return [np.arange(t * tile, (t + 1) * tile) for t in range(full // tile)]
    geo = g.y if axis == 2 else g.x  # a convolution's window: position and tap
    if geo.inp == full:
        return [np.arange(full)]
    full_out, step = int(node.outputs[0].shape[axis]), geo.out * geo.stride
    return [np.arange(t * step, t * step + geo.inp) for t in range(full_out // geo.out)]
