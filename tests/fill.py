"""Fill a generated template the way a script (not a spreadsheet program) would: openpyxl.

Values go in by defined name and table rows by table name, so these helpers rely only on the
contract, not on where the generator happens to put things.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.utils.cell import range_boundaries


def name_cell(wb, name: str):
    """The worksheet cell a workbook-scoped defined name points at."""
    defined = wb.defined_names[name]
    sheet, coord = next(iter(defined.destinations))
    return wb[sheet][coord.replace("$", "")]


def find_table(wb, table_name: str):
    for ws in wb.worksheets:
        if table_name in ws.tables:
            return ws, ws.tables[table_name]
    raise KeyError(table_name)


def set_value(cell, value) -> None:
    """Set a value as a person typing it as text would: openpyxl alone would make "=…" a formula."""
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    if isinstance(value, (dt.date, dt.datetime)):
        cell.number_format = "dd/mm/yyyy"


def fill_with_openpyxl(template: Path, out: Path, values: dict | None = None,
                       rows: dict | None = None, raw_cells: list | None = None, edit=None) -> Path:
    """Save a copy of ``template`` with values set by name and table rows by table name.

    ``rows``: table name -> list of {column header or column id position: value}; given as
    lists in the table's input-column order (the TT column excluded).
    ``raw_cells``: (sheet, cell, value) written as-is (to simulate typing anywhere);
    ``edit(wb)``: any other change, made last.
    """
    wb = openpyxl.load_workbook(template)
    for name, value in (values or {}).items():
        set_value(name_cell(wb, name), value)
    for table_name, table_rows in (rows or {}).items():
        ws, table = find_table(wb, table_name)
        min_col, min_row, _max_col, _max_row = range_boundaries(table.ref)
        for r, row in enumerate(table_rows, start=min_row + 1):
            for c, value in enumerate(row, start=min_col + 1):  # +1: skip the TT column
                set_value(ws.cell(r, c), value)
    for sheet, coord, value in raw_cells or []:
        set_value(wb[sheet][coord], value)
    if edit is not None:
        edit(wb)
    wb.save(out)
    return out
