"""The `zz-event` command line. The only place that prints, and that configures logging."""

from __future__ import annotations

import signal
import sys


def _interrupted_early(signum, frame):
    """Ctrl-C before a command has started: nothing to clean up, so no traceback either."""
    print("zz-event: interrupted", file=sys.stderr)
    sys.exit(130)


if __name__ == "__main__" or sys.argv[0].endswith("zz-event"):  # the program, not an import of it
    signal.signal(signal.SIGINT, _interrupted_early)  # until `signals_unwind` takes over, for the command

import logging  # noqa: E402 -- after the handler: Ctrl-C while the commands load ends quietly

from zz_event.commands import register_all  # noqa: E402
from zz_event.commands.options import OneLineParser  # noqa: E402
from zz_event.errors import ZzEventError  # noqa: E402
from zz_event.interruption import Terminated, raise_if_interrupted, signal_behind, signals_unwind  # noqa: E402

__all__ = ["EXIT_BAD_INPUT", "main"]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="zz-event",
        description="Exact event-driven (input-triggered) costs for ZigZag and Stream.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show ZigZag's and Stream's log messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_all(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, its line already printed)
        return int(stop.code or 0)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        for noisy in ("zigzag", "stream"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        with signals_unwind():
            code = args.handler(args)
            raise_if_interrupted()  # a stop swallowed where no loop checked for it still ends the run as one
            return code
    except ZzEventError as error:
        print(f"zz-event: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, Terminated) as stop:
        return _stopped(stop)
    except SystemError as error:  # a signal raised inside a C callback (numba loading its cache) comes wrapped
        stop = signal_behind(error)
        if stop is None:
            raise
        return _stopped(stop)


def _stopped(stop: KeyboardInterrupt | Terminated) -> int:
    if isinstance(stop, Terminated):
        print("zz-event: terminated", file=sys.stderr)
        return int(stop.code)
    print("zz-event: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
