"""No lost networks (issue 16, item 3): a layer the engine cannot count for a resource limit (its memory
budget, a MemoryError) keeps ZigZag's cost for all its mappings, marked
uncorrected with the reason, and every other layer is still corrected; a bug (any other exception)
still propagates."""

from __future__ import annotations

import pytest
from conftest import INPUTS

import zz_event.zigzag.stages as stages
from zz_event import layer_results, run_zigzag_event_driven
from zz_event.engine.budget import EngineBudgetError, check_budget
from zz_event.zigzag.energy_bound import EnergyThreshold
from zz_event.zigzag.summary import build_summary

LENET = str(INPUTS / "lenet5" / "lenet5.onnx")
TOY_HW, LENET_MAP = str(INPUTS / "toy" / "hardware.yaml"), str(INPUTS / "toy" / "mapping_lenet5.yaml")


def run(tmp_path):
    _e, _l, cmes = run_zigzag_event_driven(LENET, TOY_HW, LENET_MAP, opt="energy", lpf_limit=2,
                                           dump_folder=str(tmp_path), loma_show_progress_bar=False)
    return {layer.name: layer for layer in layer_results(cmes)}, build_summary(cmes)


def conv2(context) -> bool:
    return context.geometry.C == 6  # LeNet-5's conv2 (6 -> 16 channels); conv1 and the Gemms have 1, 400, ...


def failing_on_conv2(error):
    def patched(cme, context, *args):
        if conv2(context):
            raise error
        return original(cme, context, *args)

    original = stages.correct
    return patched


def test_budget_raises_a_memory_error_before_allocating(monkeypatch):
    monkeypatch.setenv("ZZ_EVENT_ENGINE_MEMORY_MB", "1")
    check_budget(2**17, 8, "small table")  # exactly 1 MB: allowed
    with pytest.raises(EngineBudgetError, match=r"would need about 2 MB .* budget of 1 MB"):
        check_budget(2**17 + 1, 16, "big table")


def test_a_layer_over_the_budget_keeps_zigzag_cost_and_the_others_are_corrected(tmp_path, monkeypatch):
    reason = "the engine's per-child element walk would need about 900 MB, over its memory budget of 512 MB"
    monkeypatch.setattr(stages, "correct", failing_on_conv2(EngineBudgetError(reason)))
    layers, summary = run(tmp_path)
    assert layers["conv1"].corrected and layers["fc1"].corrected
    kept = layers["conv2"]
    assert not kept.corrected and kept.uncorrected_reason == reason
    assert (kept.engine, kept.event_driven) == ({}, kept.zigzag)  # ZigZag's own cost, nothing else
    entry = next(e for e in summary["layers"] if e["name"] == "conv2")
    assert (entry["corrected"], entry["uncorrected_reason"]) == (False, reason)


def test_a_memory_error_of_numpy_is_recorded_with_its_message(tmp_path, monkeypatch):
    monkeypatch.setattr(stages, "correct", failing_on_conv2(MemoryError("Unable to allocate 82.7 MiB")))
    layers, _summary = run(tmp_path)
    expected = "the engine ran out of memory (MemoryError: Unable to allocate 82.7 MiB)"
    assert layers["conv2"].uncorrected_reason == expected
    assert layers["conv1"].corrected


def test_a_bug_in_the_engine_propagates(tmp_path, monkeypatch):
    monkeypatch.setattr(stages, "correct", failing_on_conv2(TypeError("unsupported operand")))
    with pytest.raises(TypeError, match="unsupported operand"):
        run(tmp_path)


def gate_failing_on_conv2(error, asked: list):
    """`EnergyThreshold.rules_out`, which the gate below ZigZag's cost model asks before a CME is built, raising
    `error` on conv2's mappings."""
    def patched(self, context, nest):
        if conv2(context):
            asked.append(nest)
            raise error
        return original(self, context, nest)

    original = EnergyThreshold.rules_out
    return patched


def test_a_resource_limit_while_a_mapping_is_bounded_keeps_zigzag_cost(tmp_path, monkeypatch):
    reason = "the engine's per-child element walk would need about 900 MB, over its memory budget of 512 MB"
    asked = []
    monkeypatch.setattr(EnergyThreshold, "rules_out", gate_failing_on_conv2(EngineBudgetError(reason), asked))
    layers, _summary = run(tmp_path)
    assert asked  # the gate was asked about a mapping of conv2 before ZigZag evaluated it
    assert layers["conv2"].uncorrected_reason == reason
    assert layers["conv1"].corrected and layers["fc1"].corrected


def test_a_bug_while_a_mapping_is_bounded_propagates(tmp_path, monkeypatch):
    monkeypatch.setattr(EnergyThreshold, "rules_out", gate_failing_on_conv2(TypeError("unsupported operand"), []))
    with pytest.raises(TypeError, match="unsupported operand"):
        run(tmp_path)
