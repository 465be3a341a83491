"""Write each unit's Excel template (Hướng dẫn, Thông tin chung, Phụ lục 1, Phụ lục 2, Kiểm tra).

What every cell holds (text, number or formula, merged or not) comes from the content model
:mod:`content` (itself built from :mod:`layout`, :mod:`guide`, :mod:`formulas` and
:mod:`metadata`): this module writes each cell of that model and only adds the formats of
:mod:`xlformats`, validation, conditional colours, row heights and page setup. The reader
knows a pristine template from the same model, so the two cannot drift. A template is
deterministic: the same form, unit and ``generated_at`` give the same bytes.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import zipfile
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from qcdc_xl.form import formulas

from qcdc_xl.template import guide

from qcdc_xl.template import metadata
from qcdc_xl.template.content import (GUIDE_SHEET, GUIDE_WIDTHS, LIST_NAME_PREFIX, Cell, SheetContent, State,
                                      TableContent, block_rules, check_title, check_total_row, field_label,
                                      guide_rows, initial_state, row_filled, template_content, unit_line)
from qcdc_xl.template.content import check_names as _check_names
from qcdc_xl.template.layout import (CHECK_COLS, CHECK_HEADER_ROW, CHECK_OVERALL_ROW, CHECK_SHEET, CHECK_WIDTHS,
                     FieldRow, Layout, SectionBlock, SheetLayout, TableBlock, a1, check_rows,
                     plan_layout, quote_sheet)
from qcdc_xl.form.spec import Form
from qcdc_xl.intake.units import Unit
from qcdc_xl.template.xlformats import WORKBOOK_OPTIONS, Formats
SLUG_MAX = 60
TEXT_MAX_FIELD, TEXT_MAX_TABLE = 255, 1000
PROTECT_OPTIONS = {"format_columns": True, "format_rows": True, "autofilter": True,
                   "select_locked_cells": True, "select_unlocked_cells": True}
LINE_PT = 16.0  # height of one line of Times New Roman 12, in points
# A sheet ending in a table prints down to its last filled row (at least this many rows),
# not 200 empty bordered rows. Excel honours such a formula print area; LibreOffice prints
# the whole sheet instead, and openpyxl warns "Print area cannot be set to Defined name".
DYNAMIC_PRINT_AREA = True
PRINT_MIN_TABLE_ROWS = 10


# ---------------------------------------------------------------- xlsxwriter, faster

_FUNCTION_RE = re.compile(r"([A-Z][A-Z0-9.]*)\(")
# Every function our formulas use exists since Excel 2007: no "_xlfn." prefix is needed.
_CLASSIC_FUNCTIONS = frozenset({"AND", "COUNT", "COUNTA", "COUNTIFS", "IF", "INDEX", "ISERROR", "ISNUMBER",
                                "LEFT", "LEN", "MAX", "MID", "N", "NOT", "OR", "ROW", "SEARCH", "SUM"})


class _Worksheet(Worksheet):
    """xlsxwriter scans each formula with ~400 regexes for newer functions (most of the time of
    a 110-unit run); a formula made only of classic functions needs none of that."""

    def _prepare_formula(self, formula, expand_future_functions=False):
        bare = formula.lstrip("=")
        names = set(_FUNCTION_RE.findall(re.sub(r'"[^"]*"', "", bare)))
        if not formula.startswith("{") and names <= _CLASSIC_FUNCTIONS:
            return bare
        return super()._prepare_formula(formula, expand_future_functions)


class _Workbook(xlsxwriter.Workbook):
    worksheet_class = _Worksheet


# ---------------------------------------------------------------- file names


def slugify(text: str, max_len: int = SLUG_MAX) -> str:
    """ASCII file-name part: accents off, đ → d, lower case, anything else → '_'."""
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:max_len].rstrip("_")


def template_filename(unit: Unit) -> str:
    slug = slugify(unit.ten_don_vi)
    return f"{unit.ma_don_vi}_{slug}.xlsx" if slug else f"{unit.ma_don_vi}.xlsx"


def zip_filename(form: Form) -> str:
    return f"qcdc_{form.id}_bieu_mau.zip"


# ---------------------------------------------------------------- public API


def generate_all(form: Form, units, out_dir: Path, make_zip: bool = False,
                 generated_at: dt.datetime | None = None) -> tuple:
    """One workbook per unit in ``out_dir`` (created); optionally one zip of them all."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated_at = _stamp(generated_at)
    from qcdc_xl.template import stamp  # builds on this module: each unit stamped into its type's template

    units = list(units)
    paths = [out_dir / template_filename(unit) for unit in units]
    stamp.write_all(form, units, paths, generated_at)
    zip_path = _write_zip(out_dir / zip_filename(form), paths, generated_at) if make_zip else None
    return paths, zip_path


