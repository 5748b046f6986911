"""A one-convolution ONNX for the Stream spatial-search tests: small enough that every spatial unrolling of it can be
searched in seconds, with stride 2 and padding so that the search meets both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIDE, CHANNELS_OUT, KERNEL, STRIDE, PAD = 9, 4, 3, 2, 1


def tiny_conv(path: Path) -> Path:
    """Write the model to ``path``: input (1, 1, 9, 9), Conv 1 -> 4 channels, 3x3, stride 2, padding 1, then ReLU."""
    weight = numpy_helper.from_array(np.random.default_rng(0).normal(size=(CHANNELS_OUT, 1, KERNEL, KERNEL))
                                     .astype(np.float32), "w")  # fmt: skip
    out_side = (SIDE + 2 * PAD - KERNEL) // STRIDE + 1
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[KERNEL, KERNEL],
                          strides=[STRIDE, STRIDE], pads=[PAD] * 4),
         helper.make_node("Relu", ["y"], ["z"], name="relu")],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, SIDE, SIDE])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, CHANNELS_OUT, out_side, out_side])], [weight],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
