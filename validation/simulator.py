"""Reference simulator: replays every MAC of a `LoopNest` and every buffer change of every memory level.

`simulate(nest, filter, readiness)` evaluates every loop iteration (`validation.macstream.Iterations`:
does it execute a MAC, does the MAC add a real input to a real output), then steps through the temporal
loops in time order, a block of consecutive steps at a time vectorised over the steps and PEs of the
block, and executes the MACs that run (every in-range iteration, or only the valid ones with the
boundary filter) with real integer data. It replays each memory level of each operand as explicit
per-instance buffers (`validation.buffers`) and applies the transfer rules of design.md as stated in the
spec docstrings (zz_event/engine/tiles.py, transfers.py, words.py, latency.py), re-implemented from the
text in `validation.rules`; no counting code is shared with the engine. Only the input description is
shared: `zz_event.model.nest.LoopNest` and `zz_event.model.geometry`.

Output readiness needs, per PE, the first and last step at which its MACs touch each output element;
the MAC pass gathers them before the buffers are replayed (in one scan over the steps when validity does
not depend on the PE, the usual case).

Memory: the MAC pass holds one block (`block_iterations`) of index arrays at a time; the buffer replay
holds the iteration tensor of the whole layer (one byte per loop iteration) and one grouping's tiles.
"""

from __future__ import annotations

from typing import IO

import numpy as np

from validation.buffers import Touches, replay
from validation.maclog import MacLogWriter
from validation.macstream import Iterations, Layout
from validation.reference import as_layer_data, random_data
from validation.rules import LevelSim, SimResult, assemble, parent_groupings
from validation.rules import groupings as _groupings
from validation.shared import parent_replay
from zz_event.model.nest import LoopNest

__all__ = ["LevelSim", "SimResult", "simulate"]


def _layer_data(nest: LoopNest, data):
    d = random_data(nest.geometry) if data is None else as_layer_data(nest.geometry, data)
    return d["I"].reshape(-1), d["W"].reshape(-1), d


class _MacPass:
    """The arithmetic of every executed MAC, block by block, and what readiness and the MAC log need."""

    def __init__(self, layout: Layout, its: Iterations, data, readiness: bool, writer) -> None:
        g = layout.nest.geometry
        self.layout, self.writer = layout, writer
        shape = (layout.n_steps, layout.n_pe)
        self.mac, self.adds = its.tensor().reshape(shape), its.tensor(adds=True).reshape(shape)
        self.i_flat, self.w_flat, self.data = _layer_data(layout.nest, data)
        # Float copies for the products: bincount accumulates in float64 (exact for the integers used).
        self.i_values, self.w_values = self.i_flat.astype(np.float64), self.w_flat.astype(np.float64)
        self.n_out = g.B * g.G * g.K * g.OY * g.OX
        self.acc = np.zeros(self.n_out + 1, dtype=np.float64)  # + one bin for iterations that add nothing
        self.out, self.inp = layout.form(layout.true_components("O")), layout.form(layout.true_components("I"))
        self.weight = layout.form(layout.components("W"))
        self.touches, self._by_step = None, False
        if readiness:  # (PE, element) tables plus one slot that non-executed iterations write to
            shape = (layout.n_pe, layout.n_elements("O"))
            self.key = layout.form(layout.components("O"), np.arange(layout.n_pe) * shape[1])
            self._first = np.full(shape[0] * shape[1] + 1, layout.n_steps, dtype=np.int64)
            self._last = np.full_like(self._first, -1)
            self.touches = Touches(layout, self._first[:-1].reshape(shape), self._last[:-1].reshape(shape))
            # Validity independent of the PE and an element id = step part + PE part: one scan over steps.
            self._by_step = not self.key.divided and bool((self.mac == self.mac[:, :1]).all())

    def run(self) -> None:
        lay = self.layout
        for step0 in range(0, lay.n_steps, lay.block_steps):
            steps = slice(step0, min(step0 + lay.block_steps, lay.n_steps))
            mac, adds = self.mac[steps], self.adds[steps]
            out, inp, w_idx = self.out.at(steps), self.inp.at(steps), self.weight.at(steps)
            # Iterations that add nothing read clipped indices and land in the last bin.
            products = self.w_values.take(w_idx, mode="clip") * self.i_values.take(inp, mode="clip")
            target = np.where(adds, out, self.n_out)
            self.acc += np.bincount(target.reshape(-1), weights=np.broadcast_to(products, mac.shape).reshape(-1),
                                    minlength=self.n_out + 1)
            if self.touches is not None and not self._by_step:
                self._touch(np.arange(steps.start, steps.stop), mac, self.key.at(steps))
            if self.writer is not None:
                self._log(step0, mac, adds, out, inp, w_idx)
        if self.touches is not None and self._by_step:
            self._touch_by_step()

    def _touch(self, steps: np.ndarray, mac: np.ndarray, key: np.ndarray) -> None:
        key = np.where(mac, key, self._first.size - 1).reshape(-1)
        at = np.repeat(steps, self.layout.n_pe)  # flat operands of one type: ufunc.at's fast path
        np.minimum.at(self._first, key, at)
        np.maximum.at(self._last, key, at)

    def _touch_by_step(self) -> None:
        """What `_touch` finds when every PE executes at the same steps, each touching element
        key.t_part[step] + key.s_part[PE]: the first and last executed step of each step part, spread
        over the PEs."""
        executed = np.flatnonzero(self.mac[:, 0])
        if executed.size == 0:
            return
        part = self.key.t_part[executed]
        lo = int(part.min())
        first = np.full(int(part.max()) - lo + 1, self.layout.n_steps, dtype=np.int64)
        last = np.full_like(first, -1)
        np.minimum.at(first, part - lo, executed)
        np.maximum.at(last, part - lo, executed)
        seen = np.flatnonzero(last >= 0)
        slots = (seen + lo)[:, None] + self.key.s_part
        self._first[slots] = first[seen][:, None]
        self._last[slots] = last[seen][:, None]

    def _log(self, step0: int, mac, adds, out, inp, w_idx) -> None:
        rows, pes = np.nonzero(mac)
        real = adds[rows, pes]
        t_out, t_in, w = (np.broadcast_to(a, mac.shape)[rows, pes] for a in (out, inp, w_idx))
        if self.layout.nest.centric == "input":
            t_out = np.where(real, t_out, -1)
        else:
            t_in = np.where(real, t_in, -1)
        iv = np.where(t_in >= 0, self.i_flat[np.maximum(t_in, 0)], 0)
        self.writer.write_block(step0, rows, pes, t_out, t_in, w, iv, self.w_flat[w])


