"""Cell formats of a template: one place for fonts, colours, borders and number formats.

Colours carry meaning the "Hướng dẫn" sheet explains: yellow = type here, grey = the unit's
identity (prefilled, locked), blue = calculated (locked). Everything is Times New Roman.
"""
from __future__ import annotations

FONT = "Times New Roman"
BODY_SIZE = 12

INPUT_FILL = "#FFF2CC"  # light yellow: cells the unit types into
IDENTITY_FILL = "#EDEDED"  # light grey: prefilled identity, locked
FORMULA_FILL = "#DDEBF7"  # light blue: calculated, locked
HEADER_FILL = "#F2F2F2"
MISSING_FILL = "#F8CBAD"  # conditional: a required cell still empty
OK_FILL, OK_FONT = "#C6EFCE", "#006100"
BAD_FILL, BAD_FONT = "#FFC7CE", "#9C0006"
WARN_FILL, WARN_FONT = "#FFEB9C", "#9C5700"

# Number formats by field type (int without thousands separators: years must read 2019).
NUM_FORMATS = {"int": "0", "money": "#,##0", "date": "dd/mm/yyyy", "text": "@",
               "yesno": "@", "list": "@", "rate": "0.0%", "sum": "#,##0", "count": "0",
               "row_number": "0"}

WORKBOOK_OPTIONS = {
    "in_memory": True,  # no temp files: faster and safe on any path
    # scheme "none": a "minor" scheme font would show as the theme's Calibri in Excel
    "default_format_properties": {"font_name": FONT, "font_size": BODY_SIZE, "font_scheme": "none"},
    "default_row_height": 21,  # pixels, Times New Roman 12
    "default_column_width": 72,  # pixels, Times New Roman 12 (8 px per digit)
}

_CELL = {"font_name": FONT, "font_size": BODY_SIZE, "valign": "vcenter", "border": 1}

STYLES = {
    # titles
    "title": {"font_name": FONT, "font_size": 14, "bold": True, "align": "center", "valign": "vcenter"},
    "heading": {"font_name": FONT, "font_size": 13, "bold": True, "align": "center",
                "valign": "vcenter", "text_wrap": True},
    "subtitle": {"font_name": FONT, "font_size": BODY_SIZE, "italic": True, "align": "center",
                 "valign": "vcenter", "text_wrap": True},
    "unit": {"font_name": FONT, "font_size": 13, "bold": True, "align": "center", "valign": "vcenter",
             "text_wrap": True},
    "col_header": {**_CELL, "bold": True, "align": "center", "text_wrap": True, "bg_color": HEADER_FILL},
    "section": {"font_name": FONT, "font_size": BODY_SIZE, "bold": True, "valign": "vcenter",
                "text_wrap": True},
    "status": {**_CELL, "font_size": 11, "bold": True, "align": "center", "text_wrap": True},
    # rows
    "mark": {**_CELL, "align": "center"},
    "label": {**_CELL, "text_wrap": True},
    "hint": {**_CELL, "font_size": 11, "italic": True, "font_color": "#595959", "text_wrap": True},
    "identity": {**_CELL, "bg_color": IDENTITY_FILL, "text_wrap": True, "num_format": "@"},
    "row_number": {**_CELL, "align": "center", "num_format": "0"},
    # guide
    "guide_title": {"font_name": FONT, "font_size": 14, "bold": True, "align": "center",
                    "valign": "vcenter"},
    "guide_heading": {"font_name": FONT, "font_size": 13, "bold": True, "valign": "vcenter"},
    "guide_text": {"font_name": FONT, "font_size": BODY_SIZE, "text_wrap": True, "valign": "top"},
    "guide_bullet": {"font_name": FONT, "font_size": BODY_SIZE, "align": "right", "valign": "top"},
    "swatch_input": {**_CELL, "bg_color": INPUT_FILL},
    "swatch_identity": {**_CELL, "bg_color": IDENTITY_FILL},
    "swatch_formula": {**_CELL, "bg_color": FORMULA_FILL},
    "swatch_missing": {**_CELL, "bg_color": MISSING_FILL},
    "swatch_ok": {**_CELL, "bg_color": OK_FILL, "font_color": OK_FONT, "align": "center"},
    "swatch_bad": {**_CELL, "bg_color": BAD_FILL, "font_color": BAD_FONT, "align": "center"},
    "swatch_warn": {**_CELL, "bg_color": WARN_FILL, "font_color": WARN_FONT, "align": "center"},
    "overall": {**_CELL, "font_size": 13, "bold": True, "align": "center", "text_wrap": True},
    "count": {**_CELL, "align": "center", "bg_color": FORMULA_FILL, "num_format": "0"},
    "plain": {"font_name": FONT, "font_size": BODY_SIZE},
    "meta": {"font_name": FONT, "font_size": 10, "num_format": "@"},
}

CF_STYLES = {
    "missing": {"bg_color": MISSING_FILL},
    "ok": {"bg_color": OK_FILL, "font_color": OK_FONT},
    "bad": {"bg_color": BAD_FILL, "font_color": BAD_FONT},
    "warn": {"bg_color": WARN_FILL, "font_color": WARN_FONT},
}


def _input_style(ftype: str, long_text: bool = False) -> dict:
    align = {"text": "left", "list": "left", "yesno": "center", "date": "center"}.get(ftype, "right")
    return {**_CELL, "bg_color": INPUT_FILL, "locked": False, "num_format": NUM_FORMATS[ftype],
            "align": align, "text_wrap": ftype in ("text", "list")}


def _formula_style(ftype: str) -> dict:
    return {**_CELL, "bg_color": FORMULA_FILL, "num_format": NUM_FORMATS[ftype], "align": "right"}


class Formats:
    """Formats of one workbook, made on first use (xlsxwriter formats belong to a workbook)."""

    def __init__(self, workbook):
        self.workbook = workbook
        self._cache: dict = {}

    def _make(self, key: str, props: dict):
        if key not in self._cache:
            self._cache[key] = self.workbook.add_format(props)
        return self._cache[key]

    def __getitem__(self, name: str):
        return self._make(name, STYLES[name])

    def input(self, ftype: str):
        return self._make(f"input_{ftype}", _input_style(ftype))

    def formula(self, ftype: str):
        return self._make(f"formula_{ftype}", _formula_style(ftype))

    def cf(self, name: str):
        return self._make(f"cf_{name}", CF_STYLES[name])
