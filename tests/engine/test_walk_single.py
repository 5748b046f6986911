"""The one-element pass (`walk._single_element`) against the general pass (`walk._walk`) on random input.

Tiles of one iteration take a pass that counts rows per class instead of keeping them (walk.py). Both must
give the same per-sample sums, word units and latency link sums for every transfer the engine asks of a
register bank (entries, sizes, first and last uses, evictions, flush, on-load, in any combination and
precision), over several instances and over more samples than one 64-bit word holds (bit 63 included).
"""

from __future__ import annotations

import numpy as np
import pytest

from zz_event.engine import walk as walk_module
from zz_event.engine.walk import QUANTITIES, _walk, walk

ROW_QUANTITIES = [q for q in QUANTITIES if q != "out_final"]  # `out_final` goes to the general pass


def _case(rng: np.random.Generator, n_samples: int):
    n_inst, n_tiles, n_elem = int(rng.integers(1, 4)), int(rng.integers(1, 60)), int(rng.integers(1, 6))
    positions = int(rng.integers(1, 40))
    density = rng.uniform(0.05, 0.95)
    flags = rng.random((positions, n_samples)) < density
    words = -(-n_samples // 64)
    bits = np.zeros((positions, words), dtype=np.uint64)
    for s in range(n_samples):
        bits[:, s // 64] |= flags[:, s].astype(np.uint64) << np.uint64(s % 64)
    n_f = int(rng.integers(1, 4))
    width = int(rng.integers(1, 4))
    terms = np.array([[QUANTITIES.index(q) for q in rng.choice(ROW_QUANTITIES, width)] for _ in range(n_f)])
    coefs = rng.integers(-2, 3, size=(n_f, width)) * rng.choice([8, 16], size=(n_f, 1))
    coefs[:, 0] = np.abs(coefs[:, 0]) + 8  # most rows move something
    n_links, n_iter = 2, n_inst * n_tiles
    ints = lambda a: np.asarray(a, dtype=np.int64)  # noqa: E731
    return (bits.view(np.int64), ints(rng.integers(0, positions, n_iter)), ints(rng.integers(0, n_elem, n_iter)),
            n_samples, n_inst, n_tiles, 1, n_elem, int(rng.integers(1, 4)), ints(terms), ints(coefs),
            ints(rng.choice([8, 24, 128], n_f)), ints(rng.integers(-1, n_links, n_f)), ints(rng.choice([8, 64], n_f)),
            ints(rng.integers(0, 3, n_f)), n_links)


@pytest.mark.parametrize("seed", range(40))
def test_single_element_pass_equals_general(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n_samples = int(rng.choice([1, 5, 64, 65, 130]))
    case = _case(rng, n_samples)
    rows = np.zeros((0, 6), dtype=np.int64)
    with monkeypatch.context() as patch:  # the one-element pass must take it
        patch.setattr(walk_module, "_walk", None)
        fast = walk(*case, False, rows)
    general = _walk(*case, False, rows)
    for got, expected in zip(fast[:3], general[:3]):
        np.testing.assert_array_equal(got, expected)
    assert general[0][:, 0].sum() > 0 or not case[0].any()
