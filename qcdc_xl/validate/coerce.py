"""The reading policy of nq02-form.md ("How returned values are read"), as pure functions.

Each ``coerce_<type>(raw, …)`` takes a cell value as stored (str, int, float, bool,
datetime, date or None) and returns ``(canonical value or None, code or None)``:

* ``(value, None)`` — accepted as is (options matched ignoring case, spaces and NFD);
* ``(value, "coerced_text_number" | "coerced_text_date" | "coerced_text_choice" |
  "legacy_encoding")`` — accepted, with a warning: what a person obviously meant;
* ``(None, "wrong_type" | "out_of_range")`` — refused; the field counts as empty;
* ``(None, None)`` — empty.

Text comes out NFC, without the invisible characters text pasted from Word or the web
carries (zero-width spaces, BOM, direction marks). Numbers follow vi-VN writing: "." and
spaces group thousands, "," marks decimals (only where the field allows decimals: money;
"12,0" is a whole number anywhere); a leading apostrophe (Excel's "keep as text" mark) is
dropped. Money may carry its unit ("1.500.000 đ", "1,5 triệu", "2 tỷ đồng"). Dates are day
first; a two-digit year is read as Excel reads it (00–29 → 20xx, 30–99 → 19xx).
"""
from __future__ import annotations

import datetime as dt
import decimal
import re
import unicodedata
from typing import Any, Iterable

from qcdc_xl.validate import legacy_vn
from qcdc_xl.form.formulas import is_blank
from qcdc_xl.memo import Memo
from qcdc_xl.form.spec import NO, YES

Coerced = tuple[Any, str | None]

TEXT_NUMBER, TEXT_DATE, TEXT_CHOICE = "coerced_text_number", "coerced_text_date", "coerced_text_choice"
LEGACY, WRONG_TYPE, OUT_OF_RANGE = "legacy_encoding", "wrong_type", "out_of_range"
WARNING_CODES = frozenset({TEXT_NUMBER, TEXT_DATE, TEXT_CHOICE, LEGACY})
ERROR_CODES = frozenset({WRONG_TYPE, OUT_OF_RANGE})

# Shorthands people type in a yes/no cell, folded (see _fold); read with a warning.
# "đã", "chưa", "không có" answer the form's "Đã …" / "Có …" questions in plain words.
_YES_WORDS = frozenset({"x", "c", "co", "yes", "y", "v", "ok", "true", "đ", "✓", "✔",
                        "da", "daco"})
_NO_WORDS = frozenset({"ko", "k", "khong", "no", "n", "false", "kg", "0",
                       "chua", "chuaco", "khongco", "koco"})

_SPACES = "[ \u00a0\u202f]"  # space, no-break space, narrow no-break space
# Invisible characters that pasting from Word or a web page leaves in a cell. Not U+00AD (soft
# hyphen): TCVN3 text uses that byte for "ư".
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u200e\u200f]")
_APOSTROPHES = "'‘’`"
_INT_RE = re.compile(r"^[+-]?\d+$")
_GROUPED_RE = re.compile(rf"^[+-]?\d{{1,3}}(?:(?:\.\d{{3}})+|(?:{_SPACES}\d{{3}})+)$")
_DECIMAL_RE = re.compile(rf"^[+-]?(?:\d+|\d{{1,3}}(?:(?:\.\d{{3}})+|(?:{_SPACES}\d{{3}})+)),\d+$")
_COMMA_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(?:,\d{3}){2,}$")  # 1,500,000: never a decimal
_DMY_RE = re.compile(r"^(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})$")
_ISO_RE = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[T ]00:00(?::00)?)?$")
# "ngày 12 tháng 5 năm 2018", the way Vietnamese documents write a date.
_WORDS_DATE_RE = re.compile(r"^(?:ngày\s*)?(\d{1,2})\s*tháng\s*(\d{1,2})\s*(?:năm|,)\s*(\d{4})$")
# Money written with its unit: "1.500.000 đ", "1,5 triệu", "2 tỷ đồng", "1500000 VNĐ".
_MONEY_UNIT_RE = re.compile(
    r"^(?P<n>.*?\d)\s*(?P<mult>nghìn|ngàn|triệu|tr|tỷ|tỉ)?\.?\s*(?P<cur>đồng|đ|vnđ|vnd)?\.?$")