def generate_workbook(form: Form, unit: Unit, path, generated_at: dt.datetime | None = None,
                      values: dict | None = None, table_rows: dict | None = None) -> Path:
    """One unit's workbook; ``values``/``table_rows`` pre-fill inputs (tests, samples)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    layout = plan_layout(form, unit.loai_hinh)
    _write(form, unit, layout, path, _stamp(generated_at), dict(values or {}), dict(table_rows or {}))
    return path


def _stamp(generated_at):
    return (generated_at or dt.datetime.now()).replace(microsecond=0)


def _write_zip(zip_path: Path, paths: list, generated_at: dt.datetime) -> Path:
    stamp = max(generated_at, dt.datetime(1980, 1, 1)).timetuple()[:6]
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in paths:
            info = zipfile.ZipInfo(p.name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, p.read_bytes())
    return zip_path


# ---------------------------------------------------------------- the workbook


def _write(form: Form, unit: Unit, layout: Layout, path: Path, generated_at: dt.datetime,
           values: dict, table_rows: dict) -> None:
    _check_names(form, layout)
    state = initial_state(form, unit, layout, values, table_rows)
    content = template_content(form, unit, layout, path.name, generated_at, state)
    wb = _Workbook(str(path), WORKBOOK_OPTIONS)
    fm = Formats(wb)
    _set_properties(wb, form, unit, content.meta, generated_at)
    sheets = {name: wb.add_worksheet(name) for name in content.sheets}  # the workbook's order
    _write_lists(sheets[metadata.LISTS_SHEET], form, fm, content.sheets[metadata.LISTS_SHEET])
    _write_meta(sheets[metadata.META_SHEET], fm, content.sheets[metadata.META_SHEET])
    for name, formula in content.names.items():
        _define_name(wb, name, formula)
    for s in layout.sheets:
        _SheetWriter(wb, form, unit, layout, s, sheets[s.name], fm, state, content.sheets[s.name]).write()
    _write_check_sheet(sheets[CHECK_SHEET], form, unit, layout, fm, state, content.sheets[CHECK_SHEET])
    _write_guide(sheets[GUIDE_SHEET], form, unit, layout, fm, state, path.name, content.sheets[GUIDE_SHEET])
    sheets[GUIDE_SHEET].activate()
    wb.close()


def _set_properties(wb, form: Form, unit: Unit, meta: dict, generated_at: dt.datetime) -> None:
    # Fixed properties (created = generated_at) keep the output byte-identical.
    wb.set_properties({
        "title": guide.nfc(f"{form.name} — {unit.ten_don_vi}"),
        "subject": guide.nfc(f"Biểu mẫu {form.id}, phiên bản {form.version}"),
        "author": "qcdc-xl", "manager": "", "company": guide.nfc(form.issuer or ""),
        "keywords": f"{form.id}, {unit.ma_don_vi}", "comments": "Tạo bởi qcdc-xl generate",
        "created": generated_at,
    })
    for key in metadata.KEYS:
        wb.set_custom_property(metadata.PROP_PREFIX + key, str(meta[key]), "text")


def _write_lists(ws, form: Form, fm: Formats, sc: SheetContent) -> None:
    """The option lists (their names ds_<list> are among the content's defined names)."""
    _write_cells(ws, fm, sc)
    for col in range(len(form.option_lists)):
        ws.set_column(col, col, 36)
    ws.hide()
    _protect(ws, sc)


def _write_meta(ws, fm: Formats, sc: SheetContent) -> None:
    _write_cells(ws, fm, sc)
    ws.set_column(0, 1, 30)
    ws.very_hidden()
    _protect(ws, sc)


# ---------------------------------------------------------------- the model's cells


def _format(fm: Formats, style: str):
    kind, _, ftype = style.partition(":")
    if kind == "input" and ftype:
        return fm.input(ftype)
    if kind == "formula" and ftype:
        return fm.formula(ftype)
    return fm[style]


def _write_cells(ws, fm: Formats, sc: SheetContent) -> None:
    """Every cell of the sheet's content, in the model's order (the order of the shared
    strings); a table's header cells are written by its table object, made where they come."""
    tables = {t.name: t for t in sc.tables}
    for cell in sc.cells:
        if cell.table is not None:
            if cell.col == tables[cell.table].first_col:
                _add_table(ws, fm, tables[cell.table])
            continue
        _write_cell(ws, fm, cell)


def _write_cell(ws, fm: Formats, cell: Cell) -> None:
    fmt, r, c = _format(fm, cell.style), cell.row, cell.col
    value = cell.value
    if cell.formula is not None:
        if cell.last is not None:
            ws.merge_range(r, c, cell.last[0], cell.last[1], "", fmt)
        ws.write_formula(r, c, cell.formula, fmt, cell.cached)
    elif cell.last is not None:
        ws.merge_range(r, c, cell.last[0], cell.last[1], value, fmt)
    elif cell.generic:
        ws.write(r, c, value, fmt)
    elif value is None:
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, str):
        ws.write_string(r, c, value, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(r, c, value, fmt)
    else:
        ws.write_number(r, c, value, fmt)


def _add_table(ws, fm: Formats, t: TableContent) -> None:
    last_col = t.first_col + len(t.headers) - 1
    ws.add_table(t.header_row, t.first_col, t.last_row, last_col, {
        "name": t.name, "style": "Table Style Light 1", "autofilter": True,
        "columns": [{"header": h, "header_format": fm["col_header"]} for h in t.headers]})


def _protect(ws, sc: SheetContent) -> None:
    if sc.protected:
        ws.protect("", PROTECT_OPTIONS)


def _define_name(wb, name: str, formula: str) -> None:
    if wb.define_name(name, formula) != 0:  # xlsxwriter only warns
        raise ValueError(f"Excel refuses the defined name {name!r}")


def _height(text: str, width: float, size: float = 12, bold: bool = False) -> float | None:
    """Row height (points) for wrapped text in a span ``width`` characters wide; None = 1 line."""
    # Times New Roman fits ~1.1 characters per width unit (bold a little less); err on more lines
    per_line = max(width * (1.0 if bold else 1.12) * 12 / size, 1)
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
    return None if lines <= 1 else round(lines * LINE_PT * size / 12 + 3, 1)


def _set_height(ws, row: int, height: float | None) -> None:
    if height:  # None: leave the row at its automatic height
        ws.set_row(row, height)


# ---------------------------------------------------------------- page breaks

A4_PT = (595.0, 842.0)  # portrait width, height in points
PX_PER_WIDTH, PX_PAD = 8, 6  # Times New Roman 12: pixels per width unit, cell padding


def _printable(widths, landscape: bool, margins: tuple) -> tuple:
    """(usable page height in sheet points, scale) under "fit to one page wide"."""
    page_w, page_h = (A4_PT[1], A4_PT[0]) if landscape else A4_PT
    left, right, top, bottom = (m * 72 for m in margins)
    sheet_w = sum(w * PX_PER_WIDTH + PX_PAD for w in widths) * 0.75
    scale = min(1.0, (page_w - left - right) / sheet_w)
    return (page_h - top - bottom) / scale, scale


def _row_pt(ws, row: int) -> float:
    size = ws.row_sizes.get(row)
    return (size[0] if size else WORKBOOK_OPTIONS["default_row_height"]) * 0.75


def _keep_together(ws, spans: list, last_row: int, capacity: float, repeat_pt: float = 0.0) -> None:
    """Manual page breaks so that no span (first row, last row) is cut by a page end: a span
    that does not fit on what is left of a page starts the next one; a span taller than a
    page keeps at least its title and first rows together. Printers break the rest."""
    room = capacity * 0.96  # Excel and LibreOffice round row heights and scale differently
    starts = dict(spans)
    breaks, y = [], 0.0
    for row in range(last_row + 1):
        if row in starts and y > repeat_pt:
            end = starts[row]
            need = sum(_row_pt(ws, r) for r in range(row, end + 1))
            if need > room - repeat_pt:
                need = sum(_row_pt(ws, r) for r in range(row, min(end, row + 4) + 1))
            if y + need > room:
                breaks.append(row)
                y = repeat_pt
        h = _row_pt(ws, row)
        if y + h > capacity and y > repeat_pt:
            y = repeat_pt  # the printer's own break
        y += h
    if breaks:
        ws.set_h_pagebreaks(breaks)


# ---------------------------------------------------------------- a data sheet


class _SheetWriter:
    """Writes one laid-out sheet: its content's cells, then heights, validation, colours of
    its sections, fields and tables, and print setup."""

    def __init__(self, wb, form, unit, layout, sl: SheetLayout, ws, fm: Formats, state: State,
                 sc: SheetContent):
        self.wb, self.form, self.unit, self.layout, self.sl, self.ws = wb, form, unit, layout, sl, ws
        self.fm, self.state, self.sc = fm, state, sc

    def write(self) -> None:
        for col, width in enumerate(self.sl.widths):
            self.ws.set_column(col, col, width)
        _write_cells(self.ws, self.fm, self.sc)
        self._titles()
        for block in self.sl.blocks:
            self._block(block)
        self._page_setup()
        _protect(self.ws, self.sc)

    # -- top of the sheet
    def _span_width(self, first: int, last: int) -> float:
        return sum(self.sl.widths[first:last + 1])

    def _titles(self) -> None:
        last = self.sl.last_col
        for row, text, style in self.sl.title_lines:
            size = 14 if style == "title" else 13 if style == "heading" else 12
            self.ws.set_row(row, _height(text, self._span_width(0, last), size, True) or size * 1.6)
        unit_text = unit_line(self.unit)
        self.ws.set_row(self.sl.unit_row, _height(unit_text, self._span_width(0, last), 13, True) or 21)

    # -- one section
    def _block(self, block: SectionBlock) -> None:
        if block.title_row is not None:
            first, _ = block.status_cols
            title = guide.nfc(block.section.title)
            self.ws.set_row(block.title_row,
                            max(_height(title, self._span_width(0, first - 1), 12, True) or 0, 2 * LINE_PT + 3))
        for row in block.rows:
            self._field_row(row)
        if block.table is not None:
            _TableWriter(self, block.table).write()
        self._status(block)
        self._rule_marks(block)

    def _status(self, block: SectionBlock) -> None:
        first, _ = block.status_cols
        if block.title_row is None:
            self.ws.set_row(block.status_row, 2 * LINE_PT + 3)
        _status_colours(self.ws, self.fm, xl_rowcol_to_cell(block.status_row, first))

    def _field_row(self, fr: FieldRow) -> None:
        ws = self.ws
        label = field_label(fr)
        for fid, col in fr.cells:
            self._field_cell(self.form.fields[fid], fr.row, col)
        heights = [_height(label, self._span_width(*fr.label_cols))]
        for fid, col in fr.cells:  # a long prefilled name wraps in its value cell too
            if self.form.fields[fid].is_identity:
                heights.append(_height(str(self.state.values.get(fid) or ""), self._span_width(col, col)))
        if fr.hint_cols is not None:
            text = guide.nfc(guide.hint(self.form.fields[fr.cells[0][0]]))
            heights.append(_height(text, self._span_width(*fr.hint_cols), 11))
        _set_height(ws, fr.row, max(h or 0 for h in heights))

    def _field_cell(self, field, row: int, col: int) -> None:
        ws, fm = self.ws, self.fm
        if field.is_input:
            _validate(ws, row, col, row, col, field.type, field.min, field.max, field.options_name,
                      guide.field_prompt(self.form, field, TEXT_MAX_FIELD), TEXT_MAX_FIELD, self.form)
            problem = formulas.excel_requirement_problem(field)
            if problem:
                ws.conditional_format(row, col, row, col, {
                    "type": "formula", "criteria": "=" + problem, "format": fm.cf("missing")})

    def _rule_marks(self, block: SectionBlock) -> None:
        """Colour the left cell of a broken rule (red for an error, amber for a warning)."""
        for rule in block_rules(self.form, self.layout, block):
            sheet, row, col = self.layout.positions[rule.left]
            if sheet != self.sl.name:
                continue
            style = "missing" if rule.severity == "error" else "warn"
            self.ws.conditional_format(row, col, row, col, {
                "type": "formula", "criteria": "=" + formulas.excel_rule_violation(rule),
                "format": self.fm.cf(style)})

    # -- printing
    def _page_setup(self) -> None:
        ws, sl = self.ws, self.sl
        ws.set_paper(9)  # A4
        ws.set_landscape() if sl.landscape else ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7, )
        ws.center_horizontally()
        ws.hide_gridlines(2)
        if not self._dynamic_print_area():
            ws.print_area(sl.print_area)
        if sl.repeat_rows:
            ws.repeat_rows(*sl.repeat_rows)
        ws.freeze_panes(sl.freeze_row, 0)
        ws.set_footer(_footer(self.unit))
        self._page_breaks()

    def _page_breaks(self) -> None:
        """Each section starts on a fresh page when the rest of the page cannot hold it."""
        sl = self.sl
        if len(sl.blocks) < 2:
            return
        capacity, _ = _printable(sl.widths, sl.landscape, (0.5, 0.5, 0.6, 0.7))
        repeat = sum(_row_pt(self.ws, r) for r in range(sl.repeat_rows[0], sl.repeat_rows[1] + 1)) \
            if sl.repeat_rows else 0.0
        spans = []
        for b in sl.blocks:
            first = b.title_row if b.title_row is not None else b.status_row
            spans.append((first, b.table.header_row + 3 if b.table is not None else b.last_row))
        _keep_together(self.ws, spans, sl.last_row, capacity, repeat)

    def _dynamic_print_area(self) -> bool:
        sl = self.sl
        last = sl.blocks[-1] if sl.blocks else None
        if not DYNAMIC_PRINT_AREA or last is None or last.table is None:
            return False
        t = last.table
        tt = self.layout.count_range(t.table.name)  # TT = row offset below the header when filled
        name = quote_sheet(sl.name)
        col = xl_col_to_name(sl.last_col)
        _define_name(self.wb, f"{name}!_xlnm.Print_Area",
                     f"={name}!$A$1:INDEX({name}!${col}:${col},"
                     f"{t.header_row + 1}+MAX({PRINT_MIN_TABLE_ROWS},MAX({tt})))")
        return True


