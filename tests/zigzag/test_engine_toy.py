"""The seed's 5x5 toy layer: ZigZag's raw figures untouched, the event-driven ones exact."""

from __future__ import annotations

import json

import pytest
from zigzag.api import get_hardware_performance_zigzag

from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.zigzag.corrected_cme import CorrectedCME
from zz_event.zigzag.front_door import run_zigzag_event_driven
from zz_event.zigzag.result import layer_results
from zz_event.zigzag.summary import build_summary


def _words(block: dict, op: str) -> dict:
    (level,) = block["word_accesses"][op]
    return level


@pytest.fixture(scope="module")
def fixed_run(tmp_path_factory, request):
    from conftest import INPUTS

    d = INPUTS / "toy"
    out = tmp_path_factory.mktemp("toy_fixed")
    _e, _l, cmes = run_zigzag_event_driven(
        str(d / "workload.yaml"), str(d / "hardware.yaml"), str(d / "mapping.yaml"),
        opt="energy", dump_folder=str(out), loma_show_progress_bar=False,
        variants=(EngineOptions(False, False), EngineOptions(True, False)),
    )
    return out, cmes


def test_fixed_ordering_raw_is_zigzags_own(fixed_run):
    _out, cmes = fixed_run
    summary = build_summary(cmes)
    raw = summary["layers"][0]["zigzag"]
    assert raw["macs"] == 1800 and raw["latency_cycles"] == 225 and raw["energy_pj"] == pytest.approx(7939.5)
    assert _words(raw, "W")["rd_out_to_low"] == 225
    assert _words(raw, "I")["rd_out_to_low"] == 25
    assert (_words(raw, "O")["rd_out_to_low"], _words(raw, "O")["wr_in_by_low"]) == (225, 225)


def test_fixed_ordering_event_driven(fixed_run):
    _out, cmes = fixed_run
    layer = build_summary(cmes)["layers"][0]
    ev = layer["event_driven"]
    assert layer["corrected"] is True
    assert (ev["macs"], ev["compute_cycles"], ev["latency_cycles"]) == (648, 81, 81)
    assert _words(ev, "I")["rd_out_to_low"] == 25
    assert _words(ev, "W")["rd_out_to_low"] == 77
    assert (_words(ev, "O")["rd_out_to_low"], _words(ev, "O")["wr_in_by_low"]) == (72, 81)
    assert ev["energy_pj"] == pytest.approx(2889.72)


def test_exact_dense_equals_raw_zigzag_on_the_toy(fixed_run):
    _out, cmes = fixed_run
    (cme,) = [r.cme for r in layer_results(cmes)]
    dense = cme.engine_variants["dense"]
    assert dense.macs == 1800 and dense.compute_cycles == 225
    assert dense.energy_pj == pytest.approx(cme.raw["energy_pj"])
    assert dense.word_accesses()["W"][0]["rd_out_to_low"] == 225


def test_zigzag_recomputes_the_same_energy_from_substituted_counts(fixed_run):
    _out, cmes = fixed_run
    (cme,) = [r.cme for r in layer_results(cmes)]
    assert isinstance(cme, CorrectedCME)
    assert cme.energy_total == pytest.approx(cme.engine.energy_pj)
    assert cme.latency_total2 == cme.engine.latency_cycles
    ours = (cme.energy_total, cme.mem_energy, cme.mem_energy_breakdown,
            {op: [e.data for e in levels] for op, levels in cme.mem_energy_breakdown_further.items()})
    copy = CorrectedCME.__new__(CorrectedCME)
    copy.__dict__.update(cme.__dict__)
    copy.calc_memory_energy_cost()  # ZigZag's own, from the substituted counts: bit-identical
    assert ours == (copy.energy_total, copy.mem_energy, copy.mem_energy_breakdown,
                    {op: [e.data for e in levels] for op, levels in copy.mem_energy_breakdown_further.items()})


def test_zigzag_dumps_carry_corrected_and_raw_values(fixed_run):
    out, _cmes = fixed_run
    dumped = json.loads((out / "conv_layer_complete.json").read_text())
    assert dumped["outputs"]["energy"]["energy_total"] == pytest.approx(2889.72)
    assert dumped["zz_event"]["raw_zigzag"]["energy_pj"] == pytest.approx(7939.5)


def test_loma_search_picks_the_corrected_winner(toy, tmp_path):
    _e, _l, cmes = run_zigzag_event_driven(
        toy["workload"], toy["hardware"], toy["mapping_free"], opt="energy",
        dump_folder=str(tmp_path), loma_show_progress_bar=False,
    )
    ev = build_summary(cmes)["layers"][0]["event_driven"]
    assert ev["energy_pj"] == pytest.approx(2763.72)
    assert _words(ev, "W")["rd_out_to_low"] == 9
    assert _words(ev, "I")["rd_out_to_low"] == 81
    assert (_words(ev, "O")["rd_out_to_low"], _words(ev, "O")["wr_in_by_low"]) == (72, 81)


def test_output_centric_zigzag_differs_by_exactly_the_first_reads(toy, tmp_path):
    """ZigZag's frame-based run of the same layer reads each output before its first contribution too."""
    energy, _l, _cmes = get_hardware_performance_zigzag(
        toy["workload_output_centric"], toy["hardware"], toy["mapping_free"], opt="energy",
        dump_folder=str(tmp_path / "zz"), loma_show_progress_bar=False,
    )
    assert energy == pytest.approx(2858.22)
    first_reads = 9  # one 128-bit word (8 channels) per output position
    assert energy - 2763.72 == pytest.approx(first_reads * 10.5)


def test_engine_is_independent_of_zigzag_objects(fixed_run):
    _out, cmes = fixed_run
    (cme,) = [r.cme for r in layer_results(cmes)]
    from zz_event.zigzag.adapter import nest_from_cme

    nest = nest_from_cme(cme)
    assert evaluate(nest, EngineOptions()).energy_pj == pytest.approx(2889.72)
