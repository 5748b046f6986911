"""The comparison report (zz_event.report): what it writes, that it is regenerated from scratch, that a failed run
leaves the previous report alone, and that its numbers hold together (single-core rows of a tiny network, checked by
the reference simulator). The full LeNet-5 report with Stream is the slow test at the end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from zz_event.cli import main
from zz_event.errors import InputFileError
from zz_event.report import build as rp
from zz_event.report.multi_core import SAME

ROOT = Path(__file__).resolve().parents[2]


def _tiny_net(path: Path, pad: int) -> str:
    """Conv 3x3 (1 -> 8 channels, 8x8, padding ``pad``) and a Gemm (-> 10)."""
    out = 8 + 2 * pad - 2
    w = numpy_helper.from_array(np.ones((8, 1, 3, 3), np.float32), "w")
    g = numpy_helper.from_array(np.ones((8 * out * out, 10), np.float32), "g")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3], pads=[pad] * 4),
        helper.make_node("Flatten", ["c"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "g"], ["y"], name="fc"),
    ]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], [w, g],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


@pytest.fixture(scope="module")
def tiny_options(tmp_path_factory) -> rp.ReportOptions:
    d = tmp_path_factory.mktemp("nets")
    return rp.ReportOptions(
        network=_tiny_net(d / "tiny.onnx", 0), padded=_tiny_net(d / "tiny_pad.onnx", 1), padded_layers=("conv",),
        lpf_limit=4, cores=(), jobs=1, data=None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tiny_report(tiny_options, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return out, rp.build_report(out, tiny_options)


def test_the_report_writes_markdown_figures_and_every_number(tiny_report):
    out, result = tiny_report
    text = (out / rp.REPORT_FILE).read_text()
    assert result.report == out / rp.REPORT_FILE
    for heading in ("## Findings", "## How each row is costed", "## Single core", "## Simulator check", "## Padding"):
        assert heading in text
    for figure in ("single_core.png", "padded.png"):
        assert (out / rp.FILES_DIR / figure).read_bytes()[:4] == b"\x89PNG"
        assert f"]({rp.FILES_DIR}/{figure})" in text
    data = json.loads((out / rp.FILES_DIR / "report.json").read_text())
    assert data["provenance"]["versions"]["zigzag-dse"] == "3.9.1"
    assert set(data["single_core"]) == {"conv", "fc"}
    rows = data["single_core"]["conv"]
    assert set(rows) == {"frame-WS", "frame-OS", "event-raw", "event", "event, no readiness", "event-IS"}
    assert set(rows["event"]["costs"]["word_accesses"]) == {"W", "I", "O"}
    assert rows["event"]["costs"]["energy_pj"] == pytest.approx(
        rows["event"]["costs"]["mac_energy_pj"] + sum(rows["event"]["costs"]["operand_energy_pj"].values())
    )


def test_the_dense_finding_holds_for_an_unpadded_layer(tiny_report):
    _out, result = tiny_report
    conv = result.data.single["conv"]
    assert conv["event"].costs.macs == conv["frame-WS"].costs.macs == 8 * 6 * 6 * 9
    assert conv["event-raw"].costs.macs == 8 * 8 * 8 * 9  # ZigZag counts every (input, tap) pair
    assert conv["event-raw"].costs.energy_pj > conv["event"].costs.energy_pj
    assert "MAC counts without padding are equal" in result.report.read_text()


def test_padding_taps_trigger_no_event(tiny_report):
    _out, result = tiny_report
    conv = result.data.padded["conv"]
    assert conv["event"].costs.macs < conv["frame-WS"].costs.macs == 8 * 8 * 8 * 9
    assert "the padding taps trigger no event" in result.report.read_text()


def test_the_simulator_confirms_every_single_core_row(tiny_report):
    _out, result = tiny_report
    for block in (result.data.single, result.data.padded):
        for layer, rows in block.items():
            for label, row in rows.items():
                if label == "event, no readiness":
                    continue
                assert row.check is not None, (layer, label, row.check_note)
                assert row.check.matches or row.check.against == "ZigZag", (layer, label, row.check.differences)
                if label.startswith("event") and label != "event-raw":
                    assert row.check.against == "engine" and row.check.matches, (layer, label)


def test_a_report_replaces_its_own_files_and_nothing_else(tiny_options, tmp_path):
    (tmp_path / rp.FILES_DIR).mkdir()
    (tmp_path / rp.FILES_DIR / "stale.png").write_bytes(b"old")
    (tmp_path / "toy_fixed").mkdir()
    (tmp_path / "toy_fixed" / "summary.json").write_text("{}")
    rp.build_report(tmp_path, tiny_options)
    assert not (tmp_path / rp.FILES_DIR / "stale.png").exists()
    assert (tmp_path / "toy_fixed" / "summary.json").read_text() == "{}"
    assert not list(tmp_path.glob(".*staging*"))


def test_a_failed_report_leaves_the_previous_one(tiny_options, tmp_path, monkeypatch):
    (tmp_path / rp.REPORT_FILE).write_text("previous report\n")

    def broken(*_args):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(rp, "draw", broken)  # the name build_report calls
    with pytest.raises(RuntimeError, match="plotting failed"):
        rp.build_report(tmp_path, tiny_options)
    assert (tmp_path / rp.REPORT_FILE).read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [rp.REPORT_FILE]


def test_missing_inputs_fail_before_anything_runs(tmp_path):
    with pytest.raises(InputFileError, match="network file not found"):
        rp.build_report(tmp_path / "out", rp.ReportOptions(network=str(tmp_path / "nope.onnx")))
    assert not (tmp_path / "out").exists()


def test_the_cli_reports_bad_input_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(rp.ReportOptions, "__init__", _options_without_network(rp.ReportOptions.__init__, tmp_path))
    assert main(["report", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("zz-event: error:") and "\n" not in err and "network file not found" in err
    assert not (tmp_path / "out").exists()


def _options_without_network(init, tmp_path):
    def patched(self, *args, **kwargs):
        init(self, *args, **{**kwargs, "network": str(tmp_path / "missing.onnx")})

    return patched


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "inputs" / "lenet5" / "lenet5.onnx").exists(), reason="LeNet-5 not generated")
def test_the_lenet5_report(tmp_path):
    result = rp.build_report(tmp_path, rp.ReportOptions(jobs=2))
    text = result.report.read_text()
    assert "## Multi-core (Stream)" in text and (tmp_path / rp.FILES_DIR / "stream.png").exists()
    assert "## When event-driven wins" in text and result.data.data.samples == 1000
    assert set(result.data.stream) == {(c, m) for c in (1, 2, 4) for m in ("frame", "event-raw", "event", SAME)}
    assert "### Like for like" in text
    for rows in result.data.single.values():
        assert rows["event"].check is not None and rows["event"].check.matches
