"""The search on energy skips orderings by a bound (`engine.energy_floor`, `search.pruned`) and finds what the
exhaustive search finds: the same best mappings in the same order, with the same energies. The bound is a floor: no
ordering's MAC energy or any operand's memory energy falls below it, under every switch setting, and orderings that
share inner loops read W and I within the bound of each other; the distinct elements and step tiles in closed
form are the engine's. LeNet-5 conv1 and conv2 on the toy core and tpu_like (the benchmark layers), lpf 6."""

from __future__ import annotations

import dataclasses
import random
from math import prod

import numpy as np
import pytest
from test_allocation import CASES, CORES, space
from test_cme_builder import PADDED

from zz_event.engine.energy_floor import energy_floor, level0_reads, renewing_dims
from zz_event.engine.evaluate import clear_caches, evaluate
from zz_event.engine.floor_closed_forms import distinct_elements, step_tiles, valid_sets
from zz_event.engine.result import EngineOptions
from zz_event.engine.transfers import sequence_events
from zz_event.model.geometry import AxisGeometry
from zz_event.search.costing import SpaceCoster
from zz_event.search.orderings import loop_factors, orderings
from zz_event.search.ranking import TopK
from zz_event.search.run import layer_spaces
from zz_event.search.stage import SearchLog, search_space

SWITCHES = [EngineOptions(filter=f, readiness=r) for f in (True, False) for r in (True, False)]


@pytest.mark.parametrize(("core", "layer", "options"), [(c, n, None) for c, n in CASES] +
                         [("toy", "conv2", o) for o in SWITCHES[1:]] + [("tpu_like", "conv1", SWITCHES[-1])])
def test_the_bounded_search_keeps_the_exhaustive_searchs_best(core, layer, options):
    s = space(core, layer)
    s.layer.spatial_mapping = s.unrolling
    if options is not None:
        s = dataclasses.replace(s, correction=dataclasses.replace(s.correction, options=options))
    found = {}
    for bound in (True, False):
        clear_caches()
        found[bound] = search_space(s, SearchLog("energy", 5, 6, bound=bound))
    exhaustive, bounded = found[False], found[True]
    assert exhaustive.costed == exhaustive.ranked
    assert bounded.ranked == exhaustive.ranked and bounded.costed <= bounded.ranked
    assert [(f.ordering, f.result.energy_pj) for f in bounded.best] == \
        [(f.ordering, f.result.energy_pj) for f in exhaustive.best]


@pytest.mark.parametrize(("core", "layer"), CASES)
@pytest.mark.parametrize("options", SWITCHES, ids=lambda o: o.label)
def test_no_ordering_costs_less_than_the_floor(core, layer, options):
    s = space(core, layer)
    coster = SpaceCoster.build(s.accelerator, s.layer, s.spatial_mapping, options,
                               s.correction.geometries.get(layer), s.unrolling)
    every = list(orderings(loop_factors(s.accelerator, s.layer, s.spatial_mapping, 6)))
    floor = None
    tight = dict.fromkeys(("W", "I", "O"), False)
    for ordering in every[::3]:
        mapping = coster.fitting(ordering)
        if mapping is None:
            continue
        nest = coster.context.nest(mapping)
        floor = floor or energy_floor(nest, options)
        result = evaluate(nest, options)
        assert result.mac_energy_pj == floor.mac_pj
        for op, levels in result.levels.items():
            energy = sum(lc.energy_pj for lc in levels)
            assert energy >= floor.operand_pj[op] * (1 - 1e-12), (op, ordering)
            tight[op] |= energy <= floor.operand_pj[op] * (1 + 1e-12)
    assert floor is not None
    if core == "toy" and options.filter:  # one element per register step: each input read once is reachable
        assert tight["W"] and tight["I"]
    if core == "toy" and options.readiness:  # every step writes and reads its whole tile, bar first touches
        assert tight["O"]


