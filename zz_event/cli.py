"""The `zz-event` command line. The only place that prints, and that configures logging."""

from __future__ import annotations

import argparse
import logging
import sys

from zz_event.commands import register_all
from zz_event.errors import ZzEventError

__all__ = ["main"]

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zz-event",
        description="Exact event-driven (input-triggered) costs for ZigZag and Stream.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show ZigZag's and Stream's log messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_all(sub)
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
