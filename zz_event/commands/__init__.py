"""One module per CLI subcommand; `register_more` adds the subcommands beyond `run`."""

from __future__ import annotations

__all__ = ["register_more"]


def register_more(sub) -> None:
    """Subcommands added by later features register here (mapspace, rerank, stream, report)."""
    for module_name in ("mapspace", "rerank", "stream", "report", "sweep"):
        try:
            module = __import__(f"zz_event.commands.{module_name}", fromlist=["register"])
        except ModuleNotFoundError as error:
            if error.name != f"zz_event.commands.{module_name}":
                raise
            continue
        module.register(sub)
