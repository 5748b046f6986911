"""Independent reference simulator for zz-event's cost engine.

Nothing here imports or copies counting code from `zz_event.engine`: the simulator shares only the
input description (`zz_event.model.nest.LoopNest`, `zz_event.model.geometry`, `zz_event.zigzag.adapter`) and
replays every MAC iteration of a loop nest, keeping each memory level of each operand as an explicit
buffer of element ids. See `validation/README.md`.
"""

from validation.simulator import SimResult, simulate

__all__ = ["SimResult", "simulate"]
