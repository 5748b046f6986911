"""Stream on LeNet-5, frame vs event like for like: the event mode with frame mode's spatial unrolling ("same spatial
mapping") and with the best its own search finds ("each at its best"), dense and on data, on 1, 2 and 4 toy cores.

Collects the `stream_summary.json` of runs made with `zz-event stream` (each keeps its own provenance: command line,
tool versions, commit, date) into validation/results/stream/lenet5_like_for_like.json and prints the table. The runs,
for each core count C (A = single, dual, quad; H = inputs/stream/hardware/A_core.yaml, M =
inputs/stream/mapping/lenet5_Ccore.yaml, W = inputs/lenet5/lenet5.onnx):

    zz-event stream --hardware H --workload W --mapping M --mode frame --out RUNS/frame_C
    zz-event stream ... --mode event --unrolling-from RUNS/frame_C/stream_summary.json --out RUNS/same_C
    zz-event stream ... --mode event --out RUNS/best_C
    zz-event stream ... --mode event-raw --out RUNS/raw_C
    zz-event stream ... --workload T --mode event --data D --calibration K \\
        --unrolling-from RUNS/frame_C/stream_summary.json --out RUNS/same_data_C
    zz-event stream ... --workload T --mode event --data D --calibration K --out RUNS/data_C

with T a trained LeNet-5 and D its input digits (frame mode's costs do not depend on the weights or the data).

Run: .venv/bin/python validation/results/stream/like_for_like.py RUNS
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "lenet5_like_for_like.json"
RUNS = {"frame": "frame", "same": "event, frame's unrolling", "best": "event", "raw": "event-raw",
        "same_data": "event on data, frame's unrolling", "data": "event on data"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="the folder holding the runs' output folders (frame_1, same_1, ...)")
    args = parser.parse_args()
    from zz_event.output_files import write_json_atomic
    from zz_event.report.multi_core import like_for_like, unrolling_table

    stream, runs = {}, []
    for cores in (1, 2, 4):
        for prefix, label in RUNS.items():
            path = args.runs / f"{prefix}_{cores}" / "stream_summary.json"
            if not path.is_file():
                continue
            summary = json.loads(path.read_text(encoding="utf-8"))
            stream[(cores, label)] = summary
            keep = ("total_latency_cycles", "total_energy_pj", "node_energy_pj", "transfer_energy_pj", "unrollings",
                    "data", "provenance")  # fmt: skip
            nodes = [{k: n[k] for k in ("node", "core", "latency_cycles", "energy_pj", "macs", "spatial_mapping")}
                     for n in summary["nodes"] if "W" in (n.get("word_accesses") or {})]  # fmt: skip
            runs.append({"cores": cores, "run": label, **{k: summary.get(k) for k in keep}, "mac_nodes": nodes})
    table = like_for_like(stream)
    write_json_atomic(OUT, {"description": __doc__.split("\n\n")[0], "table": table, "runs": runs})
    print("\n".join(table))
    for cores in (1, 2, 4):
        print(f"\n{cores} core(s):\n" + "\n".join(unrolling_table(stream, cores)))
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
