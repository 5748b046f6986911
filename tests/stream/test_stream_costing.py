"""zz-event's per-core costing of Stream's MAC nodes (zz_event.stream.costing): the input-centric layer it builds
for a Stream node, its errors, and -- end to end through Stream -- that the corrected cost Stream uses for every
Conv node of LeNet-5 is what run_zigzag_event_driven() gives for the same layer on the same core.

Same core: the ZigZag part of inputs/stream/hardware/cores/toy_compute.yaml (its Stream-only `type` key removed)
is the accelerator run_zigzag_event_driven() gets. It differs from inputs/toy/hardware.yaml only by the write ports
serving `I1, fh` and `I2, fh`, which ZigZag never charges at the top level; the two give identical costs
(test_the_core_and_the_toy_hardware_cost_alike), so either would do."""

from __future__ import annotations

import math
import pickle
import types
from pathlib import Path

import pytest
import yaml
from zigzag.mapping.temporal_mapping import TemporalMappingType

from zz_event.errors import StreamBackendError, UnsupportedLayerError
from zz_event.stream import backend as sb
from zz_event.stream import costing as sc
from zz_event.stream import runner as sr

ROOT = Path(__file__).resolve().parents[2]
STREAM_INPUTS = ROOT / "inputs" / "stream"
LENET5 = ROOT / "inputs" / "lenet5" / "lenet5.onnx"
PADDED = ROOT / "inputs" / "lenet5" / "lenet5_pad2_28.onnx"
CORE_YAML = STREAM_INPUTS / "hardware" / "cores" / "toy_compute.yaml"
ARCH = {1: "single_core", 2: "dual_core", 4: "quad_core"}
SEARCH = sb.ZigZagSearch(6, TemporalMappingType.UNEVEN, 1)
needs_lenet5 = pytest.mark.skipif(not LENET5.exists(), reason="inputs/lenet5/make_lenet5.py has not been run")

# The tile one compute core runs, per layer and core count (inputs/stream/mapping/lenet5_*core.yaml), written out
# by hand as input-centric loop sizes [B, K, C, IY, IX, FY, FX]: conv1 split over OY (2 cores: 14 of 28 output rows
# need 18 input rows) and over OY x OX (4 cores), conv2 over K.
TILES = {
    ("conv1", 1): [1, 6, 1, 32, 32, 5, 5],
    ("conv1", 2): [1, 6, 1, 18, 32, 5, 5],
    ("conv1", 4): [1, 6, 1, 18, 18, 5, 5],
    ("conv2", 1): [1, 16, 6, 14, 14, 5, 5],
    ("conv2", 2): [1, 8, 6, 14, 14, 5, 5],
    ("conv2", 4): [1, 4, 6, 14, 14, 5, 5],
}


def _stream_layers(onnx_path: Path, tmp_path: Path):
    """{name: (Stream node, the ZigZag layer Stream builds for core 0 of the single-core architecture)}, and core 0."""
    from stream.frontends import load_workload
    from stream.stages.estimation.zigzag_cost_estimator import ZigZagCostEstimator
    from stream.stages.parsing.accelerator_parser import parse_accelerator

    accelerator = parse_accelerator(str(STREAM_INPUTS / "hardware" / "single_core.yaml"))
    prepared, _ = sr.prepare_onnx(onnx_path, tmp_path / "w.onnx")
    workload = load_workload(str(prepared))
    estimator = ZigZagCostEstimator(workload=workload, accelerator=accelerator, mapping=None)
    core = accelerator.get_core(0)
    layers = {n.name: (n, estimator.get_layer_node(n, core)) for n in workload.get_computation_nodes()}
    return layers, core.to_zigzag_core()


# --- the input-centric layer of a Stream node --------------------------------------------------------------------


