"""A small bounded least-recently-used memo for values keyed by structure (not by object identity)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["LruMemo"]

_MISSING = object()


class LruMemo:
    """Evicts the least recently used entry beyond `size`, so a long search keeps flat memory while the
    entries its mappings share stay warm."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get_or(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The memoised value, computed and kept on a miss (any value, None and 0 included)."""
        entries = self._entries
        value = entries.get(key, _MISSING)  # one lookup on a hit: keys can be long tuples
        if value is not _MISSING:
            entries.move_to_end(key)
            return value
        value = entries[key] = compute()
        if len(entries) > self.size:
            entries.popitem(last=False)
        return value

    def peek(self, key: Hashable) -> Any:
        """The memoised value, or None if there is none (nothing is computed)."""
        return self._entries.get(key)

    def clear(self) -> None:
        self._entries.clear()
