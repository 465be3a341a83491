"""The summary workbook of ``qcdc-xl aggregate``: print-ready, live, and safe with unit text.

Sheets: «Tổng hợp» (Phụ lục 2 by year in blocks Tổng/HCSN/DN/khối, as live SUMIFS formulas
over «Chi tiết đơn vị» with correct cached values), «Thông tin chung», «Số liệu báo cáo»
(ready sentences), «Biểu đồ», «Tình hình nộp», «Kiểm tra», «Chi tiết đơn vị» (one row per
unit, every field), «Danh mục văn bản», «Điển hình, mô hình».

Text that came from units is only ever written with ``write_string`` (a name beginning with
``=`` stays text). The file is written to a temporary file beside the target, then moved
into place, so a reader never sees half a workbook.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field as dc_field
from pathlib import Path

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from .fileio import LockedFileError, atomic_write
from .formulas import compute_derived
from .issues import CODES
from .records import Report, UnitResult
from .sentences import report_sentences
from .spec import Field, Form
from .summarise import (ALL, DOC_DATE, DOC_TABLE, DOC_TYPE, MODEL_TABLE, UNKNOWN, YES,
                        answered_counts, compute_totals, document_rollup, document_years,
                        khoi_values, attribute_value, status_counts, table_rows, valid_value)

SHEET = {
    "summary": "Tổng hợp", "general": "Thông tin chung", "sentences": "Số liệu báo cáo",
    "charts": "Biểu đồ", "returns": "Tình hình nộp", "issues": "Kiểm tra",
    "detail": "Chi tiết đơn vị", "documents": "Danh mục văn bản", "models": "Điển hình, mô hình",
}
STATUS_VI = {"ok": "Đạt", "errors": "Có lỗi", "missing": "Chưa nộp",
             "superseded": "Bản cũ, bị thay thế"}
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
GROUP_TITLE = {ALL: "TỔNG SỐ", "HCSN": "HÀNH CHÍNH, SỰ NGHIỆP (HCSN)", "DN": "DOANH NGHIỆP (DN)"}
GROUP_SHORT = {ALL: "Toàn bộ", "HCSN": "HCSN", "DN": "DN"}
NO_KHOI = "Không ghi khối"
PERIOD = "Cả giai đoạn"
DASH = "—"
INVALID_NOTE = "Giá trị không hợp lệ, không tính vào tổng."
SUMMARY_SOURCE = "phu_luc_2"  # the form sheet that «Tổng hợp» rolls up
GENERAL_SOURCE = "thong_tin_chung"
# Charts: (title, kind, [(series name, base field id)]) over the years of «Tổng hợp».
RATE_CHARTS = (
    ("Tỷ lệ tổ chức hội nghị, đối thoại theo năm (toàn bộ)", "line",
     (("Hội nghị CB, CC, VC", "hnccc_tl"), ("Hội nghị người lao động", "hnnld_tl"),
      ("Đối thoại tại nơi làm việc", "dtnlv_tl"))),
    ("Tỷ lệ giải quyết đơn thư theo năm (toàn bộ)", "column",
     (("Khiếu nại", "kn_tl"), ("Tố cáo", "tc_tl"), ("Phản ánh, kiến nghị", "pakn_tl"),
      ("Chung", "dt_tl"))),
)
_CREATED_FALLBACK = dt.datetime(2000, 1, 1)


# «Danh mục văn bản»: list columns; the counts block above reuses D… for its numbers, so the
# narrow columns come first and the long excerpt last.
_DOC_HEADS = [("STT", 6), ("Mã đơn vị", 11), ("Tên đơn vị", 26), ("Loại hình", 9), ("Khối", 12),
              ("Năm", 8), ("Ngày ban hành", 11), ("Số, ký hiệu", 14), ("Tên loại văn bản", 16),
              ("Cơ quan ban hành", 16), ("Ghi chú", 14), ("Trích yếu nội dung", 44)]
_DOC_COL = {"nam": 5, DOC_TYPE: 8}


_SUMMARY_LABEL_WIDTH, _YEAR_WIDTH, _PERIOD_WIDTH = 46, 8.5, 18  # period: 1.048.810.000.000 đồng
_GENERAL_LABEL_WIDTH = 50


def _print_scale(widths: list, height_pt: float, landscape: bool) -> int:
    """The largest print scale (≤ 100%) at which one page holds these columns and rows."""
    page_w, page_h = (11.69, 8.27) if landscape else (8.27, 11.69)
    width_px = sum(w * 7 + 5 for w in widths)  # Excel: ~7 px per character + padding
    fit_w = (page_w - 0.9) * 96 / width_px
    fit_h = (page_h - 2.0) * 72 / max(height_pt, 1)  # margins, footer, LibreOffice slack
    return max(10, min(100, int(100 * min(fit_w, fit_h))))


def _two_lines(text: str, longest: int = 40) -> str:
    """An issuer too long for one line, broken near its middle as official headers are:
    "ĐẢNG ỦY KHỐI CÁC CƠ QUAN\nVÀ DOANH NGHIỆP TỈNH" (never one word alone on a line)."""
    words = text.split()
    if len(text) <= longest or len(words) < 4:
        return text
    cut = min(range(2, len(words) - 1),
              key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return " ".join(words[:cut]) + "\n" + " ".join(words[cut:])


def _nice_step(top: float, ticks: int = 8) -> int:
    """A round axis step (1, 2, 5, 10, 20, 50, …) giving about ``ticks`` gridlines."""
    step = 1
    while top / step > ticks:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step


# The summary's own name for the shared locked-target error (callers catch either).
SummaryLockedError = LockedFileError


# ---------------------------------------------------------------- public API


def write_summary(form: Form, report: Report, path: Path) -> Path:
    """Write the summary workbook atomically; raise :class:`SummaryLockedError` if the
    target is open/locked (the old file is then left as it was)."""
    return atomic_write(path, _Summary(form, report).write)


# ---------------------------------------------------------------- cells and styles


def _nfc(text) -> str:
    return unicodedata.normalize("NFC", str(text))


def _put(ws, row: int, col: int, value, fmt=None) -> None:
    """Write any value by its type; text always as text (never a formula or a link)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "Có" if value else "Không", fmt)
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            ws.write_string(row, col, str(value), fmt)
        else:
            ws.write_number(row, col, value, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        value = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, _nfc(value), fmt)


def _formula(ws, row: int, col: int, expr: str, fmt, cached) -> None:
    """A live formula with its correct cached value ("" shows blank until recalculated)."""
    ws.write_formula(row, col, "=" + expr, fmt, "" if cached is None else cached)


