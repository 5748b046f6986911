"""The sweep's folder: what was asked, what finished, what failed, and the tidy table.

    DIR/spec.yaml                 the spec as given (a copy)
    DIR/sweep_points.parquet      the manifest: one row per point of the spec (key, index, parameters, hashes)
    DIR/sweep.json                provenance of the last run and its counts
    DIR/points/<key>.parquet      one finished point's rows (written to a temporary name, then renamed)
    DIR/failed/<key>.json         a failed point's error (removed when the point later succeeds)
    DIR/sweep.parquet             the table `load(DIR)` returns, rewritten at the end of every run

A point file exists only when its point is complete, so an interrupted sweep keeps every finished point
and a rerun skips them. `load` reads the manifest's points that have finished, in spec order, whatever the
order in which they finished; plain Parquet, so DuckDB or polars read `DIR/sweep.parquet` (or
`DIR/points/*.parquet`) without zz-event.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from zz_event.errors import InputFileError
from zz_event.output_files import write_json_atomic

__all__ = ["SweepStore", "load", "load_failures"]

MANIFEST = "sweep_points.parquet"
TABLE = "sweep.parquet"


class SweepStore:
    """Reads and writes one sweep folder."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.points = self.out / "points"
        self.failed = self.out / "failed"

    def start(self, spec_path: Path, manifest: pd.DataFrame, info: dict) -> None:
        """Create the folder (if new) and record the spec and its points."""
        self.points.mkdir(parents=True, exist_ok=True)
        self.failed.mkdir(parents=True, exist_ok=True)
        for stale in self.points.glob(".*.tmp"):  # a point being written when an earlier run was killed
            stale.unlink(missing_ok=True)
        if spec_path.resolve() != (self.out / "spec.yaml").resolve():
            shutil.copyfile(spec_path, self.out / "spec.yaml")
        _write_parquet_atomic(manifest, self.out / MANIFEST)
        write_json_atomic(self.out / "sweep.json", info)

    def finished(self) -> set[str]:
        return {p.stem for p in self.points.glob("*.parquet")} if self.points.is_dir() else set()

    def record(self, outcome) -> None:
        """Store a point's rows, or its error."""
        if outcome.ok:
            _write_parquet_atomic(outcome.rows, self.points / f"{outcome.key}.parquet")
            (self.failed / f"{outcome.key}.json").unlink(missing_ok=True)
        else:
            write_json_atomic(self.failed / f"{outcome.key}.json",
                              {"point": outcome.key, "point_index": outcome.index, "error": outcome.error,
                               "detail": outcome.detail})  # fmt: skip

    def finish(self, info: dict) -> pd.DataFrame:
        table = load(self.out)
        _write_parquet_atomic(table, self.out / TABLE)
        write_json_atomic(self.out / "sweep.json", info)
        return table


def _write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False, engine="pyarrow")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _manifest(out: Path) -> pd.DataFrame:
    path = out / MANIFEST
    if not path.is_file():
        raise InputFileError(f"not a sweep folder (no {MANIFEST}); run zz-event sweep SPEC --out DIR first", str(out))
    return pd.read_parquet(path)


def load(out: str | Path) -> pd.DataFrame:
    """The sweep's table: one row per finished point x layer plus a network row per point, in spec order
    (points as the spec lists them, layers in network order, the network row last)."""
    out = Path(out)
    manifest = _manifest(out)
    frames = [pd.read_parquet(out / "points" / f"{key}.parquet") for key in manifest["point"]
              if (out / "points" / f"{key}.parquet").is_file()]  # fmt: skip
    if not frames:
        return pd.DataFrame(columns=list(manifest.columns))
    params = [c for c in manifest.columns if c != "point"]
    rows = pd.concat(frames, ignore_index=True).drop(columns=params, errors="ignore")
    # Several points of a spec can share a key (the same resolved inputs): each gets the rows.
    table = manifest.merge(rows, on="point", how="inner", validate="many_to_many")
    order = table["layer_index"].where(table["layer_index"] >= 0, len(table))
    table = table.assign(_order=order).sort_values(["point_index", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def load_failures(out: str | Path) -> pd.DataFrame:
    """The points of the manifest that failed in their last run and have not finished since."""
    out = Path(out)
    manifest = _manifest(out)
    records = []
    for key in manifest["point"].unique():
        path = out / "failed" / f"{key}.json"
        if path.is_file() and not (out / "points" / f"{key}.parquet").is_file():
            records.append(json.loads(path.read_text(encoding="utf-8")))
    failures = pd.DataFrame(records, columns=["point", "error", "detail"])
    return manifest.merge(failures, on="point", how="inner").sort_values("point_index").reset_index(drop=True)
