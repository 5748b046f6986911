"""The `zz-event` subcommands, one module each: `register(sub)` adds its parser, its handler does the work.

Handlers import what they run inside themselves, so that `zz-event --help` loads neither ZigZag nor Stream.

| module | its one job |
|---|---|
| `run` | one ZigZag run with the correction; `summary.json` and a raw-vs-corrected table |
| `mapspace` | every evaluated mapping to a CSV |
| `search` | the exact engine's own temporal-mapping search; the best as ZigZag mapping files |
| `rerank` | raw-optimal vs corrected-optimal mappings of a logged mapping space |
| `stream` | one Stream run in frame, event-raw or event mode |
| `report` | the comparison report |
| `sweep` | a design-space sweep on Dask, and its figures (`sweep-plot`) |
"""

from __future__ import annotations

from zz_event.commands import mapspace, report, rerank, run, search, stream, sweep

__all__ = ["COMMANDS", "register_all"]

COMMANDS = (run, mapspace, search, rerank, stream, report, sweep)


def register_all(sub) -> None:
    for command in COMMANDS:
        command.register(sub)
