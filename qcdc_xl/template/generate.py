"""Write each unit's Excel template (Hướng dẫn, Thông tin chung, Phụ lục 1, Phụ lục 2, Kiểm tra).

Where things go comes from :mod:`layout`, the words from :mod:`guide`, the formats from
:mod:`xlformats`, every formula and its Python twin from :mod:`formulas`, the hidden identity
from :mod:`metadata`. This module only puts them together, so a template is deterministic:
the same form, unit and ``generated_at`` give the same bytes.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from qcdc_xl.form import formulas

from qcdc_xl.template import guide

from qcdc_xl.template import metadata
from qcdc_xl.template.layout import (CHECK_COLS, CHECK_HEADER_ROW, CHECK_OVERALL_ROW, CHECK_SHEET, CHECK_WIDTHS,
                     FieldRow, Layout, SectionBlock, SheetLayout, TableBlock, a1, check_rows,
                     plan_layout, quote_sheet)
from qcdc_xl.form.spec import EXCEL_SHEET_NAME_MAX, Form, SpecError
from qcdc_xl.intake.units import Unit, canonical_option
from qcdc_xl.template.xlformats import WORKBOOK_OPTIONS, Formats

GUIDE_SHEET = "Hướng dẫn"
LIST_NAME_PREFIX = "ds_"  # defined names of option lists: ds_<list id>
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


# ---------------------------------------------------------------- what the cells hold


@dataclass
class _State:
    """The values a workbook starts with, and what every formula shows for them."""

    values: dict  # field id -> typed value (identity included)
    table_rows: dict  # table -> list of rows (column id -> value)
    row_counts: dict  # table -> number of filled rows
    derived: dict  # formula field id -> value
    checks: dict  # section id -> counts dict (missing, not_empty, errors, warnings)


def _initial_state(form: Form, unit: Unit, layout: Layout, values: dict, table_rows: dict) -> _State:
    _check_prefill(form, layout, values, table_rows)
    typed = {f.id: unit.attr(f.prefill) or None
             for f in form.fields_for(unit.loai_hinh) if f.prefill}
    for f in form.input_fields(unit.loai_hinh):
        if f.prefill_optional and unit.attr(f.prefill_optional):
            typed[f.id] = canonical_option(unit.attr(f.prefill_optional), f.options)
    typed.update(values)
    rows = {t.name: list(table_rows.get(t.name, [])) for t in form.tables_for(unit.loai_hinh)}
    counts = {name: sum(1 for r in rs if _row_filled(form.tables[name], r)) for name, rs in rows.items()}
    derived = formulas.compute_derived(form, unit.loai_hinh, typed, counts)
    state = _State(typed, rows, counts, derived, {})
    everything = {**typed, **derived}
    for s in layout.sheets:
        for block in s.blocks:
            state.checks[block.section.id] = _block_counts(form, layout, block, everything, rows)
    return state


def _check_prefill(form: Form, layout: Layout, values: dict, table_rows: dict) -> None:
    for fid in values:
        f = form.fields.get(fid)
        if f is None or fid not in layout.field_cells or not f.is_input:
            raise ValueError(f"values: '{fid}' is not an input field of this unit's template")
    for name, rows in table_rows.items():
        if name not in layout.table_refs:
            raise ValueError(f"table_rows: '{name}' is not a table of this unit's template")
        if len(rows) > form.tables[name].ready_rows:
            raise ValueError(f"table_rows: {len(rows)} rows for '{name}' exceed its ready rows")


def _row_filled(table, row: dict) -> bool:
    return any(not formulas.is_blank(row.get(c.id)) for c in table.input_columns)


def _block_fields(form: Form, block: SectionBlock) -> list:
    return [form.fields[fid] for r in block.rows for fid, _ in r.cells]


def _block_rules(form: Form, layout: Layout, block: SectionBlock) -> list:
    ids = set(block.section.rule_ids)
    return [r for r in form.rules if r.id in ids
            and r.left in layout.field_cells and r.right in layout.field_cells]


def _block_counts(form, layout, block, values: dict, rows: dict) -> dict:
    """Python twin of the check formulas of one section."""
    problems = [formulas.requirement(f, values) for f in _block_fields(form, block) if f.is_input]
    rules = _block_rules(form, layout, block)
    violated = [r for r in rules if formulas.rule_violated(r, values)]
    missing = problems.count("missing")
    if block.table is not None:
        table = block.table.table
        missing += sum(1 for r in rows[table.name] if _row_filled(table, r)
                       for c in table.input_columns if c.required and formulas.is_blank(r.get(c.id)))
    return {"missing": missing, "not_empty": problems.count("not_empty"),
            "errors": sum(r.severity == "error" for r in violated),
            "warnings": sum(r.severity == "warning" for r in violated)}


def _total_counts(state: _State) -> dict:
    keys = ("missing", "not_empty", "errors", "warnings")
    return {k: sum(c[k] for c in state.checks.values()) for k in keys}


# ---------------------------------------------------------------- the workbook


def _write(form: Form, unit: Unit, layout: Layout, path: Path, generated_at: dt.datetime,
           values: dict, table_rows: dict) -> None:
    _check_names(form, layout)
    state = _initial_state(form, unit, layout, values, table_rows)
    wb = _Workbook(str(path), WORKBOOK_OPTIONS)
    fm = Formats(wb)
    meta = metadata.build_meta(form.id, form.version, unit.ma_don_vi, unit.loai_hinh,
                               generated_at.isoformat(timespec="seconds"))
    _set_properties(wb, form, unit, meta, generated_at)
    sheets = {GUIDE_SHEET: wb.add_worksheet(GUIDE_SHEET)}
    for s in layout.sheets:
        sheets[s.name] = wb.add_worksheet(s.name)
    sheets[CHECK_SHEET] = wb.add_worksheet(CHECK_SHEET)
    _write_lists(wb, wb.add_worksheet(metadata.LISTS_SHEET), form, fm)
    _write_meta(wb.add_worksheet(metadata.META_SHEET), meta, fm)
    _define_field_names(wb, layout)
    for s in layout.sheets:
        _SheetWriter(wb, form, unit, layout, s, sheets[s.name], fm, state).write()
    _write_check_sheet(sheets[CHECK_SHEET], form, unit, layout, fm, state)
    _write_guide(sheets[GUIDE_SHEET], form, unit, layout, fm, state, path.name)
    sheets[GUIDE_SHEET].activate()
    wb.close()


def _check_names(form: Form, layout: Layout) -> None:
    """Excel limits and clashes, checked before anything is written."""
    names = [GUIDE_SHEET, *(s.name for s in layout.sheets), CHECK_SHEET,
             metadata.LISTS_SHEET, metadata.META_SHEET]
    folded = [n.casefold() for n in names]
    for n in names:
        if len(n) > EXCEL_SHEET_NAME_MAX or folded.count(n.casefold()) > 1:
            raise SpecError(form.path or "biểu mẫu", None,
                            f"tên trang '{n}' dài quá {EXCEL_SHEET_NAME_MAX} ký tự hoặc trùng với "
                            f"trang khác của biểu mẫu.")
    for name in form.option_lists:
        if LIST_NAME_PREFIX + name in form.fields:
            raise SpecError(form.path or "biểu mẫu", form.fields[LIST_NAME_PREFIX + name].line,
                            f"mã trường '{LIST_NAME_PREFIX + name}' trùng tên danh sách lựa chọn.")


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


def _write_lists(wb, ws, form: Form, fm: Formats) -> None:
    """Every option list in its own column, named ds_<list>: validation sources that may
    hold commas (a literal list would split "DN cổ phần, DN tư nhân")."""
    for col, (name, options) in enumerate(form.option_lists.items()):
        ws.write_string(0, col, name, fm["meta"])
        for i, option in enumerate(options, start=1):
            ws.write_string(i, col, guide.nfc(option), fm["meta"])
        letter = xl_col_to_name(col)
        _define_name(wb, LIST_NAME_PREFIX + name,
                       f"={quote_sheet(metadata.LISTS_SHEET)}!${letter}$2:${letter}${len(options) + 1}")
        ws.set_column(col, col, 36)
    ws.hide()
    ws.protect("", PROTECT_OPTIONS)


def _write_meta(ws, meta: dict, fm: Formats) -> None:
    for row, key in enumerate(metadata.KEYS):
        ws.write_string(row, 0, key, fm["meta"])
        ws.write_string(row, 1, str(meta[key]), fm["meta"])
    ws.set_column(0, 1, 30)
    ws.very_hidden()
    ws.protect("", PROTECT_OPTIONS)


def _define_name(wb, name: str, formula: str) -> None:
    if wb.define_name(name, formula) != 0:  # xlsxwriter only warns
        raise ValueError(f"Excel refuses the defined name {name!r}")


def _define_field_names(wb, layout: Layout) -> None:
    for fid, (sheet, row, col) in layout.positions.items():
        _define_name(wb, fid, f"={quote_sheet(sheet)}!{xl_rowcol_to_cell(row, col, True, True)}")


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


def _cached(value):
    # xlsxwriter writes None literally; a blank result is an empty cached value.
    return "" if value is None else value


# ---------------------------------------------------------------- a data sheet


class _SheetWriter:
    """Writes one laid-out sheet: titles, sections, fields, tables, checks, print setup."""

    def __init__(self, wb, form, unit, layout, sl: SheetLayout, ws, fm: Formats, state: _State):
        self.wb, self.form, self.unit, self.layout, self.sl, self.ws = wb, form, unit, layout, sl, ws
        self.fm, self.state = fm, state
        self.check_row = {c.block.section.id: c.row for c in check_rows(layout)}

    def write(self) -> None:
        for col, width in enumerate(self.sl.widths):
            self.ws.set_column(col, col, width)
        self._titles()
        if self.sl.column_header_row is not None:
            self._column_headers()
        for block in self.sl.blocks:
            self._block(block)
        self._page_setup()
        self.ws.protect("", PROTECT_OPTIONS)

    # -- top of the sheet
    def _merged(self, row: int, first: int, last: int, text, fmt) -> None:
        if first == last:
            self.ws.write(row, first, text, fmt)
        else:
            self.ws.merge_range(row, first, row, last, text, fmt)

    def _span_width(self, first: int, last: int) -> float:
        return sum(self.sl.widths[first:last + 1])

    def _titles(self) -> None:
        last = self.sl.last_col
        for row, text, style in self.sl.title_lines:
            self._merged(row, 0, last, guide.nfc(text), self.fm[style])
            size = 14 if style == "title" else 13 if style == "heading" else 12
            self.ws.set_row(row, _height(text, self._span_width(0, last), size, True) or size * 1.6)
        unit_text = guide.nfc(f"Đơn vị: {self.unit.ten_don_vi}")
        self._merged(self.sl.unit_row, 0, last, unit_text, self.fm["unit"])
        self.ws.set_row(self.sl.unit_row, _height(unit_text, self._span_width(0, last), 13, True) or 21)

    def _column_headers(self) -> None:
        row = self.sl.column_header_row
        texts = ["STT", "Nội dung", "Số liệu, thông tin", "Ghi chú"]
        for col in range(self.sl.last_col + 1):
            self.ws.write_string(row, col, texts[col] if col < len(texts) else "", self.fm["col_header"])

    # -- one section
    def _block(self, block: SectionBlock) -> None:
        if block.title_row is not None:
            first, _ = block.status_cols
            title = guide.nfc(block.section.title)
            self._merged(block.title_row, 0, first - 1, title, self.fm["section"])
            self.ws.set_row(block.title_row,
                            max(_height(title, self._span_width(0, first - 1), 12, True) or 0, 2 * LINE_PT + 3))
        if block.header_row is not None:
            self._grid_header(block)
        for row in block.rows:
            self._field_row(row)
        if block.table is not None:
            _TableWriter(self, block.table).write()
        self._status(block)
        self._rule_marks(block)

    def _status(self, block: SectionBlock) -> None:
        first, last = block.status_cols
        ref = f"={quote_sheet(CHECK_SHEET)}!${xl_col_to_name(CHECK_COLS['status'])}${self.check_row[block.section.id] + 1}"
        text = guide.status_text(self.state.checks[block.section.id])
        if first != last:
            self.ws.merge_range(block.status_row, first, block.status_row, last, "", self.fm["status"])
        self.ws.write_formula(block.status_row, first, ref, self.fm["status"], text)
        if block.title_row is None:
            self.ws.set_row(block.status_row, 2 * LINE_PT + 3)
        _status_colours(self.ws, self.fm, xl_rowcol_to_cell(block.status_row, first))

    def _grid_header(self, block: SectionBlock) -> None:
        row, fmt = block.header_row, self.fm["col_header"]
        self.ws.write_string(row, 0, "TT", fmt)
        self.ws.write_string(row, 1, "Chỉ tiêu", fmt)
        for i, text in enumerate(block.grid_headers):
            self.ws.write_string(row, 2 + i, text, fmt)

    def _field_row(self, fr: FieldRow) -> None:
        ws, fm = self.ws, self.fm
        label = guide.nfc(fr.label + (" *" if fr.required else ""))
        if fr.label_cols[0] > 0:
            ws.write_string(fr.row, 0, fr.mark, fm["mark"])
        self._merged(fr.row, fr.label_cols[0], fr.label_cols[1], label, fm["label"])
        for fid, col in fr.cells:
            self._field_cell(self.form.fields[fid], fr.row, col)
        heights = [_height(label, self._span_width(*fr.label_cols))]
        for fid, col in fr.cells:  # a long prefilled name wraps in its value cell too
            if self.form.fields[fid].is_identity:
                heights.append(_height(str(self.state.values.get(fid) or ""), self._span_width(col, col)))
        if fr.hint_cols is not None:
            text = guide.nfc(guide.hint(self.form.fields[fr.cells[0][0]]))
            self._merged(fr.row, fr.hint_cols[0], fr.hint_cols[1], text, fm["hint"])
            heights.append(_height(text, self._span_width(*fr.hint_cols), 11))
        _set_height(ws, fr.row, max(h or 0 for h in heights))

    def _field_cell(self, field, row: int, col: int) -> None:
        ws, fm, state = self.ws, self.fm, self.state
        if field.is_formula:
            formula = formulas.excel_formula(field, self.layout.count_range)
            ws.write_formula(row, col, formula, fm.formula(field.type), _cached(state.derived[field.id]))
        elif field.is_identity:
            ws.write_string(row, col, guide.nfc(str(state.values.get(field.id) or "")), fm["identity"])
        else:
            _write_input(ws, row, col, state.values.get(field.id), fm.input(field.type))
            _validate(ws, row, col, row, col, field.type, field.min, field.max, field.options_name,
                      guide.field_prompt(self.form, field, TEXT_MAX_FIELD), TEXT_MAX_FIELD, self.form)
            problem = formulas.excel_requirement_problem(field)
            if problem:
                ws.conditional_format(row, col, row, col, {
                    "type": "formula", "criteria": "=" + problem, "format": fm.cf("missing")})

    def _rule_marks(self, block: SectionBlock) -> None:
        """Colour the left cell of a broken rule (red for an error, amber for a warning)."""
        for rule in _block_rules(self.form, self.layout, block):
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


def _write_input(ws, row: int, col: int, value, fmt) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(row, col, value, fmt)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, guide.nfc(str(value)), fmt)


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
        b, ws, fm = self.block, self.sw.ws, self.sw.fm
        ws.add_table(b.header_row, b.first_col, b.last_row, b.last_col, {
            "name": self.table.name, "style": "Table Style Light 1", "autofilter": True,
            "columns": [{"header": guide.nfc(c.header), "header_format": fm["col_header"]}
                        for c in self.table.columns]})
        header_height = max(_height(c.header, self.sw.sl.widths[b.first_col + i], 12, True) or 0
                            for i, c in enumerate(self.table.columns))
        _set_height(ws, b.header_row, header_height)
        for i in range(self.table.ready_rows):
            self._row(i)
        for j, column in enumerate(self.table.columns):
            if column.is_input:
                self._column_checks(j, column)

    def _row(self, i: int) -> None:
        b, ws, fm = self.block, self.sw.ws, self.sw.fm
        row = b.first_row + i
        data = self.rows[i] if i < len(self.rows) else {}
        filled = _row_filled(self.table, data)
        if filled:  # pre-filled rows (samples): tall enough for wrapped text
            _set_height(ws, row, max(_height(str(data.get(c.id) or ""), self.sw.sl.widths[b.first_col + j]) or 0
                                     for j, c in enumerate(self.table.columns)))
        for j, column in enumerate(self.table.columns):
            col = b.first_col + j
            if column.is_input:
                _write_input(ws, row, col, data.get(column.id), fm.input(column.type))
            else:
                ws.write_formula(row, col, self._tt_formula(row), fm["row_number"], i + 1 if filled else "")

    def _tt_formula(self, row: int) -> str:
        # Plain A1 references (no structured refs): LibreOffice reads them the same way.
        b = self.block
        first = xl_rowcol_to_cell(row, b.first_col + 1, False, True)
        last = xl_rowcol_to_cell(row, b.last_col, False, True)
        header = xl_rowcol_to_cell(b.header_row, b.first_col, True, True)
        return f'=IF(COUNTA({first}:{last})=0,"",ROW()-ROW({header}))'

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


def _check_formulas(form: Form, layout: Layout, block: SectionBlock) -> dict:
    """Excel formulas counting a section's problems, twins of :func:`_block_counts`."""
    fields = [f for f in _block_fields(form, block) if f.is_input]
    problems = [(f, formulas.excel_requirement_problem(f)) for f in fields]
    problems = [(f, p) for f, p in problems if p]
    rules = _block_rules(form, layout, block)
    missing = formulas.excel_count_true(f"AND({p},LEN({f.id})=0)" for f, p in problems)
    if block.table is not None:
        table = block.table.table
        tt = layout.count_range(table.name)
        missing += "".join(f'+COUNTIFS({tt},">0",{layout.column_range(table.name, c.id)},"")'
                           for c in table.input_columns if c.required)
    return {
        "missing": missing,
        "not_empty": formulas.excel_count_true(f"AND({p},LEN({f.id})>0)" for f, p in problems),
        "errors": formulas.excel_count_true(formulas.excel_rule_violation(r)
                                            for r in rules if r.severity == "error"),
        "warnings": formulas.excel_count_true(formulas.excel_rule_violation(r)
                                              for r in rules if r.severity == "warning"),
    }


