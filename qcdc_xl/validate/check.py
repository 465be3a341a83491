"""Check one read return against the form: identity, structure, every value, every rule.

Frictionless style: each ``_check_*`` is a small generator of :class:`Issue` objects placed
at a sheet, cell and field, with the value as typed and a Vietnamese message shaped
*where → what is wrong → how to fix*. :func:`check_return` runs them in order and turns the
file into a :class:`UnitResult`: valid canonical values (an invalid value is left out, the
rest still counts), derived fields recomputed from those values (never Excel's cached ones),
table rows, and every issue, the reader's included.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from openpyxl.utils import column_index_from_string

from qcdc_xl.form import formulas
from qcdc_xl.validate.coerce import ERROR_CODES, coerce_value, has_hidden_characters, too_large
from qcdc_xl.form.formulas import is_blank
from qcdc_xl.report.issues import ERROR, WARNING, Issue, issue, shown_value
from qcdc_xl.memo import FormMemo
from qcdc_xl.template.metadata import LISTS_SHEET, META_SHEET, tag_matches
from qcdc_xl.intake.read import formula_shape, pristine, table_label
from qcdc_xl.report.records import STATUS_ERRORS, STATUS_OK, CellRead, RawReturn, UnitResult
from qcdc_xl.form.spec import Column, Field, Form, Sheet, Table
from qcdc_xl.intake.units import Unit

# How a failed "left op right" reads: "12 lớn hơn «số phải tổ chức» (10)".
_BROKEN = {"<=": "lớn hơn", ">=": "nhỏ hơn", "<": "không nhỏ hơn", ">": "không lớn hơn", "=": "khác"}


# ---------------------------------------------------------------- showing values to people


def show(value) -> str:
    """A value the way a Vietnamese reader writes it: 12/05/2018, 12,5, Có."""
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time(0) else value
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return (f"{value:.0f}" if value.is_integer() else f"{value:.4g}".replace(".", ","))
    return "" if value is None else str(value)


def typed(read: CellRead | None) -> str | None:
    """What the cell shows as typed, for the report's ``value``."""
    if read is None:
        return None
    return shown_value(read.value if read.value is not None else read.formula)


def for_people(read: CellRead | None) -> str:
    """What the cell holds, as a person sees it in a message: dates as 12/05/2018, decimals
    with a comma, line breaks and invisible characters made harmless."""
    if read is None:
        return ""
    value = read.value if read.value is not None else read.formula
    if isinstance(value, (dt.date, dt.datetime, float)):
        return show(value)
    text = shown_value(value) or ""
    return " ".join(re.sub("[\u200b\u200c\u200d\u2060\ufeff\u200e\u200f]", "", text).split())


def field_label(f: Field) -> str:
    if f.period_total:
        return f"{f.label}, cả giai đoạn"
    return f"{f.label} {f.column_label}" if f.column_label else f.label


def where(read: CellRead | None, label: str) -> str:
    if read is None:
        return f"Mục «{label}»"
    return f"Trang «{read.sheet}», ô {read.cell} ({label})"


# ---------------------------------------------------------------- what a form asks of a unit type


@dataclass
class _Plan:
    """What the checks of one form for one unit type go through, worked out once per
    process (the form never changes; every return of the type asks): the fields by kind,
    each with its label, the rules and the tables."""

    inputs: list  # (Field, label) of the applicable input fields, in form order
    identity: list  # (Field, label) of the applicable identity fields
    not_applicable: list  # fields (no formula) that do not apply to the type
    formula_fields: list  # the applicable formula fields
    rules: list
    tables: list  # the applicable tables
    # table name -> (its label, [(input column, "table.column" id)]), for every table
    table_columns: dict = field(default_factory=dict)
    field_sheets: list = field(default_factory=list)  # (field id, its template sheet's name), all fields
    sheet_parts: list = field(default_factory=list)  # (sheet, field ids, table names): _sheet_parts
    _expected: tuple = (None, {})  # (the pristine description, field id -> expected_formulas)

    def expected_formulas(self, form: Form, f: Field, static) -> set:
        """:func:`expected_formulas`, worked out once per field (for this pristine description)."""
        if self._expected[0] is not static:
            self._expected = (static, {})
        found = self._expected[1].get(f.id)
        if found is None:
            found = self._expected[1][f.id] = expected_formulas(form, f, static)
        return found

    @classmethod
    def of(cls, form: Form, loai_hinh: str) -> "_Plan":
        fields = form.fields.values()
        return cls(inputs=[(f, field_label(f)) for f in form.input_fields(loai_hinh)],
                   identity=[(f, field_label(f)) for f in fields if f.is_identity and f.applies_to(loai_hinh)],
                   not_applicable=[f for f in fields if not f.applies_to(loai_hinh) and not f.is_formula],
                   formula_fields=form.formula_fields(loai_hinh), rules=form.rules_for(loai_hinh),
                   tables=form.tables_for(loai_hinh),
                   table_columns={t.name: (table_label(form, t), [(c, f"{t.name}.{c.id}") for c in t.input_columns])
                                  for t in form.tables.values()},
                   field_sheets=[(f.id, form.sheet(f.sheet).name) for f in fields],
                   sheet_parts=[(sheet, *_sheet_parts(form, sheet, loai_hinh)) for sheet in form.sheets])


_PLANS = FormMemo()  # (form, loai_hinh) -> _Plan


def _plan(form: Form, loai_hinh: str) -> _Plan:
    return _PLANS.get(form, loai_hinh, _Plan.of, form, loai_hinh)


# ---------------------------------------------------------------- context


@dataclass
class _Ctx:
    """What one return's checks share: the form, the file, the unit and what is found valid."""

    form: Form
    raw: RawReturn
    unit: Unit
    loai_hinh: str
    values: dict = field(default_factory=dict)  # field id -> canonical valid value or None
    present: dict = field(default_factory=dict)  # field id -> valid value, or raw typed if refused
    invalid: set = field(default_factory=set)
    tables: dict = field(default_factory=dict)
    found: list = field(default_factory=list)  # issues collected by check_value
    plan: _Plan | None = None

    def __post_init__(self):
        if self.plan is None:
            self.plan = _plan(self.form, self.loai_hinh)

    def issue(self, code: str, message: str, severity: str | None = None,
              read: CellRead | None = None, field_id: str | None = None, value=None,
              sheet: str | None = None) -> Issue:
        return issue(code, message, severity=severity, file=self.raw.path,
                     ma_don_vi=self.unit.ma_don_vi or None,
                     sheet=read.sheet if read else sheet, cell=read.cell if read else None,
                     field=field_id, value=value if value is not None else typed(read))


