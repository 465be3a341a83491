"""The summary's worksheets: xlsxwriter's own, with the sheet-data writer made faster.

The summary holds about half a million cells; xlsxwriter writes each through several
Python calls (attributes list, escaping of numbers, one ``write`` per cell), which took about
a third of the summary's time. :class:`SummarySheet` writes the same ``<row>``/``<c>``
elements, byte for byte, one string per row; a cell of a rarer kind (formula, rich string,
boolean, error, array formula) and the constant-memory mode keep xlsxwriter's own code.
``tests/test_summary_sheet.py`` compares both writers on every kind of cell.
"""
from __future__ import annotations

import datetime as dt
import math
import unicodedata

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import (CellBlankTuple, CellBooleanTuple, CellDatetimeTuple,
                                  CellNumberTuple, CellStringTuple, Worksheet)


class SummarySheet(Worksheet):
    """A worksheet whose cells are stored and written as xlsxwriter does, only faster."""

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
            value = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
            cell = CellDatetimeTuple(self._convert_date_time(value),
                                     self.default_date_format if fmt is None else fmt)
        else:
            text = unicodedata.normalize("NFC", str(value))
            if len(text) > self.xls_strmax // 2:  # may need truncating: xlsxwriter's own way
                self._write_string(row, col, text, fmt)
                return
            cell = None
        if row < 0 or col < 0 or row >= self.xls_rowmax or col >= self.xls_colmax:
            return  # out of the sheet: xlsxwriter ignores it too
        if self.dim_rowmin is None:
            self.dim_rowmin = self.dim_rowmax = row
            self.dim_colmin = self.dim_colmax = col
        else:
            if row < self.dim_rowmin:
                self.dim_rowmin = row
            elif row > self.dim_rowmax:
                self.dim_rowmax = row
            if col < self.dim_colmin:
                self.dim_colmin = col
            elif col > self.dim_colmax:
                self.dim_colmax = col
        if cell is None:  # the shared-string index, counted as xlsxwriter counts it
            strings = self.str_table
            index = strings.string_table.get(text)
            if index is None:
                index = strings.string_table[text] = strings.unique_count
                strings.unique_count += 1
            strings.count += 1
            cell = CellStringTuple(index, fmt)
        self.table[row][col] = cell

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
        xf: dict = {}  # id(format) -> its xf index (fixed once the workbook is prepared)
        write = self.fh.write
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
            number = str(row + 1)
            for col in sorted(c for c in cells if first <= c <= last):
                cell = cells[col]
                kind = type(cell).__name__
                if kind not in _FAST:
                    write("".join(parts))
                    parts = []
                    self._write_cell(row, col, cell)
                    continue
                style = self._style_attribute(row, col, cell.format, xf)
                ref = names[col] + number
                if kind == "String":
                    parts.append(f'<c r="{ref}"{style} t="s"><v>{cell.string}</v></c>')
                elif kind == "Blank":
                    parts.append(f'<c r="{ref}"{style}/>')
                else:  # Number, Datetime
                    parts.append(f'<c r="{ref}"{style}><v>{cell.number:.16G}</v></c>')
            parts.append("</row>")
            write("".join(parts))

    def _style_attribute(self, row: int, col: int, fmt, xf: dict) -> str:
        """The ``s="…"`` of a cell: its format, else its row's, else its column's (as
        xlsxwriter's ``_write_cell``)."""
        if not fmt:
            info = self.row_info.get(row)
            if info is not None and info.row_format:
                fmt = info.row_format
            elif col in self.col_info:
                fmt = self.col_info[col].column_format
            if fmt is None:
                return ""
        key = id(fmt)
        if key not in xf:
            xf[key] = f' s="{fmt._get_xf_index()}"'
        return xf[key]


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


# cell kinds written here; the others by xlsxwriter itself
_FAST = frozenset({"String", "Blank", "Number", "Datetime"})


class SummaryWorkbook(Workbook):
    """An xlsxwriter workbook whose worksheets are :class:`SummarySheet`."""

    worksheet_class = SummarySheet