@needs_lenet5
def test_node_layer_writes_streams_conv_input_centric(tmp_path):
    layers, core = _stream_layers(LENET5, tmp_path)
    node, layer = layers["conv1"]
    spec = sc.node_layer(node, core, layer)
    assert spec.layer["loop_dims"] == ["B", "K", "C", "IY", "IX", "FY", "FX"]
    assert spec.layer["loop_sizes"] == TILES[("conv1", 1)]
    assert spec.layer["dimension_relations"] == ["ox=1*ix+1*fx", "oy=1*iy+1*fy"]
    assert spec.layer["operand_precision"] == {"W": 32, "I": 32, "O": 32, "O_final": 32}  # float32, no accumulator
    assert spec.layer["zz_event"]["padding"] == [0, 0, 0, 0] and spec.layer["zz_event"]["output"] == [28, 28]
    assert spec.mapping["spatial_mapping"] == {"D1": ["K, 8"]}
    assert spec.mapping["memory_operand_links"] == {"O": "O", "W": "I2", "I": "I1"}
    assert spec.geometry.valid_macs() == spec.geometry.frame_macs() == 6 * 28 * 28 * 25


@needs_lenet5
def test_node_layer_folds_the_contraction_of_a_gemm_behind_a_flatten(tmp_path):
    layers, core = _stream_layers(LENET5, tmp_path)
    node, layer = layers["fc1"]
    assert sorted(sb.conv_view(node, layer).dim_names.values()) == ["B", "C", "C1", "C2", "K"]
    spec = sc.node_layer(node, core, layer)
    assert spec.layer["operator_type"] == "Gemm"
    assert spec.layer["loop_sizes"] == [1, 120, 400, 1, 1, 1, 1]


@pytest.mark.skipif(not PADDED.exists(), reason="padded LeNet-5 not generated")
def test_node_layer_keeps_the_padding_stream_drops(tmp_path):
    layers, core = _stream_layers(PADDED, tmp_path)
    node, layer = layers["conv1"]
    spec = sc.node_layer(node, core, layer)
    assert spec.layer["loop_sizes"][3:5] == [28, 28] and spec.layer["zz_event"]["padding"] == [2, 2, 2, 2]
    assert spec.geometry.valid_macs() == 107_736 and spec.geometry.frame_macs() == 117_600


@needs_lenet5
def test_non_mac_nodes_are_unsupported_not_zero(tmp_path):
    layers, core = _stream_layers(LENET5, tmp_path)
    node, layer = layers["pool1"]
    with pytest.raises(UnsupportedLayerError):
        sc.cost_node_event_driven(node, core, layer=layer, mode="event", search=SEARCH)


@pytest.mark.parametrize(
    ("dataflow", "expected"),
    [({"D6": 8}, ["K, 8"]), ({"D1": 4, "D6": 2}, ["IX, 4", "K, 2"]), ({"D3": 2, "D4": 2}, ["C, 4"])],
)
def test_a_cores_dataflow_is_renamed_to_the_input_centric_loops(dataflow, expected):
    names = {"D0": "B", "D1": "OX", "D2": "OY", "D6": "K", "D3": "C1", "D4": "C2"}
    core = types.SimpleNamespace(dataflows={"D1": dataflow})
    assert sc.spatial_mapping_for(core, names) == {"D1": expected}


def test_a_dataflow_over_a_loop_the_layer_lacks_is_an_error():
    core = types.SimpleNamespace(dataflows={"D1": {"G": 8}})
    with pytest.raises(StreamBackendError, match="does not have"):
        sc.spatial_mapping_for(core, {"D6": "K"})


def test_without_dataflows_k_fills_every_array_dimension():
    array = types.SimpleNamespace(dimension_sizes={"D1": 8, "D2": 4})
    core = types.SimpleNamespace(dataflows=None, operational_array=array)
    assert sc.spatial_mapping_for(core, {}) == {"D1": ["K, 8"], "D2": ["K, 4"]}


@needs_lenet5
def test_an_unknown_mode_is_an_error(tmp_path):
    layers, core = _stream_layers(LENET5, tmp_path)
    node, layer = layers["fc3"]
    with pytest.raises(StreamBackendError, match="not one of"):
        sc.cost_node_event_driven(node, core, layer=layer, mode="frame", search=SEARCH)


