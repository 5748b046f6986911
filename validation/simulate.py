"""Replay, layer by layer, exactly what `zz-event run` costs, with the reference simulator.

    python -m validation.simulate --workload W --accelerator A --mapping M [--opt latency|energy|EDP]
                                  [--no-filter] [--no-readiness] [--mac-log DIR] [--lpf-limit N] [--json]

The files go through the same path as `zz-event run`: `zz_event.readers.workloads.load_workload` converts every
convolution and matrix product (ONNX, output- or input-centric YAML) to its input-centric form with its true
stride, padding and dilation, `zz_event.readers.mappings.load_mapping` adapts the mapping (with the same
`MappingTranslationWarning` for entries naming OY/OX), and `zz_event.run_zigzag_event_driven` with the
same options picks each layer's mapping. Each corrected layer's chosen mapping becomes a `LoopNest` with
that true geometry (`nest_from_cme`) and is simulated; the counting is the simulator's own. Per layer it
prints the layer as run sees it (loop sizes, temporal ordering, spatial mapping), MACs, compute cycles,
word accesses and whether the simulated arithmetic equals the reference convolution (numpy; for ONNX
workloads also `onnx.reference.ReferenceEvaluator`). Exit status: 0, 1 if an output differs from the
reference, 2 (one line, no traceback) on bad input.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import warnings
from pathlib import Path

from validation.reference import onnx_reference_conv
from validation.simulator import simulate
from zz_event.commands.options import OneLineParser, positive_int
from zz_event.engine.result import EngineOptions
from zz_event.errors import MappingError, ZzEventError
from zz_event.model.vocabulary import DIRECTIONS
from zz_event.output_files import check_output_dir
from zz_event.readers.inputs import read_zigzag_inputs
from zz_event.zigzag.adapter import nest_from_cme
from zz_event.zigzag.pipeline import NO_MAPPING_FITS
from zz_event.zigzag.result import layer_result, layer_results

__all__ = ["chosen_cmes", "main", "run_choices", "simulate_workload"]

EXIT_BAD_INPUT = 2


def _collect(obj, out: list) -> None:
    if hasattr(obj, "layer") and hasattr(obj, "temporal_mapping"):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _collect(item, out)


def chosen_cmes(workload: str, accelerator: str, mapping: str, lpf_limit: int = 6) -> list:
    """Raw ZigZag's own choice per layer (no conversion, no correction): for comparisons with ZigZag."""
    from zigzag.api import get_hardware_performance_zigzag

    with tempfile.TemporaryDirectory() as dump:
        result = get_hardware_performance_zigzag(
            workload, accelerator, mapping, dump_folder=dump, loma_show_progress_bar=False, lpf_limit=lpf_limit
        )
    cmes: list = []
    _collect(result[-1], cmes)
    return cmes


def run_choices(workload: str, accelerator: str, mapping: str, *, opt: str = "latency", lpf_limit: int = 6,
                options: EngineOptions | None = None):
    """(prepared workload, the CME `zz-event run` keeps for each layer, in layer order)."""
    from zz_event.readers.hardware import check_accelerator
    from zz_event.readers.mappings import load_mapping
    from zz_event.readers.workloads import load_workload
    from zz_event.zigzag.front_door import run_zigzag_event_driven

    check_accelerator(accelerator)
    prepared = load_workload(workload)
    with warnings.catch_warnings():  # the run below warns about translated entries, as zz-event run does
        warnings.simplefilter("ignore")
        entries = load_mapping(mapping, prepared)
    _check_orderings(prepared, entries, mapping)
    with tempfile.TemporaryDirectory() as dump:
        _energy, _latency, cmes = run_zigzag_event_driven(
            workload, accelerator, mapping, opt=opt, lpf_limit=lpf_limit, dump_folder=dump,
            loma_show_progress_bar=False, event_driven=options or EngineOptions(),
        )
    return prepared, [layer.cme for layer in layer_results(cmes)]


