"""Single-core numbers of the comparison report: every MAC layer of a network on one ZigZag accelerator, costed four
ways, each the best mapping of its own search (ranked as Stream ranks: latency, then energy).

- ``frame-WS`` / ``frame-OS``: plain ZigZag on the layer's output-centric (frame-based) form (loops ``B, K, C, OY,
  OX, FY, FX``, padding and stride in ZigZag's own fields). One LOMA search per layer; ``frame-WS`` is the best
  mapping whose innermost temporal loop is irrelevant to the weights (``B``, ``OY`` or ``OX``: consecutive steps
  reuse the weight in the MAC's register), ``frame-OS`` the best whose innermost temporal loop is irrelevant to the
  output (``C``, ``FY`` or ``FX``: consecutive steps accumulate into the same output). A layer without such a loop
  (a fully-connected layer at batch 1 has no loop irrelevant to W) gets the best mapping of all, flagged.
- ``event-raw``: plain ZigZag on the input-centric form (``zz_event.readers.workloads``; ``B, K, C, IY, IX, FY, FX``).
- ``event``: the same search ranked on zz-event's corrected costs (the stage list ``run_zigzag_event_driven``
  builds), in the same run: a stage below the correction stage sees ZigZag's raw CMEs and keeps the best of those
  (= ``event-raw``), one above it the best corrected CME (= ``event``) and the best corrected CME whose innermost
  temporal loop is irrelevant to the input (``K``, ``FY`` or ``FX``: ``event-IS``, input-stationary: an input
  stays in the MAC's register for consecutive taps, the input-triggered dataflow).

Every layer is written with one precision for all operands (the report uses Stream's: 32-bit, from LeNet-5's
float32 tensors) and both inputs constant, so a layer here is exactly the node Stream costs on one core.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zigzag.stages.stage import Stage

from zz_event.engine.result import EngineOptions
from zz_event.model.geometry import ConvGeometry
from zz_event.model.vocabulary import FRAME_COSTINGS
from zz_event.readers.layers import CONV_EQUATION, CONV_RELATIONS, read_yaml_list
from zz_event.readers.mappings import load_mapping
from zz_event.readers.workloads import load_workload
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import EventDrivenCorrectionStage

__all__ = ["ReportLayer", "SearchSettings", "event_search", "frame_search", "mac_layers"]

_IRRELEVANT = {"frame-WS": frozenset({"B", "OY", "OX"}), "frame-OS": frozenset({"C", "FY", "FX"})}
_INPUT_IRRELEVANT = frozenset({"K", "FY", "FX"})  # input-centric I[b][c][iy][ix]: an input stays for all its taps

@dataclass(frozen=True)
class ReportLayer:
    """A convolution or matrix product of the network, with its true geometry."""

    name: str
    op_type: str
    geometry: ConvGeometry

@dataclass(frozen=True)
class SearchSettings:
    """The ZigZag search of every single-core run: accelerator and mapping files, LOMA's prime-factor limit and the
    precision (bits) of every operand."""

    accelerator: str
    mapping: str
    lpf_limit: int = 6
    precision: int = 32
    opt: str = "latency"

def mac_layers(onnx_path: str | Path, only: tuple[str, ...] = ()) -> tuple[ReportLayer, ...]:
    """The layers of ``onnx_path`` zz-event corrects (Conv, Gemm, MatMul), in network order."""
    prepared = load_workload(str(onnx_path))
    return tuple(
        ReportLayer(name, prepared.origins[name].op_type, geo)
        for name, geo in prepared.geometry.items()
        if not only or name in only
    )

def frame_search(layers: tuple[ReportLayer, ...], settings: SearchSettings) -> dict[str, dict[str, Any]]:
    """{layer: {"frame-WS": cme, "frame-OS": cme, "frame-WS note": str, ...}} from one plain-ZigZag LOMA search per
    output-centric layer."""
    sink: dict[str, dict[str, Any]] = {}
    tests = {label: _innermost_in(dims) for label, dims in _IRRELEVANT.items()} | {"any": lambda _cme: True}
    collector = type("FrameCollector", (BestByCategoryStage,), {"sink": sink, "tests": tests})
    workload = [output_centric(layer, i, settings.precision) for i, layer in enumerate(layers)]
    with tempfile.TemporaryDirectory(prefix="zz-event-report-") as dump:
        run = _run_settings(settings)
        main_stage(build_stages(run, [collector]), run, accelerator=settings.accelerator, workload=workload,
                   mapping=_mapping_data(settings.mapping), **_dump(dump)).run()
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        best = sink.get(layer.name, {})
        out[layer.name] = {}
        for label in FRAME_COSTINGS:
            found = label in best
            out[layer.name][label] = best[label] if found else best["any"]
            out[layer.name][f"{label} note"] = "" if found else _no_category_note(label)
    return out

def event_search(layers: tuple[ReportLayer, ...], settings: SearchSettings) -> dict[str, dict[str, Any]]:
    """{layer: {"event-raw": ZigZag's cme, "event": CorrectedCME, "event-IS": CorrectedCME}} from one zz-event run
    of the input-centric layers: ZigZag's stage list with the correction stage above the temporal-mapping generator
    (as ``run_zigzag_event_driven`` builds it), a collector above it (corrected CMEs) and one below it (raw CMEs)."""
    corrected: dict[str, dict[str, Any]] = {}
    raw: dict[str, dict[str, Any]] = {}
    tests = {"event": lambda _cme: True, "event-IS": _innermost_in(_INPUT_IRRELEVANT)}
    above = type("EventCollector", (BestByCategoryStage,), {"sink": corrected, "tests": tests})
    below = type("RawCollector", (BestByCategoryStage,), {"sink": raw, "tests": {"event-raw": lambda _cme: True}})
    prepared = load_workload([input_centric(layer, i, settings.precision) for i, layer in enumerate(layers)])
    with tempfile.TemporaryDirectory(prefix="zz-event-report-") as dump:
        run = _run_settings(settings)
        correction = CorrectionSettings.for_workload(prepared, options=EngineOptions(filter=True, readiness=True))
        main_stage(build_stages(run, [above, EventDrivenCorrectionStage, below]), run, correction,
                   accelerator=settings.accelerator, workload=prepared.zigzag_workload,
                   mapping=load_mapping(settings.mapping, prepared), **_dump(dump)).run()
    return {layer.name: {**corrected[layer.name], **raw[layer.name]} for layer in layers}

def _run_settings(settings: SearchSettings) -> RunSettings:
    """ZigZag's knobs for a report search: one spatial mapping (the mapping file's), no progress bars."""
    return RunSettings(opt=settings.opt, lpf_limit=settings.lpf_limit, loma_show_progress_bar=False,
                       nb_spatial_mappings_generated=1)  # fmt: skip

def _dump(dump: str) -> dict[str, str]:
    return {"dump_folder": dump, "pickle_filename": str(Path(dump) / "cmes.pickle")}

class BestByCategoryStage(Stage):
    """Sits directly above the temporal-mapping generator and passes every CME up unchanged; records in ``sink``,
    per layer and per category of ``tests`` the CME accepts, the best one (latency, then energy: as ZigZag's
    ``MinimalLatencyStage``). Subclassed with ``sink`` and ``tests`` bound (ZigZag instantiates stages itself)."""

    sink: dict[str, dict[str, Any]]
    tests: dict[str, Callable[[Any], bool]]

    def run(self):
        substage = self.list_of_callables[0](self.list_of_callables[1:], **self.kwargs)
        for cme, extra_info in substage.run():
            best = self.sink.setdefault(cme.layer.name, {})
            key = (cme.latency_total2, cme.energy_total)
            for label, accepts in self.tests.items():
                if accepts(cme) and (label not in best or key < (best[label].latency_total2, best[label].energy_total)):
                    best[label] = cme
            yield cme, extra_info

def temporal_ordering(cme: Any) -> tuple[tuple[str, int], ...]:
    """The temporal loops of a CME, innermost first (every operand has the same ordering)."""
    levels = next(iter(cme.temporal_mapping.mapping_dic_origin.values()))
    return tuple((str(dim), int(round(size))) for level in levels for dim, size in level)

def _innermost_in(dims: frozenset[str]) -> Callable[[Any], bool]:
    def accepts(cme: Any) -> bool:
        loops = [dim for dim, size in temporal_ordering(cme) if size > 1]
        return bool(loops) and loops[0] in dims

    return accepts

def _no_category_note(label: str) -> str:
    operand = "the weights" if label == "frame-WS" else "the output"
    return f"no mapping has a temporal loop irrelevant to {operand}: best of all orderings"

def output_centric(layer: ReportLayer, layer_id: int, precision: int) -> dict[str, Any]:
    """The frame-based ZigZag layer: output loops, stride and dilation in the relations, padding in ZigZag's fields."""
    g = layer.geometry
    return {
        "id": layer_id, "name": layer.name, "operator_type": "Conv" if layer.op_type == "Conv" else "Gemm",
        "equation": CONV_EQUATION,
        "dimension_relations": [f"ix={g.x.stride}*ox+{g.x.dilation}*fx", f"iy={g.y.stride}*oy+{g.y.dilation}*fy"],
        "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
        "loop_sizes": [g.B, g.K, g.C, g.OY, g.OX, g.y.kernel, g.x.kernel],
        "pr_loop_dims": ["IY", "IX"], "pr_loop_sizes": [g.y.inp, g.x.inp],
        "padding": [[g.y.pad_before, g.y.pad_after], [g.x.pad_before, g.x.pad_after]],
        "operand_precision": _precision(precision), "operand_source": {"I": layer_id, "W": layer_id},
    }  # fmt: skip

def input_centric(layer: ReportLayer, layer_id: int, precision: int) -> dict[str, Any]:
    """The input-centric layer zz-event writes, with the true stride, dilation and padding in its zz_event block."""
    g = layer.geometry
    return {
        "id": layer_id, "name": layer.name, "operator_type": "Conv" if layer.op_type == "Conv" else "Gemm",
        "equation": CONV_EQUATION, "dimension_relations": list(CONV_RELATIONS),
        "loop_dims": ["B", "K", "C", "IY", "IX", "FY", "FX"],
        "loop_sizes": [g.B, g.K, g.C, g.y.inp, g.x.inp, g.y.kernel, g.x.kernel],
        "operand_precision": _precision(precision), "operand_source": {"I": layer_id, "W": layer_id},
        "zz_event": {"stride": [g.y.stride, g.x.stride], "dilation": [g.y.dilation, g.x.dilation],
                     "padding": [g.y.pad_before, g.y.pad_after, g.x.pad_before, g.x.pad_after]},
    }  # fmt: skip

def _precision(bits: int) -> dict[str, int]:
    return {"W": bits, "I": bits, "O": bits, "O_final": bits}

def _mapping_data(path: str) -> list[dict[str, Any]]:

    return read_yaml_list(Path(path), "mapping", "layer or operator type")

