"""ZigZag CostModelEvaluations of one layer, accelerator and spatial mapping, built as ZigZag's constructor builds
them but sharing what they have in common.

`CostModelEvaluation.__init__` builds two `Mapping`s (the fractional spatial mapping's, for energy, and the
integer one's, for latency), each rebuilding the integer `SpatialMappingInternal` from its dict and running
`decouple_pr_loop` twice, which splits every partially relevant loop (IX, FX of an output's OX...) into an r and
an ir loop: about a third of a CME's cost, and the same for every temporal mapping whose partially relevant loops
come in the same order with the same sizes. `CmeBuilder` builds the integer `SpatialMappingInternal` once and
keeps each operand's split per sequence of its partially relevant loops (their values depend on nothing else: the
r/ir sizes are products along that sequence, across levels). Three of a `Mapping`'s steps are ZigZag's expressions
written out, in its order, without its per-loop list scans and per-attribute enum iterations: the r/ir loop sizes
(`gen_r_ir_loop_list`) and the data movement (`calc_data_access`, `calc_req_mem_bw_and_data_transfer_rate`,
`disable_data_traffic_external`, each `DataMovePattern` built once with its final attributes); everything else runs
ZigZag's own methods in its constructor's order. The CMEs are ZigZag's, field for field
(tests/search/test_cme_builder.py holds them equal, types included, to CMEs built the ordinary way).
"""

from __future__ import annotations

from math import prod
from typing import Any

from zigzag.cost_model.cost_model import CostModelEvaluation
from zigzag.datatypes import Constants
from zigzag.hardware.architecture.memory_port import DataDirection
from zigzag.mapping.data_movement import DataMoveAttr, DataMovePattern, FourWayDataMoving
from zigzag.mapping.mapping import Mapping
from zigzag.mapping.mapping_assist_funcs import decouple_pr_loop
from zigzag.mapping.spatial_mapping_internal import SpatialMappingInternal
from zigzag.utils import copy_loop_levels
from zigzag.workload.layer_attributes import LayerDimSizes

__all__ = ["CmeBuilder"]


