"""The gate below ZigZag's cost model (`stages.SkippingCostModelStage`) reads a temporal mapping's partial-sum
flags with `PsumFlags`, before ZigZag's `Mapping` exists: on LOMA's temporal mappings of every Conv and Gemm layer
of ZigZag's bundled networks on its five bundled cores (spatial mappings that overshoot, unroll IX/IY or FX/FY,
strided layers), they are the flags ZigZag's `Mapping` computes. AlexNet on tpu_like and meta_prototype run by
default (a grouped conv with C 48 on 32 PEs; an 11x11 stride-4 conv with IX/IY unrolled), the rest with -m slow."""

from __future__ import annotations

import itertools
from pathlib import Path

import onnx
import pytest
import zigzag
from zigzag.mapping.mapping import Mapping
from zigzag.opt.loma.engine import LomaEngine

from zz_event.search.run import layer_spaces
from zz_event.zigzag.adapter import mapping_of_temporal
from zz_event.zigzag.psum_flags import PsumFlags

BUNDLED = Path(zigzag.__file__).resolve().parent / "inputs"
CORES = {"tpu_like": "tpu_like", "edge_tpu_like": "edge_tpu_like", "ascend_like": "ascend_like",
         "meta_prototype": "meta_prototype_like", "tesla_npu_like": "tesla_npu_like"}
DEFAULT = {("alexnet", "tpu_like"), ("alexnet", "meta_prototype")}
PER_SPATIAL_MAPPING = 15  # LOMA's first temporal mappings (lpf 3) of each spatial mapping ZigZag generates


def cases():
    for network in ("alexnet", "resnet18", "mobilenetv2"):
        for core in CORES:
            marks = () if (network, core) in DEFAULT else (pytest.mark.slow,)
            yield pytest.param(network, core, marks=marks, id=f"{network}-{core}")


@pytest.mark.parametrize(("network", "core"), cases())
# ZigZag's bundled mappings name OX/OY for input-centric layers: translated, as meant, with a warning each
@pytest.mark.filterwarnings("ignore::zz_event.readers.mappings.MappingTranslationWarning")
def test_psum_flags_of_a_temporal_mapping_are_zigzags(network, core):
    workload = str(BUNDLED / "workload" / f"{network}.onnx")
    graph = onnx.load(workload, load_external_data=False).graph
    hardware, mapping = BUNDLED / "hardware" / f"{core}.yaml", BUNDLED / "mapping" / f"{CORES[core]}.yaml"
    checked = partial = 0
    for node in (n for n in graph.node if n.op_type in ("Conv", "Gemm")):
        for space in layer_spaces(workload, str(hardware), str(mapping), node.name):
            psum = PsumFlags(space.layer, space.spatial_mapping)
            loma = LomaEngine(accelerator=space.accelerator, layer=space.layer, spatial_mapping=space.spatial_mapping,
                              mapping_type=space.temporal_mapping_type, loma_lpf_limit=3)
            for temporal in itertools.islice(loma.run(), PER_SPATIAL_MAPPING):
                zigzags = Mapping(space.accelerator, space.spatial_mapping, temporal, space.layer, True).psum_flag
                ours = mapping_of_temporal(temporal, psum)[2]
                assert ours == tuple(bool(f) for f in zigzags), (node.name, str(temporal))
                checked += 1
                partial += any(ours)
    assert checked and 0 < partial  # some mapping of the network holds partial sums in a level
