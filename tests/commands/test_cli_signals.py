"""A signal that lands inside a C callback (numba loading its cache) reaches the CLI wrapped in a
SystemError: the run still ends as interrupted, with one line and no traceback; other SystemErrors are
not swallowed."""

from __future__ import annotations

import argparse

import pytest

from zz_event import cli


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
