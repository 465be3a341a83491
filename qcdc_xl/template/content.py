"""What every cell of a unit's template holds: the content model, pure data from the spec.

For one form, unit and layout, :func:`template_content` lists, sheet by sheet and in the order
they are written, each cell the generator writes (its text, number or formula, the format
name it wears, the range it is merged over), the tables (area, headers), the defined names,
and which sheets are protected. The words come from :mod:`guide`, the formulas from
:mod:`qcdc_xl.form.formulas`, the positions from :mod:`layout`, the hidden identity from
:mod:`metadata`.

One source of truth for two users: :mod:`generate` writes every cell's value or formula from
this model and only adds formats, validation, conditional colours, row heights and page
setup; the reader (:mod:`qcdc_xl.intake.pristine`) knows the pristine template of a unit
type from the same model, without writing or reading a file. No xlsxwriter or openpyxl here.
Rows and columns are 0-based, as in :mod:`layout`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field as dc_field
from typing import Any

from qcdc_xl.form import formulas
from qcdc_xl.form.spec import EXCEL_SHEET_NAME_MAX, Form, SpecError
from qcdc_xl.intake.units import Unit, canonical_option
from qcdc_xl.template import guide, metadata
from qcdc_xl.template.layout import (CHECK_COLS, CHECK_HEADER_ROW, CHECK_OVERALL_ROW, CHECK_SHEET, CHECK_WIDTHS,
                                     FieldRow, Layout, SectionBlock, SheetLayout, TableBlock, a1, check_rows,
                                     quote_sheet)

GUIDE_SHEET = "Hướng dẫn"
GUIDE_WIDTHS = (8, 96)
LIST_NAME_PREFIX = "ds_"  # defined names of option lists: ds_<list id>


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class Cell:
    """One cell as the generator writes it."""

    row: int
    col: int
    value: Any = None  # text, number, date; None: a blank cell (it still wears its format)
    formula: str | None = None  # "=…"; then ``cached`` is what it shows until recalculated
    cached: Any = ""
    style: str = ""  # format name: a key of xlformats.STYLES, or "input:<type>", "formula:<type>"
    last: tuple | None = None  # (row, col) of the bottom-right corner when merged from here
    generic: bool = False  # written as xlsxwriter's write() writes (as a merge's first cell is)
    table: str | None = None  # a header cell: written by the table object of this name


@dataclass(frozen=True)
class TableContent:
    """An Excel table object: its area and headers; TT column = the row-number column."""

    name: str
    header_row: int
    first_row: int  # first data row
    last_row: int  # last data row (the table has no totals row)
    first_col: int
    headers: tuple  # the columns' headers, left to right (NFC)
    column_ids: tuple
    input_cols: tuple  # sheet columns of the input columns
    tt_col: int | None  # sheet column of the row-number column


@dataclass
class SheetContent:
    name: str
    cells: list = dc_field(default_factory=list)  # Cell, in writing order (a later one wins)
    tables: list = dc_field(default_factory=list)  # TableContent
    protected: bool = True  # every sheet of a template is protected (inputs unlocked)

    def put(self, row: int, col: int, value: Any = None, style: str = "", **kw) -> Cell:
        cell = Cell(row, col, value, style=style, **kw)
        self.cells.append(cell)
        return cell

    def grid(self) -> dict:
        """(row, col) -> Cell as the finished sheet holds it: merges blank the rest of their
        range, a later write replaces an earlier one."""
        out: dict = {}
        for cell in self.cells:
            if cell.last is not None:
                for r in range(cell.row, cell.last[0] + 1):
                    for c in range(cell.col, cell.last[1] + 1):
                        out[(r, c)] = Cell(r, c, None, style=cell.style)
            out[(cell.row, cell.col)] = cell
        return out


@dataclass
class TemplateContent:
    sheets: dict  # sheet name -> SheetContent, in the workbook's order of sheets
    names: dict  # defined name -> formula ("='Sheet'!$C$9"), in the order they are defined
    fields: dict  # field id -> (sheet name, row, col)
    meta: dict  # the hidden identity (metadata.build_meta)


# ---------------------------------------------------------------- A1 references (pure)


def col_name(col: int) -> str:
    name, col = "", col + 1
    while col:
        col, rest = divmod(col - 1, 26)
        name = chr(65 + rest) + name
    return name


def cell_ref(row: int, col: int, row_abs: bool = False, col_abs: bool = False) -> str:
    return f"{'$' if col_abs else ''}{col_name(col)}{'$' if row_abs else ''}{row + 1}"


def overall_ref() -> str:
    """The cell holding the whole form's status (for the guide and for other modules)."""
    return f"{quote_sheet(CHECK_SHEET)}!{cell_ref(CHECK_OVERALL_ROW, 0, True, True)}"


