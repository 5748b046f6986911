"""Random mapped layers (`LoopNest` literals, no ZigZag needed) for engine-vs-simulator exactness tests.

`loop_nests()` is a hypothesis strategy: input- or output-centric layers with stride 1-3, asymmetric
padding 0-2, dilation 1-2, kernels 1-5, inputs 1-12 (the kernel fits), B/K/C 1-4 (G 1-2); random
spatial unrollings on up to three array dimensions (any dimension, including the position and tap
ones); every dimension split into random temporal loops, shuffled into a random order (with
`overshoot=True`, loop products may exceed a dimension's size: the extra indices are no iterations);
per operand 1-3 memory levels with random tops, served
array dimensions (register levels serve none), partial-sum flags, ports and memories shared across
operands. `data_masks(geometry)` draws which input elements are non-zero (events from data).
"""

from __future__ import annotations

from math import ceil

from hypothesis import strategies as st

from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS

__all__ = ["MASK_KINDS", "axis_geometries", "data_masks", "loop_nests", "multi_pe_nests"]

ARRAY_DIMS = ("D1", "D2", "D3")
MEMORIES = ("reg", "lb", "gb", "dram")


@st.composite
def axis_geometries(draw) -> AxisGeometry:
    while True:
        geo = AxisGeometry(
            inp=draw(st.integers(1, 12)), kernel=draw(st.integers(1, 5)), stride=draw(st.integers(1, 3)),
            dilation=draw(st.integers(1, 2)), pad_before=draw(st.integers(0, 2)), pad_after=draw(st.integers(0, 2)),
        )
        if geo.out >= 1:
            return geo


@st.composite
def _split(draw, size: int, overshoot: bool, max_loops: int = 3) -> list[int]:
    """Loop sizes (each >= 2) whose product covers `size`: exact factors or overshooting ceilings."""
    loops: list[int] = []
    remaining = size
    while remaining > 1 and len(loops) < max_loops:
        if len(loops) == max_loops - 1:
            r = remaining
        else:
            divisors = [d for d in range(2, remaining + 1) if remaining % d == 0]
            exact = not overshoot or draw(st.booleans())
            r = draw(st.sampled_from(divisors)) if exact else draw(st.integers(2, remaining))
        loops.append(r)
        remaining = ceil(remaining / r)
    return loops


@st.composite
def _ports(draw, memory: str, op: str) -> dict[str, Port]:
    ports = {}
    for direction in DIRECTIONS:
        shared = draw(st.booleans())
        kind = "rd" if direction.startswith("rd") else "wr"
        name = f"{memory}.{kind}" if shared else f"{memory}.{op}.{direction}"
        bw_min = draw(st.sampled_from([8, 16, 32, 64, 128]))
        ports[direction] = Port(name, bw_min, bw_min * draw(st.sampled_from([1, 1, 2, 4])))
    return ports


