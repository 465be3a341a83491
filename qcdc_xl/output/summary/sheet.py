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
import os
import re
import time
import unicodedata
import zlib
import zipfile
from concurrent.futures import ThreadPoolExecutor

import xlsxwriter
from xlsxwriter.exceptions import OverlappingRange
from xlsxwriter.utility import xl_col_to_name, xl_range
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import (CellBlankTuple, CellBooleanTuple, CellDatetimeTuple,
                                  CellNumberTuple, CellStringTuple, RowInfo, Worksheet,
                                  convert_range_args)


class SummarySheet(Worksheet):
    """A worksheet whose cells are stored and written as xlsxwriter does, only faster."""

    def __init__(self):
        super().__init__()
        self._serials: dict = {}  # date or naive datetime -> its Excel serial (dates repeat)
        self._table_areas: list = []  # (first row, first col, last row, last col, range) of each table
        self._deflated: dict | None = None  # set by SummaryWorkbook while it packs the file

    def _set_xml_writer(self, filename) -> None:
        # The XML text also goes to SummaryWorkbook's deflating thread as it is written (see
        # _DeflatingFile); only a file of its own, and not in constant-memory mode.
        super()._set_xml_writer(filename)
        if self._deflated is not None and isinstance(filename, str) and self.internal_fh \
                and not self.constant_memory:
            self.fh = _DeflatingFile(self.fh, self._deflated["pool"])
            self._deflated[filename] = self.fh

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

    def set_row(self, row: int, height=None, cell_format=None, options=None):
        """xlsxwriter's ``set_row`` (through ``set_row_pixels``) without its layers of calls
        when no options are given: every list row sets its height (~26,000 rows)."""
        if options or self.constant_memory or type(row) is not int \
                or not 0 <= row < self.xls_rowmax or self.dim_colmin is not None \
                and not self.dim_colmin < self.xls_colmax:
            return super().set_row(row, height, cell_format, options)
        pixels = None if height is None else int(height * 4.0 / 3.0 + 0.5)
        col = 0 if self.dim_colmin is None else self.dim_colmin  # (what _check_dimensions gets)
        if self.dim_rowmin is None or row < self.dim_rowmin:
            self.dim_rowmin = row
        if self.dim_rowmax is None or row > self.dim_rowmax:
            self.dim_rowmax = row
        if self.dim_colmin is None:
            self.dim_colmin = col
        if self.dim_colmax is None or col > self.dim_colmax:
            self.dim_colmax = col
        hidden = False
        if pixels is None:
            pixels = self.default_row_height
        if pixels == 0:  # a zero height hides the row, at the default height
            hidden, pixels = True, self.default_row_height
        self.row_info[row] = RowInfo(height=pixels, row_format=cell_format, hidden=hidden,
                                     level=0, collapsed=False)
        self.row_sizes[row] = [pixels, hidden]
        return 0

    def _prepare_formula(self, formula, expand_future_functions=False):
        # xlsxwriter's, without its 29 regular-expression passes when the formula names none
        # of the dynamic-array functions they rename (the summary's ~2,000 SUMIFS/COUNTIFS:
        # ~65,000 passes): only the braces and the leading "=" go.
        if self.use_future_functions or expand_future_functions or "_xlfn." in formula \
                or _DYNAMIC_FUNCTION.search(formula):
            return super()._prepare_formula(formula, expand_future_functions)
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula

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
                    least, most = min(cols), max(cols)
                    if least < first or most > last:  # (a comment outside the cells' columns)
                        used = [c for c in cols if first <= c <= last]
                        if not used:
                            continue
                        least, most = min(used), max(used)
                    low, high = (least, most) if low is None else \
                        (min(low, least), max(high, most))
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
        tags: dict = {}  # (span, row's settings) -> the <row> attributes after r="…"
        write, fast, text_cell, blank_cell = self.fh.write, _FAST, CellStringTuple, CellBlankTuple
        parts: list = []  # rows are written a few hundred at a time
        append = parts.append
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row)
            info = row_info.get(row)
            if not cells and info is None and row not in comments:
                continue
            span = spans.get(row // 16)
            number = str(row + 1)
            key = (span, info) if info is None else \
                (span, info.height, info.row_format, info.hidden, info.level, info.collapsed)
            attributes = tags.get(key)
            if attributes is None:
                attributes = tags[key] = self._row_attributes(span, info)
            if not cells:
                append(f'<row r="{number}"{attributes}/>')
                continue
            append(f'<row r="{number}"{attributes}>')
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
            if len(parts) > 2000:
                write("".join(parts))
                parts.clear()
        write("".join(parts))

    def _row_attributes(self, span, info) -> str:
        """What xlsxwriter's ``_write_row`` writes after ``r="…"`` in a ``<row>`` element
        (the row's format given its xf index here, as there, before the row's cells)."""
        height, row_format, hidden, level, collapsed = (
            (info.height, info.row_format, info.hidden, info.level, info.collapsed)
            if info else (None, None, 0, 0, 0))
        if height is None:
            height = self.default_row_height
        attributes = []
        xf_index = row_format._get_xf_index() if row_format else 0
        if span:
            attributes.append(("spans", span))
        if xf_index:
            attributes.append(("s", xf_index))
        if row_format:
            attributes.append(("customFormat", 1))
        custom = height != self.original_row_height or (
            height == self.original_row_height and height != self.default_row_height)
        if custom:
            attributes.append(("ht", f"{height * 0.75:.16g}"))
        if hidden:
            attributes.append(("hidden", 1))
        if custom:
            attributes.append(("customHeight", 1))
        if level:
            attributes.append(("outlineLevel", level))
        if collapsed:
            attributes.append(("collapsed", 1))
        if self.excel_version == 2010:
            attributes.append(("x14ac:dyDescent", "0.25"))
        return "".join(f' {key}="{value}"' for key, value in attributes)

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
# What the renaming passes of xlsxwriter 3.3's _prepare_formula look for, each then followed
# by "(" (SINGLE's pattern is "\\SINGLE\\(": any non-space character, then "INGLE(").
_DYNAMIC_FUNCTION = re.compile("(?:" + "|".join((
    "ANCHORARRAY", "BYCOL", "BYROW", "CHOOSECOLS", "CHOOSEROWS", "DROP", "EXPAND", "FILTER",
    "HSTACK", "LAMBDA", "MAKEARRAY", "MAP", "RANDARRAY", "REDUCE", "SCAN", "INGLE",
    "SEQUENCE", "SORT", "SORTBY", "SWITCH", "TAKE", "TEXTSPLIT", "TOCOL", "TOROW", "UNIQUE",
    "VSTACK", "WRAPCOLS", "WRAPROWS", "XLOOKUP")) + r")\(")
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
    xlsxwriter these were not tested with), and whose worksheets' XML is deflated for the
    zip file by a thread while the next parts are still being written (zlib works without
    Python's lock: the other core does it; ~18 MB of XML, ~0.4 s)."""

    worksheet_class = SummarySheet if fast_cells_safe() else Worksheet

    def release_cells(self) -> None:
        """Let go of the sheets' cells once written. A workbook and its sheets refer to each
        other, so without this their ~500,000 cells (1,000 returns) wait for a full run of
        the cycle collector, which walks every one of them: ≈ 0.2 s, then at the latest as
        the process ends, and the memory they hold until then."""
        for ws in self.worksheets():
            ws.table.clear()
            ws.row_info.clear()

    def _store_workbook(self) -> None:
        if self.worksheet_class is not SummarySheet or self.in_memory:
            return super()._store_workbook()
        with ThreadPoolExecutor(1, thread_name_prefix="qcdc-deflate") as pool:
            deflated = {"pool": pool}  # + temporary file name -> its _DeflatingFile
            sheets = [ws for ws in self.worksheets() if isinstance(ws, SummarySheet)]
            for ws in sheets:
                ws._deflated = deflated
            try:
                self._store_deflated(deflated)
            finally:
                for ws in sheets:
                    ws._deflated = None

    def _store_deflated(self, deflated: dict) -> None:
        # xlsxwriter 3.3's _store_workbook (not in memory), its zip file taking the parts
        # already deflated (_DeflatedZip).
        xlsx_file = _DeflatedZip(deflated, self.filename, "w", compression=zipfile.ZIP_DEFLATED,
                                 allowZip64=self.allow_zip64)
        packager = self._get_packager()
        if not self.worksheets():
            self.add_worksheet()
        if self.worksheet_meta.activesheet == 0:
            self.worksheets_objs[0].selected = 1
            self.worksheets_objs[0].hidden = 0
        for sheet in self.worksheets():
            if sheet.index == self.worksheet_meta.activesheet:
                sheet.active = 1
        if self.vba_project:
            for sheet in self.worksheets():
                if sheet.vba_codename is None:
                    sheet.set_vba_name()
        self._prepare_sst_string_data()
        self._prepare_vml()
        self._prepare_defined_names()
        self._prepare_drawings()
        self._add_chart_data()
        self._prepare_tables()
        self._prepare_metadata()
        packager._add_workbook(self)
        packager._set_tmpdir(self.tmpdir)
        packager._set_in_memory(self.in_memory)
        xml_files = packager._create_package()
        packager = None
        for file_id, (os_filename, xml_filename, _is_binary) in enumerate(xml_files):
            # (xlsxwriter's time stamp: 31/1/1980, its portable one)
            timestamp = time.mktime((1980, 1, 31, 0, 0, 0, 0, 0, -1))
            os.utime(os_filename, (timestamp, timestamp))
            try:
                xlsx_file.write(os_filename, xml_filename)
                os.remove(os_filename)
            except zipfile.LargeZipFile:
                for i in range(file_id, len(xml_files) - 1):
                    os.remove(xml_files[i][0])
                raise
        xlsx_file.close()


class _DeflatingFile:
    """A worksheet's XML file that also hands its text, a megabyte at a time, to a thread
    deflating it as zipfile would (the same zlib stream, whatever the pieces: zlib's output
    does not depend on how its input is cut); :meth:`deflated` is that stream, or None."""

    PIECE = 1 << 20  # characters

    def __init__(self, fh, pool: ThreadPoolExecutor):
        self.fh, self.pool = fh, pool
        self.pending: list = []
        self.size = 0
        # zipfile's compressor for ZIP_DEFLATED at its default level
        self.compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        self.out: list = []
        self.broken = False
        self.jobs: list = []  # the futures of the pieces, then of the end of the stream
        self.crc, self.length = 0, 0  # of the bytes deflated: _Replay checks they are the file's

    def write(self, text: str) -> None:
        self.fh.write(text)
        self.pending.append(text)
        self.size += len(text)
        if self.size >= self.PIECE:
            self._hand_over()

    def _hand_over(self) -> None:
        text, self.pending, self.size = "".join(self.pending), [], 0
        self.jobs.append(self.pool.submit(self._deflate, text))

    def _deflate(self, text: str) -> None:
        if self.broken:
            return
        try:
            if os.linesep != "\n":  # the text file's own newlines (Windows)
                text = text.replace("\n", os.linesep)
            data = text.encode("utf-8")
            self.crc, self.length = zlib.crc32(data, self.crc), self.length + len(data)
            self.out.append(self.compressor.compress(data))
        except BaseException:  # the file itself then says what is wrong, or is deflated anew
            self.broken = True

    def _finish(self):
        if self.broken:
            return None
        try:
            return b"".join(self.out) + self.compressor.flush(), self.crc, self.length
        except BaseException:
            return None

    def close(self) -> None:
        self.fh.close()
        if self.pending:
            self._hand_over()
        self.jobs.append(self.pool.submit(self._finish))

    def deflated(self) -> tuple | None:
        """(the whole stream, CRC-32 and length of what it holds), or None if any piece
        failed (zipfile then deflates the file)."""
        try:
            results = [job.result() for job in self.jobs]
        except BaseException:
            return None
        return results[-1] if results and not self.broken else None


class _DeflatedZip(zipfile.ZipFile):
    """A zip file that, for a part whose deflated stream a :class:`_DeflatingFile` holds,
    writes that stream instead of deflating the part again; zipfile itself still reads the
    part for its size and checksum and writes every header."""

    def __init__(self, deflated: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._deflated, self._replay = deflated, None

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        source = self._deflated.pop(filename, None) if isinstance(filename, str) else None
        self._replay = source.deflated() if source is not None else None
        try:
            return super().write(filename, arcname, compress_type, compresslevel)
        finally:
            self._replay = None

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        handle = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode == "w" and self._replay is not None \
                and getattr(handle, "_compressor", None) is not None \
                and getattr(name, "compress_type", None) == zipfile.ZIP_DEFLATED \
                and getattr(name, "_compresslevel", None) is None:
            handle._compressor = _Replay(self._replay)
        self._replay = None
        return handle


class _Replay:
    """A compressor whose output is a stream deflated beforehand (all of it at the end), used
    only if that stream holds exactly the bytes zipfile hands it (CRC-32 and length, checked
    as they come): else those bytes are deflated anew, as zipfile would, so that a stream
    that went astray (a newline translated otherwise, a write not seen) never makes a
    corrupt part."""

    def __init__(self, deflated: tuple):
        self._deflated, self._crc, self._length = deflated
        self._seen: list = []  # the bytes zipfile hands over (references, not copies)
        self._seen_crc, self._seen_length = 0, 0

    def compress(self, data) -> bytes:
        self._seen.append(data)
        self._seen_crc, self._seen_length = zlib.crc32(data, self._seen_crc), self._seen_length + len(data)
        return b""

    def flush(self) -> bytes:
        deflated, self._deflated = self._deflated, b""
        seen, self._seen = self._seen, []
        if (self._seen_crc, self._seen_length) == (self._crc, self._length):
            return deflated
        anew = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # zipfile's own
        return b"".join(anew.compress(piece) for piece in seen) + anew.flush()
