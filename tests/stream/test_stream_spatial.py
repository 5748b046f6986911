"""The event modes' spatial-unrolling search in Stream (zz_event.stream.spatial, zz_event.stream.costing): the
candidates fit the array, the lower bound holds on every candidate, the pick is the best of all of them and the
engine's counts of it are the reference simulator's; "same spatial mapping" runs really use frame mode's unrolling;
data changes the event mode's per-core costs.

Workload: a one-convolution ONNX with stride 2 and padding 1 (tests/stream/tiny_conv.py) on Stream's single-core toy
architecture, small enough to cost every candidate."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from tiny_conv import tiny_conv
from zigzag.mapping.temporal_mapping import TemporalMappingType

from zz_event.report.costs import costs_of, load_simulator, simulator_check
from zz_event.stream import backend as sb
from zz_event.stream import costing as sc
from zz_event.stream import runner as sr
from zz_event.stream import spatial as sp
from zz_event.stream.node_data import tile_masks
from zz_event.zigzag.adapter import context_for

ROOT = Path(__file__).resolve().parents[2]
HARDWARE = ROOT / "inputs" / "stream" / "hardware" / "single_core.yaml"
SEARCH = sb.ZigZagSearch(6, TemporalMappingType.UNEVEN, 1)
OPTIONS = sr.StreamRunOptions(artifacts=False)


# --- candidates ----------------------------------------------------------------------------------------------------


def test_candidates_are_every_fitting_combination_of_zigzags_factors():
    limits = {"D1": {"K": 4, "C": 1, "IY": 4, "IX": 4, "FY": 3, "FX": 3}}
    sizes = {"B": 1, "K": 4, "C": 1, "IY": 9, "IX": 9, "FY": 3, "FX": 3}
    found = sp.candidates(limits, {"D1": 8}, sizes)
    # Independently: each loop takes 1 or a divisor >= 2 of its limit; the product fits the 8 units.
    choices = [[1] + [f for f in range(2, limits["D1"][d] + 1) if limits["D1"][d] % f == 0] for d in sp.SEARCH_DIMS]
    expected = {tuple((d, f) for d, f in zip(sp.SEARCH_DIMS, combo) if f > 1)
                for combo in itertools.product(*choices) if math.prod(combo) <= 8}  # fmt: skip
    assert {u.per_array_dim[0][1] for u in found} == expected
    assert len(found) == len(expected) == 25
    for u in found:
        assert u.units() <= 8 and all(f <= limits["D1"][d] and f <= sizes[d] for d, f in u.as_dict()["D1"].items())


def test_an_unrolling_reads_back_as_zigzags_mapping_entry():
    u = sp.Unrolling.of({"D1": {"FY": 2, "FX": 2, "IX": 2, "K": 1}})
    assert u.mapping_entry() == {"D1": ["FY, 2", "FX, 2", "IX, 2"]} and u.units() == 8 and u.factor("K") == 1
    assert u.label() == "D1: FY 2 x FX 2 x IX 2"
    assert sc.input_centric_unrolling({"D1": {"OX": 2, "OY": 2, "C1": 2, "C2": 2}}) == {
        "D1": {"IX": 2, "IY": 2, "C": 4}}


# --- the search on one node -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(Stream node, Stream's ZigZag layer for core 0, the core's ZigZag accelerator) of the tiny convolution."""
    from stream.frontends import load_workload
    from stream.stages.estimation.zigzag_cost_estimator import ZigZagCostEstimator
    from stream.stages.parsing.accelerator_parser import parse_accelerator

    path = tiny_conv(tmp_path_factory.mktemp("tiny") / "tiny.onnx")
    accelerator = parse_accelerator(str(HARDWARE))
    workload = load_workload(str(path))
    core = accelerator.get_core(0)
    node = next(n for n in workload.get_computation_nodes() if n.type == "Conv")
    layer = ZigZagCostEstimator(workload=workload, accelerator=accelerator, mapping=None).get_layer_node(node, core)
    return node, layer, core.to_zigzag_core(), path


def _every_candidate(tiny):
    """Every candidate unrolling of the tiny node in mode event, costed by ZigZag: {unrolling: (bound, cme)}."""
    node, layer, core, _path = tiny
    spec = sc.node_layer(node, core, layer)
    zigzag_layer = sc._zigzag_layer_node(spec)
    stage = sc.SpatialMappingGeneratorStage([sc.CostModelStage], accelerator=core, layer=zigzag_layer)
    limits = {str(oa): {str(d): int(f) for d, f in per.items()} for oa, per in stage.get_max_unrolling().items()}
    array = {str(oa): int(n) for oa, n in core.operational_array.dimension_sizes.items()}
    out = {}
    for u in sp.candidates(limits, array, sp.loop_sizes(spec.geometry)):
        bound = sp.latency_bound(context_for(zigzag_layer, core, u.loops(), spec.geometry, "input"), u, "event")
        out[u] = (bound, sc._cost_one(sc._with_unrolling(spec, u), core, "event", SEARCH, "tiny", None))
    return spec, out


@pytest.mark.slow
def test_the_search_picks_the_best_of_every_candidate_and_the_bound_holds(tiny):
    node, layer, core, _path = tiny
    _spec, every = _every_candidate(tiny)

    def key(cme):  # Stream's rank: steady latency, then energy
        return cme.latency_total2 - cme.systolic_drain_cycle, cme.energy_total

    for u, (bound, cme) in every.items():
        assert key(cme)[0] >= bound, u.label()
    best = min(key(cme) for _b, cme in every.values())
    picked = sc.cost_node_event_driven(node, core, layer=layer, mode="event", search=SEARCH)
    assert key(picked) == best
    searched, _within = picked.zz_event_spatial_search
    assert searched == len(every)


