"""Read a ZigZag CostModelEvaluation into a `LoopNest` (the engine's ZigZag-free input)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from zigzag.datatypes import LayerDim

from zz_event.errors import UnsupportedLayerError
from zz_event.memo import LruMemo
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS, OPERANDS
from zz_event.zigzag.psum_flags import PsumFlags

__all__ = [
    "CmeMapping",
    "NestContext",
    "context_for",
    "context_of",
    "context_of_cme",
    "geometry_from_layer",
    "layer_is_correctable",
    "mapping_of_cme",
    "mapping_of_temporal",
    "nest_from_cme",
]

_KNOWN_DIMS = {"B", "G", "K", "C", "IY", "IX", "OY", "OX", "FY", "FX"}


def _dims(layer: Any) -> dict[str, int]:
    return {str(d): int(s) for d, s in layer.layer_dim_sizes.items()}


def layer_is_correctable(layer: Any) -> str | None:
    """None if zz-event can correct this ZigZag layer, else the reason it keeps ZigZag's own cost."""
    ops = {str(op) for op in layer.layer_operands}
    if ops != set(OPERANDS):
        return f"operands {sorted(ops)} are not the W, I, O of a convolution or matrix product"
    dims = set(_dims(layer))
    unknown = dims - _KNOWN_DIMS
    if unknown:
        return f"loop dimensions {sorted(unknown)} are not those of a convolution"
    if {"IY", "OY"} <= dims or {"IX", "OX"} <= dims:
        return "the layer has both input and output position loops"
    if not {"K", "C"} <= dims:
        return "it has no K and C loops, so it is not a convolution or matrix product (pooling, element-wise?)"
    return None


def geometry_from_layer(layer: Any) -> tuple[ConvGeometry, str]:
    """Geometry implied by a ZigZag layer alone: input-centric layers get stride 1, no padding, valid output."""
    reason = layer_is_correctable(layer)
    if reason:
        raise UnsupportedLayerError(f"layer {layer.name}: {reason}")
    d = _dims(layer)
    get = lambda k: d.get(k, 1)  # noqa: E731
    if "IY" in d or "IX" in d:
        y = AxisGeometry(get("IY"), get("FY"))
        x = AxisGeometry(get("IX"), get("FX"))
        centric = "input"
    else:
        pad = layer.padding
        (pt, pb), (pl, pr) = pad[_layer_dim("IY")], pad[_layer_dim("IX")]
        sy, sx = _relation_coefficients(layer, "IY"), _relation_coefficients(layer, "IX")
        y_in = (get("OY") - 1) * sy[0] + (get("FY") - 1) * sy[1] + 1 - pt - pb
        x_in = (get("OX") - 1) * sx[0] + (get("FX") - 1) * sx[1] + 1 - pl - pr
        y = AxisGeometry(y_in, get("FY"), sy[0], sy[1], pt, pb)
        x = AxisGeometry(x_in, get("FX"), sx[0], sx[1], pl, pr)
        centric = "output"
    return ConvGeometry(get("B"), get("K"), get("C"), y, x, get("G")), centric


def _layer_dim(name: str):
    return LayerDim(name)


def _relation_coefficients(layer: Any, dim: str) -> tuple[int, int]:
    """(coefficient of the position dim, coefficient of the tap dim) in ZigZag's relation for `dim`."""
    for rel in layer.dimension_relations:
        if str(rel.dim_1) == dim:
            coefs = {str(rel.dim_2): int(rel.coef_2), str(rel.dim_3): int(rel.coef_3)}
            tap = "F" + dim[-1]
            pos = next(k for k in coefs if k != tap)
            return coefs[pos], coefs.get(tap, 1)
    return (1, 1)


def nest_from_cme(cme: Any, geometry: ConvGeometry | None = None, centric: str | None = None) -> LoopNest:
    """The LoopNest of one evaluated mapping. `geometry` overrides what the layer alone implies."""
    return context_of_cme(cme, geometry, centric).nest(mapping_of_cme(cme))


