"""The upstream patches in patches/: each applies to the pinned release, the defect it fixes is still
there (so the workaround is still needed), and the patched code behaves."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import onnx
import pytest
import zigzag
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(zigzag.__file__).resolve().parent.parent


def patched_module(tmp_path: Path, patch: str, relative: str, name: str):
    """Copy the installed file, apply the patch with `patch -p1`, import the result under `name`."""
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SITE / relative, target)
    result = subprocess.run(
        ["patch", "-p1", "-d", str(tmp_path), "-i", str(ROOT / "patches" / patch)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def conv_model() -> onnx.ModelProto:
    """A convolution whose Y and X differ in every attribute: kernel 3x5, stride 1x2, padding (1,2,1,2)."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 2, 3, 5], [0.0] * 120)
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 5], strides=[1, 2],
                            pads=[1, 2, 1, 2])
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight],
    )
    return onnx.shape_inference.infer_shapes(helper.make_model(graph))


def conv_layer_data(parser_module) -> dict:
    model = conv_model()
    parser = parser_module.ConvParser(0, model.graph.node[0], {}, [], model)
    attrs = {"kernel_shape": [3, 5], "strides": [1, 2], "dilations": [1, 1], "group": 1, "pads": [1, 2, 1, 2]}
    return parser.get_layer_node_user_format(attrs["kernel_shape"], attrs["strides"], attrs["dilations"], 1,
                                             attrs["pads"], [1, 2, 8, 10], [1, 4, 8, 5])


def test_onnx_conv_axis_order(tmp_path):
    from zigzag.parser.onnx import conv_parser

    sizes = lambda data: dict(zip(data["loop_dims"], data["loop_sizes"]))  # noqa: E731
    stock = conv_layer_data(conv_parser)
    assert (sizes(stock)["FY"], sizes(stock)["FX"]) == (5, 3), "defect fixed upstream: drop the workaround"
    fixed = conv_layer_data(patched_module(tmp_path, "zigzag-dse-3.9.1-onnx-conv-axis-order.patch",
                                           "zigzag/parser/onnx/conv_parser.py", "patched_conv_parser"))
    assert (sizes(fixed)["FY"], sizes(fixed)["FX"]) == (3, 5)
    assert fixed["dimension_relations"] == ["ix=2*ox+1*fx", "iy=1*oy+1*fy"]
    assert fixed["padding"] == [[2, 2], [1, 1]]  # IX, IY


def test_zz_event_reads_the_same_conv_correctly(tmp_path):
    from zz_event.readers.workloads import load_workload

    path = tmp_path / "conv.onnx"
    onnx.save(conv_model(), path)
    geo = load_workload(str(path)).geometry["conv"]
    assert (geo.y.kernel, geo.x.kernel, geo.y.stride, geo.x.stride) == (3, 5, 1, 2)
    assert (geo.y.pad_before, geo.x.pad_before, geo.OY, geo.OX) == (1, 2, 8, 5)


def test_accelerator_validator_early_return(tmp_path):
    from zigzag.parser.accelerator_validator import AcceleratorValidator

    broken = {"name": "x", "memories": {}}
    with pytest.raises(KeyError):
        AcceleratorValidator(broken).validate()
    module = patched_module(tmp_path, "zigzag-dse-3.9.1-accelerator-validator-early-return.patch",
                            "zigzag/parser/accelerator_validator.py", "patched_accelerator_validator")
    assert module.AcceleratorValidator(broken).validate() is False


class _Unpicklable:
    """Pickling it raises `stop`, as a signal's handler would inside `pickle.dumps`."""

    def __init__(self, stop: BaseException):
        self.stop = stop

    def __reduce_ex__(self, protocol):
        raise self.stop

    def __deepcopy__(self, memo):
        return "deep-copied"


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), SystemExit(143)])
def test_pickle_deepcopy_swallows_interrupts(tmp_path, stop):
    from zigzag.utils import pickle_deepcopy

    assert pickle_deepcopy(_Unpicklable(stop)) == "deep-copied", "defect fixed upstream: drop the workaround"
    module = patched_module(tmp_path, "zigzag-dse-3.9.1-pickle-deepcopy-swallows-interrupts.patch",
                            "zigzag/utils.py", "patched_zigzag_utils")
    with pytest.raises(type(stop)):
        module.pickle_deepcopy(_Unpicklable(stop))
    assert module.pickle_deepcopy(_Unpicklable(ValueError("unpicklable"))) == "deep-copied"
