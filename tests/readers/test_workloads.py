"""load_workload: geometry from every input form, the ZigZag layers it writes, and every bad-input error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper

from zz_event.errors import GeometryError, InputFileError, ZzEventError
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.readers.layers import CONV_EQUATION, zigzag_workload_errors
from zz_event.readers.workloads import load_workload

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "inputs" / "toy" / "workload.yaml"
LENET = ROOT / "inputs" / "lenet5" / "lenet5.onnx"
LENET28 = ROOT / "inputs" / "lenet5" / "lenet5_pad2_28.onnx"
LENET_OC = ROOT / "inputs" / "lenet5" / "lenet5_output_centric.yaml"
INPUT_CENTRIC_DIMS = ["B", "K", "C", "IY", "IX", "FY", "FX"]


def _toy_layers() -> list[dict]:
    return yaml.safe_load(TOY.read_text())


def _write(tmp_path: Path, layers: list[dict], name: str = "workload.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(layers, sort_keys=False))
    return path


def _output_centric(relations=("ix=1*ox+1*fx", "iy=1*oy+1*fy"), sizes=(1, 8, 1, 3, 3, 3, 3), **extra) -> dict:
    """The seed's toy layer written the usual (output-centric) way."""
    return {
        "id": 0, "name": "conv_oc", "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": list(relations),
        "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"], "loop_sizes": list(sizes),
        "operand_precision": {"W": 16, "I": 16, "O": 16, "O_final": 16}, "operand_source": {"I": 0, "W": 0},
        **extra,
    }  # fmt: skip


def _raises(exc_type, source: Path | str, *fragments: str):
    """Context manager: `exc_type` (exactly) with a one-line message naming `source` and every fragment."""

    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc_type)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            message = str(self.info.value)
            assert type(self.info.value) is exc_type, message
            assert "\n" not in message
            assert str(source) in message
            for fragment in fragments:
                assert fragment in message, message
            return handled

    return _Check()


# --------------------------------------------------------------------------------------------------- geometry


def test_toy_input_centric_yaml_is_kept_and_valid_output():
    prepared = load_workload(TOY)
    geo = prepared.geometry["conv_layer"]
    assert geo == ConvGeometry(1, 8, 1, AxisGeometry(5, 3), AxisGeometry(5, 3))
    assert (geo.OY, geo.OX, geo.valid_macs(), geo.frame_macs()) == (3, 3, 648, 648)
    (layer,) = prepared.zigzag_workload
    assert layer["loop_dims"] == INPUT_CENTRIC_DIMS and layer["loop_sizes"] == [1, 8, 1, 5, 5, 3, 3]
    assert layer["equation"] == CONV_EQUATION and layer["dimension_relations"] == ["ox=1*ix+1*fx", "oy=1*iy+1*fy"]
    assert layer["operand_source"] == {"I": 0, "W": 0}
    assert prepared.uncorrected == {} and prepared.source == str(TOY)


def test_lenet5_onnx_32():
    prepared = load_workload(LENET, cost_pooling_and_add=True)
    conv1, conv2 = prepared.geometry["conv1"], prepared.geometry["conv2"]
    assert conv1.valid_macs() == conv1.frame_macs() == 117600
    assert conv2.valid_macs() == conv2.frame_macs() == 240000
    assert (conv2.C, conv2.K, conv2.y.inp, conv2.OY) == (6, 16, 14, 10)
    fc1 = prepared.geometry["fc1"]
    assert (fc1.B, fc1.K, fc1.C, fc1.y.inp, fc1.y.kernel) == (1, 120, 400, 1, 1)
    assert set(prepared.geometry) == {"conv1", "conv2", "fc1", "fc2", "fc3"}
    assert set(prepared.uncorrected) == {"pool1", "pool2"}
    assert set(prepared.skipped) == {"relu1", "relu2", "relu3", "relu4", "flatten"}
    layers = {layer["name"]: layer for layer in prepared.zigzag_workload}
    assert layers["conv1"]["loop_sizes"] == [1, 6, 1, 32, 32, 5, 5]
    assert layers["fc1"]["loop_dims"] == INPUT_CENTRIC_DIMS and layers["fc1"]["operator_type"] == "Gemm"
    # consumers read from the nearest costed producer, through Relu and Flatten
    assert layers["pool1"]["operand_source"]["I"] == layers["conv1"]["id"]
    assert layers["conv2"]["operand_source"] == {"W": layers["conv2"]["id"], "I": layers["pool1"]["id"]}
    assert layers["fc1"]["operand_source"]["I"] == layers["pool2"]["id"]
    assert layers["pool1"]["operator_type"] == "Pooling" and layers["pool1"]["loop_sizes"] == [1, 6, 14, 14, 2, 2]
    assert zigzag_workload_errors(prepared.zigzag_workload) == []


