"""The sweep's one exception: a spec that cannot run, reported in one line naming the spec file."""

from __future__ import annotations

from zz_event.errors import InputFileError

__all__ = ["SweepSpecError"]


class SweepSpecError(InputFileError):
    """A sweep spec names a missing file, an unknown key path or mode, or a value of the wrong type."""
