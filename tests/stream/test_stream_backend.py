"""zz-event's Stream core-cost backend: the seam's contract (after Stream's own conformance kit,
tests/unit/test_conformance_core_cost_backends.py in stream-dse), cache separation between costing modes, and
frame-mode runs of real workloads through zz_event.stream.runner."""

from __future__ import annotations

import copy
import json
import os
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from stream.cost_model.core_cost import CoreCostEntry
from stream.hardware.architecture.core import Core
from stream.stages.estimation.core_cost_backends import (
    AIE_BACKEND,
    ZIGZAG_BACKEND,
    OperandLayoutSource,
    PortTrafficSource,
    ZigZagBackend,
    discover_backends,
    select_backend,
)

from zz_event.stream import backend as sb
from zz_event.stream import runner as sr

ROOT = Path(__file__).resolve().parents[2]
STREAM_INPUTS = ROOT / "inputs" / "stream"
LENET5 = ROOT / "inputs" / "lenet5" / "lenet5.onnx"
SINGLE = STREAM_INPUTS / "hardware" / "single_core.yaml"


def _fake_core(core_type: str) -> Core:
    """A minimal core carrying only the fields a backend's ``claims`` reads (as Stream's kit builds it)."""
    core = Core.__new__(Core)
    core.id = 0
    core.core_type = core_type
    core.type = core_type.rsplit(".", maxsplit=1)[-1]
    return core


@pytest.fixture
def event_mode(monkeypatch):
    monkeypatch.setenv(sb.MODE_ENV, "event")


# --- the contract ---------------------------------------------------------------------------------------------


def test_backend_is_registered_through_the_entry_point():
    found = {b.name: b for b in discover_backends()}
    assert {"aie", "zigzag", sb.BACKEND_NAME} <= set(found), "reinstall: pip install -e ."
    backend = found[sb.BACKEND_NAME]
    assert backend is sb.ZZ_EVENT_BACKEND
    assert isinstance(backend.name, str) and isinstance(backend.priority, int)
    assert ZIGZAG_BACKEND.priority < backend.priority < AIE_BACKEND.priority
    assert callable(backend.claims) and callable(backend.make)


def test_backend_keeps_zigzag_port_traffic_and_layouts():
    assert isinstance(sb.ZZ_EVENT_BACKEND, ZigZagBackend)
    assert isinstance(sb.ZZ_EVENT_BACKEND, PortTrafficSource)
    assert isinstance(sb.ZZ_EVENT_BACKEND, OperandLayoutSource)


@pytest.mark.parametrize("mode", ["", "frame", "event-raw", "event"])
def test_claims_returns_bool_for_every_core_type(monkeypatch, mode):
    monkeypatch.setenv(sb.MODE_ENV, mode)
    for core_type in ("aie2.compute", "aie2.memory", "zigzag.compute", "zigzag.offchip", "compute"):
        verdict = sb.ZZ_EVENT_BACKEND.claims(_fake_core(core_type))
        assert isinstance(verdict, bool)
        assert verdict == (mode in sb.EVENT_MODES and core_type == "zigzag.compute")


def test_claims_is_cheap_and_imports_nothing_heavy(monkeypatch, event_mode):
    for heavy in ("zz_event.zigzag.front_door", "zz_event.stream.costing"):
        monkeypatch.delitem(sys.modules, heavy, raising=False)
    assert sb.ZZ_EVENT_BACKEND.claims(_fake_core("zigzag.compute")) is True
    assert "zz_event.zigzag.front_door" not in sys.modules and "zz_event.stream.costing" not in sys.modules


def test_stock_selection_is_unaffected_without_the_mode(monkeypatch):
    monkeypatch.delenv(sb.MODE_ENV, raising=False)
    for core_type in ("zigzag.compute", "zigzag.offchip", "compute"):
        assert select_backend(_fake_core(core_type)).name == "zigzag"
    assert select_backend(_fake_core("aie2.compute")).name == "aie"
    monkeypatch.setenv(sb.MODE_ENV, "frame")
    assert select_backend(_fake_core("zigzag.compute")).name == "zigzag"


def test_event_mode_selects_zz_event_for_zigzag_compute_cores_only(event_mode):
    assert select_backend(_fake_core("zigzag.compute")).name == sb.BACKEND_NAME
    assert select_backend(_fake_core("zigzag.offchip")).name == "zigzag"
    assert select_backend(_fake_core("aie2.compute")).name == "aie"


