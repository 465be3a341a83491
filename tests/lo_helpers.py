"""Helpers for the real-client tests: complete input values, reading saved files.

Values come from the form spec, never from a cell layout, so the same helpers work on any
template that follows the contract (a defined name per field id, tables by name).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

from openpyxl.utils.cell import get_column_letter, range_boundaries

from fill import name_cell  # noqa: F401 - used here and by the real-client tests
from qcdc_xl.intake.read import load_quietly
from qcdc_xl.form.spec import Form
from qcdc_xl.intake.units import Unit

# ---------------------------------------------------------------- values


def complete_values(form: Form, unit: Unit) -> dict:
    """Every input field of the unit's type, filled so that every rule holds.

    Yearly pairs are chosen so that some rates are fractions, one denominator is 0 (the rate
    must be blank in both places) and period totals add up over the years.
    """
    values = {}
    for f in form.input_fields(unit.loai_hinh):
        values[f.id] = _value_for(form, f, unit)
    if "co_ban_chi_dao" in values:
        values["co_ban_chi_dao"] = "Có"
    return values


def _value_for(form: Form, f, unit: Unit):
    if f.type == "yesno":
        return "Có"
    if f.type == "list":
        return unit.attr("loai_dn") if f.id == "loai_dn" and unit.attr("loai_dn") else f.options[0]
    if f.type == "date":
        return dt.date(2022, 6, 15)
    if f.type == "text":
        return "0239 3855 123" if f.pattern else "Nguyễn Thị Hoài Nam"
    if f.type in ("int", "money"):
        return _number_for(f)
    raise AssertionError(f.type)


def _number_for(f) -> int:
    """Numbers that satisfy ``x <= y`` rules: 'bigger' bases get bigger numbers."""
    if f.min is not None:  # e.g. a year
        return max(f.min, min(f.max or f.min, 2018))
    base, year = f.base_id, f.year or 2016
    k = year - 2015
    big = ("phai", "nhan", "giao", "tong", "3_4", "so_cuoc", "lao_dong")
    if base in ("kn_nhan", "kn_gq") and year == 2017:
        return 0  # a zero denominator: the rate must be blank
    if any(s in base for s in big):
        return 7 * k + (1_000_000_000 if f.type == "money" else 0)
    return 3 * k + (250_000_000 if f.type == "money" else 0)


def table_rows(form: Form, table: str, n: int) -> list[list]:
    """``n`` complete rows in the table's input-column order."""
    rows = []
    for i in range(n):
        row = []
        for c in form.tables[table].input_columns:
            if c.type == "date":
                row.append(dt.date(2018, 5, 12) + dt.timedelta(days=40 * i))
            elif c.type == "list":
                row.append(c.options[i % len(c.options)])
            elif c.type == "int":
                row.append(c.min + i if c.min is not None else i + 1)
            else:
                row.append(f"{i + 1:02d}-KH/ĐU" if c.unique else f"Nội dung {i + 1}")
        rows.append(row)
    return rows


def rows_as_dicts(form: Form, table: str, rows: list[list]) -> list[dict]:
    """The same rows keyed by column id (what the generator's ``table_rows`` takes)."""
    ids = [c.id for c in form.tables[table].input_columns]
    return [dict(zip(ids, row)) for row in rows]


def to_job_value(value):
    """Dates travel to the worker as ISO strings (written there as real dates)."""
    if isinstance(value, dt.datetime):  # a date typed by a person has no time of day
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else value


# ---------------------------------------------------------------- reading saved files




def validation_counts(wb) -> Counter:
    """(sheet, coordinate) -> how many data validations cover that cell."""
    out = Counter()
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                for r in range(rng.min_row, rng.max_row + 1):
                    for c in range(rng.min_col, rng.max_col + 1):
                        out[(ws.title, f"{get_column_letter(c)}{r}")] += 1
    return out


def input_cells(wb, form: Form, loai_hinh: str) -> dict:
    """Every input cell: field id -> (sheet, A1), plus each table input column's first and last
    data cell as '<table>.<column>[first|last]'."""
    out = {}
    for f in form.input_fields(loai_hinh):
        cell = name_cell(wb, f.id)
        out[f.id] = (cell.parent.title, cell.coordinate)
    for t in form.tables_for(loai_hinh):
        ws = next(ws for ws in wb.worksheets if t.name in ws.tables)
        min_col, min_row, _c, max_row = range_boundaries(ws.tables[t.name].ref)
        for i, col in enumerate(t.columns):
            if col.is_input:
                letter = get_column_letter(min_col + i)
                out[f"{t.name}.{col.id}[first]"] = (ws.title, f"{letter}{min_row + 1}")
                out[f"{t.name}.{col.id}[last]"] = (ws.title, f"{letter}{max_row}")
    return out


def meta_sheet_values(ws) -> dict:
    """key → value pairs found anywhere on the metadata sheet (a key cell, value to its right)."""
    out = {}
    for row in ws.iter_rows():
        for cell, right in zip(row, row[1:]):
            if isinstance(cell.value, str) and right.value is not None:
                out.setdefault(cell.value.strip(), str(right.value))
    return out


def custom_props(wb) -> dict:
    return {p.name: p.value for p in wb.custom_doc_props.props}


def pdf_pages(data: bytes) -> int:
    """Page objects in a PDF (LibreOffice writes page dictionaries uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def same_number(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return False


def load(path: Path, data_only: bool = False):
    return load_quietly(path, data_only=data_only)


def require_libreoffice() -> None:
    """Skip (with the reason) where LibreOffice is not usable; fail instead in CI."""
    import os
    import pytest
    from qcdc_xl.intake import libreoffice
    ok, reason = libreoffice.available()
    if ok:
        return
    if os.environ.get("QCDC_REQUIRE_LIBREOFFICE") == "1":
        pytest.fail(f"QCDC_REQUIRE_LIBREOFFICE=1 but LibreOffice is not usable: {reason}")
    pytest.skip(f"LibreOffice không dùng được: {reason}")
