"""`zz-event run`: one ZigZag run with event-driven correction, summary.json and a raw-vs-corrected table."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from zz_event.engine.result import EngineOptions
from zz_event.readers.hardware import check_accelerator
from zz_event.output_files import staged_directory, write_json_atomic
from zz_event.provenance import provenance
from zz_event.zigzag.summary import build_summary

__all__ = ["run_command", "summary_table"]


def summary_table(summary: dict) -> pd.DataFrame:
    rows = []
    for layer in summary["layers"]:
        raw, ev = layer["zigzag"], layer["event_driven"]
        rows.append(
            {
                "layer": layer["name"],
                "corrected": "yes" if layer["corrected"] else "NO (ZigZag cost kept)",
                "MACs zigzag": raw["macs"],
                "MACs event": ev["macs"],
                "cycles zigzag": raw["latency_cycles"],
                "cycles event": ev["latency_cycles"],
                "energy zigzag pJ": round(raw["energy_pj"], 2),
                "energy event pJ": round(ev["energy_pj"], 2),
                "energy ratio": round(ev["energy_pj"] / raw["energy_pj"], 3) if raw["energy_pj"] else None,
            }
        )
    return pd.DataFrame(rows)


def run_command(args) -> int:
    from zz_event.zigzag.front_door import run_zigzag_event_driven

    check_accelerator(args.accelerator)
    options = EngineOptions(filter=not args.no_filter, readiness=not args.no_readiness)
    out = Path(args.out)
    with staged_directory(out) as scratch:
        _energy, _latency, cmes = run_zigzag_event_driven(
            args.workload,
            args.accelerator,
            args.mapping,
            opt=args.opt,
            lpf_limit=args.lpf_limit,
            dump_folder=str(scratch / "zigzag"),
            loma_show_progress_bar=sys.stderr.isatty(),
            event_driven=options,
        )
        summary = build_summary(cmes, provenance(_arguments(args)))
        write_json_atomic(scratch / "summary.json", summary)
    table = summary_table(summary)
    print(table.to_string(index=False))
    for layer in summary["layers"]:
        if not layer["corrected"]:
            print(f"note: {layer['name']} keeps ZigZag's own cost: {layer['uncorrected_reason']}")
    print(f"wrote {out / 'summary.json'}")
    return 0


def _arguments(args) -> dict:
    return {k: v for k, v in vars(args).items() if k != "handler"}
