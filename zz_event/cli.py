"""The `zz-event` command line. The only place that prints, and that configures logging."""

from __future__ import annotations

import argparse
import logging
import sys

from zz_event.errors import ZzEventError

__all__ = ["main"]

EXIT_BAD_INPUT = 2


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="ZigZag's search ranked on exact event-driven costs; writes DIR/summary.json")
    p.add_argument("--workload", required=True, help="ONNX model, or ZigZag workload YAML (output- or input-centric)")
    p.add_argument("--accelerator", required=True, help="ZigZag accelerator YAML")
    p.add_argument("--mapping", required=True, help="ZigZag mapping YAML")
    p.add_argument("--opt", choices=["latency", "energy", "EDP"], default="latency", help="what ZigZag minimises")
    p.add_argument("--lpf-limit", type=int, default=6, help="LOMA loop-prime-factor limit (default 6)")
    p.add_argument("--out", required=True, help="output folder (summary.json, ZigZag's own dumps in zigzag/)")
    p.add_argument("--no-filter", action="store_true", help="count every iteration (no boundary filter)")
    p.add_argument("--no-readiness", action="store_true", help="ZigZag's static partial-sum rule for outputs")
    p.set_defaults(handler=_run)


def _run(args) -> int:
    from zz_event.commands.run import run_command

    return run_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zz-event",
        description="Exact event-driven (input-triggered) costs for ZigZag and Stream.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show ZigZag's and Stream's log messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(sub)
    from zz_event.commands import register_more

    register_more(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        for noisy in ("zigzag", "stream"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return args.handler(args)
    except ZzEventError as error:
        print(f"zz-event: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("zz-event: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
