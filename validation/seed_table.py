"""The seed's three-way table (seeds/002) for its 5x5 toy layer, replayed with the seed's own counting rules.

The thesis student counted word accesses with three small scripts, one per execution model, for the toy
layer I 1x1x5x5, W 8x1x3x3, O 1x8x3x3 (stride 1, no padding, the 8 output channels on 8 NPEs in parallel):

- frame_based (`convolve_actual_frame_ws` / `calculate_metrics`): loops fx, fy, ox, oy. One weight
  vector (all k) per (fx, fy); one input word, one output read and one output write per (fx, fy, ox, oy);
  a partial sum per valid (k, c) MAC.
- zigzag (`zigzag_weight_access_partial_sum`, ZigZag's input-stationary view): loops iy, ix, fy, fx.
  One input word per (iy, ix); one weight vector, one output read and one output write per
  (iy, ix, fy, fx), valid or not; K*C partial sums per (iy, ix, fy, fx).
- event_driven (`event_driven_calculation`): the same loops, but weights, outputs and partial sums are
  counted only when (iy - fy, ix - fx) is a valid output (stride-aligned, in range).

    python -m validation.seed_table [--json]

These are the seed's *per-event* counts (one word per vector access, no reuse between consecutive
accesses); validation/README.md explains why the engine's event-driven numbers for the same mapping are
W 77 and O 72/81 instead of 81 and 81/81.
"""

from __future__ import annotations

import argparse
import json

__all__ = ["event_driven", "frame_based", "seed_table", "zigzag"]

TOY = {"B": 1, "K": 8, "C": 1, "IY": 5, "IX": 5, "FY": 3, "FX": 3, "S": 1}


def _out(n: int, f: int, s: int) -> int:
    return (n - f) // s + 1


def frame_based(K=8, C=1, IY=5, IX=5, FY=3, FX=3, S=1, **_) -> dict:
    OY, OX = _out(IY, FY, S), _out(IX, FX, S)
    acc = {"I": 0, "W": 0, "O_rd": 0, "O_wr": 0, "partial_sums": 0}
    for fx in range(FX):
        for fy in range(FY):
            acc["W"] += 1  # one weight vector (all k) per tap
            for ox in range(OX):
                for oy in range(OY):
                    acc["I"] += 1
                    acc["O_rd"] += 1
                    for _k in range(K):
                        for _c in range(C):
                            if 0 <= oy * S + fy < IY and 0 <= ox * S + fx < IX:
                                acc["partial_sums"] += 1
                    acc["O_wr"] += 1
    return {"rule": "seed convolve_actual_frame_ws / calculate_metrics: loops fx, fy, ox, oy; W once per (fx, fy); "
                    "I, O read and O write once per (fx, fy, ox, oy); one partial sum per valid (k, c) MAC",
            **acc}


def zigzag(K=8, C=1, IY=5, IX=5, FY=3, FX=3, **_) -> dict:
    acc = {"I": 0, "W": 0, "O_rd": 0, "O_wr": 0, "partial_sums": 0}
    for _iy in range(IY):
        for _ix in range(IX):
            acc["I"] += 1  # one input per (iy, ix)
            for _fy in range(FY):
                for _fx in range(FX):
                    acc["W"] += 1
                    acc["O_rd"] += 1
                    acc["O_wr"] += 1
                    acc["partial_sums"] += K * C  # every (iy, ix, fy, fx) counts, valid or not
    return {"rule": "seed zigzag_weight_access_partial_sum (ZigZag input-stationary): loops iy, ix, fy, fx; "
                    "I once per (iy, ix); W, O read and O write once per (iy, ix, fy, fx), valid or not; "
                    "K*C partial sums each",
            **acc}


def event_driven(K=8, C=1, IY=5, IX=5, FY=3, FX=3, S=1, **_) -> dict:
    OY, OX = _out(IY, FY, S), _out(IX, FX, S)
    acc = {"I": 0, "W": 0, "O_rd": 0, "O_wr": 0, "partial_sums": 0}
    for iy in range(IY):
        for ix in range(IX):
            acc["I"] += 1  # the input event arrives once
            for fy in range(FY):
                for fx in range(FX):
                    oy, ox = (iy - fy) // S, (ix - fx) // S
                    if 0 <= oy < OY and 0 <= ox < OX and (iy - fy) % S == 0 and (ix - fx) % S == 0:
                        acc["W"] += 1  # one weight vector access per valid (iy, ix, fy, fx)
                        acc["O_rd"] += 1
                        acc["O_wr"] += 1
                        acc["partial_sums"] += K * C
    return {"rule": "seed event_driven_calculation: loops iy, ix, fy, fx; I once per (iy, ix); W, O read and O write "
                    "once per valid (iy, ix, fy, fx) (stride-aligned, in range); K*C partial sums each",
            **acc}


def seed_table(layer: dict | None = None) -> dict[str, dict]:
    layer = layer or TOY
    return {"frame_based": frame_based(**layer), "zigzag": zigzag(**layer), "event_driven": event_driven(**layer)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="The seed's frame-based / ZigZag / event-driven table (5x5 toy).")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    table = seed_table()
    if args.json:
        print(json.dumps(table, indent=2))
        return
    print(f"{'':14s}{'I':>6s}{'W':>6s}{'O_rd':>6s}{'O_wr':>6s}{'psums':>7s}")
    for name, row in table.items():
        print(f"{name:14s}{row['I']:6d}{row['W']:6d}{row['O_rd']:6d}{row['O_wr']:6d}{row['partial_sums']:7d}")


if __name__ == "__main__":
    main()