@needs_lenet5
def test_a_zigzag_failure_names_the_node_and_the_core(tmp_path, monkeypatch):
    layers, core = _stream_layers(LENET5, tmp_path)

    def broken(*_args, **_kwargs):
        return types.SimpleNamespace(run=lambda: (_ for _ in ()).throw(ValueError("no valid spatial mapping")))

    monkeypatch.setattr(sc, "_main_stage", broken)
    node, layer = layers["fc3"]
    with pytest.raises(StreamBackendError, match=r"node 'fc3' on core .*no valid spatial mapping"):
        sc.cost_node_event_driven(node, core, layer=layer, mode="event", search=SEARCH)


@needs_lenet5
def test_event_mode_refuses_a_cme_the_engine_did_not_correct(tmp_path, monkeypatch):
    layers, core = _stream_layers(LENET5, tmp_path)
    uncorrected = types.SimpleNamespace(zz_event_uncorrected="the engine said no")
    monkeypatch.setattr(sc, "_main_stage", lambda *a, **k: types.SimpleNamespace(run=lambda: [(uncorrected, None)]))
    node, layer = layers["fc3"]
    with pytest.raises(StreamBackendError, match=r"did not correct node 'fc3'.*the engine said no"):
        sc.cost_node_event_driven(node, core, layer=layer, mode="event", search=SEARCH)


@needs_lenet5
def test_fc3_event_and_event_raw_on_the_toy_core(tmp_path):
    """A small real run: the corrected CME keeps ZigZag's raw figures; event-raw is plain ZigZag, never cheaper."""
    layers, core = _stream_layers(LENET5, tmp_path)
    node, layer = layers["fc3"]
    event = sc.cost_node_event_driven(node, core, layer=layer, mode="event", search=SEARCH)
    raw = sc.cost_node_event_driven(node, core, layer=layer, mode="event-raw", search=SEARCH)
    assert type(event).__name__ == "CorrectedCME" and type(raw).__name__ == "CostModelEvaluation"
    assert event.engine.macs == 84 * 10 and event.layer.name == "fc3"
    assert raw.energy_total >= event.energy_total and raw.latency_total2 >= event.latency_total2
    entry = sb.entry_from_cme(raw, node, "event-raw")
    assert entry.metadata["costing"].endswith("(event-raw)")


# --- the same hardware -----------------------------------------------------------------------------------------


def _core_accelerator(tmp_path: Path) -> str:
    """The core's ZigZag accelerator file: toy_compute.yaml without Stream's `type` key."""
    data = yaml.safe_load(CORE_YAML.read_text())
    data.pop("type")
    path = tmp_path / "toy_compute_zigzag.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _zz_event(layer: dict, accelerator: str, tmp_path: Path, spatial: dict | None = None):
    """run_zigzag_event_driven() on one layer with the toy's LeNet-5 mapping, its unrolling replaced by ``spatial``
    ({array dim: {loop: factor}}) if given."""
    from zz_event.zigzag.front_door import run_zigzag_event_driven

    mapping = ROOT / "inputs" / "toy" / "mapping_lenet5.yaml"
    if spatial is not None:
        entries = yaml.safe_load(mapping.read_text())
        entries[0]["spatial_mapping"] = {oa: [f"{d}, {f}" for d, f in per.items()] for oa, per in spatial.items()}
        mapping = tmp_path / "mapping.yaml"
        mapping.write_text(yaml.safe_dump(entries))
    *_, cmes = run_zigzag_event_driven(
        [layer], accelerator, str(mapping), opt="latency", lpf_limit=6,
        nb_spatial_mappings_generated=1, dump_folder=str(tmp_path / "zz"), loma_show_progress_bar=False,
    )  # fmt: skip
    return cmes[0][1][0][0]


def _unrolling(cme) -> dict:
    return {str(oa): {str(d): math.ceil(f - 1e-9) for d, f in single.items() if math.ceil(f - 1e-9) > 1}
            for oa, single in cme.layer.spatial_mapping.items()}  # fmt: skip


