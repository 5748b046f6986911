"""Issue 16's real-network table: does zz-event complete where ZigZag does, in what CPU time and peak memory?

    .venv/bin/python benchmarks/real_networks.py                  # the three smallest failing cases
    .venv/bin/python benchmarks/real_networks.py --networks       # also AlexNet, ResNet-18, MobileNetV2 x 5 cores

Each run is its own process, its data memory capped at --cap-gb (RLIMIT_DATA: heap and private anonymous
mappings, where arrays live; the imports alone reserve 0.8 GB of address space, so RLIMIT_AS would leave the
run 0.2 GB of a 1 GB cap): ZigZag's `get_hardware_performance_zigzag` and zz-event's
`run_zigzag_event_driven` with the correction inline (the engine's time is counted in the same process, as
issue 16 asks), its summary.json as `zz-event run` writes it, on the same arguments (ZigZag's bundled
hardware and mappings, LOMA lpf 2, opt latency as ZigZag's API has it by default; `--opt energy` for the other
reducer). CPU time and peak resident memory come from `os.wait4`.
`--max-ratio 4` stops a zz-event run past 4x ZigZag's CPU, so that the table completes in bounded time.
`--repeat 3` runs each three times, ZigZag and zz-event in turn, and keeps each one's least CPU time: on these
shared machines the same run's CPU time varies by 10-30 % (ZigZag alone on AlexNet's grouped conv2 read 35.8
and 49.0 s, one right after the other).
Columns: completes, corrected layers / layers, MACs exact (every corrected layer's event-driven MACs equal
its valid MACs), CPU seconds of each and their ratio, peak MB of each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zigzag

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = Path(zigzag.__file__).resolve().parent / "inputs"
LAYERS = ROOT / "inputs" / "real_layers"
CORES = {"tpu_like": "tpu_like", "edge_tpu_like": "edge_tpu_like", "ascend_like": "ascend_like",
         "meta_prototype": "meta_prototype_like", "tesla_npu_like": "tesla_npu_like"}
SMALLEST = [(LAYERS / "mbv2_expand_24_144_56.onnx", "tesla_npu_like"),
            (LAYERS / "alexnet_conv2_grouped.onnx", "tpu_like"), (LAYERS / "alexnet_conv1.onnx", "meta_prototype")]
NETWORKS = [BUNDLED / "workload" / f"{n}.onnx" for n in ("alexnet", "resnet18", "mobilenetv2")]

_ZIGZAG = """
import logging, sys
logging.disable(logging.CRITICAL)
from zigzag.api import get_hardware_performance_zigzag
get_hardware_performance_zigzag(sys.argv[1], sys.argv[2], sys.argv[3], opt=sys.argv[5], lpf_limit=2,
                                dump_folder=sys.argv[4], loma_show_progress_bar=False)
"""

# zz-event inline (no correction worker: the CPU time is the engine's in ZigZag's own process), as
# `zz-event run` would run it; its summary.json to the given path.
_EVENT = """
import json, logging, sys
logging.disable(logging.CRITICAL)
from zz_event.zigzag.front_door import run_zigzag_event_driven
from zz_event.zigzag.summary import build_summary
_, _, cmes = run_zigzag_event_driven(sys.argv[1], sys.argv[2], sys.argv[3], opt=sys.argv[6], lpf_limit=2,
                                     dump_folder=sys.argv[4], loma_show_progress_bar=False)
with open(sys.argv[5], "w") as handle:
    json.dump(build_summary(cmes), handle)
"""

_VALID = """
import json, sys
from zz_event.readers.workloads import load_workload
print(json.dumps({name: g.valid_macs() for name, g in load_workload(sys.argv[1]).geometry.items()}))
"""


def _measured(cmd: list[str], cap: int, timeout: float, cpu_limit: int | None = None) -> tuple[int, float, float, str]:
    """(exit status, CPU seconds, peak MB, stderr tail) of one capped child process; past `cpu_limit` CPU
    seconds the kernel stops it (SIGXCPU)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
        if cpu_limit is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit, cpu_limit + 5))

    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=limit, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while True:  # os.wait4, not Popen.wait: its resource usage is this child's alone
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-1:] or [""]
    if proc.returncode == -signal.SIGXCPU:
        tail = [f"stopped at its CPU limit ({cpu_limit} s)"]
    return proc.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, tail[0]


