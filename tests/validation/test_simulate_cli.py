"""`python -m validation.simulate` replays exactly what `zz-event run` costs, from the same files.

Small ONNX convolutions built here (stride 2 with padding 1, 'same' 5x5 padding, dilation 2, asymmetric stride
and padding, a kernel larger than its input) go through both commands with the same options; every count
(MACs, compute cycles, word accesses per operand, level and direction) must be identical, and the simulated
arithmetic must equal numpy's and onnx.reference's convolution. Bad input: one line, exit status 2.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import onnx
import pytest
import yaml
from conftest import INPUTS
from onnx import TensorProto, helper, numpy_helper

from validation.simulate import main as simulate_main
from zz_event.cli import main as zz_event_main
from zz_event.readers.mappings import MappingTranslationWarning

TOY = INPUTS / "toy"
LAYERS = {  # name: (C, K, H, W, kernel, ONNX attributes)
    "stride2_pad1": (2, 8, 7, 7, (3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "same_5x5": (1, 8, 6, 6, (5, 5), {"pads": [2, 2, 2, 2]}),
    "dilation2": (2, 8, 8, 8, (3, 3), {"dilations": [2, 2]}),
    "asymmetric": (1, 8, 7, 6, (3, 2), {"strides": [2, 1], "pads": [1, 0, 0, 1]}),
    "kernel_over_input": (1, 8, 3, 3, (5, 5), {"pads": [2, 2, 2, 2]}),
}


def _onnx(path, c, k, h, w, kernel, attrs) -> str:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    weights = numpy_helper.from_array(np.ones((k, c, *kernel), "float32"), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=list(kernel), **attrs)
    graph = helper.make_graph([node], "g", [x], [y], initializer=[weights])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return str(path)


def _input_centric_mapping(path, c, h, w, kernel) -> str:
    """K on the 8 MACs, temporal FY, FX, C, IX, IY (inner to outer)."""
    order = [["FY", kernel[0]], ["FX", kernel[1]], ["C", c], ["IX", w], ["IY", h]]
    entry = {"name": "default", "spatial_mapping": {"D1": ["K, 8"]},
             "temporal_ordering": [loop for loop in order if loop[1] > 1],
             "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}
    path.write_text(yaml.safe_dump([entry]))
    return str(path)


def _both(tmp_path, capsys, workload: str, mapping: str, *extra: str):
    common = ["--workload", workload, "--accelerator", str(TOY / "hardware.yaml"), "--mapping", mapping,
              "--opt", "energy", "--lpf-limit", "3", *extra]
    assert zz_event_main(["run", *common, "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert simulate_main([*common, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    return summary["layers"], rows


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("fixed_order", [False, True], ids=["loma", "input_centric_order"])
def test_simulate_equals_run_on_onnx(tmp_path, capsys, name, fixed_order):
    c, k, h, w, kernel, attrs = LAYERS[name]
    workload = _onnx(tmp_path / f"{name}.onnx", c, k, h, w, kernel, attrs)
    mapping = _input_centric_mapping(tmp_path / "m.yaml", c, h, w, kernel) if fixed_order \
        else str(TOY / "mapping_lenet5.yaml")
    (layer,), (row,) = _both(tmp_path, capsys, workload, mapping)
    ev = layer["event_driven"]
    assert (row["macs"], row["compute_cycles"]) == (ev["macs"], ev["compute_cycles"])
    assert row["temporal_ordering"] == layer["temporal_ordering"]
    assert row["spatial_mapping"] == layer["spatial_mapping"]
    assert row["word_accesses"] == ev["word_accesses"]
    assert row["output_matches_reference"] and row["output_matches_onnx_reference"]
    assert row["centric"] == "input" and "IY" in row["loop_sizes"] and "OY" not in row["loop_sizes"]


def test_output_centric_yaml_with_an_ox_mapping_is_replayed_input_centric(tmp_path, capsys):
    entry = {"name": "default", "spatial_mapping": {"D1": ["K, 8"]},
             "temporal_ordering": [["FY", 3], ["FX", 3], ["OX", 3], ["OY", 3]],
             "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}
    mapping = tmp_path / "ox.yaml"
    mapping.write_text(yaml.safe_dump([entry]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (layer,), (row,) = _both(tmp_path, capsys, str(TOY / "workload_output_centric.yaml"), str(mapping))
    assert sum(issubclass(w.category, MappingTranslationWarning) for w in caught) == 2  # run, then simulate
    assert row["temporal_ordering"] == layer["temporal_ordering"] and row["word_accesses"] == \
        layer["event_driven"]["word_accesses"]
    assert (row["macs"], row["compute_cycles"]) == (648, 81)


def _mapping(path, ordering) -> str:
    path.write_text(yaml.safe_dump([{"name": "default", "spatial_mapping": {"D1": ["K, 8"]},
                                     "temporal_ordering": ordering,
                                     "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]))
    return str(path)


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    """Missing files, and temporal orderings on which ZigZag 3.9.1 itself dies with a traceback (a factor
    not dividing its dimension: LOMA's `reduce_static_fps`; a loop over a dimension of size 1:
    `is_complete`)."""
    c, k, h, w, kernel, attrs = LAYERS["asymmetric"]
    workload = _onnx(tmp_path / "asym.onnx", c, k, h, w, kernel, attrs)
    not_dividing = _mapping(tmp_path / "five.yaml", [["FY", 3], ["FX", 2], ["IX", 5], ["IY", 7]])
    size_one = _mapping(tmp_path / "one.yaml", [["FY", 3], ["FX", 2], ["C", 1], ["IX", 6], ["IY", 7]])
    cases = [(workload, str(tmp_path / "missing.yaml"), "mapping file not found"),
             (str(tmp_path / "nope.onnx"), not_dividing, "workload file not found"),
             (workload, not_dividing, "temporal loops over IX multiply to 5, which does not divide the 6"),
             (workload, size_one, "has [C, 1] but layer 'conv' has C = 1")]
    for workload_path, mapping, message in cases:
        code = simulate_main(["--workload", workload_path, "--accelerator", str(TOY / "hardware.yaml"),
                              "--mapping", mapping])
        err = capsys.readouterr().err.strip()
        one_line = len(err.splitlines()) == 1 and err.startswith("python -m validation.simulate: error:")
        assert code == 2 and one_line, err
        assert message in err, err
