"""Blocks of unequal size: relevant uncoupled dimensions whose loops overshoot their size.

A tile's extent along a relevant uncoupled dimension is the number of valid indices among those its
free digits reach from the offset its fixed digits set. When the loops tile the dimension exactly that
is the same for every tile; when they overshoot, the last offsets reach past the end and see fewer
(possibly none). The fixed digits of such a dimension are either spatial digits the level does not
serve (they tell instances apart) or temporal loops above the innermost relevant one (each value starts
a new block, across which tiles share nothing). So every (instance, block) pair is an ordinary block
whose tiles carry `rho` elements of the relevant uncoupled dimensions instead of a common factor.

That holds only while no tile is empty: a skipped block would let the blocks on either side of it,
which may hold the same data, follow each other. An overshooting dimension the operand does not depend
on matters only by emptying tiles. So the per-axis backend takes a level only where no overshooting
dimension empties one of its tiles (`never_empties`); the explicit walk takes the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from zz_event.engine.axes import RELEVANT_UNCOUPLED, Digit, digit_fixed, dim_digits
from zz_event.engine.tiles import UNCOUPLED, _exact_dim
from zz_event.memo import lru_cache
from zz_event.model.nest import LoopNest

__all__ = ["RelevantBlocks", "never_empties", "relevant_blocks"]


def never_empties(nest: LoopNest, n_inner: int, served: frozenset[str]) -> bool:
    """No overshooting dimension empties a tile: even its largest fixed offset leaves a valid index
    (the free digits at zero)."""
    for dim in UNCOUPLED:
        if _exact_dim(nest, dim):
            continue
        reach = sum((d.size - 1) * d.weight for d in dim_digits(nest, dim) if digit_fixed(d, n_inner, served))
        if reach >= nest.dim_size(dim):
            return False
    return True


@dataclass(frozen=True)
class RelevantBlocks:
    """rho[s, t]: elements of the relevant uncoupled dimensions in every tile of instance s in block t.

    s runs over the unserved spatial digits of overshooting relevant dimensions, t over their temporal
    loops above the tile in sequence order (outer loops most significant)."""

    rho: np.ndarray  # (n_s, n_t) int64, all positive (`never_empties`)
    temporal_loops: frozenset[int]  # loop indices t spans (all among the level's symmetric loops)
    spatial_digits: tuple[Digit, ...]  # digits s spans (all among its replicated spatial digits)

    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct rho values and how many (instance, block) pairs have each."""
        if self.rho.size == 1:
            return self.rho.ravel(), np.ones(1, dtype=np.int64)
        values, counts = np.unique(self.rho, return_counts=True)
        return values.astype(np.int64), counts.astype(np.int64)

    @property
    def pairs(self) -> int:
        return self.rho.size

    def first(self) -> np.ndarray:
        """Per instance: rho of its first block."""
        return self.rho[:, 0]

    def last(self) -> np.ndarray:
        """Per instance: rho of its last block."""
        return self.rho[:, -1]


def relevant_blocks(nest: LoopNest, op: str, n_inner: int, served: frozenset[str]) -> RelevantBlocks:
    free = lambda d: not digit_fixed(d, n_inner, served)  # noqa: E731
    dims = RELEVANT_UNCOUPLED[op]
    exact = prod(d.size for dim in dims if _exact_dim(nest, dim) for d in dim_digits(nest, dim) if free(d))
    over = [dim for dim in dims if not _exact_dim(nest, dim)]
    if not over:  # the common case: one block size
        return _uniform_blocks(exact)
    fixed = [d for dim in over for d in dim_digits(nest, dim) if not free(d)]
    spatial = tuple(d for d in fixed if d.temporal is None)
    temporal = sorted((d for d in fixed if d.temporal is not None), key=lambda d: d.temporal)
    n_s, n_t = prod(d.size for d in spatial), prod(d.size for d in temporal)
    s_idx = np.arange(n_s, dtype=np.int64)[:, None]
    t_idx = np.arange(n_t, dtype=np.int64)[None, :]
    offsets = {dim: np.zeros((1, 1), dtype=np.int64) for dim in over}
    for digits, idx in ((spatial, s_idx), (temporal, t_idx)):
        radix = 1
        for d in digits:  # least significant first: inner temporal loops step fastest
            offsets[d.dim] = offsets[d.dim] + (idx // radix) % d.size * d.weight
            radix *= d.size
    rho = np.full((n_s, n_t), exact, dtype=np.int64)
    for dim in over:
        reach = np.zeros(1, dtype=np.int64)
        for d in dim_digits(nest, dim):
            if free(d):
                reach = (reach[:, None] + np.arange(d.size, dtype=np.int64)[None, :] * d.weight).ravel()
        # valid indices in the tile: free offsets below size - fixed offset
        rho = rho * np.searchsorted(np.sort(reach), nest.dim_size(dim) - offsets[dim], side="left")
    return RelevantBlocks(rho, frozenset(d.temporal for d in temporal), spatial)


@lru_cache(maxsize=256)
def _uniform_blocks(rho: int) -> RelevantBlocks:
    """Blocks of one size (every relevant dimension tiled exactly): shared, so read-only."""
    table = np.full((1, 1), rho, dtype=np.int64)
    table.flags.writeable = False
    return RelevantBlocks(table, frozenset(), ())
