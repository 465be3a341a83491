"""The summary's worksheets: xlsxwriter's own, with the cell paths made faster.

The summary holds about half a million cells; xlsxwriter stores each through several layers
of calls and writes each through several more (attributes list, escaping of numbers, one
``write`` per cell): together about two thirds of the summary's time. :class:`SummarySheet`
stores the same cell tuples (:meth:`~SummarySheet.put`, :meth:`~SummarySheet.put_row`) and
writes the same ``<row>``/``<c>`` elements, byte for byte, one string per row; a cell of a
rarer kind (formula, rich string, boolean, error, array formula) and the constant-memory mode
keep xlsxwriter's own code. ``tests/test_summary_sheet.py`` compares both ways on every kind
of cell and value.
"""
from __future__ import annotations

import datetime as dt
import math
import unicodedata

import xlsxwriter
from xlsxwriter.exceptions import OverlappingRange
from xlsxwriter.utility import xl_col_to_name, xl_range
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import (CellBlankTuple, CellBooleanTuple, CellDatetimeTuple,
                                  CellNumberTuple, CellStringTuple, Worksheet, convert_range_args)


class SummarySheet(Worksheet):
    """A worksheet whose cells are stored and written as xlsxwriter does, only faster."""

    def __init__(self):
        super().__init__()
        self._serials: dict = {}  # date or naive datetime -> its Excel serial (dates repeat)
        self._table_areas: list = []  # (first row, first col, last row, last col, range) of each table

    def _serial(self, moment) -> float:
        """xlsxwriter's Excel serial of a date (as midnight) or datetime, remembered."""
        serial = self._serials.get(moment)
        if serial is None:
            whole = moment if isinstance(moment, dt.datetime) else dt.datetime.combine(moment, dt.time())
            serial = self._convert_date_time(whole)
            if whole.tzinfo is None:  # (an aware one equals others in other zones)
                self._serials[moment] = serial
        return serial

    def put(self, row: int, col: int, value, fmt=None) -> None:
        """Any value by its type, text always as text (never a formula or a link): what
        ``write_blank``/``write_boolean``/``write_number``/``write_datetime``/``write_string``
        store, without their layers of calls (the summary puts ~450,000 cells)."""
        if self.constant_memory:  # rows are flushed as they go: xlsxwriter's own methods
            return put_by_methods(self, row, col, value, fmt)
        if value is None or value == "":
            if fmt is None:
                return  # xlsxwriter writes no blank cell without a format
            cell = CellBlankTuple(fmt)
        elif isinstance(value, bool):
            cell = CellBooleanTuple(1 if value else 0, fmt)
        elif isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                return self.put(row, col, str(value), fmt)
            cell = CellNumberTuple(value, fmt)
        elif isinstance(value, (dt.date, dt.datetime)):
            cell = CellDatetimeTuple(self._serial(value),
                                     self.default_date_format if fmt is None else fmt)
        else:
            text = unicodedata.normalize("NFC", str(value))
            if len(text) > self.xls_strmax // 2:  # may need truncating: xlsxwriter's own way
                self._write_string(row, col, text, fmt)
                return
            cell = None
        if row < 0 or col < 0 or row >= self.xls_rowmax or col >= self.xls_colmax:
            return  # out of the sheet: xlsxwriter ignores it too
        self._stored(row, col, col)
        if cell is None:  # the shared-string index, counted as xlsxwriter counts it
            strings = self.str_table
            index = strings.string_table.get(text)
            if index is None:
                index = strings.string_table[text] = strings.unique_count
                strings.unique_count += 1
            strings.count += 1
            cell = CellStringTuple(index, fmt)
        self.table[row][col] = cell

    def put_row(self, row: int, values: list, formats: list, first_col: int = 0) -> None:
        """:meth:`put` of each value with its format, from column ``first_col`` on; texts and
        numbers stored here directly (a list sheet has ~300,000 of them), the rest by put."""
        if self.constant_memory or not 0 <= row < self.xls_rowmax or first_col < 0 \
                or first_col + len(values) > self.xls_colmax:
            for col, (value, fmt) in enumerate(zip(values, formats), start=first_col):
                self.put(row, col, value, fmt)
            return
        cells, strings = self.table[row], self.str_table
        index_of, longest, count = strings.string_table, self.xls_strmax // 2, 0
        nfc, new, text_cell, number_cell = _nfc, _new, CellStringTuple, CellNumberTuple
        low = high = None  # the first and last column stored (columns only grow)
        for col, value, fmt in zip(range(first_col, first_col + len(values)), values, formats):
            kind = type(value)
            if kind is str and value:
                text = nfc("NFC", value)
                if len(text) > longest:  # may need truncating
                    self.put(row, col, text, fmt)
                    continue
                index = index_of.get(text)
                if index is None:
                    index = index_of[text] = strings.unique_count
                    strings.unique_count += 1
                count += 1
                cells[col] = new(text_cell, (index, fmt))
            elif kind is int or (kind is float and math.isfinite(value)):
                cells[col] = new(number_cell, (value, fmt))
            elif value is None or kind is str:  # (an empty text)
                if fmt is None:
                    continue  # no blank cell without a format
                cells[col] = new(CellBlankTuple, (fmt,))
            elif kind is dt.date or kind is dt.datetime:
                cells[col] = new(CellDatetimeTuple, (
                    self._serial(value), self.default_date_format if fmt is None else fmt))
            else:
                self.put(row, col, value, fmt)
                continue
            if low is None:
                low = col
            high = col
        strings.count += count  # each text counted, as xlsxwriter counts them
        if low is not None:
            self._stored(row, low, high)

    @convert_range_args
    def add_table(self, first_row: int, first_col: int, last_row: int, last_col: int,
                  options: dict | None = None):
        """xlsxwriter's ``add_table``, without its overlap check cell by cell (it visits and
        remembers every cell of the table: the summary's five tables hold ~480,000, a third
        of a second). Overlaps are refused by areas instead, here and in :meth:`merge_range`;
        a table of plain columns is added over its header and first row (the only rows
        xlsxwriter writes or checks), then stretched to its last row."""
        if self.constant_memory:
            return super().add_table(first_row, first_col, last_row, last_col, options)
        low_row, high_row = sorted((first_row, last_row))
        low_col, high_col = sorted((first_col, last_col))
        self._refuse_overlap("Table", low_row, low_col, high_row, high_col)
        if not self._stretchable(first_row, first_col, last_row, last_col, options):
            result = super().add_table(first_row, first_col, last_row, last_col, options)
        else:
            result = super().add_table(first_row, first_col, first_row + 1, last_col, options)
            if result == 0:
                self._stretch(self.tables[-1], first_row, first_col, last_row, last_col)
        if result == 0:
            self._table_areas.append((low_row, low_col, high_row, high_col,
                                      xl_range(low_row, low_col, high_row, high_col)))
        return result

    @convert_range_args
    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int,
                    data, cell_format=None):
        """xlsxwriter's ``merge_range``, also refusing a stretched table's rows (see
        :meth:`add_table`) that xlsxwriter does not know cell by cell."""
        if not self.constant_memory and not (first_row == last_row and first_col == last_col):
            low_row, high_row = sorted((first_row, last_row))
            low_col, high_col = sorted((first_col, last_col))
            self._refuse_overlap("Merge", low_row, low_col, high_row, high_col, merges=False)
        return super().merge_range(first_row, first_col, last_row, last_col, data, cell_format)

    def _refuse_overlap(self, what: str, first_row: int, first_col: int, last_row: int,
                        last_col: int, merges: bool = True) -> None:
        """OverlappingRange, as xlsxwriter raises it, when the area meets a table (or, with
        ``merges``, a merged range) already there: a corrupt file for Excel."""
        def meets(r0, c0, r1, c1):
            return r0 <= last_row and first_row <= r1 and c0 <= last_col and first_col <= c1
        if not (0 <= first_row and last_row < self.xls_rowmax and 0 <= first_col
                and last_col < self.xls_colmax):
            return  # out of the sheet: xlsxwriter refuses it on its own
        cell_range = xl_range(first_row, first_col, last_row, last_col)
        for r0, c0, r1, c1, previous in self._table_areas:
            if meets(r0, c0, r1, c1):
                raise OverlappingRange(f"{what} range '{cell_range}' overlaps previous "
                                       f"table range '{previous}'.")
        for r0, c0, r1, c1 in self.merge if merges else ():
            if meets(r0, c0, r1, c1):
                raise OverlappingRange(f"{what} range '{cell_range}' overlaps previous merge "
                                       f"range '{xl_range(r0, c0, r1, c1)}'.")

    def _stretchable(self, first_row: int, first_col: int, last_row: int, last_col: int,
                     options) -> bool:
        """Whether xlsxwriter's table of these options depends on its last row only through
        its ranges: a header row, no total row, no data, no column formulas or totals."""
        if not isinstance(options, dict) or not set(options) <= _PLAIN_TABLE_OPTIONS:
            return False
        columns = options.get("columns", [])
        if not isinstance(columns, list) or not all(
                isinstance(c, dict) and set(c) <= _PLAIN_COLUMN_OPTIONS for c in columns):
            return False
        return 0 <= first_row and first_row + 1 < last_row < self.xls_rowmax \
            and 0 <= first_col <= last_col < self.xls_colmax

    def _stretch(self, table: dict, first_row: int, first_col: int, last_row: int,
                 last_col: int) -> None:
        """A table added over rows first_row..first_row + 1 given its true last row: what
        xlsxwriter's add_table derives from it (ranges, the autofilter's cells)."""
        cell_range = xl_range(first_row, first_col, last_row, last_col)
        table["range"] = table["a_range"] = cell_range  # (no total row)
        if "autofilter" in table:
            table["autofilter"] = cell_range
            for col in range(first_col, last_col + 1):
                self.filter_cells[(first_row, col)] = ("table", cell_range)

    def _stored(self, row: int, low: int, high: int) -> None:
        """The used range grown to cells stored at ``row``, columns ``low``..``high`` (what
        xlsxwriter's ``_check_dimensions`` does for each cell)."""
        if self.dim_rowmin is None:
            self.dim_rowmin = self.dim_rowmax = row
            self.dim_colmin, self.dim_colmax = low, high
            return
        self.dim_rowmin, self.dim_rowmax = min(self.dim_rowmin, row), max(self.dim_rowmax, row)
        self.dim_colmin, self.dim_colmax = min(self.dim_colmin, low), max(self.dim_colmax, high)

    def _calculate_spans(self) -> None:
        # As xlsxwriter's: "min:max" (1-based) of the used columns of each block of 16 rows,
        # from the keys of each row instead of asking every column of the sheet.
        if self.constant_memory:
            return super()._calculate_spans()
        spans, low, high = {}, None, None
        first, last = self.dim_colmin, self.dim_colmax
        table, comments = self.table, self.comments
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            for cols in (table.get(row), comments.get(row)):
                if cols:
                    used = [c for c in cols if first <= c <= last]
                    if used:
                        low, high = (min(used), max(used)) if low is None else \
                            (min(low, *used), max(high, *used))
            if (row + 1) % 16 == 0 or row == self.dim_rowmax:
                if low is not None:
                    spans[row // 16] = f"{low + 1}:{high + 1}"
                    low = None
        self.row_spans = spans

    def _write_rows(self) -> None:
        if self.constant_memory:
            return super()._write_rows()
        self._calculate_spans()
        table, row_info, comments, spans = self.table, self.row_info, self.comments, self.row_spans
        first, last = self.dim_colmin, self.dim_colmax
        names = [xl_col_to_name(c) for c in range(last + 1)]
        styles: dict = {}  # format -> ' s="…"' (its xf index, given when first written)
        write, fast, text_cell, blank_cell = self.fh.write, _FAST, CellStringTuple, CellBlankTuple
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row)
            info = row_info.get(row)
            if not cells and info is None and row not in comments:
                continue
            span = spans.get(row // 16)
            if not cells:
                self._write_row(row, span, info, empty_row=True)
                continue
            self._write_row(row, span, info)
            parts = []
            append, number = parts.append, str(row + 1)
            columns = sorted(cells)
            if columns[0] < first or columns[-1] > last:  # (never, as cells grow the range)
                columns = [c for c in columns if first <= c <= last]
            for col in columns:
                cell = cells[col]
                kind = type(cell)
                if kind not in fast:
                    write("".join(parts))
                    parts.clear()
                    self._write_cell(row, col, cell)
                    continue
                fmt = cell[-1]  # every fast kind ends with its format
                style = styles.get(fmt)
                if style is None:
                    style = self._style_attribute(row, col, fmt, styles)
                if kind is text_cell:
                    append(f'<c r="{names[col]}{number}"{style} t="s"><v>{cell[0]}</v></c>')
                elif kind is blank_cell:
                    append(f'<c r="{names[col]}{number}"{style}/>')
                else:  # a number or a date
                    append(f'<c r="{names[col]}{number}"{style}><v>{cell[0]:.16G}</v></c>')
            append("</row>")
            write("".join(parts))

    def _style_attribute(self, row: int, col: int, fmt, styles: dict) -> str:
        """The ``s="…"`` of a cell: its format, else its row's, else its column's (as
        xlsxwriter's ``_write_cell``); remembered in ``styles`` by format."""
        if not fmt:
            info = self.row_info.get(row)
            if info is not None and info.row_format:
                fmt = info.row_format
            elif col in self.col_info:
                fmt = self.col_info[col].column_format
            if fmt is None:
                return ""
        if fmt not in styles:
            styles[fmt] = f' s="{fmt._get_xf_index()}"'
        return styles[fmt]


def put_by_methods(ws, row: int, col: int, value, fmt=None) -> None:
    """What :meth:`SummarySheet.put` stores, through xlsxwriter's public methods (also the
    reference its test compares with)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            ws.write_string(row, col, str(value), fmt)
        else:
            ws.write_number(row, col, value, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        value = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, unicodedata.normalize("NFC", str(value)), fmt)


_nfc = unicodedata.normalize
# add_table options whose table depends on its last row only through its ranges
_PLAIN_TABLE_OPTIONS = frozenset({"name", "style", "autofilter", "columns", "banded_rows",
                                  "banded_columns", "first_column", "last_column",
                                  "description", "title"})
_PLAIN_COLUMN_OPTIONS = frozenset({"header", "header_format", "format"})
_new = tuple.__new__  # a cell tuple without the namedtuple's Python-level __new__
# cell kinds written here; the others by xlsxwriter itself
_FAST = frozenset({CellStringTuple, CellBlankTuple, CellNumberTuple, CellDatetimeTuple})


# The xlsxwriter versions whose internals SummarySheet was compared with (test_summary_sheet):
# with any other, the summary is written by xlsxwriter's own methods (slower, never wrong).
TESTED_XLSXWRITER = ("3.3.",)


def fast_cells_safe(version: str = xlsxwriter.__version__) -> bool:
    return version.startswith(TESTED_XLSXWRITER)


class SummaryWorkbook(Workbook):
    """An xlsxwriter workbook whose worksheets are :class:`SummarySheet` (plain ones with an
    xlsxwriter these were not tested with)."""

    worksheet_class = SummarySheet if fast_cells_safe() else Worksheet