@st.composite
def loop_nests(draw, overshoot: bool = True) -> LoopNest:
    """A random mapped layer; `overshoot=False` keeps every dimension's loops an exact factorisation."""
    centric = draw(st.sampled_from(["input", "output"]))
    geo = ConvGeometry(
        B=draw(st.integers(1, 4)), K=draw(st.integers(1, 4)), C=draw(st.integers(1, 4)),
        y=draw(axis_geometries()), x=draw(axis_geometries()), G=draw(st.sampled_from([1, 1, 1, 2])),
    )
    pos = ("IY", "IX") if centric == "input" else ("OY", "OX")
    sizes = {"B": geo.B, "G": geo.G, "K": geo.K, "C": geo.C, "FY": geo.y.kernel, "FX": geo.x.kernel,
             pos[0]: geo.y.inp if centric == "input" else geo.OY, pos[1]: geo.x.inp if centric == "input" else geo.OX}
    n_arrays = draw(st.integers(1, 3))
    spatial: list[SpatialLoop] = []
    temporal: list[Loop] = []
    for dim, size in sizes.items():
        remaining = size
        divisors = [d for d in range(2, min(size, 6) + 1) if size % d == 0]
        if (overshoot or divisors) and size > 1 and draw(st.integers(0, 3)) == 0:
            s = draw(st.integers(2, min(size + 1, 4))) if overshoot else draw(st.sampled_from(divisors))
            spatial.append(SpatialLoop(ARRAY_DIMS[draw(st.integers(0, n_arrays - 1))], dim, s))
            remaining = ceil(size / s)
        temporal += [Loop(dim, r) for r in draw(_split(remaining, overshoot))]
    spatial = draw(st.permutations(spatial)) if spatial else []
    temporal = draw(st.permutations(temporal)) if temporal else []
    arrays = sorted({sl.array_dim for sl in spatial}) or ["D1"]
    levels: dict[str, tuple[MemLevel, ...]] = {}
    for op in OPERANDS:
        n_levels = draw(st.integers(1, 3))
        cuts = sorted(draw(st.lists(st.integers(0, len(temporal)), min_size=n_levels - 1, max_size=n_levels - 1)))
        tops = cuts + [len(temporal)]
        mems = sorted(draw(st.lists(st.integers(0, len(MEMORIES) - 1), min_size=n_levels, max_size=n_levels,
                                    unique=True)))
        out = []
        for j, top in enumerate(tops):
            memory = MEMORIES[mems[j]]
            served = frozenset(a for a in arrays if draw(st.booleans())) if memory != "reg" else frozenset()
            out.append(MemLevel(
                name=memory, top=top, served=served,
                read_cost=draw(st.sampled_from([0.5, 1.0, 2.5, 10.5])),
                write_cost=draw(st.sampled_from([0.7, 1.5, 12.8])),
                ports=draw(_ports(memory, op)), psum=draw(st.booleans()) if op == "O" else False,
            ))
        levels[op] = tuple(out)
    return LoopNest(
        geometry=geo, centric=centric, temporal=tuple(temporal), spatial=tuple(spatial), levels=levels,
        precision={"W": draw(st.sampled_from([4, 8, 16])), "I": draw(st.sampled_from([8, 16])),
                   "O": draw(st.sampled_from([16, 24, 32])), "O_final": draw(st.sampled_from([8, 16]))},
        mac_energy=draw(st.sampled_from([0.0, 0.04, 0.5])),
        dense_relation={"Y": (draw(st.integers(1, 2)), draw(st.integers(1, 2))),
                        "X": (draw(st.integers(1, 2)), draw(st.integers(1, 2)))},
    )


COUPLED = {"input": ("IY", "IX", "FY", "FX"), "output": ("OY", "OX", "FY", "FX")}