def simulate(nest: LoopNest, filter: bool = True, readiness: bool = True, data=None,
             mac_log: str | IO[str] | None = None, block_iterations: int = 1 << 15, mask=None) -> SimResult:
    """Replay `nest` MAC by MAC and buffer by buffer. `mac_log`: a path or text stream for the MAC log.

    `mask` (events from data, design.md): which input elements are non-zero, (B, G, C, IY, IX) or ONNX's
    layout; a MAC then executes only if its input is non-zero. `mask=True` takes it from `data` (I != 0)."""
    layout = Layout(nest, filter, block_iterations)
    g = nest.geometry
    if mask is True:
        mask = as_layer_data(g, data)["I"] != 0
    its = Iterations(layout, mask)
    log_stream, own_stream = (open(mac_log, "w") if isinstance(mac_log, str) else mac_log), isinstance(mac_log, str)
    writer = None
    if log_stream is not None:
        writer = MacLogWriter(log_stream, (g.B, g.G, g.K, g.OY, g.OX), (g.B, g.G, g.C, g.y.inp, g.x.inp),
                              (g.G, g.K, g.C, g.y.kernel, g.x.kernel))
    pe_first = list(range(len(layout.t_sizes), len(layout.axes))) + list(range(len(layout.t_sizes)))
    by_pe = its.tensor(pe_first).reshape(layout.n_pe, layout.n_steps)
    macs = int(np.count_nonzero(by_pe))
    cycles = int(np.count_nonzero(np.logical_or.reduce(by_pe, axis=0)))
    arithmetic = _MacPass(layout, its, data, readiness, writer)
    try:
        arithmetic.run()
        if writer is not None:
            log_stream.write(f"# summary macs={macs} compute_cycles={cycles}\n")
    finally:
        if own_stream:
            log_stream.close()
    seqs = {(op, top, served): replay(layout, its, op, top, served, arithmetic.touches if op == "O" else None)
            for op, gs in _groupings(nest).items() for top, served in gs}
    parents = {(op, *key): parent_replay(layout, its, op, *key)
               for op, keys in parent_groupings(nest).items() for key in keys}
    outputs = np.rint(arithmetic.acc[:-1]).astype(np.int64).reshape(g.B, g.G, g.K, g.OY, g.OX)
    return assemble(nest, filter, readiness, macs, cycles, seqs, parents, outputs, arithmetic.data)