class CmeBuilder:
    """Builds `CostModelEvaluation`s of `layer` on `accelerator` with the given spatial mappings, one per temporal
    mapping (`build`), with `access_same_data_considered_as_no_access` as the search's (ZigZag's API: True)."""

    def __init__(self, accelerator: Any, layer: Any, spatial_mapping: Any, spatial_mapping_int: Any,
                 access_same_data_considered_as_no_access: bool = True) -> None:
        self.accelerator, self.layer = accelerator, layer
        self.spatial_mapping, self.spatial_mapping_int = spatial_mapping, spatial_mapping_int
        self.same_data_no_access = access_same_data_considered_as_no_access
        # What each `Mapping` of the integer mapping would build from `spatial_mapping_int.mapping_dict_origin`.
        self._int_internal = SpatialMappingInternal(spatial_mapping_int.mapping_dict_origin, layer)
        self._splits = _PrSplits(layer)
        # ZigZag's r/ir lists of the pr-decoupled dimensions, as sets (its operand types hash as they compare).
        info = layer.pr_decoupled_relevancy_info
        self._relevant = {op: (frozenset(info.get_r_layer_dims(op)), frozenset(info.get_ir_layer_dims(op)))
                          for op in layer.layer_operands}
        self._kinds: dict[Any, dict[int, tuple[Any, bool, bool]]] = {op: {} for op in layer.layer_operands}

    def build(self, temporal_mapping: Any) -> CostModelEvaluation:
        """ZigZag's `CostModelEvaluation(...)` of `temporal_mapping`, its constructor's steps in its order."""
        cme = CostModelEvaluation.__new__(CostModelEvaluation)
        accelerator, layer = self.accelerator, self.layer
        cme.accelerator = accelerator
        cme.layer = layer
        cme.spatial_mapping = self.spatial_mapping
        cme.spatial_mapping_int = self.spatial_mapping_int
        cme.temporal_mapping = temporal_mapping
        cme.access_same_data_considered_as_no_access = self.same_data_no_access
        cme.mem_level_list = accelerator.memory_hierarchy.mem_level_list
        cme.mem_hierarchy_dict = accelerator.mem_hierarchy_dict
        cme.mem_size_dict = accelerator.mem_size_dict
        cme.mem_sharing_tuple = tuple(tuple(i.items()) for i in accelerator.mem_sharing_list)
        cme.memory_operand_links = layer.memory_operand_links
        cme.cumulative_layer_ids = []
        cme.spatial_mapping_dict_int = self.spatial_mapping_int.mapping_dict_origin
        cme.mapping = self._mapping(self.spatial_mapping, temporal_mapping)
        cme.mapping_int = self._mapping(self._int_internal, temporal_mapping)
        cme.active_mem_level = cme.mapping.mem_level
        cme.cycles_per_op = 1.0
        cme.run()
        return cme

    def _mapping(self, spatial_mapping: SpatialMappingInternal, temporal_mapping: Any) -> Mapping:
        """`Mapping(accelerator, spatial_mapping, temporal_mapping, layer, ...)`, its constructor's steps."""
        m = Mapping.__new__(Mapping)
        m.accelerator = self.accelerator
        m.spatial_mapping = spatial_mapping
        m.temporal_mapping = temporal_mapping
        m.layer_node = self.layer
        m.operand_list = self.layer.layer_operands
        m.access_same_data_considered_as_no_access = self.same_data_no_access
        m.mem_level = temporal_mapping.mem_level
        m.unit_mem_data_movement = {op: [None for _ in range(m.mem_level[op])] for op in m.operand_list}
        m.combine_spatial_temporal_mapping_dict()
        m.combined_mapping_dict_1s1t_reform = self._splits.decouple(m.combined_mapping_dict_1s1t)
        m.combined_mapping_dict_1s2t_reform = self._splits.decouple(m.combined_mapping_dict_1s2t)
        m.psum_flag = m.get_psum_flags()
        m.gen_data_precision_dict()
        self._r_ir_loop_lists(m)
        m.calc_data_size()
        m.calc_effective_data_size()
        _data_movement(m)
        return m


    def _r_ir_loop_lists(self, m: Mapping) -> None:
        """`m.gen_r_ir_loop_list()`: the same products in the same order, each loop's r/ir kind looked up once per
        level (ZigZag scans the r and the ir list per loop and level list, comparing by a Python `__eq__`)."""
        levels = m.spatial_mapping.arch_level
        r_1t, r_2t, ir_1t, ir_2t = {}, {}, {}, {}
        r_cabl, r_cabl2, ir_cabl, ir_cabl2 = {}, {}, {}, {}
        for op in m.operand_list:
            one, two = m.combined_mapping_dict_1s1t_reform[op], m.combined_mapping_dict_1s2t_reform[op]
            n = levels[op]
            split_one = [self._r_ir_sizes(op, one[lv]) for lv in range(n)]
            split_two = [self._r_ir_sizes(op, two[lv]) for lv in range(n)]
            r_1t[op] = r = [prod(r_sizes) for r_sizes, _ in split_one]
            r_2t[op] = r2 = [prod(r_sizes) for r_sizes, _ in split_two]
            ir_1t[op] = ir = [prod(ir_sizes) for _, ir_sizes in split_one]
            ir_2t[op] = ir2 = [prod(ir_sizes) for _, ir_sizes in split_two]
            r_cabl[op] = [round(prod(r[0:lv + 1])) for lv in range(n)]
            r_cabl2[op] = [round(prod(r2[0:lv + 1])) for lv in range(n)]
            ir_cabl[op] = [prod(ir[0:lv + 1]) for lv in range(n)]
            ir_cabl2[op] = [prod(ir2[0:lv + 1]) for lv in range(n)]
        out = self.layer.output_operand
        n = levels[out]
        caal = [prod(ir_1t[out][lv:n]) for lv in range(n)]
        caal.extend([1, 1])
        m.r_loop_size_per_level, m.r_loop_size_per_level2, m.ir_loop_size_per_level = r_1t, r_2t, ir_1t
        m.r_loop_size_cabl, m.r_loop_size_cabl2 = r_cabl, r_cabl2
        m.ir_loop_size_cabl, m.ir_loop_size_cabl2 = ir_cabl, ir_cabl2
        m.output_ir_loop_size_caal = caal

    def _r_ir_sizes(self, op: Any, level: list) -> tuple[list, list]:
        """The sizes of a level's r loops and of its ir loops of `op`, in the level's order. Whether a dimension
        is r or ir is kept by the dimension object's id (with the object, so the id stays its): ZigZag's
        dimensions hash through a Python `__hash__`, called per loop."""
        kinds = self._kinds[op]
        r_sizes, ir_sizes = [], []
        for dim, size in level:
            kind = kinds.get(id(dim))
            if kind is None:
                r_set, ir_set = self._relevant[op]
                kind = kinds[id(dim)] = (dim, dim in r_set, dim in ir_set)
            if kind[1]:
                r_sizes.append(size)
            if kind[2]:
                ir_sizes.append(size)
        return r_sizes, ir_sizes