@pytest.mark.parametrize(("core", "layer"), CASES)
@pytest.mark.parametrize("options", SWITCHES, ids=lambda o: o.label)
def test_an_innermost_renewing_loop_reads_every_step_tile(core, layer, options):
    """`ReadsFloor.every_step`: on every ordering whose innermost loop is of a renewing dimension, or whose innermost
    loops index the operand up to one that renews every block whole (`ReadsFloor.renews`), W's or I's reads out
    of the innermost level cost at least (in fact exactly) the step tiles, each one event. Where it holds
    for a coupled dimension (the inputs' IY/IX on the toy core: every valid set of positions per tap has more
    than one element) it is not vacuous, and where it fails (the weights' FY/FX: position 0 sees tap 0 alone)
    such a dimension is not claimed: some ordering with it innermost reads less."""
    s = space(core, layer)
    coster = SpaceCoster.build(s.accelerator, s.layer, s.spatial_mapping, options,
                               s.correction.geometries.get(layer), s.unrolling)
    floor = None
    checked = dict.fromkeys(("W", "I"), 0)
    deeper = dict.fromkeys(("W", "I"), 0)  # of them, those renewed by a loop other than the innermost
    below = {"W": set(), "I": set()}  # innermost dimensions, not claimed, under which some ordering reads less
    for ordering in orderings(loop_factors(s.accelerator, s.layer, s.spatial_mapping, 6)):
        mapping = coster.fitting(ordering)
        if mapping is None:
            continue
        nest = coster.context.nest(mapping)
        floor = floor or energy_floor(nest, options)
        result = evaluate(nest, options)
        for op in checked:
            reads = floor.reads[op]
            assert reads.renewing == renewing_dims(nest, op, options.filter)  # order-free
            level = result.levels[op][0]
            energy = level.words.get("rd_out_to_low", 0) * nest.levels[op][0].read_cost
            if reads.renews(ordering):
                assert energy >= reads.every_step, (op, ordering)
                assert energy == reads.every_step, (op, ordering)  # the bound is the count
                checked[op] += 1
                deeper[op] += ordering[0][0] not in reads.renewing
            elif energy < reads.every_step:
                below[op].add(ordering[0][0])
    if (core, layer) == ("toy", "conv2"):  # K, C and one loop each of IY and IX: not vacuous
        assert checked["W"] and checked["I"]
        if options.filter:  # FY or FX innermost (with the filter not renewing alone), then K or C: renewing
            assert deeper["W"]
            assert {"IY", "IX"} <= floor.reads["I"].renewing and {"FY", "FX"} <= below["W"]


@pytest.mark.parametrize(("core", "layer"), CASES)
@pytest.mark.parametrize("options", SWITCHES, ids=lambda o: o.label)
def test_innermost_loops_that_do_not_index_the_operand_read_once_per_block(core, layer, options):
    """`ReadsFloor.block_prefix` and `UnitReads`: on every ordering with a prefix whose innermost p loops do not
    index W (or I) and whose next loops renew the tiles, the reads out of the innermost level cost at least one
    read of each executed block's tile of those p loops; on the toy core (one element per processing element,
    all starting a block together) exactly that. Every prefix claimed is checked, not only the longest."""
    s = space(core, layer)
    coster = SpaceCoster.build(s.accelerator, s.layer, s.spatial_mapping, options,
                               s.correction.geometries.get(layer), s.unrolling)
    floor = None
    claimed = dict.fromkeys(("W", "I"), 0)
    tight = dict.fromkeys(("W", "I"), 0)
    beside = dict.fromkeys(("W", "I"), 0)  # claimed thanks to a coupled partner inside the block
    for ordering in orderings(loop_factors(s.accelerator, s.layer, s.spatial_mapping, 6)):
        mapping = coster.fitting(ordering)
        if mapping is None:
            continue
        nest = coster.context.nest(mapping)
        floor = floor or energy_floor(nest, options)
        result = evaluate(nest, options)
        for op in claimed:
            reads = floor.reads[op]
            energy = result.levels[op][0].words.get("rd_out_to_low", 0) * nest.levels[op][0].read_cost
            for d in range(1, len(ordering) + 1):
                p = reads.block_prefix(ordering[:d])
                if not p:
                    continue
                least = floor.units[op].energy(ordering[:p])
                assert energy >= least, (op, ordering, d)
                claimed[op] += 1
                tight[op] += energy == least
                beside[op] += dataclasses.replace(reads, whole_beside=()).block_prefix(ordering[:d]) == 0
    if core == "toy":  # IY, IX below W's K or C, and K, FY, FX below I's C: not vacuous, and the count
        assert claimed["W"] and claimed["I"]
        assert tight == claimed
        if layer == "conv2" and options.filter:  # IY inside, then FY (every tap has a valid position)
            assert beside["W"] and beside["I"]


