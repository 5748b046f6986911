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


def test_the_latency_is_computed_on_first_read_and_equals_the_runs(tmp_path, monkeypatch):
    """A search on energy reads a mapping's latency only on an energy tie (ZigZag's MinimalEnergyStage): the
    engine computes it when a latency field is first read, and then it is the latency the run reported; a
    pickled result carries it."""
    import pickle

    from zz_event.engine import evaluate as engine
    from zz_event.engine.result import LatencyParts
    from zz_event.zigzag.adapter import nest_from_cme
    from zz_event.zigzag.corrected_cme import correct_cme_with

    _e, _l, cmes = run_zigzag_event_driven(
        str(INPUTS / "lenet5" / "lenet5.onnx"), str(INPUTS / "tpu_like" / "hardware.yaml"),
        str(INPUTS / "tpu_like" / "mapping.yaml"), opt="energy", dump_folder=str(tmp_path),
        loma_show_progress_bar=False, lpf_limit=2,
    )
    reported = [r.cme for r in layer_results(cmes) if r.corrected]
    computed = []
    eager = engine._latency
    monkeypatch.setattr(engine, "_latency", lambda *args: computed.append(1) or eager(*args))
    for cme in reported:
        engine.clear_caches()
        result = engine.evaluate(nest_from_cme(cme), cme.engine.options)
        again = correct_cme_with(cme, result)
        assert again.energy_total == cme.energy_total and not computed, cme.layer.name
        assert again.latency_total2 == cme.latency_total2 > 0 and len(computed) == 1, cme.layer.name
        assert (again.latency_total0, again.latency_total1, again.data_onloading_cycle, again.data_offloading_cycle,
                again.stall_slack_comb, again.systolic_drain_cycle, again.mac_utilization2) == \
               (cme.latency_total0, cme.latency_total1, cme.data_onloading_cycle, cme.data_offloading_cycle,
                cme.stall_slack_comb, cme.systolic_drain_cycle, cme.mac_utilization2)
        assert len(computed) == 1  # once per result, whatever is read
        carried = pickle.loads(pickle.dumps(result))
        assert type(carried.latency) is LatencyParts and carried == result
        computed.clear()
