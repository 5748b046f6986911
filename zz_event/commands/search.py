"""`zz-event search`: the exact engine alone searches each layer's temporal mappings (zz_event.search)."""

from __future__ import annotations

import sys

from zz_event.commands.options import add_progress_options, positive_int
from zz_event.model.vocabulary import OPT_TARGETS

__all__ = ["register", "search_command"]

_PRODUCTS = ("best.csv", "best.json", "mappings")


def register(sub) -> None:
    p = sub.add_parser(
        "search",
        help="search temporal mappings with the exact engine alone; write the best as ZigZag mapping files",
        description="Enumerate LOMA's loop orderings of each layer (its loop prime factors merged down to "
        "--lpf-limit) with LOMA's memory allocation, cost every one with the exact event-driven engine, and keep "
        "the --top best by --opt; only those are built as ZigZag cost-model evaluations. Writes DIR/best.csv, "
        "DIR/best.json and one ZigZag mapping file per kept mapping in DIR/mappings/, which `zz-event run "
        "--mapping` accepts.",
    )
    p.add_argument("--workload", required=True, help="ONNX model, or ZigZag workload YAML (output- or input-centric)")
    p.add_argument("--accelerator", required=True, help="ZigZag accelerator YAML")
    p.add_argument("--mapping", required=True, help="ZigZag mapping YAML (its spatial mappings are searched)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--opt", choices=OPT_TARGETS, default="energy", help="what to minimise (default energy)")
    p.add_argument("--lpf-limit", type=positive_int, default=8,
                   help="loop-prime-factor limit, as LOMA's (default 8; ZigZag's own default is 6)")
    p.add_argument("--top", type=positive_int, default=5, help="mappings kept per layer and spatial mapping")
    p.add_argument("--layers", help="comma-separated layer names to search (default: every layer)")
    p.add_argument("--spatial-mappings", type=positive_int, default=3,
                   help="spatial mappings ZigZag generates per layer")
    p.add_argument("--no-filter", action="store_true", help="count every iteration (no boundary filter)")
    p.add_argument("--no-readiness", action="store_true", help="ZigZag's static partial-sum rule for outputs")
    add_progress_options(p)
    p.set_defaults(handler=search_command)


class _Bar:
    """One tqdm bar per layer and spatial mapping, on stderr."""

    def __init__(self):
        self.bar = None

    def start(self, layer: str, spatial_index: int, orderings: int) -> None:
        from tqdm import tqdm  # noqa: PLC0415 -- keeps `zz-event --help` fast

        self.close()
        self.bar = tqdm(total=orderings, desc=f"{layer} (spatial mapping {spatial_index + 1})", unit="mapping",
                        file=sys.stderr, dynamic_ncols=True)

    def advance(self, mappings: int) -> None:
        self.bar.update(mappings)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def search_command(args) -> int:
    # Imported here: `zz-event --help` should not load ZigZag.
    from zz_event.engine.result import EngineOptions  # noqa: PLC0415
    from zz_event.errors import ZzEventError  # noqa: PLC0415
    from zz_event.output_files import check_output_dir, output_lock, staged_directory, write_json_atomic  # noqa: PLC0415
    from zz_event.provenance import provenance  # noqa: PLC0415
    from zz_event.readers.inputs import read_zigzag_inputs  # noqa: PLC0415
    from zz_event.search import best_table, run_search, write_mapping_files  # noqa: PLC0415

    out = check_output_dir(args.out, "--out", products=_PRODUCTS)
    inputs = read_zigzag_inputs(args.workload, args.accelerator, args.mapping, warn=False)
    layers = tuple(n.strip() for n in args.layers.split(",") if n.strip()) if args.layers else None
    if layers is not None:
        known = {layer["name"] for layer in inputs.workload.zigzag_workload}
        unknown = [n for n in layers if n not in known]
        if unknown:
            raise ZzEventError(f"--layers names {', '.join(unknown)}, which the workload does not have "
                               f"(its layers: {', '.join(sorted(known))})", args.workload)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    bar = _Bar() if show else None
    options = EngineOptions(filter=not args.no_filter, readiness=not args.no_readiness)
    try:
        log, inputs = run_search(args.workload, args.accelerator, args.mapping, opt=args.opt,
                                 lpf_limit=args.lpf_limit, top_k=args.top, layers=layers,
                                 nb_spatial_mappings_generated=args.spatial_mappings, event_driven=options,
                                 progress=bar, inputs=inputs)
    finally:
        if bar is not None:
            bar.close()
    table = best_table(log)
    with output_lock(out, "--out"), staged_directory(out) as scratch:
        table.to_csv(scratch / "best.csv", index=False)
        write_json_atomic(scratch / "best.json", {
            "provenance": provenance({k: v for k, v in vars(args).items() if k != "handler"}),
            "skipped_layers": log.skipped,
            "best": table.to_dict(orient="records"),
        })
        write_mapping_files(scratch / "mappings", log, inputs.mapping, inputs.workload)
    if len(table):
        shown = table.drop(columns=["orderings", "ranked", "costed", "mappings_per_cpu_s"])
        print(shown.to_string(index=False))
    for search in log.searches:
        ruled_out = search.ranked - search.costed
        how = (f"ranked: {search.costed} fit and were costed, {ruled_out} were ruled out by the energy bound"
               if ruled_out else "fit and were costed")
        print(f"{search.layer} (spatial mapping {search.spatial_index + 1}): {search.ranked} of "
              f"{search.orderings} orderings {how}, in {search.cpu_seconds:.1f} s CPU")
    for name, reason in log.skipped.items():
        print(f"note: {name} was not searched: {reason}")
    print(f"wrote {out / 'best.csv'}, {out / 'best.json'} and {out / 'mappings'}/")
    return 0
