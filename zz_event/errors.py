"""The one exception family zz-event raises for bad input (files, workloads, mappings, options).

Every message says what was found, what was expected and, where it helps, what to do. The CLI prints
`str(error)` as a single line and exits with status 2; library users catch `ZzEventError`.
"""

from __future__ import annotations

__all__ = [
    "GeometryError",
    "InputFileError",
    "MappingError",
    "OutputPathError",
    "StreamBackendError",
    "UnsupportedLayerError",
    "ZzEventError",
]


class ZzEventError(Exception):
    """Base class: a problem with what the user gave zz-event, reported in one line."""

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InputFileError(ZzEventError):
    """A file is missing, unreadable or not valid YAML/ONNX."""


class GeometryError(ZzEventError):
    """A layer's sizes, stride, padding or dilation are inconsistent or out of range."""


class MappingError(ZzEventError):
    """A mapping names an unknown loop dimension or cannot be applied to the layer."""


class OutputPathError(ZzEventError):
    """An output path cannot be written (a file where a folder is meant, not writable, locked by another run)."""


class UnsupportedLayerError(ZzEventError):
    """The layer is not a convolution or matrix product; zz-event keeps ZigZag's own cost for it."""


class StreamBackendError(ZzEventError):
    """Stream could not be given an event-driven cost for a node: never replaced by a zero-energy estimate."""
