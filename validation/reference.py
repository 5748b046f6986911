"""Reference convolutions the simulator's arithmetic is checked against: plain numpy, and ONNX's own
reference evaluator (`onnx.reference.ReferenceEvaluator`) for layers that come from ONNX models.

Layouts: input (B, G, C, IY, IX), weights (G, K, C, FY, FX), output (B, G, K, OY, OX).
"""

from __future__ import annotations

import numpy as np

from zz_event.model.geometry import ConvGeometry

__all__ = ["as_layer_data", "onnx_reference_conv", "random_data", "reference_conv"]


def random_data(geometry: ConvGeometry, seed: int = 0, low: int = -8, high: int = 8) -> dict[str, np.ndarray]:
    g = geometry
    rng = np.random.default_rng(seed)
    return {
        "I": rng.integers(low, high + 1, size=(g.B, g.G, g.C, g.y.inp, g.x.inp), dtype=np.int64),
        "W": rng.integers(low, high + 1, size=(g.G, g.K, g.C, g.y.kernel, g.x.kernel), dtype=np.int64),
    }


def as_layer_data(geometry: ConvGeometry, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Accept 5-D layouts, or ONNX's 4-D ones (I: B, G*C, IY, IX; W: G*K, C, FY, FX)."""
    g = geometry
    i_shape, w_shape = (g.B, g.G, g.C, g.y.inp, g.x.inp), (g.G, g.K, g.C, g.y.kernel, g.x.kernel)
    out = {}
    for op, shape in (("I", i_shape), ("W", w_shape)):
        arr = np.asarray(data[op])
        if arr.size != np.prod(shape):
            raise ValueError(f"data[{op!r}] has shape {arr.shape}; expected {shape} (or the ONNX 4-D layout)")
        out[op] = arr.reshape(shape).astype(np.int64)
    return out


def reference_conv(geometry: ConvGeometry, inputs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """O[b,g,k,oy,ox] = sum_c,fy,fx W[g,k,c,fy,fx] * I[b,g,c, oy*s+fy*d-pad, ox*s+fx*d-pad] (zero padding)."""
    g, y, x = geometry, geometry.y, geometry.x
    padded = np.pad(inputs, ((0, 0), (0, 0), (0, 0), (y.pad_before, y.pad_after), (x.pad_before, x.pad_after)))
    out = np.zeros((g.B, g.G, g.K, g.OY, g.OX), dtype=np.int64)
    for fy in range(y.kernel):
        y0 = fy * y.dilation
        for fx in range(x.kernel):
            x0 = fx * x.dilation
            rows = slice(y0, y0 + y.stride * (g.OY - 1) + 1, y.stride)
            cols = slice(x0, x0 + x.stride * (g.OX - 1) + 1, x.stride)
            patch = padded[:, :, :, rows, cols]
            out += np.einsum("bgcyx,gkc->bgkyx", patch, weights[:, :, :, fy, fx])
    return out


def onnx_reference_conv(geometry: ConvGeometry, inputs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The same convolution run by ONNX's reference evaluator (float64; exact for small integers)."""
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    g, y, x = geometry, geometry.y, geometry.x
    node = helper.make_node(
        "Conv", ["X", "W"], ["Y"], strides=[y.stride, x.stride], dilations=[y.dilation, x.dilation],
        pads=[y.pad_before, x.pad_before, y.pad_after, x.pad_after], group=g.G,
    )
    graph = helper.make_graph(
        [node], "conv",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, None),
         helper.make_tensor_value_info("W", TensorProto.DOUBLE, None)],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    feeds = {
        "X": inputs.reshape(g.B, g.G * g.C, y.inp, x.inp).astype(np.float64),
        "W": weights.reshape(g.G * g.K, g.C, y.kernel, x.kernel).astype(np.float64),
    }
    (result,) = ReferenceEvaluator(model).run(None, feeds)
    return np.rint(result).astype(np.int64).reshape(g.B, g.G, g.K, g.OY, g.OX)