# ---------------------------------------------------------------- what the cells show


@dataclass
class State:
    """The values a workbook starts with, and what every formula shows for them."""

    values: dict  # field id -> typed value (identity included)
    table_rows: dict  # table -> list of rows (column id -> value)
    row_counts: dict  # table -> number of filled rows
    derived: dict  # formula field id -> value
    checks: dict  # section id -> counts dict (missing, not_empty, errors, warnings)


def initial_state(form: Form, unit: Unit, layout: Layout, values: dict, table_rows: dict) -> State:
    check_prefill(form, layout, values, table_rows)
    typed = {f.id: unit.attr(f.prefill) or None
             for f in form.fields_for(unit.loai_hinh) if f.prefill}
    for f in form.input_fields(unit.loai_hinh):
        if f.prefill_optional and unit.attr(f.prefill_optional):
            typed[f.id] = canonical_option(unit.attr(f.prefill_optional), f.options)
    typed.update(values)
    rows = {t.name: list(table_rows.get(t.name, [])) for t in form.tables_for(unit.loai_hinh)}
    counts = {name: sum(1 for r in rs if row_filled(form.tables[name], r)) for name, rs in rows.items()}
    derived = formulas.compute_derived(form, unit.loai_hinh, typed, counts)
    state = State(typed, rows, counts, derived, {})
    everything = {**typed, **derived}
    for s in layout.sheets:
        for block in s.blocks:
            state.checks[block.section.id] = block_counts(form, layout, block, everything, rows)
    return state


def check_prefill(form: Form, layout: Layout, values: dict, table_rows: dict) -> None:
    for fid in values:
        f = form.fields.get(fid)
        if f is None or fid not in layout.field_cells or not f.is_input:
            raise ValueError(f"values: '{fid}' is not an input field of this unit's template")
    for name, rows in table_rows.items():
        if name not in layout.table_refs:
            raise ValueError(f"table_rows: '{name}' is not a table of this unit's template")
        if len(rows) > form.tables[name].ready_rows:
            raise ValueError(f"table_rows: {len(rows)} rows for '{name}' exceed its ready rows")


def row_filled(table, row: dict) -> bool:
    return any(not formulas.is_blank(row.get(c.id)) for c in table.input_columns)


def block_fields(form: Form, block: SectionBlock) -> list:
    return [form.fields[fid] for r in block.rows for fid, _ in r.cells]


def block_rules(form: Form, layout: Layout, block: SectionBlock) -> list:
    ids = set(block.section.rule_ids)
    return [r for r in form.rules if r.id in ids
            and r.left in layout.field_cells and r.right in layout.field_cells]


def block_counts(form, layout, block, values: dict, rows: dict) -> dict:
    """Python twin of the check formulas of one section."""
    problems = [formulas.requirement(f, values) for f in block_fields(form, block) if f.is_input]
    rules = block_rules(form, layout, block)
    violated = [r for r in rules if formulas.rule_violated(r, values)]
    missing = problems.count("missing")
    if block.table is not None:
        table = block.table.table
        missing += sum(1 for r in rows[table.name] if row_filled(table, r)
                       for c in table.input_columns if c.required and formulas.is_blank(r.get(c.id)))
    return {"missing": missing, "not_empty": problems.count("not_empty"),
            "errors": sum(r.severity == "error" for r in violated),
            "warnings": sum(r.severity == "warning" for r in violated)}


def total_counts(state: State) -> dict:
    return {k: sum(c[k] for c in state.checks.values()) for k in COUNT_KEYS}


def cached(value):
    # xlsxwriter writes None literally; a blank result is an empty cached value.
    return "" if value is None else value


def input_value(value):
    """An input cell's value as it is written: blank, a date, a number, or NFC text."""
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return guide.nfc(str(value))


# ---------------------------------------------------------------- the whole template


def check_names(form: Form, layout: Layout) -> None:
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