def _footer(unit: Unit) -> str:
    name = guide.nfc(unit.ten_don_vi).replace("&", "&&")[:120]
    return f'&L&"Times New Roman,Italic"&10{name}&R&"Times New Roman,Regular"&10Trang &P/&N'


def _status_colours(ws, fm: Formats, cell: str) -> None:
    for mark, style in (("✔", "ok"), ("✘", "bad"), ("⚠", "warn")):
        ws.conditional_format(cell, {"type": "text", "criteria": "begins with", "value": mark,
                                     "format": fm.cf(style)})


def _validate(ws, r0, c0, r1, c1, ftype, lo, hi, options_name, prompt, max_len, form) -> None:
    """One data validation over a range (LibreOffice keeps only one per cell)."""
    opts = {"input_title": prompt.input_title, "input_message": prompt.input_message,
            "error_title": prompt.error_title, "error_message": prompt.error_message,
            "error_type": "stop", "ignore_blank": True}
    if ftype in ("int", "money"):
        opts["validate"] = "integer" if ftype == "int" else "decimal"
        lo = 0 if lo is None else lo
        opts.update({"criteria": "between", "minimum": lo, "maximum": hi} if hi is not None
                    else {"criteria": ">=", "value": lo})
    elif ftype == "date":
        opts.update({"validate": "date", "criteria": "between",
                     "minimum": lo or form.window[0], "maximum": hi or form.window[1]})
    elif ftype in ("yesno", "list"):
        opts.update({"validate": "list", "source": f"={LIST_NAME_PREFIX}{options_name}"})
    else:
        opts.update({"validate": "length", "criteria": "<=", "value": max_len})
    if ws.data_validation(r0, c0, r1, c1, opts) != 0:
        raise ValueError(f"data validation refused for {xl_rowcol_to_cell(r0, c0)}")


