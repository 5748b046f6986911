""""When event-driven wins": density masks, the batched frame-based baselines, the chapter's summaries, and the
report of a network that is not LeNet-5 (three strided, padded convolutions) on data, through the CLI, with its
MAC counts checked against a direct count from the data."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from conftest import toy_nest
from onnx import TensorProto, helper, numpy_helper

from zz_event.cli import main
from zz_event.engine.baselines import BASELINES, frame_baseline, frame_baselines
from zz_event.model.nest import Loop, LoopNest
from zz_event.report import wins
from zz_event.report.data_costs import DATA_COSTINGS, EVENT_DRIVEN_COSTING
from zz_event.report.density import clustered_masks, random_masks

ROOT = Path(__file__).resolve().parents[2]


# --- density masks ----------------------------------------------------------------------------------------------

def _values() -> np.ndarray:
    """Two samples, one 1 x 1 x 1 x 5 x 5 plane each: a blob of four non-zero inputs and one far pixel."""
    v = np.zeros((2, 1, 1, 1, 5, 5))
    v[:, ..., 1:3, 1:3] = [[4.0, 3.0], [2.0, 1.0]]
    v[:, ..., 4, 4] = 0.5
    return v


def test_clustered_masks_at_the_real_density_are_the_real_masks():
    v = _values()
    np.testing.assert_array_equal(clustered_masks(v, 5 / 25, np.random.default_rng(0)), v != 0)


def test_thinning_drops_the_smallest_inputs_first():
    kept = clustered_masks(_values(), 2 / 25, np.random.default_rng(0))
    expected = np.zeros_like(kept)
    expected[..., 1, 1:3] = True  # the values 4 and 3
    np.testing.assert_array_equal(kept, expected)


def test_thickening_adds_the_nearest_zeros_first():
    v = _values()
    grown = clustered_masks(v, 22 / 25, np.random.default_rng(0))
    # 17 of the 20 zeros are turned on, nearest first. Chebyshev distance to the nearest non-zero input (the blob
    # at rows/cols 1-2, the pixel at (4, 4)): 1 for the 14 zeros around the blob or next to the pixel, 2 for
    # (0, 4), (1, 4), (2, 4), (4, 0), (4, 1), (4, 2). So the 3 left off are 3 of those 6 (ties: random).
    farthest = {(0, 4), (1, 4), (2, 4), (4, 0), (4, 1), (4, 2)}
    for s in range(2):
        dropped = set(zip(*np.nonzero(~grown[s, 0, 0, 0])))
        assert len(dropped) == 3 and dropped <= farthest
    assert (grown.reshape(2, -1).sum(axis=1) == 22).all()
    assert grown[v != 0].all()


def test_random_masks_have_exactly_the_density():
    masks = random_masks((7, 1, 2, 3, 6, 6), 0.3, np.random.default_rng(1))
    assert (masks.reshape(7, -1).sum(axis=1) == round(0.3 * 216)).all()
    assert not (masks[0] == masks[1]).all()
    with pytest.raises(ValueError, match="density"):
        random_masks((1, 4), 1.5, np.random.default_rng(0))


# --- batched baselines --------------------------------------------------------------------------------------------

def test_batched_baselines_equal_one_sample_at_a_time():
    # The 5x5 toy as a frame-based layer (tests/engine/test_data_masks.py hand-counts its baselines).
    toy = toy_nest()
    loops = (Loop("FY", 3), Loop("FX", 3), Loop("OX", 3), Loop("OY", 3))
    nest = LoopNest(toy.geometry, "output", loops, toy.spatial, toy.levels, toy.precision, mac_energy=1.0)
    g = nest.geometry
    rng = np.random.default_rng(3)
    masks = rng.random((5, g.B, g.G, g.C, g.y.inp, g.x.inp)) < 0.4
    for kind in BASELINES:
        batched = frame_baselines(nest, kind, masks)
        assert batched == [frame_baseline(nest, kind, m) for m in masks]


# --- summaries ------------------------------------------------------------------------------------------------

def _sweep(event: list[float], frame: list[float], densities=(0.1, 0.5, 1.0)) -> pd.DataFrame:
    rows = []
    for d, e, f in zip(densities, event, frame):
        for costing in DATA_COSTINGS:
            value = e if costing == EVENT_DRIVEN_COSTING else (f if costing.startswith("frame-WS") else 2 * f)
            rows.append({"layer": "l", "masks": "clustered", "target_density": d, "costing": costing, "sample": 0,
                         "latency_cycles": value, "energy_pj": value})  # fmt: skip
    return pd.DataFrame(rows)


def test_crossover_is_linear_between_sweep_points():
    # event - best frame: -4 at 10%, -1 at 50%, +2 at 100% -> zero one third of the way from 50% to 100%.
    c = wins.crossovers(_sweep([1, 4, 10], [5, 5, 8]))
    assert list(c["crossover_density"]) == pytest.approx([0.5 + 0.5 / 3] * len(c))
    assert c["event wins at lowest density"].all() and not c["event wins at highest density"].any()


def test_equal_costs_are_no_crossover():
    c = wins.crossovers(_sweep([3, 4, 5], [3, 4, 5]))
    assert c["equal at every density"].all() and c["crossover_density"].isna().all()


def test_headline_takes_the_better_frame_mapping_per_figure():
    bands = pd.DataFrame([
        {"layer": "l", "costing": c, "density": 0.5,
         "latency_cycles_mean": {"frame-WS": 10, "frame-OS": 20}.get(c.split()[0], 5),
         "energy_pj_mean": {"frame-WS": 30, "frame-OS": 15}.get(c.split()[0], 5)} for c in DATA_COSTINGS
    ])  # fmt: skip
    h = wins.headline(bands)
    assert list(h["zero_handling"]) == list(BASELINES)
    assert set(h["best frame latency_cycles mapping"]) == {"frame-WS"}
    assert set(h["best frame energy_pj mapping"]) == {"frame-OS"}
    assert set(h["event/frame energy_pj"]) == {5 / 15}


# --- a network that is not LeNet-5, on data, through the CLI ------------------------------------------------------

def _three_strided_convs(path: Path) -> str:
    """Three 3x3 convolutions of stride 2 and padding 1 (1 -> 4 -> 4 -> 4 channels, 16x16 -> 2x2), ReLU between."""
    rng = np.random.default_rng(7)
    inits, nodes, prev = [], [], "x"
    for i, (cin, cout) in enumerate(((1, 4), (4, 4), (4, 4)), start=1):
        inits.append(numpy_helper.from_array(rng.normal(size=(cout, cin, 3, 3)).astype(np.float32), f"w{i}"))
        nodes += [helper.make_node("Conv", [prev, f"w{i}"], [f"c{i}"], name=f"conv{i}", kernel_shape=[3, 3],
                                   strides=[2, 2], pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}")]  # fmt: skip
        prev = f"r{i}"
    graph = helper.make_graph(nodes, "strided", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 16, 16])],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 4, 2, 2])], inits)
    model = onnx.shape_inference.infer_shapes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    onnx.save(model, str(path))
    return str(path)


def _valid_macs(mask: np.ndarray, out_channels: int, stride: int = 2, pad: int = 1, kernel: int = 3) -> int:
    """MACs whose input is non-zero and whose output exists, counted directly: for every non-zero input, the taps
    (fy, fx) that put it on an output position (oy, ox) inside the output."""
    _c, h, w = mask.shape
    oh, ow = (h + 2 * pad - kernel) // stride + 1, (w + 2 * pad - kernel) // stride + 1
    total = 0
    for _ch, iy, ix in zip(*np.nonzero(mask)):
        for fy in range(kernel):
            for fx in range(kernel):
                oy, ry = divmod(iy + pad - fy, stride)
                ox, rx = divmod(ix + pad - fx, stride)
                total += ry == 0 and rx == 0 and 0 <= oy < oh and 0 <= ox < ow
    return total * out_channels


@pytest.fixture(scope="module")
def strided_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("strided")
    network = _three_strided_convs(d / "strided.onnx")
    rng = np.random.default_rng(11)
    batch = (rng.random((3, 1, 16, 16)) * (rng.random((3, 1, 16, 16)) < 0.3)).astype(np.float32)
    np.save(d / "batch.npy", batch)
    out = d / "out"
    code = main(["report", "--workload", network, "--data", str(d / "batch.npy"), "--sweep-samples", "2",
                 "--lpf-limit", "2", "--jobs", "1", "--no-simulator", "--out", str(out)])  # fmt: skip
    return code, out, network, batch


def test_report_of_another_network_on_data(strided_report):
    code, out, _network, _batch = strided_report
    assert code == 0
    text = (out / "report.md").read_text()
    assert "# zz-event comparison report: strided" in text and "## When event-driven wins" in text
    for figure in ("wins_costs.png", "wins_sweep.png", "wins_density_model.png", "data_samples.csv",
                   "density_sweep.csv", "density_model.csv"):  # fmt: skip
        assert (out / "report_files" / figure).is_file(), figure
    chapter = json.loads((out / "report_files" / "report.json").read_text())["when_event_driven_wins"]
    assert chapter["samples"] == 3
    assert {r["layer"] for r in chapter["headline"]} == {"conv1", "conv2", "conv3", "network"}


def test_event_driven_macs_are_the_data_s_valid_macs(strided_report):
    _code, out, network, batch = strided_report
    from zz_event.readers.activations import layer_masks

    masks = layer_masks(onnx.load(network), batch)
    table = pd.read_csv(out / "report_files" / "data_samples.csv")
    for layer in ("conv1", "conv2", "conv3"):
        per = table[table["layer"] == layer].set_index(["costing", "sample"])
        for s in range(len(batch)):
            expected = _valid_macs(masks[layer][s], out_channels=4)
            assert per.loc[(EVENT_DRIVEN_COSTING, s), "macs"] == expected
            # Skipping and gating execute the same MACs; dense counts every tap, padding included.
            assert per.loc[("frame-WS skipping", s), "macs"] == expected
            assert per.loc[("frame-OS gating", s), "macs"] == expected
            c, h, w = masks[layer][s].shape
            assert per.loc[("frame-WS dense", s), "macs"] == 4 * c * 9 * math.ceil(h / 2) * math.ceil(w / 2)
            assert per.loc[(EVENT_DRIVEN_COSTING, s), "density"] == pytest.approx(masks[layer][s].mean())


def test_bad_data_for_the_report_is_one_line(tmp_path, capsys):
    network = _three_strided_convs(tmp_path / "strided.onnx")
    np.save(tmp_path / "wrong.npy", np.ones((2, 3, 16, 16), np.float32))
    code = main(["report", "--workload", network, "--data", str(tmp_path / "wrong.npy"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "wrong.npy" in err[0] and "channel count" in err[0]
    assert not (tmp_path / "o").exists()


def test_a_layer_the_engine_cannot_count_is_said_so_in_its_row(tmp_path):
    # In a fresh process: memos and correction workers of earlier tests would answer without a budget check.
    network = _three_strided_convs(tmp_path / "strided.onnx")
    script = (
        "from zz_event.report.jobs import event_job\n"
        "from zz_event.report.single_core import SearchSettings\n"
        f"s = SearchSettings({str(ROOT / 'inputs/toy/hardware.yaml')!r}, "
        f"{str(ROOT / 'inputs/toy/mapping_lenet5.yaml')!r}, lpf_limit=2)\n"
        f"print(event_job({network!r}, ('conv1',), s, check=False).rows['conv1']['event'].costs.note)\n"
    )
    env = {**os.environ, "ZZ_EVENT_ENGINE_MEMORY_MB": "0"}  # every layer over the engine's memory budget
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    note = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    assert note.startswith("not corrected, ZigZag's cost kept:") and "memory" in note