def template_content(form: Form, unit: Unit, layout: Layout, filename: str, generated_at: dt.datetime,
                     state: State | None = None) -> TemplateContent:
    """The content of ``unit``'s template (``state``: pre-filled values, default none)."""
    if state is None:
        state = initial_state(form, unit, layout, {}, {})
    meta = metadata.build_meta(form.id, form.version, unit.ma_don_vi, unit.loai_hinh,
                               generated_at.isoformat(timespec="seconds"))
    names: dict = {}
    lists = _lists_sheet(form, names)
    meta_sheet = _meta_sheet(meta)
    for fid, (sheet, row, col) in layout.positions.items():
        names[fid] = f"={quote_sheet(sheet)}!{cell_ref(row, col, True, True)}"
    check_row = {c.block.section.id: c.row for c in check_rows(layout)}
    data = [_data_sheet(form, unit, layout, sl, state, check_row) for sl in layout.sheets]
    check = _check_sheet(form, unit, layout, state)
    guide_sheet = _guide_sheet(form, unit, layout, state, filename)
    in_book = [guide_sheet, *data, check, lists, meta_sheet]  # (the generator writes the lists first)
    return TemplateContent(sheets={s.name: s for s in in_book}, names=names, fields=dict(layout.positions),
                           meta=meta)


def _lists_sheet(form: Form, names: dict) -> SheetContent:
    """Every option list in its own column, named ds_<list>: validation sources that may
    hold commas (a literal list would split "DN cổ phần, DN tư nhân")."""
    sc = SheetContent(metadata.LISTS_SHEET)
    for col, (name, options) in enumerate(form.option_lists.items()):
        sc.put(0, col, name, "meta")
        for i, option in enumerate(options, start=1):
            sc.put(i, col, guide.nfc(option), "meta")
        letter = col_name(col)
        names[LIST_NAME_PREFIX + name] = (f"={quote_sheet(metadata.LISTS_SHEET)}!"
                                          f"${letter}$2:${letter}${len(options) + 1}")
    return sc


def _meta_sheet(meta: dict) -> SheetContent:
    sc = SheetContent(metadata.META_SHEET)
    for row, key in enumerate(metadata.KEYS):
        sc.put(row, 0, key, "meta")
        sc.put(row, 1, str(meta[key]), "meta")
    return sc


def _merged(sc: SheetContent, row: int, first: int, last: int, text, style: str) -> None:
    """A text across columns first..last of one row (merged when they differ)."""
    if first == last:
        sc.put(row, first, text, style, generic=True)
    else:
        sc.put(row, first, text, style, last=(row, last), generic=True)


def unit_line(unit: Unit) -> str:
    return guide.nfc(f"Đơn vị: {unit.ten_don_vi}")


def field_label(fr: FieldRow) -> str:
    return guide.nfc(fr.label + guide.required_mark(fr.required, fr.required_from))


# -- a data sheet

COLUMN_HEADERS = ("STT", "Nội dung", "Số liệu, thông tin", "Ghi chú")


def _data_sheet(form: Form, unit: Unit, layout: Layout, sl: SheetLayout, state: State,
                check_row: dict) -> SheetContent:
    sc = SheetContent(sl.name)
    last = sl.last_col
    for row, text, style in sl.title_lines:
        _merged(sc, row, 0, last, guide.nfc(text), style)
    _merged(sc, sl.unit_row, 0, last, unit_line(unit), "unit")
    if sl.column_header_row is not None:
        for col in range(last + 1):
            text = COLUMN_HEADERS[col] if col < len(COLUMN_HEADERS) else ""
            sc.put(sl.column_header_row, col, text, "col_header")
    for block in sl.blocks:
        _section(sc, form, layout, block, state, check_row[block.section.id])
    return sc


def _section(sc: SheetContent, form: Form, layout: Layout, block: SectionBlock, state: State,
             check_row: int) -> None:
    if block.title_row is not None:
        first, _ = block.status_cols
        _merged(sc, block.title_row, 0, first - 1, guide.nfc(block.section.title), "section")
    if block.header_row is not None:
        sc.put(block.header_row, 0, "TT", "col_header")
        sc.put(block.header_row, 1, "Chỉ tiêu", "col_header")
        for i, text in enumerate(block.grid_headers):
            sc.put(block.header_row, 2 + i, text, "col_header")
    for fr in block.rows:
        _field_row(sc, form, layout, fr, state)
    if block.table is not None:
        _table(sc, block.table, state)
    first, last = block.status_cols
    ref = f"={quote_sheet(CHECK_SHEET)}!${col_name(CHECK_COLS['status'])}${check_row + 1}"
    sc.put(block.status_row, first, formula=ref, cached=guide.status_text(state.checks[block.section.id]),
           style="status", last=(block.status_row, last) if first != last else None)