def test_the_pick_fits_the_array_and_the_simulator_counts_it_alike(tiny):
    node, layer, core, _path = tiny
    picked = sc.cost_node_event_driven(node, core, layer=layer, mode="event", search=SEARCH)
    spec = sc.node_layer(node, core, layer)
    unrolled = {str(d): math.ceil(f - 1e-9) for _oa, single in picked.layer.spatial_mapping.items()
                for d, f in single.items()}  # fmt: skip
    assert 1 < math.prod(unrolled.values()) <= 8 and set(unrolled) <= set(sp.SEARCH_DIMS)
    check = simulator_check(load_simulator(), picked, spec.geometry, "input", costs_of(picked), event=True)
    assert check.matches, check.differences
    # Stride 2, padding 1: the valid MACs, not the frame's (padding taps trigger nothing).
    assert picked.engine.macs == spec.geometry.valid_macs() < spec.geometry.frame_macs()


# --- whole Stream runs: same spatial mapping, data -------------------------------------------------------------------


@pytest.fixture(scope="module")
def frame_run(tiny, tmp_path_factory):
    return sr.run_stream(HARDWARE, tiny[3], None, "frame", tmp_path_factory.mktemp("frame"), OPTIONS)


def _conv(summary):
    return next(n for n in summary.nodes if n.node == "conv")


_TO_INPUT = {"OX": "IX", "OY": "IY"}


def test_same_spatial_mapping_uses_frame_modes_unrolling(tiny, frame_run, tmp_path):
    unrollings = sr.frame_unrollings(frame_run)
    assert set(unrollings) == {"conv"}  # MAC nodes only
    same = sr.run_stream(HARDWARE, tiny[3], None, "event", tmp_path / "same", OPTIONS, unrollings=unrollings)
    frame_map = _conv(frame_run).spatial_unrolling
    assert sum(f > 1 for per in frame_map.values() for f in per.values()) >= 2  # a mixed unrolling
    renamed = {oa: {_TO_INPUT.get(d, d): f for d, f in per.items()} for oa, per in frame_map.items()}
    assert _conv(same).spatial_unrolling == renamed
    assert same.unrollings == unrollings and _conv(same).backend == sb.BACKEND_NAME


def test_data_makes_the_event_modes_per_core_cost_the_mean_over_the_samples(tiny, tmp_path):
    dense = sr.run_stream(HARDWARE, tiny[3], None, "event", tmp_path / "dense", OPTIONS)
    batch = np.zeros((3, 1, 9, 9), np.float32)
    batch[0, :, 2:5, 3:6] = 1.0  # a blob
    batch[1, :, 0, :] = 0.5  # a row on the border
    batch[2] = 1.0  # dense: its costs are the dense ones
    data = sr.run_stream(HARDWARE, tiny[3], None, "event", tmp_path / "data", OPTIONS, data=batch)
    on_data, all_dense = _conv(data), _conv(dense)
    assert on_data.energy_pj < all_dense.energy_pj and on_data.latency_cycles < all_dense.latency_cycles
    assert data.data["samples"] == 3 and data.data["density"]["conv"] == pytest.approx((9 + 9 + 81) / 243)
    # MACs per sample, exactly: each non-zero input's valid taps (stride 2, padding 1, 3x3 kernel, 4 outputs channels).
    node, layer, core, _path = tiny
    g = sc.node_layer(node, core, layer).geometry
    valid = [[sum(1 for f in range(3) if g.y.output_of(i, f)[1]) for i in range(9)],
             [sum(1 for f in range(3) if g.x.output_of(i, f)[1]) for i in range(9)]]  # fmt: skip
    per_sample = [4 * sum(valid[0][y] * valid[1][x] for y in range(9) for x in range(9) if batch[s, 0, y, x])
                  for s in range(3)]  # fmt: skip
    assert per_sample[2] == all_dense.macs == g.valid_macs()
    assert on_data.macs == pytest.approx(sum(per_sample) / 3)


def test_a_split_nodes_tiles_are_its_cores_input_windows():
    """LeNet-5's conv1 split over output rows on two cores (inputs/stream/mapping/lenet5_2core.yaml): 14 of 28 output
    rows each, input rows 0-17 and 14-31; the masks of every tile of every sample, sample-major."""
    import types

    from xdsl.ir.affine import AffineDimExpr, AffineMap

    from zz_event.model.geometry import AxisGeometry, ConvGeometry

    d = [AffineDimExpr(i) for i in range(7)]
    node = types.SimpleNamespace(
        name="conv1", inputs=[types.SimpleNamespace(shape=(1, 1, 32, 32))],
        outputs=[types.SimpleNamespace(shape=(1, 6, 28, 28))],
        operand_mapping=[AffineMap(7, 0, (d[0], d[5], d[2] + d[4], d[1] + d[3]))])  # fmt: skip
    layer = types.SimpleNamespace(layer_dim_sizes={"D0": 1, "D1": 28, "D2": 14, "D3": 5, "D4": 5, "D5": 1, "D6": 6})
    tile = ConvGeometry(1, 6, 1, AxisGeometry(18, 5), AxisGeometry(32, 5))
    masks = np.random.default_rng(1).random((2, 1, 32, 32)) < 0.3
    tiles = tile_masks(node, layer, tile, masks)
    assert tiles.shape == (4, 1, 1, 1, 18, 32)
    for s in range(2):
        assert (tiles[2 * s, 0, 0, 0] == masks[s, 0, 0:18]).all()
        assert (tiles[2 * s + 1, 0, 0, 0] == masks[s, 0, 14:32]).all()
