"""ONNX models into the input-centric ZigZag layers zz-event runs (see `zz_event.readers.workloads` for the forms).

Conv (strides, pads, dilations, group, auto_pad; NCHW, so index 0 is Y), Gemm and MatMul become
input-centric layers with their true geometry. Every other node is left out, as ZigZag's own ONNX parser
leaves it out (a zero-cost DummyNode), with its reason in `PreparedWorkload.skipped`, and its consumers
re-wired to the nearest costed producer; with `cost_pooling_and_add`, pooling and Add become ZigZag's own
Pooling and Add layers (ZigZag's cost kept), which ZigZag's parser would not have costed.
"""

from __future__ import annotations

import math
from typing import Any

import onnx

from zz_event.errors import GeometryError, InputFileError, ZzEventError
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.readers.layers import (
    ADD_EQUATION,
    POOL_EQUATION,
    POOL_TYPES,
    LayerOrigin,
    PreparedWorkload,
    check_zigzag_accepts,
    conv_layer,
    one_line,
)

__all__ = ["from_onnx"]

class _Onnx:
    """Shapes, constants and attributes of a shape-inferred ONNX graph."""

    def __init__(self, model: onnx.ModelProto, source: str):
        try:
            model = onnx.shape_inference.infer_shapes(model)
        except (onnx.shape_inference.InferenceError, ValueError) as exc:
            raise InputFileError(f"ONNX shape inference failed ({one_line(exc)})", source) from exc
        self.model, self.source = model, source
        graph = model.graph
        self.shapes = {i.name: list(i.dims) for i in graph.initializer}
        for info in [*graph.input, *graph.value_info, *graph.output]:
            self.shapes[info.name] = [d.dim_value for d in info.type.tensor_type.shape.dim]
        self.consts = {i.name for i in graph.initializer}
        self.consts |= {o for n in graph.node if n.op_type == "Constant" for o in n.output}

    def shape(self, tensor: str, name: str) -> list[int]:
        shape = self.shapes.get(tensor)
        if not shape or any(d < 1 for d in shape[1:]):
            raise InputFileError(f"node {name!r}: the shape of tensor {tensor!r} is unknown ({shape})", self.source)
        return [shape[0] or 1] + shape[1:]  # a symbolic batch counts as 1, as in ZigZag

    @staticmethod
    def attrs(node: onnx.NodeProto) -> dict[str, Any]:
        values = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}

    def precision(self, attrs: dict[str, Any]) -> dict[str, int]:
        act = int(attrs.get("act_size", 8))
        bits = {"W": int(attrs.get("weight_size", 8)), "I": act, "O": int(attrs.get("output_size", 2 * act)),
                "O_final": act}  # fmt: skip
        if min(bits.values()) < 1:
            raise InputFileError(f"a node's weight_size / act_size / output_size give precisions {bits}; expected "
                                 "positive numbers of bits", self.source)  # fmt: skip
        return bits


def from_onnx(model: onnx.ModelProto, source: str, cost_pooling_and_add: bool = False) -> PreparedWorkload:
    g = _Onnx(model, source)
    builders = _BUILDERS if cost_pooling_and_add else _MAC_BUILDERS
    out, geometry, uncorrected, skipped, origins = [], {}, {}, {}, {}
    producer: dict[str, int] = {}  # tensor -> id of the costed layer it comes from (through skipped nodes)
    for idx, node in enumerate(g.model.graph.node):
        name = node.name or f"Op{idx}"  # ZigZag's own default name
        data = [t for t in node.input if t and t not in g.consts]
        builder = builders.get(node.op_type)
        built = builder(g, node, idx, name, producer) if builder else None
        if not isinstance(built, tuple):
            skipped[name] = built or _skip_reason(node.op_type)
            if data and data[0] in producer:
                producer.update(dict.fromkeys(node.output, producer[data[0]]))
            continue
        layer, geo, reason = built
        if name in geometry or name in uncorrected:
            raise ZzEventError(f"two ONNX nodes are named {name!r}; zz-event needs unique layer names", source)
        out.append(layer)
        producer.update(dict.fromkeys(node.output, idx))
        if geo is not None:
            geometry[name] = geo
            origins[name] = _onnx_origin(node.op_type, geo)
        else:
            uncorrected[name] = reason
    if not out:
        kinds = ", ".join(builders)
        raise ZzEventError(f"the ONNX model has no layer zz-event costs ({kinds}); it has {len(skipped)} other "
                           "node(s)", source)  # fmt: skip
    check_zigzag_accepts(out, source, "converted workload")
    return PreparedWorkload(out, geometry, uncorrected, source, skipped, origins)


