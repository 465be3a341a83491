"""Where every field and table of a form lands in a unit's workbook: a pure plan, no I/O.

The generator writes what :func:`plan_layout` says; the reader and the feedback copies use
the same plan (``field_cells``, ``table_refs``) to find and highlight cells by address.
Rows and columns inside the plan are 0-based (xlsxwriter style); the public maps use A1.

Column scheme of a sheet (the same for every unit type, so addresses stay familiar):

* fields-only sheet ("Thông tin chung"): A mark | B label | C value | D hint;
* sheet with yearly grids ("Phụ lục 2"): A mark | B label | C.. one column per year
  [| "Cả giai đoạn"]; a fields row there has its value in C and its hint across D..;
* table-only sheet ("Phụ lục 1"): the table's own columns from A, at the spec's widths.

A table on a grid sheet starts in column A and takes the grid's column widths.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from qcdc_xl.form.spec import Form, Section, Sheet, Table, grid_id

MARKS = "abcdefghijklmnopqrstuvwxyz"

# Column widths (Excel character units, Times New Roman 12).
W_MARK, W_LABEL_FIELDS, W_VALUE_FIELDS, W_HINT_FIELDS = 5, 50, 24, 20
W_LABEL_GRID, W_YEAR = 46, 14


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class FieldRow:
    """One row of a section: a label and the cell(s) of its field(s), left to right."""

    row: int
    label: str
    required: bool
    cells: tuple  # ((field id, col), ...)
    label_cols: tuple  # (first, last): merged when they differ
    mark: str = ""
    hint_cols: tuple | None = None  # (first, last) or None
    base_id: str = ""  # the spec field id the row shows (yearly: the base id)
    required_from: int | None = None  # a yearly row required only from this year on


@dataclass(frozen=True)
class TableBlock:
    table: Table
    header_row: int
    first_row: int  # first data row
    last_row: int  # last data row (inclusive)
    first_col: int = 0

    @property
    def last_col(self) -> int:
        return self.first_col + len(self.table.columns) - 1


@dataclass(frozen=True)
class SectionBlock:
    section: Section
    title_row: int | None  # None: the section has no title row (the status sits on rows[0])
    status_row: int
    status_cols: tuple  # (first, last)
    rows: tuple = ()  # FieldRow, in order
    header_row: int | None = None  # grid column headers
    grid_headers: tuple = ()  # the grid's column headers, from column C
    table: TableBlock | None = None
    last_row: int = 0


@dataclass(frozen=True)
class SheetLayout:
    sheet: Sheet
    widths: tuple  # one per column
    landscape: bool
    title_lines: tuple  # ((row, text, style), ...)
    unit_row: int
    blocks: tuple  # SectionBlock
    freeze_row: int  # rows above this stay on screen
    repeat_rows: tuple | None  # (first, last) rows printed on every page
    column_header_row: int | None  # fields sheets: "Nội dung | Số liệu | Ghi chú"
    last_row: int

    @property
    def name(self) -> str:
        return self.sheet.name

    @property
    def last_col(self) -> int:
        return len(self.widths) - 1

    @property
    def print_area(self) -> str:
        return f"A1:{xl_col_to_name(self.last_col)}{self.last_row + 1}"


@dataclass(frozen=True)
class Layout:
    form_id: str
    loai_hinh: str
    sheets: tuple  # SheetLayout, in the spec's order
    field_cells: dict = dc_field(default_factory=dict)  # field id -> (sheet name, "C12")
    table_refs: dict = dc_field(default_factory=dict)  # table -> (sheet name, "A7:G207")
    # 0-based positions, for the writer: field id -> (sheet name, row, col)
    positions: dict = dc_field(default_factory=dict)

    def sheet_of(self, sheet_id: str) -> SheetLayout:
        return next(s for s in self.sheets if s.sheet.id == sheet_id)

    def block_of_table(self, table_name: str) -> TableBlock:
        return next(b.table for s in self.sheets for b in s.blocks
                    if b.table is not None and b.table.table.name == table_name)

    def column_range(self, table_name: str, column_id: str, absolute: bool = True) -> str:
        """``'Phụ lục 1'!$A$8:$A$207``: the data cells of one column of a table."""
        block = self.block_of_table(table_name)
        col = block.first_col + [c.id for c in block.table.columns].index(column_id)
        sheet = self.table_refs[table_name][0]
        a = xl_rowcol_to_cell(block.first_row, col, absolute, absolute)
        b = xl_rowcol_to_cell(block.last_row, col, absolute, absolute)
        return f"{quote_sheet(sheet)}!{a}:{b}"

    def count_range(self, table_name: str) -> str:
        """The TT column of a table: a number exactly in the filled rows (for COUNT)."""
        block = self.block_of_table(table_name)
        return self.column_range(table_name, block.table.columns[0].id)


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def a1(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col)


# ---------------------------------------------------------------- planning


def plan_layout(form: Form, loai_hinh: str) -> Layout:
    """Where everything of ``form`` that applies to ``loai_hinh`` lands (pure function)."""
    sheets = tuple(_plan_sheet(form, sheet, loai_hinh) for sheet in form.sheets)
    field_cells, positions, table_refs = {}, {}, {}
    for s in sheets:
        for block in s.blocks:
            for row in block.rows:
                for fid, col in row.cells:
                    field_cells[fid] = (s.name, a1(row.row, col))
                    positions[fid] = (s.name, row.row, col)
            if block.table is not None:
                t = block.table
                table_refs[t.table.name] = (
                    s.name, f"{a1(t.header_row, t.first_col)}:{a1(t.last_row, t.last_col)}")
    return Layout(form.id, loai_hinh, sheets, field_cells, table_refs, positions)


def _sections(sheet: Sheet, loai_hinh: str) -> list:
    return [se for se in sheet.sections if se.applies_to(loai_hinh)]


def _sheet_widths(form: Form, sheet: Sheet) -> tuple:
    """Column widths, decided by what the sheet can hold for any unit type (stable addresses)."""
    grids = [se for se in sheet.sections if se.grid_columns]
    fields = [se for se in sheet.sections if se.layout == "fields"]
    tables = [form.tables[se.table] for se in sheet.sections if se.layout == "table"]
    if grids:
        n_values = max(len(se.grid_columns) for se in grids)
        widths = [W_MARK + 1, W_LABEL_GRID] + [W_YEAR] * n_values
    elif fields:
        widths = [W_MARK, W_LABEL_FIELDS, W_VALUE_FIELDS, W_HINT_FIELDS]
    else:
        widths = []
    for table in tables:
        own = [c.width for c in table.columns]
        if not widths:
            widths = own
        elif len(own) > len(widths):
            widths += own[len(widths):]
    return tuple(widths)


def _status_cols(widths: tuple) -> tuple:
    n = len(widths)
    return (n - 2, n - 1) if n >= 6 else (n - 1, n - 1)


def _plan_sheet(form: Form, sheet: Sheet, loai_hinh: str) -> SheetLayout:
    widths = _sheet_widths(form, sheet)
    has_grid = any(se.grid_columns for se in sheet.sections)
    table_only = all(se.layout == "table" for se in sheet.sections)
    titles = [sheet.title] + ([sheet.heading] if sheet.heading else [])
    title_lines = [(i, text, "title" if i == 0 else "heading") for i, text in enumerate(titles)]
    row = len(title_lines)
    if form.subtitle:
        title_lines.append((row, form.subtitle, "subtitle"))
        row += 1
    unit_row = row
    row += 2  # the unit line, then one blank row
    column_header_row = None
    if not has_grid and not table_only:
        column_header_row = row  # "STT | Nội dung | Số liệu | Ghi chú" once, above every section
        row += 1
    ctx = _Ctx(form, widths, has_grid, table_only, _status_cols(widths))
    blocks = []
    for section in _sections(sheet, loai_hinh):
        block = _plan_section(ctx, section, loai_hinh, row)
        blocks.append(block)
        row = block.last_row + 2  # one blank row between sections
    last_row = max(row - 2, unit_row)
    freeze, repeat = _freeze_and_repeat(blocks, column_header_row, unit_row, table_only)
    return SheetLayout(sheet=sheet, widths=widths, landscape=sum(widths) > 110,
                       title_lines=tuple(title_lines), unit_row=unit_row, blocks=tuple(blocks),
                       freeze_row=freeze, repeat_rows=repeat,
                       column_header_row=column_header_row, last_row=last_row)


def _freeze_and_repeat(blocks, column_header_row, unit_row, table_only):
    if table_only and blocks and blocks[0].table is not None:
        header = blocks[0].table.header_row
        return header + 1, (header, header)
    if column_header_row is not None:
        return column_header_row + 1, (column_header_row, column_header_row)
    return unit_row + 1, None


@dataclass(frozen=True)
class _Ctx:
    form: Form
    widths: tuple
    has_grid: bool
    table_only: bool
    status_cols: tuple


def _plan_section(ctx: _Ctx, section: Section, loai_hinh: str, row: int) -> SectionBlock:
    title_row = None
    if section.title:
        title_row, row = row, row + 1
    if section.layout == "table":
        return _plan_table_section(ctx, section, title_row, row)
    header_row, headers = None, ()
    if section.grid_columns:
        header_row, row = row, row + 1
        columns = grid_columns_for(ctx.form, section, loai_hinh)
        headers = tuple(header for _, header in columns)
        rows = _grid_rows(ctx, section, loai_hinh, row, [sfx for sfx, _ in columns])
    else:
        rows = _fields_rows(ctx, section, loai_hinh, row)
    status_row = title_row if title_row is not None else (rows[0].row if rows else header_row)
    last = rows[-1].row if rows else (header_row if header_row is not None else status_row)
    return SectionBlock(section=section, title_row=title_row, status_row=status_row,
                        status_cols=ctx.status_cols, rows=tuple(rows), header_row=header_row,
                        grid_headers=headers, last_row=last)


def _fields_rows(ctx: _Ctx, section: Section, loai_hinh: str, row: int) -> list:
    form, last_col = ctx.form, len(ctx.widths) - 1
    out = []
    for fid in section.field_ids:
        f = form.fields[fid]
        if not f.applies_to(loai_hinh):
            continue
        mark = MARKS[len(out) % len(MARKS)] if ctx.has_grid else str(len(out) + 1)
        out.append(FieldRow(row=row, label=f.label, required=f.required,
                            cells=((fid, 2),), label_cols=(1, 1), mark=mark,
                            hint_cols=(3, last_col), base_id=fid))
        row += 1
    return out


def _cell_of(form: Form, base: str, suffix: str, loai_hinh: str):
    field = form.fields.get(grid_id(base, suffix))
    return field if field is not None and field.applies_to(loai_hinh) else None


def grid_columns_for(form: Form, section: Section, loai_hinh: str) -> list:
    """The grid's columns that hold a cell for this unit type, left to right (a sở sees only
    «Cấp tỉnh», a huyện «Cấp huyện» and «Cấp xã»)."""
    return [(sfx, header) for sfx, header in section.grid_columns
            if any(_cell_of(form, base, sfx, loai_hinh) for base in section.base_fields)]


def _grid_rows(ctx: _Ctx, section: Section, loai_hinh: str, row: int, suffixes: list) -> list:
    form = ctx.form
    out = []
    for base in section.base_fields:
        cells = [(f.id, 2 + i) for i, sfx in enumerate(suffixes)
                 if (f := _cell_of(form, base, sfx, loai_hinh)) is not None]
        if not cells:
            continue
        fields = [form.fields[fid] for fid, _ in cells]
        out.append(FieldRow(row=row, label=fields[0].label, required=any(f.required for f in fields),
                            cells=tuple(cells), label_cols=(1, 1),
                            mark=MARKS[len(out) % len(MARKS)], base_id=base,
                            required_from=_required_from(fields)))
        row += 1
    return out


def _required_from(fields: list) -> int | None:
    """The first required year of a yearly row whose earlier years are optional, else None
    (its label says so: «* (từ 2018)», not the plain «*» of a row required every year)."""
    yearly = [f for f in fields if f.is_input and f.year is not None]  # not the period total
    required = [f.year for f in yearly if f.required]
    if not required or len(required) == len(yearly):
        return None
    return min(required)


def _plan_table_section(ctx: _Ctx, section: Section, title_row, row: int) -> SectionBlock:
    table = ctx.form.tables[section.table]
    count = ctx.form.fields[table.count_field]
    label_cols = (0, 1) if ctx.table_only else (1, 1)
    count_row = FieldRow(row=row, label=count.label, required=False,
                         cells=((count.id, 2),), label_cols=label_cols, base_id=count.id)
    header = row + 1
    block = TableBlock(table=table, header_row=header, first_row=header + 1,
                       last_row=header + table.ready_rows)
    status_row = title_row if title_row is not None else row
    return SectionBlock(section=section, title_row=title_row, status_row=status_row,
                        status_cols=ctx.status_cols, rows=(count_row,), table=block,
                        last_row=block.last_row)


# ---------------------------------------------------------------- the "Kiểm tra" sheet

CHECK_SHEET = "Kiểm tra"
CHECK_WIDTHS = (6, 50, 16, 12, 12, 12, 12, 34)
CHECK_OVERALL_ROW = 3  # merged across the sheet
CHECK_HEADER_ROW = 6
# Columns of a check row (0-based): what each count means is fixed here and in the writer.
CHECK_COLS = {"stt": 0, "section": 1, "sheet": 2, "missing": 3, "not_empty": 4,
              "errors": 5, "warnings": 6, "status": 7}


@dataclass(frozen=True)
class CheckRow:
    row: int
    sheet: SheetLayout
    block: SectionBlock


def check_rows(layout: Layout) -> list:
    """One row per laid-out section on the "Kiểm tra" sheet, then a total row after them."""
    rows, r = [], CHECK_HEADER_ROW + 1
    for s in layout.sheets:
        for block in s.blocks:
            rows.append(CheckRow(r, s, block))
            r += 1
    return rows