# What one CME adds to its context: temporal loops (inner to outer, (dim, size) with ZigZag's size as
# it is, so that a mapspace row prints it as ZigZag has it), the number of loops each memory level of each
# operand owns (per operand, innermost first), ZigZag's psum flags of O.
CmeMapping = tuple[tuple[tuple[str, float], ...], tuple[tuple[int, ...], ...], tuple[bool, ...]]


def mapping_of_cme(cme: Any) -> CmeMapping:
    """The per-mapping part of a CME's nest, as plain tuples ."""
    temporal, owned, _ = _loops_of(cme.temporal_mapping)
    return temporal, owned, tuple([bool(f) for f in cme.mapping.psum_flag])


def mapping_of_temporal(temporal_mapping: Any, psum: PsumFlags) -> CmeMapping:
    """`mapping_of_cme` of the CME ZigZag would build for `temporal_mapping`, before it is built: the psum flags from
    `psum` (`PsumFlags` of the layer and spatial mapping), not from ZigZag's `Mapping`."""
    temporal, owned, out = _loops_of(temporal_mapping)
    return temporal, owned, psum.flags(tuple([tuple([(str(d), s) for d, s in level]) for level in out]))


def _loops_of(temporal_mapping: Any) -> tuple[tuple, tuple, list]:
    """A temporal mapping's loops (inner to outer), the loops each memory level of each operand owns, and the
    output's loops per level as ZigZag has them."""
    # List comprehensions, not generator expressions: Python 3.12 inlines them (this runs per mapping).
    tm = {str(op): levels for op, levels in temporal_mapping.mapping_dic_origin.items()}
    temporal = tuple([(str(d), s) for level in tm["O"] for d, s in level])
    owned = tuple([tuple([len(loops) for loops in tm[op]]) for op in OPERANDS])
    return temporal, owned, tm["O"]


@dataclass(frozen=True, eq=False)
class NestContext:
    """What every mapping of one layer on one core with one spatial mapping shares; `nest` adds the
    temporal mapping. Levels carry `top=0` and `psum=False` until then."""

    geometry: ConvGeometry
    centric: str
    spatial: tuple[SpatialLoop, ...]
    levels: dict[str, tuple[MemLevel, ...]]
    precision: dict[str, int]
    mac_energy: float
    dense_relation: dict[str, tuple[int, int]]
    systolic: frozenset[str] = frozenset()
    # (operand, level index, top, psum) -> that level: a few per context, and `replace` is slow.
    _placed: dict = field(default_factory=dict, init=False, repr=False)

    def nest(self, mapping: CmeMapping) -> LoopNest:
        temporal, owned, psum = mapping
        levels: dict[str, tuple[MemLevel, ...]] = {}
        placed = self._placed
        for op, counts in zip(OPERANDS, owned):
            top, out = 0, []
            for j, (level, n) in enumerate(zip(self.levels[op], counts)):
                top += n
                key = (op, j, top, psum[j] if op == "O" else False)
                if key not in placed:
                    placed[key] = replace(level, top=top, psum=key[3])
                out.append(placed[key])
            levels[op] = tuple(out)
        return LoopNest(
            geometry=self.geometry,
            centric=self.centric,  # type: ignore[arg-type]
            temporal=tuple(Loop(d, int(round(s))) for d, s in temporal),
            spatial=self.spatial,
            levels=levels,
            precision=dict(self.precision),
            mac_energy=self.mac_energy,
            dense_relation=dict(self.dense_relation),
            systolic=self.systolic,
        )


_CONTEXTS = LruMemo(16)


def context_of_cme(cme: Any, geometry: ConvGeometry | None = None, centric: str | None = None) -> NestContext:
    """The context of a CME (`context_of`)."""
    return context_of(cme.layer, cme.accelerator, geometry, centric)