def test_onnx_gives_the_layers_zigzag_gives_and_lists_the_rest():
    """By default an ONNX network gives what ZigZag's own parser costs (Conv, Gemm, MatMul), in graph order;
    every other node is listed with its reason, and consumers read through it."""
    prepared = load_workload(LENET)
    assert [layer["name"] for layer in prepared.zigzag_workload] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert prepared.uncorrected == {}
    assert set(prepared.skipped) == {"relu1", "pool1", "relu2", "pool2", "flatten", "relu3", "relu4"}
    assert "--cost-pooling-and-add" in prepared.skipped["pool1"] and "Relu" in prepared.skipped["relu1"]
    layers = {layer["name"]: layer for layer in prepared.zigzag_workload}
    assert layers["conv2"]["operand_source"]["I"] == layers["conv1"]["id"]
    assert layers["fc1"]["operand_source"]["I"] == layers["conv2"]["id"]
    assert zigzag_workload_errors(prepared.zigzag_workload) == []


def test_lenet5_pad2_onnx_conv1():
    prepared = load_workload(LENET28)
    geo = prepared.geometry["conv1"]
    axis = AxisGeometry(28, 5, 1, 1, 2, 2)
    assert geo == ConvGeometry(1, 6, 1, axis, axis)
    assert (geo.OY, geo.OX, geo.valid_macs(), geo.frame_macs()) == (28, 28, 107736, 117600)
    assert prepared.layer("conv1")["loop_sizes"] == [1, 6, 1, 28, 28, 5, 5]  # real input, no padding


def test_model_proto_is_accepted():
    prepared = load_workload(onnx.load(LENET28))
    assert prepared.geometry["conv1"].valid_macs() == 107736
    assert "ONNX model" in prepared.source


def test_output_centric_yaml_matches_onnx():
    prepared = load_workload(LENET_OC)
    onnx_prepared = load_workload(LENET28)
    assert prepared.geometry["conv1"] == onnx_prepared.geometry["conv1"]
    assert prepared.geometry["conv2"] == onnx_prepared.geometry["conv2"]
    assert prepared.layer("conv1")["loop_dims"] == INPUT_CENTRIC_DIMS
    assert "padding" not in prepared.layer("conv1") and "pr_loop_dims" not in prepared.layer("conv1")
    assert prepared.origins["conv1"].renamed == {"OY": "IY", "OX": "IX"}
    assert prepared.origins["conv1"].sizes["OY"] == 28


def test_output_centric_stride_from_relation(tmp_path):
    layer = _output_centric(("ix=2*ox+1*fx", "iy=2*oy+1*fy"), (1, 4, 2, 15, 15, 3, 3),
                            pr_loop_dims=["IY", "IX"], pr_loop_sizes=[32, 32])  # fmt: skip
    geo = load_workload(_write(tmp_path, [layer])).geometry["conv_oc"]
    assert geo.y == AxisGeometry(32, 3, 2) and geo.OY == 15
    layer.pop("pr_loop_sizes")  # ZigZag's own rule: the smallest input that gives OY
    assert load_workload(_write(tmp_path, [layer])).geometry["conv_oc"].y.inp == 31


