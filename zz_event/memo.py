"""A small bounded least-recently-used memo for values keyed by structure (not by object identity)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Hashable

__all__ = ["LruMemo"]


class LruMemo:
    """Evicts the least recently used entry beyond `size`, so a long search keeps flat memory while the
    entries its mappings share stay warm."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get_or(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The memoised value, computed and kept on a miss (any value, None and 0 included)."""
        entries = self._entries
        if key in entries:
            entries.move_to_end(key)
            return entries[key]
        value = entries[key] = compute()
        if len(entries) > self.size:
            entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()
