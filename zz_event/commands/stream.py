"""`zz-event stream`: one Stream run of a workload in frame, event-raw or event mode; writes DIR/stream_summary.json.

The summary (:class:`zz_event.stream.runner.StreamSummary`) holds `total_latency_cycles`, `total_energy_pj` and
`nodes`: one entry per (node, core) cost Stream used, with `node`, `core`, `latency_cycles`, `energy_pj` and
`backend`, plus what produced it (`metadata`). The run's provenance (tool versions, commit, date, arguments) is
added under `provenance`.
"""

from __future__ import annotations

import json
from pathlib import Path

from zz_event.commands.options import positive_float, positive_int
from zz_event.output_files import write_json_atomic
from zz_event.provenance import provenance

__all__ = ["SOLVERS", "register", "stream_command"]

SOLVERS = ("ortools_highs", "ortools_gscip", "gurobi", "ortools_gurobi")  # Stream 2.1.1's SolverBackend


def register(sub) -> None:
    from zz_event.model.vocabulary import STREAM_MODES as MODES  # noqa: PLC0415

    p = sub.add_parser(
        "stream",
        help="Stream (multi-core) on stock (frame) or zz-event (event-raw, event) per-core costs; "
        "writes DIR/stream_summary.json",
    )
    p.add_argument("--hardware", required=True, help="Stream accelerator YAML (e.g. inputs/stream/hardware/*.yaml)")
    p.add_argument("--workload", required=True, help="ONNX model")
    p.add_argument("--mode", required=True, choices=MODES, help="frame: stock Stream; event-raw / event: zz-event")
    p.add_argument("--mapping", help="Stream mapping YAML (default: Stream's generic mapping generator)")
    p.add_argument("--solver", type=str.lower, default="ortools_highs", choices=SOLVERS,
                   help="Stream solver backend (default ortools_highs; gurobi ones need a licence)")
    p.add_argument("--time-limit", type=positive_float, default=60.0,
                   help="seconds per fused group's solve (default 60)")
    p.add_argument("--data", metavar="FILE.npy",
                   help="--mode event: events from data, the network input (N, C, H, W) as `zz-event run --data` "
                        "takes it; every Conv/Gemm node's per-core cost is its mean over the samples")
    p.add_argument("--calibration", metavar="K", type=positive_int, default=None,
                   help="with --data: rank mappings on the first K samples (default: all), then cost the pick on all")
    p.add_argument("--unrolling-from", metavar="SUMMARY.json",
                   help="event modes: each MAC node uses the spatial unrolling it has in this earlier run's "
                        "stream_summary.json (e.g. a frame run: same spatial mapping); default: each searches its best")
    p.add_argument("--out", required=True, help="output folder (stream_summary.json, Stream's outputs)")
    p.set_defaults(handler=stream_command)


def stream_command(args) -> int:
    from zz_event.output_files import check_output_dir, output_lock  # noqa: PLC0415
    from zz_event.readers.stream_inputs import check_stream_inputs  # noqa: PLC0415
    from zz_event.stream.runner import SUMMARY_FILE, StreamRunOptions, run_stream  # noqa: PLC0415

    out = check_output_dir(args.out, "--out")
    check_stream_inputs(args.hardware, args.workload, args.mapping)
    _check_data(args)
    unrollings = _unrollings(args.unrolling_from, args.mode) if args.unrolling_from else None
    options = StreamRunOptions(solver=args.solver, time_limit_s=args.time_limit)
    with output_lock(out, "--out"):
        summary = run_stream(args.hardware, args.workload, args.mapping, args.mode, out, options,
                             unrollings=unrollings, data=args.data, calibration=args.calibration)
        data = json.loads((out / SUMMARY_FILE).read_text(encoding="utf-8"))
        data["provenance"] = provenance({k: v for k, v in vars(args).items() if k != "handler"})
        write_json_atomic(out / SUMMARY_FILE, data)
    print(f"Stream, {summary.mode} mode: {summary.total_latency_cycles:,.0f} cycles, "
          f"{_energy(summary.total_energy_pj)} ({len(summary.nodes)} node costs)")  # fmt: skip
    for node in summary.nodes:
        print(f"  {node.node:10s} core {node.core}: {node.latency_cycles:>10,.0f} cycles "
              f"{node.energy_pj:>14,.1f} pJ  {node.backend}")  # fmt: skip
    for fallback in summary.fallbacks:
        print(f"note: Stream priced {fallback} with its zero-energy ideal-cycle estimate")
    print(f"wrote {Path(args.out) / SUMMARY_FILE}")
    return 0


def _check_data(args) -> None:
    """--data and --calibration, checked before Stream starts (the data as `zz-event run` reads it)."""
    from zz_event.errors import ZzEventError  # noqa: PLC0415

    if args.calibration is not None and args.data is None:
        raise ZzEventError(f"--calibration {args.calibration}: expected with --data only")
    if args.data is None:
        return
    if args.mode != "event":
        raise ZzEventError(f"--data applies to --mode event (corrected costs), not --mode {args.mode}")
    import onnx  # noqa: PLC0415

    from zz_event.readers.activations import load_batch  # noqa: PLC0415

    batch = load_batch(args.data, onnx.load(args.workload))
    if args.calibration is not None and args.calibration > batch.shape[0]:
        raise ZzEventError(f"--calibration {args.calibration}: --data holds {batch.shape[0]} samples")


def _unrollings(path: str, mode: str) -> dict:
    """Per MAC node, its spatial unrolling in the run summarised at ``path``."""
    from zz_event.errors import InputFileError, ZzEventError  # noqa: PLC0415
    from zz_event.model.vocabulary import EVENT_MODES  # noqa: PLC0415
    from zz_event.stream.runner import frame_unrollings  # noqa: PLC0415

    if mode not in EVENT_MODES:
        raise ZzEventError(f"--unrolling-from applies to the event modes {', '.join(EVENT_MODES)}, not --mode {mode}")
    if not Path(path).is_file():
        raise InputFileError("--unrolling-from: file not found; expected a stream_summary.json", path)
    try:
        found = frame_unrollings(json.loads(Path(path).read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError) as exc:
        raise ZzEventError(f"--unrolling-from: not a stream_summary.json ({type(exc).__name__})", path) from exc
    if not found:
        raise ZzEventError("--unrolling-from: the summary lists no MAC node with a spatial unrolling", path)
    return found


def _energy(value: float | None) -> str:
    return "energy not reported" if value is None else f"{value:,.1f} pJ"
