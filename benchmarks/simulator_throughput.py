"""Throughput of the reference simulator (validation.simulator) on LeNet-5 conv2, input-centric.

LeNet-5 conv2: B1 K16 C6 IY14 IX14 FY5 FX5 = 470,400 input-centric MAC iterations (240,000 valid MACs).
Several mappings (spatial unrollings, loop orders, 2-3 level hierarchies) are replayed with each switch
combination. Every iteration of the loop nest is enumerated and tested (valid or not), each executed MAC
does its arithmetic, and every memory level of every operand is replayed as explicit buffers.
Throughput is measured in CPU time of this process (the best of --repeat runs), which stays meaningful on
a shared machine; wall time is printed alongside. The last line is `mac_events_per_s=<number>`: MAC
iterations replayed per CPU second over all mappings and switch settings.

Run: .venv/bin/python benchmarks/simulator_throughput.py [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from validation.simulator import simulate
from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop
from zz_event.model.vocabulary import DIRECTIONS

GEOMETRY = ConvGeometry(B=1, K=16, C=6, y=AxisGeometry(14, 5), x=AxisGeometry(14, 5))


def _level(name: str, top: int, served: set[str], psum: bool = False) -> MemLevel:
    ports = {d: Port(f"{name}.{d[:2]}", 64, 64) for d in DIRECTIONS}
    return MemLevel(name, top, frozenset(served), 1.0, 1.2, ports, psum)


def mappings() -> dict[str, LoopNest]:
    out = {}
    # 1: K on a 16-wide array, input-stationary order (taps innermost), registers + global buffer.
    t1 = (Loop("FX", 5), Loop("FY", 5), Loop("C", 6), Loop("IX", 14), Loop("IY", 14))
    s1 = (SpatialLoop("D1", "K", 16),)
    lv1 = {"W": (_level("reg", 2, set()), _level("gb", 5, {"D1"})),
           "I": (_level("reg", 2, {"D1"}), _level("gb", 5, {"D1"})),
           "O": (_level("reg", 2, set(), True), _level("gb", 5, {"D1"}, True))}
    out["K16_taps_inner"] = (t1, s1, lv1)
    # 2: K8 x C2 array, output channels outer, three levels.
    t2 = (Loop("FY", 5), Loop("IX", 14), Loop("FX", 5), Loop("C", 3), Loop("IY", 14), Loop("K", 2))
    s2 = (SpatialLoop("D1", "K", 8), SpatialLoop("D2", "C", 2))
    lv2 = {"W": (_level("reg", 1, set()), _level("lb", 4, {"D2"}), _level("gb", 6, {"D1", "D2"})),
           "I": (_level("reg", 2, {"D1"}), _level("lb", 5, {"D1"}), _level("gb", 6, {"D1", "D2"})),
           "O": (_level("reg", 1, {"D2"}, True), _level("lb", 3, {"D1", "D2"}, True),
                 _level("gb", 6, {"D1", "D2"}, True))}
    out["K8xC2_3levels"] = (t2, s2, lv2)
    # 3: FX x FY unrolled (a 5x5 window array), positions temporal.
    t3 = (Loop("K", 4), Loop("C", 6), Loop("IX", 14), Loop("IY", 14), Loop("K", 4))
    s3 = (SpatialLoop("D1", "FX", 5), SpatialLoop("D2", "FY", 5))
    lv3 = {"W": (_level("reg", 2, set()), _level("gb", 5, {"D1", "D2"})),
           "I": (_level("reg", 0, {"D1", "D2"}), _level("gb", 5, {"D1", "D2"})),
           "O": (_level("reg", 1, set(), True), _level("gb", 5, {"D1", "D2"}, True))}
    out["FXxFY_window"] = (t3, s3, lv3)
    precision = {"W": 8, "I": 8, "O": 16, "O_final": 8}
    return {name: LoopNest(GEOMETRY, "input", t, s, lv, precision, 0.04) for name, (t, s, lv) in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    iterations = 470_400
    total_iters, total_time = 0, 0.0
    for name, nest in mappings().items():
        simulate(nest)  # warm-up
        for flt in (True, False):
            for ready in (True, False):
                best = wall = float("inf")
                for _ in range(args.repeat):
                    t0, c0 = time.perf_counter(), time.process_time()
                    res = simulate(nest, filter=flt, readiness=ready)
                    best = min(best, time.process_time() - c0)
                    wall = min(wall, time.perf_counter() - t0)
                assert res.output_matches_reference, name
                total_iters += iterations
                total_time += best
                print(f"{name:16s} filter={flt!s:5} readiness={ready!s:5} macs={res.macs:7d} "
                      f"cycles={res.compute_cycles:6d} cpu={best * 1e3:6.1f} ms wall={wall * 1e3:6.1f} ms "
                      f"({iterations / best / 1e6:5.2f} M iterations per CPU second)")
    print(f"mac_events_per_s={total_iters / total_time:.0f}")


if __name__ == "__main__":
    main()
