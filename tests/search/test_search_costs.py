"""The search's cost of a mapping is the correction's: the same nest as the correction reads from ZigZag's
CostModelEvaluation of that mapping, `evaluate`'s energy and latency bit for bit (the energy-only path too), the
logged LOMA space's `event_driven_energy_pj` on every one of its orderings, and ZigZag's corrected CMEs for the
mappings it keeps."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT
from test_allocation import CORES, LENET, space
from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.opt.loma.memory_allocator import MemoryAllocator

from zz_event.engine.evaluate import evaluate
from zz_event.search import run_search
from zz_event.search.costing import SpaceCoster
from zz_event.search.orderings import loop_factors, orderings
from zz_event.zigzag.adapter import context_of_cme, mapping_of_cme
from zz_event.zigzag.correction import correct_cme

MAPSPACE = ROOT / "validation" / "results" / "mapspace" / "lenet5_toy_lpf6.csv"


def coster_of(s) -> SpaceCoster:
    return SpaceCoster.build(s.accelerator, s.layer, s.spatial_mapping, s.correction.options,
                             s.correction.geometries.get(s.layer.name), s.unrolling)


@pytest.mark.parametrize(("core", "layer"), [(c, n) for c in CORES for n in ("conv1", "conv2")])
def test_search_cost_is_the_corrections_on_a_sample_of_orderings(core, layer):
    s = space(core, layer)
    s.layer.spatial_mapping = s.unrolling
    coster = coster_of(s)
    dims = {str(d): d for d in s.layer.layer_dim_sizes.data}
    sample = list(orderings(loop_factors(s.accelerator, s.layer, s.spatial_mapping, 6)))[::60]
    assert len(sample) == 12
    for ordering in sample:
        temporal = MemoryAllocator(s.accelerator, s.layer, s.spatial_mapping, [(dims[d], f) for d, f in ordering],
                                   s.temporal_mapping_type).run()
        cme = CostModelEvaluation(accelerator=s.accelerator, layer=s.layer, spatial_mapping=s.spatial_mapping,
                                  spatial_mapping_int=s.spatial_mapping_int, temporal_mapping=temporal,
                                  access_same_data_considered_as_no_access=True)
        mapping, result = coster.result(ordering)
        assert mapping == mapping_of_cme(cme)
        corrected = correct_cme(cme, s.correction)
        reference = evaluate(context_of_cme(cme, *s.correction.geometries[layer]).nest(mapping_of_cme(cme)),
                             s.correction.options)
        assert result.energy_pj == reference.energy_pj == corrected.engine.energy_pj
        assert result.latency_cycles == reference.latency_cycles == corrected.latency_total2
        assert result.levels == reference.levels
        assert coster.energy(ordering) == (mapping, reference.energy_pj)
        assert corrected.energy_total == pytest.approx(result.energy_pj, rel=1e-12)


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_search_energy_is_the_logged_event_driven_energy_on_every_ordering(layer):
    """lenet5_toy_lpf6.csv logged every mapping LOMA evaluated (zz-event mapspace): the search costs each of
    its orderings to the logged event-driven energy exactly, and its latency on a sample."""
    rows = pd.read_csv(MAPSPACE)
    rows = rows[rows.layer == layer]
    assert len(rows) == 720
    s = space("toy", layer)
    s.layer.spatial_mapping = s.unrolling
    coster = coster_of(s)
    for n, (text, energy, latency) in enumerate(zip(rows.temporal_ordering, rows.event_driven_energy_pj,
                                                     rows.event_driven_latency_cycles)):
        ordering = tuple((loop.rstrip("0123456789"), int(loop[len(loop.rstrip("0123456789")):]))
                         for loop in text.split())
        assert coster.energy(ordering)[1] == energy, text
        if n % 40 == 0:
            assert coster.cost(ordering)[1].latency_cycles == latency, text


def test_the_kept_mappings_are_the_best_and_are_corrected_cmes():
    rows = pd.read_csv(MAPSPACE)
    hardware, mapping = CORES["toy"]
    log, _ = run_search(str(LENET), str(hardware), str(mapping), opt="energy", lpf_limit=6, top_k=4,
                        layers=("conv1", "conv2"))
    assert [s.layer for s in log.searches] == ["conv1", "conv2"]
    for search in log.searches:
        logged = rows[rows.layer == search.layer].event_driven_energy_pj
        assert search.orderings == search.ranked == 720
        energies = [found.result.energy_pj for found in search.best]
        assert energies == sorted(logged)[:4]
        for found in search.best:
            assert found.cme.energy_total == pytest.approx(found.result.energy_pj, rel=1e-12)
            assert found.cme.latency_total2 == found.result.latency_cycles
            assert " ".join(f"{d}{f}" for d, f in found.ordering) in set(rows.temporal_ordering)


@pytest.mark.parametrize("opt", ["latency", "EDP"])
def test_latency_and_edp_searches_find_the_logged_minimum(opt):
    rows = pd.read_csv(MAPSPACE)
    rows = rows[rows.layer == "conv2"]
    logged = rows.event_driven_latency_cycles if opt == "latency" else (
        rows.event_driven_energy_pj * rows.event_driven_latency_cycles)
    hardware, mapping = CORES["toy"]
    log, _ = run_search(str(LENET), str(hardware), str(mapping), opt=opt, lpf_limit=6, top_k=3, layers=("conv2",))
    (search,) = log.searches
    found = [f.result.latency_cycles if opt == "latency" else f.result.energy_pj * f.result.latency_cycles
             for f in search.best]
    assert found == sorted(logged)[:3]
