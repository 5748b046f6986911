"""Activations from a model: the input tensor of every Conv, Gemm and MatMul layer of an ONNX network,
per sample, for a user's input batch (events from data: an input element triggers work iff it is non-zero).

`load_batch` reads and checks the network input (`FILE.npy`, or an array: (N, C, H, W), or (C, H, W) for one
sample, or `mnist:N`: the first N held-out MNIST digits, 1 x 32 x 32, of `zz_event.readers.mnist`);
`layer_inputs` runs the model with ONNX's reference evaluator (ReLU and pooling included as in the model)
and returns, per layer name (as `onnx_workloads` names layers), the layer's input values per sample
(N, ...): (N, C, H, W) for a convolution, (N, F) for a matrix product; `layer_masks` which of them are
non-zero. Results are cached per (model bytes, batch bytes), so a search that asks again does not
recompute them.
"""

from __future__ import annotations

import hashlib

import numpy as np

from zz_event.errors import InputFileError
from zz_event.memo import LruMemo
from zz_event.readers import mnist

__all__ = ["MATRIX_OPS", "layer_inputs", "layer_masks", "load_batch"]

MATRIX_OPS = ("Conv", "Gemm", "MatMul")
_CACHE = LruMemo(4)


def load_batch(data, model) -> np.ndarray:
    """The network input (a .npy path, an array, or `mnist:N`) as float32 (N, C, H, W), checked against the
    ONNX `model`'s input."""
    if isinstance(data, np.ndarray):
        batch, source = data, "<data array>"
    elif mnist.is_mnist_spec(data):
        batch, source = mnist.load_spec(data), data
    else:
        source = str(data)
        try:
            batch = np.load(source, allow_pickle=False)
        except FileNotFoundError as exc:
            raise InputFileError("data file not found; expected a .npy array (N, C, H, W)", source) from exc
        except (OSError, ValueError, EOFError) as exc:
            raise InputFileError(f"not a NumPy .npy array file ({type(exc).__name__})", source) from exc
    if not isinstance(batch, np.ndarray) or batch.dtype.kind not in "biuf":
        raise InputFileError("expected a numeric NumPy array (.npy)", source)
    if batch.ndim == 3:
        batch = batch[None]
    if batch.ndim != 4:
        raise InputFileError(f"array of shape {batch.shape}; expected (N, C, H, W) or (C, H, W)", source)
    if batch.shape[0] == 0:
        raise InputFileError("the batch is empty (0 samples)", source)
    if batch.dtype.kind == "f" and not np.isfinite(batch).all():
        raise InputFileError(f"{int((~np.isfinite(batch)).sum())} values are NaN or infinite", source)
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim] if inputs else []
    if len(dims) != 4:
        raise InputFileError(f"the model's input has {len(dims)} dimensions; --data needs an NCHW image input", source)
    if list(batch.shape[1:]) != dims[1:]:
        what = "channel count" if batch.shape[1] != dims[1] else "height x width"
        hint = " (MNIST digits are 28 x 28 padded to 32 x 32)" if mnist.is_mnist_spec(data) else ""
        raise InputFileError(f"samples of shape {batch.shape[1:]}: the {what} differs from the model's input "
                             f"(C, H, W) = {tuple(dims[1:])}{hint}", source)
    return batch.astype(np.float32)


def layer_masks(model, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Per Conv/Gemm/MatMul layer name of the ONNX `model`, which of its input elements are non-zero,
    per sample (N, ...)."""
    return {name: values != 0 for name, values in layer_inputs(model, batch).items()}


def layer_inputs(model, batch: np.ndarray) -> dict[str, np.ndarray]:
    """Per Conv/Gemm/MatMul layer name of the ONNX `model`, its input values per sample (N, ...)."""
    model_bytes = model.SerializeToString()
    key = (hashlib.sha256(model_bytes).hexdigest(), batch.shape, hashlib.sha256(batch.tobytes()).hexdigest())
    return _CACHE.get_or(key, lambda: _inputs(model_bytes, batch))


def _inputs(model_bytes: bytes, batch: np.ndarray) -> dict[str, np.ndarray]:
    import onnx  # noqa: PLC0415
    from onnx.reference import ReferenceEvaluator  # noqa: PLC0415

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    wanted: dict[str, str] = {}  # layer name -> its data input tensor
    consts = {i.name for i in graph.initializer}
    for idx, node in enumerate(graph.node):
        if node.op_type in MATRIX_OPS:
            data = [t for t in node.input if t and t not in consts]
            if data:
                wanted[node.name or f"Op{idx}"] = data[0]  # onnx_workloads' naming
    outputs = {o.name for o in graph.output}
    for tensor in set(wanted.values()) - outputs - {i.name for i in graph.input}:
        graph.output.append(onnx.helper.make_empty_tensor_value_info(tensor))
    evaluator = ReferenceEvaluator(model)
    input_name = next(i.name for i in graph.input if i.name not in consts)
    names = list(dict.fromkeys(wanted.values()))
    values = {}
    for tensor, value in zip(names, _run(evaluator, input_name, names, batch)):
        values[tensor] = value
    return {name: values[tensor].reshape(batch.shape[0], *values[tensor].shape[1:]) for name, tensor in wanted.items()}


def _run(evaluator, input_name: str, names: list[str], batch: np.ndarray) -> list[np.ndarray]:
    """The named tensors for the whole batch; sample by sample if the model fixes its batch size."""
    feeds_input = [n for n in names if n == input_name]
    rest = [n for n in names if n != input_name]
    try:
        got = evaluator.run(rest, {input_name: batch}) if rest else []
    except (ValueError, RuntimeError, IndexError):
        per_sample = [evaluator.run(rest, {input_name: batch[i:i + 1]}) for i in range(batch.shape[0])]
        got = [np.concatenate([s[k] for s in per_sample]) for k in range(len(rest))]
    by_name = dict(zip(rest, got))
    if feeds_input:
        by_name[input_name] = batch
    return [np.asarray(by_name[n]) for n in names]
