"""Reading a mapspace file back: `load` returns the rows as a pandas DataFrame with the documented column types
(see `zz_event.mapspace.logger` for the columns)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from zz_event.errors import InputFileError
from zz_event.mapspace.writer import read_options

__all__ = ["load"]


def load(path: str | Path, columns: list[str] | None = None):
    """A mapspace file (CSV, gzip'd CSV or Parquet) as a pandas DataFrame with the documented column types.

    `columns` reads only those columns. Raises InputFileError if the file is missing or not a mapspace.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError("no such file", str(path))
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path, columns=columns)
        except ImportError as error:
            raise InputFileError("is Parquet, which needs pyarrow (pip install pyarrow); or pass the CSV",
                                 str(path)) from error
        except (ValueError, OSError) as error:
            raise InputFileError(f"is not a readable mapspace Parquet file ({_one_line(error)})", str(path)) from error
        return frame.astype(read_options(frame.columns)["dtype"])
    try:
        header = pd.read_csv(path, nrows=0).columns.tolist()
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError, EOFError) as error:
        raise InputFileError(f"is not a readable CSV ({_one_line(error)})", str(path)) from error
    missing = [c for c in ("layer", "evaluation", "temporal_ordering", "corrected") if c not in header]
    if missing:
        raise InputFileError(f"is not a zz-event mapspace CSV (no column {', '.join(missing)})", str(path))
    if columns is not None:
        absent = [c for c in columns if c not in header]
        if absent:
            raise InputFileError(f"has no column {', '.join(absent)}", str(path))
    _check_whole_lines(path)
    wanted = header if columns is None else columns
    try:
        frame = pd.read_csv(path, usecols=wanted, **read_options(wanted))
    except (ValueError, pd.errors.ParserError) as error:
        raise InputFileError(f"is not a valid mapspace CSV ({_one_line(error)})", str(path)) from error
    if {"layer", "evaluation"} <= set(frame.columns):
        repeated = frame.duplicated(["layer", "evaluation"])
        if repeated.any():
            first = frame[repeated].iloc[0]
            raise InputFileError(f"row {int(repeated.to_numpy().argmax()) + 2} repeats layer {first['layer']!r} "
                                 f"evaluation {first['evaluation']} (two runs in one file?); expected each mapping "
                                 "once", str(path))  # fmt: skip
    return frame


def _check_whole_lines(path: Path) -> None:
    """A mapspace CSV ends with a line break (the writer writes whole lines); else it was cut short."""
    if path.suffix != ".csv" or path.stat().st_size == 0:
        return
    with open(path, "rb") as handle:
        handle.seek(-1, 2)
        if handle.read(1) != b"\n":
            raise InputFileError("ends in the middle of a row (truncated?); expected whole lines, as zz-event "
                                 "writes them", str(path))  # fmt: skip


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
