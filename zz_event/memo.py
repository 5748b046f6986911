"""A small bounded least-recently-used memo for values keyed by structure (not by object identity)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable

__all__ = ["LruMemo"]


class LruMemo:
    """`get` returns None on a miss; `put` evicts the least recently used entry beyond `size`, so a long
    search keeps flat memory while the entries its mappings share stay warm."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> Any:
        self._entries[key] = value
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()
