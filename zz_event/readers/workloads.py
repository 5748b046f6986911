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

Other layers keep ZigZag's own cost: ONNX pooling becomes ZigZag's output-centric Pooling layer
(`O[b][g][oy][ox]+=W[fy][fx]*I[b][g][iy][ix]`), an ONNX Add of two activations ZigZag's Add layer, and YAML layers
that are not convolutions pass through unchanged. ONNX nodes ZigZag cannot cost (Relu, Flatten, Reshape, ...) are
left out, as ZigZag's own ONNX front end does (it makes them zero-cost DummyNodes); their consumers read from the
nearest costed producer. ONNX precisions follow ZigZag's ONNX defaults (8-bit W and I, O = 2 x I, O_final = I;
the node attributes `weight_size`, `act_size`, `output_size` override them).
"""

from __future__ import annotations

import copy
import logging
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import onnx
import yaml
from google.protobuf.message import DecodeError

from zz_event.errors import GeometryError, InputFileError, ZzEventError
from zz_event.model.geometry import AxisGeometry, ConvGeometry

__all__ = ["PreparedWorkload", "LayerOrigin", "load_workload", "zigzag_workload_errors", "CONV_EQUATION", "CONV_RELATIONS"]

CONV_EQUATION = "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]"
GROUPED_CONV_EQUATION = "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]"
CONV_RELATIONS = ("ox=1*ix+1*fx", "oy=1*iy+1*fy")
POOL_EQUATION = "O[b][g][oy][ox]+=W[fy][fx]*I[b][g][iy][ix]"
ADD_EQUATION = "O[b][g][oy][ox]=W[b][g][oy][ox]+I[b][g][oy][ox]"
CONV_TYPES = ("Conv", "Conv_downsample", "Gemm")
ZZ_EVENT_KEYS = ("stride", "padding", "dilation", "output")
_RELATION_RE = re.compile(r"^(\w+)\s*=\s*(?:(\w+)\s*\*\s*)?(\w+)\s*\+\s*(?:(\w+)\s*\*\s*)?(\w+)$")  # ZigZag's
_ROLES = {"B": "OI", "D": "OI", "H": "OI", "G": "OWI", "K": "OW", "C": "WI", "FY": "W", "FX": "W"}
_KNOWN = set(_ROLES) | {"OY", "OX", "IY", "IX"}
_POOLS = ("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool", "LpPool")


@dataclass(frozen=True)
class LayerOrigin:
    """A converted layer as it was written: operator type, loop sizes, and the loop names it lost."""

    op_type: str
    sizes: dict[str, int]
    renamed: dict[str, str]  # e.g. {"OY": "IY", "OX": "IX"} or {"D": "B"}


@dataclass(frozen=True)
class PreparedWorkload:
    """A workload ready for ZigZag, with the true geometry of every layer zz-event corrects."""

    zigzag_workload: list[dict[str, Any]]
    geometry: dict[str, ConvGeometry]
    uncorrected: dict[str, str]  # layer name -> why zz-event keeps ZigZag's own cost
    source: str
    skipped: dict[str, str] = field(default_factory=dict)  # ONNX nodes not given to ZigZag -> why
    origins: dict[str, LayerOrigin] = field(default_factory=dict)  # every converted layer

    def layer(self, name: str) -> dict[str, Any]:
        """The ZigZag layer dict of the given name."""
        for layer in self.zigzag_workload:
            if layer["name"] == name:
                return layer
        raise KeyError(name)


def load_workload(path_or_model: Any) -> PreparedWorkload:
    """Read an .onnx file or onnx.ModelProto, a ZigZag YAML workload file, or a list of ZigZag layer dicts."""
    from zz_event.readers.onnx_workloads import from_onnx  # the ONNX reader builds on this module's helpers

    if isinstance(path_or_model, onnx.ModelProto):
        return from_onnx(path_or_model, f"<ONNX model {path_or_model.graph.name or 'unnamed'}>")
    if isinstance(path_or_model, (list, tuple)):
        if not all(isinstance(layer, dict) for layer in path_or_model):
            raise InputFileError("a workload list must hold one dict per layer", "<workload list>")
        return _from_yaml(copy.deepcopy(list(path_or_model)), "<workload list>")
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
            raise InputFileError(f"not a readable ONNX model ({_one_line(exc)})", source) from exc
        return from_onnx(model, source)
    return _from_yaml(read_yaml_list(path, "workload", "layer"), source)


def read_yaml_list(path: Path, what: str, item: str) -> list[dict[str, Any]]:
    """A YAML file holding a non-empty list of dicts, or InputFileError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read the {what} file ({_one_line(exc)})", str(path)) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputFileError(f"invalid YAML in the {what} file: {_one_line(exc)}", str(path)) from exc
    if not isinstance(data, list) or not data or not all(isinstance(x, dict) for x in data):
        found = type(data).__name__ if not isinstance(data, list) else "a list with non-dict items or no items"
        raise InputFileError(f"a {what} file must be a YAML list with one dict per {item}; found {found}", str(path))
    return data


