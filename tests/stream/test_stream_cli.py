"""`zz-event stream`: one Stream run from the command line, its stream_summary.json, and bad input in one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from zz_event.cli import main

ROOT = Path(__file__).resolve().parents[2]
SINGLE = ROOT / "inputs" / "stream" / "hardware" / "single_core.yaml"


def _tiny_conv(path: Path) -> str:
    w = numpy_helper.from_array(np.ones((8, 1, 3, 3), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 6, 6])], [w],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


def test_stream_writes_the_summary_with_provenance(tmp_path, capsys):
    workload = _tiny_conv(tmp_path / "tiny.onnx")
    out = tmp_path / "out"
    argv = ["stream", "--hardware", str(SINGLE), "--workload", workload, "--mode", "event", "--out", str(out)]
    assert main(argv) == 0
    data = json.loads((out / "stream_summary.json").read_text())
    assert data["mode"] == "event" and data["total_latency_cycles"] > 0 and data["total_energy_pj"] > 0
    (conv,) = [n for n in data["nodes"] if n["node"] == "conv"]
    assert set(conv) >= {"node", "core", "latency_cycles", "energy_pj", "backend"}
    assert conv["backend"] == "zz_event" and conv["metadata"]["costing"] == "event-driven"
    assert conv["macs"] == 8 * 6 * 6 * 9 and data["unrollings"] == {} and data["data"] == {}
    # The spatial search's pick: loops of the input-centric layer, within the 8 MACs.
    (unrolling,) = conv["spatial_unrolling"].values()
    assert set(unrolling) <= {"K", "C", "IY", "IX", "FY", "FX"} and 1 < math.prod(unrolling.values()) <= 8
    assert conv["spatial_mapping"] == "D1: " + " x ".join(f"{d} {f}" for d, f in unrolling.items())
    assert data["provenance"]["arguments"]["mode"] == "event" and data["provenance"]["versions"]["stream-dse"]
    assert "wrote" in capsys.readouterr().out


def test_bad_input_is_one_line_and_no_output(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["stream", "--hardware", str(tmp_path / "nope.yaml"), "--workload", str(tmp_path / "w.onnx"),
            "--mode", "frame", "--out", str(out)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("zz-event: error:") and "\n" not in err and "hardware file not found" in err
    assert not out.exists()