def _field_row(sc: SheetContent, form: Form, layout: Layout, fr: FieldRow, state: State) -> None:
    if fr.label_cols[0] > 0:
        sc.put(fr.row, 0, fr.mark, "mark")
    _merged(sc, fr.row, fr.label_cols[0], fr.label_cols[1], field_label(fr), "label")
    for fid, col in fr.cells:
        field = form.fields[fid]
        if field.is_formula:
            sc.put(fr.row, col, formula=formulas.excel_formula(field, layout.count_range),
                   cached=cached(state.derived[field.id]), style=f"formula:{field.type}")
        elif field.is_identity:
            sc.put(fr.row, col, guide.nfc(str(state.values.get(field.id) or "")), "identity")
        else:
            sc.put(fr.row, col, input_value(state.values.get(field.id)), f"input:{field.type}")
    if fr.hint_cols is not None:
        text = guide.nfc(guide.hint(form.fields[fr.cells[0][0]]))
        _merged(sc, fr.row, fr.hint_cols[0], fr.hint_cols[1], text, "hint")


def tt_formula(block: TableBlock, row: int) -> str:
    """TT of one table row: its number when the row holds anything. Plain A1 references (no
    structured refs): LibreOffice reads them the same way."""
    first = cell_ref(row, block.first_col + 1, False, True)
    last = cell_ref(row, block.last_col, False, True)
    header = cell_ref(block.header_row, block.first_col, True, True)
    return f'=IF(COUNTA({first}:{last})=0,"",ROW()-ROW({header}))'


def _table(sc: SheetContent, b: TableBlock, state: State) -> None:
    table = b.table
    headers = tuple(guide.nfc(c.header) for c in table.columns)
    tt = [b.first_col + j for j, c in enumerate(table.columns) if not c.is_input]
    sc.tables.append(TableContent(
        name=table.name, header_row=b.header_row, first_row=b.first_row, last_row=b.last_row,
        first_col=b.first_col, headers=headers, column_ids=tuple(c.id for c in table.columns),
        input_cols=tuple(b.first_col + j for j, c in enumerate(table.columns) if c.is_input),
        tt_col=tt[0] if tt else None))
    for j, text in enumerate(headers):
        sc.put(b.header_row, b.first_col + j, text, "col_header", table=table.name)
    rows = state.table_rows.get(table.name, [])
    for i in range(table.ready_rows):
        row = b.first_row + i
        data = rows[i] if i < len(rows) else {}
        filled = row_filled(table, data)
        for j, column in enumerate(table.columns):
            col = b.first_col + j
            if column.is_input:
                sc.put(row, col, input_value(data.get(column.id)), f"input:{column.type}")
            else:
                sc.put(row, col, formula=tt_formula(b, row), cached=i + 1 if filled else "", style="row_number")


# -- the "Kiểm tra" sheet

CHECK_HEADERS = {"stt": "STT", "section": "Mục", "sheet": "Trang", "missing": "Ô bắt buộc còn trống",
                 "not_empty": "Ô phải để trống", "errors": "Số liệu mâu thuẫn",
                 "warnings": "Số liệu cần xem lại", "status": "Tình trạng"}
COUNT_KEYS = ("missing", "not_empty", "errors", "warnings")
CHECK_NOTE = ("Bảng tự cập nhật khi điền. Mọi mục phải màu xanh trước khi gửi; "
              "mục màu đỏ: sửa các ô được tô màu ở trang tương ứng.")


def check_formulas(form: Form, layout: Layout, block: SectionBlock) -> dict:
    """Excel formulas counting a section's problems, twins of :func:`block_counts`."""
    fields = [f for f in block_fields(form, block) if f.is_input]
    problems = [(f, formulas.excel_requirement_problem(f)) for f in fields]
    problems = [(f, p) for f, p in problems if p]
    rules = block_rules(form, layout, block)
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


