"""Read a workload (ONNX, output-centric or input-centric ZigZag YAML) into the form zz-event gives ZigZag.

Every convolution and matrix product becomes an input-centric ZigZag layer::

    equation:            O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]   ([g] after [b] / first in W if grouped)
    dimension_relations: [ox=1*ix+1*fx, oy=1*iy+1*fy]                       (ZigZag's grammar accepts only '+')
    loop_dims:           [B, K, C, IY, IX, FY, FX]                           ([B, G, K, ...] if grouped)

with IY/IX the real input size (without padding). Gemm/MatMul become 1x1 convolutions: C = in features,
K = out features, B = every row, IY = IX = FY = FX = 1. The true stride, padding and dilation, which this form
cannot express, go to `PreparedWorkload.geometry`.

Where the geometry comes from:

- ONNX `Conv` (strides, pads, dilations, group, auto_pad; NCHW, so index 0 is Y), `Gemm`, `MatMul`.
- Output-centric YAML (OY/OX loops): stride and dilation from relations such as `ix=2*ox+1*fx`; padding from
  ZigZag's `padding` + `pr_loop_dims` ([before, after] per listed dimension); the input size from `pr_loop_sizes`
  if given, else the smallest input that yields OY/OX (ZigZag's own rule).
- Input-centric YAML (IY/IX loops, relations `oy=1*iy+1*fy`): stride 1, dilation 1, no padding, output =
  input - kernel + 1, unless the layer carries a block that zz-event strips before ZigZag sees it (ZigZag's
  validator rejects unknown keys)::

      zz_event: {stride: [2, 2], padding: [top, bottom, left, right], dilation: [1, 1], output: [OY, OX]}

  Every entry is optional and may be a single integer; padding may also be [y, x]. `output` is a check: a layer
  whose derived output size differs is rejected. In output-centric layers the block may only repeat what
  ZigZag's own fields say.

Other layers: YAML layers that are not convolutions pass through unchanged and keep ZigZag's own cost. Every
ONNX node but Conv, Gemm and MatMul is left out, as ZigZag's own ONNX parser leaves it out (a zero-cost
DummyNode), and listed with its reason in `PreparedWorkload.skipped`; its consumers read from the nearest costed
producer. With `cost_pooling_and_add`, ONNX pooling becomes ZigZag's output-centric Pooling layer
(`O[b][g][oy][ox]+=W[fy][fx]*I[b][g][iy][ix]`) and an ONNX Add of two activations ZigZag's Add layer, both keeping
ZigZag's own cost. ONNX precisions follow ZigZag's ONNX defaults (8-bit W and I, O = 2 x I, O_final = I;
the node attributes `weight_size`, `act_size`, `output_size` override them).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import onnx
from google.protobuf.message import DecodeError

from zz_event.errors import InputFileError
from zz_event.readers.layers import PreparedWorkload, one_line, read_yaml_list
from zz_event.readers.onnx_workloads import from_onnx
from zz_event.readers.yaml_workloads import from_yaml

__all__ = ["load_workload"]


def load_workload(path_or_model: Any, cost_pooling_and_add: bool = False) -> PreparedWorkload:
    """Read an .onnx file or onnx.ModelProto, a ZigZag YAML workload file, or a list of ZigZag layer dicts.

    ONNX: the layers ZigZag's own ONNX parser costs (Conv, Gemm, MatMul), or with `cost_pooling_and_add` also
    pooling and Add as ZigZag's own layers; every node left out is in `skipped` with its reason."""
    if isinstance(path_or_model, onnx.ModelProto):
        return from_onnx(path_or_model, f"<ONNX model {path_or_model.graph.name or 'unnamed'}>", cost_pooling_and_add)
    if isinstance(path_or_model, (list, tuple)):
        if not all(isinstance(layer, dict) for layer in path_or_model):
            raise InputFileError("a workload list must hold one dict per layer", "<workload list>")
        return from_yaml(copy.deepcopy(list(path_or_model)), "<workload list>")
    source = str(path_or_model)
    path = Path(source)
    if not path.exists():
        raise InputFileError("workload file not found; expected an .onnx or .yaml file", source)
    if not path.is_file():
        raise InputFileError("workload path is not a file; expected an .onnx or .yaml file", source)
    if path.suffix.lower() == ".onnx":
        try:
            model = onnx.load(source, load_external_data=False)
        except (OSError, ValueError, DecodeError) as exc:
            raise InputFileError(f"not a readable ONNX model ({one_line(exc)})", source) from exc
        return from_onnx(model, source, cost_pooling_and_add)
    return from_yaml(read_yaml_list(path, "workload", "layer"), source)
