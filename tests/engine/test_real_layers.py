"""Issue 16's three smallest failing cases complete under a memory cap with exact valid MACs.

Each runs ZigZag's search (LOMA lpf 2, the bundled hardware and mapping) with the correction inline in a
fresh process whose data memory is capped at 1 GB (RLIMIT_DATA: heap and private anonymous mappings, where
numpy's arrays live; not RLIMIT_AS, since the imports alone reserve 0.8 GB of address space, a quarter of it
shared library code): a layer that needed arrays as large as its tensors or iteration space would die with
MemoryError or be left uncorrected. The layer must be corrected, execute exactly its valid MACs, and the
process' peak resident memory stay at most 1 GB. The MobileNetV2 layer takes about 6 s of CPU; AlexNet's two
take 9 and 15 minutes (5,040 mappings at about 0.1 s; 720 at about 1.1 s, where the output registers' union
walks the iteration space): marked slow.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import zigzag

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = Path(zigzag.__file__).resolve().parent / "inputs"
CAP = 1 << 30

_RUN = """
import json, logging, resource, sys
logging.disable(logging.CRITICAL)
from zz_event.readers.workloads import load_workload
from zz_event.zigzag.front_door import run_zigzag_event_driven
from zz_event.zigzag.summary import build_summary
_, _, cmes = run_zigzag_event_driven(sys.argv[1], sys.argv[2], sys.argv[3], opt="latency", lpf_limit=2,
                                     dump_folder=sys.argv[4], loma_show_progress_bar=False)
valid = {name: g.valid_macs() for name, g in load_workload(sys.argv[1]).geometry.items()}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"layers": build_summary(cmes)["layers"], "valid": valid, "peak_bytes": peak}))
"""


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (CAP, CAP))


@pytest.mark.parametrize("layer, core, mapping", [
    ("mbv2_expand_24_144_56", "tesla_npu_like", "tesla_npu_like"),
    pytest.param("alexnet_conv2_grouped", "tpu_like", "tpu_like", marks=pytest.mark.slow),
    pytest.param("alexnet_conv1", "meta_prototype", "meta_prototype_like", marks=pytest.mark.slow),
])
def test_smallest_failing_case_completes_in_1_gb_with_exact_macs(layer, core, mapping, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(ROOT / "inputs" / "real_layers" / f"{layer}.onnx"),
         str(BUNDLED / "hardware" / f"{core}.yaml"), str(BUNDLED / "mapping" / f"{mapping}.yaml"), str(tmp_path)],
        capture_output=True, text=True, preexec_fn=_capped, cwd=ROOT, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    (only,) = out["layers"]
    assert only["corrected"], only.get("uncorrected_reason")
    assert only["event_driven"]["macs"] == out["valid"][only["name"]]
    assert out["peak_bytes"] <= CAP
