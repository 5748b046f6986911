"""Write the LeNet-5 ONNX models zz-event's examples and tests use (onnx.helper only, no torch).

    python inputs/lenet5/make_lenet5.py

- `lenet5.onnx`: 1x1x32x32 input; conv1 1->6 5x5; relu; max-pool 2; conv2 6->16 5x5; relu; max-pool 2;
  flatten; fc1 400->120; relu; fc2 120->84; relu; fc3 84->10. No padding anywhere.
- `lenet5_pad2_28.onnx`: the classic LeNet-5 on MNIST: 1x1x28x28 input, conv1 with padding 2, the rest as above.

Weights are random but seeded (numpy default_rng(5)), so the files are byte-for-byte reproducible. Both models are
shape-inferred (ZigZag's ONNX parser and zz-event read tensor shapes from `value_info`) and pass onnx.checker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
HERE = Path(__file__).resolve().parent


def _init(rng: np.random.Generator, name: str, shape: tuple[int, ...]) -> onnx.TensorProto:
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    data = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape).astype(np.float32)
    return numpy_helper.from_array(data, name)


def lenet5(input_size: int = 32, conv1_pad: int = 0, seed: int = 5,
           weights: dict[str, np.ndarray] | None = None) -> onnx.ModelProto:
    """LeNet-5 for a 1 x 1 x input_size x input_size image; conv1 padded by `conv1_pad` on every side. `weights`
    (initializer name -> array, e.g. from train_lenet5.py) replace the seeded random ones."""
    rng = np.random.default_rng(seed)
    inits = [
        _init(rng, "conv1.W", (6, 1, 5, 5)), _init(rng, "conv1.b", (6,)),
        _init(rng, "conv2.W", (16, 6, 5, 5)), _init(rng, "conv2.b", (16,)),
        _init(rng, "fc1.W", (120, 400)), _init(rng, "fc1.b", (120,)),
        _init(rng, "fc2.W", (84, 120)), _init(rng, "fc2.b", (84,)),
        _init(rng, "fc3.W", (10, 84)), _init(rng, "fc3.b", (10,)),
    ]  # fmt: skip
    if weights is not None:
        inits = [numpy_helper.from_array(np.asarray(weights[t.name], np.float32).reshape(t.dims), t.name)
                 for t in inits]
    pool = dict(kernel_shape=[2, 2], strides=[2, 2])
    gemm = dict(transB=1)
    nodes = [
        helper.make_node("Conv", ["input", "conv1.W", "conv1.b"], ["conv1.out"], name="conv1",
                         kernel_shape=[5, 5], pads=[conv1_pad] * 4),
        helper.make_node("Relu", ["conv1.out"], ["relu1.out"], name="relu1"),
        helper.make_node("MaxPool", ["relu1.out"], ["pool1.out"], name="pool1", **pool),
        helper.make_node("Conv", ["pool1.out", "conv2.W", "conv2.b"], ["conv2.out"], name="conv2",
                         kernel_shape=[5, 5]),
        helper.make_node("Relu", ["conv2.out"], ["relu2.out"], name="relu2"),
        helper.make_node("MaxPool", ["relu2.out"], ["pool2.out"], name="pool2", **pool),
        helper.make_node("Flatten", ["pool2.out"], ["flatten.out"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flatten.out", "fc1.W", "fc1.b"], ["fc1.out"], name="fc1", **gemm),
        helper.make_node("Relu", ["fc1.out"], ["relu3.out"], name="relu3"),
        helper.make_node("Gemm", ["relu3.out", "fc2.W", "fc2.b"], ["fc2.out"], name="fc2", **gemm),
        helper.make_node("Relu", ["fc2.out"], ["relu4.out"], name="relu4"),
        helper.make_node("Gemm", ["relu4.out", "fc3.W", "fc3.b"], ["output"], name="fc3", **gemm),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        f"lenet5_{input_size}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, input_size, input_size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="zz-event")
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def main() -> None:
    onnx.save(lenet5(32, 0), HERE / "lenet5.onnx")
    onnx.save(lenet5(28, 2), HERE / "lenet5_pad2_28.onnx")


if __name__ == "__main__":
    main()