# ---------------------------------------------------------------- a table


class _TableWriter:
    """An Excel table with ready rows; TT is a locked formula numbering the filled rows."""

    def __init__(self, sheet: _SheetWriter, block: TableBlock):
        self.sw, self.block, self.table = sheet, block, block.table
        self.rows = sheet.state.table_rows.get(self.table.name, [])

    def write(self) -> None:
        b, ws = self.block, self.sw.ws
        header_height = max(_height(c.header, self.sw.sl.widths[b.first_col + i], 12, True) or 0
                            for i, c in enumerate(self.table.columns))
        _set_height(ws, b.header_row, header_height)
        for i in range(self.table.ready_rows):
            self._row(i)
        for j, column in enumerate(self.table.columns):
            if column.is_input:
                self._column_checks(j, column)

    def _row(self, i: int) -> None:
        b, ws = self.block, self.sw.ws
        row = b.first_row + i
        data = self.rows[i] if i < len(self.rows) else {}
        if row_filled(self.table, data):  # pre-filled rows (samples): tall enough for wrapped text
            _set_height(ws, row, max(_height(str(data.get(c.id) or ""), self.sw.sl.widths[b.first_col + j]) or 0
                                     for j, c in enumerate(self.table.columns)))

    def _column_checks(self, j: int, column) -> None:
        b, ws, fm, form = self.block, self.sw.ws, self.sw.fm, self.sw.form
        col = b.first_col + j
        _validate(ws, b.first_row, col, b.last_row, col, column.type, column.min, column.max,
                  column.options_name, guide.column_prompt(form, self.table.name, column, TEXT_MAX_TABLE),
                  TEXT_MAX_TABLE, form)
        if column.required:  # empty required cell in a filled row (TT shows a number)
            tt = xl_rowcol_to_cell(b.first_row, b.first_col, False, True)
            cell = xl_rowcol_to_cell(b.first_row, col)
            ws.conditional_format(b.first_row, col, b.last_row, col, {
                "type": "formula", "criteria": f'=AND({tt}<>"",LEN({cell})=0)',
                "format": fm.cf("missing")})