def _onnx_origin(op_type: str, geo: ConvGeometry) -> LayerOrigin:
    """The loops ZigZag's own ONNX parser would have given the layer (what a user's mapping may name)."""
    if op_type == "Conv":
        sizes = {"B": geo.B, "K": geo.K, "G": geo.G, "OX": geo.OX, "OY": geo.OY, "C": geo.C,
                 "FX": geo.x.kernel, "FY": geo.y.kernel}  # fmt: skip
        return LayerOrigin(op_type, sizes, {"OY": "IY", "OX": "IX"})
    return LayerOrigin(op_type, {"C": geo.C, "D": geo.B, "K": geo.K}, {"D": "B"})


def _source(producer: dict[str, int], tensor: str, idx: int) -> int:
    return producer.get(tensor, idx)  # no costed producer: ZigZag treats an operand sourced by itself as constant


def _onnx_axes(g: _Onnx, node: onnx.NodeProto, x: list[int], kernel: list[int]) -> list[AxisGeometry]:
    """Y and X geometry from ONNX attributes (all NCHW: index 0 is Y), with auto_pad resolved."""
    a = g.attrs(node)
    strides, dil = a.get("strides", [1, 1]), a.get("dilations", [1, 1])
    pads = list(a.get("pads", [0, 0, 0, 0]))  # [y_begin, x_begin, y_end, x_end]
    auto = a.get("auto_pad", "NOTSET")
    axes = []
    for n in range(2):
        before, after = pads[n], pads[n + 2]
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            span = dil[n] * (kernel[n] - 1) + 1
            step = max(strides[n], 1)  # a stride below 1 is reported by AxisGeometry.check
            total = max((math.ceil(x[2 + n] / step) - 1) * step + span - x[2 + n], 0)
            before = total // 2 if auto == "SAME_UPPER" else total - total // 2
            after = total - before
        elif auto == "VALID":
            before = after = 0
        axes.append(AxisGeometry(x[2 + n], kernel[n], strides[n], dil[n], before, after))
    return axes


def _checked(geo: ConvGeometry, name: str, y_shape: list[int], source: str) -> ConvGeometry:
    try:
        geo.check()
    except GeometryError as exc:
        raise GeometryError(f"layer {name!r}: {exc}", source) from exc
    if len(y_shape) == 4 and (y_shape[2], y_shape[3]) != (geo.OY, geo.OX):
        raise GeometryError(f"layer {name!r}: ONNX output is {y_shape[2]}x{y_shape[3]} but the attributes give "
                            f"{geo.OY}x{geo.OX}", source)  # fmt: skip
    return geo