# ---------------------------------------------------------------- identity


def _check_form(form: Form, raw: RawReturn) -> Iterator[tuple[str, str, str]]:
    """(code, severity, message) for not_a_form / form_version_mismatch, file level."""
    form_id = raw.meta.get("form_id")
    if not form_id and _looks_copied(form, raw):
        yield "not_a_form", ERROR, (
            f"Tệp «{raw.path}» có các trang của biểu mẫu «{form.name}» nhưng thiếu thông tin nhận "
            f"diện ẩn của biểu mẫu: có lẽ các trang đã được chép (hoặc Lưu thành) sang một tệp mới, "
            f"nên không xác định được đơn vị. Hãy chép số liệu vào đúng tệp biểu mẫu đã được gửi "
            f"cho đơn vị (không chép cả trang) rồi gửi lại tệp đó.")
        return
    if not form_id:
        yield "not_a_form", ERROR, (
            f"Tệp «{raw.path}» không phải biểu mẫu «{form.name}» (không có thông tin nhận diện của "
            f"biểu mẫu). Hãy điền vào đúng tệp biểu mẫu đã được gửi cho đơn vị rồi gửi lại.")
        return
    if form_id != form.id:
        yield "not_a_form", ERROR, (
            f"Tệp «{raw.path}» là biểu mẫu «{form_id}», không phải biểu mẫu «{form.id}» đang tổng "
            f"hợp. Hãy gửi đúng biểu mẫu «{form.name}».")
        return
    version = raw.meta.get("form_version")
    if version == form.version:
        return
    loai_hinh = raw.meta.get("loai_hinh", "")
    missing = [f.id for f in form.fields_for(loai_hinh) if f.id not in raw.fields]
    missing += [t.name for t in form.tables_for(loai_hinh) if t.name not in raw.tables]
    if not missing:
        yield "form_version_mismatch", WARNING, (
            f"Tệp «{raw.path}» được tạo từ phiên bản {version} của biểu mẫu (phiên bản hiện hành "
            f"{form.version}); mọi ô vẫn đọc được nên số liệu vẫn được tổng hợp. Lần sau hãy dùng "
            f"biểu mẫu phiên bản mới.")
    else:
        yield "form_version_mismatch", ERROR, (
            f"Tệp «{raw.path}» được tạo từ phiên bản {version} của biểu mẫu, khác phiên bản hiện hành "
            f"{form.version} (thiếu {len(missing)} ô/bảng, ví dụ «{missing[0]}»). Hãy chép số liệu "
            f"sang biểu mẫu phiên bản mới rồi gửi lại.")


def _looks_copied(form: Form, raw: RawReturn) -> bool:
    """The form's own names or tables, or most of its sheet names, are in a file without
    metadata: the sheets were copied into a new workbook."""
    if raw.tables or len(raw.fields) >= 3:
        return True
    names = {s.name for s in form.sheets}
    return len(names & set(raw.protected_sheets)) >= max(2, len(names) - 1)


def _cell_text(raw: RawReturn, fid: str) -> str:
    read = raw.fields.get(fid)
    value, _ = coerce_value("text", read.value) if read else (None, None)
    return value or ""


def _find_unit(code: str, units_by_code: dict) -> Unit | None:
    if code in units_by_code:
        return units_by_code[code]
    folded = {k.casefold(): u for k, u in units_by_code.items()}
    return folded.get(code.casefold())


def _file_unit(raw: RawReturn) -> Unit:
    """A unit described by the file itself (kept out of totals by the aggregator)."""
    return Unit(ma_don_vi=raw.meta.get("ma_don_vi") or _cell_text(raw, "ma_don_vi"),
                ten_don_vi=_cell_text(raw, "ten_don_vi") or raw.path,
                loai_hinh=raw.meta.get("loai_hinh") or _cell_text(raw, "loai_hinh"),
                khoi=_cell_text(raw, "khoi"))


def _check_identity(ctx: _Ctx, known: bool) -> Iterator[Issue]:
    raw, code = ctx.raw, ctx.raw.meta.get("ma_don_vi", "")
    if not tag_matches(raw.meta):
        yield ctx.issue("identity_mismatch", value=code or None, message=(
            f"Tệp «{raw.path}»: thông tin nhận diện ẩn của biểu mẫu không khớp với mã đơn vị «{code}» "
            f"(tệp có thể được sao chép từ biểu mẫu của đơn vị khác, hoặc đã bị sửa). Hãy điền vào "
            f"đúng biểu mẫu đã được gửi cho đơn vị mình rồi gửi lại."))
    for fid in ("ma_don_vi", "loai_hinh"):
        expected, read = raw.meta.get(fid, ""), raw.fields.get(fid)
        found = _cell_text(raw, fid)
        if read is not None and expected and found.casefold() != expected.casefold():
            label = ctx.form.fields[fid].label
            yield ctx.issue("identity_mismatch", read=read, field_id=fid, message=(
                f"{where(read, label)}: «{found}» khác với thông tin của biểu mẫu («{expected}»). "
                f"Không sửa các ô định danh; hãy dùng đúng biểu mẫu đã được gửi cho đơn vị mình."))
    if not known:
        yield ctx.issue("unknown_unit", read=raw.fields.get("ma_don_vi"), field_id="ma_don_vi",
                        value=code or None, message=(
            f"Tệp «{raw.path}»: mã đơn vị «{code}» không có trong danh sách đơn vị nên báo cáo này "
            f"không được tổng hợp. Hãy kiểm tra danh sách đơn vị, hoặc đề nghị đơn vị dùng đúng "
            f"biểu mẫu của mình."))
    elif raw.meta.get("loai_hinh") and raw.meta["loai_hinh"] != ctx.unit.loai_hinh:
        yield ctx.issue("identity_mismatch", field_id="loai_hinh", value=raw.meta["loai_hinh"], message=(
            f"Tệp «{raw.path}»: biểu mẫu được tạo cho loại hình {raw.meta['loai_hinh']}, nhưng danh "
            f"sách đơn vị ghi đơn vị «{ctx.unit.ma_don_vi}» là {ctx.unit.loai_hinh}. Hãy tạo lại biểu "
            f"mẫu đúng loại hình cho đơn vị (hoặc sửa danh sách đơn vị) rồi đề nghị đơn vị nhập lại."))


# ---------------------------------------------------------------- structure


def _template_sheet_names(ctx: _Ctx) -> dict[str, str]:
    """Template sheet name -> the name it has in this file (form sheets may be renamed)."""
    names = {s.name: s.name for s in ctx.form.sheets}
    for fid, sheet_name in ctx.plan.field_sheets:
        read = ctx.raw.fields.get(fid)
        if read is not None:
            names[sheet_name] = read.sheet
    return names


