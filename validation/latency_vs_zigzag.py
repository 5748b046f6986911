"""Dense latency (filter off, readiness off) against ZigZag 3.9.1's own, over every mapping LOMA evaluates.

Per layer: how many mappings give ZigZag's `latency_total2` exactly, and for the first that does not, each
term (on-loading, compute, stall/slack, off-loading, drain) side by side. Then, per layer, how many distinct
corrected latencies (event-driven, and the old throughput bound) the mappings get: a latency that ranks
must tell loop orders apart where ZigZag's does.

    python -m validation.latency_vs_zigzag [--lpf-limit N] [--cores toy tpu_like] > FILE.md

The committed table is validation/results/latency_vs_zigzag/lenet5_lpf6.md (its last line: provenance).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import ClassVar

from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.engine.windows import structure
from zz_event.provenance import provenance
from zz_event.zigzag.adapter import layer_is_correctable, nest_from_cme
from zz_event.zigzag.pipeline import RunSettings, build_stages
from zz_event.zigzag.stages import EventDrivenCorrectionStage

ROOT = Path(__file__).resolve().parent.parent
DENSE = EngineOptions(filter=False, readiness=False)
EVENT = EngineOptions(filter=True, readiness=True)
CORES = {
    "toy": (ROOT / "inputs/toy/hardware.yaml", ROOT / "inputs/toy/mapping_lenet5.yaml"),
    "tpu_like": (ROOT / "inputs/tpu_like/hardware.yaml", ROOT / "inputs/tpu_like/mapping.yaml"),
}
TERMS = ("onload", "compute", "stall", "offload", "drain")


def zigzag_terms(cme) -> tuple:
    return (cme.data_onloading_cycle, cme.ideal_temporal_cycle, cme.stall_slack_comb, cme.data_offloading_cycle,
            cme.systolic_drain_cycle)


def zigzag_windows(cme) -> dict:
    """ZigZag's (period, period count, allowed cycles) per (operand, level, direction) it times."""
    return {(str(a.served_op_lv_dir[0]), a.served_op_lv_dir[1], str(a.served_op_lv_dir[2])):
            (a.period, a.period_count, a.allowed_cycle)
            for ports in cme.port_activity_collect for acts in ports.values() for a in acts}


def engine_windows(nest) -> dict:
    return {(link.op, link.level, link.direction): (link.period, link.count, link.allowed)
            for link in structure(nest).links}


def engine_terms(res) -> tuple:
    return (res.onload_cycles, res.compute_cycles, res.stall_cycles, res.offload_cycles, res.drain_cycles)


class CompareStage(EventDrivenCorrectionStage):
    """Passes ZigZag's CMEs through untouched, recording ZigZag's latency terms and the engine's."""

    records: ClassVar[list] = []

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        for cme, extra in substage.run():
            if layer_is_correctable(cme.layer) is None:
                nest = nest_from_cme(cme)
                dense, event = evaluate(nest, DENSE), evaluate(nest, EVENT)
                CompareStage.records.append((cme.layer.name, str(cme.temporal_mapping), cme.latency_total2,
                                             zigzag_terms(cme), dense, event,
                                             (zigzag_windows(cme), engine_windows(nest))))
            yield cme, extra


def compare(workload, accelerator, mapping, lpf_limit: int = 6) -> list:
    from zigzag.mapping.temporal_mapping import TemporalMappingType
    from zigzag.stages.main import MainStage

    from zz_event.readers.mappings import load_mapping
    from zz_event.readers.workloads import load_workload

    CompareStage.records = []
    prepared = load_workload(str(workload))
    with tempfile.TemporaryDirectory() as out:
        MainStage(
            build_stages(RunSettings(opt="energy", loma_show_progress_bar=False), [CompareStage]),
            accelerator=str(accelerator), workload=prepared.zigzag_workload,
            mapping=load_mapping(str(mapping), prepared), dump_folder=out, pickle_filename=f"{out}/c.pickle",
            loma_lpf_limit=lpf_limit, loma_show_progress_bar=False, nb_mappings_generated=3,
            enable_mix_spatial_mapping_generation=False, access_same_data_considered_as_no_access=True,
            temporal_mapping_type=TemporalMappingType("uneven"),
        ).run()
    return list(CompareStage.records)


def table(core: str, records: list) -> list[str]:
    per_layer = defaultdict(list)
    for rec in records:
        per_layer[rec[0]].append(rec)
    lines = [f"## {core}", "",
             "| layer | mappings | dense == ZigZag | ZigZag latency | dense latency | differing terms (ZigZag / dense) "
             "| distinct: ZigZag | dense | event-driven | old bound (event-driven) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for layer, recs in per_layer.items():
        equal = [r for r in recs if r[2] == r[4].latency_cycles]
        shown = next((r for r in recs if r[2] != r[4].latency_cycles), recs[0])
        diff = [f"{t} {z:g} / {e}" for t, z, e in zip(TERMS, shown[3], engine_terms(shown[4])) if z != e]
        distinct = [len({r[2] for r in recs}), len({r[4].latency_cycles for r in recs}),
                    len({r[5].latency_cycles for r in recs}), len({r[5].latency_bound_cycles for r in recs})]
        lines.append(f"| {layer} | {len(recs)} | {len(equal)} | {shown[2]:g} | {shown[4].latency_cycles} | "
                     f"{'; '.join(diff) or '-'} | " + " | ".join(map(str, distinct)) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default=str(ROOT / "inputs/lenet5/lenet5.onnx"))
    parser.add_argument("--lpf-limit", type=int, default=6)
    parser.add_argument("--cores", nargs="+", default=list(CORES), choices=list(CORES))
    args = parser.parse_args(argv)
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    out = [f"Latency, dense (--no-filter --no-readiness) vs ZigZag 3.9.1, {Path(args.workload).name}, "
           f"lpf_limit {args.lpf_limit}; a row's terms are those of its first differing mapping.", ""]
    for core in args.cores:
        out += table(core, compare(args.workload, *CORES[core], lpf_limit=args.lpf_limit)) + [""]
    meta = provenance({"workload": str(Path(args.workload).resolve().relative_to(ROOT, walk_up=True)),
                       "lpf_limit": args.lpf_limit, "cores": args.cores})
    out.append(f"Provenance: {json.dumps(meta, sort_keys=True)}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
