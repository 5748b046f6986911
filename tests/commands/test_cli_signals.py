"""Interruptions are not lost on their way out. A signal that lands inside a C callback (numba loading its
cache) reaches the CLI wrapped in a SystemError: the run still ends as interrupted, with one line and no
traceback; other SystemErrors are not swallowed. One that ZigZag swallows (its `pickle_deepcopy` catches
everything) is raised again at the next mapping."""

from __future__ import annotations

import argparse
import json
import pickle
import signal
import sys

import pytest
import zigzag.utils

from zz_event import cli
from zz_event.mapspace import load, meta_path
from zz_event.zigzag import stages as zz_stages


def _parser_raising(error: BaseException) -> argparse.ArgumentParser:
    def handler(_args):
        raise error

    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true")
    parser.set_defaults(handler=handler)
    return parser


def _wrapped(stop: BaseException) -> SystemError:
    try:
        try:
            raise stop
        except BaseException as inner:
            raise SystemError("<function _numba_unpickle> returned a result with an exception set") from inner
    except SystemError as error:
        return error


@pytest.mark.parametrize("stop, code, line", [
    (cli.Terminated(143), 143, "zz-event: terminated"),
    (KeyboardInterrupt(), cli.EXIT_INTERRUPTED, "zz-event: interrupted"),
])
def test_a_signal_wrapped_by_a_c_callback_ends_the_run_as_interrupted(monkeypatch, capsys, stop, code, line):
    monkeypatch.setattr(cli, "build_parser", lambda: _parser_raising(_wrapped(stop)))
    assert cli.main([]) == code
    assert capsys.readouterr().err.strip() == line


def test_a_system_error_without_a_signal_is_not_swallowed(monkeypatch):
    monkeypatch.setattr(cli, "build_parser", lambda: _parser_raising(SystemError("a real fault")))
    with pytest.raises(SystemError, match="a real fault"):
        cli.main([])


class _SignallingPickle:
    """`pickle` for ZigZag's utilities, whose `dumps` sends the process `signum` on the `at`-th call from
    `pickle_deepcopy`: the handler raises inside its bare `except:`."""

    def __init__(self, signum: int, at: int):
        self.signum, self.at, self.calls = signum, at, 0
        self.loads = pickle.loads

    def dumps(self, obj, protocol=None):
        if sys._getframe(1).f_code.co_name == "pickle_deepcopy":
            self.calls += 1
            if self.calls == self.at:
                signal.raise_signal(self.signum)  # its handler runs before this returns
        return pickle.dumps(obj, protocol)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, cli.EXIT_INTERRUPTED), (signal.SIGTERM, 143)])
def test_a_signal_zigzag_swallows_still_stops_the_run(monkeypatch, capsys, toy, tmp_path, signum, code):
    shim = _SignallingPickle(signum, at=25)  # about halfway: ZigZag deep-copies about twice per mapping, 24 of them
    monkeypatch.setattr(zigzag.utils, "pickle", shim)
    csv = tmp_path / "stopped.csv"
    assert cli.main(["mapspace", "--workload", toy["workload"], "--accelerator", toy["hardware"], "--mapping",
                     toy["mapping_free"], "--csv", str(csv), "--no-progress", "--parquet", "no"]) == code
    assert shim.calls <= 25 + 2  # the mapping being evaluated finishes; no other starts
    meta = json.loads(meta_path(csv).read_text())
    assert meta["status"] == "interrupted" and 0 < meta["rows"] == len(load(csv)) < 24
    assert capsys.readouterr().err.strip().endswith("interrupted" if signum == signal.SIGINT else "terminated")


def test_a_command_that_completes_after_swallowing_a_signal_still_reports_it(monkeypatch, capsys):
    def swallowing(_args):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:  # what third-party code does
            pass
        return 0

    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true")
    parser.set_defaults(handler=swallowing)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == cli.EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == "zz-event: interrupted"
    parser.set_defaults(handler=lambda _args: 0)
    assert cli.main([]) == 0  # the next run starts with no signal recorded


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, cli.EXIT_INTERRUPTED), (signal.SIGTERM, 143)])
def test_a_signal_wrapped_mid_run_leaves_an_interrupted_mapspace(monkeypatch, capsys, toy, tmp_path, signum, code):
    """A signal whose raise comes back wrapped in a SystemError (inside a C callback: numba loading its cache)
    in the middle of a mapspace run: the sidecar reads "interrupted" (it read "failed"), the run ends as one."""
    correct, calls = zz_stages.correct, []

    def signalled_then_wrapped(*args):
        calls.append(1)
        if len(calls) == 12:
            try:
                signal.raise_signal(signum)  # its handler records it and raises here
            except BaseException as inner:
                raise SystemError("<function _numba_unpickle> returned a result with an exception set") from inner
        return correct(*args)

    monkeypatch.setattr(zz_stages, "correct", signalled_then_wrapped)
    csv = tmp_path / "stopped.csv"
    assert cli.main(["mapspace", "--workload", toy["workload"], "--accelerator", toy["hardware"], "--mapping",
                     toy["mapping_free"], "--csv", str(csv), "--no-progress", "--parquet", "no"]) == code
    meta = json.loads(meta_path(csv).read_text())
    assert meta["status"] == "interrupted" and 0 < meta["rows"] == len(load(csv)) < 12
    assert capsys.readouterr().err.strip().endswith("interrupted" if signum == signal.SIGINT else "terminated")
