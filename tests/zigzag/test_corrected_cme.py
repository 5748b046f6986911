"""A CorrectedCME's energy fields are ZigZag's own arithmetic on the substituted counts: calling ZigZag's
`calc_memory_energy_cost()` on it changes nothing, bit for bit, on a multi-level hierarchy (tpu_like)."""

from __future__ import annotations

from conftest import INPUTS

from zz_event.zigzag.corrected_cme import CorrectedCME
from zz_event.zigzag.front_door import run_zigzag_event_driven
from zz_event.zigzag.result import layer_results


def energy_fields(cme) -> tuple:
    further = {op: [e.data for e in levels] for op, levels in cme.mem_energy_breakdown_further.items()}
    return cme.energy_total, cme.mem_energy, cme.mem_energy_breakdown, further


def test_zigzag_recomputes_bit_identical_energy_on_tpu_like(tmp_path):
    _e, _l, cmes = run_zigzag_event_driven(
        str(INPUTS / "lenet5" / "lenet5.onnx"), str(INPUTS / "tpu_like" / "hardware.yaml"),
        str(INPUTS / "tpu_like" / "mapping.yaml"), opt="energy", dump_folder=str(tmp_path),
        loma_show_progress_bar=False, lpf_limit=2,
    )
    corrected = [r.cme for r in layer_results(cmes) if r.corrected]
    assert len(corrected) >= 5  # conv1, conv2, fc1-fc3
    for cme in corrected:
        assert max(len(levels) for levels in cme.mem_energy_breakdown.values()) >= 2
        ours = energy_fields(cme)
        copy = CorrectedCME.__new__(CorrectedCME)
        copy.__dict__.update(cme.__dict__)
        copy.calc_memory_energy_cost()
        assert energy_fields(copy) == ours, cme.layer.name


def test_a_corrected_cme_corrected_again_carries_only_the_second_answer(tmp_path):
    """Its first answer's results and records, once read, must not survive into the copy."""
    from dataclasses import replace

    from zz_event.zigzag.corrected_cme import correct_cme_with

    _e, _l, cmes = run_zigzag_event_driven(
        str(INPUTS / "toy" / "workload.yaml"), str(INPUTS / "toy" / "hardware.yaml"),
        str(INPUTS / "toy" / "mapping.yaml"), dump_folder=str(tmp_path), loma_show_progress_bar=False,
    )
    (first,) = [r.cme for r in layer_results(cmes) if r.corrected]
    first.zz_event_dense_data = first.engine
    assert first.engine.macs == 648 and first.memory_word_access  # read: cached on the object
    doubled = replace(first.engine, macs=2 * first.engine.macs)
    second = correct_cme_with(first, doubled)
    assert second.engine.macs == 1296 and second.engine_variants == {}
    assert not hasattr(second, "zz_event_dense_data")
    assert second.energy_total == first.energy_total  # same words: same energy, summed again
