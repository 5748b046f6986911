"""The trained LeNet-5 on the held-out MNIST digits: its accuracy, and each layer's input density.

    python -m validation.mnist_lenet5 [--model inputs/lenet5/lenet5_mnist.onnx] [--samples 1000]
                                      [--out validation/results/mnist]

Both figures come from running the ONNX file itself with onnx.reference.ReferenceEvaluator: the accuracy from its
logits, the densities from `zz_event.readers.activations.layer_masks` (what `--data mnist:N` costs). A layer's
density is the fraction of its input elements that are non-zero (the inputs that trigger events), per sample;
the table gives the mean over the samples and the spread. conv1's input is the padded 32 x 32 image, so its
density counts the 2-pixel zero frame too. Writes `lenet5_mnist.json` (with provenance) and `lenet5_mnist.md`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx

from zz_event.provenance import provenance
from zz_event.readers import mnist
from zz_event.readers.activations import layer_masks

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "inputs" / "lenet5" / "lenet5_mnist.onnx"


def accuracy(model: onnx.ModelProto, images: np.ndarray, labels: np.ndarray) -> int:
    """How many of `images` the ONNX model classifies as `labels`."""
    from onnx.reference import ReferenceEvaluator

    logits = ReferenceEvaluator(model).run(None, {model.graph.input[0].name: images})[0]
    return int((np.asarray(logits).argmax(axis=1) == labels).sum())


def densities(model: onnx.ModelProto, images: np.ndarray) -> dict[str, dict]:
    """Per Conv/Gemm layer: its input shape per sample and the mean, min, p5, p50, p95, max of its density."""
    out = {}
    for name, masks in layer_masks(model, images).items():
        per_sample = masks.reshape(len(masks), -1).mean(axis=1)
        p5, p50, p95 = np.percentile(per_sample, [5, 50, 95])
        out[name] = {"input_shape": list(masks.shape[1:]), "mean": float(per_sample.mean()),
                     "min": float(per_sample.min()), "p5": float(p5), "p50": float(p50), "p95": float(p95),
                     "max": float(per_sample.max())}
    return out


def figures(model_path: Path, samples: int) -> dict:
    model = onnx.load(str(model_path))
    images, labels = mnist.held_out(samples)
    correct = accuracy(model, images, labels)
    return {"model": str(model_path.relative_to(ROOT) if model_path.is_relative_to(ROOT) else model_path),
            "samples": samples, "correct": correct, "accuracy": correct / samples,
            "density": densities(model, images)}


def markdown(result: dict) -> str:
    lines = ["# LeNet-5 on the held-out MNIST digits\n",
             f"`{result['model']}` on the first {result['samples']} held-out digits (`--data mnist:"
             f"{result['samples']}`), run as ONNX (onnx.reference.ReferenceEvaluator).\n",
             f"Accuracy: {result['correct']}/{result['samples']} = {result['accuracy']:.1%}\n",
             "Input density per layer (fraction of non-zero inputs, per sample; conv1 includes the 2-pixel zero "
             "frame of the 32 x 32 input):\n",
             "| layer | input (per sample) | mean | p5 | p50 | p95 | min | max |", "|---|---|---|---|---|---|---|---|"]
    for name, d in result["density"].items():
        shape = " x ".join(map(str, d["input_shape"]))
        lines.append(f"| {name} | {shape} | {d['mean']:.4f} | {d['p5']:.4f} | {d['p50']:.4f} | {d['p95']:.4f} "
                     f"| {d['min']:.4f} | {d['max']:.4f} |")
    prov = result["provenance"]
    lines.append(f"\nCommit {prov['commit']}, {prov['date']}; `python -m validation.mnist_lenet5`.\n")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--samples", type=int, default=mnist.HELD_OUT, help="the first N held-out digits")
    parser.add_argument("--out", type=Path, default=ROOT / "validation" / "results" / "mnist")
    args = parser.parse_args(argv)
    result = figures(args.model.resolve(), args.samples)
    result["provenance"] = provenance({"model": str(args.model), "samples": args.samples})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lenet5_mnist.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (args.out / "lenet5_mnist.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
