"""Stream's totals for LeNet-5 on 1, 2 and 4 toy compute cores in frame, event-raw and event mode, with provenance.

Writes validation/results/stream/lenet5_totals.json: per (cores, mode) Stream's schedule latency, its total energy
(nodes + transfers) and the per-node costs it used, each run cold (a fresh output directory: no cost cache), with
the fixed mappings of inputs/stream/mapping and artifacts off. Runs two Stream runs at a time.

Run: .venv/bin/python validation/results/stream/lenet5_totals.py [--jobs 2]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OUT = Path(__file__).resolve().with_suffix(".json")


def _quiet() -> None:
    logging.basicConfig(level=logging.ERROR)  # a script: silence Stream's and ZigZag's INFO in the workers


def _run(cores: int, mode: str) -> dict:
    from zz_event.report.multi_core import StreamCase, stream_job

    case = StreamCase(cores, mode, str(ROOT / "inputs" / "lenet5" / "lenet5.onnx"), str(ROOT / "inputs"))
    with tempfile.TemporaryDirectory() as out:
        summary = stream_job(case, out)
    keep = ("total_latency_cycles", "total_energy_pj", "node_energy_pj", "transfer_energy_pj", "group_latency_cycles",
            "fallbacks", "workload_rewrites", "wall_time_s")  # fmt: skip
    nodes = [{k: n[k] for k in ("node", "core", "latency_cycles", "energy_pj", "backend", "macs", "spatial_mapping")}
             for n in summary["nodes"]]  # fmt: skip
    return {"cores": cores, "mode": mode, "hardware": str(case.hardware.relative_to(ROOT)),
            "mapping": str(case.mapping.relative_to(ROOT)), **{k: summary[k] for k in keep},
            "nodes": nodes}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    from zz_event.output_files import write_json_atomic
    from zz_event.provenance import provenance
    from zz_event.report.jobs import prepare_worker

    cases = [(c, m) for m in ("event", "event-raw", "frame") for c in (1, 2, 4)]  # longest first
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.jobs, mp_context=context, initializer=prepare_worker, initargs=(_quiet,)) as pool:
        runs = list(pool.map(_run, *zip(*cases, strict=True)))
    runs.sort(key=lambda r: (r["cores"], ("frame", "event-raw", "event").index(r["mode"])))
    table: dict[str, dict] = {}
    for r in runs:
        table.setdefault(f"{r['cores']}core", {})[r["mode"]] = {
            "latency_cycles": r["total_latency_cycles"], "energy_pj": r["total_energy_pj"]}  # fmt: skip
    data = {
        "description": "Stream 2.1.1 on LeNet-5 (inputs/lenet5/lenet5.onnx), toy 8-MAC compute cores "
        "(inputs/stream/hardware), fixed mappings (inputs/stream/mapping); frame = stock Stream, event-raw = ZigZag "
        "on zz-event's input-centric layers, event = zz-event's corrected costs",
        "provenance": provenance({"script": "validation/results/stream/lenet5_totals.py", "jobs": args.jobs}),
        "totals": table,
        "runs": runs,
    }
    write_json_atomic(OUT, data)
    for cores, modes in table.items():
        for mode, t in modes.items():
            print(f"{cores} {mode:9s} {t['latency_cycles']:>10,.0f} cycles {t['energy_pj']:>14,.1f} pJ")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
