"""What a zz-event run asks of ZigZag (`RunSettings`) and what it adds to it (`CorrectionSettings`).

Both are frozen and checked when built, so a bad value fails in one line before ZigZag starts. ZigZag's
stages receive zz-event's settings as one keyword, `zz_event` (`zz_event.zigzag.pipeline.main_stage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from zz_event.engine.result import EngineOptions
from zz_event.errors import ZzEventError
from zz_event.model.geometry import ConvGeometry
from zz_event.model.vocabulary import OPT_TARGETS

__all__ = ["CorrectionSettings", "RunSettings"]

_CENTRICS = ("input", "output")
# ZigZag options whose costs the engine cannot follow: refused up front rather than silently mis-costed.
_UNFOLLOWED = {
    "in_memory_compute": "the engine models digital MAC arrays only, not ZigZag's in-memory-compute cost model",
    "exploit_data_locality": "inter-layer data locality changes what each layer reads from DRAM, which the engine "
                             "does not model",
    "enable_mix_spatial_mapping": "ZigZag 3.9.1's mixed spatial mappings fail in its own data-locality stage "
                                  "(KeyError 'I2') for every workload",
}


@dataclass(frozen=True)
class RunSettings:
    """ZigZag's own knobs, as `get_hardware_performance_zigzag` names them."""

    temporal_mapping_search_engine: Literal["loma", "salsa"] = "loma"
    temporal_mapping_type: Literal["uneven", "even"] = "uneven"
    opt: str = "latency"
    lpf_limit: int = 6
    nb_spatial_mappings_generated: int = 3
    in_memory_compute: bool = False
    exploit_data_locality: bool = False
    enable_mix_spatial_mapping: bool = False
    loma_show_progress_bar: bool = True

    def __post_init__(self) -> None:
        if self.opt not in OPT_TARGETS:
            raise ZzEventError(f"opt is {self.opt!r}; expected one of {', '.join(OPT_TARGETS)}")
        if self.temporal_mapping_search_engine not in ("loma", "salsa"):
            raise ZzEventError(f"temporal_mapping_search_engine is {self.temporal_mapping_search_engine!r}; "
                               "expected 'loma' or 'salsa'")
        if self.temporal_mapping_type not in ("uneven", "even"):
            raise ZzEventError(f"temporal_mapping_type is {self.temporal_mapping_type!r}; expected 'uneven' or 'even'")
        for name, why in _UNFOLLOWED.items():
            if getattr(self, name):
                raise ZzEventError(f"{name}=True is not supported by zz-event: {why}; leave it off")
        for name in ("lpf_limit", "nb_spatial_mappings_generated"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ZzEventError(f"{name} is {value!r}; expected a whole number of at least 1")


@dataclass(frozen=True)
class CorrectionSettings:
    """Everything zz-event adds to a ZigZag run.

    - `options`: the engine's two switches for the costs ZigZag ranks (default: event-driven);
    - `variants`: other switch settings evaluated and kept on each corrected CME (e.g. the exact dense count);
    - `geometries`: layer name -> (true ConvGeometry, "input" or "output"-centric) of converted layers;
    - `uncorrected`: layer name -> why the workload reader leaves it to ZigZag;
    - `dense_beside_data`: set by the mapspace logger: with data, each corrected CME also carries the
      dense-data result for `options`, which a row shows beside the data mean;
    - `masks`: events from data, layer name -> bool array (N, ...) of the layer's non-zero inputs per sample
      (`zz_event.readers.activations`); a mapping of such a layer is ranked on its mean cost over the first
      `calibration` samples (all if None).
    """

    options: EngineOptions = EngineOptions()
    variants: tuple[EngineOptions, ...] = ()
    geometries: Mapping[str, tuple[ConvGeometry, str]] = field(default_factory=dict)
    uncorrected: Mapping[str, str] = field(default_factory=dict)
    dense_beside_data: bool = False
    masks: Mapping[str, Any] = field(default_factory=dict)
    calibration: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.options, EngineOptions):
            raise ZzEventError(f"options is {self.options!r}; expected an EngineOptions")
        variants = tuple(self.variants)
        if not all(isinstance(v, EngineOptions) for v in variants):
            raise ZzEventError(f"variants are {variants!r}; expected EngineOptions")
        object.__setattr__(self, "variants", variants)
        for name, value in self.geometries.items():
            if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], ConvGeometry)
                    and value[1] in _CENTRICS):
                raise ZzEventError(f"geometry of layer {name!r} is {value!r}; "
                                   "expected (ConvGeometry, 'input' or 'output')")
        if self.calibration is not None and (isinstance(self.calibration, bool) or not isinstance(self.calibration, int)
                                             or self.calibration < 1):
            raise ZzEventError(f"calibration is {self.calibration!r}; expected None or a whole number of at least 1")
        # Own copies: a caller's later change to its dicts must not reach a running search.
        object.__setattr__(self, "masks", dict(self.masks))
        object.__setattr__(self, "geometries", dict(self.geometries))
        object.__setattr__(self, "uncorrected", dict(self.uncorrected))

    def ranking_masks(self, layer: str):
        """The masks a mapping of `layer` is ranked on (its calibration samples), or None without data."""
        masks = self.masks.get(layer)
        return None if masks is None else masks[: self.calibration]

    @classmethod
    def for_workload(cls, prepared: Any, **settings: Any) -> CorrectionSettings:
        """The settings of a workload read by `zz_event.readers.workloads.load_workload` (input-centric layers)."""
        return cls(geometries={name: (geo, "input") for name, geo in prepared.geometry.items()},
                   uncorrected=dict(prepared.uncorrected), **settings)
