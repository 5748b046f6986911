"""Streaming a mapspace to disk so that an interrupted run leaves a valid file.

`RowStream` writes the CSV header at once and then rows in whole lines, a few hundred at a time or at
least every half second, each batch in one `write` system call on an unbuffered descriptor (with
SIGINT and SIGTERM held back): a file never holds part of a row. Closing writes what is held, so
Ctrl-C, SIGTERM or a crash that unwinds leaves every row accepted so far; SIGKILL leaves the rows of
the last half second out, and the file is still whole rows, a prefix of the run's. Memory stays
bounded: at most one batch is held.

`write_meta` writes the sidecar `<csv>.meta.json` atomically; `csv_to_parquet` converts a finished CSV to
Parquet in bounded chunks when the optional `pyarrow` is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

from zz_event.errors import InputFileError
from zz_event.output_files import is_locked, write_json_atomic

__all__ = [
    "RowStream",
    "column_kind",
    "count_rows",
    "csv_cell",
    "csv_line",
    "csv_to_parquet",
    "meta_path",
    "parquet_available",
    "read_meta",
    "signals_deferred",
    "write_meta",
]

FLOAT_SUFFIXES = ("_energy_pj", "valid_mac_fraction", "raw_latency_cycles")
TEXT_COLUMNS = frozenset(
    {"layer", "spatial_mapping", "temporal_ordering", "alloc_W", "alloc_I", "alloc_O", "uncorrected_reason"}
)


def column_kind(column: str) -> str:
    """'text', 'float' or 'int' (nullable: engine columns are empty on uncorrected layers)."""
    if column in TEXT_COLUMNS:
        return "text"
    if column.endswith(FLOAT_SUFFIXES) or column.startswith("data_"):
        return "float"
    return "int"


def meta_path(csv_path: str | Path) -> Path:
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.name + ".meta.json")


_DEFERRED = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def signals_deferred():
    """Hold SIGINT/SIGTERM back for the block, so a row and its count are written together or not at all.

    The signal is delivered (and Python's handler runs) as soon as the block ends. A no-op off the main
    thread's POSIX signal mask (e.g. on Windows).
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_QUOTE_WHEN = re.compile('[,"\r\n]')
_SPECIAL = re.compile('["\r\n]')


def csv_line(cells: Sequence[str]) -> bytes:
    """One CSV line with minimal quoting, as `csv.writer(lineterminator="\\n")` writes it (and a carriage
    return quoted too, which it leaves bare), without its per-row set-up. Most rows need no quotes at
    all, which one look at the joined line tells: no quote or line break, and no comma but the separators."""
    line = ",".join(cells)
    if line.count(",") != len(cells) - 1 or _SPECIAL.search(line):
        line = ",".join([csv_cell(c) for c in cells])
    elif line == "" and cells:  # one empty cell: quoted, or the line would read as no row at all
        line = '""'
    return (line + "\n").encode("utf-8")


def csv_cell(cell: str) -> str:
    """One cell as `csv_line` writes it within a line of several cells."""
    return '"' + cell.replace('"', '""') + '"' if _QUOTE_WHEN.search(cell) else cell


class RowStream:
    """An append-only CSV: header on open, then whole lines, written in batches (`flush`)."""

    FLUSH_ROWS = 256
    FLUSH_SECONDS = 0.5

    def __init__(self, path: str | Path, columns: Iterable[str]):
        self.path = Path(path)
        self.columns = tuple(columns)
        self._written = 0  # rows in the file
        self._held: list[bytes] = []  # rows accepted, not yet in the file
        self._due = time.monotonic() + self.FLUSH_SECONDS
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as error:
            raise InputFileError(f"cannot be written ({error.strerror})", str(self.path)) from error
        self._write(csv_line(self.columns))

    @property
    def rows(self) -> int:
        """Rows accepted: one `list.append` each, so an interruption never leaves this count and the rows
        held apart."""
        return self._written + len(self._held)

    def write(self, cells: list[str]) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"a row has {len(cells)} cells; the header has {len(self.columns)}")
        self.write_line(csv_line(cells))

    def write_line(self, line: bytes) -> None:
        """One row already in CSV form (`csv_line`), newline included."""
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        self._held.append(line)
        if len(self._held) >= self.FLUSH_ROWS or time.monotonic() >= self._due:
            self.flush()

    def flush(self) -> None:
        """Write the rows held, in one system call; an interruption waits until they and the count agree."""
        with signals_deferred():
            if self._held:
                self._write(b"".join(self._held))
                self._written += len(self._held)
                self._held.clear()
            self._due = time.monotonic() + self.FLUSH_SECONDS

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def close(self) -> None:
        if self._fd is not None:
            self.flush()
            os.close(self._fd)
            self._fd = None


