"""`zz-event rerank FILE`: raw-optimal versus corrected-optimal mappings of a logged mapping space."""

from __future__ import annotations

import json
import sys

__all__ = ["register", "rerank_command"]


def register(sub) -> None:
    p = sub.add_parser(
        "rerank",
        help="compare ZigZag's raw ranking of a mapspace CSV with the corrected one",
        description="Per layer of a `zz-event mapspace` file: ZigZag's raw pick and the corrected optimum, the "
        "regret of the raw pick, Kendall's tau-b between the rankings, top-1/10/100 overlap and the mappings "
        "that truly beat the raw pick (definitions: zz_event.mapspace.rerank).",
    )
    p.add_argument("file", metavar="FILE", help="a mapspace CSV (.csv, .csv.gz) or Parquet file")
    p.add_argument("--by", type=str.lower, choices=["latency", "energy", "edp"], default="latency",
                   help="the cost to rank on (default latency)")
    p.add_argument("--variant", choices=["event_driven", "filter", "dense"], default="event_driven",
                   help="which corrected cost is the truth (default event_driven: filter + readiness)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--plot-dir", metavar="DIR", help="write one PNG scatter per layer into DIR")
    p.set_defaults(handler=rerank_command)


def _table(report) -> str:
    import pandas as pd  # noqa: PLC0415 -- keeps `zz-event --help` fast

    rows = []
    for layer in report.layers:
        rows.append({
            "layer": layer.name,
            "mappings": layer.mappings,
            "differ": "yes" if layer.differ else "no",
            "regret %": _round(layer.regret_pct, 3),
            "kendall tau": _round(layer.kendall_tau, 4),
            "top1": layer.top_overlap[1],
            "top10": layer.top_overlap[10],
            "top100": layer.top_overlap[100],
            "lost": layer.mappings_lost,
            "lost %": _round(layer.mappings_lost_pct, 2),
        })
    lines = [pd.DataFrame(rows).to_string(index=False), ""]
    for layer in report.layers:
        for label, pick in (("raw pick", layer.raw_best), ("corrected optimum", layer.corrected_best)):
            lines.append(f"{layer.name} {label}: {pick.spatial_mapping} | {pick.temporal_ordering} | raw "
                         f"{pick.raw_cost:.6g}, corrected {pick.corrected_cost:.6g}")
    for name, reason, count in report.skipped:
        lines.append(f"note: {name} ({count} mappings) is not re-ranked: {reason}")
    return "\n".join(lines)


def _round(value, digits):
    return None if value is None else round(value, digits)


def rerank_command(args) -> int:
    from zz_event.mapspace.rerank import plot_file, rerank_file  # noqa: PLC0415 -- keeps `zz-event --help` fast
    from zz_event.mapspace.writer import meta_path, read_meta  # noqa: PLC0415
    from zz_event.output_files import check_output_dir  # noqa: PLC0415

    if args.plot_dir is not None:
        check_output_dir(args.plot_dir, "--plot-dir")
    report = rerank_file(args.file, by=args.by, variant=args.variant)
    meta = read_meta(args.file)
    if meta is not None and meta.get("completed") is False:
        print(f"zz-event: note: {meta_path(args.file)} says the run did not complete ({meta.get('status')}); "
              f"re-ranking the {meta.get('rows')} rows it wrote", file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(_table(report))
    if args.plot_dir:
        for path in plot_file(args.file, report, args.plot_dir):
            print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0
