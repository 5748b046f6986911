"""LeNet-5 (and the seed's toy) validation results: ZigZag's picks, engine and simulator side by side,
and where raw ZigZag's overestimate comes from.

For every correctable layer, on the toy 8-MAC core and on ZigZag's tpu_like:
- ZigZag's best mapping under raw cost (plain ZigZag) and under corrected cost (zz-event's search);
- for each pick, the engine's counts (raw ZigZag, exact dense, filter only, event-driven) and the
  reference simulator's replay of the same mapping (dense and event-driven), integer for integer;
- the attribution of raw ZigZag's overestimate on its own pick: ZigZag's approximations (raw - dense),
  invalid MACs (dense - filter), partial-sum pessimism (filter - event-driven).

    python -m validation.lenet5_results [--lpf-limit 6] [--out validation/results/lenet5]

writes results.json (with provenance), results.csv and attribution.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import tempfile
from functools import partial
from pathlib import Path

from zigzag.api import get_hardware_performance_zigzag

from validation.simulator import simulate
from zz_event.engine.evaluate import evaluate
from zz_event.engine.result import EngineOptions
from zz_event.provenance import provenance
from zz_event.readers.mappings import load_mapping, save_mapping
from zz_event.readers.workloads import load_workload
from zz_event.zigzag.adapter import layer_is_correctable, nest_from_cme
from zz_event.zigzag.front_door import run_zigzag_event_driven
from zz_event.zigzag.result import layer_results

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
CASES = {
    "toy": (INPUTS / "toy/workload.yaml", INPUTS / "toy/hardware.yaml", INPUTS / "toy/mapping_free.yaml"),
    "lenet5/toy": (INPUTS / "lenet5/lenet5.onnx", INPUTS / "toy/hardware.yaml", INPUTS / "toy/mapping_lenet5.yaml"),
    "lenet5/tpu_like": (INPUTS / "lenet5/lenet5.onnx", INPUTS / "tpu_like/hardware.yaml",
                        INPUTS / "tpu_like/mapping.yaml"),
}
SETTINGS = {
    "dense": EngineOptions(False, False),
    "filter": EngineOptions(True, False),
    "event_driven": EngineOptions(True, True),
}


def totals(words: dict[str, list[dict]]) -> dict[str, int]:
    """Word accesses per operand, summed over levels and directions."""
    return {op: sum(v for level in levels for k, v in level.items() if k != "memory") for op, levels in words.items()}


def figures(macs, latency, energy, words) -> dict:
    return {"macs": int(macs), "latency_cycles": float(latency), "energy_pj": round(float(energy), 4),
            "words": totals(words)}


def evaluate_pick(cme, geometry) -> dict:
    """Raw ZigZag, the engine under each switch setting and the simulator for one mapping."""
    nest = nest_from_cme(cme, *(geometry or (None, None)))
    raw = cme.raw if hasattr(cme, "raw") else None
    raw_words = raw["word_accesses"] if raw else {
        str(op): [{str(d): int(a.get(d)) for d in a.data} for a in levels]
        for op, levels in cme.memory_word_access.items()
    }
    out = {"temporal_ordering": [[str(d), int(s)] for lv in cme.temporal_mapping.mapping_dic_origin["O"] for d, s in lv]
           if "O" in cme.temporal_mapping.mapping_dic_origin else None}
    out["zigzag"] = figures(raw["macs"] if raw else cme.layer.total_mac_count,
                            raw["latency_cycles"] if raw else cme.latency_total2,
                            raw["energy_pj"] if raw else cme.energy_total, raw_words)
    for label, options in SETTINGS.items():
        engine = evaluate(nest, options)
        out[f"engine_{label}"] = figures(engine.macs, engine.latency_cycles, engine.energy_pj, engine.word_accesses())
        if label != "filter":
            sim = simulate(nest, filter=options.filter, readiness=options.readiness)
            out[f"simulator_{label}"] = figures(sim.macs, sim.latency_cycles, sim.energy_pj, sim.word_accesses())
            out[f"simulator_{label}"]["output_matches_reference"] = bool(sim.output_matches_reference)
            out[f"simulator_{label}"]["equal_to_engine"] = (
                sim.word_accesses() == engine.word_accesses() and sim.macs == engine.macs
                and sim.compute_cycles == engine.compute_cycles
            )
    return out


def run_case(name: str, workload: Path, hardware: Path, mapping: Path, lpf: int) -> list[dict]:
    prepared = load_workload(str(workload))
    with tempfile.TemporaryDirectory() as tmp:
        mapping_file = save_mapping(load_mapping(str(mapping), prepared), Path(tmp) / "mapping.yaml")
        _e, _l, raw_cmes = get_hardware_performance_zigzag(
            prepared.zigzag_workload, str(hardware), mapping_file, opt="energy", lpf_limit=lpf,
            dump_folder=f"{tmp}/raw", loma_show_progress_bar=False,
        )
        _e, _l, corrected_cmes = run_zigzag_event_driven(
            str(workload), str(hardware), str(mapping), opt="energy", lpf_limit=lpf,
            dump_folder=f"{tmp}/corrected", loma_show_progress_bar=False,
        )
    rows = []
    geometry = {k: (g, "input") for k, g in prepared.geometry.items()}
    pairs = zip(layer_results(raw_cmes), layer_results(corrected_cmes))
    for raw_cme, corrected_cme in ((raw.cme, corrected.cme) for raw, corrected in pairs):
        if raw_cme.layer.name in prepared.uncorrected or layer_is_correctable(raw_cme.layer):
            continue
        g = geometry.get(raw_cme.layer.name)
        rows.append({
            "case": name, "layer": raw_cme.layer.name,
            "raw_pick": evaluate_pick(raw_cme, g), "corrected_pick": evaluate_pick(corrected_cme, g),
        })
    return rows


def _words_of(op: str, figures: dict) -> int:
    return figures["words"].get(op, 0)


def attribution_table(rows: list[dict]) -> str:
    """Markdown: raw ZigZag's overestimate on its own pick, split into its three causes."""
    head = ("| case | layer | quantity | ZigZag raw | exact dense | filter | event-driven | ZigZag's approximations "
            "| invalid MACs | partial-sum pessimism |\n|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for row in rows:
        pick = row["raw_pick"]
        quantities = [("MACs", lambda f: f["macs"]), ("cycles", lambda f: f["latency_cycles"]),
                      ("energy pJ", lambda f: f["energy_pj"])]
        quantities += [(f"{op} words", partial(_words_of, op)) for op in ("W", "I", "O")]
        for label, get in quantities:
            keys = ("zigzag", "engine_dense", "engine_filter", "engine_event_driven")
            raw, dense, filt, event = (get(pick[k]) for k in keys)
            lines.append(f"| {row['case']} | {row['layer']} | {label} | {raw:g} | {dense:g} | {filt:g} | {event:g} "
                         f"| {raw - dense:+g} | {dense - filt:+g} | {filt - event:+g} |")
    return head + "\n".join(lines) + "\n"


def write(rows: list[dict], out: Path, lpf: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    meta = provenance({"lpf_limit": lpf, "cases": {k: [str(p.relative_to(ROOT)) for p in v] for k, v in CASES.items()}})
    (out / "results.json").write_text(json.dumps({"provenance": meta, "rows": rows}, indent=1) + "\n")
    with open(out / "results.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "layer", "pick", "source", "macs", "latency_cycles", "energy_pj", "W_words", "I_words",
                         "O_words", "equal_to_engine", "output_matches_reference"])
        for row in rows:
            for pick in ("raw_pick", "corrected_pick"):
                for source, f in row[pick].items():
                    if source == "temporal_ordering":
                        continue
                    writer.writerow([row["case"], row["layer"], pick, source, f["macs"], f["latency_cycles"],
                                     f["energy_pj"],
                                     f["words"].get("W"), f["words"].get("I"), f["words"].get("O"),
                                     f.get("equal_to_engine", ""), f.get("output_matches_reference", "")])
    (out / "attribution.md").write_text(
        f"<!-- generated by python -m validation.lenet5_results (commit {meta['commit']}, {meta['date']}) -->\n"
        + attribution_table(rows)
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lpf-limit", type=int, default=6)
    parser.add_argument("--out", default=str(ROOT / "validation/results/lenet5"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    rows = [row for name, paths in CASES.items() for row in run_case(name, *paths, args.lpf_limit)]
    write(rows, Path(args.out), args.lpf_limit)
    mismatches = [(r["case"], r["layer"], p) for r in rows for p in ("raw_pick", "corrected_pick")
                  for k in ("simulator_dense", "simulator_event_driven") if not r[p][k]["equal_to_engine"]]
    print(f"{len(rows)} layers, engine != simulator: {mismatches or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
