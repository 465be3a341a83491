"""The reading policy of nq02-form.md ("How returned values are read"), as pure functions.

Each ``coerce_<type>(raw, …)`` takes a cell value as stored (str, int, float, bool,
datetime, date or None) and returns ``(canonical value or None, code or None)``:

* ``(value, None)`` — accepted as is (options matched ignoring case, spaces and NFD);
* ``(value, "coerced_text_number" | "coerced_text_date" | "coerced_text_choice" |
  "legacy_encoding")`` — accepted, with a warning: what a person obviously meant;
* ``(None, "wrong_type" | "out_of_range")`` — refused; the field counts as empty;
* ``(None, None)`` — empty.

Text comes out NFC. Numbers follow vi-VN writing: "." and spaces group thousands, ","
marks decimals (only where the field allows decimals: money).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Iterable

from . import legacy_vn
from .formulas import is_blank

Coerced = tuple[Any, str | None]

TEXT_NUMBER, TEXT_DATE, TEXT_CHOICE = "coerced_text_number", "coerced_text_date", "coerced_text_choice"
LEGACY, WRONG_TYPE, OUT_OF_RANGE = "legacy_encoding", "wrong_type", "out_of_range"
WARNING_CODES = frozenset({TEXT_NUMBER, TEXT_DATE, TEXT_CHOICE, LEGACY})
ERROR_CODES = frozenset({WRONG_TYPE, OUT_OF_RANGE})

YES, NO = "Có", "Không"
# Shorthands people type in a yes/no cell, folded (see _fold); read with a warning.
_YES_WORDS = frozenset({"x", "c", "co", "yes", "y", "v", "ok", "true", "đ", "✓", "✔"})
_NO_WORDS = frozenset({"ko", "k", "khong", "no", "n", "false", "kg", "0"})

_SPACES = "[ \u00a0\u202f]"  # space, no-break space, narrow no-break space
_INT_RE = re.compile(r"^[+-]?\d+$")
_GROUPED_RE = re.compile(rf"^[+-]?\d{{1,3}}(?:(?:\.\d{{3}})+|(?:{_SPACES}\d{{3}})+)$")
_DECIMAL_RE = re.compile(rf"^[+-]?(?:\d+|\d{{1,3}}(?:(?:\.\d{{3}})+|(?:{_SPACES}\d{{3}})+)),\d+$")
_DMY_RE = re.compile(r"^(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4})$")
_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00)?)?$")
# Excel's day 1 is 1900-01-01 and it counts a 29/02/1900 that never was: base 1899-12-30.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 31/12/9999


# ---------------------------------------------------------------- text helpers


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_text(text: str) -> str:
    """NFC, ends stripped (spaces, no-break spaces, line breaks)."""
    return nfc(text).strip()


def fold_key(text: str) -> str:
    """Key for matching options: NFC, case-folded, no whitespace, Ð (eth) read as Đ."""
    text = clean_text(text).replace("Ð", "Đ").replace("ð", "đ")
    return re.sub(r"\s+", "", text).casefold()


def _is_number(raw) -> bool:
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)


# ---------------------------------------------------------------- numbers


def parse_text_number(text: str, decimals: bool) -> float | int | None:
    """A number written as text the vi-VN way, or None when it is not one."""
    s = clean_text(text)
    if _INT_RE.match(s):
        return int(s)
    if _GROUPED_RE.match(s):
        return int(re.sub(rf"[.{_SPACES[1:-1]}]", "", s))
    if decimals and _DECIMAL_RE.match(s):
        whole, frac = s.rsplit(",", 1)
        return float(re.sub(rf"[.{_SPACES[1:-1]}]", "", whole) + "." + frac)
    return None


def _number(raw, decimals: bool) -> Coerced:
    if is_blank(raw):
        return None, None
    code = None
    if isinstance(raw, str):
        raw, code = parse_text_number(raw, decimals), TEXT_NUMBER
        if raw is None:
            return None, WRONG_TYPE
    if not _is_number(raw) or raw != raw or raw in (float("inf"), float("-inf")):
        return None, WRONG_TYPE
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # Excel and calamine store whole numbers as floats
    if isinstance(raw, float) and not decimals:
        return None, WRONG_TYPE
    if raw < 0:
        return None, OUT_OF_RANGE
    return raw, code


def coerce_int(raw) -> Coerced:
    """A whole number ≥ 0: 12, 12.0, "12", "1.234", "1 234"; 12.5 is wrong_type."""
    return _number(raw, decimals=False)


def coerce_money(raw) -> Coerced:
    """A number ≥ 0 (đồng), decimals allowed: "12,5" is 12.5."""
    return _number(raw, decimals=True)


# ---------------------------------------------------------------- dates


def excel_serial_to_date(serial: float) -> dt.date | None:
    if not 1 <= serial <= _EXCEL_MAX_SERIAL:
        return None
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_text_date(text: str) -> dt.date | None:
    """Day first always: 12/5/2018, 12/05/2018, 12-5-2018, 12.5.2018; or ISO 2018-05-12."""
    s = clean_text(text)
    m = _DMY_RE.match(s)
    if m:
        day, month, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    else:
        m = _ISO_RE.match(s)
        if not m:
            return None
        year, month, day = (int(g) for g in m.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def coerce_date(raw) -> Coerced:
    if is_blank(raw):
        return None, None
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    if _is_number(raw):
        # A date cell that lost its date format still holds Excel's day number.
        day = excel_serial_to_date(raw)
        return (day, None) if day else (None, WRONG_TYPE)
    if isinstance(raw, str):
        day = parse_text_date(raw)
        return (day, TEXT_DATE) if day else (None, WRONG_TYPE)
    return None, WRONG_TYPE


# ---------------------------------------------------------------- choices


def match_option(text: str, options: Iterable[str]) -> str | None:
    """The option ``text`` names, ignoring case, stray spaces and NFD/NFC; else None."""
    key = fold_key(text)
    return next((o for o in options if fold_key(o) == key), None)


def _legacy_option(text: str, options: Iterable[str]) -> str | None:
    """An option that a legacy (TCVN3/VNI) reading of ``text`` names.

    Any reading is tried here, not just a convincing one: only an exact option can match,
    so a false reading cannot slip through.
    """
    for _, converted in legacy_vn.candidates(text):
        found = match_option(converted, options)
        if found:
            return found
    return None


def coerce_list(raw, options: Iterable[str]) -> Coerced:
    options = tuple(options)
    if is_blank(raw):
        return None, None
    if not isinstance(raw, str):
        raw = _number_text(raw) if _is_number(raw) else str(raw)
    found = match_option(raw, options)
    if found:
        return found, None
    found = _legacy_option(raw, options)
    if found:
        return found, LEGACY
    return None, OUT_OF_RANGE


def _yes_no_word(text: str) -> str | None:
    key = fold_key(text).rstrip(".")
    if key in _YES_WORDS:
        return YES
    if key in _NO_WORDS:
        return NO
    return None


def coerce_yesno(raw, options: Iterable[str] = (YES, NO)) -> Coerced:
    options = tuple(options)
    if is_blank(raw):
        return None, None
    if isinstance(raw, bool):  # a TRUE/FALSE cell (LibreOffice, or a checkbox)
        return (YES if raw else NO), TEXT_CHOICE
    if not isinstance(raw, str):
        return None, WRONG_TYPE
    value, code = coerce_list(raw, options)
    if value is not None:
        return value, code
    word = _yes_no_word(raw)
    return (word, TEXT_CHOICE) if word else (None, OUT_OF_RANGE)


# ---------------------------------------------------------------- text


def _number_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def coerce_text(raw) -> Coerced:
    """Free text: anything readable; legacy encodings converted with a warning."""
    if is_blank(raw):
        return None, None
    if isinstance(raw, bool):
        return ("TRUE" if raw else "FALSE"), None
    if _is_number(raw):
        return _number_text(raw), None
    if isinstance(raw, dt.datetime):
        raw = raw.date() if raw.time() == dt.time(0) else raw
    if isinstance(raw, (dt.date, dt.datetime)):
        return raw.isoformat(), None
    text = clean_text(str(raw))
    legacy = legacy_vn.detect_and_convert(text)
    if legacy:
        return legacy[1], LEGACY
    return text, None


# ---------------------------------------------------------------- dispatch


def coerce_value(ftype: str, raw, options: Iterable[str] = ()) -> Coerced:
    """Read ``raw`` as a value of the field type (int, money, yesno, list, date, text)."""
    if ftype == "int":
        return coerce_int(raw)
    if ftype == "money":
        return coerce_money(raw)
    if ftype == "yesno":
        return coerce_yesno(raw, options or (YES, NO))
    if ftype == "list":
        return coerce_list(raw, options)
    if ftype == "date":
        return coerce_date(raw)
    if ftype == "text":
        return coerce_text(raw)
    raise ValueError(f"no reading policy for type {ftype!r}")
