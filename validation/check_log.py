"""Recompute MACs, compute cycles and partial sums from a MAC log (validation.maclog format).

    python -m validation.check_log LOGFILE [--json]

Reads every MAC line and checks it on its own terms:
- MACs = MAC lines; compute cycles = distinct `cycle` values (they must be 0, 1, 2, ... and follow the
  steps in order); partial sums = MACs that update a real output (the seed's "partial sums");
- every input and weight index always carries the same value;
- each line's partial sum is the output's previous partial sum plus input * weight (the chain starts
  at 0), so the final value of every output is the sum of its products;
- the `# summary` line the simulator writes agrees with the recount.
Exit status 0 when everything holds.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from validation.maclog import parse_line

__all__ = ["check_log"]

SUMMARY = re.compile(r"^# summary macs=(\d+) compute_cycles=(\d+)")


def check_log(path: str) -> dict:
    macs = psums = 0
    cycles: list[int] = []
    last_step = -1
    values: dict[tuple, int] = {}
    running: dict[tuple, int] = {}
    contributions: dict[tuple, int] = {}
    problems: list[str] = []
    summary = None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith("#"):
                m = SUMMARY.match(line)
                if m:
                    summary = (int(m[1]), int(m[2]))
                continue
            rec = parse_line(line)
            if rec is None:
                if line.strip():
                    problems.append(f"line {n}: not a MAC line")
                continue
            macs += 1
            if rec["step"] < last_step:
                problems.append(f"line {n}: step {rec['step']} after step {last_step}")
            if rec["step"] != last_step:
                cycles.append(rec["cycle"])
                last_step = rec["step"]
            for key, val in ((("I", rec["inp"]), rec["iv"]), (("W", rec["w"]), rec["wv"])):
                if key[1] is None:
                    if val != 0:
                        problems.append(f"line {n}: padding input with value {val}")
                    continue
                if values.setdefault(key, val) != val:
                    problems.append(f"line {n}: {key[0]}{list(key[1])} was {values[key]}, now {val}")
            if rec["out"] is not None:
                psums += 1
                expect = running.get(rec["out"], 0) + rec["iv"] * rec["wv"]
                if rec["psum"] != expect:
                    problems.append(f"line {n}: partial sum {rec['psum']}, expected {expect}")
                running[rec["out"]] = expect
                contributions[rec["out"]] = contributions.get(rec["out"], 0) + 1
    if cycles != list(range(len(cycles))):
        problems.append("compute cycles are not numbered 0, 1, 2, ... in step order")
    result = {
        "macs": macs,
        "compute_cycles": len(cycles),
        "partial_sums": psums,
        "outputs": len(running),
        "contributions_per_output": {"min": min(contributions.values(), default=0),
                                     "max": max(contributions.values(), default=0)},
        "summary": None if summary is None else {"macs": summary[0], "compute_cycles": summary[1]},
        "problems": problems[:20],
    }
    if summary is not None and summary != (macs, len(cycles)):
        problems.append(f"summary says {summary}, recount gives {(macs, len(cycles))}")
    result["ok"] = not problems
    result["final_outputs"] = {",".join(map(str, k)): v for k, v in sorted(running.items())}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Recompute MACs, compute cycles and partial sums from a MAC log.")
    parser.add_argument("log")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--outputs", action="store_true", help="include every output's final value")
    args = parser.parse_args(argv)
    res = check_log(args.log)
    if not args.outputs:
        res.pop("final_outputs")
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"MACs {res['macs']}, compute cycles {res['compute_cycles']}, partial sums {res['partial_sums']}, "
              f"outputs {res['outputs']}: {'consistent' if res['ok'] else 'PROBLEMS'}")
        for p in res["problems"]:
            print("  " + p)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
