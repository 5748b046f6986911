"""Run ZigZag, then replay each layer's chosen mapping with the reference simulator.

    python -m validation.simulate --workload W --accelerator A --mapping M [--no-filter] [--no-readiness]
                                  [--mac-log DIR] [--lpf-limit N] [--json]

ZigZag (`zigzag.api.get_hardware_performance_zigzag`, dump folder in a temporary directory) picks the
mapping of every layer; each CostModelEvaluation becomes a `LoopNest` (`zz_event.zigzag.adapter.
nest_from_cme`) and is simulated. The workload path is passed to ZigZag as is (YAML or ONNX). Per layer it
prints name, MACs, compute cycles, word accesses and whether the simulated arithmetic equals the
reference convolution (numpy; for ONNX workloads also `onnx.reference.ReferenceEvaluator`).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

from validation.reference import onnx_reference_conv
from validation.simulator import simulate
from zz_event.commands.options import OneLineParser, positive_int
from zz_event.errors import ZzEventError
from zz_event.model.vocabulary import DIRECTIONS
from zz_event.output_files import check_output_dir
from zz_event.readers.inputs import read_zigzag_inputs
from zz_event.zigzag.adapter import layer_is_correctable, nest_from_cme
from zz_event.zigzag.pipeline import NO_MAPPING_FITS

__all__ = ["chosen_cmes", "main", "simulate_workload"]


def _collect(obj, out: list) -> None:
    if hasattr(obj, "layer") and hasattr(obj, "temporal_mapping"):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _collect(item, out)


def chosen_cmes(workload: str, accelerator: str, mapping: str, lpf_limit: int = 6) -> list:
    """The CostModelEvaluation ZigZag chose for each layer, in layer order."""
    from zigzag.api import get_hardware_performance_zigzag

    with tempfile.TemporaryDirectory() as dump:
        result = get_hardware_performance_zigzag(
            workload, accelerator, mapping, dump_folder=dump, loma_show_progress_bar=False, lpf_limit=lpf_limit
        )
    cmes: list = []
    _collect(result[-1], cmes)
    return cmes


def simulate_workload(workload: str, accelerator: str, mapping: str, filter: bool = True, readiness: bool = True,
                      mac_log_dir: str | None = None, lpf_limit: int = 6) -> list[dict]:
    rows = []
    is_onnx = str(workload).endswith(".onnx")
    for cme in chosen_cmes(workload, accelerator, mapping, lpf_limit):
        name = str(cme.layer.name)
        reason = layer_is_correctable(cme.layer)
        if reason:
            rows.append({"name": name, "skipped": reason})
            continue
        nest = nest_from_cme(cme)
        log = str(Path(mac_log_dir) / f"{name}.maclog") if mac_log_dir else None
        res = simulate(nest, filter=filter, readiness=readiness, mac_log=log)
        row = {
            "name": name,
            "centric": nest.centric,
            "macs": res.macs,
            "iterations": res.iterations,
            "compute_cycles": res.compute_cycles,
            "word_accesses": res.word_accesses(),
            "element_accesses": res.element_accesses(),
            "energy_pj": res.energy_pj,
            "latency_cycles": res.latency_cycles,
            "output_matches_reference": res.output_matches_reference,
        }
        if is_onnx:
            data = {"I": res.inputs, "W": res.weights}
            onnx_out = onnx_reference_conv(nest.geometry, data["I"], data["W"])
            row["output_matches_onnx_reference"] = bool((onnx_out == res.outputs).all())
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = OneLineParser(prog="python -m validation.simulate",
                           description="Replay ZigZag's chosen mappings with the reference simulator.")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--accelerator", required=True)
    parser.add_argument("--mapping", required=True)
    parser.add_argument("--no-filter", action="store_true", help="dense: every loop iteration executes")
    parser.add_argument("--no-readiness", action="store_true", help="ZigZag's static partial-sum flags")
    parser.add_argument("--mac-log", metavar="DIR", help="write one MAC log per layer into DIR (small layers only)")
    parser.add_argument("--lpf-limit", type=positive_int, default=6)
    parser.add_argument("--json", action="store_true")
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed in one line
        return int(stop.code or 0)
    logging.disable(logging.WARNING)
    try:  # bad input: one line and exit 2 before ZigZag runs, as `zz-event run` does
        if args.mac_log:
            check_output_dir(args.mac_log, "--mac-log")
        read_zigzag_inputs(args.workload, args.accelerator, args.mapping)
    except ZzEventError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    if args.mac_log:
        Path(args.mac_log).mkdir(parents=True, exist_ok=True)
    try:
        rows = simulate_workload(args.workload, args.accelerator, args.mapping, not args.no_filter,
                                 not args.no_readiness, args.mac_log, args.lpf_limit)
    except NO_MAPPING_FITS as error:
        print(f"{parser.prog}: error: ZigZag finds no mapping that fits: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "element_accesses"} for r in rows], indent=2))
    else:
        for r in rows:
            if "skipped" in r:
                print(f"{r['name']}: skipped ({r['skipped']})")
                continue
            print(f"{r['name']}: {r['macs']} MACs, {r['compute_cycles']} compute cycles, "
                  f"output matches reference: {r['output_matches_reference']}")
            for op, levels in r["word_accesses"].items():
                for lv in levels:
                    dirs = ", ".join(f"{d}={lv[d]}" for d in DIRECTIONS)
                    print(f"  {op} {lv['memory']}: {dirs}")
    checks = ("output_matches_reference", "output_matches_onnx_reference")
    bad = [r["name"] for r in rows if any(r.get(c) is False for c in checks)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
