"""Events from data through the front door and `zz-event run --data` (issue #17).

A tiny ONNX network (Conv 1->2 3x3 on 5x5, ReLU, Flatten, Gemm 18->3) on the toy core: the activations
are recomputed here with plain numpy (independently of ONNX's reference evaluator), each layer's chosen
mapping must be costed on every sample exactly as the engine costs that mask, the ranked figures must be
the mean over the calibration samples, and bad data must fail in one line with exit status 2.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper, save, shape_inference

from zz_event import layer_results, run_zigzag_event_driven
from zz_event.cli import main
from zz_event.engine.evaluate import evaluate
from zz_event.readers.workloads import load_workload
from zz_event.zigzag.adapter import context_of_cme, mapping_of_cme
from zz_event.zigzag.summary import build_summary

HW, MAPPING = "inputs/toy/hardware.yaml", "inputs/toy/mapping_lenet5.yaml"
RNG = np.random.default_rng(3)
CONV_W = RNG.normal(size=(2, 1, 3, 3)).astype(np.float32)
FC_W = RNG.normal(size=(3, 18)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fw"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 5, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
                              [numpy_helper.from_array(CONV_W, "w"), numpy_helper.from_array(FC_W, "fw")])
    path = tmp_path_factory.mktemp("tiny") / "tiny.onnx"
    save(shape_inference.infer_shapes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])), path)
    return str(path)


def _batch() -> np.ndarray:
    x = np.zeros((3, 1, 5, 5), dtype=np.float32)
    x[0, 0, 0, 0], x[0, 0, 2, 3] = 1.0, 2.0  # two pixels
    x[1] = 1.0  # dense
    return x  # sample 2: all zero


def _numpy_masks(x: np.ndarray) -> dict[str, np.ndarray]:
    """Each layer's non-zero inputs, computed with numpy: conv reads x, fc reads relu(conv(x)) flattened."""
    out = np.zeros((x.shape[0], 2, 3, 3), dtype=np.float64)
    for fy in range(3):
        for fx in range(3):
            out += np.einsum("nyx,k->nkyx", x[:, 0, fy:fy + 3, fx:fx + 3], CONV_W[:, 0, fy, fx])
    return {"conv": x != 0, "fc": (np.maximum(out, 0) != 0).reshape(x.shape[0], -1)}


def _nest(cme, prepared):
    return context_of_cme(cme, prepared.geometry[cme.layer.name], "input").nest(mapping_of_cme(cme))


def test_chosen_mapping_costed_on_every_sample(tiny, tmp_path):
    x = _batch()
    _, _, cmes = run_zigzag_event_driven(tiny, HW, MAPPING, opt="energy", data=x, calibration=2,
                                         dump_folder=str(tmp_path / "zz"), loma_show_progress_bar=False)
    prepared, masks = load_workload(tiny), _numpy_masks(x)
    layers = {layer.name: layer for layer in layer_results(cmes)}
    assert set(masks) <= set(layers)
    for name, mask in masks.items():
        layer = layers[name]
        nest = _nest(layer.cme, prepared)
        expected = [evaluate(nest, mask=m) for m in mask]
        assert [r.word_accesses() for r in layer.samples] == [r.word_accesses() for r in expected]
        assert [r.macs for r in layer.samples] == [r.macs for r in expected]
        assert layer.samples[2].macs == 0  # the all-zero sample triggers nothing, in every layer
        # ZigZag ranked on the mean of the two calibration samples.
        assert layer.event_driven.energy_pj == pytest.approx((expected[0].energy_pj + expected[1].energy_pj) / 2)
        data = build_summary(cmes)["layers"][[entry["name"] for entry in build_summary(cmes)["layers"]].index(name)]
        block = data["event_driven_data"]
        assert block["samples"] == 3 and block["calibration_samples"] == 2
        assert block["density"] == pytest.approx(float(np.mean([m.mean() for m in mask])))
        assert block["macs"]["max"] == max(r.macs for r in expected)