def test_input_centric_zz_event_block(tmp_path):
    layers = _toy_layers()
    layers[0]["loop_sizes"] = [1, 8, 1, 8, 8, 3, 3]
    layers[0]["zz_event"] = {"stride": 2, "padding": [1, 1, 1, 1], "dilation": [1, 1], "output": [4, 4]}
    prepared = load_workload(_write(tmp_path, layers))
    geo = prepared.geometry["conv_layer"]
    assert geo.y == geo.x == AxisGeometry(8, 3, 2, 1, 1, 1)
    assert (geo.OY, geo.OX) == (4, 4)
    assert "zz_event" not in prepared.zigzag_workload[0]
    assert layers[0]["zz_event"]  # the caller's data is not modified when given as a list
    assert load_workload(layers).geometry["conv_layer"] == geo


def test_grouped_conv_and_matmul_onnx():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.ones(shape, "float32"), name) for name, shape in
             (("w", (8, 2, 3, 3)), ("m", (8, 5)))]  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="gconv", group=2, strides=[2, 1], pads=[1, 0, 1, 0]),
        helper.make_node("Transpose", ["c"], ["t"], name="nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("MatMul", ["t", "m"], ["y"], name="mm"),
    ]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], initializer=inits))
    prepared = load_workload(model)
    geo = prepared.geometry["gconv"]
    assert (geo.G, geo.K, geo.C, geo.OY, geo.OX) == (2, 4, 2, 3, 4)
    assert geo.y == AxisGeometry(6, 3, 2, 1, 1, 1)
    assert prepared.layer("gconv")["loop_dims"] == ["B", "G", "K", "C", "IY", "IX", "FY", "FX"]
    mm = prepared.geometry["mm"]
    assert (mm.B, mm.K, mm.C) == (12, 5, 8)  # rows of the 1x3x4x8 input
    assert prepared.layer("mm")["operand_source"]["I"] == prepared.layer("gconv")["id"]
    assert zigzag_workload_errors(prepared.zigzag_workload) == []


def test_non_convolution_yaml_layers_are_kept(tmp_path):
    pool = {"id": 1, "name": "pool", "operator_type": "Pooling",
            "equation": "O[b][g][oy][ox]+=W[fy][fx]*I[b][g][iy][ix]",
            "dimension_relations": ["ix=2*ox+1*fx", "iy=2*oy+1*fy"], "loop_dims": ["B", "G", "OY", "OX", "FY", "FX"],
            "loop_sizes": [1, 8, 1, 1, 2, 2], "operand_precision": {"W": 0, "I": 16, "O": 16, "O_final": 16},
            "operand_source": {"I": 0, "W": 1}}  # fmt: skip
    prepared = load_workload(_write(tmp_path, _toy_layers() + [pool]))
    assert prepared.layer("pool") == pool
    assert "Pooling" in prepared.uncorrected["pool"] and "conv_layer" in prepared.geometry


# --------------------------------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with _raises(InputFileError, path, "not found"):
        load_workload(path)
    with _raises(InputFileError, tmp_path, "not a file"):
        load_workload(tmp_path)


def test_unreadable_file(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81 not utf-8")
    with _raises(InputFileError, path, "cannot read"):
        load_workload(path)


def test_invalid_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("- id: 0\n  loop_dims: [B, K\n")
    with _raises(InputFileError, path, "invalid YAML"):
        load_workload(path)
    path.write_text("name: not a list\n")
    with _raises(InputFileError, path, "YAML list"):
        load_workload(path)


def test_invalid_onnx(tmp_path):
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"this is not a protobuf")
    with _raises(InputFileError, path, "ONNX"):
        load_workload(path)


def test_zigzag_validator_rejection_is_quoted(tmp_path, capfd):
    layers = _toy_layers()
    layers.append({"id": 1, "name": "act", "operator_type": "Relu", "equation": "O[k]+=I[k]*W[k]",
                   "loop_dims": ["K"], "loop_sizes": [8], "operand_precision": {"O": 16}})  # fmt: skip
    path = _write(tmp_path, layers)
    with _raises(ZzEventError, path, "ZigZag's workload validator", "'act'", "unallowed value Relu", "O_final"):
        load_workload(path)
    assert capfd.readouterr().err == ""  # ZigZag's critical log line is captured, not printed


