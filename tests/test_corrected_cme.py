"""A CorrectedCME's energy fields are ZigZag's own arithmetic on the substituted counts: calling ZigZag's
`calc_memory_energy_cost()` on it changes nothing, bit for bit, on a multi-level hierarchy (tpu_like)."""

from __future__ import annotations

from conftest import INPUTS

from zz_event.api import run_zigzag_event_driven
from zz_event.corrected_cme import CorrectedCME
from zz_event.summary import layer_cmes


def energy_fields(cme) -> tuple:
    further = {op: [e.data for e in levels] for op, levels in cme.mem_energy_breakdown_further.items()}
    return cme.energy_total, cme.mem_energy, cme.mem_energy_breakdown, further


def test_zigzag_recomputes_bit_identical_energy_on_tpu_like(tmp_path):
    _e, _l, cmes = run_zigzag_event_driven(
        str(INPUTS / "lenet5" / "lenet5.onnx"), str(INPUTS / "tpu_like" / "hardware.yaml"),
        str(INPUTS / "tpu_like" / "mapping.yaml"), opt="energy", dump_folder=str(tmp_path),
        loma_show_progress_bar=False, lpf_limit=2,
    )
    corrected = [cme for cme in layer_cmes(cmes) if isinstance(cme, CorrectedCME)]
    assert len(corrected) >= 5  # conv1, conv2, fc1-fc3
    for cme in corrected:
        assert max(len(levels) for levels in cme.mem_energy_breakdown.values()) >= 2
        ours = energy_fields(cme)
        copy = CorrectedCME.__new__(CorrectedCME)
        copy.__dict__.update(cme.__dict__)
        copy.calc_memory_energy_cost()
        assert energy_fields(copy) == ours, cme.layer.name
