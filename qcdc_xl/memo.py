"""A bounded per-process memo for values that recur in every return."""
from __future__ import annotations

from functools import lru_cache, wraps

# A memo's keys are texts and bytes of the returns: hostile files could make them large and
# all different. Besides its count, what a memo holds is bounded by its keys' size.
LARGEST_KEPT = 256 * 1024  # characters (or bytes) of one key remembered at most
HELD_KEPT = 16 * 1024 * 1024  # characters (or bytes) of all the keys of one memo


def weight(key) -> int:
    """About what a key holds: the length of its texts and byte strings, nested in tuples too,
    and one for anything else."""
    if isinstance(key, (str, bytes)):
        return len(key)
    if isinstance(key, tuple):
        return sum(map(weight, key)) + 1
    return 1


def cache_short(maxsize: int, longest: int):
    """functools.lru_cache of ``maxsize`` entries for a function of one text, used only for
    texts of at most ``longest`` characters: longer ones, which hostile files could make all
    different, are worked out each time and never kept."""
    def wrap(function):
        kept = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def call(text):
            return kept(text) if len(text) <= longest else function(text)
        call.cache_info, call.cache_clear = kept.cache_info, kept.cache_clear
        return call
    return wrap


class Memo:
    """Values worked out once per process for keys that come back in every return (the same
    template formulas, the same option texts); emptied when full, so memory stays bounded:
    ``kept`` keys at most, HELD_KEPT in size; a key larger than LARGEST_KEPT is never kept."""

    def __init__(self, kept: int):
        self.kept = kept
        self.values: dict = {}
        self.held = 0

    def get(self, key, compute, *args):
        """The value remembered for ``key``, else ``compute(*args)`` remembered."""
        found = self.values.get(key)
        if found is None:
            found = compute(*args)
            size = weight(key)
            if size > LARGEST_KEPT or size > HELD_KEPT:
                return found
            if len(self.values) >= self.kept or self.held + size > HELD_KEPT:
                self.values.clear()
                self.held = 0
            self.values[key] = found
            self.held += size
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
