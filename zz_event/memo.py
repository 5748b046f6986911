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

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes  # also evict beyond this many bytes of numpy arrays held (`nbytes_of`)
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._bytes: dict[Hashable, int] = {}
        self._total = 0

    def get_or(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The memoised value, computed and kept on a miss (any value, None and 0 included)."""
        entries = self._entries
        value = entries.get(key, _MISSING)  # one lookup on a hit: keys can be long tuples
        if value is not _MISSING:
            entries.move_to_end(key)
            return value
        value = entries[key] = compute()
        if self.max_bytes is not None:
            self._bytes[key] = size = nbytes_of(value)
            self._total += size
        while len(entries) > self.size or (self.max_bytes is not None and self._total > self.max_bytes
                                           and len(entries) > 1):
            old, _ = entries.popitem(last=False)
            self._total -= self._bytes.pop(old, 0)
        return value

    def peek(self, key: Hashable) -> Any:
        """The memoised value, or None if there is none (nothing is computed)."""
        return self._entries.get(key)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes.clear()
        self._total = 0


def nbytes_of(value: Any) -> int:
    """Bytes of the numpy arrays a memoised value holds in its attributes (or items), one level deep."""
    fields = getattr(value, "__dict__", None)
    items = fields.values() if fields is not None else value if isinstance(value, tuple) else ()
    return sum(int(getattr(item, "nbytes", 0)) for item in items)
