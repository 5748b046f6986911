"""`--data mnist:N` (issue 18): the first N held-out MNIST digits as the network input, wherever `--data` is taken
(`zz-event run`, `zz-event mapspace`, `run_zigzag_event_driven(data=...)`). Bad forms are in test_bad_input.py.

A small network with LeNet-5's 1 x 32 x 32 input on the toy core: Conv 1->2 4x4 stride 4 (each pixel meets
exactly one tap of each of the 2 kernels, so the conv's executed MACs are 2 x the non-zero pixels), ReLU, Flatten,
Gemm 128->3 (3 MACs per non-zero input). The expected densities and MAC counts are computed here with numpy from
the digits, independently of the ONNX evaluator the engine's masks come from.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper, save, shape_inference

from zz_event import layer_results, run_zigzag_event_driven
from zz_event.cli import main
from zz_event.mapspace import load
from zz_event.readers import mnist

HW, MAPPING = "inputs/toy/hardware.yaml", "inputs/toy/mapping_lenet5.yaml"
RNG = np.random.default_rng(18)
CONV_W = RNG.normal(size=(2, 1, 4, 4)).astype(np.float32)
FC_W = RNG.normal(size=(3, 128)).astype(np.float32)
FAST = ["--lpf-limit", "2"]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[4, 4], strides=[4, 4]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fw"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "tiny32", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
                              [numpy_helper.from_array(CONV_W, "w"), numpy_helper.from_array(FC_W, "fw")])
    path = tmp_path_factory.mktemp("mnist") / "tiny32.onnx"
    save(shape_inference.infer_shapes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])), path)
    return str(path)


def _expected(n: int) -> dict[str, np.ndarray]:
    """Per sample: conv's and fc's non-zero input counts, from the digits with numpy."""
    x = mnist.held_out(n)[0][:, 0]
    blocks = x.reshape(n, 8, 4, 8, 4).transpose(0, 1, 3, 2, 4)  # (n, oy, ox, fy, fx)
    conv = np.einsum("nyxab,kab->nkyx", blocks.astype(np.float64), CONV_W[:, 0].astype(np.float64))
    return {"conv": (x != 0).reshape(n, -1).sum(1), "fc": (np.maximum(conv, 0) != 0).reshape(n, -1).sum(1)}


def test_run_takes_mnist_n(net, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--workload", net, "--accelerator", HW, "--mapping", MAPPING, "--out", str(out),
                 "--data", "mnist:4", *FAST]) == 0
    assert "conv: 4 samples" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["provenance"]["arguments"]["data"] == "mnist:4"
    nonzero = _expected(4)
    for layer, size, macs_per_input in (("conv", 1024, 2), ("fc", 128, 3)):
        block = next(e for e in summary["layers"] if e["name"] == layer)["event_driven_data"]
        assert block["samples"] == 4
        assert block["density"] == pytest.approx(nonzero[layer].mean() / size)
        assert block["macs"]["mean"] == pytest.approx(macs_per_input * nonzero[layer].mean())
        assert block["macs"]["max"] == macs_per_input * nonzero[layer].max()
    with open(out / "samples.csv") as handle:
        assert len(list(csv.DictReader(handle))) == 2 * 4


def test_mapspace_takes_mnist_n(net, tmp_path):
    path = tmp_path / "m.csv"
    assert main(["mapspace", "--workload", net, "--accelerator", HW, "--mapping", MAPPING, "--csv", str(path),
                 "--data", "mnist:3", "--no-progress", "--parquet", "no", *FAST]) == 0
    table, nonzero = load(path), _expected(3)
    for layer, macs_per_input in (("conv", 2), ("fc", 3)):
        rows = table[table["layer"] == layer]
        assert len(rows) and np.allclose(rows["data_macs"], macs_per_input * nonzero[layer].mean())
    assert json.loads(path.with_name("m.csv.meta.json").read_text())["settings"]["data"] == "mnist:3"


def test_front_door_takes_mnist_n(net, tmp_path):
    _, _, cmes = run_zigzag_event_driven(net, HW, MAPPING, opt="energy", lpf_limit=2, data="mnist:2",
                                         dump_folder=str(tmp_path / "z"))
    conv = next(layer for layer in layer_results(cmes) if layer.name == "conv")
    assert [r.macs for r in conv.samples] == (2 * _expected(2)["conv"]).tolist()
