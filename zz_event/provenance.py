"""Where a result came from: tool versions, commit, date, command. Attached to every written result."""

from __future__ import annotations

import datetime
import subprocess
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["SOURCE_ROOT", "provenance"]

# The checkout zz-event runs from (an editable install): its commit, and the inputs its demo reads.
SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(SOURCE_ROOT), "rev-parse", "HEAD"],
                             capture_output=True, text=True, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


def provenance(arguments: dict | None = None) -> dict:
    return {
        "tool": "zz-event",
        "versions": {p: _version(p) for p in ("zz-event", "zigzag-dse", "stream-dse", "numpy", "onnx")},
        "python": sys.version.split()[0],
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "arguments": arguments or {},
    }
