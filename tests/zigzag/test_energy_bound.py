"""Below ZigZag's reducer on energy the correction skips mappings that cannot be its pick (`zigzag.energy_bound`):
the pick, its energy and latency are those of the run that corrects every mapping, on LeNet-5's conv layers on the
toy core and on tpu_like under the switch settings ZigZag ranks; mappings are skipped; none is where the ranking
is on data."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import INPUTS
from zigzag.stages.stage import Stage

import zz_event.zigzag.stages as zz_stages
from zz_event.engine.energy_floor import energy_floor
from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.memo import clear_caches
from zz_event.model.vocabulary import OPERANDS
from zz_event.readers.workloads import load_workload
from zz_event.zigzag.correction import correct
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import EnergyBoundedCorrectionStage, EventDrivenCorrectionStage, correction_stage

TOY = (INPUTS / "toy/hardware.yaml", INPUTS / "toy/mapping_lenet5.yaml")
TPU = (INPUTS / "tpu_like/hardware.yaml", INPUTS / "tpu_like/mapping.yaml")


def conv(name: str, k: int, c: int, size: int) -> dict:
    """A LeNet-5 5x5 conv layer, input-centric, as zz-event's YAML reader takes it."""
    return {"id": 0, "name": name, "operator_type": "Conv",
            "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
            "dimension_relations": ["ox=1*ix+1*fx", "oy=1*iy+1*fy"],
            "loop_dims": ["B", "K", "C", "IY", "IX", "FY", "FX"], "loop_sizes": [1, k, c, size, size, 5, 5],
            "operand_precision": {"W": 8, "I": 8, "O": 16, "O_final": 8}, "operand_source": {"I": 0, "W": 0}}


CONV1, CONV2 = conv("conv1", 6, 1, 32), conv("conv2", 16, 6, 14)


class _Counted(Stage):
    """Passes every CME up and counts them (subclassed per place, so that each keeps its own count)."""

    count = 0

    def run(self):
        for item in self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs).run():
            type(self).count += 1
            yield item


def search(layer: dict, core: tuple, correction, options: EngineOptions, lpf: int, masks=None, *, tmp):
    """(ZigZag's pick, CMEs handed up to the reducer, CMEs LOMA evaluated) of one energy search of `layer`."""
    clear_caches()
    above = type("Above", (_Counted,), {"count": 0})
    below = type("Below", (_Counted,), {"count": 0})
    prepared = load_workload([layer])
    settings = RunSettings(opt="energy", lpf_limit=lpf, loma_show_progress_bar=False)
    corrected = CorrectionSettings.for_workload(prepared, options=options, masks=masks or {})
    hardware, mapping = core
    cmes = main_stage(_with_counters(settings, correction, above, below), settings, corrected,
                      accelerator=str(hardware), workload=prepared.zigzag_workload, mapping=str(mapping),
                      dump_folder=str(tmp), pickle_filename=str(tmp / "cmes.pickle")).run()
    return cmes[0][1][0][0], above.count, below.count


def _with_counters(settings, correction, above, below) -> list:
    """The stage list with `correction`, a counter of what it hands up placed between it and the reducer (it passes
    every CME on, so the reducer sees what the correction hands up) and one of what LOMA evaluates below it."""
    stages = build_stages(settings, [correction, below])
    place = stages.index(correction)
    return [*stages[:place], above, *stages[place:]]


@pytest.mark.parametrize(("layer", "core"), [(CONV1, TOY), (CONV2, TOY), (CONV1, TPU), (CONV2, TPU)],
                         ids=["conv1-toy", "conv2-toy", "conv1-tpu_like", "conv2-tpu_like"])
@pytest.mark.parametrize("options", [EngineOptions(), EngineOptions(filter=False, readiness=False)],
                         ids=lambda o: o.label)
def test_the_pick_is_the_one_of_every_mapping_corrected(layer, core, options, tmp_path):
    every, handed_all, evaluated = search(layer, core, EventDrivenCorrectionStage, options, 4, tmp=tmp_path)
    pick, handed_up, evaluated_bounded = search(layer, core, EnergyBoundedCorrectionStage, options, 4, tmp=tmp_path)
    assert handed_all == evaluated == evaluated_bounded
    assert 0 < handed_up < evaluated  # some are skipped, and the pick is handed up
    assert (pick.energy_total, pick.latency_total2, str(pick.temporal_mapping)) == \
           (every.energy_total, every.latency_total2, str(every.temporal_mapping))
    assert pick.engine.levels == every.engine.levels


def test_nothing_is_skipped_where_the_ranking_is_on_data(tmp_path):
    """Events from data fall below the dense floor: every mapping of a layer ranked on data is corrected."""
    masks = {"conv2": np.random.default_rng(0).random((2, 6, 14, 14)) < 0.3}
    _, handed_up, evaluated = search(CONV2, TOY, EnergyBoundedCorrectionStage, EngineOptions(), 3, masks, tmp=tmp_path)
    assert handed_up == evaluated


def test_the_correction_stage_of_each_reducer():
    assert correction_stage("energy") is EnergyBoundedCorrectionStage
    assert correction_stage("latency") is correction_stage("EDP") is EventDrivenCorrectionStage
    assert build_stages(RunSettings(opt="energy"))[-3] is EnergyBoundedCorrectionStage


@pytest.mark.parametrize(("layer", "core"), [(CONV1, TOY), (CONV2, TPU)], ids=["conv1-toy", "conv2-tpu_like"])
@pytest.mark.parametrize("options", [EngineOptions(), EngineOptions(filter=False, readiness=False)],
                         ids=lambda o: o.label)
def test_no_mapping_of_zigzags_search_spends_less_than_its_bound(layer, core, options, tmp_path, monkeypatch):
    """Per operand, every mapping LOMA evaluates counts at least the bound the correction skips by: its floor (with
    the reads its innermost loops imply) and its floor between levels."""
    counted = []

    def recorded(cme, nest, settings, masks):
        counted.append(nest)
        return correct(cme, nest, settings, masks)

    monkeypatch.setattr(zz_stages, "correct", recorded)
    search(layer, core, EventDrivenCorrectionStage, options, 4, tmp=tmp_path)
    floor = energy_floor(counted[0], options)
    assert any(floor.between_pj.values()) == (core is TPU)  # the toy core has one memory level per operand
    for nest in counted:
        result = evaluate(nest, options)
        assert result.mac_energy_pj == floor.mac_pj
        for op in OPERANDS:
            bound = floor.least(op, nest.loop_pairs) + floor.between_pj[op]
            assert sum(lc.energy_pj for lc in result.levels[op]) >= bound * (1 - 1e-12), (op, nest.loop_pairs)