# ---------------------------------------------------------------- the "Kiểm tra" sheet


def _write_check_sheet(ws, form: Form, unit: Unit, layout: Layout, fm: Formats, state: State,
                       sc: SheetContent) -> None:
    last = len(CHECK_WIDTHS) - 1
    for col, width in enumerate(CHECK_WIDTHS):
        ws.set_column(col, col, width)
    _write_cells(ws, fm, sc)
    ws.set_row(0, 22)
    ws.set_row(CHECK_HEADER_ROW, 2 * LINE_PT + 3)
    for cr in check_rows(layout):
        _status_colours(ws, fm, a1(cr.row, CHECK_COLS["status"]))
        ws.set_row(cr.row, _height(check_title(cr), CHECK_WIDTHS[CHECK_COLS["section"]]) or 2 * LINE_PT + 3)
    total_row = check_total_row(layout)
    _status_colours(ws, fm, a1(total_row, CHECK_COLS["status"]))
    ws.set_row(total_row, 2 * LINE_PT + 3)
    ws.set_row(CHECK_OVERALL_ROW, 2 * LINE_PT + 5)  # the headline: the totals, worded for the whole form
    _status_colours(ws, fm, a1(CHECK_OVERALL_ROW, 0))
    _check_page_setup(ws, unit, total_row, last)
    _protect(ws, sc)


