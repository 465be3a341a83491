"""What the pristine template of a unit type holds, cell by cell: the reference a return is
compared with, so that anything a unit typed outside the input cells is found wherever it is.

Computed once per (form file, form id, form version, unit type) and cached for the process;
never per file. The description comes from the template's content model
(:mod:`qcdc_xl.template.content`, the same model the generator writes every cell from), made
for a stand-in unit: no template is generated, written or read. The stand-in's code, name and
file name are sentinels, so every text that names the unit (titles «Đơn vị: …», the guide) is
kept as a pattern and compared, for each return, with that return's own identity put in.

:func:`describe` gives the same description of a real workbook (openpyxl or the fast reader);
the tests use it as the oracle the model is compared with (``tests/test_pristine_model.py``).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from qcdc_xl.form.formulas import is_blank
from qcdc_xl.memo import cache_short
from qcdc_xl.template.metadata import KEYS, META_SHEET

# The stand-in unit of the pristine template. The sentinels are texts no form contains, so a
# text holding one is a text that names the unit (or the file) in every real template.
SENTINEL_CODE = "QCDCMAU9Z"
SENTINEL_NAME = "Đơn vị mẫu QCDC9Z"
SENTINEL_FILE = "QCDC9Z_tep_mau.xlsx"
STAND_IN_TIME = dt.datetime(2000, 1, 1)  # the meta sheet's time: a value cell, never compared
_SENTINELS = {SENTINEL_NAME: "ten_don_vi", SENTINEL_CODE: "ma_don_vi", SENTINEL_FILE: "file"}
_SENTINEL_RE = re.compile("|".join(re.escape(s) for s in sorted(_SENTINELS, key=len, reverse=True)))


def text_key(value: str) -> str:
    """Text compared loosely: NFC, runs of white space as one space, no edge spaces."""
    return " ".join(unicodedata.normalize("NFC", value).split())


# The memories below are keyed by a return's texts: hostile files could make them long and
# all different, so a text longer than LONGEST_KEPT is worked out each time, never kept
# (a template's longest text is ~1,500 characters), and the counts bound the rest.
LONGEST_KEPT = 2048


@cache_short(16384, LONGEST_KEPT)  # a template's texts come in every return of it
def _text_key(value: str) -> str:
    return text_key(value)


@cache_short(16384, LONGEST_KEPT)
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
        try:
            return ("n", float(value))
        except OverflowError:  # an integer of hundreds of digits: no number of a template is it
            return ("n", value)
    return ("o", repr(value))


@lru_cache(maxsize=16384)
def _typed_cell_key(kind: type, value: Any, formula: str | None) -> tuple | None:
    return cell_key(value, formula)


_PLAIN = frozenset({str, float, int, bool, type(None)})


def known_cell_key(value: Any, formula: str | None) -> tuple | None:
    """:func:`cell_key`, remembered: a return's cells are mostly its template's, the same
    texts, numbers and formulas in every return. By the value's type too (1, 1.0 and True
    are equal keys of a dict, not the same cell); other values (dates, whose equal ones
    may be written differently across time zones, an array formula's object) and texts
    longer than LONGEST_KEPT are worked out each time."""
    kind = value.__class__
    if kind in _PLAIN and (kind is not str or len(value) <= LONGEST_KEPT) and (
            formula is None or len(formula) <= LONGEST_KEPT):
        return _typed_cell_key(kind, value, formula)
    return cell_key(value, formula)


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
    _row_keys: tuple | None = field(default=None, compare=False, repr=False)  # (sorted_row_keys,)
    _by_col: dict | None = field(default=None, compare=False, repr=False)
    _signature_at: dict | None = field(default=None, compare=False, repr=False)
    _formulas_sorted: list | None = field(default=None, compare=False, repr=False)
    _unlike: dict | None = field(default=None, compare=False, repr=False)  # col -> {text}

    def may_name_the_unit(self, col: int, text: str) -> bool:
        """Whether a text in this column could be one of its titles naming the unit (its
        literal start and end are): what any unit's name cannot change. Most texts of such
        a column are labels, the same in every return: those found unlike every title are
        remembered, and the titles themselves are matched against each return's identity."""
        if self._unlike is None:
            self._unlike = {c: set() for c in self.patterns_by_col()}
        unlike = self._unlike.get(col)
        if unlike is None:
            return False
        if text in unlike:
            return False
        if any(_may_be(text, _pieces(title)) for title in self.patterns_by_col()[col]):
            return True
        if len(text) <= LONGEST_KEPT:
            if len(unlike) >= 4096:  # (bounded: the texts are the returns')
                unlike.clear()
            unlike.add(text)
        return False

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


    def signature_at(self, row: int) -> tuple | None:
        """The signature of one template row (None: the row holds no content), indexed once."""
        if self._signature_at is None:
            self._signature_at = dict(self.signatures)
        return self._signature_at.get(row)

    def sorted_formula_cells(self) -> list:
        """The formula cells' (row, col) in order (sorted once: every return asks)."""
        if self._formulas_sorted is None:
            self._formulas_sorted = sorted(self.formula_cells)
        return self._formulas_sorted

    def signature_row_keys(self) -> list | None:
        """:func:`sorted_row_keys` of the signatures (worked out once: every return asks)."""
        if self._row_keys is None:
            self._row_keys = (sorted_row_keys(self.signatures),)
        return self._row_keys[0]

    def patterns_by_col(self) -> dict:
        """The texts naming the unit, by column: col -> [text] (worked out once)."""
        if self._by_col is None:
            by_col: dict[int, list] = {}
            for (r, c), text in self.patterns.items():
                by_col.setdefault(c, []).append(text)
            self._by_col = by_col
        return self._by_col


def sorted_row_keys(rows: list) -> list | None:
    """The rows of (row, signature) pairs when they are in increasing order, else None."""
    keys = [r for r, _ in rows]
    return keys if all(a < b for a, b in zip(keys, keys[1:])) else None


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


@lru_cache(maxsize=4096)
def _pieces(text: str) -> tuple:
    """The template text cut at its sentinels: (literal, kind, literal, kind, …, literal)."""
    out, pos = [], 0
    for m in _SENTINEL_RE.finditer(text):
        out += [text[pos:m.start()], _SENTINELS[m.group(0)]]
        pos = m.end()
    return tuple(out + [text[pos:]])


def _may_be(value: str, pieces: tuple) -> bool:
    """The test IdentityMatcher.fullmatch starts with, which does not depend on the unit:
    False where it is False for every unit."""
    if len(pieces) == 1:
        return value == pieces[0]
    first, last = pieces[0], pieces[-1]
    return len(value) >= len(first) + len(last) and value.startswith(first) and value.endswith(last)


class IdentityMatcher:
    """Whether a return's cell text is the template text ``text`` (with sentinels) for this
    unit: the unit's own code and name put in (any of the spellings the file holds), the file
    name free (a unit may rename its file; the guide keeps the name it was sent as). Matched
    without compiling a pattern: each return has its own identity, so a compiled one would
    serve one file only (compiling was ≈ 1 ms a return; tests/test_identity_matcher.py keeps
    that regex as the oracle). The text's literal pieces must come in order, each sentinel
    taken by one of the unit's spellings (or, with none or for the file name, by any text;
    the file name holds no «»)."""

    __slots__ = ("pieces", "options")

    def __init__(self, text: str, identity: dict):
        self.pieces = _pieces(text)
        self.options = {kind: tuple(text_key(o) for o in identity.get(kind) or ())
                        for kind in self.pieces[1::2] if kind != "file"}

    def fullmatch(self, value: str) -> bool:
        if not _may_be(value, self.pieces):
            return False  # most texts of the column: not this title at all
        return len(self.pieces) == 1 or self._match(1, value, len(self.pieces[0]))

    def _match(self, i: int, value: str, pos: int) -> bool:
        if i == len(self.pieces):
            return pos == len(value)
        kind, literal = self.pieces[i], self.pieces[i + 1]
        options = self.options.get(kind)
        if options:
            return any(value.startswith(o, pos) and value.startswith(literal, pos + len(o))
                       and self._match(i + 2, value, pos + len(o) + len(literal)) for o in options)
        end = pos
        while True:  # any text (the file name: none of «»), then the literal
            if value.startswith(literal, end) and self._match(i + 2, value, end + len(literal)):
                return True
            if end == len(value) or (kind == "file" and value[end] in "«»"):
                return False
            end += 1


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
    from qcdc_xl.intake.units import Unit
    from qcdc_xl.template.content import check_names, template_content
    from qcdc_xl.template.layout import plan_layout

    layout = plan_layout(form, loai_hinh)
    check_names(form, layout)  # a template the generator refuses has no description
    unit = Unit(SENTINEL_CODE, SENTINEL_NAME, loai_hinh)
    return from_content(template_content(form, unit, layout, SENTINEL_FILE, STAND_IN_TIME), form)


def _shown(cell) -> tuple:
    """(value, formula) of a content cell as a reader of the file sees it: a text written the
    way xlsxwriter's write() writes it is a formula when it starts with '='."""
    value, formula = cell.value, cell.formula
    if formula is None and cell.generic and isinstance(value, str) and value.startswith("=") and len(value) > 1:
        formula, value = value, None
    return value, formula


def from_content(content, form) -> Pristine:
    """The description of the template whose content model is ``content``: what
    :func:`describe` says of that template written and read back (1-based rows and columns,
    as the readers give them)."""
    from qcdc_xl.intake.read import formula_shape

    grids = {name: {(r + 1, c + 1): _shown(cell) for (r, c), cell in sc.grid().items()}
             for name, sc in content.sheets.items()}
    out = Pristine(protected={name: sc.protected for name, sc in content.sheets.items()})
    sheets = {name: PristineSheet(name) for name in content.sheets}
    for fid, (sheet, row0, col0) in content.fields.items():  # where the template's names point
        row, col = row0 + 1, col0 + 1
        sheets[sheet].inputs.add((row, col))
        sheets[sheet].anchors[fid] = row
        out.field_sheets[fid] = sheet
        formula = grids[sheet].get((row, col), (None, None))[1]
        if formula:
            out.formulas[fid] = formula_shape(formula)
    tables = {t.name.casefold(): (sc.name, t) for sc in content.sheets.values() for t in sc.tables}
    for spec in form.tables.values():
        hit = tables.get(spec.name.casefold())
        if hit is not None:
            _describe_table(out, sheets[hit[0]], grids[hit[0]], hit[1], spec)
    for name, page in sheets.items():
        _describe_cells(grids[name].items(), page, name == META_SHEET)
    out.sheets = sheets
    return out


def _describe_table(out: Pristine, page: PristineSheet, grid: dict, table, spec) -> None:
    from qcdc_xl.intake.read import formula_shape

    columns = {cid: table.first_col + 1 + i for i, cid in enumerate(table.column_ids)}
    first, last = table.first_row + 1, table.last_row + 1
    out.table_sheets[spec.name] = page.name
    page.anchors[f"table:{spec.name}:top"] = table.header_row + 1
    page.anchors[f"table:{spec.name}:bottom"] = last
    inputs = {columns[c.id] for c in spec.input_columns if columns.get(c.id)}
    page.inputs |= {(r, c) for r in range(first, last + 1) for c in inputs}
    col = columns.get(spec.row_number_column) if spec.row_number_column else None
    if col:
        page.tt_cells.update({(r, col): spec.name for r in range(first, last + 1)})
    out.tt_formulas[spec.name] = {
        formula_shape(f, r, col) for r in range(first, last + 1)
        if (f := grid.get((r, col), (None, None))[1] if col else None)}


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

    cells = (((row, col), (cell.value, _formula_text(cell))) for (row, col), cell in ws._cells.items())
    _describe_cells(cells, page, ws.title == META_SHEET)


def _describe_cells(cells, page: PristineSheet, meta: bool) -> None:
    """Fill ``page`` from its ((row, col), (value, formula)) cells, 1-based: what is compared,
    what is a pattern, the formulas and each row's signature; inputs left out."""
    cells = list(cells)
    if meta:
        page.inputs |= _meta_value_cells(cells)
    rows: dict[int, dict] = {}
    for (row, col), (value, formula) in cells:
        if (row, col) in page.inputs:
            continue
        key = cell_key(value, formula)
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


def _meta_value_cells(cells: list) -> set:
    """The value cells of the meta sheet (read as the file's identity, not compared)."""
    out = set()
    for (row, col), (value, _formula) in cells:
        if col == 1 and isinstance(value, str) and value.strip() in KEYS:
            out.add((row, 2))
    return out