def _check_orderings(prepared, entries: list[dict], source: str) -> None:
    """ZigZag 3.9.1 fails with a traceback deep in LOMA (`reduce_static_fps`: a factor that does not divide
    what the spatial unrolling leaves of its dimension) or in `is_complete` (a loop over a dimension of
    size 1, which ZigZag drops from the layer): refuse such a mapping in one line instead."""
    from zz_event.readers.mappings import entry_for_layer

    for layer in prepared.zigzag_workload:
        entry = entry_for_layer(entries, layer, prepared)
        sizes = dict(zip((str(d).upper() for d in layer["loop_dims"]), layer["loop_sizes"]))
        spatial: dict[str, int] = {}
        for unrolls in (entry.get("spatial_mapping") or {}).values():
            for item in unrolls:
                dim, _, size = str(item).partition(",")
                if size.strip().isdigit():  # ZigZag caps an unrolling at the layer size
                    dim = dim.strip().upper()
                    spatial[dim] = spatial.get(dim, 1) * min(int(size), sizes.get(dim, 1))
        for dim, size in entry.get("temporal_ordering") or []:
            dim = str(dim).upper()
            if str(size) == "*":
                continue
            left = -(-sizes.get(dim, 1) // spatial.get(dim, 1))
            if sizes.get(dim, 1) <= 1 or int(size) < 1 or left % int(size):
                raise MappingError(
                    f"temporal_ordering of entry {entry['name']!r} has [{dim}, {size}] but layer {layer['name']!r} "
                    f"has {dim} = {sizes.get(dim, 1)} ({left} after spatial unrolling); ZigZag needs each factor to "
                    f"divide that and no loop over a dimension of size 1", source)


def _structure(prepared, cme, name: str) -> dict:
    layer, result = prepared.layer(name), layer_result(cme)
    return {"loop_sizes": dict(zip(map(str, layer["loop_dims"]), layer["loop_sizes"])),
            "temporal_ordering": [list(loop) for loop in result.temporal_ordering],
            "spatial_mapping": {oa: {d: int(round(s)) for d, s in single.items()}
                                for oa, single in result.spatial_mapping.items()}}


def simulate_workload(workload: str, accelerator: str, mapping: str, filter: bool = True, readiness: bool = True,
                      mac_log_dir: str | None = None, lpf_limit: int = 6, opt: str = "latency") -> list[dict]:
    options = EngineOptions(filter=filter, readiness=readiness)
    prepared, cmes = run_choices(workload, accelerator, mapping, opt=opt, lpf_limit=lpf_limit, options=options)
    rows = []
    for cme in cmes:
        name = str(cme.layer.name)
        if name not in prepared.geometry:
            rows.append({"name": name, "skipped": prepared.uncorrected.get(name, "not a convolution")})
            continue
        geometry = prepared.geometry[name]
        nest = nest_from_cme(cme, geometry, "input")
        log = str(Path(mac_log_dir) / f"{name}.maclog") if mac_log_dir else None
        res = simulate(nest, filter=filter, readiness=readiness, mac_log=log)
        row = {"name": name, "centric": nest.centric, **_structure(prepared, cme, name), "macs": res.macs,
               "iterations": res.iterations, "compute_cycles": res.compute_cycles,
               "word_accesses": res.word_accesses(), "element_accesses": res.element_accesses(),
               "energy_pj": res.energy_pj, "latency_cycles": res.latency_cycles,
               "output_matches_reference": res.output_matches_reference}
        if str(workload).endswith(".onnx"):
            onnx_out = onnx_reference_conv(geometry, res.inputs, res.weights)
            row["output_matches_onnx_reference"] = bool((onnx_out == res.outputs).all())
        rows.append(row)
    return rows


def _print_rows(rows: list[dict]) -> None:
    for r in rows:
        if "skipped" in r:
            print(f"{r['name']}: skipped ({r['skipped']})")
            continue
        loops = " ".join(f"{d}={s}" for d, s in r["loop_sizes"].items())
        ordering = " ".join(f"{d}{s}" for d, s in r["temporal_ordering"])
        spatial = "; ".join(f"{a}: " + " ".join(f"{d}{s}" for d, s in u.items())
                            for a, u in r["spatial_mapping"].items())
        print(f"{r['name']} ({r['centric']}-centric {loops}; temporal {ordering} (inner to outer); spatial {spatial})")
        print(f"  {r['macs']} MACs, {r['compute_cycles']} compute cycles, "
              f"output matches reference: {r['output_matches_reference']}")
        for op, levels in r["word_accesses"].items():
            for lv in levels:
                print(f"  {op} {lv['memory']}: " + ", ".join(f"{d}={lv[d]}" for d in DIRECTIONS))


def main(argv=None) -> int:
    parser = OneLineParser(prog="python -m validation.simulate",
                           description="Replay what `zz-event run` costs with the reference simulator.")
    parser.add_argument("--workload", required=True, help="ONNX model, or ZigZag workload YAML")
    parser.add_argument("--accelerator", required=True)
    parser.add_argument("--mapping", required=True)
    parser.add_argument("--opt", choices=["latency", "energy", "EDP"], default="latency", help="as zz-event run's")
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
        read_zigzag_inputs(args.workload, args.accelerator, args.mapping, warn=False)
        if args.mac_log:
            Path(args.mac_log).mkdir(parents=True, exist_ok=True)
        rows = simulate_workload(args.workload, args.accelerator, args.mapping, not args.no_filter,
                                 not args.no_readiness, args.mac_log, args.lpf_limit, args.opt)
    except NO_MAPPING_FITS as error:
        print(f"{parser.prog}: error: ZigZag finds no mapping that fits: {str(error).splitlines()[0]}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ZzEventError, OSError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "element_accesses"} for r in rows], indent=2))
    else:
        _print_rows(rows)
    checks = ("output_matches_reference", "output_matches_onnx_reference")
    return 1 if any(r.get(c) is False for r in rows for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