def _check_page_setup(ws, unit: Unit, last_row: int, last_col: int) -> None:
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    ws.center_horizontally()
    ws.hide_gridlines(2)
    ws.print_area(0, 0, last_row, last_col)
    ws.repeat_rows(CHECK_HEADER_ROW)
    ws.freeze_panes(CHECK_HEADER_ROW + 1, 0)
    ws.set_footer(_footer(unit))


# ---------------------------------------------------------------- the "Hướng dẫn" sheet


def _write_guide(ws, form, unit, layout, fm: Formats, state: State, filename: str, sc: SheetContent) -> None:
    for col, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(col, col, width)
    _write_cells(ws, fm, sc)
    row, parts = 0, []  # parts: (heading row, last row of its part) kept on one page
    for row, line in guide_rows(form, unit, layout, filename):
        if line.style == "heading":
            parts.append([row, row])
        elif line.style != "blank" and parts:
            parts[-1][1] = row
        row = _guide_line(ws, fm, line, row)
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.5, top=0.6, bottom=0.7)
    ws.hide_gridlines(2)
    ws.print_area(0, 0, row - 1, len(GUIDE_WIDTHS) - 1)
    ws.set_footer(_footer(unit))
    capacity, _ = _printable(GUIDE_WIDTHS, False, (0.6, 0.5, 0.6, 0.7))
    _keep_together(ws, [tuple(p) for p in parts], row - 1, capacity)
    _protect(ws, sc)


def _guide_line(ws, fm: Formats, line, row: int) -> int:
    """Heights and colours of one guide line at ``row``; return the next free row."""
    width = GUIDE_WIDTHS[1]
    if line.style == "title":
        ws.set_row(row, 24)
    elif line.style == "subtitle":
        _set_height(ws, row, _height(line.text, sum(GUIDE_WIDTHS)))
    elif line.style == "heading":
        ws.set_row(row, 22)
    elif line.style == "status":
        row += 1
        _status_colours(ws, fm, a1(row, 0))
        ws.set_row(row, 2 * LINE_PT + 5)
    elif line.style == "legend":
        ws.set_row(row, _height(line.text, width) or 20)
    elif line.style in ("text", "bullet"):
        _set_height(ws, row, _height(line.text, width))
    return row + 1