def test_an_unknown_mode_is_an_error(monkeypatch):
    monkeypatch.setenv(sb.MODE_ENV, "evnt")
    with pytest.raises(sb.StreamBackendError, match="not a costing mode"):
        sb.active_mode()
    assert sb.ZZ_EVENT_BACKEND.claims(_fake_core("zigzag.compute")) is False


def test_make_refuses_to_run_outside_an_event_mode(monkeypatch):
    monkeypatch.setenv(sb.MODE_ENV, "frame")
    with pytest.raises(sb.StreamBackendError, match="frame"):
        sb.ZZ_EVENT_BACKEND.make(types.SimpleNamespace())


# --- produced entries -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_cme(tmp_path_factory):
    """A real ZigZag CME of the toy layer (seeds/002), as the engine's result stands in for."""
    from zigzag.api import get_hardware_performance_zigzag

    toy = ROOT / "inputs" / "toy"
    *_, cmes = get_hardware_performance_zigzag(
        str(toy / "workload.yaml"), str(toy / "hardware.yaml"), str(toy / "mapping.yaml"),
        dump_folder=str(d := tmp_path_factory.mktemp("toy")), pickle_filename=str(d / "cmes.pickle"),
        loma_show_progress_bar=False,
    )  # fmt: skip
    return cmes[0][1][0][0]  # the layer's CME (cmes[0][0] is the cumulative one)


def test_entry_from_cme_carries_costs_tag_and_raw_values(toy_cme):
    cme = copy.copy(toy_cme)
    cme.raw = {"latency_cycles": 225.0, "energy_pj": 7939.5, "macs": 1800, "word_accesses": {"W": []}}
    node = types.SimpleNamespace(name="conv1", type="Conv")
    entry = sb.entry_from_cme(cme, node, "event")
    assert isinstance(entry, CoreCostEntry)
    assert entry.energy_total == pytest.approx(cme.energy_total)
    assert entry.latency_total == pytest.approx(cme.latency_total2 - cme.systolic_drain_cycle)
    assert entry.cme is cme and entry.mapping is cme.mapping and entry.layer is node
    assert entry.metadata["backend"] == sb.BACKEND_NAME and entry.metadata["zz_event_mode"] == "event"
    assert entry.metadata["raw_macs"] == 1800 and entry.metadata["raw_energy_pj"] == 7939.5
    assert "raw_word_accesses" not in entry.metadata  # only scalars: Stream's yaml summary dumps metadata
    assert entry.metadata["drain_cycles"] == cme.systolic_drain_cycle
    assert sb.ZZ_EVENT_BACKEND.port_traffic(entry), "the corrected CME must feed Stream's port traffic"


@pytest.mark.parametrize("field", ["energy_total", "latency_total2"])
@pytest.mark.parametrize("value", [0.0, float("nan"), -1.0])
def test_entry_from_cme_never_passes_a_zero_or_broken_cost(toy_cme, field, value):
    cme = copy.copy(toy_cme)
    setattr(cme, field, value)
    with pytest.raises(sb.StreamBackendError, match="finite positive"):
        sb.entry_from_cme(cme, types.SimpleNamespace(name="conv1"), "event")


def test_entry_from_cme_rejects_what_is_not_a_cme():
    with pytest.raises(sb.StreamBackendError, match="CostModelEvaluation"):
        sb.entry_from_cme((1.0, 2.0, {}), types.SimpleNamespace(name="conv1"), "event")


# --- the engine's view of Stream's nodes ------------------------------------------------------------------------


def _layers(onnx_path: Path, tmp_path: Path):
    from stream.frontends import load_workload
    from stream.stages.estimation.zigzag_cost_estimator import ZigZagCostEstimator
    from stream.stages.parsing.accelerator_parser import parse_accelerator

    accelerator = parse_accelerator(str(SINGLE))
    prepared, _ = sr.prepare_onnx(onnx_path, tmp_path / "w.onnx")
    workload = load_workload(str(prepared))
    estimator = ZigZagCostEstimator(workload=workload, accelerator=accelerator, mapping=None)
    core = accelerator.get_core(0)
    return {n.name: (n, estimator.get_layer_node(n, core)) for n in workload.get_computation_nodes()}


