"""A Stream computation node as zz-event's engine names it: the true geometry of the tile one core runs
(stride, dilation, asymmetric padding, which Stream's own per-core ZigZag layer drops) and the engine
name of each of the ZigZag layer's ``D`` dimensions. Read from the node's xdsl affine operand maps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stream.workload.utils import is_mac_operator_type
from xdsl.ir.affine import AffineBinaryOpExpr, AffineBinaryOpKind, AffineConstantExpr, AffineDimExpr

from zz_event.errors import UnsupportedLayerError
from zz_event.model.geometry import AxisGeometry, ConvGeometry

if TYPE_CHECKING:
    from stream.workload.workload import ComputationNode

__all__ = ["ConvView", "conv_view"]


@dataclass(frozen=True)
class ConvView:
    """A Stream node as the engine names it: the geometry of the tile one core runs, and per ZigZag layer dim of
    Stream's layer (``"D0"``, ...) its engine name (``B``, ``K``, ``C``, ``OY``, ``OX``, ``FY``, ``FX``, ``IY``,
    ``IX``; a Gemm's contraction split by a folded Flatten gives ``C``, ``C1``, ...)."""

    geometry: ConvGeometry
    dim_names: Mapping[str, str]


def conv_view(node: ComputationNode, layer: Any) -> ConvView:
    """The engine's view of ``node`` (Conv without groups, or Gemm/MatMul) as costed through ``layer``, the ZigZag
    layer Stream builds for one core (per-core extents). A spatial axis split across cores must be unpadded: its
    edge tiles would differ from the interior tile Stream costs for every core."""
    sizes = {str(d): int(s) for d, s in layer.layer_dim_sizes.items()}
    out_map, w_map = node.operand_mapping[-1], node.operand_mapping[1]
    if node.type == "Conv" and len(out_map.results) == 4:
        names = {f"D{_dim(e)}": n for e, n in zip(out_map.results, ("B", "K", "OY", "OX"), strict=True)}
        names.update({f"D{_dim(e)}": n for e, n in zip(w_map.results[1:], ("C", "FY", "FX"), strict=True)})
        axes = []
        for axis, pos, tap, pr in ((2, "OY", "FY", "IY"), (3, "OX", "FX", "IX")):
            terms, const = _linear(node.operand_mapping[0].results[axis])
            pos_dim, tap_dim = _key(names, pos), _key(names, tap)
            rel = next(r for r in layer.dimension_relations if {str(r.dim_2), str(r.dim_3)} == {pos_dim, tap_dim})
            names[str(rel.dim_1)] = pr
            axes.append(_axis(node, axis, terms, const, sizes, pos_dim, tap_dim))
        g = ConvGeometry(sizes[_key(names, "B")], sizes[_key(names, "K")], sizes[_key(names, "C")], *axes)
        return ConvView(g.check(), names)
    if is_mac_operator_type(node.type) and len(out_map.results) == 2:
        names = {f"D{_dim(out_map.results[0])}": "B", f"D{_dim(out_map.results[1])}": "K"}
        contraction = [d for d in sizes if d not in names]
        names.update({d: "C" if i == 0 else f"C{i}" for i, d in enumerate(contraction)})
        batch, channels = sizes[_key(names, "B")], math.prod(sizes[d] for d in contraction)
        unit = AxisGeometry(1, 1)
        return ConvView(ConvGeometry(batch, sizes[_key(names, "K")], channels, unit, unit).check(), names)
    raise UnsupportedLayerError(f"node {node.name!r} ({node.type}) is neither a plain Conv nor a 2-D Gemm/MatMul")


def _dim(expr: Any) -> int:
    if not isinstance(expr, AffineDimExpr):
        raise UnsupportedLayerError(f"output index {expr} is not a single loop")
    return expr.position


def _key(names: Mapping[str, str], name: str) -> str:
    return next(k for k, v in names.items() if v == name)


def _linear(expr: Any) -> tuple[dict[int, int], int]:
    """``expr`` as ({loop: coefficient}, constant), for sums of loops times constants."""
    if isinstance(expr, AffineDimExpr):
        return {expr.position: 1}, 0
    if isinstance(expr, AffineConstantExpr):
        return {}, expr.value
    if isinstance(expr, AffineBinaryOpExpr) and expr.kind is AffineBinaryOpKind.Add:
        (lt, lc), (rt, rc) = _linear(expr.lhs), _linear(expr.rhs)
        return {k: lt.get(k, 0) + rt.get(k, 0) for k in lt.keys() | rt.keys()}, lc + rc
    if isinstance(expr, AffineBinaryOpExpr) and expr.kind is AffineBinaryOpKind.Mul:
        for term, scale in ((expr.lhs, expr.rhs), (expr.rhs, expr.lhs)):
            if isinstance(scale, AffineConstantExpr):
                t, c = _linear(term)
                return {k: v * scale.value for k, v in t.items()}, c * scale.value
    raise UnsupportedLayerError(f"input index {expr} is not affine in the loops")


def _axis(node: Any, axis: int, terms: dict[int, int], const: int, sizes: dict, pos: str, tap: str) -> AxisGeometry:
    stride, dilation = terms.get(int(pos[1:]), 1), terms.get(int(tap[1:]), 1)
    full_out, kernel, tile_out = node.outputs[0].shape[axis], sizes[tap], sizes[pos]
    inp, pad_before = node.inputs[0].shape[axis], -const
    pad_after = (full_out - 1) * stride + (kernel - 1) * dilation + 1 - inp - pad_before
    if tile_out == full_out:
        return AxisGeometry(inp, kernel, stride, dilation, pad_before, max(pad_after, 0))
    if pad_before or pad_after > 0:
        raise UnsupportedLayerError(
            f"node {node.name!r} is split across cores along a padded axis ({tile_out} of {full_out} outputs): "
            f"its edge tiles differ from the interior tile Stream costs; split it along another dim"
        )
    return AxisGeometry((tile_out - 1) * stride + (kernel - 1) * dilation + 1, kernel, stride, dilation)
