"""`zz-event run`: one ZigZag run with event-driven correction, summary.json and a raw-vs-corrected table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from zz_event.commands.options import positive_int
from zz_event.model.vocabulary import OPT_TARGETS

__all__ = ["register", "run_command", "summary_table"]


def register(sub) -> None:
    p = sub.add_parser("run", help="ZigZag's search ranked on exact event-driven costs; writes DIR/summary.json")
    p.add_argument("--workload", required=True, help="ONNX model, or ZigZag workload YAML (output- or input-centric)")
    p.add_argument("--accelerator", required=True, help="ZigZag accelerator YAML")
    p.add_argument("--mapping", required=True, help="ZigZag mapping YAML")
    p.add_argument("--opt", choices=OPT_TARGETS, default="latency", help="what ZigZag minimises")
    p.add_argument("--lpf-limit", type=positive_int, default=6, help="LOMA loop-prime-factor limit (default 6)")
    p.add_argument("--out", required=True, help="output folder (summary.json, ZigZag's own dumps in zigzag/)")
    p.add_argument("--no-filter", action="store_true", help="count every iteration (no boundary filter)")
    p.add_argument("--no-readiness", action="store_true", help="ZigZag's static partial-sum rule for outputs")
    p.add_argument("--cost-pooling-and-add", action="store_true",
                   help="ONNX: cost pooling and Add as ZigZag's own layers (ZigZag's ONNX parser leaves them out)")
    p.set_defaults(handler=run_command)


def summary_table(summary: dict) -> Any:
    """The printed raw-vs-corrected table of a summary, as a pandas DataFrame."""
    import pandas as pd  # noqa: PLC0415 -- keeps `zz-event --help` fast

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
    # Imported here, not above: `zz-event --help` should not load ZigZag.
    from zz_event.engine.result import EngineOptions  # noqa: PLC0415
    from zz_event.output_files import check_output_dir, output_lock, staged_directory, write_json_atomic  # noqa: PLC0415
    from zz_event.provenance import provenance  # noqa: PLC0415
    from zz_event.readers.inputs import read_zigzag_inputs  # noqa: PLC0415
    from zz_event.zigzag.front_door import run_zigzag_event_driven  # noqa: PLC0415
    from zz_event.zigzag.summary import build_summary  # noqa: PLC0415

    out = check_output_dir(args.out, "--out", products=("summary.json", "zigzag"))
    inputs = read_zigzag_inputs(args.workload, args.accelerator, args.mapping, args.cost_pooling_and_add)
    options = EngineOptions(filter=not args.no_filter, readiness=not args.no_readiness)
    with output_lock(out, "--out"), staged_directory(out) as scratch:
        _energy, _latency, cmes = run_zigzag_event_driven(
            args.workload,
            args.accelerator,
            args.mapping,
            opt=args.opt,
            lpf_limit=args.lpf_limit,
            dump_folder=str(scratch / "zigzag"),
            loma_show_progress_bar=sys.stderr.isatty(),
            event_driven=options,
            cost_pooling_and_add=args.cost_pooling_and_add,
        )
        summary = build_summary(cmes, provenance(_arguments(args)), skipped=inputs.workload.skipped)
        write_json_atomic(scratch / "summary.json", summary)
    table = summary_table(summary)
    print(table.to_string(index=False))
    for layer in summary["layers"]:
        if not layer["corrected"]:
            print(f"note: {layer['name']} keeps ZigZag's own cost: {layer['uncorrected_reason']}")
    for node in summary["skipped_nodes"]:
        print(f"note: ONNX node {node['name']} is not costed: {node['reason']}")
    print(f"wrote {Path(args.out) / 'summary.json'}")
    return 0


def _arguments(args) -> dict:
    return {k: v for k, v in vars(args).items() if k != "handler"}