@pytest.mark.skipif(not LENET5.exists(), reason="inputs/lenet5/make_lenet5.py has not been run")
def test_conv_view_names_streams_dims_and_recovers_the_geometry(tmp_path):
    layers = _layers(LENET5, tmp_path)
    view = sb.conv_view(*layers["conv1"])
    assert view.dim_names == {
        "D0": "B", "D1": "OX", "D2": "OY", "D3": "FX", "D4": "FY", "D5": "C", "D6": "K", "D7": "IY", "D8": "IX"
    }  # fmt: skip
    g = view.geometry
    assert (g.B, g.K, g.C, g.y.inp, g.y.kernel, g.OY, g.OX) == (1, 6, 1, 32, 5, 28, 28)
    assert sb.conv_view(*layers["conv2"]).geometry.frame_macs() == 16 * 6 * 10 * 10 * 25
    fc1 = sb.conv_view(*layers["fc1"])
    assert (fc1.geometry.K, fc1.geometry.C) == (120, 400)
    assert sorted(fc1.dim_names.values()) == ["B", "C", "C1", "C2", "K"]
    with pytest.raises(sb.UnsupportedLayerError):
        sb.conv_view(*layers["relu1"])


@pytest.mark.skipif(not (LENET5.parent / "lenet5_pad2_28.onnx").exists(), reason="padded LeNet-5 not generated")
def test_conv_view_keeps_the_padding_stream_drops_from_its_zigzag_layer(tmp_path):
    node, layer = _layers(LENET5.parent / "lenet5_pad2_28.onnx", tmp_path)["conv1"]
    assert not layer.padding.data or all(p == (0, 0) for p in layer.padding.data.values())
    g = sb.conv_view(node, layer).geometry
    assert (g.y.pad_before, g.y.pad_after, g.OY) == (2, 2, 28)
    assert g.valid_macs() == 107_736 and g.frame_macs() == 117_600  # design.md's numbers


# --- cache separation between modes -----------------------------------------------------------------------------


def _entry(backend: str, mode: str | None = None) -> CoreCostEntry:
    meta = {"backend": backend} | ({"zz_event_mode": mode} if mode else {})
    return CoreCostEntry(energy_total=1.0, latency_total=1.0, ideal_cycle=1.0, ideal_temporal_cycle=1.0, metadata=meta)


def _write_lut(path: Path, entries: list[CoreCostEntry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lut = {"conv1": dict(enumerate(entries))}  # stand-ins for ComputationNode and Core keys
    with path.open("wb") as fp:
        pickle.dump({"version": 1, "lut": lut}, fp)


@pytest.mark.parametrize(
    ("entries", "mode", "foreign"),
    [
        ([_entry("zigzag")], "frame", False),
        ([_entry("zigzag")], "event", True),
        ([_entry("ideal-cycle")], "event-raw", True),
        ([_entry("zz_event", "event")], "event", False),
        ([_entry("zz_event", "event-raw")], "event", True),
        ([_entry("zz_event", "event")], "event-raw", True),
        ([_entry("zz_event", "event")], "frame", True),
        ([_entry("zz_event", "event"), _entry("zigzag")], "event", True),
    ],
)
def test_a_cache_is_reused_only_in_the_mode_that_wrote_it(tmp_path, entries, mode, foreign):
    lut = tmp_path / "stream_x" / "group_0" / "core_cost_lut.pickle"
    _write_lut(lut, entries)
    lut.with_suffix(".yaml").write_text("nodes: []\n")
    purged = sr._purge_foreign_caches(tmp_path / "stream_x", mode)
    assert (purged == [str(lut)]) is foreign
    assert lut.exists() is not foreign and lut.with_suffix(".yaml").exists() is not foreign


def test_an_unreadable_cache_is_purged(tmp_path):
    lut = tmp_path / "group_0" / "core_cost_lut.pickle"
    lut.parent.mkdir()
    lut.write_bytes(b"not a pickle")
    assert sr._purge_foreign_caches(tmp_path, "frame") == [str(lut)]


def _tiny_conv(path: Path) -> Path:
    """One 3x3 convolution, 1->8 channels on 8x8, and a Relu: a Stream run of a few seconds."""
    w = numpy_helper.from_array(np.ones((8, 1, 3, 3), np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 6, 6])], [w],
    )  # fmt: skip
    model = onnx.shape_inference.infer_shapes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    onnx.save(model, str(path))
    return path