@st.composite
def multi_pe_nests(draw, overshoot: bool = False, uncoupled_max: int = 2, axis_max: int = 6) -> LoopNest:
    """A random layer whose processing elements share output elements: one or two of the position and tap
    dimensions (and maybe one of B, K, C) unrolled over up to three array dimensions, per-PE registers at
    level 0 (always for outputs) under one or two shared levels, the top one serving every array. K and C
    are at most `uncoupled_max` (above 3, their loops can repeat iterations the union walks skip), inputs
    at most `axis_max` wide (wide ones give position loops an interior of translated iterations)."""
    centric = draw(st.sampled_from(["input", "input", "input", "output"]))
    geo = ConvGeometry(
        B=draw(st.integers(1, 2)), K=draw(st.integers(1, uncoupled_max)), C=draw(st.integers(1, uncoupled_max)),
        y=draw(_small_axis(axis_max)), x=draw(_small_axis(axis_max)),
    )
    pos = COUPLED[centric][:2]
    sizes = {"B": geo.B, "K": geo.K, "C": geo.C, "FY": geo.y.kernel, "FX": geo.x.kernel,
             pos[0]: geo.y.inp if centric == "input" else geo.OY, pos[1]: geo.x.inp if centric == "input" else geo.OX}
    unrolled = draw(st.lists(st.sampled_from([d for d in COUPLED[centric] if sizes[d] > 1] or ["FX"]),
                             min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        unrolled.append(draw(st.sampled_from(["B", "K", "C"])))
    spatial, temporal = [], []
    for dim, size in sizes.items():
        remaining = size
        divisors = [d for d in range(2, min(size, 3) + 1) if size % d == 0]
        if dim in unrolled and size > 1 and (overshoot or divisors):
            s = draw(st.integers(2, min(size + 1, 3))) if overshoot else draw(st.sampled_from(divisors))
            spatial.append(SpatialLoop(ARRAY_DIMS[len(spatial)], dim, s))
            remaining = ceil(size / s)
        temporal += [Loop(dim, r) for r in draw(_split(remaining, overshoot, 2))]
    temporal = draw(st.permutations(temporal)) if temporal else []
    arrays = frozenset(sl.array_dim for sl in spatial)
    levels = {op: draw(_shared_levels(op, len(temporal), arrays, per_pe=op == "O" or draw(st.booleans())))
              for op in OPERANDS}
    return LoopNest(
        geometry=geo, centric=centric, temporal=tuple(temporal), spatial=tuple(spatial), levels=levels,
        precision={"W": 8, "I": 8, "O": draw(st.sampled_from([16, 24])), "O_final": 8},
        dense_relation={"Y": (1, 1), "X": (1, draw(st.integers(1, 2)))},
    )


@st.composite
def _small_axis(draw, inp_max: int = 6) -> AxisGeometry:
    while True:
        geo = AxisGeometry(inp=draw(st.integers(1, inp_max)), kernel=draw(st.integers(1, 3)),
                           stride=draw(st.integers(1, 2)), dilation=draw(st.integers(1, 2)),
                           pad_before=draw(st.integers(0, 1)), pad_after=draw(st.integers(0, 1)))
        if geo.out >= 1:
            return geo


@st.composite
def _shared_levels(draw, op: str, n_loops: int, arrays: frozenset[str], per_pe: bool) -> tuple[MemLevel, ...]:
    n_levels = draw(st.integers(2, 3))
    tops = sorted(draw(st.lists(st.integers(0, n_loops), min_size=n_levels - 1, max_size=n_levels - 1))) + [n_loops]
    served = [frozenset() if per_pe else frozenset(a for a in arrays if draw(st.booleans()))]
    if n_levels == 3:
        served.append(served[0] | frozenset(a for a in arrays if draw(st.booleans())))
    served.append(arrays)
    return tuple(
        MemLevel(name=MEMORIES[j], top=top, served=srv, read_cost=1.0, write_cost=1.5,
                 ports=draw(_ports(MEMORIES[j], op)), psum=draw(st.booleans()) if op == "O" else False)
        for j, (top, srv) in enumerate(zip(tops, served))
    )


MASK_KINDS = ("random", "blobs", "pixels", "zeros", "ones")


@st.composite
def data_masks(draw, geometry: ConvGeometry, kind: str | None = None):
    """A data mask (B, G, C, IY, IX) of bools for a layer's input: `random` (each element non-zero with a
    drawn density), `blobs` (a few filled rectangles, the clustering of real activations), `pixels` (one to
    three single non-zero elements), `zeros`, `ones`."""
    import numpy as np

    g = geometry
    shape = (g.B, g.G, g.C, g.y.inp, g.x.inp)
    kind = kind or draw(st.sampled_from(MASK_KINDS))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    if kind in ("zeros", "ones"):
        return np.full(shape, kind == "ones"), kind
    if kind == "random":
        return rng.random(shape) < draw(st.sampled_from([0.1, 0.3, 0.5, 0.8])), kind
    mask = np.zeros(shape, dtype=bool)
    flat = mask.reshape(-1, g.y.inp, g.x.inp)
    for _ in range(draw(st.integers(1, 3))):
        plane, y, x = (int(rng.integers(n)) for n in (flat.shape[0], g.y.inp, g.x.inp))
        if kind == "pixels":
            flat[plane, y, x] = True
        else:
            flat[plane, y:y + int(rng.integers(1, 4)), x:x + int(rng.integers(1, 4))] = True
    return mask, kind
