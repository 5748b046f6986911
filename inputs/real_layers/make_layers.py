"""Write the single-layer ONNX workloads of issue 16's smallest failing cases (onnx.helper only).

    python inputs/real_layers/make_layers.py

- `mbv2_expand_24_144_56.onnx`: MobileNetV2's 1x1 expansion conv 24 -> 144 on 56x56 (run on tesla_npu_like);
- `alexnet_conv2_grouped.onnx`: AlexNet's grouped 5x5 conv, 96 -> 256 in 2 groups, 26x26, padding 2 (tpu_like);
- `alexnet_conv1.onnx`: AlexNet's 11x11 stride-4 conv, 3 -> 96 on 224x224 (meta_prototype).

Shapes as in ZigZag's bundled `alexnet.onnx` and `mobilenetv2.onnx`; weights are zeros (the costs read shapes
only), so the files are byte-for-byte reproducible.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent

# name -> (input C, H, W), output channels, kernel, stride, padding, group
LAYERS = {
    "mbv2_expand_24_144_56": ((24, 56, 56), 144, 1, 1, 0, 1),
    "alexnet_conv2_grouped": ((96, 26, 26), 256, 5, 1, 2, 2),
    "alexnet_conv1": ((3, 224, 224), 96, 11, 4, 0, 1),
}


def conv_model(name: str) -> onnx.ModelProto:
    (c, h, w), k, kernel, stride, pad, group = LAYERS[name]
    weight = helper.make_tensor("w", TensorProto.FLOAT, [k, c // group, kernel, kernel],
                                [0.0] * (k * c // group * kernel * kernel))
    node = helper.make_node("Conv", ["x", "w"], ["y"], name=name, kernel_shape=[kernel, kernel],
                            strides=[stride, stride], pads=[pad] * 4, group=group)
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight])
    model = onnx.shape_inference.infer_shapes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    for layer in LAYERS:
        onnx.save(conv_model(layer), HERE / f"{layer}.onnx")