# ----------------------------------------------------------------------------------------------------- YAML input


def _from_yaml(layers: list[dict[str, Any]], source: str) -> PreparedWorkload:
    blocks: dict[int, dict[str, tuple[int, ...]]] = {}
    for i, layer in enumerate(layers):
        if "zz_event" in layer:
            blocks[i] = _parse_block(layer.pop("zz_event"), _label(layer, i), source)
    _check_zigzag_accepts(layers, source, "workload")
    out, geometry, uncorrected, origins = [], {}, {}, {}
    for i, layer in enumerate(layers):
        name = layer["name"] = layer.get("name") or f"Layer{layer['id']}"  # ZigZag's own default name
        if name in geometry or name in uncorrected:
            raise ZzEventError(f"two layers are named {name!r}; zz-event needs unique layer names", source)
        if len(layer["loop_dims"]) != len(layer["loop_sizes"]):
            raise ZzEventError(f"layer {name!r}: loop_dims has {len(layer['loop_dims'])} entries but loop_sizes "
                               f"{len(layer['loop_sizes'])}", source)  # fmt: skip
        sizes = {str(d).upper(): s for d, s in zip(layer["loop_dims"], layer["loop_sizes"])}
        bad = [f"{d}={s}" for d, s in sizes.items() if s < 1]
        if bad:
            raise GeometryError(f"layer {name!r}: loop sizes {', '.join(bad)} must be positive integers", source)
        reason = _conv_reason(layer, sizes)
        if reason:
            out.append(layer)
            uncorrected[name] = reason + ("; its zz_event block is ignored" if i in blocks else "")
            continue
        try:
            geo, renamed = _yaml_geometry(layer, sizes, blocks.get(i, {}))
            geo.check()
        except GeometryError as exc:
            raise GeometryError(f"layer {name!r}: {exc}", source) from exc
        new = _conv_layer(layer["id"], name, layer["operator_type"], geo, layer["operand_precision"])
        if "operand_source" in layer:
            new["operand_source"] = copy.deepcopy(layer["operand_source"])
        out.append(new)
        geometry[name] = geo
        origins[name] = LayerOrigin(layer["operator_type"], sizes, renamed)
    _check_zigzag_accepts(out, source, "converted workload")
    return PreparedWorkload(out, geometry, uncorrected, source, {}, origins)


def _parse_block(block: Any, label: str, source: str) -> dict[str, tuple[int, ...]]:
    """The `zz_event:` block: {stride: (sy, sx), dilation: (dy, dx), padding: (t, b, l, r), output: (oy, ox)}."""
    if not isinstance(block, dict) or set(block) - set(ZZ_EVENT_KEYS):
        raise GeometryError(f"layer {label}: the zz_event block must be a mapping with keys {ZZ_EVENT_KEYS}", source)
    parsed: dict[str, tuple[int, ...]] = {}
    for key, value in block.items():
        values = [value] if isinstance(value, int) else value
        if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise GeometryError(f"layer {label}: zz_event {key} must be an integer or a list of integers", source)
        if key == "padding" and len(values) in (1, 2, 4):
            parsed[key] = tuple(values * 4 if len(values) == 1 else values if len(values) == 4 else
                                [values[0], values[0], values[1], values[1]])  # fmt: skip
        elif key != "padding" and len(values) in (1, 2):
            parsed[key] = tuple(values * 2 if len(values) == 1 else values)
        else:
            raise GeometryError(f"layer {label}: zz_event {key} has {len(values)} entries", source)
    return parsed


