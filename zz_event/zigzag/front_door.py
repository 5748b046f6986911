"""zz-event's front door: ZigZag's search, ranked on exact event-driven costs.

    from zz_event import run_zigzag_event_driven
    energy, latency, cmes = run_zigzag_event_driven("inputs/toy/workload.yaml",
                                                    "inputs/toy/hardware.yaml", "inputs/toy/mapping.yaml")

`run_zigzag_event_driven` takes what `zigzag.api.get_hardware_performance_zigzag` takes and returns the
same shapes. Convolutions and matrix products (from ONNX, output-centric YAML or input-centric YAML) are
run input-centric and every temporal mapping ZigZag evaluates is corrected before ZigZag ranks it; the
returned CMEs are `CorrectedCME`s carrying ZigZag's raw figures in `.raw`. Other layers keep ZigZag's own
cost and carry a `zz_event_uncorrected` reason. An ONNX workload gives the layers ZigZag's own parser
gives (Conv, Gemm, MatMul); `zz_event.readers.workloads.load_workload(path).skipped` lists the nodes left out.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Literal

from onnx import ModelProto

from zz_event.engine.result import EngineOptions
from zz_event.readers.inputs import read_zigzag_inputs
from zz_event.zigzag.data import cost_on_samples, masks_for_run
from zz_event.zigzag.pipeline import build_stages, main_stage
from zz_event.zigzag.settings import CorrectionSettings, RunSettings
from zz_event.zigzag.stages import correction_stage

__all__ = ["run_zigzag_event_driven"]


def run_zigzag_event_driven(
    workload: str | list[dict[str, Any]] | ModelProto,
    accelerator: str,
    mapping: str,
    *,
    temporal_mapping_search_engine: Literal["loma", "salsa"] = "loma",
    temporal_mapping_type: Literal["uneven", "even"] = "uneven",
    opt: str = "latency",
    dump_folder: str | None = None,
    pickle_filename: str | None = None,
    lpf_limit: int = 6,
    nb_spatial_mappings_generated: int = 3,
    in_memory_compute: bool = False,
    exploit_data_locality: bool = False,
    enable_mix_spatial_mapping: bool = False,
    loma_show_progress_bar: bool = True,
    event_driven: EngineOptions = EngineOptions(),
    variants: tuple[EngineOptions, ...] = (),
    extra_stages: list | None = None,
    cost_pooling_and_add: bool = False,
    data: Any = None,
    calibration: int | None = None,
):
    """Drop-in for `zigzag.api.get_hardware_performance_zigzag` with event-driven correction.

    Extra keywords: `event_driven` (the two switches), `variants` (other switch settings to evaluate and
    keep on each CME), `extra_stages` (stages to place below the correction stage, which see every CME ZigZag
    builds, uncorrected),
    `cost_pooling_and_add` (ONNX pooling and Add as ZigZag's own layers; by default they are left out, as
    ZigZag's parser leaves them out), `data` (events from data: the network input, a .npy path or array
    (N, C, H, W), or "mnist:N" for the first N held-out MNIST digits, for an ONNX workload; mappings are ranked
    on the mean cost over the first `calibration` samples, all if None, then each layer's chosen mapping is
    costed on every sample: `LayerResult.data`).
    `dump_folder` defaults to `outputs/<time of the call>`, as ZigZag's does.
    Returns (energy, latency, cmes). `in_memory_compute`, `exploit_data_locality` and
    `enable_mix_spatial_mapping` are accepted for the same signature but refused (ZzEventError): the engine
    cannot follow them.
    """
    settings = RunSettings(
        temporal_mapping_search_engine, temporal_mapping_type, opt, lpf_limit, nb_spatial_mappings_generated,
        in_memory_compute, exploit_data_locality, enable_mix_spatial_mapping, loma_show_progress_bar,
    )
    inputs = read_zigzag_inputs(workload, accelerator, mapping, cost_pooling_and_add)
    prepared, mapping_input = inputs.workload, inputs.mapping
    if dump_folder is None:
        dump_folder = os.path.join("outputs", datetime.now().strftime("%Y-%m-%d_%H-%M-%S"))
    pickle_filename = pickle_filename or os.path.join(dump_folder, "list_of_cmes.pickle")
    masks = {} if data is None else masks_for_run(workload, data, prepared.geometry)
    correction = CorrectionSettings.for_workload(prepared, options=event_driven, variants=variants,
                                                 masks=masks, calibration=calibration)
    stages = build_stages(settings, [correction_stage(settings.opt), *(extra_stages or [])])
    cmes = main_stage(stages, settings, correction, accelerator=accelerator, workload=prepared.zigzag_workload,
                      mapping=mapping_input, dump_folder=dump_folder, pickle_filename=pickle_filename).run()
    if masks:
        cost_on_samples(cmes, correction)
    return cmes[0][0].energy_total, cmes[0][0].latency_total2, cmes

