"""The whole mapping space of a ZigZag search, raw and corrected, one CSV row per evaluated mapping, and
its re-ranking.

    from zz_event.mapspace import run_mapspace, load, rerank_file

| module | its one job |
|---|---|
| `logger` | `run_mapspace` and its ZigZag stages; the column contract |
| `rows` | the column schema and one mapping's row, byte-stable |
| `writer` | rows streamed so that an interrupted run leaves a valid file; the sidecar (`read_meta`); Parquet |
| `reader` | `load`: a mapspace file as a typed pandas DataFrame |
| `rerank` | raw-optimal vs corrected-optimal mappings: regret, Kendall's tau, top-k overlap, plots |
"""

from zz_event.mapspace.logger import MapspaceRun, run_mapspace
from zz_event.mapspace.reader import load
from zz_event.mapspace.rerank import RerankReport, rerank, rerank_file
from zz_event.mapspace.writer import meta_path, read_meta

__all__ = ["MapspaceRun", "RerankReport", "load", "meta_path", "read_meta", "rerank", "rerank_file", "run_mapspace"]
