"""What a Stream run asks of the event modes beyond the mode itself: which spatial unrolling each node uses, and
the data its events come from. :func:`zz_event.stream.runner.run_stream` sets them for the duration of one Stream
call (:func:`costing_settings`); :mod:`zz_event.stream.costing` reads them (:func:`active_settings`). Stream costs
nodes in its own process, so a process-wide value reaches the backend Stream instantiates through its entry point.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["StreamCosting", "active_settings", "costing_settings"]


@dataclass(frozen=True)
class StreamCosting:
    """- ``unrollings``: node name -> ``{array dim: {loop: factor}}`` in the engine's loop names (output-centric
      ``OY``/``OX`` are read as ``IY``/``IX``), the spatial unrolling that node must use (e.g. what frame mode
      chose: "same spatial mapping"); a node not named searches its own (:mod:`zz_event.stream.spatial`);
    - ``masks``: ONNX layer name -> bool array (samples, ...) of the layer's non-zero inputs
      (``zz_event.readers.activations.layer_masks``); mode ``event`` then costs those layers on the data;
    - ``calibration``: rank mappings on the first K samples (all if None), then cost the pick on every sample."""

    unrollings: Mapping[str, Mapping[str, Mapping[str, int]]] = field(default_factory=dict)
    masks: Mapping[str, Any] = field(default_factory=dict)
    calibration: int | None = None


_ACTIVE: list[StreamCosting] = [StreamCosting()]


def active_settings() -> StreamCosting:
    return _ACTIVE[-1]


@contextmanager
def costing_settings(settings: StreamCosting) -> Iterator[None]:
    _ACTIVE.append(settings)
    try:
        yield
    finally:
        _ACTIVE.pop()
