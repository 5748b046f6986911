"""Below ZigZag's reducer on energy the correction skips mappings that cannot be its pick (`zigzag.energy_bound`),
before ZigZag evaluates them: the pick, its energy and latency are those of the run that corrects every mapping, on
LeNet-5's conv layers on the toy core and on tpu_like under the switch settings ZigZag ranks; mappings are skipped;
none is where the ranking is on data; a stage between the correction and the generator still sees every mapping;
the gate reads a temporal mapping as the correction reads its CME."""

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
from zz_event.zigzag.adapter import mapping_of_cme, mapping_of_temporal
from zz_event.zigzag.correction import correct
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.psum_flags import PsumFlags
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import (
    EnergyBoundedCorrectionStage,
    EventDrivenCorrectionStage,
    SkippingCostModelStage,
    correction_stage,
)

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
RESNET_3X3 = {**conv("resnet18_3x3", 64, 64, 56), "loop_sizes": [1, 64, 64, 56, 56, 3, 3], "zz_event": {"padding": 1}}


class _Counted(Stage):
    """Passes every CME up and counts them (subclassed per place, so that each keeps its own count)."""

    count = 0

    def run(self):
        for item in self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs).run():
            type(self).count += 1
            yield item


class _CountedCostModel(SkippingCostModelStage):
    """The bottom stage, counting the temporal mappings LOMA hands it and the CMEs it builds."""

    generated = built = 0

    def run(self):
        type(self).generated += 1
        for item in super().run():
            type(self).built += 1
            yield item


def search(layer: dict, core: tuple, correction, options: EngineOptions, lpf: int, masks=None, *, tmp,
           between: bool = False):
    """(ZigZag's pick, CMEs handed up to the reducer, CMEs ZigZag built, temporal mappings LOMA generated, CMEs a
    stage between the correction and the generator saw, if `between`) of one energy search of `layer`."""
    clear_caches()
    above = type("Above", (_Counted,), {"count": 0})
    below = type("Below", (_Counted,), {"count": 0})
    bottom = type("Bottom", (_CountedCostModel,), {"generated": 0, "built": 0})
    prepared = load_workload([layer])
    settings = RunSettings(opt="energy", lpf_limit=lpf, loma_show_progress_bar=False)
    corrected = CorrectionSettings.for_workload(prepared, options=options, masks=masks or {})
    hardware, mapping = core
    stages = _with_counters(settings, correction, above, [below] if between else [], bottom)
    cmes = main_stage(stages, settings, corrected, accelerator=str(hardware), workload=prepared.zigzag_workload,
                      mapping=str(mapping), dump_folder=str(tmp), pickle_filename=str(tmp / "cmes.pickle")).run()
    return cmes[0][1][0][0], above.count, bottom.built, bottom.generated, below.count if between else None


def _with_counters(settings, correction, above, between: list, bottom) -> list:
    """The stage list with `correction`, a counter of what it hands up placed between it and the reducer (it passes
    every CME on, so the reducer sees what the correction hands up), `between` it and the generator, and a counting
    bottom stage."""
    stages = build_stages(settings, [correction, *between])
    assert stages[-1] is SkippingCostModelStage
    place = stages.index(correction)
    return [*stages[:place], above, *stages[place:-1], bottom]


@pytest.mark.parametrize(("layer", "core"), [(CONV1, TOY), (CONV2, TOY), (CONV1, TPU), (CONV2, TPU)],
                         ids=["conv1-toy", "conv2-toy", "conv1-tpu_like", "conv2-tpu_like"])
@pytest.mark.parametrize("options", [EngineOptions(), EngineOptions(filter=False, readiness=False)],
                         ids=lambda o: o.label)
def test_the_pick_is_the_one_of_every_mapping_corrected(layer, core, options, tmp_path):
    every, handed_all, built_all, generated, _ = search(layer, core, EventDrivenCorrectionStage, options, 4,
                                                        tmp=tmp_path)
    pick, handed_up, built, generated_bounded, _ = search(layer, core, EnergyBoundedCorrectionStage, options, 4,
                                                          tmp=tmp_path)
    assert handed_all == built_all == generated == generated_bounded
    assert handed_up == built  # every CME ZigZag builds is corrected and handed up
    assert 0 < built < generated  # some mappings are skipped before ZigZag evaluates them, and the pick is not
    assert (pick.energy_total, pick.latency_total2, str(pick.temporal_mapping)) == \
           (every.energy_total, every.latency_total2, str(every.temporal_mapping))
    assert pick.engine.levels == every.engine.levels


@pytest.mark.parametrize(("layer", "core"), [(CONV2, TOY), (CONV1, TPU)], ids=["conv2-toy", "conv1-tpu_like"])
def test_a_stage_between_the_correction_and_the_generator_sees_every_mapping(layer, core, tmp_path):
    """Someone else's stage below the bounded correction (the front door's `extra_stages`) sees every CME: ZigZag
    evaluates every mapping, and the bound spares only their correction; the pick is the same."""
    every, *_ = search(layer, core, EventDrivenCorrectionStage, EngineOptions(), 4, tmp=tmp_path)
    pick, handed_up, built, generated, seen = search(layer, core, EnergyBoundedCorrectionStage, EngineOptions(), 4,
                                                     tmp=tmp_path, between=True)
    assert seen == built == generated
    assert 0 < handed_up < generated
    assert (pick.energy_total, pick.latency_total2, str(pick.temporal_mapping)) == \
           (every.energy_total, every.latency_total2, str(every.temporal_mapping))


def test_nothing_is_skipped_where_the_ranking_is_on_data(tmp_path):
    """Events from data fall below the dense floor: every mapping of a layer ranked on data is corrected."""
    masks = {"conv2": np.random.default_rng(0).random((2, 6, 14, 14)) < 0.3}
    _, handed_up, built, generated, _ = search(CONV2, TOY, EnergyBoundedCorrectionStage, EngineOptions(), 3, masks,
                                               tmp=tmp_path)
    assert handed_up == built == generated


def test_the_correction_stage_of_each_reducer():
    assert correction_stage("energy") is EnergyBoundedCorrectionStage
    assert correction_stage("latency") is correction_stage("EDP") is EventDrivenCorrectionStage
    assert build_stages(RunSettings(opt="energy"))[-3] is EnergyBoundedCorrectionStage
    assert build_stages(RunSettings(opt="latency"))[-1] is SkippingCostModelStage  # ZigZag's own without the gate


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


@pytest.mark.parametrize(("layer", "core"), [(CONV1, TOY), (CONV2, TPU), (RESNET_3X3, TPU)],
                         ids=["conv1-toy", "conv2-tpu_like", "resnet3x3-tpu_like"])
def test_the_gate_reads_each_mapping_as_the_correction_reads_its_cme(layer, core, tmp_path, monkeypatch):
    """The gate reads a temporal mapping before ZigZag builds its CME (its psum flags from `PsumFlags`, not from
    ZigZag's `Mapping`); for every mapping LOMA evaluates, that is what the correction reads from the CME."""
    read = []

    def recorded(cme, nest, settings, masks):
        psum = PsumFlags(cme.layer, cme.spatial_mapping)
        read.append((mapping_of_temporal(cme.temporal_mapping, psum), mapping_of_cme(cme)))
        return correct(cme, nest, settings, masks)

    monkeypatch.setattr(zz_stages, "correct", recorded)
    search(layer, core, EventDrivenCorrectionStage, EngineOptions(), 4, tmp=tmp_path)
    assert read and all(before == after for before, after in read)
    assert any(any(after[2]) for _, after in read)  # some output level holds partial sums