_CHECK_HEADERS = {"stt": "STT", "section": "Mục", "sheet": "Trang", "missing": "Ô bắt buộc còn trống",
                  "not_empty": "Ô phải để trống", "errors": "Số liệu mâu thuẫn",
                  "warnings": "Số liệu cần xem lại", "status": "Tình trạng"}
_COUNT_KEYS = ("missing", "not_empty", "errors", "warnings")


def _write_check_sheet(ws, form: Form, unit: Unit, layout: Layout, fm: Formats, state: _State) -> None:
    last = len(CHECK_WIDTHS) - 1
    for col, width in enumerate(CHECK_WIDTHS):
        ws.set_column(col, col, width)
    ws.merge_range(0, 0, 0, last, "KIỂM TRA TRƯỚC KHI GỬI", fm["title"])
    ws.set_row(0, 22)
    ws.merge_range(1, 0, 1, last, guide.nfc(f"Đơn vị: {unit.ten_don_vi}"), fm["unit"])
    ws.merge_range(4, 0, 4, last, "Bảng tự cập nhật khi điền. Mọi mục phải màu xanh trước khi gửi; "
                                  "mục màu đỏ: sửa các ô được tô màu ở trang tương ứng.", fm["subtitle"])
    for key, col in CHECK_COLS.items():
        ws.write_string(CHECK_HEADER_ROW, col, _CHECK_HEADERS[key], fm["col_header"])
    ws.set_row(CHECK_HEADER_ROW, 2 * LINE_PT + 3)
    rows = check_rows(layout)
    for i, cr in enumerate(rows, start=1):
        _check_row(ws, form, layout, fm, state, cr, i)
    total_row = rows[-1].row + 1 if rows else CHECK_HEADER_ROW + 1
    _check_total(ws, fm, state, rows, total_row)
    _check_page_setup(ws, unit, total_row, last)
    ws.protect("", PROTECT_OPTIONS)