def _build_conv(g: _Onnx, node: onnx.NodeProto, idx: int, name: str, producer: dict[str, int]):
    x, w, y = (g.shape(t, name) for t in (node.input[0], node.input[1], node.output[0]))
    if len(x) != 4 or len(w) != 4:
        return f"only 2-D convolutions (NCHW) are supported; input shape is {x}"
    group = int(g.attrs(node).get("group", 1))
    y_axis, x_axis = _onnx_axes(g, node, x, list(g.attrs(node).get("kernel_shape", w[2:])))
    geo = _checked(ConvGeometry(x[0], w[0] // group, x[1] // group, y_axis, x_axis, group), name, y, g.source)
    layer = conv_layer(idx, name, "Conv", geo, g.precision(g.attrs(node)))
    w_src = idx if node.input[1] in g.consts else _source(producer, node.input[1], idx)
    layer["operand_source"] = {"W": w_src, "I": _source(producer, node.input[0], idx)}
    return layer, geo, None


def _build_matmul(g: _Onnx, node: onnx.NodeProto, idx: int, name: str, producer: dict[str, int]):
    a, b, y = (g.shape(t, name) for t in (node.input[0], node.input[1], node.output[0]))
    attrs = g.attrs(node)
    if node.op_type == "Gemm" and attrs.get("transA", 0):
        a = a[::-1]
    if len(a) < 2:
        return f"a matrix product with a {len(a)}-D input is not supported"
    precision = g.precision(attrs)
    w_src = idx if node.input[1] in g.consts else _source(producer, node.input[1], idx)
    sources = {"W": w_src, "I": _source(producer, node.input[0], idx)}
    if len(b) > 2:  # weights vary per batch: keep ZigZag's own matrix-product form
        batch, rows = math.prod(a[:-2]), a[-2]
        layer = {"id": idx, "name": name, "operator_type": "Gemm", "equation": "O[b][d][k]+=I[b][d][c]*W[b][c][k]",
                 "loop_dims": ["B", "D", "C", "K"], "loop_sizes": [batch, rows, a[-1], y[-1]],
                 "operand_precision": precision, "operand_source": sources}  # fmt: skip
        return layer, None, "batched matrix product (weights vary per batch); ZigZag's own cost is kept"
    one = AxisGeometry(1, 1)
    geo = _checked(ConvGeometry(math.prod(a[:-1]), y[-1], a[-1], one, one), name, [], g.source)
    layer = conv_layer(idx, name, "Gemm", geo, precision)  # ZigZag's validator knows Gemm, not MatMul
    layer["operand_source"] = sources
    return layer, geo, None


def _build_pool(g: _Onnx, node: onnx.NodeProto, idx: int, name: str, producer: dict[str, int]):
    x, y = g.shape(node.input[0], name), g.shape(node.output[0], name)
    if len(x) != 4 or len(y) != 4:
        return f"only 2-D pooling (NCHW) is supported; input shape is {x}"
    kernel = x[2:] if node.op_type.startswith("Global") else list(g.attrs(node)["kernel_shape"])
    ya, xa = _onnx_axes(g, node, x, kernel)
    layer = {
        "id": idx, "name": name, "operator_type": "Pooling", "equation": POOL_EQUATION,
        "dimension_relations": [f"iy={ya.stride}*oy+{ya.dilation}*fy", f"ix={xa.stride}*ox+{xa.dilation}*fx"],
        "loop_dims": ["B", "G", "OY", "OX", "FY", "FX"], "loop_sizes": [x[0], x[1], y[2], y[3], *kernel],
        "operand_precision": {**g.precision(g.attrs(node)), "W": 0},
        "operand_source": {"W": idx, "I": _source(producer, node.input[0], idx)},
        "pr_loop_dims": ["IY", "IX"], "pr_loop_sizes": x[2:],
        "padding": [[ya.pad_before, ya.pad_after], [xa.pad_before, xa.pad_after]],
    }  # fmt: skip
    return layer, None, f"ONNX {node.op_type} becomes ZigZag's own Pooling layer; ZigZag's cost is kept"


def _build_add(g: _Onnx, node: onnx.NodeProto, idx: int, name: str, producer: dict[str, int]):
    if len(node.input) != 2 or any(t in g.consts for t in node.input):
        return "adding a constant (a bias) is not a layer ZigZag costs (its ONNX front end makes it a DummyNode)"
    shapes = [g.shape(t, name) for t in (*node.input, node.output[0])]
    if any(s != shapes[0] for s in shapes) or len(shapes[0]) not in (2, 4):
        return "a broadcasting Add is not a layer ZigZag costs (its ONNX front end makes it a DummyNode)"
    sizes = shapes[0] + [1] * (4 - len(shapes[0]))
    sources = {"W": _source(producer, node.input[1], idx), "I": _source(producer, node.input[0], idx)}
    layer = {"id": idx, "name": name, "operator_type": "Add", "equation": ADD_EQUATION,
             "loop_dims": ["B", "G", "OY", "OX"], "loop_sizes": sizes,
             "operand_precision": g.precision(g.attrs(node)), "operand_source": sources}  # fmt: skip
    return layer, None, "ONNX Add becomes ZigZag's own Add layer; ZigZag's cost is kept"


_MAC_BUILDERS = {"Conv": _build_conv, "Gemm": _build_matmul, "MatMul": _build_matmul}  # what ZigZag's parser costs
_BUILDERS = {**_MAC_BUILDERS, "Add": _build_add, **dict.fromkeys(POOL_TYPES, _build_pool)}


def _skip_reason(op_type: str) -> str:
    if op_type in _BUILDERS:
        return (f"ZigZag's ONNX parser leaves ONNX {op_type} out (a zero-cost DummyNode); cost_pooling_and_add "
                "(--cost-pooling-and-add) costs it as ZigZag's own layer")  # fmt: skip
    if op_type == "QLinearConv":
        return "ONNX QLinearConv is not read by zz-event (ZigZag's parser costs it; convert it to Conv)"
    return f"ZigZag cannot cost ONNX {op_type} (its ONNX parser makes it a zero-cost DummyNode)"


# --------------------------------------------------------------------------------------------- ZigZag's validator