def test_one_sample_gives_its_exact_integers(tiny, tmp_path):
    x = _batch()[0]  # (C, H, W): one sample
    _, _, cmes = run_zigzag_event_driven(tiny, HW, MAPPING, opt="energy", data=x,
                                         dump_folder=str(tmp_path / "zz"), loma_show_progress_bar=False)
    conv = next(entry for entry in build_summary(cmes)["layers"] if entry["name"] == "conv")
    block, ranked = conv["event_driven_data"], conv["event_driven"]
    # conv's two pixels: (0,0) reaches 1 output position, (2,3) 3 x 2 = 6 (valid taps per axis, as in
    # tests/test_data_masks.py's toy): 7 (input, tap) pairs on both output channels.
    assert block["macs"] == {"mean": 14, "min": 14, "p50": 14, "p95": 14, "max": 14}
    assert ranked["macs"] == 14 and block["word_accesses"] == ranked["word_accesses"]
    # Output positions touched: (0,0), and (2-fy, 3-fx) for fy 0..2, fx 1..2: 6 more; (1,0), (2,0) stay bias.
    assert block["outputs_without_contribution"]["max"] == 2 * (9 - 7)


def test_cli_writes_samples_csv(tiny, tmp_path):
    data = tmp_path / "x.npy"
    np.save(data, _batch())
    out = tmp_path / "out"
    assert main(["run", "--workload", tiny, "--accelerator", HW, "--mapping", MAPPING, "--out", str(out),
                 "--data", str(data), "--calibration", "1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert all("event_driven_data" in entry for entry in summary["layers"] if entry["corrected"])
    with open(out / "samples.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * 3 and [row["calibration"] for row in rows[:3]] == ["True", "False", "False"]


@pytest.mark.parametrize("content, problem", [
    (np.full((2, 1, 5, 5), np.nan, dtype=np.float32), "NaN or infinite"),
    (np.zeros((2, 3, 5, 5), dtype=np.float32), "channel count"),
    (np.zeros((2, 1, 6, 5), dtype=np.float32), "height x width"),
    (np.zeros((0, 1, 5, 5), dtype=np.float32), "empty"),
    (np.zeros((5, 5), dtype=np.float32), "expected (N, C, H, W)"),
    (b"not an array", "not a NumPy .npy array"),
])
def test_bad_data_one_line_exit_2_nothing_written(tiny, tmp_path, capsys, content, problem):
    data = tmp_path / "bad.npy"
    if isinstance(content, bytes):
        data.write_bytes(content)
    else:
        np.save(data, content)
    out = tmp_path / "out"
    code = main(["run", "--workload", tiny, "--accelerator", HW, "--mapping", MAPPING, "--out", str(out),
                 "--data", str(data)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert str(data) in err and problem in err
    assert not out.exists()


def test_mapspace_event_driven_columns_are_the_data_mean(tiny, tmp_path):
    from zz_event.mapspace import load, run_mapspace

    x = _batch()
    plain = load(run_mapspace(tiny, HW, MAPPING, tmp_path / "plain.csv", opt="energy").csv)
    data = load(run_mapspace(tiny, HW, MAPPING, tmp_path / "data.csv", opt="energy", data=x,
                             calibration=2).csv)
    assert len(plain) == len(data) and "data_macs" not in plain.columns
    conv = data["layer"] == "conv"
    # Sample 0 has 7 (input, tap) pairs on 2 output channels, sample 1 is dense (9 x 9 x 2 = 162 MACs): the
    # calibration mean is 88 MACs whatever the mapping; the event_driven columns stay the dense-data count.
    assert set(data.loc[conv, "data_macs"]) == {(14 + 162) / 2}
    assert set(data.loc[conv, "event_driven_macs"]) == {162}
    for column in ("dense_macs", "event_driven_macs"):
        assert sorted(data[column]) == sorted(plain[column])