_MULTIPLIERS = {None: 1, "nghìn": 10 ** 3, "ngàn": 10 ** 3, "triệu": 10 ** 6, "tr": 10 ** 6,
                "tỷ": 10 ** 9, "tỉ": 10 ** 9}
# Excel's day 1 is 1900-01-01 and it counts a 29/02/1900 that never was: base 1899-12-30.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 31/12/9999
# Excel keeps 15 significant digits: a count or an amount from 10^15 on cannot be what was
# typed (a 400-digit number, 1e308), and would overflow the rates computed from it.
MAX_NUMBER = 10 ** 15
# C0 control characters (tab, line feed, carriage return aside): invisible, never typed on
# purpose, and refused by the XML of the summary workbook.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# How Excel writes a control character in a string (_x0001_, _x000D_ for a carriage return);
# openpyxl leaves the escape as it is.
_ESCAPE_RE = re.compile("_x(00[01][0-9A-Fa-f]|007[Ff])_")


# ---------------------------------------------------------------- text helpers


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_text(text: str) -> str:
    """NFC, invisible and control characters removed, ends stripped (spaces, no-break
    spaces, line breaks)."""
    text = _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return _CONTROL_RE.sub("", _INVISIBLE_RE.sub("", nfc(text))).strip()


def has_hidden_characters(text: str) -> bool:
    """Invisible characters or line breaks that a paste from Word or the web brought along."""
    return bool(_INVISIBLE_RE.search(text)) or "\n" in text.strip(" ") or "\u00a0" in text


def strip_accents(text: str) -> str:
    """Vietnamese without its marks: "Khá" -> "Kha", "Đ" -> "D" (for matching what people type
    on a keyboard without a Vietnamese input method)."""
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


def fold_key(text: str) -> str:
    """Key for matching options: NFC, case-folded, no whitespace, Ð (eth) read as Đ."""
    text = clean_text(text).replace("Ð", "Đ").replace("ð", "đ")
    return re.sub(r"\s+", "", text).casefold()


def _is_number(raw) -> bool:
    return isinstance(raw, (int, float)) and not isinstance(raw, bool)


# ---------------------------------------------------------------- numbers


def _drop_apostrophe(s: str) -> str:
    """Excel's leading "'" (keep as text) when a text-formatted cell kept it as a character."""
    return s[1:].strip() if s[:1] in _APOSTROPHES and len(s) > 1 else s


def parse_text_number(text: str, decimals: bool, money: bool = False) -> float | int | None:
    """A number written as text the vi-VN way, or None when it is not one.

    ``money``: the amount may carry its unit ("1.500.000 đ", "1,5 triệu", "2 tỷ đồng")."""
    s = _drop_apostrophe(clean_text(text))
    if _INT_RE.match(s):
        return int(s)
    if _GROUPED_RE.match(s):
        return int(re.sub(rf"[.{_SPACES[1:-1]}]", "", s))
    if _COMMA_GROUPED_RE.match(s):
        return int(s.replace(",", ""))
    if _DECIMAL_RE.match(s):
        whole, frac = s.rsplit(",", 1)
        number = decimal.Decimal(re.sub(rf"[.{_SPACES[1:-1]}]", "", whole) + "." + frac)
        if decimals:
            return float(number)
        return int(number) if number == number.to_integral_value() else None  # "12,0" is 12
    if money:
        return _money_with_unit(s)
    return None


