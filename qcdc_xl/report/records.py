"""What the aggregator knows about each unit after reading and checking its return.

The reader fills :class:`CellRead` / :class:`RawReturn` with what the file holds; the checks
turn that into a :class:`UnitResult` of valid, canonical values plus issues; the summary and
the JSON report read only :class:`UnitResult` and :class:`Report`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from qcdc_xl.form.spec import default_list_key
from qcdc_xl.report.issues import Issue
from qcdc_xl.intake.units import Unit

STATUS_OK, STATUS_ERRORS, STATUS_MISSING, STATUS_SUPERSEDED = "ok", "errors", "missing", "superseded"


@dataclass
class CellRead:
    """One cell as found in a returned file."""

    value: Any  # as stored: str | int | float | bool | datetime | None
    sheet: str  # sheet name as found in the file
    cell: str  # A1 address, e.g. "C12"
    formula: str | None = None  # the formula text when the cell holds one
    problem: str | None = None  # why the file's content of the cell cannot be read (then
    # ``value`` is that content as text, for showing only)


@dataclass
class RawReturn:
    """Everything read from one returned file, before any judgement."""

    path: str  # relative to the returns folder, '/'-separated
    meta: dict  # metadata keys (see metadata.KEYS) as found; missing keys absent
    fields: dict[str, CellRead]  # field id (defined name) -> cell
    tables: dict[str, list[dict[str, CellRead]]]  # table name -> rows of column id -> cell
    outside: list[CellRead] = field(default_factory=list)  # typed outside every input area
    # template formulas no longer there: (the cell as found, the table when it is a TT cell)
    tampered: list[tuple[CellRead, str | None]] = field(default_factory=list)
    protected_sheets: dict[str, bool] = field(default_factory=dict)  # sheet name -> protection on
    saved_at: dt.datetime | None = None  # the workbook's own modified time
    file_mtime: dt.datetime | None = None
    issues: list[Issue] = field(default_factory=list)  # problems met while reading


@dataclass
class UnitResult:
    """One unit's line in the report."""

    unit: Unit
    status: str
    file: str | None = None
    saved_at: dt.datetime | None = None
    file_mtime: dt.datetime | None = None
    values: dict[str, Any] = field(default_factory=dict)  # field id -> canonical valid value or None
    invalid: set[str] = field(default_factory=set)  # field ids whose typed value was refused
    cells: dict[str, tuple[str, str]] = field(default_factory=dict)  # field id -> (sheet, cell)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # table -> rows (canonical)
    issues: list[Issue] = field(default_factory=list)

    @property
    def counts(self) -> bool:
        """Whether this unit's values go into the totals."""
        return self.status in (STATUS_OK, STATUS_ERRORS)

    @property
    def error_count(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warning_count(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")


_AS_IS = frozenset({str, int, bool, type(None)})  # what json_value returns unchanged


def json_value(value: Any) -> Any:
    """Numbers stay numbers, dates become ISO strings, everything else its text."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class Report:
    form_id: str
    form_version: str
    generated_at: str
    units: list[UnitResult]
    issues: list[Issue]  # every issue, file-level ones (no unit) included
    totals: dict
    files_read: int = 0
    list_keys: dict = field(default_factory=dict)  # table name -> its key in each unit's JSON

    def to_json(self) -> dict:
        """The contract's JSON report."""
        return {
            "form": self.form_id, "form_version": self.form_version,
            "generated_at": self.generated_at,
            "units": [_unit_json(u, self.list_keys) for u in self.units],
            "totals": self.totals,
            "issues": [i.to_dict() for i in self.issues],
        }


def _unit_json(u: UnitResult, list_keys: dict) -> dict:
    d = {"ma_don_vi": u.unit.ma_don_vi, "ten_don_vi": u.unit.ten_don_vi,
         "loai_hinh": u.unit.loai_hinh, "khoi": u.unit.khoi or None,
         **{name: value or None for name, value in u.unit.attributes},
         "status": u.status, "file": u.file,
         "values": {k: v if type(v) in _AS_IS else json_value(v) for k, v in u.values.items()}}
    for name, rows in u.tables.items():
        key = list_keys.get(name) or default_list_key(name)
        d[key] = [{k: v if type(v) in _AS_IS else json_value(v) for k, v in row.items()}
                  for row in rows]
    d["error_count"], d["warning_count"] = u.error_count, u.warning_count
    return d
