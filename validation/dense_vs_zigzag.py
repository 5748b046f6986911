"""Exact dense counts (filter off, readiness off) against raw ZigZag, over every mapping LOMA evaluates.

For each (operand, level, direction) it reports how many mappings agree, and for the others by how much
ZigZag is above or below the exact count. Used to attribute ZigZag's own approximations (design.md:
dense equals raw ZigZag wherever ZigZag has no partially relevant loop for that operand).

    python -m validation.dense_vs_zigzag --workload W --accelerator A --mapping M [--lpf-limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections import defaultdict
from typing import ClassVar

from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.model.vocabulary import DIRECTIONS
from zz_event.zigzag.adapter import layer_is_correctable, nest_from_cme
from zz_event.zigzag.pipeline import RunSettings, build_stages
from zz_event.zigzag.stages import EventDrivenCorrectionStage

DENSE = EngineOptions(filter=False, readiness=False)


class CompareStage(EventDrivenCorrectionStage):
    """Passes ZigZag's CMEs through untouched, recording raw vs exact dense words for each."""

    records: ClassVar[list] = []

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        for cme, extra in substage.run():
            if layer_is_correctable(cme.layer) is None:
                dense = evaluate(nest_from_cme(cme), DENSE).word_accesses()
                raw = {
                    str(op): [{str(d): int(acc.get(d)) for d in acc.data} for acc in levels]
                    for op, levels in cme.memory_word_access.items()
                }
                CompareStage.records.append((cme.layer.name, str(cme.temporal_mapping), raw, dense))
            yield cme, extra


def compare(workload, accelerator, mapping, lpf_limit: int = 6) -> dict:
    from zigzag.mapping.temporal_mapping import TemporalMappingType
    from zigzag.stages.main import MainStage

    from zz_event.readers.mappings import load_mapping
    from zz_event.readers.workloads import load_workload

    CompareStage.records = []
    prepared = load_workload(workload)
    with tempfile.TemporaryDirectory() as out:
        MainStage(
            build_stages(RunSettings(opt="energy", loma_show_progress_bar=False), [CompareStage]),
            accelerator=accelerator, workload=prepared.zigzag_workload, mapping=load_mapping(mapping, prepared),
            dump_folder=out, pickle_filename=f"{out}/c.pickle", loma_lpf_limit=lpf_limit,
            loma_show_progress_bar=False, nb_mappings_generated=3, enable_mix_spatial_mapping_generation=False,
            access_same_data_considered_as_no_access=True, temporal_mapping_type=TemporalMappingType("uneven"),
        ).run()
    stats: dict = defaultdict(lambda: {"mappings": 0, "equal": 0, "zigzag_above": 0, "zigzag_below": 0,
                                       "max_ratio": 1.0, "min_ratio": 1.0, "example": None})
    for layer, tm, raw, dense in CompareStage.records:
        for op in dense:
            for j, (r, d) in enumerate(zip(raw[op], dense[op])):
                for direction in DIRECTIONS:
                    s = stats[f"{layer} {op} L{j} {direction}"]
                    s["mappings"] += 1
                    a, b = r[direction], d[direction]
                    if a == b:
                        s["equal"] += 1
                        continue
                    s["zigzag_above" if a > b else "zigzag_below"] += 1
                    ratio = a / b if b else float("inf")
                    s["max_ratio"], s["min_ratio"] = max(s["max_ratio"], ratio), min(s["min_ratio"], ratio)
                    if s["example"] is None:
                        s["example"] = {"temporal_mapping": tm, "zigzag": a, "exact_dense": b}
    return {k: v for k, v in stats.items() if v["equal"] < v["mappings"] or True}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", required=True)
    p.add_argument("--accelerator", required=True)
    p.add_argument("--mapping", required=True)
    p.add_argument("--lpf-limit", type=int, default=6)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    stats = compare(args.workload, args.accelerator, args.mapping, args.lpf_limit)
    if args.json:
        json.dump(stats, sys.stdout, indent=1)
        return 0
    for key, s in stats.items():
        if s["equal"] == s["mappings"]:
            continue
        print(f"{key:45} {s['equal']}/{s['mappings']} equal, zigzag above {s['zigzag_above']}, "
              f"below {s['zigzag_below']},"
              f" ratio {s['min_ratio']:.3f}..{s['max_ratio']:.3f}  e.g. {s['example']}")
    n_equal = sum(1 for s in stats.values() if s["equal"] == s["mappings"])
    print(f"{n_equal}/{len(stats)} (operand, level, direction) series equal on every mapping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