def test_stated_output_size_inconsistent(tmp_path):
    layers = _toy_layers()
    layers[0]["zz_event"] = {"output": [4, 3]}
    path = _write(tmp_path, layers)
    with _raises(GeometryError, path, "'conv_layer'", "output size 4", "gives 3"):
        load_workload(path)


def test_output_centric_size_inconsistent(tmp_path):
    layer = _output_centric(sizes=(1, 8, 1, 4, 3, 3, 3), pr_loop_dims=["IY", "IX"], pr_loop_sizes=[5, 5])
    path = _write(tmp_path, [layer])
    with _raises(GeometryError, path, "'conv_oc'", "OY is 4", "give 3"):
        load_workload(path)


def test_non_positive_sizes(tmp_path):
    layers = _toy_layers()
    layers[0]["loop_sizes"] = [1, 8, 1, 0, 5, 3, 3]
    path = _write(tmp_path, layers)
    with _raises(GeometryError, path, "'conv_layer'", "IY=0"):
        load_workload(path)
    layers[0]["loop_sizes"] = [1, 8, 1, 2, 5, 3, 3]  # kernel larger than the input
    path = _write(tmp_path, layers)
    with _raises(GeometryError, path, "'conv_layer'", "does not fit"):
        load_workload(path)


def test_stride_below_one(tmp_path):
    layers = _toy_layers()
    layers[0]["zz_event"] = {"stride": [0, 1]}
    path = _write(tmp_path, layers)
    with _raises(GeometryError, path, "'conv_layer'", "stride is 0"):
        load_workload(path)
    path = _write(tmp_path, [_output_centric(("ix=0*ox+1*fx", "iy=1*oy+1*fy"))], "oc.yaml")
    with _raises(GeometryError, path, "'conv_oc'", "stride is 0"):
        load_workload(path)


def test_input_centric_coefficients_need_the_block(tmp_path):
    layers = _toy_layers()
    layers[0]["dimension_relations"] = ["ox=2*ix+1*fx", "oy=1*iy+1*fy"]
    path = _write(tmp_path, layers)
    with _raises(GeometryError, path, "'conv_layer'", "zz_event"):
        load_workload(path)


def test_bad_zz_event_block(tmp_path):
    layers = _toy_layers()
    layers[0]["zz_event"] = {"strides": [2, 2]}
    path = _write(tmp_path, layers)
    with _raises(GeometryError, path, "'conv_layer'", "zz_event block"):
        load_workload(path)


def test_output_centric_block_must_agree(tmp_path):
    path = _write(tmp_path, [_output_centric(zz_event={"stride": [2, 2]})])
    with _raises(GeometryError, path, "'conv_oc'", "disagrees"):
        load_workload(path)


def test_duplicate_layer_names(tmp_path):
    layers = _toy_layers() * 2
    path = _write(tmp_path, layers)
    with _raises(ZzEventError, path, "'conv_layer'"):
        load_workload(path)


@pytest.mark.parametrize(
    "attrs",
    [
        dict(kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 0, 1]),
        dict(kernel_shape=[3, 3], strides=[2, 3], auto_pad="SAME_UPPER"),
        dict(kernel_shape=[2, 4], strides=[3, 2], auto_pad="SAME_LOWER"),
        dict(kernel_shape=[3, 3], dilations=[2, 1], auto_pad="VALID"),
    ],
)
def test_onnx_conv_attributes_agree_with_shape_inference(attrs):
    """Y/X are NCHW index 0/1 (ZigZag's own ONNX parser swaps them); the output size must match ONNX's."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 7, 9])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((3, 2, *attrs["kernel_shape"]), "float32"), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", **attrs)
    model = onnx.shape_inference.infer_shapes(helper.make_model(helper.make_graph([node], "g", [x], [y], [w])))
    out = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    geo = load_workload(model).geometry["c"]  # raises GeometryError if the sizes disagree
    assert [1, 3, geo.OY, geo.OX] == out
    assert (geo.y.kernel, geo.x.kernel) == tuple(attrs["kernel_shape"])
    assert (geo.y.stride, geo.x.stride) == tuple(attrs.get("strides", [1, 1]))
