"""Reference simulator: replays every MAC of a `LoopNest` and every buffer change of every memory level.

`simulate(nest, filter, readiness)` steps through the temporal loops in time order (a block of
consecutive steps at a time, vectorised over the steps and PEs of the block), executes the MACs that
run (every in-range iteration, or only the valid ones with the boundary filter) with real integer data,
and replays each memory level of each operand as explicit per-instance buffers of element ids
(`validation.buffers`). It then applies the transfer rules of design.md as stated in the spec
docstrings (zz_event/engine/tiles.py, transfers.py, words.py, latency.py), re-implemented from the text
in `validation.rules`; no counting code is shared with the engine. Only the input description is shared:
`zz_event.nest.LoopNest` and `zz_event.geometry`.

Output readiness needs, per instance of each output grouping, the first and last step at which the
instance's MACs touch each element; they are gathered during the MAC pass and the output buffers are
replayed in a second pass over the same blocks (kept in memory for layers up to CACHE_ITERATIONS).
"""

from __future__ import annotations

from typing import IO

import numpy as np

from validation.buffers import TileReplay, Touches, element_bits
from validation.maclog import MacLogWriter
from validation.macstream import Layout, blocks
from validation.reference import as_layer_data, random_data
from validation.rules import LevelSim, SimResult, assemble, groupings as _groupings
from zz_event.nest import OPERANDS, LoopNest

__all__ = ["SimResult", "LevelSim", "simulate"]

CACHE_ITERATIONS = 1 << 23  # keep the output grids for the readiness pass up to this many iterations


def _layer_data(nest: LoopNest, data):
    d = random_data(nest.geometry) if data is None else as_layer_data(nest.geometry, data)
    return d["I"].reshape(-1), d["W"].reshape(-1), d


def simulate(nest: LoopNest, filter: bool = True, readiness: bool = True, data=None,
             mac_log: str | IO[str] | None = None, block_iterations: int = 1 << 19) -> SimResult:
    """Replay `nest` MAC by MAC and buffer by buffer. `mac_log`: a path or text stream for the MAC log."""
    layout = Layout(nest, filter, block_iterations)
    g = nest.geometry
    i_flat, w_flat, d = _layer_data(nest, data)
    n_out = g.B * g.G * g.K * g.OY * g.OX
    acc = np.zeros(n_out, dtype=np.float64)
    groupings = _groupings(nest)
    eb = element_bits(layout.n_elements("O"))
    # Readiness: first/last touch of every (instance, output element), per instance layout of O's groupings.
    o_instances = {served: layout.instances(served) for _, served in groupings["O"]} if readiness else {}
    first = {sv: np.full(n << eb, np.iinfo(np.int64).max, dtype=np.int64) for sv, (_, n) in o_instances.items()}
    last = {sv: np.full(n << eb, -1, dtype=np.int64) for sv, (_, n) in o_instances.items()}
    replays = {(op, top, served): TileReplay(layout, op, top, served, None)
               for op in OPERANDS for top, served in groupings[op] if op != "O" or not readiness}
    log_stream, own_stream = (open(mac_log, "w") if isinstance(mac_log, str) else mac_log), isinstance(mac_log, str)
    writer = None
    if log_stream is not None:
        writer = MacLogWriter(log_stream, (g.B, g.G, g.K, g.OY, g.OX), (g.B, g.G, g.C, g.y.inp, g.x.inp),
                              (g.G, g.K, g.C, g.y.kernel, g.x.kernel))
    macs = cycles = 0
    cache: list | None = [] if readiness and layout.n_steps * layout.n_pe <= CACHE_ITERATIONS else None
    try:
        for block in blocks(layout):
            mac = block.mac
            macs += int(np.count_nonzero(mac))
            cycles += int(np.count_nonzero(mac.any(axis=1)))
            t_out, t_in, w_idx = block.true_out[mac], block.true_in[mac], block.elem["W"][mac]
            iv = np.where(t_in >= 0, i_flat[np.maximum(t_in, 0)], 0)
            wv = w_flat[w_idx]
            real = t_out >= 0
            acc += np.bincount(t_out[real], weights=(iv * wv)[real].astype(np.float64), minlength=n_out)
            if writer is not None:
                rows, pes = np.nonzero(mac)
                writer.write_block(block.step0, rows, pes, t_out, t_in, w_idx, iv, wv)
            grids = {op: np.where(mac, block.elem[op], -1) for op in OPERANDS}
            if readiness:
                steps = np.broadcast_to(np.arange(block.step0, block.step0 + block.n_steps)[:, None], mac.shape)[mac]
                for sv, (inst_of_pe, _) in o_instances.items():
                    key = ((inst_of_pe << eb)[None, :] | grids["O"])[mac]
                    np.minimum.at(first[sv], key, steps)
                    np.maximum.at(last[sv], key, steps)
                if cache is not None:
                    cache.append((block, grids["O"]))
            for (op, _, _), replay in replays.items():
                replay.feed(block, grids[op])
        if writer is not None:
            log_stream.write(f"# summary macs={macs} compute_cycles={cycles}\n")
    finally:
        if own_stream:
            log_stream.close()
    if readiness:
        o_replays = {("O", top, sv): TileReplay(layout, "O", top, sv, Touches(first[sv], last[sv], layout.n_steps))
                     for top, sv in groupings["O"]}
        if cache is None:
            cache = ((block, np.where(block.mac, block.elem["O"], -1)) for block in blocks(layout))
        for block, grid in cache:
            for replay in o_replays.values():
                replay.feed(block, grid)
        replays.update(o_replays)
    seqs = {key: r.finish() for key, r in replays.items()}
    g = nest.geometry
    outputs = np.rint(acc).astype(np.int64).reshape(g.B, g.G, g.K, g.OY, g.OX)
    return assemble(nest, filter, readiness, macs, cycles, seqs, outputs, d)
