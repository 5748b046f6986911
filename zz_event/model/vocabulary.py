"""Names used in several places, defined once: operands, ZigZag's transfer directions, engine variants and
costing modes."""

from __future__ import annotations

__all__ = [
    "DENSE",
    "DIRECTIONS",
    "EVENT_COSTINGS",
    "EVENT_DRIVEN",
    "EVENT_MODE",
    "EVENT_MODES",
    "EVENT_RAW_MODE",
    "FILTER",
    "FRAME_COSTINGS",
    "FRAME_MODE",
    "MAPSPACE_VARIANTS",
    "OPERANDS",
    "OPT_TARGETS",
    "READINESS",
    "READ_DIRECTIONS",
    "STREAM_MODES",
    "VARIANT_OF_SWITCHES",
]

# A layer's three operands in ZigZag's names: weights, inputs, outputs.
OPERANDS = ("W", "I", "O")
# ZigZag's four transfer directions at a memory level (`DataDirection`'s string values).
DIRECTIONS = ("rd_out_to_low", "wr_in_by_low", "rd_out_to_high", "wr_in_by_high")
READ_DIRECTIONS = ("rd_out_to_low", "rd_out_to_high")

# Engine variants, named by their two switches (filter, readiness): see `zz_event.engine.result.EngineOptions`.
DENSE, FILTER, READINESS, EVENT_DRIVEN = "dense", "filter", "readiness", "event_driven"
VARIANT_OF_SWITCHES = {
    (False, False): DENSE, (True, False): FILTER, (False, True): READINESS, (True, True): EVENT_DRIVEN,
}
# The variants a mapspace row logs, in column order.
MAPSPACE_VARIANTS = (DENSE, FILTER, EVENT_DRIVEN)

# Stream costing modes: stock Stream (output-centric), input-centric costed by plain ZigZag, and corrected.
FRAME_MODE, EVENT_RAW_MODE, EVENT_MODE = "frame", "event-raw", "event"
EVENT_MODES = (EVENT_RAW_MODE, EVENT_MODE)
STREAM_MODES = (FRAME_MODE, *EVENT_MODES)

# The single-core report's costings: frame-based weight- and output-stationary, and the input-centric ones.
FRAME_COSTINGS = ("frame-WS", "frame-OS")
EVENT_COSTINGS = (EVENT_RAW_MODE, EVENT_MODE, "event-IS")

# What ZigZag's search minimises (its reduce stages).
OPT_TARGETS = ("latency", "energy", "EDP")
