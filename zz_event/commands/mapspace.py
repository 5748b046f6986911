"""`zz-event mapspace`: log every mapping ZigZag evaluates, raw and corrected, to a CSV (zz_event.mapspace.logger)."""

from __future__ import annotations

import sys

from zz_event.commands.options import add_progress_options, positive_int
from zz_event.errors import ZzEventError

__all__ = ["mapspace_command", "register"]


def register(sub) -> None:
    p = sub.add_parser(
        "mapspace",
        help="log every evaluated mapping (raw ZigZag, exact dense, event-driven) to a CSV",
        description="Run ZigZag's LOMA search with event-driven correction and stream one CSV row per evaluated "
        "mapping (columns: see zz_event.mapspace.logger). An interrupted run leaves a valid CSV of the rows so far; "
        "FILE.meta.json says whether the run completed.",
    )
    p.add_argument("--workload", required=True, help="ONNX model, or ZigZag workload YAML (output- or input-centric)")
    p.add_argument("--accelerator", required=True, help="ZigZag accelerator YAML")
    p.add_argument("--mapping", required=True, help="ZigZag mapping YAML")
    p.add_argument("--csv", required=True, metavar="FILE", help="the CSV to write (overwritten)")
    p.add_argument("--opt", choices=["latency", "energy", "EDP"], default="latency", help="what ZigZag minimises")
    p.add_argument("--lpf-limit", type=positive_int, default=6, help="LOMA loop-prime-factor limit (default 6)")
    p.add_argument("--layers", help="comma-separated layer names to run (default: every layer)")
    p.add_argument("--spatial-mappings", type=positive_int, default=3,
                   help="spatial mappings ZigZag generates per layer")
    p.add_argument("--cost-pooling-and-add", action="store_true",
                   help="ONNX: log pooling and Add layers too (ZigZag's own ONNX parser leaves them out)")
    p.add_argument("--data", metavar="FILE.npy|mnist:N",
                   help="events from data (ONNX workloads): the network input (N, C, H, W), or mnist:N (the first N "
                        "held-out MNIST digits, 1x32x32); the data_* columns "
                        "then hold each mapping's mean cost over the samples")
    p.add_argument("--calibration", metavar="K", type=positive_int, default=None,
                   help="with --data: the mean over the first K samples (default: all)")
    p.add_argument("--parquet", choices=["auto", "yes", "no"], default="auto",
                   help="also write FILE's stem .parquet (auto: when pyarrow is installed)")
    add_progress_options(p)
    p.set_defaults(handler=mapspace_command)


class _LayerBars:
    """One tqdm bar per layer on stderr; its total grows by LOMA's ordering count per spatial mapping."""

    def __init__(self):
        self.layer: str | None = None
        self.bar = None

    def spatial_mapping(self, layer: str, index: int, expected: int | None) -> None:
        from tqdm import tqdm  # noqa: PLC0415 -- keeps `zz-event --help` fast

        if layer != self.layer:
            self.close()
            self.layer = layer
            self.bar = tqdm(total=expected, desc=layer, unit="mapping", file=sys.stderr, dynamic_ncols=True)
        elif self.bar.total is not None and expected is not None:
            self.bar.total += expected
        self.bar.set_postfix_str(f"spatial mapping {index + 1}", refresh=True)

    def row(self, layer: str) -> None:
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.total = self.bar.n  # orderings that do not fit in memory are skipped, not evaluated
            self.bar.refresh()
            self.bar.close()
            self.bar = None


def mapspace_command(args) -> int:
    from zz_event.mapspace import meta_path, run_mapspace  # noqa: PLC0415 -- keeps `zz-event --help` fast

    layers = tuple(n.strip() for n in args.layers.split(",") if n.strip()) if args.layers else None
    if args.calibration is not None and args.data is None:
        raise ZzEventError(f"--calibration {args.calibration}: expected with --data only")
    show = sys.stderr.isatty() if args.progress is None else args.progress
    bars = _LayerBars() if show else None
    arguments = {k: v for k, v in vars(args).items() if k != "handler"}
    try:
        run = run_mapspace(
            args.workload, args.accelerator, args.mapping, args.csv, opt=args.opt, lpf_limit=args.lpf_limit,
            nb_spatial_mappings_generated=args.spatial_mappings, layers=layers, progress=bars,
            arguments=arguments, parquet={"auto": None, "yes": True, "no": False}[args.parquet],
            cost_pooling_and_add=args.cost_pooling_and_add, data=args.data, calibration=args.calibration,
        )
    except (KeyboardInterrupt, SystemExit):
        if bars is not None:
            bars.close()
        print(f"zz-event: {args.csv} holds the rows written before the interruption ({meta_path(args.csv)})",
              file=sys.stderr)
        raise
    finally:
        if bars is not None:
            bars.close()
    per_layer = ", ".join(f"{name} {rows}" for name, rows in run.layer_rows)
    print(f"wrote {run.csv}: {run.rows} mappings ({per_layer})")
    print(f"wrote {run.meta}")
    if run.parquet is not None:
        print(f"wrote {run.parquet}")
    for name, reason in run.skipped_nodes:
        print(f"note: ONNX node {name} is not logged: {reason}")
    return 0
