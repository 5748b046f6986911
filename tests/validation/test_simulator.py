"""The reference simulator (validation/) on the seed's toy, against a plain replay, and its tools."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import toy_nest
from hypothesis import HealthCheck, given, settings

from validation.cases import loop_nests
from validation.check_log import check_log
from validation.naive import naive_result
from validation.reference import onnx_reference_conv, random_data, reference_conv
from validation.seed_table import seed_table
from validation.simulator import simulate
from zz_event.model.vocabulary import DIRECTIONS

ROOT = Path(__file__).resolve().parents[2]
TOY_FILES = [str(ROOT / "inputs/toy" / f) for f in ("workload.yaml", "hardware.yaml", "mapping.yaml")]




def words(res, op, direction):
    return res.word_accesses()[op][0][direction]


def test_toy_dense_equals_raw_zigzag():
    res = simulate(toy_nest(), filter=False, readiness=False)
    assert (res.macs, res.compute_cycles) == (1800, 225)
    assert words(res, "W", "rd_out_to_low") == 225
    assert words(res, "I", "rd_out_to_low") == 25
    assert (words(res, "O", "rd_out_to_low"), words(res, "O", "wr_in_by_low")) == (225, 225)
    assert res.energy_pj == pytest.approx(7939.5)
    assert res.output_matches_reference


def test_toy_event_driven():
    res = simulate(toy_nest(), filter=True, readiness=True)
    assert (res.macs, res.compute_cycles) == (648, 81)
    assert words(res, "W", "rd_out_to_low") == 77
    assert words(res, "I", "rd_out_to_low") == 25
    assert (words(res, "O", "rd_out_to_low"), words(res, "O", "wr_in_by_low")) == (72, 81)
    assert res.energy_pj == pytest.approx(2889.72)
    assert res.latency_cycles == 81
    assert res.output_matches_reference
    assert np.array_equal(res.outputs, onnx_reference_conv(res_geometry(), res.inputs, res.weights))


def res_geometry():
    return toy_nest().geometry


def test_toy_through_zigzag_matches_the_literal_nest():
    pytest.importorskip("zigzag")
    from validation.simulate import chosen_cmes
    from zz_event.zigzag.adapter import nest_from_cme

    (cme,) = chosen_cmes(*TOY_FILES)
    nest = nest_from_cme(cme)
    for filt in (False, True):
        for ready in (False, True):
            a, b = simulate(nest, filt, ready), simulate(toy_nest(), filt, ready)
            assert a.word_accesses() == b.word_accesses()
            assert (a.macs, a.compute_cycles, a.latency_cycles) == (b.macs, b.compute_cycles, b.latency_cycles)


def test_toy_raw_zigzag_numbers_from_zigzag_itself():
    """Dense replay == ZigZag 3.9.1's own word accesses for the toy (design.md's table)."""
    pytest.importorskip("zigzag")
    from validation.simulate import chosen_cmes

    (cme,) = chosen_cmes(*TOY_FILES)
    res = simulate(toy_nest(), filter=False, readiness=False)
    raw = {str(op): [{str(d): int(acc.get(d)) for d in acc.data} for acc in lv]
           for op, lv in cme.memory_word_access.items()}
    for op in ("W", "I", "O"):
        for direction in DIRECTIONS:
            assert raw[op][0][direction] == words(res, op, direction), (op, direction)
    assert (cme.mac_energy + cme.mem_energy) == pytest.approx(res.energy_pj)


def test_given_data_is_used():
    nest = toy_nest()
    data = random_data(nest.geometry, seed=7)
    res = simulate(nest, data={"I": data["I"][0], "W": data["W"][0]})  # ONNX 4-D layouts
    assert np.array_equal(res.outputs, reference_conv(nest.geometry, data["I"], data["W"]))


def test_mac_log_recount():
    buf = io.StringIO()
    simulate(toy_nest(), filter=True, readiness=True, mac_log=buf)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("cycle 0 step 0 NPE 0: Output[0, 0, 0, 0, 0] += Input[0, 0, 0, 0, 0] * Weight[")
    assert lines[-1] == "# summary macs=648 compute_cycles=81"


def test_check_log(tmp_path):
    for filt in (True, False):
        path = tmp_path / f"toy_{filt}.maclog"
        res = simulate(toy_nest(), filter=filt, readiness=True, mac_log=str(path))
        rec = check_log(str(path))
        assert rec["ok"], rec["problems"]
        assert (rec["macs"], rec["compute_cycles"]) == (res.macs, res.compute_cycles)
        assert rec["partial_sums"] == 648  # only valid MACs reach a real output
        finals = {tuple(map(int, k.split(","))): v for k, v in rec["final_outputs"].items()}
        assert all(res.outputs[k] == v for k, v in finals.items()) and len(finals) == res.outputs.size


def test_check_log_catches_a_wrong_partial_sum(tmp_path):
    path = tmp_path / "toy.maclog"
    simulate(toy_nest(), mac_log=str(path))
    text = path.read_text().splitlines()
    head, _, tail = text[5].rpartition("-> ")
    text[5] = f"{head}-> {int(tail) + 1}"
    path.write_text("\n".join(text) + "\n")
    assert not check_log(str(path))["ok"]


def test_seed_table():
    t = seed_table()
    pick = lambda row: (row["I"], row["W"], row["O_rd"], row["O_wr"], row["partial_sums"])  # noqa: E731
    assert pick(t["frame_based"]) == (81, 9, 81, 81, 648)
    assert pick(t["zigzag"]) == (25, 225, 225, 225, 1800)
    assert pick(t["event_driven"]) == (25, 81, 81, 81, 648)
    assert all("seed" in row["rule"] for row in t.values())


def test_cli_json():
    pytest.importorskip("zigzag")
    args = [sys.executable, "-m", "validation.simulate", "--workload", TOY_FILES[0], "--accelerator", TOY_FILES[1],
            "--mapping", TOY_FILES[2], "--json"]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    (row,) = json.loads(out)
    summary = (row["name"], row["macs"], row["compute_cycles"], row["output_matches_reference"])
    assert summary == ("conv_layer", 648, 81, True)
    assert row["word_accesses"]["O"][0]["rd_out_to_low"] == 72
    out = subprocess.run(args + ["--no-filter", "--no-readiness"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out)[0]["word_accesses"]["W"][0]["rd_out_to_low"] == 225


def test_seed_table_cli():
    out = subprocess.run([sys.executable, "-m", "validation.seed_table", "--json"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert set(json.loads(out)) == {"frame_based", "zigzag", "event_driven"}


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(loop_nests())
def test_vectorised_replay_equals_plain_replay(nest):
    """Blocks of 64 iterations exercise the MAC pass (arithmetic, touches) across block boundaries."""
    if nest.temporal_steps * int(np.prod([sl.size for sl in nest.spatial])) > 6000:
        return
    for filt in (False, True):
        for ready in (False, True):
            a = simulate(nest, filt, ready, block_iterations=64)
            b = naive_result(nest, filt, ready)
            assert (a.macs, a.compute_cycles) == (b.macs, b.compute_cycles)
            assert a.element_accesses() == b.element_accesses()
            assert a.word_accesses() == b.word_accesses()
            assert (a.onload_cycles, a.stall_cycles, a.offload_cycles) == (b.onload_cycles, b.stall_cycles,
                                                                           b.offload_cycles)
            assert a.output_matches_reference and b.output_matches_reference
            assert np.array_equal(a.outputs, b.outputs)


def test_block_size_does_not_change_counts():
    nest = toy_nest()
    for ready in (False, True):
        ref = simulate(nest, True, ready)
        for block in (8, 64, 225, 1 << 20):
            res = simulate(nest, True, ready, block_iterations=block)
            assert res.element_accesses() == ref.element_accesses()
