"""`zz-event run`: the public summary.json contract, the table, and one-line errors on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import INPUTS, ROOT

TOY = INPUTS / "toy"


def zz_event(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zz_event.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def run_args(out: Path, workload=TOY / "workload.yaml", accelerator=TOY / "hardware.yaml",
             mapping=TOY / "mapping.yaml"):
    return ["run", "--workload", str(workload), "--accelerator", str(accelerator), "--mapping", str(mapping),
            "--opt", "energy", "--out", str(out)]


def test_run_writes_the_summary_contract(tmp_path):
    result = zz_event(*run_args(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    (layer,) = summary["layers"]
    assert set(layer) >= {"name", "temporal_ordering", "spatial_mapping", "zigzag", "event_driven"}
    assert layer["temporal_ordering"] == [["FY", 3], ["FX", 3], ["IX", 5], ["IY", 5]]
    assert layer["spatial_mapping"] == {"D1": {"K": 8}}
    for block in ("zigzag", "event_driven"):
        assert set(layer[block]) >= {"macs", "latency_cycles", "energy_pj", "word_accesses"}
        for op in ("W", "I", "O"):
            (level,) = layer[block]["word_accesses"][op]
            assert set(level) == {"memory", "rd_out_to_low", "wr_in_by_low", "rd_out_to_high", "wr_in_by_high"}
    assert layer["event_driven"]["compute_cycles"] == 81
    assert summary["total"]["event_driven"]["macs"] == 648
    assert "1800" in result.stdout and "648" in result.stdout


def test_onnx_results_are_zigzags_layers_and_the_rest_is_listed(tmp_path):
    """By default the result list is what ZigZag's own ONNX parser gives (LeNet-5: Conv and Gemm, no pooling), in
    its order; every node not costed is in summary.json and printed, with its reason."""
    out = tmp_path / "lenet"
    lenet5 = run_args(out, INPUTS / "lenet5" / "lenet5.onnx", mapping=TOY / "mapping_lenet5.yaml")
    result = zz_event(*lenet5, "--lpf-limit", "2")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [layer["name"] for layer in summary["layers"]] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    skipped = {node["name"]: node["reason"] for node in summary["skipped_nodes"]}
    assert set(skipped) == {"relu1", "pool1", "relu2", "pool2", "flatten", "relu3", "relu4"}
    assert "MaxPool" in skipped["pool1"] and "Relu" in skipped["relu1"]
    assert "note: ONNX node pool1 is not costed" in result.stdout


def test_uncorrected_layers_are_marked(tmp_path):
    """With --cost-pooling-and-add, LeNet-5's pooling layers keep ZigZag's cost and say so, in the file and in the
    table."""
    out = tmp_path / "lenet"
    lenet5 = run_args(out, INPUTS / "lenet5" / "lenet5.onnx", mapping=TOY / "mapping_lenet5.yaml")
    result = zz_event(*lenet5, "--lpf-limit", "3", "--cost-pooling-and-add")
    assert result.returncode == 0, result.stderr
    layers = {layer["name"]: layer for layer in json.loads((out / "summary.json").read_text())["layers"]}
    assert layers["pool1"]["corrected"] is False and "Pooling" in layers["pool1"]["uncorrected_reason"]
    assert layers["pool1"]["event_driven"]["energy_pj"] == layers["pool1"]["zigzag"]["energy_pj"]
    assert "NO (ZigZag cost kept)" in result.stdout
    assert layers["conv1"]["event_driven"]["macs"] == 117_600
    assert layers["conv2"]["event_driven"]["macs"] == 240_000
    fc1 = layers["fc1"]
    assert fc1["event_driven"]["macs"] == fc1["zigzag"]["macs"] == 48_000


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


BAD_WORKLOAD_ZIGZAG_REJECTS = """
- id: 0
  name: conv
  operator_type: Conv
  equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
  dimension_relations: [ox=1*ix+1*fx, oy=1*iy+1*fy]
  loop_dims: [B, K, C, IY, IX, FY, FX]
  loop_sizes: [1, 8, 1, 5, 5, 3, 3]
  operand_source: {I: 0, W: 0}
"""


def _bad_cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    toy = (TOY / "workload.yaml").read_text()
    unreadable = _write(tmp / "unreadable.yaml", toy)
    unreadable.chmod(0)
    return {
        "missing file": (run_args(tmp / "o", workload=tmp / "nope.yaml"), "nope.yaml"),
        "unreadable file": (run_args(tmp / "o", workload=unreadable), "unreadable.yaml"),
        "invalid yaml": (run_args(tmp / "o", workload=_write(tmp / "bad.yaml", "- id: [0\n")), "bad.yaml"),
        "zigzag rejects workload": (
            run_args(tmp / "o", workload=_write(tmp / "rej.yaml", BAD_WORKLOAD_ZIGZAG_REJECTS)), "rej.yaml"),
        "unknown loop dim": (run_args(tmp / "o", mapping=_write(
            tmp / "map.yaml", (TOY / "mapping.yaml").read_text().replace("[FY, 3]", "[QQ, 3]"))), "map.yaml"),
        "inconsistent geometry": (run_args(tmp / "o", workload=_write(
            tmp / "geo.yaml", toy.rstrip() + "\n  zz_event: {output: [4, 4]}\n")), "geo.yaml"),
        "non-positive size": (run_args(tmp / "o", workload=_write(
            tmp / "neg.yaml", toy.replace("[1, 8, 1, 5, 5, 3, 3]", "[1, 8, 1, 0, 5, 3, 3]"))), "neg.yaml"),
        "stride below one": (run_args(tmp / "o", workload=_write(
            tmp / "stride.yaml", toy.rstrip() + "\n  zz_event: {stride: 0}\n")), "stride.yaml"),
        "bad accelerator": (
            run_args(tmp / "o", accelerator=_write(tmp / "hw.yaml", "name: x\nmemories: {}\n")), "hw.yaml"),
    }


CASES = ["missing file", "unreadable file", "invalid yaml", "zigzag rejects workload", "unknown loop dim",
         "inconsistent geometry", "non-positive size", "stride below one", "bad accelerator"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_no_output(tmp_path, case):
    if case == "unreadable file" and os.geteuid() == 0:
        pytest.skip("root can read a file without read permission")
    args, name = _bad_cases(tmp_path)[case]
    result = zz_event(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_unreadable_directory_instead_of_file(tmp_path):
    """Root can read anything, so 'unreadable' is also exercised with a directory in place of the file."""
    folder = tmp_path / "adir.yaml"
    folder.mkdir()
    result = zz_event(*run_args(tmp_path / "o", workload=folder))
    assert result.returncode == 2 and "adir.yaml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_lists_subcommands():
    result = zz_event("--help")
    assert result.returncode == 0 and "run" in result.stdout
