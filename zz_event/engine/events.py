"""What one tile sequence moves, as weighted event lists: the interface between counting and transfers.

Two backends produce it: `enumerated.py` walks the (compressed) tile sequence on arrays, `analytic.py`
computes the same multisets per axis. Each event list is parallel arrays plus a weight (how many
identical events an entry stands for).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SequenceEvents", "weighted"]


def weighted(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Drop entries of zero weight (the last array is the weight)."""
    keep = arrays[-1] > 0
    return tuple(np.asarray(a)[keep] for a in arrays)


@dataclass(frozen=True)
class SequenceEvents:
    """Per executed tile and per tile change of one level's tiles (of one operand)."""

    # Entries at each executed tile: elements received, and how many of them are touched for the first time.
    entry: np.ndarray
    entry_first: np.ndarray
    entry_weight: np.ndarray
    # Exits: elements leaving at each change and at the end of each block, and how many leave final.
    exit: np.ndarray
    exit_final: np.ndarray
    exit_weight: np.ndarray
    # Every executed step of the tile (in-place repeats included): size, first and last touches in it.
    tile: np.ndarray
    tile_first: np.ndarray
    tile_last: np.ndarray
    tile_weight: np.ndarray
    steps: int  # executed tiles over the layer, repeats included, summed over distinct instances
    # First and last executed tile of each real instance (on/off-loading).
    onload: np.ndarray
    onload_weight: np.ndarray
    offload: np.ndarray
    offload_weight: np.ndarray
