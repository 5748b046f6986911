"""One line per executed MAC, in the spirit of the seed's NPE logs (seeds/002), and its parser.

Format (one MAC per line, in execution order: step by step, PE by PE within a step):

    cycle 3 step 12 NPE 5: Output[0, 0, 5, 1, 2] += Input[0, 0, 0, 3, 4] * Weight[0, 5, 0, 1, 1] = 3 * -2 -> 17

`cycle` counts compute cycles (steps with at least one MAC) from 0, `step` is the temporal step id and
`NPE` the processing element (mixed radix over the spatial loops). Output is (b, g, k, oy, ox) or `-`
when the MAC reaches no real output (dense replays of input-centric layers); Input is (b, g, c, iy, ix)
or `pad` for a padding position (value 0); Weight is (g, k, c, fy, fx). The number after `->` is the
output's partial sum after this MAC (`-` without an output). Lines starting with `#` are comments; the
simulator ends the log with `# summary macs=<n> compute_cycles=<n>`.
"""

from __future__ import annotations

import re
from typing import IO

import numpy as np

__all__ = ["LINE", "MacLogWriter", "parse_line"]

LINE = re.compile(
    r"^cycle (?P<cycle>\d+) step (?P<step>\d+) NPE (?P<pe>\d+): "
    r"Output\[(?P<out>[^\]]*)\] \+= Input\[(?P<inp>[^\]]*)\] \* Weight\[(?P<w>[^\]]*)\] = "
    r"(?P<iv>-?\d+) \* (?P<wv>-?\d+) -> (?P<psum>-?\d+|-)$"
)


def _index(text: str) -> tuple[int, ...] | None:
    return None if text in ("-", "pad") else tuple(int(v) for v in text.split(","))


def parse_line(line: str) -> dict | None:
    m = LINE.match(line.strip())
    if not m:
        return None
    return {
        "cycle": int(m["cycle"]), "step": int(m["step"]), "pe": int(m["pe"]),
        "out": _index(m["out"]), "inp": _index(m["inp"]), "w": _index(m["w"]),
        "iv": int(m["iv"]), "wv": int(m["wv"]), "psum": None if m["psum"] == "-" else int(m["psum"]),
    }


class MacLogWriter:
    """Streams MAC lines to a text file; keeps its own running partial sums."""

    def __init__(self, stream: IO[str], out_shape, in_shape, w_shape) -> None:
        self.stream = stream
        self.out_shape, self.in_shape, self.w_shape = out_shape, in_shape, w_shape
        self.psum = np.zeros(int(np.prod(out_shape)), dtype=np.int64)
        self.cycle = 0

    def write_block(self, step0: int, rows: np.ndarray, pes: np.ndarray, true_out: np.ndarray, true_in: np.ndarray,
                    w_idx: np.ndarray, iv: np.ndarray, wv: np.ndarray) -> None:
        fmt = lambda idx, shape: ", ".join(str(v) for v in np.unravel_index(idx, shape))  # noqa: E731
        lines = []
        prev_row = None
        for r, p, o, i, w, a, b in zip(rows.tolist(), pes.tolist(), true_out.tolist(), true_in.tolist(),
                                       w_idx.tolist(), iv.tolist(), wv.tolist()):
            if prev_row is not None and r != prev_row:
                self.cycle += 1
            prev_row = r
            if o >= 0:
                self.psum[o] += a * b
                out_txt, psum_txt = fmt(o, self.out_shape), str(int(self.psum[o]))
            else:
                out_txt, psum_txt = "-", "-"
            in_txt = fmt(i, self.in_shape) if i >= 0 else "pad"
            lines.append(f"cycle {self.cycle} step {step0 + r} NPE {p}: Output[{out_txt}] += Input[{in_txt}] * "
                         f"Weight[{fmt(w, self.w_shape)}] = {a} * {b} -> {psum_txt}\n")
        if prev_row is not None:
            self.cycle += 1
        self.stream.write("".join(lines))