def _check_row(ws, form, layout, fm, state, cr, number: int) -> None:
    block, row = cr.block, cr.row
    title = block.section.title or cr.sheet.sheet.heading or cr.sheet.name
    ws.write_number(row, CHECK_COLS["stt"], number, fm["mark"])
    ws.write_string(row, CHECK_COLS["section"], guide.nfc(title), fm["label"])
    ws.write_string(row, CHECK_COLS["sheet"], cr.sheet.name, fm["mark"])
    counts = state.checks[block.section.id]
    for key, formula in _check_formulas(form, layout, block).items():
        ws.write_formula(row, CHECK_COLS[key], formula, fm["count"], counts[key])
    refs = {k: a1(row, CHECK_COLS[k]) for k in _COUNT_KEYS}
    ws.write_formula(row, CHECK_COLS["status"], guide.status_formula(refs), fm["status"],
                     guide.status_text(counts))
    _status_colours(ws, fm, a1(row, CHECK_COLS["status"]))
    ws.set_row(row, _height(title, CHECK_WIDTHS[CHECK_COLS["section"]]) or 2 * LINE_PT + 3)


def _check_total(ws, fm, state, rows, total_row: int) -> None:
    ws.merge_range(total_row, 0, total_row, CHECK_COLS["sheet"], "Cả biểu mẫu", fm["col_header"])
    totals = _total_counts(state)
    for key in _COUNT_KEYS:
        col = CHECK_COLS[key]
        rng = f"{a1(rows[0].row, col)}:{a1(rows[-1].row, col)}" if rows else "0"
        ws.write_formula(total_row, col, f"=SUM({rng})", fm["count"], totals[key])
    refs = {k: a1(total_row, CHECK_COLS[k]) for k in _COUNT_KEYS}
    ws.write_formula(total_row, CHECK_COLS["status"], guide.status_formula(refs), fm["status"],
                     guide.status_text(totals))
    _status_colours(ws, fm, a1(total_row, CHECK_COLS["status"]))
    ws.set_row(total_row, 2 * LINE_PT + 3)
    # The headline: the same totals, worded for the whole form.
    last = len(CHECK_WIDTHS) - 1
    ws.merge_range(CHECK_OVERALL_ROW, 0, CHECK_OVERALL_ROW, last, "", fm["overall"])
    ws.write_formula(CHECK_OVERALL_ROW, 0, guide.status_formula(refs, overall=True), fm["overall"],
                     guide.status_text(totals, overall=True))
    ws.set_row(CHECK_OVERALL_ROW, 2 * LINE_PT + 5)
    _status_colours(ws, fm, a1(CHECK_OVERALL_ROW, 0))


