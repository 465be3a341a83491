"""What every sheet of the summary workbook reads: the form and its summary spec, the
report, the totals (recomputed so that they match the formulas), and the shared helpers
(titles, coverage note, list rows, Excel tables)."""
from __future__ import annotations

import datetime as dt

from qcdc_xl.form.formulas import compute_derived
from qcdc_xl.report.records import Report, UnitResult
from qcdc_xl.form.report_spec import summary_spec
from qcdc_xl.form.spec import YESNO_LIST, Field, Form
from qcdc_xl.report.summarise import answered_counts, compute_totals, khoi_values, status_counts, valid_value
from qcdc_xl.report.summarise import attribute_value as summarise_attribute
from .cells import nfc, put_row, row_height
from .detail import detail_layout

STATUS_VI = {"ok": "Đạt", "errors": "Có lỗi", "missing": "Chưa nộp",
             "superseded": "Bản cũ, bị thay thế"}
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
_CREATED_FALLBACK = dt.datetime(2000, 1, 1)


def yes_option(form: Form) -> str:
    """The "yes" of the form's yes/no list (its first option)."""
    return form.option_lists[YESNO_LIST][0]


def attribute_value(form: Form, result: UnitResult, name: str):
    """A unit attribute (``loai_dn``): what the totals group the unit by (the units list's
    value, else the return's field that the list would prefill), or None."""
    return summarise_attribute(form, result, name) or None


def attribute_column(form: Form, name: str) -> str:
    """The «Chi tiết đơn vị» column of an attribute: its form field when it has one (the
    field the units list prefills), else a column of its own named after it."""
    return next((f.id for f in form.fields.values() if f.prefill_optional == name), name)


class Book:
    def __init__(self, form: Form, report: Report, totals: dict | None = None):
        self.form, self.report = form, report
        self.spec = summary_spec(form)
        self.results = report.units
        # the totals of these very results (given, else recomputed): they match the formulas
        self.totals = compute_totals(form, self.results) if totals is None else totals
        self.answered = answered_counts(form, self.results)
        self.khois = khoi_values(self.results)
        self.detail = detail_layout(form, len(self.results), bool(self.khois))
        self.yes = yes_option(form)
        self.inputs = [f for f in form.fields.values() if f.is_input]
        self.wb = self.st = None
        self.figure_rows: dict = {}  # base id -> (sheet name, row) of a figures sheet
        self.series_cols: dict = {}  # sheet name -> (header row, first col, last col) of block 0
        self.listing_counts: list = []  # (listing, sheet name, (first, last, label, total col))
        self.detail_fields = None  # (column, field, style) of «Chi tiết đơn vị», see detail.py
        self.detail_plans: dict = {}  # (unit type, muted) -> its rows' plan, see detail.py
        self.detail_positions = None  # field id -> its place among those columns

    # -- facts of the form
    def attributes(self) -> list:
        """The form's unit attributes (:class:`qcdc_xl.form.spec.Attribute`), in spec order."""
        return list(self.form.attributes.values())

    def kind(self, f: Field | None) -> str:
        """The style of a field's value."""
        if f is None:
            return "int"
        if f.id in self.spec.year_fields:
            return "year"  # e.g. a founding year: 2019, not 2.019
        if f.type == "rate":
            return "pct"
        if f.type in ("int", "money", "sum", "count"):
            return "int"
        if f.type == "date":
            return "date"
        return ""

    def unit_values(self, r: UnitResult) -> dict:
        """Valid inputs plus derived fields recomputed from them (as the totals are)."""
        values = {f.id: valid_value(r, f) for f in self.inputs}
        counts = {name: len(rows or ()) for name, rows in r.tables.items()}
        values.update(compute_derived(self.form, r.unit.loai_hinh, values, counts))
        for a in self.attributes():
            column = attribute_column(self.form, a.name)
            if column in self.form.fields and r.unit.loai_hinh in a.types:
                values[column] = attribute_value(self.form, r, a.name)  # as the totals group
        return values

    def properties(self) -> dict:
        try:
            created = dt.datetime.fromisoformat(str(self.report.generated_at)).replace(tzinfo=None)
        except ValueError:
            created = _CREATED_FALLBACK
        return {"title": f"Tổng hợp — {self.form.name}", "subject": self.form.name,
                "author": "qcdc-xl", "company": self.form.issuer, "created": created,
                "keywords": f"{self.form.id}, {self.form.version}",
                "comments": f"Biểu mẫu {self.form.id}, phiên bản {self.form.version}."}

    # -- shared pieces of sheets
    def titles(self, ws, title: str, last_col: int, note: str | None = None,
               note_width: float = 100) -> int:
        """Issuer, title, form name and an optional note over columns 0..last_col (whose
        widths add up to about ``note_width``); returns the next free row."""
        st = self.st
        ws.merge_range(0, 0, 0, last_col, nfc(self.form.issuer.upper()), st("issuer"))
        ws.merge_range(1, 0, 1, last_col, nfc(title), st("title"))
        ws.set_row(1, 22)
        ws.merge_range(2, 0, 2, last_col, nfc(self.form.name), st("subtitle"))
        if not note:
            return 4
        ws.merge_range(3, 0, 3, last_col, nfc(note), st("note"))
        ws.set_row(3, row_height(note, note_width, 14))
        return 5

    def coverage_note(self) -> str:
        s = status_counts(self.results)
        got = s["ok"] + s["errors"]
        text = f"Số liệu của {got}/{s['don_vi']} đơn vị đã nộp báo cáo"
        if s["missing"]:
            text += f"; {s['missing']} đơn vị chưa nộp (chưa có trong số liệu)"
        return text + "."

    def list_row(self, ws, row: int, values: list, heads: list, styles: list | None = None,
                 formats: list | None = None) -> None:
        """One row of a list: each value by its type and style (``styles``: names of each
        column's style; or ``formats``: the formats themselves), the row tall enough for the
        longest wrapped text (Excel does not grow rows on load)."""
        if formats is None:
            formats = [self.st("cell", *names) for names in styles]
        put_row(ws, row, values, formats)
        tallest = 15.0
        for v, (_, w) in zip(values, heads):
            # a text of one line within its column is one line high: 15, never the tallest
            if isinstance(v, str) and (len(v) > w * 1.1 or "\n" in v):
                tallest = max(tallest, row_height(v, w))
        ws.set_row(row, tallest)

    def table(self, ws, header: int, last: int, heads: list, name: str) -> None:
        """An Excel table with filters over rows header..last (at least one data row)."""
        last = max(last, header + 1)
        ws.add_table(header, 0, last, len(heads) - 1, {
            "name": name, "style": "Table Style Light 1", "autofilter": True,
            "columns": [{"header": h, "header_format": self.st("head")} for h, _ in heads]})
        for col, (_, width) in enumerate(heads):
            ws.set_column(col, col, width)
        ws.set_row(header, 32)
        ws.freeze_panes(header + 1, 0)