def _check_protection(ctx: _Ctx) -> Iterator[Issue]:
    static = pristine(ctx.form, ctx.loai_hinh)
    renamed = _template_sheet_names(ctx)
    if static is not None:
        expected = [name for name, on in static.protected.items()
                    if on and name not in (META_SHEET, LISTS_SHEET)]
    else:  # no pristine template: every sheet of the form is protected
        expected = list(renamed)
    for name in expected:
        found = renamed.get(name, name)
        if ctx.raw.protected_sheets.get(found) is False:
            yield ctx.issue("protection_removed", sheet=found, message=(
                f"Trang «{found}»: chế độ bảo vệ trang đã bị tắt, nên nhãn và công thức có thể đã bị "
                f"sửa. Chương trình vẫn tự tính lại mọi chỉ tiêu; lần sau hãy giữ nguyên bảo vệ trang "
                f"(Xem lại → Bảo vệ trang)."))


def expected_formulas(form: Form, f: Field, static) -> set:
    """Normalised formula texts a formula field may hold: the compiled one (with the table's
    TT column as a structured reference) and the one in the pristine template."""
    ranges = [None] if f.type != "count" else [f"{f.table}[TT]", f"{f.table}[tt]"]
    found = {formula_shape(formulas.excel_formula(f, (lambda t, r=r: r) if r else None))
             for r in ranges}
    if static is not None and f.id in static.formulas:
        found.add(static.formulas[f.id])
    return found


def _check_formulas(ctx: _Ctx) -> Iterator[Issue]:
    static = pristine(ctx.form, ctx.loai_hinh)
    for f in ctx.plan.formula_fields:
        read = ctx.raw.fields.get(f.id)
        if read is None or formula_shape(read.formula) not in ctx.plan.expected_formulas(ctx.form, f, static):
            yield _tampered(ctx, read, f.id, field_label(f))
    yield from _check_tt(ctx, static)
    yield from _check_template_formulas(ctx)


MAX_TAMPERED_CELLS = 50  # formula_tampered issues listed cell by cell per file


def _check_template_formulas(ctx: _Ctx) -> Iterator[Issue]:
    """Every other formula of the template (check and status cells, the «Kiểm tra» sheet, the
    TT cells of empty table rows) that the reader found typed over or deleted: it changes no
    figure (everything is recomputed) but it hides from the unit what is still missing. Each
    cell typed over is one issue (what was typed is shown); TT cells merely emptied are one
    issue per table."""
    cells, emptied_tt = [], {}
    for read, table in ctx.raw.tampered:
        if table in ctx.form.tables and typed(read) is None:
            emptied_tt.setdefault(table, []).append(read)
        else:
            cells.append((read, ctx.form.tables.get(table)))
    for read, table in cells[:MAX_TAMPERED_CELLS]:
        yield _template_formula_issue(ctx, read, table)
    if len(cells) > MAX_TAMPERED_CELLS:
        rest = [read for read, _ in cells[MAX_TAMPERED_CELLS:]]
        sheets = ", ".join(dict.fromkeys(f"«{r.sheet}»" for r in rest))
        yield ctx.issue("formula_tampered", sheet=rest[0].sheet, message=(
            f"Tệp «{ctx.raw.path}»: ngoài {MAX_TAMPERED_CELLS} ô đã liệt kê, còn {len(rest)} ô công "
            f"thức khác của biểu mẫu đã bị xóa hoặc gõ đè (trang {sheets}); phần mềm tổng hợp tự tính "
            f"lại mọi chỉ tiêu. Hãy chép số liệu sang một biểu mẫu mới (hoặc đề nghị cơ quan tổng "
            f"hợp cấp lại biểu mẫu) rồi gửi lại."))
    for name, reads in emptied_tt.items():
        label = f"cột TT của {table_label(ctx.form, ctx.form.tables[name])}"
        shown = ", ".join(r.cell for r in reads[:5]) + (", …" if len(reads) > 5 else "")
        yield ctx.issue("formula_tampered", read=reads[0], field_id=f"{name}.tt", message=(
            f"{where(reads[0], label)}: công thức đánh số TT tự động của biểu mẫu đã bị xóa ở "
            f"{len(reads)} dòng trống của bảng ({shown}). Hãy chép ô TT của một dòng còn nguyên "
            f"xuống các ô đó (hoặc bấm Hoàn tác), không xóa cột TT."))


def _template_formula_issue(ctx: _Ctx, read: CellRead, table: Table | None) -> Issue:
    if not read.cell:  # the whole sheet is gone
        return ctx.issue("formula_tampered", sheet=read.sheet, message=(
            f"Trang «{read.sheet}» của biểu mẫu không còn trong tệp (đã bị xóa), nên các ô công "
            f"thức tự kiểm tra trên trang này không còn; phần mềm tổng hợp vẫn tự tính lại mọi chỉ "
            f"tiêu. Hãy chép số liệu sang một biểu mẫu mới của đơn vị (đề nghị cơ quan tổng hợp "
            f"cấp lại nếu cần) rồi gửi lại; không xóa các trang của biểu mẫu."))
    what = f"đã bị gõ đè (hiện là «{for_people(read)}»)" if typed(read) else "đã bị xóa"
    if table is not None:
        return ctx.issue("formula_tampered", read=read, field_id=f"{table.name}.tt", message=(
            f"{where(read, f'cột TT của {table_label(ctx.form, table)}')}: ô đánh số TT tự động của "
            f"biểu mẫu {what}; phần mềm tổng hợp bỏ qua ô này. Hãy bấm Hoàn tác (Ctrl+Z) hoặc chép "
            f"ô TT của một dòng còn nguyên vào đây; không gõ vào cột TT."))
    return ctx.issue("formula_tampered", read=read, message=(
        f"Trang «{read.sheet}», ô {read.cell}: đây là ô công thức tự tính của biểu mẫu (ô kiểm tra, "
        f"ô tình trạng hoặc ô tự đánh số) nhưng công thức {what}; phần mềm tổng hợp bỏ qua ô này "
        f"và tự tính lại, nhưng ô không còn báo cho đơn vị mục nào còn thiếu. Hãy bấm Hoàn tác "
        f"(Ctrl+Z) nếu vừa sửa, hoặc chép lại ô này từ một biểu mẫu mới của đơn vị (đề nghị cơ "
        f"quan tổng hợp cấp lại nếu cần), không gõ vào ô công thức."))