def write_meta(csv_path: str | Path, meta: dict) -> Path:
    path = meta_path(csv_path)
    write_json_atomic(path, meta)
    return path


def read_meta(csv_path: str | Path) -> dict | None:
    """The sidecar of `csv_path` as it stands now, or None if there is none.

    The sidecar is rewritten every few hundred rows, so after SIGKILL it lags behind; what it says is therefore
    checked against the CSV itself: `rows` is the number of whole rows in the file, and a run still marked
    `running` whose writer no longer holds the output's lock ended without closing the file (status `killed`).
    """
    path = meta_path(csv_path)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise InputFileError(f"is not a readable mapspace sidecar ({error})", str(path)) from error
    if not isinstance(meta, dict):
        raise InputFileError("is not a mapspace sidecar (expected a JSON object)", str(path))
    if meta.get("status") == "running" and not is_locked(csv_path):
        meta.update(status="killed", completed=False,
                    error="the run ended without closing the file (killed); the CSV holds the rows written before")
    if Path(csv_path).is_file():
        meta["rows_in_sidecar"], meta["rows"] = meta.get("rows"), count_rows(csv_path)
    return meta


def count_rows(csv_path: str | Path) -> int:
    """Whole data rows of a mapspace CSV (lines after the header; rows never hold a line break unquoted, and the
    writer writes whole lines only)."""
    lines = 0
    with open(csv_path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def parquet_available() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def csv_to_parquet(csv_path: str | Path, parquet_path: str | Path, chunk_rows: int = 20_000) -> Path:
    """Convert a mapspace CSV to Parquet, `chunk_rows` rows at a time (memory stays bounded)."""
    import pandas as pd  # noqa: PLC0415 -- with pyarrow, which is optional
    import pyarrow as pa  # noqa: PLC0415 -- optional (the `parquet` extra)
    import pyarrow.parquet as pq  # noqa: PLC0415

    csv_path, parquet_path = Path(csv_path), Path(parquet_path)
    columns = pd.read_csv(csv_path, nrows=0).columns.tolist()
    arrow_type = {"text": pa.string(), "float": pa.float64(), "int": pa.int64()}
    schema = pa.schema([(c, arrow_type[column_kind(c)]) for c in columns])
    tmp = parquet_path.with_name(f".{parquet_path.name}.tmp")
    writer = pq.ParquetWriter(tmp, schema)
    try:
        for chunk in pd.read_csv(csv_path, chunksize=chunk_rows, **read_options(columns)):
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    os.replace(tmp, parquet_path)
    return parquet_path


def read_options(columns: Iterable[str]) -> dict:
    """`pandas.read_csv` keywords giving every column its documented type."""
    dtype = {}
    for column in columns:
        kind = column_kind(column)
        dtype[column] = {"text": str, "float": "float64", "int": "Int64"}[kind]
    text = [c for c in columns if column_kind(c) == "text"]
    return {"dtype": dtype, "keep_default_na": False, "na_values": {c: [""] for c in columns if c not in text}}