def _conv_reason(layer: dict[str, Any], sizes: dict[str, int]) -> str | None:
    """None if the YAML layer is a convolution / matrix product zz-event converts, else why it is kept as is."""
    kept = "; ZigZag's own cost is kept"
    if layer["operator_type"] not in CONV_TYPES:
        return f"operator type {layer['operator_type']} is not a convolution or matrix product{kept}"
    operands = _equation_operands(layer["equation"])
    if set(operands) != {"O", "W", "I"} or "*" not in layer["equation"]:
        return f"equation {layer['equation']!r} is not O += W * I{kept}"
    if set(sizes) - _KNOWN:
        return f"loop dimensions {sorted(set(sizes) - _KNOWN)} are not those of a convolution{kept}"
    relations = _relations(layer)
    for axis in "YX":
        pos, inp, out, tap = {"O" + axis, "I" + axis} & set(sizes), "I" + axis, "O" + axis, "F" + axis
        if len(pos) == 2:
            return f"the layer has both {inp} and {out} loops{kept}"
        (pos,) = pos or {None}
        other = {"O" + axis: inp, "I" + axis: out, None: None}[pos]
        rel = relations.get(other)
        if rel is not None and set(rel) - {pos, tap}:
            return f"relation for {other} uses {sorted(rel)}; expected {pos} and {tap}{kept}"
        if (not pos or rel is None) and sizes.get(tap, 1) > 1:
            return f"kernel loop {tap} has no position loop or no dimension relation{kept}"
        if rel is not None and other not in operands[other[0]]:
            return f"operand {other[0]} is not indexed by {other}{kept}"
    for dim, size in sizes.items():
        if dim in ("OY", "OX", "IY", "IX"):
            expected = dim[0] if relations.get({"O": "I", "I": "O"}[dim[0]] + dim[1]) else "OI"
        else:
            expected = _ROLES[dim]
        members = "".join(op for op in "OWI" if dim in operands[op])
        if size > 1 and members != expected:
            return f"loop {dim} indexes operands {members or 'none'}; a convolution has it in {expected}{kept}"
    return None


def _yaml_geometry(
    layer: dict[str, Any], sizes: dict[str, int], block: dict[str, tuple[int, ...]]
) -> tuple[ConvGeometry, dict[str, str]]:
    relations, axes, renamed = _relations(layer), [], {d: "B" for d in ("D", "H") if d in sizes}
    for n, axis in enumerate("YX"):
        pos, tap = ("O" + axis if "O" + axis in sizes else "I" + axis), "F" + axis
        kernel = sizes.get(tap, 1)
        rel = relations.get({"O": "I", "I": "O"}[pos[0]] + axis, {})
        stated = block.get("stride", (None, None))[n], block.get("dilation", (None, None))[n]
        pad = block.get("padding", (None,) * 4)[2 * n : 2 * n + 2]
        if pos[0] == "O" and pos in sizes:
            renamed[pos] = "I" + axis
            geo = _output_centric_axis(layer, sizes[pos], kernel, rel.get(pos, 1), rel.get(tap, 1), axis)
            for label, mine, theirs in (("stride", stated[0], geo.stride), ("dilation", stated[1], geo.dilation),
                                        ("padding", pad, (geo.pad_before, geo.pad_after))):  # fmt: skip
                if mine not in (None, (None, None)) and mine != theirs:
                    raise GeometryError(f"{axis}: zz_event {label} {mine} disagrees with ZigZag's fields ({theirs})")
        else:
            coefs = (rel.get(pos, 1), rel.get(tap, 1))
            if coefs != (1, 1) and stated == (None, None):
                raise GeometryError(
                    f"{axis}: input-centric relation coefficients {coefs} cannot express stride or dilation; "
                    f"write o{axis.lower()}=1*i{axis.lower()}+1*f{axis.lower()} and state them in a zz_event block"
                )
            stride, dil, before, after = (d if v is None else v for v, d in zip((*stated, *pad), (1, 1, 0, 0)))
            geo = AxisGeometry(sizes.get(pos, 1), kernel, stride, dil, before, after)
        geo.check(axis)
        if "output" in block and block["output"][n] != geo.out:
            raise GeometryError(f"{axis}: stated output size {block['output'][n]} but the geometry gives {geo.out}")
        axes.append(geo)
    rows = math.prod(sizes.get(d, 1) for d in ("B", "D", "H"))
    return ConvGeometry(rows, sizes.get("K", 1), sizes.get("C", 1), axes[0], axes[1], sizes.get("G", 1)), renamed


