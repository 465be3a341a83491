"""A bounded per-process memo for values that recur in every return."""
from __future__ import annotations


class Memo:
    """Values worked out once per process for keys that come back in every return (the same
    template formulas, the same option texts); emptied when full, so memory stays bounded."""

    def __init__(self, kept: int):
        self.kept = kept
        self.values: dict = {}

    def get(self, key, compute, *args):
        """The value remembered for ``key``, else ``compute(*args)`` remembered."""
        found = self.values.get(key)
        if found is None:
            found = compute(*args)
            if len(self.values) >= self.kept:
                self.values.clear()
            self.values[key] = found
        return found
