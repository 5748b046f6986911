"""ZigZag YAML workloads (output- or input-centric) into the input-centric layers zz-event runs (see
`zz_event.readers.workloads` for the forms)."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from zz_event.errors import GeometryError, ZzEventError
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.readers.layers import (
    CONV_TYPES,
    ZZ_EVENT_KEYS,
    LayerOrigin,
    PreparedWorkload,
    check_layer_links,
    check_zigzag_accepts,
    conv_layer,
    layer_label,
)

__all__ = ["from_yaml"]

_RELATION_RE = re.compile(r"^(\w+)\s*=\s*(?:(\w+)\s*\*\s*)?(\w+)\s*\+\s*(?:(\w+)\s*\*\s*)?(\w+)$")  # ZigZag's
_ROLES = {"B": "OI", "D": "OI", "H": "OI", "G": "OWI", "K": "OW", "C": "WI", "FY": "W", "FX": "W"}
_KNOWN = set(_ROLES) | {"OY", "OX", "IY", "IX"}


def from_yaml(layers: list[dict[str, Any]], source: str) -> PreparedWorkload:
    blocks: dict[int, dict[str, tuple[int, ...]]] = {}
    for i, layer in enumerate(layers):
        if "zz_event" in layer:
            blocks[i] = _parse_block(layer.pop("zz_event"), layer_label(layer, i), source)
    check_zigzag_accepts(layers, source, "workload")
    check_layer_links(layers, source)
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
        unknown = sorted(set(sizes) - _KNOWN)
        if unknown and layer["operator_type"] in CONV_TYPES:
            raise GeometryError(f"layer {name!r}: loop dimension(s) {', '.join(unknown)} are not those of a "
                                f"{layer['operator_type']} (expected {', '.join(sorted(_KNOWN))})", source)
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
        new = conv_layer(layer["id"], name, layer["operator_type"], geo, layer["operand_precision"])
        if "operand_source" in layer:
            new["operand_source"] = copy.deepcopy(layer["operand_source"])
        out.append(new)
        geometry[name] = geo
        origins[name] = LayerOrigin(layer["operator_type"], sizes, renamed)
    check_zigzag_accepts(out, source, "converted workload")
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


