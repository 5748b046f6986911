"""The exact engine's own temporal-mapping search (`zz-event search`).

    from zz_event.search import run_search, best_table
    log, _ = run_search("inputs/lenet5/lenet5.onnx", "inputs/toy/hardware.yaml", "inputs/toy/mapping_lenet5.yaml",
                        opt="energy", lpf_limit=8, top_k=5, layers=("conv2",))
    best_table(log)            # a pandas DataFrame, best first per layer and spatial mapping

Per layer and spatial mapping it enumerates the orderings ZigZag's LOMA would (`orderings`), allocates each to
the memories with LOMA's rule computed on its own (`allocation`, `zigzag.psum_flags`), costs it with the exact engine
(`costing`; on energy, only those a lower bound cannot rule out: `engine.energy_floor`, `pruned`), and builds ZigZag
CostModelEvaluations, corrected, only for the best `top_k` (`stage`, `ranking`).
`products` writes them as a table and as ZigZag mapping files.
"""

from __future__ import annotations

from zz_event.search.products import best_table, mapping_entries, write_mapping_files
from zz_event.search.run import run_search
from zz_event.search.stage import Found, SearchLog, SpatialSearch

__all__ = ["Found", "SearchLog", "SpatialSearch", "best_table", "mapping_entries", "run_search",
           "write_mapping_files"]
