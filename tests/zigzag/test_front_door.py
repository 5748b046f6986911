"""The front door: settings checked when built, options the engine cannot follow refused, and one layer result
that every consumer reads (summary.json is made from it)."""

from __future__ import annotations

import pytest

import zz_event
from zz_event import CorrectionSettings, EngineOptions, RunSettings, ZzEventError, layer_results
from zz_event.zigzag.summary import build_summary


@pytest.mark.parametrize(
    "kwargs",
    [
        {"opt": "power"},
        {"lpf_limit": 0},
        {"lpf_limit": -1},
        {"nb_spatial_mappings_generated": 0},
        {"temporal_mapping_type": "odd"},
        {"in_memory_compute": True},
        {"exploit_data_locality": True},
        {"enable_mix_spatial_mapping": True},
    ],
)
def test_run_settings_refuse_what_zz_event_cannot_follow(kwargs):
    with pytest.raises(ZzEventError):
        RunSettings(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"options": (True, True)}, {"variants": ("dense",)}, {"calibration": 0},
     {"geometries": {"conv": ("geo", "input")}}],
)
def test_correction_settings_are_checked_when_built(kwargs):
    with pytest.raises(ZzEventError):
        CorrectionSettings(**kwargs)


def test_correction_settings_keep_their_own_copies():
    uncorrected = {"pool": "a pooling layer"}
    settings = CorrectionSettings(uncorrected=uncorrected)
    uncorrected["conv"] = "changed later"
    assert dict(settings.uncorrected) == {"pool": "a pooling layer"}


def test_importing_the_package_does_not_load_zigzag():
    import subprocess
    import sys

    code = "import sys, zz_event; print('zigzag' in sys.modules, zz_event.run_zigzag_event_driven.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "run_zigzag_event_driven"]


def test_a_layer_result_holds_zigzag_and_the_engine_and_makes_the_summary(toy, tmp_path):
    _energy, _latency, cmes = zz_event.run_zigzag_event_driven(
        toy["workload"], toy["hardware"], toy["mapping"], opt="energy", dump_folder=str(tmp_path),
        loma_show_progress_bar=False, variants=(EngineOptions(filter=False, readiness=False),))
    (layer,) = layer_results(cmes)
    # The seed's toy (README): ZigZag 1800 MACs, 225 cycles; event-driven 648 MACs, 81 cycles, W 77, O 72 / 81.
    assert (layer.corrected, layer.ranked) == (True, "event_driven")
    assert (layer.zigzag.macs, layer.zigzag.latency_cycles, layer.zigzag.energy_pj) == (1800, 225.0, 7939.5)
    event = layer.event_driven
    assert (event.macs, event.compute_cycles, event.latency_cycles) == (648, 81, 81)
    assert event.word_accesses["W"][0]["rd_out_to_low"] == 77
    assert (event.word_accesses["O"][0]["rd_out_to_low"], event.word_accesses["O"][0]["wr_in_by_low"]) == (72, 81)
    assert event.energy_pj == pytest.approx(2889.72)
    assert layer.engine["dense"].macs == 1800  # the variant asked for, beside the ranked one
    assert layer.temporal_ordering == (("FY", 3), ("FX", 3), ("IX", 5), ("IY", 5))
    summary = build_summary(cmes)["layers"][0]
    assert summary["event_driven"]["macs"] == event.macs and summary["zigzag"]["macs"] == layer.zigzag.macs
    assert summary["event_driven"]["word_accesses"]["W"][0]["memory"] == event.word_accesses["W"][0]["memory"]
