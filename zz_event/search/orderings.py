"""The temporal loop orderings of one layer and spatial mapping: the ones ZigZag's LOMA generates.

The loop prime factors (LPFs) and their merging down to the lpf limit are LOMA's own (`LomaEngine`'s
methods, run once per spatial mapping: they are cheap and define the space). The orderings are the
multiset permutations of those factors, innermost loop first, as LOMA's `permutations` gives them, here
generated depth-first so that orderings sharing their innermost loops come one after another (the
engine's least-recently-used memos then keep what those share warm). `tests/search/test_allocation.py`
holds the two sets equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import factorial, prod
from typing import Any

from zigzag.opt.loma.engine import LomaEngine

__all__ = ["LoopFactors", "loop_factors", "ordering_at", "orderings"]

Lpf = tuple[str, int]  # (layer dimension name, factor)


@dataclass(frozen=True)
class LoopFactors:
    """The distinct LPFs of a layer's temporal loops and how often each occurs (in LOMA's order); `dims`
    keeps ZigZag's LayerDim objects by name, for building ZigZag's own mappings later."""

    factors: tuple[Lpf, ...]
    counts: tuple[int, ...]
    dims: dict[str, Any]

    @property
    def count(self) -> int:
        """How many orderings there are (LOMA's `nb_permutations`)."""
        return factorial(sum(self.counts)) // prod(factorial(c) for c in self.counts)


def loop_factors(accelerator: Any, layer: Any, spatial_mapping: Any, lpf_limit: int | None) -> LoopFactors:
    """LOMA's LPFs of `layer` under `spatial_mapping`, merged down to `lpf_limit` as LOMA merges them."""
    engine = LomaEngine(accelerator=accelerator, layer=layer, spatial_mapping=spatial_mapping, mapping_type=None,
                        loma_lpf_limit=lpf_limit)
    engine.temporal_loop_dim_size = engine.get_temporal_loops()
    engine.update_min_lpf_factor(engine.temporal_loop_dim_size)
    engine.get_prime_factors()
    factors: list[Lpf] = []
    counts: list[int] = []
    dims: dict[str, Any] = {}
    for dim, size in engine.lpfs:
        key = (str(dim), int(size))
        dims[key[0]] = dim
        if key in factors:
            counts[factors.index(key)] += 1
        else:
            factors.append(key)
            counts.append(1)
    return LoopFactors(tuple(factors), tuple(counts), dims)


def orderings(lpfs: LoopFactors) -> Iterator[tuple[Lpf, ...]]:
    """Every distinct ordering of the LPFs (innermost first), depth-first from the innermost loop."""
    remaining = list(lpfs.counts)
    factors = lpfs.factors
    n = sum(remaining)
    prefix: list[Lpf] = []

    def extend() -> Iterator[tuple[Lpf, ...]]:
        if len(prefix) == n:
            yield tuple(prefix)
            return
        for k, factor in enumerate(factors):
            if remaining[k]:
                remaining[k] -= 1
                prefix.append(factor)
                yield from extend()
                prefix.pop()
                remaining[k] += 1

    return extend()


def ordering_at(lpfs: LoopFactors, place: int) -> tuple[Lpf, ...]:
    """The `place`-th ordering of `orderings(lpfs)`, without enumerating those before it."""
    remaining = list(lpfs.counts)
    n = sum(remaining)
    below = lpfs.count  # orderings that start with the prefix chosen so far
    chosen: list[Lpf] = []
    for depth in range(n):
        for k in range(len(remaining)):
            if remaining[k]:
                share = below * remaining[k] // (n - depth)  # those that put factor k next
                if place < share:
                    break
                place -= share
        chosen.append(lpfs.factors[k])
        remaining[k] -= 1
        below = share
    return tuple(chosen)
