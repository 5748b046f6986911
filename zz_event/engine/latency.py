"""Latency of a corrected mapping.

Model (stated in the README too):
- compute cycles: temporal steps in which at least one processing element executes a valid MAC
  (without the filter: every step);
- on-loading: before the first step, the first tile of every memory level below an operand's top level
  is sent from the level above (words at the sending level's read port, one per cycle, summed over the
  levels and instances); operands load in parallel, so the slowest one counts;
- stalls: every physical port moves its words (one per cycle at its full width) concurrently with
  computation; each instance of a memory has its own ports and a port's words are spread evenly over
  its instances (rounded up); the busiest port's excess over the compute cycles stretches the run;
- off-loading: after the last step, the outputs still held below the output's top level are written
  back up (words at the port, one per cycle, summed over the levels and instances).
ZigZag's own latency does not read the access counts, which is why it is recomputed from the
corrected transfers here.
"""

from __future__ import annotations

__all__ = ["latency_parts"]


def latency_parts(compute: int, port_words: dict[str, int], onload: dict[str, int],
                  offload: int) -> tuple[int, int, int]:
    """(on-loading, stall, off-loading) cycles."""
    busiest = max(port_words.values(), default=0)
    return max(onload.values(), default=0), max(0, busiest - compute), offload