def _input_centric(name: str, sizes: list[int], op_type: str = "Conv") -> dict:
    return {
        "id": 0, "name": name, "operator_type": op_type, "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": ["ox=1*ix+1*fx", "oy=1*iy+1*fy"], "loop_dims": ["B", "K", "C", "IY", "IX", "FY", "FX"],
        "loop_sizes": sizes, "operand_precision": {"W": 32, "I": 32, "O": 32, "O_final": 32},
        "operand_source": {"I": 0, "W": 0},
    }  # fmt: skip


def test_the_core_and_the_toy_hardware_cost_alike(tmp_path):
    layer = _input_centric("toy", [1, 8, 1, 5, 5, 3, 3])
    on_core = _zz_event(layer, _core_accelerator(tmp_path), tmp_path)
    on_toy = _zz_event(layer, str(ROOT / "inputs" / "toy" / "hardware.yaml"), tmp_path)
    assert (on_core.energy_total, on_core.latency_total2) == (on_toy.energy_total, on_toy.latency_total2)
    assert on_core.raw == on_toy.raw


# --- end to end through Stream ----------------------------------------------------------------------------------


def _stream_run(tmp_path: Path, cores: int, mode: str) -> dict:
    """{(node, core id): the CoreCostEntry Stream stored} of a LeNet-5 run."""
    summary = sr.run_stream(
        STREAM_INPUTS / "hardware" / f"{ARCH[cores]}.yaml", LENET5,
        STREAM_INPUTS / "mapping" / f"lenet5_{cores}core.yaml", mode, tmp_path / mode,
        sr.StreamRunOptions(artifacts=False),
    )  # fmt: skip
    entries = {}
    for lut in sorted(Path(summary.stream_dir).rglob(sr.LUT_FILE)):
        with lut.open("rb") as fp:
            for node, per_core in pickle.load(fp)["lut"].items():  # written by this test's Stream run
                entries.update({(node.name, int(core.id)): entry for core, entry in per_core.items()})
    return entries


def _check_stream_against_zz_event(tmp_path: Path, cores: int) -> None:
    event, raw = _stream_run(tmp_path, cores, "event"), _stream_run(tmp_path, cores, "event-raw")
    accelerator = _core_accelerator(tmp_path)
    for name in ("conv1", "conv2"):
        used = {core: entry for (node, core), entry in event.items() if node == name}
        assert len(used) == cores, f"{name} should run on every compute core"
        # The search's pick, costed by zz-event's ZigZag front door with that unrolling given: the same costs.
        spatial = _unrolling(next(iter(used.values())).cme)
        expected = _zz_event(_input_centric(name, TILES[(name, cores)]), accelerator, tmp_path, spatial)
        for core, entry in used.items():
            assert _unrolling(entry.cme) == spatial, (name, core)
            assert entry.metadata["backend"] == sb.BACKEND_NAME and entry.metadata["costing"] == "event-driven"
            assert entry.energy_total == pytest.approx(expected.energy_total, rel=1e-12), (name, core)
            assert entry.latency_total == expected.latency_total2, (name, core)
            assert entry.cme.engine == expected.engine, (name, core)
            assert entry.cme.raw == expected.raw, (name, core)
            stock = raw[(name, core)]
            assert stock.metadata["zz_event_mode"] == "event-raw"
            # event-raw keeps ZigZag's own unrolling, which ZigZag (blind to the output port's stalls) may find faster
            # than the event mode's pick; it always counts every (input, tap) pair and so spends more energy.
            assert stock.energy_total > entry.energy_total, (name, core)
            assert entry.cme.engine.macs < entry.metadata["raw_macs"] == stock.cme.layer.total_mac_count, (name, core)


@needs_lenet5
def test_stream_uses_the_zz_event_cost_of_every_conv_node_on_four_cores(tmp_path):
    _check_stream_against_zz_event(tmp_path, 4)


@pytest.mark.slow
@needs_lenet5
@pytest.mark.parametrize("cores", [1, 2])
def test_stream_uses_the_zz_event_cost_of_every_conv_node(tmp_path, cores):
    _check_stream_against_zz_event(tmp_path, cores)
