"""Data masks at a chosen density, for the density sweep of "When event-driven wins".

- `clustered_masks`: real data thinned or thickened. Thinning drops the smallest non-zero inputs first
  (a higher ReLU threshold); thickening turns on the zero inputs nearest to a non-zero one in the same
  channel plane first (Chebyshev distance, ties broken at random). Either way the zeros stay where real
  data puts them: in whole regions, not scattered.
- `random_masks`: the same number of non-zero inputs per sample at uniformly random positions (a density
  model's assumption: Sparseloop's hypergeometric distribution).

Both keep exactly round(density x elements) non-zero inputs per sample, so the two are compared at equal
density. Arrays are (S, B, G, C, IY, IX), one layer's inputs per sample.
"""

from __future__ import annotations

import numpy as np

__all__ = ["clustered_masks", "random_masks"]


def clustered_masks(values: np.ndarray, density: float, rng: np.random.Generator) -> np.ndarray:
    """Per sample of `values` (S, B, G, C, IY, IX), the `density` fraction of inputs non-zero, chosen
    where the real data's non-zero inputs are (see the module docstring)."""
    magnitude = np.abs(values).astype(np.float64)
    nonzero = magnitude > 0
    distance = _distance_to_nonzero(nonzero)
    # Non-zero inputs rank by magnitude (all above every zero); zeros by closeness, then at random.
    score = np.where(nonzero, magnitude, -(distance + rng.random(values.shape)))
    return _top(score, density)


def random_masks(shape: tuple[int, ...], density: float, rng: np.random.Generator) -> np.ndarray:
    """(S, ...) masks with round(density x elements) non-zero inputs per sample, uniformly placed."""
    return _top(rng.random(shape), density)


def _top(score: np.ndarray, density: float) -> np.ndarray:
    """Per sample, True at the round(density x n) highest scores."""
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"density {density}; expected a fraction in [0, 1]")
    samples = score.shape[0]
    flat = score.reshape(samples, -1)
    keep = round(density * flat.shape[1])
    mask = np.zeros(flat.shape, dtype=bool)
    if keep:
        top = np.argpartition(-flat, keep - 1, axis=1)[:, :keep]
        np.put_along_axis(mask, top, True, axis=1)
    return mask.reshape(score.shape)


def _distance_to_nonzero(nonzero: np.ndarray) -> np.ndarray:
    """Chebyshev distance of every element to the nearest True of its (IY, IX) plane; planes with no True
    get a distance beyond any in-plane one."""
    rows, cols = nonzero.shape[-2:]
    far = float(rows + cols)
    distance = np.where(nonzero, 0.0, far)
    reached = nonzero.copy()
    for step in range(1, max(rows, cols)):
        grown = reached.copy()
        grown[..., 1:, :] |= reached[..., :-1, :]
        grown[..., :-1, :] |= reached[..., 1:, :]
        widened = grown.copy()
        widened[..., :, 1:] |= grown[..., :, :-1]
        widened[..., :, :-1] |= grown[..., :, 1:]
        distance[widened & ~reached] = step
        if widened.sum() == reached.sum():
            break
        reached = widened
    return distance
