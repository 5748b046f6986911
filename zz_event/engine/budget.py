"""The engine's memory budget: paths whose arrays grow with the layer check their size before allocating.

Most counts are per axis and small. A few paths still build arrays over (instance, tile) pairs or over a
coupled axis' values (`tiles`' explicit walk, `axes`' pair and membership tables): they estimate what they
would allocate and raise
`EngineBudgetError` beyond the budget, instead of growing until the kernel kills the process. The
correction stage then keeps ZigZag's cost for that layer, with the error's message as the reason.

The budget is `ZZ_EVENT_ENGINE_MEMORY_MB` megabytes (default 512), read at each check so that a test
can lower it.
"""

from __future__ import annotations

import os

__all__ = ["EngineBudgetError", "budget_bytes", "check_budget"]

_DEFAULT_MB = 512
_VARIABLE = "ZZ_EVENT_ENGINE_MEMORY_MB"


class EngineBudgetError(MemoryError):
    """Counting this mapping would take more memory than the budget allows (a MemoryError, raised early)."""


def budget_bytes() -> int:
    value = os.environ.get(_VARIABLE, "")
    try:
        mb = float(value) if value else _DEFAULT_MB
    except ValueError:
        raise ValueError(f"{_VARIABLE} is {value!r}; expected a number of megabytes") from None
    return int(mb * 2**20)


def check_budget(entries: int, bytes_per_entry: int, what: str) -> None:
    """Raise `EngineBudgetError` if `entries` rows of `bytes_per_entry` bytes (every array the path keeps
    alive per row together) exceed the budget."""
    need = int(entries) * bytes_per_entry
    limit = budget_bytes()
    if need > limit:
        raise EngineBudgetError(
            f"the engine's {what} would need about {need / 2**20:,.0f} MB ({int(entries):,} entries), over its "
            f"memory budget of {limit / 2**20:,.0f} MB ({_VARIABLE})"
        )
