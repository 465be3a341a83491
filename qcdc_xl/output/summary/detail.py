"""«Chi tiết đơn vị»: one row per unit, every field; the other sheets' SUMIFS/COUNTIFS read it."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field

from xlsxwriter.utility import xl_col_to_name

from qcdc_xl.report.records import UnitResult
from qcdc_xl.form.spec import Field, Form
from qcdc_xl.report.summarise import UNKNOWN
from .cells import crit, nfc, page, put, put_row

SHEET_NAME = "Chi tiết đơn vị"
PERIOD = "Cả giai đoạn"
INVALID_NOTE = "Giá trị không hợp lệ, không tính vào tổng."


@dataclass
class Column:
    key: str  # the table header: a field id or an identity column id
    label: str
    group: str
    width: float
    field: Field | None = None


@dataclass
class DetailLayout:
    columns: list
    first: int  # first data row (0-based)
    last: int  # last data row (0-based, ≥ first even with no unit)
    col: dict = dc_field(default_factory=dict)

    HEADER_ROW = 4

    def __post_init__(self):
        self.col = {c.key: i for i, c in enumerate(self.columns)}

    def rng(self, key: str) -> str:
        letter = xl_col_to_name(self.col[key])
        return f"'{SHEET_NAME}'!${letter}${self.first + 1}:${letter}${self.last + 1}"

    def criteria(self, types: tuple | None, conds: tuple = ()) -> list[str]:
        """The SUMIFS/COUNTIFS conditions of a group, one per unit type (a group of several
        types is the sum of its types): counted, of the type, then ``conds`` ((column key,
        criterion) pairs: a khoi number, an attribute's option)."""
        base = [f"{self.rng('duoc_tinh')},1"] + [f"{self.rng(key)},{value}" for key, value in conds]
        if not types:
            return [",".join(base)]
        return [",".join(base[:1] + [f"{self.rng('loai_hinh')},{crit(t)}"] + base[1:])
                for t in types]

    def sum_over(self, func: str, prefix: str, types: tuple | None, conds: tuple = ()) -> str:
        """``SUMIFS(rng,crit…)`` for a group, summed over its types when it has several."""
        parts = [f"{func}({prefix}{c})" for c in self.criteria(types, conds)]
        return parts[0] if len(parts) == 1 else "(" + "+".join(parts) + ")"


def detail_layout(form: Form, n_rows: int, has_khoi: bool) -> DetailLayout:
    unit = "Đơn vị"
    cols = [Column("stt", "STT", unit, 5), Column("ma_don_vi", "Mã đơn vị", unit, 11),
            Column("ten_don_vi", "Tên đơn vị", unit, 30), Column("loai_hinh", "Loại hình", unit, 8)]
    if has_khoi:
        cols += [Column("khoi", "Khối", unit, 16), Column("ma_khoi", "Mã khối", unit, 6)]
    for a in form.attributes.values():  # those without a field
        if not any(f.prefill_optional == a.name for f in form.fields.values()):
            cols.append(Column(a.name, a.label, unit, 16))
    cols += [Column("trang_thai", "Trạng thái", unit, 17),
             Column("duoc_tinh", "Được tính (1 = cộng vào tổng)", unit, 9),
             Column("tep", "Tệp", unit, 22)]
    for f in form.fields.values():
        if f.is_identity:
            continue
        cols.append(Column(f.id, field_label(f), _group_label(form, f),
                           16 if f.type in ("text", "list") else 10, f))
    first = DetailLayout.HEADER_ROW + 1
    return DetailLayout(cols, first, first + max(n_rows, 1) - 1)


def field_label(f: Field) -> str:
    if f.period_total:
        return f"{f.label} ({PERIOD.lower()})"
    if f.level:
        return f"{f.label} ({(f.level_label or f.level).lower()})"
    return f"{f.label} ({f.year})" if f.year else f.label


def _group_label(form: Form, f: Field) -> str:
    sheet = form.sheet(f.sheet)
    title = form.section(f.section).title or sheet.heading or sheet.title
    return f"{sheet.name} — {title}"


def write_detail(book, ws) -> None:
    st, d = book.st, book.detail
    last_col = len(d.columns) - 1
    ws.merge_range(0, 0, 0, 8, "CHI TIẾT SỐ LIỆU TỪNG ĐƠN VỊ", st("title"))
    target = f"trang «{book.spec.figures[0].name}»" if book.spec.figures else "các trang tổng hợp"
    ws.merge_range(1, 0, 1, 8, f"Chỉ các dòng «Được tính» = 1 được cộng vào {target}. "
                   "Ô tô màu cam: giá trị không hợp lệ (ghi nguyên văn), không tính vào tổng; "
                   "ô xám: chỉ tiêu không áp dụng cho loại hình đơn vị.", st("note"))
    ws.set_row(1, 30)
    _headers(book, ws)
    for i, result in enumerate(book.results):
        _row(book, ws, d.first + i, i + 1, result)
    ws.add_table(d.HEADER_ROW, 0, d.last, last_col, {
        "name": "tbl_chi_tiet", "style": "Table Style Light 1", "autofilter": True,
        "columns": [{"header": c.key, "header_format": st("ids")} for c in d.columns]})
    for i, c in enumerate(d.columns):
        ws.set_column(i, i, c.width)
    ws.freeze_panes(d.first, d.col["ten_don_vi"] + 1)
    page(ws, SHEET_NAME, landscape=True, repeat_rows=(2, d.HEADER_ROW), fit_width=False)
    ws.repeat_columns(0, d.col["ten_don_vi"])
    ws.set_print_scale(70)


def _headers(book, ws) -> None:
    st, cols = book.st, book.detail.columns
    start = 0
    for i in range(1, len(cols) + 1):  # merge runs of the same group
        if i == len(cols) or cols[i].group != cols[start].group:
            if i - start > 1:
                ws.merge_range(2, start, 2, i - 1, nfc(cols[start].group), st("head"))
            else:
                put(ws, 2, start, cols[start].group, st("head"))
            start = i
    for i, c in enumerate(cols):
        put(ws, 3, i, c.label, st("head", "small"))
    ws.set_row(2, 45)
    ws.set_row(3, 78)


def _identity(book, number: int, r: UnitResult) -> dict:
    from .book import STATUS_VI, attribute_value
    out = {"stt": number, "ma_don_vi": r.unit.ma_don_vi, "ten_don_vi": r.unit.ten_don_vi,
           "loai_hinh": r.unit.loai_hinh, "khoi": r.unit.khoi,
           "ma_khoi": (book.khois.index(r.unit.khoi or UNKNOWN) + 1) if book.khois else None}
    for a in book.attributes():  # an attribute without a field has a column of its own
        if a.name not in book.form.fields and r.unit.loai_hinh in a.types:
            out[a.name] = attribute_value(book.form, r, a.name)
    return {**out, "trang_thai": STATUS_VI.get(r.status, r.status),
            "duoc_tinh": 1 if r.counts else 0, "tep": r.file or ""}


def _row(book, ws, row: int, number: int, r: UnitResult) -> None:
    from .book import attribute_column
    st, d = book.st, book.detail
    muted = None if r.counts else "muted"
    for key, value in _identity(book, number, r).items():
        if key in d.col:
            fill = f"st_{r.status}" if key == "trang_thai" else None
            put(ws, row, d.col[key], value, st("cell", fill, muted,
                                               "center" if key != "ten_don_vi" else None))
    if r.status == "missing":
        return
    values = book.unit_values(r)
    typed = {i.field: i.value for i in r.issues if i.field and i.severity == "error"}
    invalid = set(r.invalid)
    for a in book.attributes():
        column = attribute_column(book.form, a.name)
        if values.get(column) in a.options:
            invalid.discard(column)  # the units list supplied a valid value
    columns = _field_columns(book)
    ids, formats = _row_plan(book, r.unit.loai_hinh, muted)
    row_values = [None if fid is None else values.get(fid) for fid in ids]
    noted = []
    if invalid:  # the text as typed: SUMIFS ignores text, so never counted
        position = _positions(book)
        patched = sorted(i for i in map(position.get, invalid) if i is not None and ids[i])
        if patched:
            formats = list(formats)
        for i in patched:
            fid = ids[i]
            row_values[i] = "" if typed.get(fid) is None else str(typed[fid])
            formats[i] = st("cell", "invalid")
            noted.append(columns[i][0])
    if columns:
        put_row(ws, row, row_values, formats, first_col=columns[0][0])
    for col in noted:
        ws.write_comment(row, col, INVALID_NOTE, {"author": "qcdc-xl", "x_scale": 1.6})


def _row_plan(book, loai_hinh: str, muted) -> tuple:
    """(field id, or None where the field does not apply, of each field column; the cells'
    formats) of a unit of this type, counted or not: the same for all such units, but for
    their invalid values. Worked out once per book and kind of row."""
    plans = book.detail_plans
    key = (loai_hinh, muted)
    if key not in plans:
        st, ids, formats = book.st, [], []
        for _col, f, kind in _field_columns(book):
            applies = f.applies_to(loai_hinh)
            ids.append(f.id if applies else None)
            formats.append(st("cell", kind, muted) if applies else st("cell", "na"))
        plans[key] = (ids, formats)
    return plans[key]


def _positions(book) -> dict:
    """Field id -> its place among the field columns."""
    if book.detail_positions is None:
        book.detail_positions = {f.id: i for i, (_c, f, _k) in enumerate(_field_columns(book))}
    return book.detail_positions


def _field_columns(book) -> list:
    """(column, field, style of its value) of each field column, in order: one run after
    the unit's columns (see :func:`detail_layout`). Worked out once per book."""
    if book.detail_fields is None:
        d = book.detail
        book.detail_fields = [(d.col[c.key], c.field, book.kind(c.field))
                              for c in d.columns if c.field is not None]
    return book.detail_fields