def _money_with_unit(s: str) -> float | int | None:
    m = _MONEY_UNIT_RE.match(s.casefold().replace("ð", "đ"))
    if not m or not (m.group("mult") or m.group("cur")):
        return None
    number = parse_text_number(m.group("n"), decimals=True)
    if number is None:
        return None
    amount = decimal.Decimal(str(number)) * _MULTIPLIERS[m.group("mult")]
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _number(raw, decimals: bool) -> Coerced:
    if is_blank(raw):
        return None, None
    code = None
    if isinstance(raw, str):
        raw, code = parse_text_number(raw, decimals, money=decimals), TEXT_NUMBER
        if raw is None:
            return None, WRONG_TYPE
    if not _is_number(raw) or raw != raw or raw in (float("inf"), float("-inf")):
        return None, WRONG_TYPE
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # Excel and calamine store whole numbers as floats
    if isinstance(raw, float) and not decimals:
        return None, WRONG_TYPE
    if raw < 0 or raw >= MAX_NUMBER:
        return None, OUT_OF_RANGE
    return raw, code


def too_large(raw) -> bool:
    """Whether ``raw`` is (or writes) a number from MAX_NUMBER on."""
    if isinstance(raw, str):
        raw = parse_text_number(raw, decimals=True, money=True)
    return _is_number(raw) and raw == raw and abs(raw) >= MAX_NUMBER


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


def _full_year(year: str) -> int:
    """A two-digit year the way Excel reads it: 00–29 -> 2000s, 30–99 -> 1900s."""
    if len(year) == 2:
        return int(year) + (2000 if int(year) < 30 else 1900)
    return int(year)


def parse_text_date(text: str) -> dt.date | None:
    """Day first always: 12/5/2018, 12/05/2018, 12-5-2018, 12.5.2018, 12/5/18,
    "ngày 12 tháng 5 năm 2018"; or year first: 2018-05-12, 2018/5/12."""
    s = _drop_apostrophe(clean_text(text))
    s = re.sub(r"^ngày\s*(?=\d)", "", s, flags=re.IGNORECASE)
    m = _DMY_RE.match(s) or _WORDS_DATE_RE.match(s.lower())
    if m:
        day, month, year = int(m.group(1)), int(m.group(m.lastindex - 1)), _full_year(m.group(m.lastindex))
    else:
        m = _ISO_RE.match(s)
        if not m:
            return None
        year, month, day = int(m.group(1)), int(m.group(3)), int(m.group(4))
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


def near_option(text: str, options: Iterable[str]) -> str | None:
    """The one option ``text`` names once its marks and end punctuation are ignored: "kha" or
    "Khá." for "Khá" (typed without a Vietnamese keyboard); None when none or several do."""
    key = strip_accents(fold_key(text)).rstrip(".,;:!")
    if not key:
        return None
    found = {o for o in options if strip_accents(fold_key(o)) == key}
    return found.pop() if len(found) == 1 else None


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
    found = near_option(raw, options)
    if found:
        return found, TEXT_CHOICE
    return None, OUT_OF_RANGE


def _yes_no_word(text: str) -> str | None:
    key = fold_key(text).rstrip(".")
    for k in (key, strip_accents(key)):
        if k in _YES_WORDS:
            return YES
        if k in _NO_WORDS:
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
    text = re.sub("[\u00a0\u202f]", " ", clean_text(str(raw)))
    legacy = legacy_vn.detect_and_convert(text)
    if legacy:
        return legacy[1], LEGACY
    return text, None


# ---------------------------------------------------------------- dispatch


_COERCED = Memo(kept=50_000)  # (type, raw's type, raw, options) -> Coerced


def coerce_value(ftype: str, raw, options: Iterable[str] = ()) -> Coerced:
    """Read ``raw`` as a value of the field type (int, money, yesno, list, date, text).

    Remembered per process: a thousand returns hold the same few thousand values (the
    options picked, the document kinds, the counts), and reading a text costs its legacy
    encoding test. The key holds the raw value's type, as 1, 1.0 and True are equal keys."""
    if type(raw) not in _REMEMBERED:
        return _coerce_value(ftype, raw, options)
    options = tuple(options)
    return _COERCED.get((ftype, type(raw), raw, options), _coerce_value, ftype, raw, options)


_REMEMBERED = frozenset({str, int, float, bool, type(None), dt.date, dt.datetime})


def _coerce_value(ftype: str, raw, options: Iterable[str] = ()) -> Coerced:
    if isinstance(raw, str) and not clean_text(raw):
        return None, None  # only invisible characters: nothing was typed
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