def context_of(layer: Any, accelerator: Any, geometry: ConvGeometry | None = None,
               centric: str | None = None) -> NestContext:
    """The context of `layer` on `accelerator` with the spatial mapping ZigZag has set on the layer, built once per
    (layer, accelerator, spatial mapping): reading ports and relations costs more than the engine's cheapest
    mappings. The layer and accelerator objects are kept alive with their entry, so their ids stay theirs."""
    # ZigZag stores an unrolling that does not divide the layer as a fraction (K 84 on 8 PEs: 7.64 x 11);
    # the hardware unrolls the whole array width, and the last temporal iteration runs partly idle.
    spatial = tuple(
        SpatialLoop(str(oa_dim), str(dim), math.ceil(size - 1e-9))
        for oa_dim, single in layer.spatial_mapping.items()
        for dim, size in single.items()
        if math.ceil(size - 1e-9) > 1
    )
    key = (id(layer), id(accelerator), spatial, geometry, centric)
    build = lambda: (layer, accelerator, _build_context(layer, accelerator, spatial, geometry, centric))  # noqa: E731
    return _CONTEXTS.get_or(key, build)[2]


def context_for(layer: Any, accelerator: Any, spatial: tuple[SpatialLoop, ...], geometry: ConvGeometry | None = None,
                centric: str | None = None) -> NestContext:
    """The context of ``layer`` on ``accelerator`` with the spatial loops ``spatial``, without a CME (e.g. to bound
    a spatial mapping's cost before ZigZag searches it)."""
    return _build_context(layer, accelerator, spatial, geometry, centric)


def _build_context(layer: Any, accelerator: Any, spatial, geometry, centric) -> NestContext:
    if geometry is None or centric is None:
        geometry, centric = geometry_from_layer(layer)
    links = layer.memory_operand_links
    hierarchy = accelerator.memory_hierarchy
    levels: dict[str, tuple[MemLevel, ...]] = {}
    for op in OPERANDS:
        layer_op = next(o for o in layer.layer_operands if str(o) == op)
        mem_op = links.layer_to_mem_op(layer_op)
        out = []
        for ml in hierarchy.get_memory_levels(mem_op):
            ports = {}
            for direction in DIRECTIONS:
                data_dir = next(dd for dd in ml.bandwidths_max[mem_op] if str(dd) == direction)
                bw_max, bw_min = ml.bandwidths_max[mem_op][data_dir], ml.bandwidths_min[mem_op][data_dir]
                if bw_max:
                    ports[direction] = Port(_port_name(ml, mem_op, data_dir), int(bw_min), int(bw_max))
            out.append(
                MemLevel(
                    name=ml.name,
                    top=0,
                    served=frozenset(str(d) for d in ml.served_dimensions),
                    read_cost=float(ml.read_energy),
                    write_cost=float(ml.write_energy),
                    ports=ports,
                    size_bits=int(ml.memory_instance.size),
                )
            )
        levels[op] = tuple(out)
    precision = {str(k): int(v) for k, v in layer.operand_precision.data.items()}
    precision.setdefault("O_final", precision["O"])
    dense = {"Y": (1, 1), "X": (1, 1)}
    if centric == "input":
        for axis in ("Y", "X"):
            for rel in layer.dimension_relations:
                if str(rel.dim_1) == "O" + axis:
                    coefs = {str(rel.dim_2): int(rel.coef_2), str(rel.dim_3): int(rel.coef_3)}
                    dense[axis] = (coefs.get("I" + axis, 1), coefs.get("F" + axis, 1))
    mac_energy = float(accelerator.operational_array.unit.energy_cost)
    systolic = frozenset(str(d) for d in getattr(accelerator.operational_array, "systolic_dimensions", ()) or ())
    return NestContext(geometry, centric, spatial, levels, precision, mac_energy, dense, systolic)


def _port_name(ml: Any, mem_op: Any, data_dir: Any) -> str:
    for port in ml.ports:
        if (mem_op, ml.mem_level_of_operands[mem_op], data_dir) in port.served_op_lv_dir:
            return f"{ml.name}.{port.name}"
    return f"{ml.name}.{data_dir}"