def check_title(cr) -> str:
    return cr.block.section.title or cr.sheet.sheet.heading or cr.sheet.name


def check_total_row(layout: Layout) -> int:
    rows = check_rows(layout)
    return rows[-1].row + 1 if rows else CHECK_HEADER_ROW + 1


def _check_sheet(form: Form, unit: Unit, layout: Layout, state: State) -> SheetContent:
    sc = SheetContent(CHECK_SHEET)
    last = len(CHECK_WIDTHS) - 1
    sc.put(0, 0, "KIỂM TRA TRƯỚC KHI GỬI", "title", last=(0, last), generic=True)
    sc.put(1, 0, unit_line(unit), "unit", last=(1, last), generic=True)
    sc.put(4, 0, CHECK_NOTE, "subtitle", last=(4, last), generic=True)
    for key, col in CHECK_COLS.items():
        sc.put(CHECK_HEADER_ROW, col, CHECK_HEADERS[key], "col_header")
    rows = check_rows(layout)
    for number, cr in enumerate(rows, start=1):
        row, counts = cr.row, state.checks[cr.block.section.id]
        sc.put(row, CHECK_COLS["stt"], number, "mark")
        sc.put(row, CHECK_COLS["section"], guide.nfc(check_title(cr)), "label")
        sc.put(row, CHECK_COLS["sheet"], cr.sheet.name, "mark")
        for key, formula in check_formulas(form, layout, cr.block).items():
            sc.put(row, CHECK_COLS[key], formula=formula, cached=counts[key], style="count")
        refs = {k: a1(row, CHECK_COLS[k]) for k in COUNT_KEYS}
        sc.put(row, CHECK_COLS["status"], formula=guide.status_formula(refs), cached=guide.status_text(counts),
               style="status")
    total_row = check_total_row(layout)
    sc.put(total_row, 0, "Cả biểu mẫu", "col_header", last=(total_row, CHECK_COLS["sheet"]), generic=True)
    totals = total_counts(state)
    for key in COUNT_KEYS:
        col = CHECK_COLS[key]
        rng = f"{a1(rows[0].row, col)}:{a1(rows[-1].row, col)}" if rows else "0"
        sc.put(total_row, col, formula=f"=SUM({rng})", cached=totals[key], style="count")
    refs = {k: a1(total_row, CHECK_COLS[k]) for k in COUNT_KEYS}
    sc.put(total_row, CHECK_COLS["status"], formula=guide.status_formula(refs), cached=guide.status_text(totals),
           style="status")
    # The headline: the same totals, worded for the whole form.
    sc.put(CHECK_OVERALL_ROW, 0, formula=guide.status_formula(refs, overall=True),
           cached=guide.status_text(totals, overall=True), style="overall", last=(CHECK_OVERALL_ROW, last))
    return sc


# -- the "Hướng dẫn" sheet


def guide_rows(form: Form, unit: Unit, layout: Layout, filename: str) -> list:
    """[(row, GuideLine)]: where each guide line starts (a status line takes two rows)."""
    out, row = [], 0
    for line in guide.guide_lines(form, unit, layout, filename):
        out.append((row, line))
        row += 2 if line.style == "status" else 1
    return out


def _guide_sheet(form: Form, unit: Unit, layout: Layout, state: State, filename: str) -> SheetContent:
    sc = SheetContent(GUIDE_SHEET)
    for row, line in guide_rows(form, unit, layout, filename):
        if line.style == "title":
            sc.put(row, 0, line.text, "guide_title", last=(row, 1), generic=True)
        elif line.style == "subtitle":
            sc.put(row, 0, line.text, "subtitle", last=(row, 1), generic=True)
        elif line.style == "heading":
            sc.put(row, 0, line.text, "guide_heading")
        elif line.style == "status":
            sc.put(row, 0, line.text, "guide_heading")
            sc.put(row + 1, 0, formula="=" + overall_ref(), style="overall", last=(row + 1, 1),
                   cached=guide.status_text(total_counts(state), overall=True))
        elif line.style == "legend":
            sc.put(row, 0, line.sample, line.swatch)
            sc.put(row, 1, line.text, "guide_text")
        elif line.style in ("text", "bullet"):
            if line.style == "bullet":
                sc.put(row, 0, "•", "guide_bullet")
            sc.put(row, 1, line.text, "guide_text")
    return sc
