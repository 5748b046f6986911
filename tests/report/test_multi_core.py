"""The report's multi-core part: the like-for-like table (frame vs event with the same spatial mapping and each at its
best, dense and on data) and the Stream runs the report plans for it."""

from __future__ import annotations

import types
from pathlib import Path

from zz_event.report import build as rb
from zz_event.report import multi_core as mc
from zz_event.stream import runner as sr


def _summary(latency: float, energy: float, unrolling: str = "") -> dict:
    node = {"node": "conv1", "core": 0, "word_accesses": {"W": 1, "I": 1, "O": 1}, "spatial_mapping": unrolling}
    return {"total_latency_cycles": latency, "total_energy_pj": energy, "nodes": [node]}


def test_the_table_compares_each_event_run_with_frame_on_the_same_cores():
    stream = {
        (1, "frame"): _summary(1000, 2e6, "D1: FY 2 x FX 2 x OX 2"),
        (1, mc.SAME): _summary(1250, 2.1e6, "D1: FY 2 x FX 2 x IX 2"),
        (1, "event"): _summary(900, 1.9e6, "D1: K 2 x IX 2 x FX 2"),
        (2, "frame"): _summary(600, 2e6),
        (2, "event"): _summary(660, 2e6),
    }
    lines = mc.like_for_like(stream)
    assert lines[0] == ("| compute cores | frame | event, same spatial mapping | event, each at its best |")
    assert lines[2] == ("| 1 | 1,000 cycles, 2.00 uJ | 1,250 cycles, 2.10 uJ (+25.0 % latency) | "
                        "900 cycles, 1.90 uJ (-10.0 % latency) |")  # fmt: skip
    assert lines[3] == "| 2 | 600 cycles, 2.00 uJ | not run | 660 cycles, 2.00 uJ (+10.0 % latency) |"
    table = mc.unrolling_table(stream, 1)
    assert table[0] == f"| layer | frame | {mc.SAME} | event |"
    assert table[2] == "| conv1 | D1: FY 2 x FX 2 x OX 2 | D1: FY 2 x FX 2 x IX 2 | D1: K 2 x IX 2 x FX 2 |"


def test_data_columns_appear_only_with_data_runs():
    stream = {(1, "frame"): _summary(1000, 2e6), (1, "event"): _summary(900, 2e6),
              (1, mc.DATA): _summary(300, 1e6), (1, mc.SAME_DATA): _summary(400, 1e6)}  # fmt: skip
    header = mc.like_for_like(stream)[0]
    assert header.endswith("| event, each at its best | event, same spatial mapping, data | event, each at its best, "
                           "data |")  # fmt: skip
    assert mc.like_for_like({(1, "event"): _summary(1, 1)}) == []  # nothing to compare with


def test_the_report_plans_frame_with_the_same_mapping_run_and_the_data_runs(tmp_path):
    options = rb.ReportOptions(cores=(1, 4), stream_data=str(tmp_path / "x.npy"), calibration=2, padded_layers=())
    tasks = rb._tasks(options, tmp_path)
    for cores in (1, 4):
        fn, (job, case, _out, label) = tasks[f"stream {cores} frame"]
        assert fn is rb._labelled and job is mc.same_mapping_job and label is None
        assert case.mode == "frame" and case.data == options.stream_data and case.calibration == 2
        _fn, (job, case, _out, label) = tasks[f"stream {cores} event"]
        assert job is mc.stream_job and label == "event" and case.data is None  # the dense run stays dense
        _fn, (job, case, out, label) = tasks[f"stream {cores} {mc.DATA}"]
        assert job is mc.stream_job and label == mc.DATA and case.data == options.stream_data and case.mode == "event"
        assert Path(out).name == f"{cores}core_data"
    dense = rb._tasks(rb.ReportOptions(cores=(2,), padded_layers=()), tmp_path)
    assert not any(mc.DATA in name for name in dense)
    assert dense["stream 2 frame"][1][0] is mc.same_mapping_job


def test_the_same_mapping_job_gives_frames_unrollings_to_the_event_runs(monkeypatch, tmp_path):
    calls = []
    frame_nodes = (sr.NodeCost(0, "conv1", 0, 1.0, 1.0, "zigzag", word_accesses={"W": 1},
                               spatial_unrolling={"D1": {"FY": 2, "FX": 2, "OX": 2}}),)  # fmt: skip

    def fake_run(hardware, workload, mapping, mode, out, options=None, **kwargs):
        calls.append((mode, Path(out).name, kwargs))
        return types.SimpleNamespace(nodes=frame_nodes, to_json=lambda: {"mode": mode, "out": Path(out).name})

    monkeypatch.setattr(mc, "run_stream", fake_run)
    case = mc.StreamCase(1, "frame", "w.onnx", str(tmp_path), data="x.npy", calibration=2)
    found = mc.same_mapping_job(case, str(tmp_path))
    assert set(found) == {"frame", mc.SAME, mc.SAME_DATA}
    unrollings = {"conv1": {"D1": {"FY": 2, "FX": 2, "OX": 2}}}
    assert calls == [("frame", "frame", {}), ("event", "same", {"unrollings": unrollings}),
                     ("event", "same_data", {"unrollings": unrollings, "data": "x.npy", "calibration": 2})]  # fmt: skip
