"""Where a result came from: tool versions, commit, date, command. Attached to every written result."""

from __future__ import annotations

import datetime
import subprocess
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["provenance"]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


def provenance(arguments: dict | None = None) -> dict:
    return {
        "tool": "zz-event",
        "versions": {p: _version(p) for p in ("zz-event", "zigzag-dse", "stream-dse", "numpy", "onnx")},
        "python": sys.version.split()[0],
        "commit": _commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "arguments": arguments or {},
    }
