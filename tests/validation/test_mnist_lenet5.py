"""validation.mnist_lenet5: the trained LeNet-5's held-out accuracy and per-layer input density (issue 18), and
the committed results agree with the committed model."""

from __future__ import annotations

import json

from conftest import ROOT

from validation.mnist_lenet5 import main
from zz_event.readers import mnist

RESULTS = ROOT / "validation" / "results" / "mnist" / "lenet5_mnist.json"


def test_figures_on_a_few_digits(tmp_path):
    assert main(["--samples", "20", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "lenet5_mnist.json").read_text())
    assert result["samples"] == 20 and result["accuracy"] == result["correct"] / 20
    assert list(result["density"]) == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    images = mnist.held_out(20)[0]
    assert result["density"]["conv1"]["mean"] == float((images != 0).mean())
    for d in result["density"].values():
        assert 0 <= d["min"] <= d["p5"] <= d["p50"] <= d["p95"] <= d["max"] <= 1 and d["min"] <= d["mean"] <= d["max"]
    assert "| conv2 | 6 x 14 x 14 |" in (tmp_path / "lenet5_mnist.md").read_text()


def test_committed_results_match_the_committed_model():
    result = json.loads(RESULTS.read_text())
    meta = json.loads((ROOT / "inputs" / "lenet5" / "lenet5_mnist.json").read_text())
    assert result["samples"] == 1000 and result["correct"] == meta["held_out_correct"]
    conv1 = result["density"]["conv1"]["mean"]
    assert conv1 == float((mnist.held_out()[0] != 0).mean())  # conv1's input is the image itself
