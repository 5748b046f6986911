"""Every cache of the package, in one place: a small bounded least-recently-used memo for values keyed by
structure (not by object identity), `lru_cache` for functions, and `clear_caches` that empties them all."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["NEST_CACHE_SIZE", "LruMemo", "clear_caches", "lru_cache"]

# Caches keyed by a nest (by identity) serve the evaluations of one mapping (its operands, its switch
# settings). A larger one would keep the nests of a whole search alive, with their loops, levels and
# arrays, and the garbage collector's full passes walk all of them (in ZigZag's process, inline).
NEST_CACHE_SIZE = 16

_MISSING = object()
_CACHES: list = []  # every LruMemo and lru_cache'd function made, for `clear_caches`


def clear_caches() -> None:
    """Forget everything every cache of the package holds (tests compare cold and warm runs; a benchmark
    measures a cold search)."""
    for cache in _CACHES:
        cache.cache_clear() if hasattr(cache, "cache_clear") else cache.clear()


def lru_cache(maxsize: int) -> Callable:
    """`functools.lru_cache`, cleared by `clear_caches`."""
    def decorate(function: Callable) -> Callable:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        _CACHES.append(cached)
        return cached

    return decorate


class LruMemo:
    """Evicts the least recently used entry beyond `size`, so a long search keeps flat memory while the
    entries its mappings share stay warm."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes  # also evict beyond this many bytes of numpy arrays held (`nbytes_of`)
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._bytes: dict[Hashable, int] = {}
        self._total = 0
        _CACHES.append(self)

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