def _stub_engine(calls: list):
    """Stands in for zz_event.stream.costing.cost_node_event_driven: ZigZag's own CME at half the energy, with raw
    figures."""

    def engine(node, core, *, layer, mode, search):
        from zigzag.stages.main import MainStage

        calls.append((node.name, mode, search, sb.conv_view(node, layer).geometry.OY))
        # ZigZagCostEstimator's flow, run on the ZigZag accelerator the seam receives
        from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
        from zigzag.stages.mapping.spatial_mapping_generation import SpatialMappingGeneratorStage
        from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage
        from zigzag.stages.results.reduce_stages import MinimalLatencyStage

        flow = [MinimalLatencyStage, SpatialMappingGeneratorStage, MinimalLatencyStage, TemporalMappingGeneratorStage,
                CostModelStage]  # fmt: skip
        (cme, _), = MainStage(
            flow, layer=copy.deepcopy(layer), accelerator=core, loma_lpf_limit=search.loma_lpf_limit,
            loma_show_progress_bar=False, temporal_mapping_type=search.temporal_mapping_type,
            nb_mappings_generated=search.nb_spatial_mappings_generated, enable_mix_spatial_mapping_generation=False,
        ).run()  # fmt: skip
        corrected = copy.copy(cme)
        corrected.raw = {"energy_pj": float(cme.energy_total), "latency_cycles": float(cme.latency_total2)}
        corrected.energy_total = cme.energy_total / 2
        return corrected

    return engine


def test_modes_never_share_a_cost_cache_end_to_end(tmp_path, monkeypatch):
    import zz_event.stream.costing

    calls: list = []
    monkeypatch.setattr(zz_event.stream.costing, "cost_node_event_driven", _stub_engine(calls))
    monkeypatch.delenv(sb.MODE_ENV, raising=False)
    onnx_path = _tiny_conv(tmp_path / "tiny.onnx")
    options = sr.StreamRunOptions(artifacts=False)

    frame = sr.run_stream(SINGLE, onnx_path, None, "frame", tmp_path / "out", options)
    event = sr.run_stream(SINGLE, onnx_path, None, "event", tmp_path / "out", options)
    assert [c[:2] for c in calls] == [("conv", "event")] and calls[0][3] == 6
    again = sr.run_stream(SINGLE, onnx_path, None, "frame", tmp_path / "out", options)

    assert sb.MODE_ENV not in os.environ, "the runner must restore the environment"
    assert {n.backend for n in frame.nodes} == {"zigzag"} == {n.backend for n in again.nodes}
    assert {n.backend for n in event.nodes} == {sb.BACKEND_NAME}
    assert all(n.metadata["zz_event_mode"] == "event" for n in event.nodes)
    assert Path(frame.stream_dir) != Path(event.stream_dir)
    by_node = {n.node: n for n in frame.nodes}
    conv = next(n for n in event.nodes if n.node == "conv")
    assert conv.energy_pj == pytest.approx(conv.metadata["raw_energy_pj"] / 2)  # the engine's value, raw kept
    relu = next(n for n in event.nodes if n.node == "relu")
    assert relu.energy_pj == pytest.approx(by_node["relu"].energy_pj) and relu.metadata["costing"].startswith("zigzag")
    assert again.nodes == frame.nodes and again.purged_caches == ()

    # A frame cache copied into the event directory is deleted, never reused.
    event_lut = Path(event.stream_dir) / "group_0" / "core_cost_lut.pickle"
    event_lut.write_bytes((Path(frame.stream_dir) / "group_0" / "core_cost_lut.pickle").read_bytes())
    rerun = sr.run_stream(SINGLE, onnx_path, None, "event", tmp_path / "out", options)
    assert rerun.purged_caches == (str(event_lut),)
    assert {n.backend for n in rerun.nodes} == {sb.BACKEND_NAME}
    assert json.loads((tmp_path / "out" / "stream_summary.json").read_text())["mode"] == "event"


def test_frame_mode_overrides_an_event_mode_left_in_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(sb.MODE_ENV, "event")
    summary = sr.run_stream(SINGLE, _tiny_conv(tmp_path / "t.onnx"), None, "frame", tmp_path / "o",
                            sr.StreamRunOptions(artifacts=False))  # fmt: skip
    assert {n.backend for n in summary.nodes} == {"zigzag"}
    assert os.environ[sb.MODE_ENV] == "event"


