"""Roll-ups of the form's tables for the summary and the sentences: rows of every counted
unit, counts by a list column (and by year of a date column), units with at least one row
of some options, and the grid of two list columns. Any table of any form: the table and
column ids come from the spec's ``summary:`` / ``report:`` blocks.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from qcdc_xl.report.records import UnitResult
from qcdc_xl.report.summarise import UNKNOWN, counted


def table_rows(results: Iterable[UnitResult], table: str) -> list[tuple[UnitResult, dict]]:
    """(result, row) for every row of a table of every counted unit, in list order."""
    return [(r, row) for r in counted(results) for row in (r.tables.get(table) or ())]


def _column(form, table: str, cid: str):
    return next(c for c in form.tables[table].columns if c.id == cid)


def year_of(value) -> str:
    """The year of a date cell as text ("2019"), or UNKNOWN."""
    if isinstance(value, (dt.date, dt.datetime)):
        return str(value.year)
    if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit():
        return value[:4]  # an ISO date string
    return UNKNOWN


def date_years(form, table: str, cid: str) -> list[str]:
    """The years a date column may hold: its allowed range, else the form's years."""
    column = _column(form, table, cid)
    if isinstance(column.min, dt.date) and isinstance(column.max, dt.date):
        return [str(y) for y in range(column.min.year, column.max.year + 1)]
    return [str(y) for y in form.years]


def table_counts(form, results: list, table: str, cid: str, date: str | None = None) -> dict:
    """Rows by the options of a list column (and by year of a date column).

    ``{"theo": {option: n}, "khong_ro": rows without a valid option, "tong": all rows,
    "don_vi": {option: distinct units}, "theo_nam": {option: {year: n, …, "": n}}}``.
    """
    options = _column(form, table, cid).options
    years = date_years(form, table, date) if date else []
    rows = table_rows(results, table)
    by_year = {o: {y: 0 for y in years + [UNKNOWN]} for o in options}
    theo = {o: 0 for o in options}
    units: dict = {o: set() for o in options}
    unknown = 0
    for result, row in rows:
        option = row.get(cid)
        if option not in theo:
            unknown += 1
            continue
        theo[option] += 1
        units[option].add(result.unit.ma_don_vi)
        if date:
            year = year_of(row.get(date))
            by_year[option][year if year in years else UNKNOWN] += 1
    return {"theo": theo, "khong_ro": unknown, "tong": len(rows),
            "don_vi": {o: len(u) for o, u in units.items()}, "theo_nam": by_year}


def table_years(form, results: list, table: str, date: str) -> dict:
    """Rows by year of a date column (``""``: no date or a date outside the column's range)."""
    years = date_years(form, table, date)
    out = {y: 0 for y in years + [UNKNOWN]}
    for _, row in table_rows(results, table):
        year = year_of(row.get(date))
        out[year if year in years else UNKNOWN] += 1
    return out


def units_with_rows(results: list, table: str, cid: str, options: Iterable[str]) -> int:
    """How many distinct counted units have at least one row with one of ``options``."""
    wanted = set(options)
    return len({r.unit.ma_don_vi for r, row in table_rows(results, table)
                if row.get(cid) in wanted})


def table_grid(form, results: list, table: str, first: str, second: str) -> dict:
    """Rows by two list columns: ``{option of first: {option of second: n}}``, UNKNOWN last."""
    a = list(_column(form, table, first).options) + [UNKNOWN]
    b = list(_column(form, table, second).options) + [UNKNOWN]
    grid = {x: {y: 0 for y in b} for x in a}
    for _, row in table_rows(results, table):
        x = row.get(first) if row.get(first) in grid else UNKNOWN
        y = row.get(second) if row.get(second) in grid[x] else UNKNOWN
        grid[x][y] += 1
    return grid
