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


class FormMemo:
    """What is worked out once per form object and unit type (a check plan, the order of
    derived fields). Keyed by the form's identity, not its value (a form is large, and never
    changes once loaded); the form is kept with its value, so a later form that reuses a freed
    one's id is never given the other's. Emptied when full (tests make forms one after another)."""

    def __init__(self, kept: int = 256):
        self.kept = kept
        self.values: dict = {}  # (id(form), key) -> (form, value)

    def get(self, form, key, compute, *args):
        """The value for (``form``, ``key``), else ``compute(*args)`` remembered."""
        found = self.values.get((id(form), key))
        if found is None or found[0] is not form:
            if len(self.values) >= self.kept:
                self.values.clear()
            found = self.values[(id(form), key)] = (form, compute(*args))
        return found[1]
