"""`zz-event report`: the comparison report (event-driven vs frame-based, one core and 1/2/4 cores; with data, when
event-driven wins); LeNet-5 by default, any ONNX network with --workload.

Writes DIR/report.md and DIR/report_files/ (figures, report.json with every number and its provenance, Stream's
summaries), regenerated from scratch on every run; other files in DIR are left alone.
"""

from __future__ import annotations

import logging
from pathlib import Path

from zz_event.commands.options import positive_int

__all__ = ["register", "report_command"]


def register(sub) -> None:
    p = sub.add_parser("report", help="LeNet-5 comparison report (ZigZag single core, Stream 1/2/4 cores); "
                                      "writes DIR/report.md")  # fmt: skip
    p.add_argument("--out", required=True, help="output folder (report.md and report_files/)")
    p.add_argument("--jobs", type=positive_int, default=2, help="worker processes (default 2)")
    p.add_argument("--lpf-limit", type=positive_int, default=6, help="LOMA loop-prime-factor limit of the single-core "
                                                             "searches (default 6; Stream always uses 6)")  # fmt: skip
    p.add_argument("--cores", type=int, nargs="+", default=[1, 2, 4], choices=[1, 2, 4], help="Stream core counts")
    p.add_argument("--no-simulator", action="store_true", help="skip the reference simulator's check")
    p.add_argument("--workload", metavar="W.onnx",
                   help="the network (ONNX; default: LeNet-5). Another network gets the single-core sections and, with "
                        "--data, 'When event-driven wins'; Stream runs need its Stream mapping, so none are made")
    p.add_argument("--accelerator", metavar="A.yaml", help="ZigZag accelerator of the single-core searches (default: "
                                                          "the toy 8-MAC core)")  # fmt: skip
    p.add_argument("--mapping", metavar="M.yaml", help="ZigZag mapping of the single-core searches (default: the "
                                                      "toy core's)")  # fmt: skip
    p.add_argument("--data", metavar="FILE.npy",
                   help="events from data: the network input (N, C, H, W), or mnist:N, for the chapter 'When "
                        "event-driven wins' (costs per sample, density sweep, density-model error); default: "
                        "mnist:1000 for LeNet-5, none for another --workload")
    p.add_argument("--no-data", action="store_true", help="leave out 'When event-driven wins'")
    p.add_argument("--sweep-samples", metavar="S", type=positive_int, default=32,
                   help="with --data: samples of the density sweep (the first S; default 32)")
    p.add_argument("--stream-data", metavar="FILE.npy",
                   help="Stream's event mode also on this network input (--data's forms; a few samples: each is "
                        "costed on every core): the multi-core like-for-like table on data")
    p.add_argument("--calibration", metavar="K", type=positive_int, default=None,
                   help="with --stream-data: Stream's event searches rank on the first K samples (default: all)")
    p.set_defaults(handler=report_command)


def report_command(args) -> int:
    from zz_event.output_files import check_output_dir, output_lock  # noqa: PLC0415
    from zz_event.report.build import FILES_DIR, REPORT_FILE, ReportOptions, build_report  # noqa: PLC0415

    out = check_output_dir(args.out, "--out", products=(REPORT_FILE, FILES_DIR))

    verbose = bool(getattr(args, "verbose", False))
    chosen = {k: getattr(args, k) for k in ("accelerator", "mapping") if getattr(args, k) is not None}
    chosen["cores"] = tuple(args.cores)
    if args.workload is not None:  # another network: no padded LeNet-5 variant, no Stream mapping for it
        chosen |= {"network": args.workload, "padded_layers": (), "cores": ()}
    if args.no_data or args.data is not None or args.workload is not None:
        chosen["data"] = None if args.no_data else args.data  # LeNet-5's default data is MNIST
    options = ReportOptions(
        **chosen,
        sweep_samples=args.sweep_samples,
        lpf_limit=args.lpf_limit,
        simulator=not args.no_simulator,
        stream_data=args.stream_data,
        calibration=args.calibration,
        jobs=args.jobs,
        worker_initializer=_quiet if not verbose else _verbose,
    )
    with output_lock(out, "--out"):
        result = build_report(out, options)
    print(f"wrote {Path(args.out) / result.report.name} ({result.wall_time_s:,.0f} s)")
    return 0


def _quiet() -> None:
    """Logging in a report worker process, as `zz-event` sets it up without --verbose."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("zigzag", "stream"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _verbose() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