def _tampered(ctx: _Ctx, read: CellRead | None, field_id: str, label: str, extra: str = "") -> Issue:
    now = f" (hiện là «{typed(read)}»)" if read is not None and typed(read) else ""
    gone = "đã bị xóa" if read is None else f"không còn giữ công thức của biểu mẫu{now}"
    return ctx.issue("formula_tampered", read=read, field_id=field_id, message=(
        f"{where(read, label)}: ô công thức {gone}{extra}; phần mềm tổng hợp bỏ qua giá trị trong ô và tự "
        f"tính lại. Hãy khôi phục công thức (hoặc chép số liệu sang biểu mẫu gốc), không gõ đè lên "
        f"ô công thức."))


def _below_rows(raw: RawReturn) -> set:
    """(sheet, row) of the rows the reader took from below a table: those of a
    data_outside_table issue at a cell read into a table row (a note typed beside a table
    row is reported too, but it is no row taken from below)."""
    in_rows = {(r.sheet, r.cell) for rows in raw.tables.values() for row in rows for r in row.values()}
    rows = set()
    for i in raw.issues:
        m = re.match(r"^[A-Z]+(\d+)$", i.cell or "") if i.code == "data_outside_table" else None
        if m and (i.sheet, i.cell) in in_rows:
            rows.add((i.sheet, int(m.group(1))))
    return rows


def _row_of(read: CellRead) -> int:
    return int(re.sub(r"^[A-Z]+", "", read.cell))


def _check_tt(ctx: _Ctx, static) -> Iterator[Issue]:
    """The TT column's formula in the filled rows inside each table; one issue per table."""
    below = _below_rows(ctx.raw)
    for table in ctx.form.tables_for(ctx.loai_hinh):
        allowed = static.tt_formulas.get(table.name) if static is not None else None
        bad = []
        for row in ctx.raw.tables.get(table.name, []):
            tt = row.get(table.row_number_column) if table.row_number_column else None
            if tt is None or (tt.sheet, _row_of(tt)) in below:
                continue
            col = column_index_from_string(re.sub(r"\d+$", "", tt.cell))
            text = formula_shape(tt.formula, _row_of(tt), col) if tt.formula else ""
            if not text or (allowed and text not in allowed):
                bad.append(tt)
        if bad and all(is_blank(tt.value) and not tt.formula for tt in bad):
            yield _tt_blank(ctx, table, bad)
        elif bad:
            label = f"cột TT của {table_label(ctx.form, table)}"
            extra = f" ở {len(bad)} dòng" if len(bad) > 1 else ""
            yield _tampered(ctx, bad[0], f"{table.name}.tt", label, extra)


def _tt_blank(ctx: _Ctx, table: Table, bad: list) -> Issue:
    """TT cells left empty in filled rows: in LibreOffice and WPS a row inserted inside the
    table does not copy the table's formulas (Excel does)."""
    cells = ", ".join(tt.cell for tt in bad[:5]) + (", …" if len(bad) > 5 else "")
    label = f"cột TT của {table_label(ctx.form, table)}"
    return ctx.issue("formula_tampered", read=bad[0], field_id=f"{table.name}.tt", message=(
        f"{where(bad[0], label)}: ô TT đang trống ở {len(bad)} dòng có dữ liệu ({cells}), thường do "
        f"chèn thêm dòng trong LibreOffice hoặc WPS (dòng mới không tự có công thức). Số liệu các "
        f"dòng này vẫn được đọc và phần mềm tổng hợp tự đánh số lại. Hãy chép ô TT của dòng bên trên "
        f"xuống các ô trống này (hoặc chép số liệu sang biểu mẫu gốc)."))


# ---------------------------------------------------------------- single values


def _coercion_message(code: str, f_type: str, value, raw_shown: str, options=(), raw=None) -> str:
    hidden = (" (ô có ký tự ẩn hoặc xuống dòng, thường do dán từ Word hay trang web)"
              if isinstance(raw, str) and has_hidden_characters(raw) else "")
    if code == "coerced_text_number":
        return (f"số «{raw_shown}» được nhập dạng chữ{hidden}; đã đọc là {show(value)}. Hãy nhập lại "
                f"dạng số (chỉ gồm chữ số, không dấu chấm, dấu cách hay đơn vị) để chắc chắn.")
    if code == "coerced_text_date":
        return (f"ngày «{raw_shown}» được nhập dạng chữ; đã đọc là {show(value)} (ngày/tháng/năm). "
                f"Hãy kiểm tra lại và nhập dạng ngày, ví dụ 12/05/2018.")
    if code == "coerced_text_choice":
        return f"«{raw_shown}» được hiểu là «{value}». Lần sau hãy chọn trong danh sách thả xuống của ô."
    if code == "legacy_encoding":
        return (f"chữ «{raw_shown}» được gõ bằng phông chữ cũ (TCVN3/VNI); đã chuyển thành «{value}». "
                f"Hãy gõ lại bằng bảng mã Unicode.")
    if code == "wrong_type" and isinstance(raw, str) and raw.strip().startswith("="):
        return (f"«{raw_shown}» là công thức bị lưu dạng chữ (ô đang định dạng Văn bản) nên không được "
                f"tính; giá trị này không được tổng hợp. Hãy gõ thẳng kết quả vào ô.")
    if code == "wrong_type" and f_type == "date" and isinstance(raw, str) and _month_first(raw):
        return (f"«{raw_shown}» không phải là ngày theo thứ tự ngày/tháng/năm (không có tháng "
                f"{_month_first(raw)}); có lẽ ngày được nhập theo kiểu tháng/ngày/năm. Giá trị này không "
                f"được tổng hợp. Hãy nhập ngày trước, tháng sau, ví dụ 12/05/2018.")
    if code == "wrong_type":
        return f"«{raw_shown}» {_WRONG_TYPE.get(f_type, 'không đúng kiểu dữ liệu của ô')}"
    if code == "out_of_range" and f_type in ("list", "yesno"):
        return (f"«{raw_shown}» không có trong danh sách lựa chọn; giá trị này không được tổng hợp. "
                f"Hãy chọn một trong: {'; '.join(options)}.")
    if code == "out_of_range" and too_large(raw):
        return (f"{raw_shown} là số quá lớn (từ 15 chữ số trở lên, Excel không lưu chính xác được); "
                f"giá trị này không được tổng hợp. Hãy kiểm tra và nhập lại đúng số.")
    if code == "out_of_range":
        return (f"{raw_shown} là số âm; giá trị này không được tổng hợp. Hãy nhập số từ 0 trở lên.")
    raise ValueError(code)


