"""What the pristine template of a unit type holds, cell by cell: the reference a return is
compared with, so that anything a unit typed outside the input cells is found wherever it is.

Computed once per (form file, form id, form version, unit type) and cached for the process;
never per file. Today the description comes from generating a template for a stand-in unit
(the reader does not yet know the layout from the spec alone); the stand-in's code, name and
file name are sentinels, so every text that names the unit (titles «Đơn vị: …», the guide)
is kept as a pattern and compared, for each return, with that return's own identity put in.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from qcdc_xl.form.formulas import is_blank
from qcdc_xl.template.metadata import KEYS, META_SHEET

# The stand-in unit of the pristine template. The sentinels are texts no form contains, so a
# text holding one is a text that names the unit (or the file) in every real template.
SENTINEL_CODE = "QCDCMAU9Z"
SENTINEL_NAME = "Đơn vị mẫu QCDC9Z"
SENTINEL_FILE = "QCDC9Z_tep_mau.xlsx"
_SENTINELS = {SENTINEL_NAME: "ten_don_vi", SENTINEL_CODE: "ma_don_vi", SENTINEL_FILE: "file"}
_SENTINEL_RE = re.compile("|".join(re.escape(s) for s in sorted(_SENTINELS, key=len, reverse=True)))


def text_key(value: str) -> str:
    """Text compared loosely: NFC, runs of white space as one space, no edge spaces."""
    return " ".join(unicodedata.normalize("NFC", value).split())


@lru_cache(maxsize=65536)  # a template's texts come in every return of it
def _text_key(value: str) -> str:
    return text_key(value)


@lru_cache(maxsize=16384)
def _shape(formula: str) -> str:
    from qcdc_xl.intake.read import formula_shape

    return formula_shape(formula)


def cell_key(value: Any, formula: str | None) -> tuple | None:
    """What a cell holds, comparable between a template and a return (None: nothing). A
    formula by its shape (sheet names and rows taken out: a row insert or a sheet rename
    moves what it points at, not what it is); the same formula texts come in every return,
    so their shapes are remembered."""
    if formula is not None:
        return ("f", _shape(formula))
    if is_blank(value):
        return None
    if isinstance(value, str):
        return ("s", _text_key(value))
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (dt.date, dt.datetime)):
        return ("d", value.isoformat())
    if isinstance(value, (int, float)):
        return ("n", float(value))
    return ("o", repr(value))


@dataclass
class PristineSheet:
    """One sheet of the pristine template."""

    name: str
    cells: dict = field(default_factory=dict)  # (row, col) -> cell_key of template content
    patterns: dict = field(default_factory=dict)  # (row, col) -> text naming the unit (sentinels)
    inputs: set = field(default_factory=set)  # (row, col) read by name or as table rows
    formula_cells: dict = field(default_factory=dict)  # (row, col) -> shape, fields excepted
    signatures: list = field(default_factory=list)  # (row, signature) of rows holding content
    anchors: dict = field(default_factory=dict)  # field id / "table:<name>:top|bottom" -> row
    tt_cells: dict = field(default_factory=dict)  # (row, col) of a TT formula -> table name

    _by_row: dict | None = field(default=None, compare=False, repr=False)

    def expected(self, row: int, col: int):
        return self.cells.get((row, col))

    def row_cells(self, row: int) -> list:
        """[(col, cell_key)] of the template's content in one row (indexed once: the
        comparison asks for every anchor of every return)."""
        if self._by_row is None:
            by_row: dict = {}
            for (r, c), key in self.cells.items():
                by_row.setdefault(r, []).append((c, key))
            self._by_row = by_row
        return self._by_row.get(row, [])


@dataclass
class Pristine:
    """What the pristine template of one unit type holds besides its inputs."""

    protected: dict = field(default_factory=dict)  # sheet name -> protection on
    tt_formulas: dict = field(default_factory=dict)  # table name -> TT formula shapes (by row)
    formulas: dict = field(default_factory=dict)  # field id -> formula shape
    sheets: dict = field(default_factory=dict)  # sheet name -> PristineSheet
    field_sheets: dict = field(default_factory=dict)  # field id -> sheet name
    table_sheets: dict = field(default_factory=dict)  # table name -> sheet name


def signature(cells: dict) -> tuple:
    """A row's content as one comparable value: (col, key) in column order."""
    return tuple(sorted(cells.items()))


def identity_pattern(text: str, identity: dict) -> re.Pattern:
    """The template text ``text`` (with sentinels) as a pattern for the same cell of one
    return: the unit's own code and name put in (any of the spellings the file holds), the
    file name free (a unit may rename its file; the guide keeps the name it was sent as)."""
    parts, pos = [], 0
    for m in _SENTINEL_RE.finditer(text):
        parts.append(re.escape(text[pos:m.start()]))
        kind = _SENTINELS[m.group(0)]
        options = sorted(identity.get(kind) or (), key=len, reverse=True)
        if kind == "file" or not options:
            parts.append(r"[^«»]*" if kind == "file" else r".*?")
        else:
            parts.append("(?:" + "|".join(re.escape(text_key(o)) for o in options) + ")")
        pos = m.end()
    parts.append(re.escape(text[pos:]))
    return re.compile("".join(parts), re.DOTALL)