def _best(runs: list[tuple[int, float, float, str]]) -> tuple[int, float, float, str]:
    """Of interleaved runs of one command: the first failure, else the least CPU time with the largest peak."""
    failed = [run for run in runs if run[0] != 0]
    if failed:
        return failed[0]
    return 0, min(run[1] for run in runs), max(run[2] for run in runs), runs[0][3]


def run_pair(workload: Path, core: str, cap: int, timeout: float, max_ratio: float | None,
             opt: str = "latency", repeat: int = 1) -> dict:
    hw, mapping = BUNDLED / "hardware" / f"{core}.yaml", BUNDLED / "mapping" / f"{CORES[core]}.yaml"
    zz_runs, ev_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp, "summary.json")
        for _ in range(repeat):  # interleaved, so that a noisy spell of the machine slows both alike
            zz_runs.append(_measured([sys.executable, "-c", _ZIGZAG, str(workload), str(hw), str(mapping), f"{tmp}/zz",
                                      opt], cap, timeout))
            # + 30 s: imports and numba's loading
            cpu_limit = None if max_ratio is None else int(max_ratio * zz_runs[-1][1]) + 30
            summary.unlink(missing_ok=True)
            ev_runs.append(_measured([sys.executable, "-c", _EVENT, str(workload), str(hw), str(mapping), f"{tmp}/ev",
                                      str(summary), opt], cap, timeout, cpu_limit))
            if ev_runs[-1][0] != 0:
                break
        zz, ev = _best(zz_runs), _best(ev_runs)
        layers = json.loads(summary.read_text())["layers"] if summary.exists() and ev[0] == 0 else []
    valid = json.loads(subprocess.run([sys.executable, "-c", _VALID, str(workload)], capture_output=True, text=True,
                                      check=True, cwd=ROOT).stdout)
    corrected = [layer for layer in layers if layer["corrected"]]
    return {
        "case": f"{workload.stem} / {core}",
        "completes": ev[0] == 0,
        "corrected": f"{len(corrected)}/{len(layers)}" if layers else "-",
        "macs_exact": all(layer["event_driven"]["macs"] == valid.get(layer["name"]) for layer in corrected)
        if corrected else "-",
        "cpu_s": round(ev[1], 1), "zigzag_cpu_s": round(zz[1], 1),
        "cpu_ratio": round(ev[1] / zz[1], 2) if zz[1] else None,
        "peak_mb": round(ev[2]), "zigzag_peak_mb": round(zz[2]),
        "reasons": sorted({layer.get("uncorrected_reason", "") for layer in layers if not layer["corrected"]}),
        "error": "" if ev[0] == 0 else ev[3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", action="store_true", help="also the three bundled networks on the five cores")
    parser.add_argument("--cap-gb", type=float, default=2.0, help="data-memory cap per process (default 2)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per process (default 3600)")
    parser.add_argument("--max-ratio", type=float, metavar="R",
                        help="stop zz-event's run past R x ZigZag's CPU time (+30 s); the row then reads incomplete")
    parser.add_argument("--opt", choices=("latency", "energy"), default="latency",
                        help="the reducer both runs use (default latency, ZigZag's API default)")
    parser.add_argument("--only", metavar="TEXT", help="only the cases whose name (workload / core) contains TEXT")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="N interleaved runs of each; the table shows the least CPU time and the largest peak")
    args = parser.parse_args()
    pairs = SMALLEST + ([(n, c) for n in NETWORKS for c in CORES] if args.networks else [])
    pairs = [(w, c) for w, c in pairs if args.only is None or args.only in f"{w.stem} / {c}"]
    cap = int(args.cap_gb * 1024**3)
    columns = ["case", "completes", "corrected", "macs_exact", "cpu_s", "zigzag_cpu_s", "cpu_ratio", "peak_mb",
               "zigzag_peak_mb"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for workload, core in pairs:
        row = run_pair(workload, core, cap, args.timeout, args.max_ratio, args.opt, args.repeat)
        print("| " + " | ".join(str(row[c]) for c in columns) + " |", flush=True)
        for note in row["reasons"] + ([row["error"]] if row["error"] else []):
            print(f"|   {note} |", flush=True)


if __name__ == "__main__":
    main()