def test_event_mode_without_the_engine_is_an_error_not_a_zero(tmp_path, monkeypatch):
    import zz_event.stream.costing

    monkeypatch.delattr(zz_event.stream.costing, "cost_node_event_driven")
    with pytest.raises(sb.StreamBackendError, match="cost_node_event_driven"):
        sr.run_stream(SINGLE, _tiny_conv(tmp_path / "t.onnx"), None, "event-raw", tmp_path / "o",
                      sr.StreamRunOptions(artifacts=False))  # fmt: skip


# --- the runner -------------------------------------------------------------------------------------------------


def test_prepare_onnx_folds_transb_into_the_initializer(tmp_path):
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [numpy_helper.from_array(w, "w")],
    )  # fmt: skip
    src = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph), str(src))
    dst, rewrites = sr.prepare_onnx(src, tmp_path / "out.onnx")
    assert dst == tmp_path / "out.onnx" and rewrites == ["fc: transB=1 folded into initializer w"]
    model = onnx.load(str(dst))
    assert np.array_equal(numpy_helper.to_array(model.graph.initializer[0]), w.T)
    assert all(a.i == 0 for a in model.graph.node[0].attribute if a.name == "transB")
    assert sr.prepare_onnx(dst, tmp_path / "again.onnx") == (dst, [])


def test_run_stream_rejects_unknown_modes_and_missing_files(tmp_path):
    with pytest.raises(sr.ZzEventError, match="not one of"):
        sr.run_stream(SINGLE, LENET5, None, "events", tmp_path)
    with pytest.raises(sr.InputFileError, match="mapping file not found"):
        sr.run_stream(SINGLE, LENET5, tmp_path / "nope.yaml", "frame", tmp_path)


def _frame_run(tmp_path: Path, cores: int) -> sr.StreamSummary:
    arch = {1: "single_core", 2: "dual_core", 4: "quad_core"}[cores]
    return sr.run_stream(
        STREAM_INPUTS / "hardware" / f"{arch}.yaml", LENET5, STREAM_INPUTS / "mapping" / f"lenet5_{cores}core.yaml",
        "frame", tmp_path, sr.StreamRunOptions(artifacts=False),
    )  # fmt: skip


def _check_lenet5(summary: sr.StreamSummary, tmp_path: Path, compute_cores: int) -> None:
    written = json.loads((tmp_path / sr.SUMMARY_FILE).read_text())
    assert written["total_latency_cycles"] == summary.total_latency_cycles > 0
    assert written["total_energy_pj"] == pytest.approx(summary.total_energy_pj) and summary.total_energy_pj > 0
    assert summary.total_energy_pj == pytest.approx(summary.node_energy_pj + summary.transfer_energy_pj)
    assert summary.fallbacks == () and len(summary.group_latency_cycles) == 3
    assert summary.workload_rewrites and all("transB" in r for r in summary.workload_rewrites)
    names = {"conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc1", "relu3", "fc2", "relu4", "fc3"}
    assert {n["node"] for n in written["nodes"]} == names
    for row in written["nodes"]:
        assert set(row) >= {"node", "core", "latency_cycles", "energy_pj", "backend"}
        assert row["backend"] == "zigzag" and row["latency_cycles"] > 0 and row["energy_pj"] > 0
    conv_cores = {n.core for n in summary.nodes if n.node == "conv2"}
    assert len(conv_cores) == compute_cores


@pytest.mark.skipif(not LENET5.exists(), reason="inputs/lenet5/make_lenet5.py has not been run")
def test_frame_lenet5_single_core(tmp_path):
    summary = _frame_run(tmp_path, 1)
    _check_lenet5(summary, tmp_path, 1)
    conv1 = next(n for n in summary.nodes if n.node == "conv1")
    assert conv1.latency_cycles >= 117_600 / 8  # 8 MACs: never faster than its MACs allow


@pytest.mark.slow
@pytest.mark.skipif(not LENET5.exists(), reason="inputs/lenet5/make_lenet5.py has not been run")
@pytest.mark.parametrize("cores", [2, 4])
def test_frame_lenet5_multi_core(tmp_path, cores):
    summary = _frame_run(tmp_path, cores)
    _check_lenet5(summary, tmp_path, cores)
