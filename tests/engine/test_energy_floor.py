"""The energy floor (`engine.energy_floor`) holds for every ordering and allocation of a layer and spatial mapping:
built from one nest, no other order of its loops and no other split of them among the memory levels spends less,
per operand, than its floor at the innermost level plus its floor between levels, under every switch setting. On
random layers, one or several processing elements per level, tiling exact or overshooting."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validation.cases import loop_nests, multi_pe_nests
from zz_event.engine.energy_floor import energy_floor
from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.memo import clear_caches
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS

SWITCHES = [EngineOptions(filter=f, readiness=r) for f in (False, True) for r in (False, True)]


def _other_mapping(nest: LoopNest, rnd: random.Random) -> LoopNest:
    """`nest` with its temporal loops shuffled and each operand's levels' tops drawn anew (the top level keeps
    every loop)."""
    temporal = list(nest.temporal)
    rnd.shuffle(temporal)
    n = len(temporal)
    levels = {}
    for op, ms in nest.levels.items():
        tops = sorted(rnd.randint(0, n) for _ in ms[:-1]) + [n]
        levels[op] = tuple(replace(m, top=top) for m, top in zip(ms, tops))
    return replace(nest, temporal=tuple(temporal), levels=levels)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.one_of(loop_nests(), multi_pe_nests(overshoot=True)), st.randoms(use_true_random=False))
def test_no_ordering_or_allocation_spends_less_than_the_floor(nest, rnd):
    for options in SWITCHES:
        clear_caches()
        floor = energy_floor(nest.without_unit_loops(), options)
        for other in (nest, _other_mapping(nest, rnd), _other_mapping(nest, rnd)):
            result = evaluate(other, options)
            assert result.mac_energy_pj == floor.mac_pj
            for op in OPERANDS:
                energy = sum(lc.energy_pj for lc in result.levels[op])
                assert energy >= (floor.operand_pj[op] + floor.between_pj[op]) * (1 - 1e-12), (op, options, other)


def test_the_floor_between_levels_moves_every_element_once_per_boundary():
    """By hand: a 1-D layer (input 3 wide, kernel 2: 2 outputs) with FX on 2 PEs, each with its own output
    register, under one buffer holding everything. The outputs must reach the buffer at least once each: 2 reads
    up out of the registers, 2 writes into the buffer, at one word each. The engine counts 4 and 3 (the copies of
    an output leave the two PEs at different moments). W and I have one level: nothing moves between levels."""
    port = {d: Port(f"p.{d}", 8, 8) for d in DIRECTIONS}
    level = lambda name, top, served: MemLevel(name, top, frozenset(served), 1.0, 1.0, port, True)  # noqa: E731
    nest = LoopNest(ConvGeometry(B=1, K=1, C=1, y=AxisGeometry(1, 1), x=AxisGeometry(3, 2)), "input",
                    (Loop("IX", 3),), (SpatialLoop("D1", "FX", 2),),
                    {"W": (level("buf", 1, {"D1"}),), "I": (level("buf", 1, {"D1"}),),
                     "O": (level("reg", 0, ()), level("buf", 1, {"D1"}))},
                    {"W": 8, "I": 8, "O": 8, "O_final": 8})
    options = EngineOptions(filter=True, readiness=True)
    floor = energy_floor(nest, options)
    assert floor.between_pj == {"W": 0.0, "I": 0.0, "O": 4.0}
    reg, buf = evaluate(nest, options).levels["O"]
    assert (reg.words["rd_out_to_high"], buf.words["wr_in_by_low"]) == (4, 3)
