"""`zz-event search`: its table and files, mapping files `zz-event run` reproduces, and one-line bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from conftest import INPUTS, ROOT

LENET, TOY = INPUTS / "lenet5" / "lenet5.onnx", INPUTS / "toy"


def zz_event(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zz_event.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def search_args(out: Path, *extra: str) -> list[str]:
    return ["search", "--workload", str(LENET), "--accelerator", str(TOY / "hardware.yaml"), "--mapping",
            str(TOY / "mapping_lenet5.yaml"), "--out", str(out), "--lpf-limit", "6", *extra]


def test_search_writes_mapping_files_that_run_reproduces(tmp_path):
    out = tmp_path / "search"
    result = zz_event(*search_args(out, "--layers", "conv2", "--top", "2"))
    assert result.returncode == 0, result.stderr
    best = pd.read_csv(out / "best.csv")
    assert list(best["rank"]) == [0, 1] and set(best.layer) == {"conv2"}
    assert best.energy_pj.is_monotonic_increasing
    assert json.loads((out / "best.json").read_text())["best"][0]["energy_pj"] == best.energy_pj[0]
    assert "IY14 IX14" in result.stdout and "720 of 720 orderings" in result.stdout
    files = sorted((out / "mappings").glob("*.yaml"))
    assert [f.name for f in files] == ["conv2_s0_r0.yaml", "conv2_s0_r1.yaml"]
    ran = zz_event("run", "--workload", str(LENET), "--accelerator", str(TOY / "hardware.yaml"), "--mapping",
                   str(files[0]), "--opt", "energy", "--lpf-limit", "2", "--out", str(tmp_path / "run"))
    assert ran.returncode == 0, ran.stderr
    layers = {layer["name"]: layer for layer in json.loads((tmp_path / "run" / "summary.json").read_text())["layers"]}
    ordering = " ".join(f"{d}{s}" for d, s in layers["conv2"]["temporal_ordering"])
    assert ordering == best.temporal_ordering[0]
    assert layers["conv2"]["event_driven"]["energy_pj"] == best.energy_pj[0]
    assert layers["conv2"]["event_driven"]["latency_cycles"] == best.latency_cycles[0]


def test_an_unknown_layer_is_one_line_and_nothing_is_written(tmp_path):
    out = tmp_path / "search"
    result = zz_event(*search_args(out, "--layers", "conv9"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "conv9" in result.stderr and "lenet5.onnx" in result.stderr
    assert not out.exists()