@pytest.mark.parametrize(("core", "layer"), CASES)
def test_orderings_sharing_inner_loops_read_within_the_bound_of_each_other(core, layer):
    """`ReadsFloor.elements_floor`: two orderings sharing their innermost d loops differ in W's and I's reads out
    of the innermost level by at most (values of the loops above) * cap."""
    s = space(core, layer)
    options = s.correction.options
    coster = SpaceCoster.build(s.accelerator, s.layer, s.spatial_mapping, options,
                               s.correction.geometries.get(layer), s.unrolling)
    reads: dict[str, dict[tuple, int]] = {"W": {}, "I": {}}
    floor = None
    for ordering in orderings(loop_factors(s.accelerator, s.layer, s.spatial_mapping, 6)):
        mapping = coster.fitting(ordering)
        if mapping is None:
            continue
        nest = coster.context.nest(mapping)
        floor = floor or energy_floor(nest, options)
        for op in reads:
            reads[op][ordering] = level0_reads(evaluate(nest, options).levels[op])
    assert set(floor.reads) == {"W", "I"}
    tight = False
    for op, per_ordering in reads.items():
        cap = floor.reads[op].cap
        for d in range(1, len(next(iter(per_ordering)))):
            groups: dict[tuple, list[int]] = {}
            for ordering, count in per_ordering.items():
                groups.setdefault(ordering[:d], []).append(count)
            for prefix, counts in groups.items():
                blocks = prod(size for _, size in next(o for o in per_ordering if o[:d] == prefix)[d:])
                assert min(counts) >= floor.reads[op].elements_floor(max(counts), blocks), (op, prefix)
                tight |= min(counts) < max(counts) and min(counts) - (max(counts) - blocks * cap) < blocks
    if core == "toy":  # not vacuous where the search relies on it: somewhere it comes within a block's worth
        assert tight


@pytest.mark.slow
def test_the_bounded_search_keeps_the_exhaustive_searchs_best_at_lpf_8():
    s = space("toy", "conv2")
    s.layer.spatial_mapping = s.unrolling
    found = {}
    for bound in (True, False):
        clear_caches()
        found[bound] = search_space(s, SearchLog("energy", 5, 8, bound=bound))
    assert found[True].costed < found[False].costed == found[False].ranked == found[True].ranked == 40320
    assert [(f.ordering, f.result.energy_pj) for f in found[True].best] == \
        [(f.ordering, f.result.energy_pj) for f in found[False].best]


class _Count:
    def __init__(self) -> None:
        self.total = 0

    def start(self, layer: str, spatial_index: int, orderings: int) -> None:
        self.expected = orderings

    def advance(self, mappings: int) -> None:
        self.total += mappings


def test_the_progress_hears_of_every_ordering_ruled_out_or_not():
    s = space("toy", "conv2")
    s.layer.spatial_mapping = s.unrolling
    count = _Count()
    found = search_space(s, SearchLog("energy", 5, 6, progress=count))
    assert found.costed < found.ranked
    assert count.total == count.expected == found.orderings == 720