# ---------------------------------------------------------------- building it

_CACHE: dict[tuple, Pristine | None] = {}


def pristine(form, loai_hinh: str) -> Pristine | None:
    """The pristine description of this form's template for one unit type (cached per form
    file, id, version and type); None when it cannot be made."""
    key = (str(form.path), form.id, form.version, loai_hinh)
    if key not in _CACHE:
        try:
            _CACHE[key] = _build(form, loai_hinh) if loai_hinh in form.unit_types else None
        except Exception:  # the generator failed: the checks do without template content
            _CACHE[key] = None
    return _CACHE[key]


def _build(form, loai_hinh: str) -> Pristine:
    from qcdc_xl.template.generate import generate_workbook
    from qcdc_xl.intake.read import load_quietly
    from qcdc_xl.intake.units import Unit

    unit = Unit(SENTINEL_CODE, SENTINEL_NAME, loai_hinh)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / SENTINEL_FILE
        generate_workbook(form, unit, path)
        data = path.read_bytes()
    return describe(_workbook(data, load_quietly), form)


def _workbook(data: bytes, load_quietly):
    """The template as the fast reader sees it (the same description: test_fast_reader),
    else as openpyxl loads it."""
    from qcdc_xl.intake.fastread import NotFast, open_fast

    try:
        return open_fast(data).wb
    except NotFast:
        return load_quietly(io.BytesIO(data))


def describe(wb, form) -> Pristine:
    """The description of a pristine workbook (openpyxl, formulas kept)."""
    from qcdc_xl.intake.read import _Book, _find_tables, _formula_text, _peek, _table_area, formula_shape, read_fields

    book = _Book(wb=wb, cached={})
    fields, taken = read_fields(book, form)
    out = Pristine(protected={ws.title: bool(ws.protection.sheet) for ws in wb.worksheets},
                   formulas={fid: formula_shape(r.formula) for fid, r in fields.items() if r.formula},
                   field_sheets={fid: r.sheet for fid, r in fields.items()})
    sheets = {ws.title: PristineSheet(ws.title) for ws in wb.worksheets}
    for (sheet, row, col) in taken:
        sheets[sheet].inputs.add((row, col))
    for fid, r in fields.items():
        sheets[r.sheet].anchors[fid] = int(re.sub(r"^[A-Z]+", "", r.cell))
    found = _find_tables(wb)
    for spec in form.tables.values():
        hit = found.get(spec.name.casefold())
        if hit is None:
            continue
        area = _table_area(*hit, spec)
        page = sheets[area.ws.title]
        out.table_sheets[spec.name] = area.ws.title
        page.anchors[f"table:{spec.name}:top"] = area.header_row
        page.anchors[f"table:{spec.name}:bottom"] = area.bottom
        inputs = {area.columns[c.id] for c in spec.input_columns if area.columns.get(c.id)}
        page.inputs |= {(r, c) for r in range(area.first, area.last + 1) for c in inputs}
        col = area.columns.get(spec.row_number_column) if spec.row_number_column else None
        if col:
            page.tt_cells.update({(r, col): spec.name for r in range(area.first, area.last + 1)})
        out.tt_formulas[spec.name] = {
            formula_shape(f, r, col) for r in range(area.first, area.last + 1)
            if (f := _formula_text(_peek(area.ws, r, col)) if col else None)}
    for ws in wb.worksheets:
        _describe_sheet(ws, sheets[ws.title])
    out.sheets = sheets
    return out


def _describe_sheet(ws, page: PristineSheet) -> None:
    from qcdc_xl.intake.read import _formula_text

    meta_values = _meta_value_cells(ws) if ws.title == META_SHEET else set()
    page.inputs |= meta_values
    rows: dict[int, dict] = {}
    for (row, col), cell in ws._cells.items():
        if (row, col) in page.inputs:
            continue
        formula = _formula_text(cell)
        key = cell_key(cell.value, formula)
        if key is None:
            continue
        if key[0] == "s" and _SENTINEL_RE.search(key[1]):
            page.patterns[(row, col)] = key[1]  # differs from unit to unit: compared as a pattern
            rows.setdefault(row, {})[col] = ("p", key[1])
            continue
        page.cells[(row, col)] = key
        if formula is not None:
            page.formula_cells[(row, col)] = key[1]
        rows.setdefault(row, {})[col] = key
    page.signatures = [(row, signature(cells)) for row, cells in sorted(rows.items())]


def _meta_value_cells(ws) -> set:
    """The value cells of the meta sheet (read as the file's identity, not compared)."""
    out = set()
    for (row, col), cell in ws._cells.items():
        if col == 1 and isinstance(cell.value, str) and cell.value.strip() in KEYS:
            out.add((row, 2))
    return out
