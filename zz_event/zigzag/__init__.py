"""zz-event inside ZigZag: the correction stage, the pipeline around it, the front door and its results.

| module | its one job |
|---|---|
| `front_door` | `run_zigzag_event_driven`: drop-in for `get_hardware_performance_zigzag` |
| `settings` | `RunSettings` (ZigZag's knobs) and `CorrectionSettings` (what zz-event adds), checked when built |
| `pipeline` | `build_stages` and `main_stage`: ZigZag's stage list with the correction in it |
| `stages` | `EventDrivenCorrectionStage`: every evaluated mapping replaced by its corrected CME (on energy: bounded) |
| `energy_bound` | below ZigZag's reducer on energy: what cannot be its pick, skipped before ZigZag costs it |
| `psum_flags` | ZigZag's partial-sum flags of the output levels, from a temporal mapping without ZigZag's `Mapping` |
| `correction` | one mapping's engine answer, as a corrected CME |
| `adapter` | a ZigZag CostModelEvaluation read into a `LoopNest` |
| `corrected_cme` | `CorrectedCME`: ZigZag's CME with the engine's costs and ZigZag's raw figures beside |
| `result` | `LayerResult` and `Figures`: one layer's raw and corrected figures, as every consumer reads them |
| `summary` | the public `summary.json` (and `samples.csv` rows with data) |
| `data` | events from data in a run: per-layer masks from the input batch; the chosen mappings costed per sample |
"""