def overall_ref() -> str:
    """The cell holding the whole form's status (for the guide and for other modules)."""
    return f"{quote_sheet(CHECK_SHEET)}!{xl_rowcol_to_cell(CHECK_OVERALL_ROW, 0, True, True)}"


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

GUIDE_WIDTHS = (8, 96)


def _write_guide(ws, form, unit, layout, fm: Formats, state: _State, filename: str) -> None:
    for col, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(col, col, width)
    row, parts = 0, []  # parts: (heading row, last row of its part) kept on one page
    for line in guide.guide_lines(form, unit, layout, filename):
        if line.style == "heading":
            parts.append([row, row])
        elif line.style != "blank" and parts:
            parts[-1][1] = row
        row = _guide_line(ws, fm, state, line, row)
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.5, top=0.6, bottom=0.7)
    ws.hide_gridlines(2)
    ws.print_area(0, 0, row - 1, len(GUIDE_WIDTHS) - 1)
    ws.set_footer(_footer(unit))
    capacity, _ = _printable(GUIDE_WIDTHS, False, (0.6, 0.5, 0.6, 0.7))
    _keep_together(ws, [tuple(p) for p in parts], row - 1, capacity)
    ws.protect("", PROTECT_OPTIONS)


def _guide_line(ws, fm: Formats, state: _State, line, row: int) -> int:
    """Write one guide line at ``row``; return the next free row."""
    width = GUIDE_WIDTHS[1]
    if line.style == "title":
        ws.merge_range(row, 0, row, 1, line.text, fm["guide_title"])
        ws.set_row(row, 24)
    elif line.style == "subtitle":
        ws.merge_range(row, 0, row, 1, line.text, fm["subtitle"])
        _set_height(ws, row, _height(line.text, sum(GUIDE_WIDTHS)))
    elif line.style == "heading":
        ws.write_string(row, 0, line.text, fm["guide_heading"])
        ws.set_row(row, 22)
    elif line.style == "status":
        ws.write_string(row, 0, line.text, fm["guide_heading"])
        row += 1
        ws.merge_range(row, 0, row, 1, "", fm["overall"])
        ws.write_formula(row, 0, "=" + overall_ref(), fm["overall"],
                         guide.status_text(_total_counts(state), overall=True))
        _status_colours(ws, fm, a1(row, 0))
        ws.set_row(row, 2 * LINE_PT + 5)
    elif line.style == "legend":
        ws.write_string(row, 0, line.sample, fm[line.swatch])
        ws.write_string(row, 1, line.text, fm["guide_text"])
        ws.set_row(row, _height(line.text, width) or 20)
    elif line.style in ("text", "bullet"):
        if line.style == "bullet":
            ws.write_string(row, 0, "•", fm["guide_bullet"])
        ws.write_string(row, 1, line.text, fm["guide_text"])
        _set_height(ws, row, _height(line.text, width))
    return row + 1
