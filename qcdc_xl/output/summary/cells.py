"""Cells, styles and page setup shared by every sheet of the summary workbook.

Text that came from units is only ever written with ``write_string`` (a name beginning with
``=`` stays text)."""
from __future__ import annotations

import math
import re
import unicodedata

from qcdc_xl.memo import Memo
from .sheet import SummarySheet, put_by_methods

DASH = "—"


def nfc(text) -> str:
    return unicodedata.normalize("NFC", str(text))


def put(ws, row: int, col: int, value, fmt=None) -> None:
    """Write any value by its type; text always as text (never a formula or a link)."""
    if isinstance(ws, SummarySheet):
        ws.put(row, col, value, fmt)
    else:
        put_by_methods(ws, row, col, value, fmt)


def put_row(ws, row: int, values: list, formats: list, first_col: int = 0) -> None:
    """:func:`put` of each value with its format, from column ``first_col`` on."""
    if isinstance(ws, SummarySheet):
        ws.put_row(row, values, formats, first_col)
    else:
        for col, (value, fmt) in enumerate(zip(values, formats), start=first_col):
            put_by_methods(ws, row, col, value, fmt)


def formula(ws, row: int, col: int, expr: str, fmt, cached) -> None:
    """A live formula with its correct cached value ("" shows blank until recalculated)."""
    ws.write_formula(row, col, "=" + expr, fmt, "" if cached is None else cached)


def quoted(text: str) -> str:
    """A string literal inside a formula."""
    return '"' + nfc(text).replace('"', '""') + '"'


def crit(text: str) -> str:
    """A SUMIFS/COUNTIFS criterion matching exactly ``text`` (no wildcards, no operators)."""
    return _CRITERIA.get(text, _criterion, text)


def _criterion(text: str) -> str:
    return quoted("=" + re.sub(r"([~*?])", r"~\1", nfc(text)))


_CRITERIA = Memo(kept=10_000)  # text -> crit(text): the same few types and options, ~80,000 asks


MAX_ROW_HEIGHT = 409  # points: Excel's limit (a longer list of unit names scrolls in its cell)


_HEIGHTS = Memo(kept=100_000)  # (text, width, line) -> row_height: lists repeat their texts


def row_height(text: str, width_chars: float, line: float = 15.0) -> float:
    """A row height that shows wrapped text whole (Excel does not autofit on load)."""
    if type(text) is not str:
        return _row_height(text, width_chars, line)
    return _HEIGHTS.get((text, width_chars, line), _row_height, text, width_chars, line)


def _row_height(text, width_chars: float, line: float) -> float:
    lines = sum(max(1, math.ceil(len(part) / max(width_chars * 1.1, 1)))  # Times is narrow
                for part in str(text).split("\n"))
    return min(MAX_ROW_HEIGHT, max(line, lines * line))


def print_scale(widths: list, height_pt: float, landscape: bool) -> int:
    """The largest print scale (≤ 100%) at which one page holds these columns and rows."""
    page_w, page_h = (11.69, 8.27) if landscape else (8.27, 11.69)
    width_px = sum(w * 7 + 5 for w in widths)  # Excel: ~7 px per character + padding
    fit_w = (page_w - 0.9) * 96 / width_px
    fit_h = (page_h - 2.0) * 72 / max(height_pt, 1)  # margins, footer, LibreOffice slack
    return max(10, min(100, int(100 * min(fit_w, fit_h))))


def two_lines(text: str, longest: int = 40) -> str:
    """An issuer too long for one line, broken near its middle as official headers are:
    "ĐẢNG ỦY KHỐI CÁC CƠ QUAN\nVÀ DOANH NGHIỆP TỈNH" (never one word alone on a line)."""
    words = text.split()
    if len(text) <= longest or len(words) < 4:
        return text
    cut = min(range(2, len(words) - 1),
              key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return " ".join(words[:cut]) + "\n" + " ".join(words[cut:])


def nice_step(top: float, ticks: int = 8) -> int:
    """A round axis step (1, 2, 5, 10, 20, 50, …) giving about ``ticks`` gridlines."""
    step = 1
    while top / step > ticks:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step


def page(ws, sheet_title: str, landscape: bool, repeat_rows=None, fit_width: bool = True):
    """A4, margins, footer with page numbers, repeated header rows, fit to page width."""
    ws.set_paper(9)
    ws.set_landscape() if landscape else ws.set_portrait()
    ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(f"&L&8{sheet_title}&R&8Trang &P/&N")
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    if fit_width:
        ws.fit_to_pages(1, 0)


STYLE = {
    "issuer": {"bold": True, "align": "center"},
    "title": {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"},
    "subtitle": {"italic": True, "align": "center"},
    "note": {"italic": True, "font_size": 10, "font_color": "#595959", "text_wrap": True,
             "valign": "top", "align": "left"},
    "head": {"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True,
             "border": 1, "bg_color": "#DDEBF7"},
    "ids": {"font_size": 8, "font_color": "#7F7F7F", "align": "center", "border": 1,
            "bg_color": "#F2F2F2"},
    "section": {"bold": True, "border": 1, "bg_color": "#FCE4D6", "valign": "vcenter"},
    "cell": {"border": 1, "valign": "vcenter"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "center": {"align": "center"},
    "bold": {"bold": True},
    "int": {"num_format": "#,##0"},
    "pct": {"num_format": "0.0%"},
    "year": {"num_format": "0", "align": "center"},
    "date": {"num_format": "dd/mm/yyyy", "align": "center"},
    "datetime": {"num_format": "dd/mm/yyyy hh:mm", "align": "center"},
    "dash": {"align": "center", "font_color": "#7F7F7F"},
    "invalid": {"bg_color": "#F8CBAD"},
    "na": {"bg_color": "#EDEDED"},
    "muted": {"font_color": "#808080", "italic": True},
    "small": {"font_size": 9},
    "error": {"font_color": "#C00000"},
    "warning": {"font_color": "#9C5700"},
    "st_ok": {"bg_color": "#C6EFCE"},
    "st_errors": {"bg_color": "#FFC7CE"},
    "st_missing": {"bg_color": "#FFEB9C"},
    "st_superseded": {"bg_color": "#D9D9D9"},
}


class Styles:
    """Formats by name, combined and cached (xlsxwriter wants one object per combination)."""

    def __init__(self, wb):
        self.wb, self.cache = wb, {}
        self.asked: dict = {}  # the names as asked (Nones included) -> format: ~500,000 asks

    def __call__(self, *names: str):
        found = self.asked.get(names)
        if found is not None:
            return found
        key = tuple(n for n in names if n)
        if key not in self.cache:
            props = {}
            for n in key:
                props.update(STYLE[n])
            self.cache[key] = self.wb.add_format(props)
        self.asked[names] = self.cache[key]
        return self.cache[key]