def _q(text: str) -> str:
    """A string literal inside a formula."""
    return '"' + _nfc(text).replace('"', '""') + '"'


def _crit(text: str) -> str:
    """A SUMIFS/COUNTIFS criterion matching exactly ``text`` (no wildcards, no operators)."""
    return _q("=" + re.sub(r"([~*?])", r"~\1", _nfc(text)))


def _row_height(text: str, width_chars: float, line: float = 15.0) -> float:
    """A row height that shows wrapped text whole (Excel does not autofit on load)."""
    lines = sum(max(1, math.ceil(len(part) / max(width_chars * 1.1, 1)))  # Times is narrow
                for part in str(text).split("\n"))
    return max(line, lines * line)


_STYLE = {
    "issuer": {"bold": True, "align": "center"},
    "title": {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"},
    "subtitle": {"italic": True, "align": "center"},
    "note": {"italic": True, "font_size": 10, "font_color": "#595959", "text_wrap": True,
             "valign": "top", "align": "left"},
    "head": {"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True,
             "border": 1, "bg_color": "#DDEBF7"},
    "ids": {"font_size": 8, "font_color": "#7F7F7F", "align": "center", "border": 1,
            "bg_color": "#F2F2F2"},
    "section": {"bold": True, "border": 1, "bg_color": "#FCE4D6", "valign": "vcenter"},
    "cell": {"border": 1, "valign": "vcenter"},
    "wrap": {"text_wrap": True, "valign": "top"},
    "center": {"align": "center"},
    "bold": {"bold": True},
    "int": {"num_format": "#,##0"},
    "pct": {"num_format": "0.0%"},
    "year": {"num_format": "0", "align": "center"},
    "date": {"num_format": "dd/mm/yyyy", "align": "center"},
    "datetime": {"num_format": "dd/mm/yyyy hh:mm", "align": "center"},
    "dash": {"align": "center", "font_color": "#7F7F7F"},
    "invalid": {"bg_color": "#F8CBAD"},
    "na": {"bg_color": "#EDEDED"},
    "muted": {"font_color": "#808080", "italic": True},
    "small": {"font_size": 9},
    "error": {"font_color": "#C00000"},
    "warning": {"font_color": "#9C5700"},
    "st_ok": {"bg_color": "#C6EFCE"},
    "st_errors": {"bg_color": "#FFC7CE"},
    "st_missing": {"bg_color": "#FFEB9C"},
    "st_superseded": {"bg_color": "#D9D9D9"},
}


class _Styles:
    """Formats by name, combined and cached (xlsxwriter wants one object per combination)."""

    def __init__(self, wb):
        self.wb, self.cache = wb, {}

    def __call__(self, *names: str):
        key = tuple(n for n in names if n)
        if key not in self.cache:
            props = {}
            for n in key:
                props.update(_STYLE[n])
            self.cache[key] = self.wb.add_format(props)
        return self.cache[key]


def _kind(field: Field) -> str:
    """The style of a field's value."""
    if field.type == "rate":
        return "pct"
    if field.type == "int" and field.min is not None and field.min >= 1000:
        return "year"  # e.g. nam_thanh_lap_bcd: 2019, not 2.019
    if field.type in ("int", "money", "sum", "count"):
        return "int"
    if field.type == "date":
        return "date"
    return ""


def _page(ws, sheet_title: str, landscape: bool, repeat_rows=None, fit_width: bool = True):
    """A4, margins, footer with page numbers, repeated header rows, fit to page width."""
    ws.set_paper(9)
    ws.set_landscape() if landscape else ws.set_portrait()
    ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(f"&L&8{sheet_title}&R&8Trang &P/&N")
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    if fit_width:
        ws.fit_to_pages(1, 0)


# ---------------------------------------------------------------- layout of «Chi tiết đơn vị»


@dataclass
class _Column:
    key: str  # the table header: a field id or an identity column id
    label: str
    group: str
    width: float
    field: Field | None = None


@dataclass
class _DetailLayout:
    columns: list
    first: int  # first data row (0-based)
    last: int  # last data row (0-based, ≥ first even with no unit)
    col: dict = dc_field(default_factory=dict)

    HEADER_ROW = 4

    def __post_init__(self):
        self.col = {c.key: i for i, c in enumerate(self.columns)}

    def rng(self, key: str) -> str:
        letter = xl_col_to_name(self.col[key])
        return f"'{SHEET['detail']}'!${letter}${self.first + 1}:${letter}${self.last + 1}"

    def criteria(self, loai: str | None, khoi_no: int | None) -> str:
        """The SUMIFS/COUNTIFS conditions of a group: counted, of a type, of a khoi."""
        parts = [f"{self.rng('duoc_tinh')},1"]
        if loai:
            parts.append(f"{self.rng('loai_hinh')},{_crit(loai)}")
        if khoi_no:
            parts.append(f"{self.rng('ma_khoi')},{khoi_no}")
        return ",".join(parts)


def _detail_layout(form: Form, n_rows: int, has_khoi: bool) -> _DetailLayout:
    unit = "Đơn vị"
    cols = [_Column("stt", "STT", unit, 5), _Column("ma_don_vi", "Mã đơn vị", unit, 11),
            _Column("ten_don_vi", "Tên đơn vị", unit, 30), _Column("loai_hinh", "Loại hình", unit, 8)]
    if has_khoi:
        cols += [_Column("khoi", "Khối", unit, 16), _Column("ma_khoi", "Mã khối", unit, 6)]
    cols += [_Column("trang_thai", "Trạng thái", unit, 17),
             _Column("duoc_tinh", "Được tính (1 = cộng vào tổng)", unit, 9),
             _Column("tep", "Tệp", unit, 22)]
    for f in form.fields.values():
        if f.is_identity:
            continue
        cols.append(_Column(f.id, _field_label(f), _group_label(form, f),
                            16 if f.type in ("text", "list") else 10, f))
    first = _DetailLayout.HEADER_ROW + 1
    return _DetailLayout(cols, first, first + max(n_rows, 1) - 1)


def _field_label(f: Field) -> str:
    if f.period_total:
        return f"{f.label} ({PERIOD.lower()})"
    return f"{f.label} ({f.year})" if f.year else f.label


def _group_label(form: Form, f: Field) -> str:
    sheet = form.sheet(f.sheet)
    title = form.section(f.section).title or sheet.heading or sheet.title
    return f"{sheet.name} — {title}"


# ---------------------------------------------------------------- the workbook


@dataclass
class _Block:
    """A column block of «Tổng hợp»: a group of units and its totals."""

    title: str
    loai: str | None
    khoi_no: int | None
    totals: dict
    first_col: int = 0


class _Summary:
    def __init__(self, form: Form, report: Report):
        self.form, self.report = form, report
        self.results = report.units
        self.totals = compute_totals(form, self.results)  # recomputed: matches the formulas
        self.answered = answered_counts(form, self.results)
        self.khois = khoi_values(self.results)
        self.detail = _detail_layout(form, len(self.results), bool(self.khois))
        self.years = list(form.years)
        self.placed: dict = {}  # (field id, block index) -> (row, col) in «Tổng hợp»
        self.summary_rows: dict = {}  # base id -> row in «Tổng hợp»
        self.doc_counts: tuple | None = None  # (first row, last row, label col, total col)
        self.year_header_row = 0
        self.id_col = 0

    # -- orchestration
    def write(self, path: Path) -> None:
        wb = xlsxwriter.Workbook(str(path), {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "default_format_properties": {"font_name": "Times New Roman", "font_size": 11},
        })
        self.wb, self.st = wb, _Styles(wb)
        wb.set_properties(self._properties())
        sheets = {key: wb.add_worksheet(name) for key, name in SHEET.items()}
        self._write_summary(sheets["summary"])
        self._write_general(sheets["general"])
        self._write_sentences(sheets["sentences"])
        self._write_returns(sheets["returns"])
        self._write_issues(sheets["issues"])
        self._write_detail(sheets["detail"])
        self._write_documents(sheets["documents"])
        self._write_models(sheets["models"])
        self._write_charts(sheets["charts"])
        sheets["summary"].activate()
        try:
            wb.close()
        except FileCreateError as exc:  # an OSError for the callers
            raise OSError(f"không ghi được tệp tạm «{path.name}»: {exc}") from exc

    def _properties(self) -> dict:
        try:
            created = dt.datetime.fromisoformat(str(self.report.generated_at)).replace(tzinfo=None)
        except ValueError:
            created = _CREATED_FALLBACK
        return {"title": f"Tổng hợp — {self.form.name}", "subject": self.form.name,
                "author": "qcdc-xl", "company": self.form.issuer, "created": created,
                "keywords": f"{self.form.id}, {self.form.version}",
                "comments": f"Biểu mẫu {self.form.id}, phiên bản {self.form.version}."}

    def _titles(self, ws, title: str, last_col: int, note: str | None = None,
                note_width: float = 100) -> int:
        """Issuer, title, form name and an optional note over columns 0..last_col (whose
        widths add up to about ``note_width``); returns the next free row."""
        st = self.st
        ws.merge_range(0, 0, 0, last_col, _nfc(self.form.issuer.upper()), st("issuer"))
        ws.merge_range(1, 0, 1, last_col, _nfc(title), st("title"))
        ws.set_row(1, 22)
        ws.merge_range(2, 0, 2, last_col, _nfc(self.form.name), st("subtitle"))
        if not note:
            return 4
        ws.merge_range(3, 0, 3, last_col, _nfc(note), st("note"))
        ws.set_row(3, _row_height(note, note_width, 14))
        return 5

    def _coverage_note(self) -> str:
        s = status_counts(self.results)
        got = s["ok"] + s["errors"]
        text = f"Số liệu của {got}/{s['don_vi']} đơn vị đã nộp báo cáo"
        if s["missing"]:
            text += f"; {s['missing']} đơn vị chưa nộp (chưa có trong số liệu)"
        return text + "."

    # -- «Tổng hợp»
    def _blocks(self) -> list:
        t = self.totals
        blocks = [_Block(GROUP_TITLE[g], None if g == ALL else g, None, t[g]) for g in (ALL,) + self.form.type_ids]
        for no, k in enumerate(self.khois, start=1):
            blocks.append(_Block(f"KHỐI: {(k or NO_KHOI).upper()}", None, no, t["khoi"][k][ALL]))
        width = len(self.years) + 1
        for i, b in enumerate(blocks):
            b.first_col = 2 + i * width
        return blocks

    def _summary_plan(self) -> list:
        """[("section", title) | ("row", number, label, {column key: field id})] in spec order."""
        plan = [("row", "", "Số đơn vị báo cáo được tính", {PERIOD: "so_don_vi"})]
        for section in self.form.sheet(SUMMARY_SOURCE).sections:
            plan.append(("section", section.title or section.id))
            number = re.match(r"\s*(\d+)", section.title or "")
            prefix = number.group(1) if number else ""
            rows = self._section_rows(section)
            for i, (label, cells) in enumerate(rows, start=1):
                plan.append(("row", f"{prefix}.{i}" if prefix else str(i), label, cells))
        return plan

    def _section_rows(self, section) -> list:
        fields = self.form.fields
        if section.layout != "yearly":
            return [(fields[fid].label, {PERIOD: fid}) for fid in section.field_ids
                    if fields[fid].type not in ("text", "date", "list")]
        rows = []
        for base in section.base_fields:
            cells = {y: f"{base}_{y}" for y in self.years if f"{base}_{y}" in fields}
            if f"{base}_tong" in fields:
                cells[PERIOD] = f"{base}_tong"
            rows.append((fields[next(iter(cells.values()))].label, cells))
        return rows

    def _col_of(self, block: _Block, key) -> int:
        return block.first_col + (self.years.index(key) if key != PERIOD else len(self.years))

    def _write_summary(self, ws) -> None:
        blocks = self._blocks()
        plan = self._summary_plan()
        last_col = blocks[-1].first_col + len(self.years)
        self.id_col = last_col + 1  # machine-traceable ids, outside the print area
        top = self._summary_titles(ws, blocks)
        self._summary_headers(ws, blocks, top)
        self.year_header_row = top + 1
        first = top + 2
        rows = self._place(plan, blocks, first)
        height = 4 * 18 + 60  # titles and the two header rows
        for item, row in zip(plan, rows):
            if item[0] == "section":
                height += self._summary_section(ws, row, item[1], last_col)
            else:
                height += self._summary_row(ws, row, item, blocks)
        height += self._summary_footnote(ws, first + len(plan) + 1)
        self._summary_setup(ws, blocks, top, first + len(plan) + 1, last_col, height)

    def _summary_titles(self, ws, blocks: list) -> int:
        """The issuer over the label columns (repeated on every printed page) and the title
        over each block, so that each printed page (one block) has its own heading."""
        st = self.st
        ws.merge_range(0, 0, 0, 1, _nfc(_two_lines(self.form.issuer.upper())), st("issuer", "wrap"))
        ws.set_row(0, 30)
        for b in blocks:
            end = b.first_col + len(self.years)
            ws.merge_range(1, b.first_col, 1, end, "TỔNG HỢP SỐ LIỆU PHỤ LỤC 2", st("title"))
            ws.merge_range(2, b.first_col, 2, end, _nfc(self.form.name), st("subtitle"))
        ws.set_row(1, 22)
        return 4

    def _summary_footnote(self, ws, row: int) -> float:
        """The reading notes under the table, in the label columns (printed on every page)."""
        note = (self._coverage_note() + " Các ô số liệu là công thức tính từ trang «Chi tiết "
                "đơn vị» (chỉ các dòng «Được tính» = 1); tỷ lệ = tổng tử số / tổng mẫu số; «—»: "
                "chỉ tiêu không áp dụng cho nhóm. Khi in, mỗi nhóm đơn vị một trang.")
        ws.merge_range(row, 0, row, 1, _nfc(note), self.st("note"))
        height = _row_height(note, _SUMMARY_LABEL_WIDTH + 5, 14)
        ws.set_row(row, height)
        return height

    def _place(self, plan: list, blocks: list, first: int) -> list:
        rows = list(range(first, first + len(plan)))
        for item, row in zip(plan, rows):
            if item[0] != "row":
                continue
            for key, fid in item[3].items():
                for i, b in enumerate(blocks):
                    self.placed[(fid, i)] = (row, self._col_of(b, key))
                if fid in self.form.fields:  # for the charts: base id -> row
                    self.summary_rows.setdefault(self.form.fields[fid].base_id, row)
        return rows

    def _summary_headers(self, ws, blocks: list, top: int) -> None:
        st = self.st
        ws.merge_range(top, 0, top + 1, 0, "TT", st("head"))
        ws.merge_range(top, 1, top + 1, 1, "Chỉ tiêu", st("head"))
        for b in blocks:
            ws.merge_range(top, b.first_col, top, b.first_col + len(self.years), _nfc(b.title),
                           st("head"))
            for key in self.years + [PERIOD]:
                _put(ws, top + 1, self._col_of(b, key), str(key), st("head"))
        ws.merge_range(top, self.id_col, top + 1, self.id_col, "Mã chỉ tiêu", st("ids"))
        ws.set_row(top, 30)
        ws.set_row(top + 1, 30)

    def _summary_section(self, ws, row: int, title: str, last_col: int,
                         width: float = _SUMMARY_LABEL_WIDTH) -> float:
        """A section band: number in A, wrapped title in B (repeated on every printed page)."""
        number = re.match(r"\s*(\d+)\.\s*(.*)", title)
        text = number.group(2) if number else title
        _put(ws, row, 0, number.group(1) if number else "", self.st("section", "center"))
        _put(ws, row, 1, text, self.st("section", "wrap"))
        for col in range(2, last_col + 1):
            ws.write_blank(row, col, None, self.st("section"))
        height = _row_height(text, width * 0.75)  # bold, often capitals: wider letters
        ws.set_row(row, height)
        return height

    def _summary_row(self, ws, row: int, item: tuple, blocks: list) -> float:
        _, number, label, cells = item
        st = self.st
        _put(ws, row, 0, number, st("cell", "center"))
        _put(ws, row, 1, label, st("cell", "wrap"))
        height = _row_height(label, _SUMMARY_LABEL_WIDTH)
        ws.set_row(row, height)
        first = next(iter(cells.values()))
        _put(ws, row, self.id_col, self.form.fields[first].base_id if first in self.form.fields
             else first, st("ids"))
        for i, b in enumerate(blocks):
            for key in self.years + [PERIOD]:
                col = self._col_of(b, key)
                fid = cells.get(key)
                if fid is None:
                    ws.write_blank(row, col, None, st("cell"))
                else:
                    self._summary_cell(ws, row, col, fid, i, b)
        return height

    def _summary_cell(self, ws, row: int, col: int, fid: str, index: int, block: _Block) -> None:
        st = self.st
        f = self.form.fields.get(fid)
        if f is not None and block.loai and not f.applies_to(block.loai):
            _put(ws, row, col, DASH, st("cell", "dash"))
            return
        kind = _kind(f) if f is not None else "int"
        _formula(ws, row, col, self._expr(fid, index, block, own=True), st("cell", kind),
                 block.totals.get(fid))

    def _expr(self, fid: str, index: int, block: _Block, own: bool = False) -> str:
        """The Excel expression of a total: a cell of this block when placed, else built."""
        if not own and (fid, index) in self.placed:
            row, col = self.placed[(fid, index)]
            return xl_rowcol_to_cell(row, col)
        crit = self.detail.criteria(block.loai, block.khoi_no)
        if fid == "so_don_vi":
            return f"COUNTIFS({crit})"
        f = self.form.fields[fid]
        if f.type == "sum":
            return "SUM(" + ",".join(self._expr(x, index, block) for x in f.of) + ")"
        if f.type == "rate":
            num, den = self._expr(f.num, index, block), self._expr(f.den, index, block)
            return f'IF(N({den})=0,"",N({num})/{den})'
        if f.type == "yesno":
            return f"COUNTIFS({self.detail.rng(fid)},{_crit(YES)},{crit})"
        return f"SUMIFS({self.detail.rng(fid)},{crit})"

    def _summary_setup(self, ws, blocks: list, top: int, last_row: int, last_col: int,
                       height_pt: float) -> None:
        ws.set_column(0, 0, 5)
        ws.set_column(1, 1, _SUMMARY_LABEL_WIDTH)
        for b in blocks:
            ws.set_column(b.first_col, b.first_col + len(self.years) - 1, _YEAR_WIDTH)
            ws.set_column(b.first_col + len(self.years), b.first_col + len(self.years), _PERIOD_WIDTH)
        ws.set_column(self.id_col, self.id_col, 16)
        ws.freeze_panes(top + 2, 2)
        # Printed one block per portrait page, the label columns repeated: readable at ~90%
        # where three blocks side by side would shrink to an unreadable 55%. Excel ignores
        # manual page breaks under "fit to page", so the scale is computed instead.
        _page(ws, SHEET["summary"], landscape=False, repeat_rows=(top, top + 1), fit_width=False)
        ws.print_area(0, 0, last_row, last_col)
        ws.repeat_columns(0, 1)
        ws.set_v_pagebreaks([b.first_col for b in blocks[1:]])
        widths = [5, _SUMMARY_LABEL_WIDTH] + [_YEAR_WIDTH] * len(self.years) + [_PERIOD_WIDTH]
        ws.set_print_scale(_print_scale(widths, height_pt, landscape=False))

    # -- «Thông tin chung»
    def _general_groups(self) -> list:
        return [(g, None if g == ALL else g) for g in (ALL,) + self.form.type_ids]

    def _write_general(self, ws) -> None:
        st = self.st
        groups = self._general_groups()
        last_col = 1 + 2 * len(groups)
        row = self._titles(ws, "THÔNG TIN CHUNG VỀ CÁC ĐƠN VỊ", last_col,
                           self._coverage_note() + " «n/N»: n đơn vị trả lời «Có» (hoặc chọn mục "
                           "đó) trên N đơn vị đã trả lời hợp lệ.", 55 + 22 * len(groups))
        ws.merge_range(row, 0, row + 1, 0, "TT", st("head"))
        ws.merge_range(row, 1, row + 1, 1, "Chỉ tiêu", st("head"))
        for i, (g, _) in enumerate(groups):
            ws.merge_range(row, 2 + 2 * i, row, 3 + 2 * i, GROUP_TITLE[g], st("head"))
            _put(ws, row + 1, 2 + 2 * i, "Số liệu", st("head"))
            _put(ws, row + 1, 3 + 2 * i, "Tỷ lệ", st("head"))
        ws.set_row(row, 30)
        header = row
        row += 2
        for item in self._general_plan():
            row = self._general_item(ws, row, item, groups, last_col)
        ws.set_column(0, 0, 5)
        ws.set_column(1, 1, _GENERAL_LABEL_WIDTH)
        ws.set_column(2, last_col, 11)
        ws.freeze_panes(header + 2, 2)
        _page(ws, SHEET["general"], landscape=False, repeat_rows=(header, header + 1))

    def _general_plan(self) -> list:
        """("section", title) | ("count", label, status-or-None) | ("owner", option) |
        ("sum", field) | ("share", field, option)."""
        plan = [("section", "I. ĐƠN VỊ BÁO CÁO"), ("count", "Số đơn vị trong danh sách", None),
                ("count", "Số đơn vị đã nộp, được tính", "duoc_tinh"),
                ("count", "Số đơn vị chưa nộp báo cáo", "missing"),
                ("count", "Số báo cáo còn lỗi (giá trị lỗi không được tính)", "errors")]
        if "loai_dn" in self.form.fields:
            plan.append(("section", "Doanh nghiệp theo loại hình sở hữu"))
            plan += [("owner", o) for o in self.form.fields["loai_dn"].options]
        for section in self.form.sheet(GENERAL_SOURCE).sections:
            items = [self._general_field(f) for f in
                     (self.form.fields[x] for x in section.field_ids)]
            items = [x for group in items for x in group]
            if items:
                plan.append(("section", section.title or section.id))
                plan += items
        return plan

    def _general_field(self, f: Field) -> list:
        if f.is_identity or f.id == "loai_dn":
            return []
        if f.type in ("int", "money") and not (f.min is not None and f.min >= 1000):  # not a year
            return [("sum", f)]
        if f.type == "yesno":
            return [("share", f, YES)]
        if f.type == "list":
            return [("caption", f)] + [("share", f, o) for o in f.options]
        return []

    def _general_item(self, ws, row: int, item: tuple, groups: list, last_col: int) -> int:
        st = self.st
        if item[0] == "section":
            self._summary_section(ws, row, item[1], last_col, _GENERAL_LABEL_WIDTH)
            return row + 1
        label = self._general_label(item)
        _put(ws, row, 0, "", st("cell"))
        _put(ws, row, 1, label, st("cell", "wrap"))
        ws.set_row(row, _row_height(label, _GENERAL_LABEL_WIDTH))
        if item[0] == "caption":
            for col in range(2, last_col + 1):
                ws.write_blank(row, col, None, st("cell"))
            return row + 1
        for i, (g, loai) in enumerate(groups):
            col = 2 + 2 * i
            self._general_cells(ws, row, col, item, g, loai)
        return row + 1

    @staticmethod
    def _general_label(item: tuple) -> str:
        if item[0] == "count":
            return item[1]
        if item[0] == "owner":
            return f"Số {item[1]}"
        if item[0] == "sum":
            return f"Tổng {item[1].label[:1].lower()}{item[1].label[1:]}"
        if item[0] == "caption":
            return item[1].label
        f, option = item[1], item[2]
        return f.label if f.type == "yesno" else f"– {option}"

    def _general_cells(self, ws, row: int, col: int, item: tuple, g: str, loai) -> None:
        st = self.st
        d = self.detail
        crit = d.criteria(loai, None)
        if item[0] == "count":
            expr, value = self._unit_count(item[2], loai)
            _formula(ws, row, col, expr, st("cell", "int", "center"), value)
            ws.write_blank(row, col + 1, None, st("cell"))
            return
        f = self.form.fields["loai_dn"] if item[0] == "owner" else item[1]
        if loai and not f.applies_to(loai):
            _put(ws, row, col, DASH, st("cell", "dash"))
            _put(ws, row, col + 1, DASH, st("cell", "dash"))
            return
        if item[0] == "sum":
            _formula(ws, row, col, f"SUMIFS({d.rng(f.id)},{crit})", st("cell", "int", "center"),
                     self.totals[g].get(f.id))
            ws.write_blank(row, col + 1, None, st("cell"))
            return
        if item[0] == "owner":  # share of the counted enterprises
            dn = d.criteria("DN", None)
            self._share(ws, row, col, f"COUNTIFS({d.rng('loai_dn')},{_crit(item[1])},{dn})",
                        f"COUNTIFS({dn})", self.totals["loai_dn"][item[1]]["so_don_vi"],
                        self.totals["DN"]["so_don_vi"])
            return
        n = self.totals[g].get(f.id)
        n = n.get(item[2], 0) if isinstance(n, dict) else n
        answers = "+".join(f"COUNTIFS({d.rng(f.id)},{_crit(o)},{crit})" for o in f.options)
        self._share(ws, row, col, f"COUNTIFS({d.rng(f.id)},{_crit(item[2])},{crit})", answers,
                    n, self.answered[g].get(f.id, 0))

    def _share(self, ws, row: int, col: int, count: str, total: str, n: int, big_n: int) -> None:
        """"n/N" (text) and n/N in % from two COUNTIFS expressions and their values."""
        st = self.st
        _formula(ws, row, col, f'{count}&"/"&({total})', st("cell", "center"), f"{n}/{big_n}")
        _formula(ws, row, col + 1, f'IF(({total})=0,"",({count})/({total}))',
                 st("cell", "pct", "center"), (n / big_n) if big_n else None)

    def _unit_count(self, what: str | None, loai: str | None) -> tuple:
        """(formula, value) counting rows of the detail sheet by status."""
        d = self.detail
        rs = [r for r in self.results if loai is None or r.unit.loai_hinh == loai]
        type_crit = f",{d.rng('loai_hinh')},{_crit(loai)}" if loai else ""
        if what == "duoc_tinh":
            return f"COUNTIFS({d.criteria(loai, None)})", sum(1 for r in rs if r.counts)
        if what is None:  # units of the list: every row except older returns
            old = STATUS_VI["superseded"]
            return (f'COUNTIFS({d.rng("trang_thai")},{_q("<>" + old)}{type_crit})',
                    sum(1 for r in rs if r.status != "superseded"))
        return (f"COUNTIFS({d.rng('trang_thai')},{_crit(STATUS_VI[what])}{type_crit})",
                sum(1 for r in rs if r.status == what))

    # -- «Số liệu báo cáo»
    def _write_sentences(self, ws) -> None:
        st = self.st
        row = self._titles(ws, "SỐ LIỆU DÙNG CHO BÁO CÁO", 2,
                           "Mỗi dòng là một câu đã tính sẵn số liệu, có thể sao chép vào báo cáo. "
                           + self._coverage_note(), 115)
        for col, text in enumerate(("TT", "Nội dung", "Câu văn")):
            _put(ws, row, col, text, st("head"))
        header = row
        for i, (topic, sentence) in enumerate(report_sentences(self.form, self.results,
                                                               self.totals), start=1):
            row += 1
            _put(ws, row, 0, i, st("cell", "center"))
            _put(ws, row, 1, topic, st("cell", "wrap"))
            _put(ws, row, 2, sentence, st("cell", "wrap"))
            ws.set_row(row, max(_row_height(sentence, 88), _row_height(topic, 22)))
        ws.set_column(0, 0, 5)
        ws.set_column(1, 1, 22)
        ws.set_column(2, 2, 88)
        ws.freeze_panes(header + 1, 0)
        _page(ws, SHEET["sentences"], landscape=False, repeat_rows=(header, header))

    # -- «Tình hình nộp»
    def _write_returns(self, ws) -> None:
        heads = [("STT", 5), ("Mã đơn vị", 11), ("Tên đơn vị", 34), ("Loại hình", 9),
                 ("Khối", 16), ("Loại doanh nghiệp", 18), ("Trạng thái", 14), ("Tệp", 28),
                 ("Số lỗi", 7), ("Số cảnh báo", 9), ("Thời điểm lưu tệp", 16)]
        s = status_counts(self.results)
        note = " · ".join(f"{STATUS_VI[k]}: {s[k]}" for k in ("ok", "errors", "missing", "superseded"))
        row = self._titles(ws, "TÌNH HÌNH NỘP BÁO CÁO", len(heads) - 1,
                           f"{s['don_vi']} đơn vị trong danh sách — {note}.")
        header = row
        options = self.form.option_lists.get("loai_dn", ())
        for i, r in enumerate(self.results, start=1):
            row += 1
            values = [i, r.unit.ma_don_vi, r.unit.ten_don_vi, r.unit.loai_hinh, r.unit.khoi,
                      attribute_value(self.form, r, "loai_dn") if r.unit.loai_hinh == "DN" else "",
                      STATUS_VI.get(r.status, r.status), r.file or "",
                      r.error_count, r.warning_count, r.saved_at]
            muted = "muted" if not r.counts else None
            styles = [({0: "center", 8: "center", 9: "center", 10: "datetime"}.get(col, "wrap"),
                       muted) for col in range(len(values))]
            styles[6] = ("center", f"st_{r.status}" if f"st_{r.status}" in _STYLE else None)
            self._list_row(ws, row, values, heads, styles)
        self._table(ws, header, row, heads, "tbl_tinh_hinh_nop")
        _page(ws, SHEET["returns"], landscape=True, repeat_rows=(header, header))

    def _list_row(self, ws, row: int, values: list, heads: list, styles: list) -> None:
        """One row of a list: each value by its type and style, the row tall enough for the
        longest wrapped text (Excel does not grow rows on load)."""
        for col, (value, names) in enumerate(zip(values, styles)):
            _put(ws, row, col, value, self.st("cell", *names))
        ws.set_row(row, max([15.0] + [_row_height(v, w) for v, (_, w) in zip(values, heads)
                                      if isinstance(v, str)]))

    def _table(self, ws, header: int, last: int, heads: list, name: str) -> None:
        """An Excel table with filters over rows header..last (at least one data row)."""
        last = max(last, header + 1)
        ws.add_table(header, 0, last, len(heads) - 1, {
            "name": name, "style": "Table Style Light 1", "autofilter": True,
            "columns": [{"header": h, "header_format": self.st("head")} for h, _ in heads]})
        for col, (_, width) in enumerate(heads):
            ws.set_column(col, col, width)
        ws.set_row(header, 32)
        ws.freeze_panes(header + 1, 0)

    # -- «Kiểm tra»
    def _write_issues(self, ws) -> None:
        heads = [("STT", 5), ("Mức độ", 9), ("Mã lỗi", 18), ("Loại lỗi", 22), ("Mã đơn vị", 10),
                 ("Tên đơn vị", 24), ("Tệp", 20), ("Trang", 14), ("Ô", 6), ("Trường", 16),
                 ("Giá trị", 14), ("Nội dung", 60)]
        names = {r.unit.ma_don_vi: r.unit.ten_don_vi for r in self.results}
        issues = self.report.issues
        n_err = sum(1 for i in issues if i.severity == "error")
        row = self._titles(ws, "KẾT QUẢ KIỂM TRA", len(heads) - 1,
                           f"{n_err} lỗi, {len(issues) - n_err} cảnh báo. Giá trị lỗi không được "
                           f"tính vào tổng; cảnh báo cần xem lại nhưng số liệu vẫn được tính.")
        header = row
        for n, item in enumerate(issues, start=1):
            row += 1
            values = [n, SEVERITY_VI.get(item.severity, item.severity), item.code,
                      CODES.get(item.code, ("", ""))[1], item.ma_don_vi,
                      names.get(item.ma_don_vi, ""), item.file, item.sheet, item.cell,
                      item.field, item.value, item.message]
            styles = [("center" if col in (0, 1, 8) else "wrap",
                       item.severity if col == 1 else None) for col in range(len(values))]
            self._list_row(ws, row, values, heads, styles)
        self._table(ws, header, row, heads, "tbl_kiem_tra")
        _page(ws, SHEET["issues"], landscape=True, repeat_rows=(header, header))

    # -- «Chi tiết đơn vị»
    def _write_detail(self, ws) -> None:
        st, d = self.st, self.detail
        last_col = len(d.columns) - 1
        ws.merge_range(0, 0, 0, 8, "CHI TIẾT SỐ LIỆU TỪNG ĐƠN VỊ", st("title"))
        ws.merge_range(1, 0, 1, 8, "Chỉ các dòng «Được tính» = 1 được cộng vào trang «Tổng hợp». "
                       "Ô tô màu cam: giá trị không hợp lệ (ghi nguyên văn), không tính vào tổng; "
                       "ô xám: chỉ tiêu không áp dụng cho loại hình đơn vị.", st("note"))
        ws.set_row(1, 30)
        self._detail_headers(ws)
        for i, result in enumerate(self.results):
            self._detail_row(ws, d.first + i, i + 1, result)
        ws.add_table(d.HEADER_ROW, 0, d.last, last_col, {
            "name": "tbl_chi_tiet", "style": "Table Style Light 1", "autofilter": True,
            "columns": [{"header": c.key, "header_format": st("ids")} for c in d.columns]})
        for i, c in enumerate(d.columns):
            ws.set_column(i, i, c.width)
        ws.freeze_panes(d.first, d.col["ten_don_vi"] + 1)
        _page(ws, SHEET["detail"], landscape=True, repeat_rows=(2, d.HEADER_ROW), fit_width=False)
        ws.repeat_columns(0, d.col["ten_don_vi"])
        ws.set_print_scale(70)

    def _detail_headers(self, ws) -> None:
        st, cols = self.st, self.detail.columns
        start = 0
        for i in range(1, len(cols) + 1):  # merge runs of the same group
            if i == len(cols) or cols[i].group != cols[start].group:
                if i - start > 1:
                    ws.merge_range(2, start, 2, i - 1, _nfc(cols[start].group), st("head"))
                else:
                    _put(ws, 2, start, cols[start].group, st("head"))
                start = i
        for i, c in enumerate(cols):
            _put(ws, 3, i, c.label, st("head", "small"))
        ws.set_row(2, 45)
        ws.set_row(3, 78)

    def _detail_row(self, ws, row: int, number: int, r: UnitResult) -> None:
        st, d = self.st, self.detail
        muted = None if r.counts else "muted"
        ident = {"stt": number, "ma_don_vi": r.unit.ma_don_vi, "ten_don_vi": r.unit.ten_don_vi,
                 "loai_hinh": r.unit.loai_hinh, "khoi": r.unit.khoi,
                 "ma_khoi": (self.khois.index(r.unit.khoi or UNKNOWN) + 1) if self.khois else None,
                 "trang_thai": STATUS_VI.get(r.status, r.status), "duoc_tinh": 1 if r.counts else 0,
                 "tep": r.file or ""}
        for key, value in ident.items():
            if key in d.col:
                fill = f"st_{r.status}" if key == "trang_thai" else None
                _put(ws, row, d.col[key], value, st("cell", fill, muted,
                                                     "center" if key != "ten_don_vi" else None))
        if r.status == "missing":
            return
        values = self._unit_values(r)
        typed = {i.field: i.value for i in r.issues if i.field and i.severity == "error"}
        invalid = set(r.invalid)
        if values.get("loai_dn") in self.form.option_lists.get("loai_dn", ()):
            invalid.discard("loai_dn")  # the units list supplied a valid ownership type
        for c in d.columns:
            if c.field is not None:
                self._detail_cell(ws, row, d.col[c.key], c.field, r, values, typed, muted,
                                  c.field.id in invalid)

    def _unit_values(self, r: UnitResult) -> dict:
        """Valid inputs plus derived fields recomputed from them (as the totals are)."""
        values = {f.id: valid_value(r, f) for f in self.form.fields.values() if f.is_input}
        counts = {name: len(rows or ()) for name, rows in r.tables.items()}
        values.update(compute_derived(self.form, r.unit.loai_hinh, values, counts))
        if r.unit.loai_hinh == "DN" and "loai_dn" in values:  # what the totals group by
            values["loai_dn"] = attribute_value(self.form, r, "loai_dn") or None
        return values

    def _detail_cell(self, ws, row, col, f: Field, r: UnitResult, values, typed, muted,
                     invalid: bool) -> None:
        st = self.st
        if not f.applies_to(r.unit.loai_hinh):
            ws.write_blank(row, col, None, st("cell", "na"))
        elif invalid:  # the text as typed: SUMIFS ignores text, so never counted
            _put(ws, row, col, "" if typed.get(f.id) is None else str(typed[f.id]),
                 st("cell", "invalid"))
            ws.write_comment(row, col, INVALID_NOTE, {"author": "qcdc-xl", "x_scale": 1.6})
        else:
            _put(ws, row, col, values.get(f.id), st("cell", _kind(f), muted))

    # -- «Danh mục văn bản»
    def _write_documents(self, ws) -> None:
        heads = _DOC_HEADS
        rows = table_rows(self.results, DOC_TABLE)
        years = document_years(self.form)
        types = list(self.form.option_lists.get(DOC_TYPE) or ())
        top = self._titles(ws, "DANH MỤC CÁC VĂN BẢN ĐÃ BAN HÀNH", len(heads) - 1,
                           self._coverage_note() + " Bảng đếm phía trên tính từ danh mục phía dưới.")
        header = top + len(types) + 4  # the counts block, a blank row, then the list
        list_first, list_last = header + 1, header + max(len(rows), 1)
        self._doc_counts(ws, top, types, years, (list_first, list_last))
        row = header
        for n, (r, doc) in enumerate(rows, start=1):
            row += 1
            date = doc.get(DOC_DATE)
            year = date.year if isinstance(date, (dt.date, dt.datetime)) else None
            values = [n, r.unit.ma_don_vi, r.unit.ten_don_vi, r.unit.loai_hinh, r.unit.khoi, year,
                      date, doc.get("so_ky_hieu"), doc.get(DOC_TYPE), doc.get("co_quan_ban_hanh"),
                      doc.get("ghi_chu"), doc.get("trich_yeu")]
            styles = [({0: "center", 3: "center", 5: "center", 6: "date"}.get(col, "wrap"),)
                      for col in range(len(values))]
            self._list_row(ws, row, values, heads, styles)
        self._table(ws, header, row, heads, "tbl_danh_muc_van_ban")
        ws.freeze_panes(0, 0)  # the counts block sits above; a frozen header would hide it
        _page(ws, SHEET["documents"], landscape=True, repeat_rows=(header, header))

    def _doc_counts(self, ws, top: int, types: list, years: list, list_rows: tuple) -> None:
        """Counts by type × year (live COUNTIFS over the list) and units per type."""
        st = self.st
        roll = document_rollup(self.form, self.results)
        first, last = list_rows
        col_type, col_year = (f"${xl_col_to_name(_DOC_COL[k])}" for k in (DOC_TYPE, "nam"))
        rng = {k: f"{k}${first + 1}:{k}${last + 1}" for k in (col_type, col_year)}
        heads = ["Loại văn bản"] + years + ["Tổng", "Số đơn vị ban hành"]
        ws.merge_range(top, 0, top, 2, heads[0], st("head"))
        for i, h in enumerate(heads[1:], start=3):
            _put(ws, top, i, h, st("head"))
        ws.set_row(top, 30)
        tot_col = 3 + len(years)
        for k, t in enumerate(types, start=1):
            row = top + k
            ws.merge_range(row, 0, row, 2, _nfc(t), st("cell"))
            for j, y in enumerate(years):
                _formula(ws, row, 3 + j,
                         f"COUNTIFS({rng[col_type]},{_crit(t)},{rng[col_year]},{y})",
                         st("cell", "int", "center"), roll["theo_loai_nam"][t][y])
            _formula(ws, row, tot_col, f"COUNTIFS({rng[col_type]},{_crit(t)})",
                     st("cell", "int", "center", "bold"), roll["theo_loai"][t])
            _put(ws, row, tot_col + 1, roll["don_vi_theo_loai"][t], st("cell", "int", "center"))
        total_row = top + len(types) + 1
        ws.merge_range(total_row, 0, total_row, 2, "Tổng số", st("head"))
        for col in range(3, tot_col + 1):
            letter = xl_col_to_name(col)
            cached = (sum(roll["theo_loai"].values()) if col == tot_col
                      else sum(roll["theo_loai_nam"][t][years[col - 3]] for t in types))
            _formula(ws, total_row, col, f"SUM({letter}{top + 2}:{letter}{total_row})",
                     st("head", "int"), cached)
        units = len({r.unit.ma_don_vi for r, _ in table_rows(self.results, DOC_TABLE)})
        _put(ws, total_row, tot_col + 1, units, st("head", "int"))
        self.doc_counts = (top + 1, top + len(types), 0, tot_col)

    # -- «Điển hình, mô hình»
    def _write_models(self, ws) -> None:
        heads = [("STT", 6), ("Mã đơn vị", 11), ("Tên đơn vị", 28), ("Loại hình", 9),
                 ("Tên điển hình, mô hình", 44), ("Lĩnh vực", 22), ("Năm", 8),
                 ("Cấp công nhận", 16), ("Ghi chú", 18)]
        row = self._titles(ws, "ĐIỂN HÌNH, MÔ HÌNH XÂY DỰNG VÀ THỰC HIỆN TỐT QCDC Ở CƠ SỞ",
                           len(heads) - 1, self._coverage_note())
        header = row
        for n, (r, m) in enumerate(table_rows(self.results, MODEL_TABLE), start=1):
            row += 1
            values = [n, r.unit.ma_don_vi, r.unit.ten_don_vi, r.unit.loai_hinh, m.get("ten_mo_hinh"),
                      m.get("linh_vuc"), m.get("nam"), m.get("cap_cong_nhan"), m.get("ghi_chu")]
            styles = [("center" if col in (0, 3, 6) else "wrap",) for col in range(len(values))]
            self._list_row(ws, row, values, heads, styles)
        self._table(ws, header, row, heads, "tbl_dien_hinh_mo_hinh")
        _page(ws, SHEET["models"], landscape=True, repeat_rows=(header, header))

    # -- «Biểu đồ»
    def _write_charts(self, ws) -> None:
        ws.merge_range(0, 0, 0, 10, "BIỂU ĐỒ", self.st("title"))
        ws.merge_range(1, 0, 1, 10, "Số liệu lấy từ trang «Tổng hợp» (nhóm TỔNG SỐ) và «Danh mục "
                       "văn bản»; biểu đồ tự cập nhật khi số liệu thay đổi.", self.st("note"))
        anchor = 3
        for title, kind, series in RATE_CHARTS:
            chart = self._rate_chart(title, kind, series)
            if chart is not None:
                ws.insert_chart(anchor, 0, chart, {"x_offset": 10, "y_offset": 5})
                anchor += 17
        if self.doc_counts:
            ws.insert_chart(anchor, 0, self._documents_chart(), {"x_offset": 10, "y_offset": 5})
        ws.set_column(0, 10, 9)
        _page(ws, SHEET["charts"], landscape=False)

    def _rate_chart(self, title: str, kind: str, series: tuple):
        rows = [(name, self.summary_rows[base]) for name, base in series if base in self.summary_rows]
        if not rows:
            return None
        chart = self.wb.add_chart({"type": kind})
        sheet, first, last = SHEET["summary"], 2, 1 + len(self.years)  # block TỔNG SỐ: C…
        cats = [sheet, self.year_header_row, first, self.year_header_row, last]
        for name, row in rows:
            series = {"name": name, "categories": cats, "values": [sheet, row, first, row, last]}
            if kind == "line":
                series["marker"] = {"type": "circle", "size": 6}
            chart.add_series(series)
        chart.set_title({"name": title, "name_font": {"size": 12, "name": "Times New Roman"}})
        chart.set_y_axis({"num_format": "0%", "min": 0, "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 680, "height": 270})
        return chart

    def _documents_chart(self):
        first, last, label_col, total_col = self.doc_counts
        sheet = SHEET["documents"]
        chart = self.wb.add_chart({"type": "bar"})
        chart.add_series({"name": "Số văn bản", "categories": [sheet, first, label_col, last, label_col],
                          "values": [sheet, first, total_col, last, total_col],
                          "data_labels": {"value": True}})
        chart.set_title({"name": "Văn bản đã ban hành theo loại",
                         "name_font": {"size": 12, "name": "Times New Roman"}})
        top = max(document_rollup(self.form, self.results)["theo_loai"].values() or [0])
        chart.set_x_axis({"num_format": "0", "min": 0, "major_unit": _nice_step(top)})
        chart.set_y_axis({"reverse": True, "interval_unit": 1, "num_font": {"size": 9}})
        chart.set_legend({"none": True})
        chart.set_size({"width": 680, "height": 60 + 24 * len(self.form.option_lists.get(DOC_TYPE, ()))})
        return chart