_RL, _WL, _RH, _WH = (DataDirection.RD_OUT_TO_LOW, DataDirection.WR_IN_BY_LOW, DataDirection.RD_OUT_TO_HIGH,
                      DataDirection.WR_IN_BY_HIGH)
_DIRECTIONS = tuple(DataDirection)  # iterating the enum class costs a generator and a lookup per member
_ATTRIBUTES = tuple(DataMoveAttr)
_COUNT, _PRECISION, _BW_AVER, _BW_INST, _PERIOD, _PERIOD_COUNT, _AMOUNT, _WINDOW = (
    DataMoveAttr.DATA_ELEM_MOVE_COUNT, DataMoveAttr.DATA_PRECISION, DataMoveAttr.REQ_MEM_BW_AVER,
    DataMoveAttr.REQ_MEM_BW_INST, DataMoveAttr.DATA_TRANS_PERIOD, DataMoveAttr.DATA_TRANS_PERIOD_COUNT,
    DataMoveAttr.DATA_TRANS_AMOUNT_PER_PERIOD, DataMoveAttr.INST_DATA_TRANS_WINDOW)


def _four(data: dict) -> FourWayDataMoving:
    """`FourWayDataMoving(data)` of a dict built for it (ZigZag copies it and checks its keys)."""
    four = FourWayDataMoving.__new__(FourWayDataMoving)
    four.data = data
    return four


def _pattern(operand: Any, level: int, attributes: dict) -> DataMovePattern:
    """A `DataMovePattern` whose every attribute was set (`attributes`: DataMoveAttr -> its dict)."""
    pattern = DataMovePattern.__new__(DataMovePattern)
    pattern.name = operand.name + str(level)
    pattern.attributes = {attr: _four(attributes[attr]) for attr in _ATTRIBUTES}
    return pattern


