"""`zz-event sweep`: spec and key paths, one-line errors, rows, failures, kill / resume on a 2-worker Dask cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import INPUTS, ROOT

from zz_event.sweep import SweepSpecError, load, load_failures, run_sweep
from zz_event.sweep.cluster import local_cluster
from zz_event.sweep.keypath import KeyPathError, get_path, set_path
from zz_event.sweep.plan import plan_sweep
from zz_event.sweep.plots import draw_sweep, pareto_front
from zz_event.sweep.rows import RUN_COLUMNS
from zz_event.sweep.spec import read_spec

TOY = INPUTS / "toy"
LENET = INPUTS / "lenet5" / "lenet5.onnx"
SIZE = "hw.operational_array.sizes[0]"
STREAM_HW = INPUTS / "stream" / "hardware" / "dual_core.yaml"


def write_spec(folder: Path, axes: dict, **base) -> Path:
    spec = {
        "base": {"workload": str(TOY / "workload.yaml"), "accelerator": str(TOY / "hardware.yaml"),
                 "mapping": str(TOY / "mapping_lenet5.yaml"), "lpf_limit": 3, **base},
        "axes": axes,
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


SMALL_AXES = {  # 2 array sizes x 2 modes x (toy layer, LeNet-5 conv1 + conv2): 8 points
    "hardware": {"operational_array.sizes[0]": [4, 8]},
    "mode": ["event", "event-raw"],
    "workload": [str(TOY / "workload.yaml"), {"path": str(LENET), "layers": ["conv1", "conv2"]}],
}


# --- key paths and the spec --------------------------------------------------------------------------------------


def test_key_paths_set_existing_entries_of_the_same_type_only():
    data = yaml.safe_load((TOY / "hardware.yaml").read_text())
    assert set_path(data, "operational_array.sizes[0]", 4) == 4
    assert get_path(data, "operational_array.sizes") == [4]
    assert set_path(data, "operational_array.unit_energy", 1) == 1.0  # an int may stand for a float
    assert isinstance(get_path(data, "operational_array.unit_energy"), float)
    assert set_path(data, "memories.sram_256KB.ports[1].bandwidth_max", 64) == 64
    with pytest.raises(KeyPathError, match=r"no key 'sram' in memories \(it has sram_inputs_256KB, sram_256KB\)"):
        set_path(data, "memories.sram.size", 1)
    with pytest.raises(KeyPathError, match=r"operational_array.sizes is a list of 1, no index \[1\]"):
        set_path(data, "operational_array.sizes[1]", 4)
    with pytest.raises(KeyPathError, match="value '8' is a str; the file has 4 \\(int\\)"):
        set_path(data, "operational_array.sizes[0]", "8")
    with pytest.raises(KeyPathError, match="malformed"):
        set_path(data, "operational_array..sizes", 8)


def test_spec_points_are_every_combination_first_axis_slowest(tmp_path):
    axes = {"hardware": {"operational_array.sizes[0]": [4, 8],
                         "bw": {"paths": ["memories.sram_256KB.ports[0].bandwidth_min",
                                          "memories.sram_256KB.ports[0].bandwidth_max"], "values": [64, 128]}},
            "mode": ["event", "frame-WS", "event-raw"]}  # fmt: skip
    plan = plan_sweep(write_spec(tmp_path, axes))
    assert len(plan.jobs) == 12
    params = [dict(job.params) for job in plan.jobs]
    assert [(p[SIZE], p["hw.bw"], p["mode"]) for p in params[:4]] == [
        (4, 64, "event"), (4, 64, "frame-WS"), (4, 64, "event-raw"), (4, 128, "event")]
    accelerator = yaml.safe_load(plan.jobs[3].accelerator)
    assert get_path(accelerator, "memories.sram_256KB.ports[0].bandwidth_min") == 128
    assert get_path(accelerator, "memories.sram_256KB.ports[0].bandwidth_max") == 128
    assert len({job.key for job in plan.jobs}) == 12
    assert [job.key for job in plan_sweep(tmp_path / "spec.yaml").jobs] == [job.key for job in plan.jobs]


def test_the_key_follows_file_contents_not_paths(tmp_path):
    copy = tmp_path / "elsewhere" / "hw.yaml"
    copy.parent.mkdir()
    copy.write_text((TOY / "hardware.yaml").read_text())
    first = plan_sweep(write_spec(tmp_path / "a", {"mode": ["event"]})).jobs[0]
    moved = plan_sweep(write_spec(tmp_path / "b", {"mode": ["event"]}, accelerator=str(copy))).jobs[0]
    assert moved.key == first.key
    copy.write_text((TOY / "hardware.yaml").read_text().replace("r_cost: 10.5", "r_cost: 11.5", 1))
    changed = plan_sweep(write_spec(tmp_path / "c", {"mode": ["event"]}, accelerator=str(copy))).jobs[0]
    assert changed.key != first.key


@pytest.mark.parametrize(
    ("axes", "base", "message"),
    [
        ({"hardware": {"operational_array.size[0]": [4]}}, {}, "no key 'size' in operational_array"),
        ({"hardware": {"operational_array.sizes[0]": [4, "8"]}}, {}, "value '8' is a str"),
        ({"hardware": {"memories.sram_256KB.ports[0].type": ["sideways"]}}, {}, "unallowed value sideways"),
        ({"mode": ["event", "skipping"]}, {}, "zero handling (dense, gating, skipping) is not available yet"),
        ({"mode": ["evnet"]}, {}, "'evnet' is an unknown mode"),
        ({"mode": ["exact-dense"]}, {"stream_hardware": str(STREAM_HW)}, "mode 'exact-dense' is not a Stream mode"),
        ({"mode": ["frame"]}, {"stream_hardware": str(STREAM_HW)}, "a Stream point runs a whole ONNX network"),
        ({"mode": ["frame"]}, {}, "mode 'frame' is a Stream mode"),
        ({"data": ["mnist.npz"]}, {}, "the data axis (--data sources"),
        ({"mode": ["event"]}, {"mapping": "missing.yaml"}, "base.mapping: no such file missing.yaml"),
        ({"workload": [{"path": str(LENET), "layers": ["conv9"]}]}, {}, "layers conv9 are not MAC layers"),
    ],
)
def test_a_bad_spec_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, axes, base, message):
    from zz_event.cli import main

    spec = write_spec(tmp_path, axes, **base)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"zz-event: error: {spec}: "), err
    assert message in err
    assert not out.exists()


def test_spec_errors_name_the_spec_file(tmp_path):
    with pytest.raises(SweepSpecError, match="no such sweep spec"):
        read_spec(tmp_path / "absent.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(SweepSpecError, match=r"list.yaml: a sweep spec is a mapping"):
        read_spec(tmp_path / "list.yaml")


def test_stream_key_paths_reach_the_top_file_or_one_core(tmp_path):
    axes = {"hardware": {"cores.0.operational_array.sizes[0]": [4], "core_connectivity[6].bandwidth": [64]}}
    spec = write_spec(tmp_path, axes, workload=str(LENET), stream_hardware=str(STREAM_HW), mode="frame")
    (job,) = plan_sweep(spec).jobs
    top, cores = yaml.safe_load(job.accelerator), {name: yaml.safe_load(text) for name, text in job.stream_cores}
    assert top["cores"] == {i: f"./cores/core_{i}.yaml" for i in range(5)}
    assert get_path(top, "core_connectivity[6].bandwidth") == 64
    assert get_path(cores["core_0.yaml"], "operational_array.sizes") == [4]
    assert get_path(cores["core_1.yaml"], "operational_array.sizes") == [8]  # core 1 shared core 0's file
    assert dict(job.params)["stream_hardware"] == os.path.relpath(STREAM_HW, tmp_path)
    assert dict(job.params)["accelerator"] == ""  # the base's ZigZag accelerator plays no part in a Stream point
    with pytest.raises(SweepSpecError, match=r"no core 7 \(the accelerator has cores 0, 1, 2, 3, 4\)"):
        plan_sweep(write_spec(tmp_path / "bad", {"hardware": {"cores.7.operational_array.sizes[0]": [4]}},
                              workload=str(LENET), stream_hardware=str(STREAM_HW), mode="frame"))  # fmt: skip


def test_a_named_axis_sets_several_options_together(tmp_path):
    stream = INPUTS / "stream"
    cores = [{"label": n, "stream_hardware": str(stream / "hardware" / f"{name}_core.yaml"),
              "stream_mapping": str(stream / "mapping" / f"lenet5_{n}core.yaml")}
             for n, name in ((1, "single"), (2, "dual"))]  # fmt: skip
    plan = plan_sweep(write_spec(tmp_path, {"cores": cores, "mode": ["frame", "event"]}, workload=str(LENET)))
    params = [dict(job.params) for job in plan.jobs]
    assert [(p["cores"], Path(p["stream_mapping"]).name, p["mode"]) for p in params] == [
        (1, "lenet5_1core.yaml", "frame"), (1, "lenet5_1core.yaml", "event"),
        (2, "lenet5_2core.yaml", "frame"), (2, "lenet5_2core.yaml", "event")]
    assert all(job.is_stream for job in plan.jobs) and len({job.key for job in plan.jobs}) == 4
    with pytest.raises(SweepSpecError, match="an option is varied by two axes"):
        plan_sweep(write_spec(tmp_path / "twice", {"cores": cores, "stream_mapping": [cores[0]["stream_mapping"]]},
                              workload=str(LENET)))  # fmt: skip


@pytest.mark.parametrize("spec", sorted((INPUTS / "sweeps").glob("*.yaml")), ids=lambda p: p.name)
def test_the_example_specs_are_valid(spec):
    assert len(plan_sweep(spec).jobs) == {"toy_array.yaml": 8, "toy_memory.yaml": 18, "lenet5_cores.yaml": 9}[spec.name]


# --- points and rows ---------------------------------------------------------------------------------------------


def test_points_match_the_front_door_and_the_seed_counts(tmp_path):
    from zz_event.zigzag.front_door import run_zigzag_event_driven

    spec = write_spec(tmp_path, {"hardware": {"operational_array.sizes[0]": [4, 8]}, "mode": ["event", "event-raw"]})
    run = run_sweep(spec, tmp_path / "out", workers=0)
    assert (run.points, run.ran, run.failed) == (4, 4, 0)
    table = load(tmp_path / "out")
    layers = table[table["kind"] == "layer"].set_index([SIZE, "mode"])
    assert list(table["kind"]) == ["layer", "network"] * 4
    assert (layers["raw_macs"] == 1800).all() and (layers["corrected_macs"] == 648).all()
    assert layers.loc[(8, "event"), "macs"] == 648 and layers.loc[(8, "event-raw"), "macs"] == 1800
    assert layers.loc[(8, "event"), "latency_cycles"] == 81 and layers.loc[(4, "event"), "latency_cycles"] == 162
    energy, _latency, _cmes = run_zigzag_event_driven(
        str(TOY / "workload.yaml"), str(TOY / "hardware.yaml"), str(TOY / "mapping_lenet5.yaml"), lpf_limit=3,
        dump_folder=str(tmp_path / "api"), loma_show_progress_bar=False)  # fmt: skip
    assert layers.loc[(8, "event"), "energy_pj"] == energy
    network = table[table["kind"] == "network"]
    assert network["words_W"].dtype == "Int64" and (network["words_W"] > 0).all()
    assert set(network["workload_sha256"]) == {plan_sweep(spec).jobs[0].input_hashes[0][1]}

    import pyarrow.parquet as pq

    schema = pq.read_table(tmp_path / "out" / "sweep.parquet").schema  # plain Parquet: no zz-event or pandas needed
    assert {str(t) for t in schema.types} <= {"int64", "double", "bool", "string", "large_string"}
    assert schema.field("macs").type == "int64" and schema.field("corrected_energy_pj").type == "double"

    written = draw_sweep(table, tmp_path / "plots")
    assert [p.name for p in written] == ["energy_latency_vs_hw_operational_array_sizes_0.png", "pareto.png",
                                         "sweep_report.md"]  # fmt: skip
    report = (tmp_path / "plots" / "sweep_report.md").read_text()
    assert report.count("| yes |") == 1  # event on 8 MACs: fastest and least energy of the four


def test_the_pareto_front_keeps_the_points_no_other_beats_in_both():
    frame = pd.DataFrame({"latency_cycles": [10, 20, 30, 15, 40], "energy_pj": [9.0, 5.0, 1.0, 9.5, 1.0]})
    assert list(pareto_front(frame).index) == [0, 1, 2]


def test_a_failed_point_is_recorded_the_sweep_goes_on_and_a_rerun_retries_it(tmp_path, monkeypatch):
    from zz_event.sweep import task  # run_job as the task calls it

    spec = write_spec(tmp_path, {"hardware": {"operational_array.sizes[0]": [4, 8]}})
    real = task.run_job

    def fails_at_size_4(job):
        if dict(job.params)[SIZE] == 4:
            raise RuntimeError("injected failure")
        return real(job)

    monkeypatch.setattr(task, "run_job", fails_at_size_4)
    run = run_sweep(spec, tmp_path / "out", workers=0)
    assert (run.ran, run.failed) == (2, 1)
    assert list(load(tmp_path / "out")[SIZE].unique()) == [8]
    failures = load_failures(tmp_path / "out")
    assert list(failures[SIZE]) == [4] and failures["error"][0] == "RuntimeError: injected failure"
    monkeypatch.setattr(task, "run_job", real)
    stale = tmp_path / "out" / "points" / ".abc.parquet.x1.tmp"  # as a point killed mid-write leaves it
    stale.write_bytes(b"partial")
    rerun = run_sweep(spec, tmp_path / "out", workers=0)
    assert not stale.exists()
    assert (rerun.skipped, rerun.ran, rerun.failed) == (1, 1, 0)
    assert list(load(tmp_path / "out")[SIZE].unique()) == [4, 8]
    assert load_failures(tmp_path / "out").empty


def test_a_point_zigzag_cannot_map_fails_alone(tmp_path):
    spec = write_spec(tmp_path, {"hardware": {"memories.sram_256KB.size": [64, 2097152]}})  # 64 bits hold no tile
    run = run_sweep(spec, tmp_path / "out", workers=0)
    assert (run.ran, run.failed) == (2, 1)
    failures = load_failures(tmp_path / "out")
    assert list(failures["hw.memories.sram_256KB.size"]) == [64]
    # ZigZag's NoValidLoopOrderingFoundException, turned into one line naming the layer (zz_event.zigzag.pipeline)
    assert failures["error"][0].startswith("MappingError: layer 'conv_layer': ZigZag's LOMA found no valid temporal")
    assert list(load(tmp_path / "out")["hw.memories.sram_256KB.size"].unique()) == [2097152]


def test_frame_modes_cost_the_same_layers_output_centric(tmp_path):
    spec = write_spec(tmp_path, {"mode": ["frame-WS", "frame-OS"]})
    run_sweep(spec, tmp_path / "out", workers=0)
    layers = load(tmp_path / "out").query("kind == 'layer'").set_index("mode")
    assert list(layers["layer"]) == ["conv_layer", "conv_layer"]
    assert (layers["macs"] == 648).all()  # the valid output's 3x3x8 outputs x 9 taps: dense frame work
    assert layers["corrected_energy_pj"].isna().all() and not layers["corrected"].any()
    assert layers.loc["frame-WS", "temporal_ordering"].split()[0][:2] in ("OY", "OX")
    assert layers.loc["frame-OS", "temporal_ordering"].split()[0][:2] in ("FY", "FX")


def test_stream_rows_are_node_x_core_costs_and_stream_totals():
    from types import SimpleNamespace as NS

    from zz_event.sweep.rows import point_rows

    conv = NS(node="conv1", core=0, macs=648, latency_cycles=81.0, energy_pj=2889.72, backend="zz_event",
              word_accesses={"W": 77, "I": 25, "O": 153}, spatial_mapping="D1: K 8",
              metadata={"backend": "zz_event", "costing": "event-driven", "raw_macs": 1800,
                        "raw_latency_cycles": 225.0, "raw_energy_pj": 7939.5})  # fmt: skip
    relu = NS(node="relu1", core=3, macs=72, latency_cycles=9.0, energy_pj=10.0, backend="zz_event",
              word_accesses={"I": 72, "O": 72}, spatial_mapping="", metadata={"backend": "zz_event"})  # fmt: skip
    summary = NS(mode="event", nodes=(conv, relu), total_latency_cycles=95.0, total_energy_pj=3000.0)
    job = NS(is_stream=True, key="k", index=0, params=(("mode", "event"),))
    provenance = dict.fromkeys(("zz_event_version", "zigzag_version", "stream_version", "commit", "workload_sha256",
                                "accelerator_sha256", "mapping_sha256", "finished_at"), "x")  # fmt: skip
    rows = point_rows(job, summary, {**provenance, "wall_time_s": 1.0, "cpu_time_s": 1.0}).set_index("layer")
    assert list(rows.index) == ["conv1", "relu1", "(network)"] and list(rows["core"][:2]) == [0, 3]
    assert rows.loc["conv1", "corrected"] and not rows.loc["relu1", "corrected"]
    assert rows.loc["conv1", "raw_energy_pj"] == 7939.5 and rows.loc["conv1", "corrected_macs"] == 648
    assert rows.loc["relu1", "words_W"] == 0  # a ReLU reads no weights
    assert rows.loc["(network)", "latency_cycles"] == 95.0  # Stream's schedule, not a sum of node latencies
    assert rows.loc["(network)", "macs"] == 720 and rows.loc["(network)", "words_O"] == 225
    assert pd.isna(rows.loc["(network)", "raw_energy_pj"])  # the ReLU has no raw figure


@pytest.mark.slow
def test_a_stream_point_is_what_zz_event_stream_reports(tmp_path):
    from zz_event.stream.runner import run_stream

    stream = INPUTS / "stream"
    spec = write_spec(tmp_path, {"mode": ["frame"]}, workload=str(LENET), stream_hardware=str(STREAM_HW),
                      stream_mapping=str(stream / "mapping" / "lenet5_2core.yaml"))  # fmt: skip
    run = run_sweep(spec, tmp_path / "out", workers=0)
    assert (run.ran, run.failed) == (1, 0)
    table = load(tmp_path / "out")
    direct = run_stream(STREAM_HW, LENET, stream / "mapping" / "lenet5_2core.yaml", "frame", tmp_path / "direct")
    network = table[table["kind"] == "network"].iloc[0]
    assert network["latency_cycles"] == direct.total_latency_cycles
    assert network["energy_pj"] == direct.total_energy_pj
    nodes = table[table["kind"] == "layer"]
    assert list(zip(nodes["layer"], nodes["core"], nodes["energy_pj"], strict=True)) == [
        (n.node, n.core, n.energy_pj) for n in direct.nodes]


# --- Dask: kill part-way, resume, and compare with a sequential run ----------------------------------------------


def _point_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (out / "points").glob("*.parquet")} if (out / "points").is_dir() else {}


def test_a_killed_dask_sweep_resumes_on_another_cluster_to_the_sequential_table(tmp_path):
    spec = write_spec(tmp_path, SMALL_AXES)
    out = tmp_path / "dask"
    command = [sys.executable, "-m", "zz_event.cli", "sweep", str(spec), "--out", str(out), "--workers", "2"]
    first = subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 300
    while not _point_files(out) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the CLI, its scheduler and its worker processes
    first.wait(timeout=60)
    kept = _point_files(out)
    assert 1 <= len(kept) < 8, "expected the sweep killed part-way"
    for name in kept:  # every file there is a whole point
        assert len(pd.read_parquet(out / "points" / name)) >= 2

    # The resume runs on an existing cluster, through --scheduler: the same sweep, no other change.
    with local_cluster(2) as cluster:
        resumed = subprocess.run([*command[:-2], "--scheduler", cluster.scheduler_address], check=False, cwd=ROOT,
                                 capture_output=True, text=True, timeout=600)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} already finished" in resumed.stdout
    assert (out / "plots" / "pareto.png").is_file()
    assert {name: data for name, data in _point_files(out).items() if name in kept} == kept  # not rerun

    sequential = run_sweep(spec, tmp_path / "sequential", workers=0)
    assert (sequential.ran, sequential.failed) == (8, 0)
    drop = list(RUN_COLUMNS)
    resumed_table, sequential_table = load(out).drop(columns=drop), load(tmp_path / "sequential").drop(columns=drop)
    assert len(sequential_table) == 20  # 4 toy points x (layer + network) + 4 LeNet-5 points x (2 + network)
    pd.testing.assert_frame_equal(resumed_table, sequential_table, check_exact=True)
    on_disk = pd.read_parquet(out / "sweep.parquet").drop(columns=drop)
    pd.testing.assert_frame_equal(on_disk, resumed_table, check_exact=True)
    lenet = sequential_table.query("layer == 'conv1' and mode == 'event'")
    assert (lenet["macs"] == 117600).all()
