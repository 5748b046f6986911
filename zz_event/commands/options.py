"""Argument types and the parser every `zz-event` command (and `python -m validation.simulate`) shares, so that an
option is refused the same way everywhere: one line, exit status 2, before any work."""

from __future__ import annotations

import argparse

__all__ = ["OneLineParser", "add_progress_options", "positive_float", "positive_int"]


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage error reported in one line, as every other bad input is (argparse prints the usage
    block first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog.split()[0]}: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer; expected a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1; expected a positive integer")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected a positive number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive finite number")
    return value


def add_progress_options(parser: argparse.ArgumentParser) -> None:
    """--progress / --no-progress; `args.progress` is None when neither is given (show bars on a terminal)."""
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show progress")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")