def test_offers_out_of_order_rank_as_offers_in_order():
    rng = random.Random(16)
    for _ in range(200):
        scores = [rng.choice((1.0, 2.0, 3.0, 4.0)) for _ in range(rng.randint(0, 30))]
        k = rng.randint(1, 6)
        in_order, shuffled = TopK(k), TopK(k)
        for n, value in enumerate(scores):
            in_order.offer(value, n)
        places = list(range(len(scores)))
        rng.shuffle(places)
        for n in places:
            shuffled.offer(scores[n], n, arrival=n)
        assert shuffled.best() == in_order.best()
        worst = in_order.worst()
        assert worst == (None if len(scores) < k else in_order.best()[-1][0])


def testvalid_sets_are_the_pairs_the_geometry_calls_valid():
    rng = random.Random(5)
    for _ in range(300):
        axis = AxisGeometry(inp=rng.randint(1, 12), kernel=rng.randint(1, 5), stride=rng.randint(1, 3),
                            dilation=rng.randint(1, 2), pad_before=rng.randint(0, 2), pad_after=rng.randint(0, 2))
        if axis.out < 1:
            continue
        inp, tap = np.meshgrid(np.arange(axis.inp), np.arange(axis.kernel), indexing="ij")
        valid = axis.output_of(inp, tap)[1]
        assert valid_sets(axis, True) == tuple(tuple(np.flatnonzero(valid[:, t]).tolist()) for t in range(axis.kernel))
        assert valid_sets(axis, False) == tuple(tuple(np.flatnonzero(valid[p]).tolist()) for p in range(axis.inp))


@pytest.mark.parametrize(("core", "layer"), CASES + [("toy", "padded conv1")])
def test_the_distinct_elements_and_step_tiles_in_closed_form_are_the_engines(core, layer):
    if layer == "padded conv1":
        hardware, mapping = CORES[core]
        (s,) = layer_spaces(str(PADDED), str(hardware), str(mapping), "conv1")
        layer = "conv1"
    else:
        s = space(core, layer)
    options = EngineOptions(filter=True, readiness=True)
    coster = SpaceCoster.build(s.accelerator, s.layer, s.spatial_mapping, options,
                               s.correction.geometries.get(layer), s.unrolling)
    blocks = 0
    for ordering in list(orderings(loop_factors(s.accelerator, s.layer, s.spatial_mapping, 6)))[::23]:
        mapping = coster.fitting(ordering)
        if mapping is None:
            continue
        nest = coster.context.nest(mapping)
        for op in ("W", "I", "O"):
            served = nest.levels[op][0].served
            closed = distinct_elements(nest, op, served, True)
            assert closed is not None  # every benchmark layer is a product (tpu_like: K and C unserved for W, O)
            events = sequence_events(nest, op, len(nest.temporal), served, True, None, frozenset({"entry"}))
            assert closed == int((events.entry * events.entry_weight).sum()), (op, ordering)
            tiles = step_tiles(nest, op, served, True)
            assert tiles is not None
            events = sequence_events(nest, op, 0, served, True, None, frozenset({"tile"}))
            assert _multiset(tiles) == _multiset(events), (op, ordering)
        for op in ("W", "I"):  # blocks of innermost loops that do not index the operand (`UnitReads`)
            served = nest.levels[op][0].served
            unindexed = energy_floor(nest, options).reads[op].unindexed
            p = 0
            while p < len(nest.temporal) and nest.temporal[p].dim in unindexed:
                p += 1
                tiles = step_tiles(nest, op, served, True, p)
                assert tiles is not None
                events = sequence_events(nest, op, p, served, True, None, frozenset({"tile"}))
                assert _multiset(tiles) == _multiset(events), (op, ordering, p)
                blocks += 1
    assert blocks


def _multiset(steps) -> dict[int, int]:
    """Tile size -> executed (step, instance) pairs holding it."""
    found: dict[int, int] = {}
    for size, weight in zip(steps.tile.ravel().tolist(), steps.tile_weight.ravel().tolist()):
        if weight:
            found[int(size)] = found.get(int(size), 0) + int(weight)
    return found