def _data_movement(m: Mapping) -> None:
    """`m.calc_data_access()`, `m.calc_req_mem_bw_and_data_transfer_rate()` and `m.disable_data_traffic_external()`:
    the same expressions in the same order, each `DataMovePattern` built once with its final attributes (ZigZag
    builds eight zero attributes per pattern and then replaces each, iterating the direction enum for every one)."""
    layer, tm, sm = m.layer_node, m.temporal_mapping, m.spatial_mapping
    total_mac_count = layer.total_mac_count
    m.data_access_raw = raw = {op: [round(total_mac_count / m.ir_loop_size_cabl[op][lv])
                                    for lv in range(sm.arch_level[op])] for op in m.operand_list}
    m.data_access_raw2 = raw2 = {op: [round(total_mac_count / m.ir_loop_size_cabl2[op][lv])
                                      for lv in range(sm.arch_level[op])] for op in m.operand_list}
    if m.access_same_data_considered_as_no_access:
        cycles = {op: [tm.mac_level_data_stationary_cycle[op]] + tm.cycle_cabl_level[op] for op in layer.input_operands}
        cycles[layer.output_operand] = [1] + tm.cycle_cabl_level[layer.output_operand]
    else:
        cycles = {op: [1] + tm.cycle_cabl_level[op] for op in m.operand_list}
    unrolled = m.data_elem_per_level_unrolled
    boost = {op: sm.mem_bw_boost[op] + [1] for op in m.operand_list}
    bw_low = {op: [unrolled[op][lv] * m.data_precision_dict[op][lv] / cycles[op][lv] for lv in range(sm.arch_level[op])]
              for op in m.operand_list}
    bw_high = {op: [bw_low[op][lv] * boost[op][lv] for lv in range(sm.arch_level[op])] for op in m.operand_list}
    total_cycle = tm.total_cycle
    found: dict[Any, list[dict]] = {op: [] for op in m.operand_list}
    for operand in layer.input_operands:
        precision = layer.operand_precision[operand]
        mem_op = layer.memory_operand_links[operand]
        for lv in range(m.mem_level[operand]):
            bw = m.accelerator.get_memory_level(mem_op, lv).get_max_bandwidth(mem_op, _RL)
            bw_large_enough = bw >= m.data_bit_per_level[operand][lv] // sm.unit_unique[operand][lv + 1]
            if m.access_same_data_considered_as_no_access and lv == 0 and bw_large_enough:
                rd_out_to_low = int(raw[operand][lv] / tm.mac_level_data_stationary_cycle[operand])
            else:
                rd_out_to_low = raw[operand][lv]
            cycle, cycle_up = cycles[operand][lv], cycles[operand][lv + 1]
            found[operand].append({
                _COUNT: {_RL: rd_out_to_low, _WL: 0, _WH: raw2[operand][lv + 1], _RH: 0},
                _PRECISION: {_RL: precision, _WL: 0, _WH: precision, _RH: 0},
                _BW_AVER: {_RL: int(bw_high[operand][lv]), _WL: 0, _RH: 0, _WH: int(bw_low[operand][lv + 1])},
                _PERIOD: {_RL: int(cycle), _WL: 0, _RH: 0, _WH: int(cycle_up)},
                _PERIOD_COUNT: {_RL: int(total_cycle // cycle), _WL: 0, _RH: 0, _WH: int(total_cycle // cycle_up)},
                _AMOUNT: {_RL: unrolled[operand][lv] * boost[operand][lv], _WL: 0, _RH: 0,
                          _WH: unrolled[operand][lv + 1]},
            })
    out = layer.output_operand
    size, caal, psum = layer.operand_size_elem[out], m.output_ir_loop_size_caal, m.psum_flag
    partial, final = layer.operand_precision[out], layer.operand_precision[Constants.FINAL_OUTPUT_LAYER_OP]
    for lv in range(m.mem_level[out]):
        rd_out_to_low = int(size * (caal[lv + 1] - 1))
        wr_in_by_high = int(size * (caal[lv + 2] - 1))
        low = (int(bw_high[out][lv]), int(cycles[out][lv]), int(total_cycle // cycles[out][lv]),
               int(unrolled[out][lv] * boost[out][lv]))  # bandwidth, period, period count, amount: written by low
        high = (int(bw_low[out][lv + 1]), int(cycles[out][lv + 1]), int(total_cycle // cycles[out][lv + 1]),
                unrolled[out][lv + 1])  # the same, read out to high
        read_low = low if psum[lv] else (0, 0, 0, 0)
        write_high = high if psum[lv + 1] else (0, 0, 0, 0)
        found[out].append({
            _COUNT: {_RL: rd_out_to_low, _WL: raw[out][lv], _RH: raw2[out][lv + 1], _WH: wr_in_by_high},
            _PRECISION: {_RL: partial if rd_out_to_low != 0 else 0, _WL: partial if rd_out_to_low != 0 else final,
                         _RH: partial if wr_in_by_high != 0 else final, _WH: partial if wr_in_by_high != 0 else 0},
            **{attr: {_RL: read_low[k], _WL: low[k], _RH: high[k], _WH: write_high[k]}
               for k, attr in enumerate((_BW_AVER, _PERIOD, _PERIOD_COUNT, _AMOUNT))},
        })
    top_ir = tm.top_ir_loop_size
    for operand in m.operand_list:
        levels = found[operand]
        for lv, attributes in enumerate(levels):
            curr, following = int(top_ir[operand][lv]), int(top_ir[operand][lv + 1])
            scaling = {_RL: curr, _WL: curr, _RH: following, _WH: following}
            average, period = attributes[_BW_AVER], attributes[_PERIOD]
            attributes[_BW_INST] = {d: int(average[d] * scaling[d]) for d in _DIRECTIONS}
            attributes[_WINDOW] = {d: int(period[d] / scaling[d]) for d in _DIRECTIONS}
        for data in levels[-1].values():  # the top level's traffic with the outside world is not counted
            data[_RH] = 0
            data[_WH] = 0
        m.unit_mem_data_movement[operand] = [_pattern(operand, lv, a) for lv, a in enumerate(levels)]


class _PrSplits:
    """`decouple_pr_loop` of one layer, each operand's r/ir sizes kept per sequence of its partially relevant
    loops (dimension, size and the size's type, which ZigZag's products carry on)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        info = layer.loop_relevancy_info
        self._r_ir = {op: frozenset(info.get_r_layer_dims(op) + info.get_ir_layer_dims(op))
                      for op in layer.layer_operands}
        self._pr = {op: info.get_pr_layer_dims(op) for op in layer.layer_operands if info.get_pr_layer_dims(op)}
        # Per operand with partially relevant dimensions: loop dimension -> the data dimension it is part of.
        self._data_dim: dict[Any, dict[Any, Any]] = {}
        self._exact = True  # False where a loop dimension is part of two data dimensions: ZigZag's own function runs
        for op, lut in self._pr.items():
            owner = {}
            for data_dim, loop_dims in lut.items():
                for loop_dim in loop_dims:
                    self._exact &= loop_dim not in owner
                    owner[loop_dim] = data_dim
            self._data_dim[op] = owner
        self._versions = {data_dim: (data_dim.create_r_version(), data_dim.create_ir_version())
                          for lut in self._pr.values() for data_dim in lut}
        self._values: dict[tuple, list[tuple]] = {}

    def decouple(self, mapping_dict: dict) -> dict:
        """`decouple_pr_loop(mapping_dict, layer)`: a fresh dict of fresh level lists."""
        if not self._exact:
            return decouple_pr_loop(mapping_dict, self.layer)
        reform = copy_loop_levels(mapping_dict)
        for op, owner in self._data_dim.items():
            levels = mapping_dict[op]
            r_ir = self._r_ir[op]
            sequence = tuple((dim, size, type(size)) for level in levels for dim, size in level
                             if dim not in r_ir and dim in owner)
            key = (op, sequence)
            values = self._values.get(key)
            if values is None:
                values = self._values[key] = self._split(op, sequence)
            found = iter(values)
            reform[op] = [[entry for dim, size in level
                           for entry in (((dim, size),) if dim in r_ir or dim not in owner else next(found))]
                          for level in levels]
        return reform

    def _split(self, op: Any, sequence: tuple) -> list[tuple]:
        """Per loop of `sequence`, its (r loop, ir loop) as `decouple_pr_loop` computes them."""
        owner = self._data_dim[op]
        sizes = {data_dim: dict.fromkeys(loop_dims, 1) for data_dim, loop_dims in self._pr[op].items()}
        previous = dict.fromkeys(sizes, (1, 1))
        out = []
        for dim, size, _ in sequence:
            data_dim = owner[dim]
            combined = sizes[data_dim]
            combined[dim] *= size
            to_r = self.layer.calc_tensor_dim(data_dim, LayerDimSizes(combined))
            to_ir = prod(combined.values()) / to_r
            last_r, last_ir = previous[data_dim]
            r_dim, ir_dim = self._versions[data_dim]
            out.append(((r_dim, to_r / last_r), (ir_dim, to_ir / last_ir)))
            previous[data_dim] = (to_r, to_ir)
        return out
