"""Issue 16's smallest failing cases complete under a memory cap (issue 16, items 1 and 3).

Each runs `zz-event run` in a subprocess whose address space is capped at 2 GB (RLIMIT_AS, inherited by
the correction worker), on ZigZag's bundled hardware and mapping with LOMA lpf 2: it must exit 0, and a
corrected layer must execute exactly the layer's valid MACs (`ConvGeometry.valid_macs`). Before issue 16
all three died (MemoryError, or a worker past 5 GB killed by the kernel). Slow: ZigZag's own search of
AlexNet's grouped conv alone takes about 35 s of CPU.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import zigzag
from conftest import INPUTS

from zz_event.model.geometry import AxisGeometry, ConvGeometry

BUNDLED = Path(zigzag.__file__).resolve().parent / "inputs"
CAP = 2 * 1024**3

# workload -> (hardware, mapping, true geometry)
CASES = {
    "mbv2_expand_24_144_56": ("tesla_npu_like", "tesla_npu_like",
                              ConvGeometry(B=1, K=144, C=24, y=AxisGeometry(56, 1), x=AxisGeometry(56, 1))),
    "alexnet_conv2_grouped": ("tpu_like", "tpu_like",
                              ConvGeometry(B=1, K=128, C=48, G=2, y=AxisGeometry(26, 5, pad_before=2, pad_after=2),
                                           x=AxisGeometry(26, 5, pad_before=2, pad_after=2))),
    "alexnet_conv1": ("meta_prototype", "meta_prototype_like",
                      ConvGeometry(B=1, K=96, C=3, y=AxisGeometry(224, 11, stride=4),
                                   x=AxisGeometry(224, 11, stride=4))),
}


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_smallest_failing_case_completes_under_a_memory_cap(name, tmp_path):
    hardware, mapping, geometry = CASES[name]
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "zz_event.cli", "run", "--workload", str(INPUTS / "real_layers" / f"{name}.onnx"),
           "--accelerator", str(BUNDLED / "hardware" / f"{hardware}.yaml"),
           "--mapping", str(BUNDLED / "mapping" / f"{mapping}.yaml"), "--lpf-limit", "2", "--out", str(out)]
    done = subprocess.run(cmd, preexec_fn=_cap, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    (layer,) = json.loads((out / "summary.json").read_text())["layers"]
    assert layer["corrected"], layer.get("uncorrected_reason")
    assert layer["event_driven"]["macs"] == geometry.valid_macs()