def _month_first(text: str) -> int | None:
    """The impossible month of a date typed month first (5/13/2018), or None."""
    m = re.match(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*\d{2,4}\s*$", text)
    if m and int(m.group(1)) <= 12 < int(m.group(2)) <= 31:
        return int(m.group(2))
    return None


_WRONG_TYPE = {
    "int": "không phải là số nguyên; giá trị này không được tổng hợp. Hãy nhập một số nguyên, ví dụ 12 "
           "(nhập 0 nếu không có).",
    "money": "không phải là số; giá trị này không được tổng hợp. Hãy nhập số tiền bằng chữ số, ví dụ "
             "1500000.",
    "date": "không phải là ngày; giá trị này không được tổng hợp. Hãy nhập ngày dạng ngày/tháng/năm, "
            "ví dụ 12/05/2018.",
    "yesno": "không phải là Có hoặc Không; giá trị này không được tổng hợp. Hãy chọn trong danh sách.",
}


def check_value(ctx: _Ctx, spec, read: CellRead | None, field_id: str, label: str) -> tuple[Any, bool]:
    """Coerce and check one cell against a field or column spec; add its issues.

    Returns (canonical value or None, refused?)."""
    raw_value = read.value if read is not None else None
    if read is not None and read.problem:
        ctx.found.append(_unreadable_cell(ctx, read, field_id, label))
        return None, True
    if read is not None and read.formula:
        problem = _formula_in_input(ctx, read, field_id, label)
        if problem is not None:
            ctx.found.append(problem)
            return None, True
    value, code = coerce_value(spec.type, raw_value, spec.options)
    if code is not None:
        severity = ERROR if code in ERROR_CODES else WARNING
        text = _coercion_message(code, spec.type, value, for_people(read), spec.options, raw=raw_value)
        ctx.found.append(ctx.issue(code, severity=severity, read=read, field_id=field_id,
                                   message=f"{where(read, label)}: {text}"))
        if code in ERROR_CODES:
            return None, True
    if value is None:
        return None, False
    if not (spec.min is None and spec.max is None and spec.warn_min is None and spec.warn_max is None):
        problems = list(_bounds(spec, value))
        for severity, text in problems:
            ctx.found.append(ctx.issue("out_of_range", severity=severity, read=read, field_id=field_id,
                                       message=f"{where(read, label)}: {text}"))
        if any(sev == ERROR for sev, _ in problems):
            return None, True
    pattern = getattr(spec, "pattern", None)
    if pattern and isinstance(value, str) and not re.match(pattern, value):
        hint = getattr(spec, "pattern_hint", None) or "mẫu quy định"
        ctx.found.append(ctx.issue("wrong_type", severity=WARNING, read=read, field_id=field_id,
                                   message=f"{where(read, label)}: «{for_people(read)}» có vẻ không đúng dạng "
                                           f"({hint}). Hãy kiểm tra lại."))
    return value, False


def _formula_in_input(ctx: _Ctx, read: CellRead, field_id: str, label: str) -> Issue | None:
    """An input cell holding a formula (=40+5, =TODAY()): its computed value is read, with a
    warning (added to ctx.found) since it may change by itself; an error (returned) when the
    file kept no result for it."""
    if is_blank(read.value):
        return ctx.issue("wrong_type", read=read, field_id=field_id, value=read.formula, message=(
            f"{where(read, label)}: ô nhập chứa công thức «{read.formula}» nhưng tệp không lưu kết quả "
            f"tính nên không đọc được giá trị; giá trị này không được tổng hợp. Hãy gõ thẳng giá trị "
            f"vào ô (không dùng công thức)."))
    ctx.found.append(ctx.issue("formula_in_input", read=read, field_id=field_id, value=read.formula,
                               message=(
        f"{where(read, label)}: ô nhập chứa công thức «{read.formula}»; phần mềm tổng hợp đọc kết quả đã "
        f"tính là «{for_people(read)}». Hãy gõ thẳng giá trị vào ô (không dùng công thức), vì kết quả "
        f"của công thức có thể tự thay đổi khi mở lại tệp.")))
    return None


def _unreadable_cell(ctx: _Ctx, read: CellRead, field_id: str, label: str) -> Issue:
    """A cell whose stored content the file itself garbles (a broken cell type, a missing
    shared string, NaN): never guessed at."""
    shown = f" (tệp ghi «{for_people(read)}»)" if for_people(read) else ""
    return ctx.issue("wrong_type", read=read, field_id=field_id, message=(
        f"{where(read, label)}: nội dung ô bị hỏng trong tệp, {read.problem}{shown}, nên không đọc "
        f"được giá trị; giá trị này không được tổng hợp. Hãy mở tệp, xóa ô rồi nhập lại giá trị "
        f"và lưu lại."))


def _typed_as_number(spec, value) -> str:
    """For a date far too early: the cell probably holds a plain number (a year, a count) that
    the cell's date format shows as a day of 1900–1909."""
    if getattr(spec, "type", None) != "date" or not isinstance(value, dt.date) or value.year >= 1910:
        return ""
    serial = (value - dt.date(1899, 12, 30)).days
    return (f" Ô ngày này đang chứa con số {serial} (có lẽ chỉ gõ năm hoặc một số) nên hiện thành "
            f"ngày {show(value)}; hãy nhập ngày đầy đủ dạng ngày/tháng/năm, ví dụ 12/05/2018.")


def _bounds(spec, value) -> Iterator[tuple[str, str]]:
    """(severity, text) for min/max (errors) and warn_min/warn_max (warnings)."""
    if spec.min is not None and value < spec.min:
        hint = _typed_as_number(spec, value)
        yield ERROR, (f"{show(value)} nhỏ hơn giá trị thấp nhất cho phép ({show(spec.min)}); giá trị này "
                      f"không được tổng hợp. " + (hint.strip() if hint else "Hãy kiểm tra và sửa lại."))
    elif spec.max is not None and value > spec.max:
        yield ERROR, (f"{show(value)} lớn hơn giá trị cao nhất cho phép ({show(spec.max)}); giá trị này "
                      f"không được tổng hợp. Hãy kiểm tra và sửa lại.")
    elif spec.warn_min is not None and value < spec.warn_min:
        yield WARNING, spec.warn_min_message or _outside_usual(spec, value)
    elif spec.warn_max is not None and value > spec.warn_max:
        yield WARNING, _outside_usual(spec, value)


def _outside_usual(spec, value) -> str:
    lo, hi = show(spec.warn_min) if spec.warn_min is not None else "", show(spec.warn_max) if spec.warn_max is not None else ""
    span = f"từ {lo} đến {hi}" if lo and hi else (f"từ {lo}" if lo else f"đến {hi}")
    return f"{show(value)} nằm ngoài khoảng hợp lý ({span}). Hãy kiểm tra lại."


def _check_fields(ctx: _Ctx) -> Iterator[Issue]:
    """Every applicable single-cell input: reading, ranges, then required / must-be-empty."""
    ctx.found = []
    for f, label in ctx.plan.inputs:
        read = ctx.raw.fields.get(f.id)
        value, refused = check_value(ctx, f, read, f.id, label)
        ctx.values[f.id] = value
        ctx.present[f.id] = (read.value if read.value is not None else read.formula) if refused else value
        if refused:
            ctx.invalid.add(f.id)
    yield from ctx.found
    for f, label in ctx.plan.inputs:
        yield from _check_requirement(ctx, f, label)
        yield from _check_unexpected(ctx, f)


def _check_requirement(ctx: _Ctx, f: Field, label: str) -> Iterator[Issue]:
    if f.only_if is not None and f.only_if.field in ctx.invalid:
        return  # the condition could not be read: already reported there
    problem = formulas.requirement(f, ctx.present)
    read = ctx.raw.fields.get(f.id)
    if problem == "missing":
        why = ""
        if f.only_if is not None:
            cond = ctx.form.fields[f.only_if.field]
            why = f" (bắt buộc khi «{field_label(cond)}» là «{f.only_if.equals}»)"
        hint = " Nhập 0 nếu không có." if f.type in ("int", "money") else ""
        yield ctx.issue("required_missing", read=read, field_id=f.id, message=(
            f"{where(read, label)}: chưa điền{why}; đây là thông tin bắt buộc.{hint}"))
    elif problem == "not_empty":
        cond = ctx.form.fields[f.only_if.field]
        ctx.values[f.id] = None
        ctx.invalid.add(f.id)
        yield ctx.issue("constraint_violated", read=read, field_id=f.id, message=(
            f"{where(read, label)}: có giá trị «{typed(read)}» nhưng «{field_label(cond)}» không phải "
            f"«{f.only_if.equals}», nên ô này phải để trống; giá trị không được tổng hợp. Hãy xóa giá "
            f"trị này hoặc sửa lại ô «{field_label(cond)}»."))


def _check_unexpected(ctx: _Ctx, f: Field) -> Iterator[Issue]:
    """A value the spec expects to be empty, kept but pointed out (a warning)."""
    why = formulas.unexpected(f, ctx.present)
    if why is None:
        return
    read = ctx.raw.fields.get(f.id)
    if why == "condition":
        cond = ctx.form.fields[f.only_if.field]
        text = (f"có giá trị «{typed(read)}» trong khi «{field_label(cond)}» không phải "
                f"«{f.only_if.equals}»; hãy kiểm tra lại: để trống ô này, hoặc sửa ô «{field_label(cond)}».")
    else:
        first = next(g.year for g in ctx.form.fields.values() if g.base_id == f.base_id
                     and g.year is not None and not g.early)
        text = (f"có giá trị «{typed(read)}» nhưng chỉ tiêu này chỉ có từ năm {first}; hãy kiểm tra "
                f"lại năm của số liệu, hoặc để trống ô này.")
    yield ctx.issue("out_of_range", severity=WARNING, read=read, field_id=f.id,
                    message=f"{where(read, field_label(f))}: {text}")


def _check_identity_values(ctx: _Ctx) -> Iterator[Issue]:
    """Identity cells (prefilled, locked) go into values as read; their checks are identity's
    (a cell the file garbles is reported here and left empty)."""
    for f, label in ctx.plan.identity:
        read = ctx.raw.fields.get(f.id)
        if read is not None and read.problem:
            ctx.values[f.id] = None
            yield _unreadable_cell(ctx, read, f.id, label)
            continue
        value, _ = coerce_value(f.type, read.value if read else None, f.options)
        ctx.values[f.id] = value


def _check_not_applicable(ctx: _Ctx) -> Iterator[Issue]:
    kind = ctx.form.type_label(ctx.loai_hinh)
    for f in ctx.plan.not_applicable:
        read = ctx.raw.fields.get(f.id)
        if read is None or is_blank(read.value):
            continue
        yield ctx.issue("not_applicable", read=read, field_id=f.id, message=(
            f"{where(read, field_label(f))}: có giá trị «{typed(read)}» nhưng mục này không áp dụng cho "
            f"loại hình {ctx.loai_hinh} ({kind}); giá trị không được tổng hợp. Hãy xóa đi."))


# ---------------------------------------------------------------- rules


def _check_rules(ctx: _Ctx) -> Iterator[Issue]:
    for rule in ctx.plan.rules:
        if not formulas.rule_violated(rule, ctx.values):
            continue
        read = ctx.raw.fields.get(rule.left)
        these = "hai số này" if len(rule.field_ids) == 2 else "các số này"
        said = rule.message.casefold()
        advice = "" if "kiểm tra" in said or "sửa" in said else f" Hãy kiểm tra lại {these}."
        if rule.severity == ERROR:
            advice += f" Cho đến khi sửa, {these} không được tính vào tổng hợp."
        yield ctx.issue("constraint_violated", severity=rule.severity, read=read, field_id=rule.left,
                        message=f"{_rule_statement(ctx, rule, read)} {rule.message}{advice}")


def _rule_statement(ctx: _Ctx, rule, read) -> str:
    """"«A» năm 2019: giá trị 12 lớn hơn «B» (10)." — or, for a sum, each side spelled out."""
    fields, values = ctx.form.fields, ctx.values
    if rule.simple:
        a, b = show(values[rule.left]), show(values[rule.right])
        return (f"{where(read, field_label(fields[rule.left]))}: giá trị {a} {_BROKEN[rule.op]} "
                f"«{field_label(fields[rule.right])}» ({b}).")

    def side(terms):
        out = []
        for i, (k, fid) in enumerate(terms):
            sign = "− " if k < 0 else ("+ " if i else "")
            label, value = f"«{field_label(fields[fid])}»", values[fid]
            if abs(k) == 1:
                out.append(f"{sign}{label} ({show(value)})")
            else:  # the product spelled out: "3 × «Số tổ» (3 × 3 = 9)", not a bare "(3)"
                out.append(f"{sign}{show(abs(k))} × {label} ({show(abs(k))} × {show(value)} = "
                           f"{show(abs(k) * value)})")
        return " ".join(out)
    when = (f" (khi «{field_label(fields[rule.when.field])}» là «{rule.when.equals}»)"
            if rule.when else "")
    return (f"{where(read, field_label(fields[rule.left]))}: {side(rule.lhs)} "
            f"{_BROKEN[rule.op]} {side(rule.rhs)}{when}.")


def _leave_out_contradictions(ctx: _Ctx) -> None:
    """Both numbers of an error-level contradiction leave the totals: one of them is wrong and
    nobody can tell which (a summary must never show 80/79 = 101%). A warning-level rule, such
    as complaints resolved from an earlier year's backlog, keeps its values."""
    broken = [r for r in ctx.plan.rules
              if r.severity == ERROR and formulas.rule_violated(r, ctx.values)]
    for rule in broken:
        for fid in rule.field_ids:
            if not ctx.form.fields[fid].is_formula:
                ctx.values[fid] = None
                ctx.invalid.add(fid)


# ---------------------------------------------------------------- tables


def _column_label(table_text: str, col: Column, n: int) -> str:
    return f"{col.header}, dòng {n} của {table_text}"


def _check_tables(ctx: _Ctx) -> Iterator[Issue]:
    for table in ctx.form.tables.values():
        rows = ctx.raw.tables.get(table.name, [])
        if not table.applies_to(ctx.loai_hinh):
            yield from _not_applicable_rows(ctx, table, rows)
            continue
        ctx.found = []
        ctx.tables[table.name] = [_check_row(ctx, table, row, n) for n, row in enumerate(rows, 1)]
        yield from ctx.found
        yield from _check_unique(ctx, table, rows)
        yield from _check_expected_row(ctx, table)


def _check_row(ctx: _Ctx, table: Table, row: dict, n: int) -> dict:
    text, columns = ctx.plan.table_columns[table.name]
    out = {}
    for col, fid in columns:
        read = row.get(col.id)
        value, _ = check_value(ctx, col, read, fid, _column_label(text, col, n))
        if col.required and is_blank(read.value if read else None) and not (read and read.formula):
            ctx.found.append(ctx.issue("required_missing", read=read, field_id=fid, message=(
                f"{where(read, _column_label(text, col, n))}: chưa điền; dòng đã có dữ liệu thì cột "
                f"«{col.header}» là bắt buộc. Hãy nhập bổ sung, hoặc xóa cả dòng nếu nhập nhầm.")))
        out[col.id] = value
    return out


def _check_unique(ctx: _Ctx, table: Table, rows: list) -> Iterator[Issue]:
    text = table_label(ctx.form, table)
    for pos, col in enumerate(table.input_columns):
        if not col.unique:
            continue
        seen = {}
        for n, values in enumerate(ctx.tables[table.name], 1):
            value = values.get(col.id)
            key = value.casefold() if isinstance(value, str) else value
            if value is None:
                continue
            if key in seen:
                first_n, first_read = seen[key]
                read = rows[n - 1].get(col.id)
                yield ctx.issue("constraint_violated", severity=col.unique, read=read,
                                field_id=f"{table.name}.{col.id}", message=(
                    f"{where(read, _column_label(text, col, n))}: «{show(value)}» trùng với dòng "
                    f"{first_n} (ô {first_read.cell}). Hãy kiểm tra lại; nếu là cùng một văn bản thì "
                    f"xóa bớt một dòng."))
            else:
                seen[key] = (n, rows[n - 1].get(col.id))


def _check_expected_row(ctx: _Ctx, table: Table) -> Iterator[Issue]:
    """The spec's ``expect_row``: at least one filled row with that value (e.g. a document
    that deploys the resolution)."""
    expect = table.expect_row
    if expect is None or any(row.get(expect.column) == expect.equals for row in ctx.tables[table.name]):
        return
    column = next(c for c in table.columns if c.id == expect.column)
    sheet = ctx.form.sheet(table.sheet).name
    yield ctx.issue("constraint_violated", severity=expect.severity, sheet=sheet,
                    field_id=f"{table.name}.{expect.column}", message=(
        f"Trang «{sheet}», {table_label(ctx.form, table)}: chưa có dòng nào có «{column.header}» là "
        f"«{expect.equals}». {expect.message}"))


def _not_applicable_rows(ctx: _Ctx, table: Table, rows: list) -> Iterator[Issue]:
    if rows:
        first = next(iter(rows[0].values()))
        yield ctx.issue("not_applicable", read=first, field_id=table.name, message=(
            f"{where(first, table_label(ctx.form, table))}: có {len(rows)} dòng dữ liệu nhưng bảng này "
            f"không áp dụng cho loại hình {ctx.loai_hinh}; các dòng không được tổng hợp. Hãy xóa đi."))


# ---------------------------------------------------------------- the whole return


def _with_unit(issues: list[Issue], unit: Unit) -> list[Issue]:
    code = unit.ma_don_vi or None
    return [dataclasses.replace(i, ma_don_vi=i.ma_don_vi or code) for i in issues]


def _result(unit: Unit, raw: RawReturn, issues: list[Issue], **kw) -> UnitResult:
    status = STATUS_ERRORS if any(i.severity == ERROR for i in issues) else STATUS_OK
    return UnitResult(unit=unit, status=status, file=raw.path, saved_at=raw.saved_at,
                      file_mtime=raw.file_mtime, issues=issues, **kw)


# ---------------------------------------------------------------- deleted sheets


def _sheet_parts(form: Form, sheet: Sheet, loai_hinh: str) -> tuple[set, set]:
    """The field ids and table names a unit of this type has on one sheet of the form."""
    sections = [se for se in sheet.sections if se.applies_to(loai_hinh)]
    fields = {fid for se in sections for fid in se.field_ids if form.fields[fid].applies_to(loai_hinh)}
    return fields, {se.table for se in sections if se.table}


def _deleted_sheets(ctx: _Ctx) -> Iterator[tuple[Sheet, set, set]]:
    """Sheets of the form of which the file holds no field and no table: deleted by the unit
    (a renamed sheet still carries its names and tables, so it is not taken for deleted)."""
    for sheet, fields, tables in ctx.plan.sheet_parts:
        if (fields or tables) and fields.isdisjoint(ctx.raw.fields) and tables.isdisjoint(ctx.raw.tables):
            yield sheet, fields, tables


def _one_issue_per_deleted_sheet(ctx: _Ctx, found: list[Issue]) -> list[Issue]:
    """A deleted sheet is one error naming the sheet, not one per cell it held; its figures
    count as empty (they are not in the file)."""
    for sheet, fields, tables in _deleted_sheets(ctx):
        def on_sheet(i: Issue) -> bool:
            return i.field in fields or any((i.field or "").startswith(t + ".") for t in tables)
        found = [i for i in found if not (i.code in ("formula_tampered", "required_missing") and on_sheet(i))]
        found.insert(0, ctx.issue("required_missing", sheet=sheet.name, message=(
            f"Trang «{sheet.name}» không còn trong tệp (đã bị xóa), nên mọi số liệu của trang này được "
            f"coi là chưa điền. Hãy lấy lại trang từ biểu mẫu gốc của đơn vị, điền rồi gửi lại; nếu "
            f"không có số liệu, vẫn giữ trang và để trống hoặc ghi 0 theo hướng dẫn.")))
    return found


# ---------------------------------------------------------------- parts lost in the file


def _damaged(raw: RawReturn) -> set:
    """Field ids and table names the reader already reported as damaged."""
    return {i.field for i in raw.issues if i.code == "damaged_part" and i.field}


def _check_lost_parts(ctx: _Ctx) -> Iterator[Issue]:
    """An input cell or a table of the form that the file no longer has, on a sheet that is
    still there (a whole deleted sheet is one issue of its own): its data cannot be read."""
    if ctx.raw.meta.get("form_version") != ctx.form.version:
        return  # another version: form_version_mismatch says what is missing
    known = _damaged(ctx.raw) | _on_deleted_sheets(ctx)
    for f, _label in ctx.plan.inputs:
        if f.id not in ctx.raw.fields and f.id not in known:
            yield ctx.issue("damaged_part", field_id=f.id, sheet=ctx.form.sheet(f.sheet).name, message=(
                f"Mục «{field_label(f)}»: tệp không còn ô nhập của mục này (tên «{f.id}» của ô đã bị "
                f"xóa), nên giá trị không đọc được và không được tổng hợp. Hãy chép số liệu sang "
                f"biểu mẫu gốc của đơn vị rồi gửi lại."))
    for table in ctx.form.tables_for(ctx.loai_hinh):
        if table.name not in ctx.raw.tables and table.name not in known:
            sheet = ctx.form.sheet(table.sheet).name
            yield ctx.issue("damaged_part", field_id=table.name, sheet=sheet, message=(
                f"Trang «{sheet}»: không tìm thấy {table_label(ctx.form, table)} (bảng Excel «{table.name}» "
                f"đã bị xóa hoặc đổi tên), nên các dòng của bảng không đọc được và không được tổng "
                f"hợp. Hãy chép các dòng sang biểu mẫu gốc của đơn vị rồi gửi lại."))


def _check_misplaced_names(ctx: _Ctx) -> Iterator[Issue]:
    """A field's name pointing at another sheet than the other fields of its template sheet
    (or at the hidden sheets): the cell read is not the field's. Excel moves a name with its
    cell when rows are inserted or the sheet renamed, never to another sheet."""
    found_on: dict[str, list[str]] = {}
    for fid, read in ctx.raw.fields.items():
        if fid in ctx.form.fields:
            found_on.setdefault(ctx.form.fields[fid].sheet, []).append(read.sheet)
    usual = {sheet: max(set(names), key=names.count) for sheet, names in found_on.items()}
    if all(names.count(usual[sheet]) == len(names) and usual[sheet] not in (META_SHEET, LISTS_SHEET)
           for sheet, names in found_on.items()):
        return  # (nearly every return) each template sheet's fields all on one sheet, not hidden
    for fid, read in ctx.raw.fields.items():
        f = ctx.form.fields.get(fid)
        if f is None or not f.applies_to(ctx.loai_hinh):
            continue
        if read.sheet in (META_SHEET, LISTS_SHEET) or read.sheet != usual[f.sheet]:
            yield ctx.issue("damaged_part", read=read, field_id=fid, message=(
                f"Mục «{field_label(f)}»: tên «{fid}» của ô nhập đang trỏ sang trang «{read.sheet}», ô "
                f"{read.cell}, không phải trang «{usual[f.sheet]}» của mục này (tên đã bị sửa), nên giá "
                f"trị đọc được có thể không phải của mục này. Hãy chép số liệu sang biểu mẫu gốc "
                f"của đơn vị rồi gửi lại."))


def _on_deleted_sheets(ctx: _Ctx) -> set:
    gone = set()
    for _sheet, fields, tables in _deleted_sheets(ctx):
        gone |= fields | tables
    return gone


def _not_twice(found: list[Issue], damaged: set) -> list[Issue]:
    """A field already reported as damaged is not also reported as empty."""
    return [i for i in found if not (i.code == "required_missing" and i.field in damaged)]


def check_return(form: Form, raw: RawReturn, units_by_code: dict[str, Unit]) -> UnitResult:
    """Check one read return; never raises for anything found in the file."""
    code = raw.meta.get("ma_don_vi", "")
    listed = _find_unit(code, units_by_code) if code else None
    unit = listed or _file_unit(raw)
    head = [issue(c, m, severity=s, file=raw.path, ma_don_vi=unit.ma_don_vi or None)
            for c, s, m in _check_form(form, raw)]
    if any(i.code == "not_a_form" for i in head) or any(
            i.code in ("unreadable_file", "encrypted_file") for i in raw.issues):
        return _result(unit, raw, _with_unit(raw.issues, unit) + head)
    loai_hinh = unit.loai_hinh if unit.loai_hinh in form.unit_types else raw.meta.get("loai_hinh", "")
    ctx = _Ctx(form=form, raw=raw, unit=unit, loai_hinh=loai_hinh)
    found = head + list(_check_identity(ctx, known=listed is not None))
    found += list(_check_protection(ctx)) + list(_check_formulas(ctx))
    found += list(_check_identity_values(ctx))
    found += list(_check_fields(ctx)) + list(_check_not_applicable(ctx))
    found += list(_check_tables(ctx))
    row_counts = {name: len(rows) for name, rows in ctx.tables.items()}
    ctx.values.update(formulas.compute_derived(form, loai_hinh, ctx.values, row_counts))
    found += list(_check_rules(ctx))
    _leave_out_contradictions(ctx)
    ctx.values.update(formulas.compute_derived(form, loai_hinh, ctx.values, row_counts))
    found = _one_issue_per_deleted_sheet(ctx, found)
    found += list(_check_lost_parts(ctx)) + list(_check_misplaced_names(ctx))
    found = _not_twice(found, _damaged(raw) | {i.field for i in found if i.code == "damaged_part"})
    cells = {fid: (r.sheet, r.cell) for fid, r in raw.fields.items()
             if fid not in form.fields or form.fields[fid].applies_to(loai_hinh)}
    gone = _on_deleted_sheets(ctx)  # a deleted sheet is one issue, not one per name on it
    read_issues = [i for i in raw.issues if not (i.code == "damaged_part" and i.field in gone)]
    return _result(unit, raw, _with_unit(read_issues, unit) + found, values=ctx.values,
                   invalid=set(ctx.invalid), cells=cells, tables=ctx.tables)