def _output_centric_axis(layer: dict[str, Any], out: int, kernel: int, stride: int, dil: int, axis: str):
    dims = [str(d).upper() for d in (layer.get("pr_loop_dims") or [])]
    i = dims.index("I" + axis) if "I" + axis in dims else None
    pads = layer.get("padding") or []
    before, after = pads[i] if i is not None and i < len(pads) else (0, 0)
    inp_sizes = layer.get("pr_loop_sizes") or []
    inp = inp_sizes[i] if i is not None and i < len(inp_sizes) else (out - 1) * stride + (kernel - 1) * dil + 1
    inp = inp if i is not None and i < len(inp_sizes) else inp - before - after
    geo = AxisGeometry(inp, kernel, stride, dil, before, after)
    geo.check(axis)
    if geo.out != out:
        raise GeometryError(f"{axis}: O{axis} is {out} but input {inp}, kernel {kernel}, stride {stride}, "
                            f"dilation {dil}, padding {before}+{after} give {geo.out}")  # fmt: skip
    return geo


def _equation_operands(equation: str) -> dict[str, list[str]]:
    found = re.findall(r"([A-Za-z]\w*)((?:\[\w*\])+)", equation)
    return {op: [i.upper() for i in re.findall(r"\[(\w*)\]", idx) if i] for op, idx in found}


def _relations(layer: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{'IX': {'OX': 2, 'FX': 1}} for `ix=2*ox+1*fx`."""
    out = {}
    for text in layer.get("dimension_relations") or []:
        m = _RELATION_RE.match(str(text).strip())
        if m:
            d1, c2, d2, c3, d3 = m.groups()
            out[d1.upper()] = {d2.upper(): int(c2 or 1), d3.upper(): int(c3 or 1)}
    return out


def _conv_layer(layer_id: int, name: str, op_type: str, geo: ConvGeometry, precision: dict) -> dict[str, Any]:
    grouped = geo.G > 1
    sizes = [geo.B] + [geo.G] * grouped + [geo.K, geo.C, geo.y.inp, geo.x.inp, geo.y.kernel, geo.x.kernel]
    return {
        "id": layer_id,
        "name": name,
        "operator_type": op_type,
        "equation": GROUPED_CONV_EQUATION if grouped else CONV_EQUATION,
        "dimension_relations": list(CONV_RELATIONS),
        "loop_dims": ["B"] + ["G"] * grouped + ["K", "C", "IY", "IX", "FY", "FX"],
        "loop_sizes": sizes,
        "operand_precision": dict(precision),
    }


# ----------------------------------------------------------------------------------------------------- ONNX input


def _check_zigzag_accepts(layers: list[dict[str, Any]], source: str, what: str) -> None:
    problems = zigzag_workload_errors(layers)
    if problems:
        raise ZzEventError(f"ZigZag's workload validator rejects the {what}: {'; '.join(problems)}", source)


def zigzag_workload_errors(layers: list[dict[str, Any]]) -> list[str]:
    """ZigZag 3.9.1's WorkloadValidator verdict on a layer list, one line per problem (empty if it accepts it)."""
    from zigzag.parser.workload_validator import WorkloadValidator

    with captured_log("zigzag.parser.workload_validator") as log:
        validator = WorkloadValidator(copy.deepcopy(layers))
        accepted = validator.validate()
    if accepted:
        return []
    problems = []
    errors = validator.validator.errors
    for item in errors if isinstance(errors, list) else [errors]:
        for row, details in item.items():
            label = _label(layers[row], row) if isinstance(row, int) and row < len(layers) else str(row)
            problems.append(f"layer {label}: {flatten_errors(details)}")
    problems += [m.split("invalid. ", 1)[-1] for m in log if "restrictions apply" not in m]
    return problems or ["no detail given"]


@contextmanager
def captured_log(name: str) -> Iterator[list[str]]:
    """Collect one logger's messages instead of letting them reach stderr (ZigZag reports through logging)."""
    messages: list[str] = []
    logger = logging.getLogger(name)

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler, propagate = _Collect(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def flatten_errors(details: Any, prefix: str = "") -> str:
    if isinstance(details, dict):
        return ", ".join(flatten_errors(v, f"{prefix}{k}.") for k, v in details.items())
    if isinstance(details, list):
        return ", ".join(flatten_errors(v, prefix) for v in details)
    return f"{prefix.rstrip('.')}: {details}" if prefix else str(details)


def _label(layer: dict[str, Any], index: int) -> str:
    return repr(layer["name"]) if layer.get("name") else f"#{index} (id {layer.get('id')})"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
