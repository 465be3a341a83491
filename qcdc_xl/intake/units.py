"""Read the units list (.csv or .xlsx) into :class:`Unit` records, refusing bad rows by number."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from qcdc_xl.form.bundled import default_units_path
from qcdc_xl.validate.coerce import strip_accents

COLUMNS = ("ma_don_vi", "ten_don_vi", "loai_hinh", "khoi")
REQUIRED_COLUMNS = ("ma_don_vi", "ten_don_vi", "loai_hinh")

# Header aliases of the standard columns, compared after folding case, accents and spacing
# (see _fold); a form's unit attributes bring their own.
_HEADER_ALIASES = {
    "ma_don_vi": ("ma don vi", "ma dv", "ma", "code", "unit code"),
    "ten_don_vi": ("ten don vi", "ten dv", "ten", "don vi", "name", "unit name"),
    "loai_hinh": ("loai hinh", "loai hinh don vi", "loai", "type"),
    "khoi": ("khoi", "truc thuoc", "khoi huyen", "truc thuoc khoi huyen", "huyen"),
}
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


class UnitsError(ValueError):
    """A units list that cannot be used; the message is Vietnamese and names the row(s)."""

    def __init__(self, message: str, errors: tuple = ()):
        super().__init__(message)
        self.errors = tuple(errors) or (message,)


# A list with many bad rows says this many of them, then how many more.
UNITS_ERRORS_SHOWN = 20


@dataclass(frozen=True)
class Unit:
    ma_don_vi: str
    ten_don_vi: str
    loai_hinh: str
    khoi: str = ""
    attributes: tuple = ()  # ((name, value), …): the form's unit attributes given in the list

    def attr(self, name: str) -> str:
        """The unit's value of a units-list column ("" when not given)."""
        if name in COLUMNS:
            return getattr(self, name)
        return dict(self.attributes).get(name, "")

    def to_dict(self) -> dict:
        return {**{c: getattr(self, c) for c in COLUMNS}, **dict(self.attributes)}


def _fold(text: str) -> str:
    """Lower-case, accents off (đ → d), punctuation and underscores to single spaces."""
    text = strip_accents(str(text)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _header_aliases(form) -> dict:
    out = {c: set(a) | {_fold(c)} for c, a in _HEADER_ALIASES.items()}
    for name, attribute in form.attributes.items():
        out[name] = {_fold(name), _fold(attribute.label), *(_fold(a) for a in attribute.aliases)}
    return out


def _column_of(header: str, aliases: dict) -> str | None:
    folded = _fold(header)
    return next((column for column, names in aliases.items() if folded in names), None)


def _type_aliases(form) -> dict:
    """Folded spelling → unit type id: the id itself, its label, and the spec's aliases."""
    out = {}
    for t in form.unit_types.values():
        for name in (t.id, t.short, *t.aliases):
            out.setdefault(_fold(name), t.id)
    return out


def _read_rows(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise UnitsError(f"Danh sách đơn vị «{path.name}»: chỉ nhận tệp .csv hoặc .xlsx; "
                     f"hãy lưu danh sách thành một trong hai dạng đó.")


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnitsError(f"Danh sách đơn vị «{path.name}» không phải mã UTF-8; trong Excel hãy "
                         f"chọn Lưu thành → «CSV UTF-8 (Comma delimited)».") from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _read_xlsx(path: Path) -> list[list[str]]:
    import openpyxl  # local: only needed for .xlsx lists

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # any unreadable workbook becomes a plain message
        raise UnitsError(f"Không mở được danh sách đơn vị «{path.name}» (mã kỹ thuật: {type(exc).__name__}); "
                         f"hãy mở bằng Excel và lưu lại dạng .xlsx.") from None
    try:
        ws = wb.worksheets[0]
        return [["" if v is None else _cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def load_units(path: Path | str | None = None, form=None) -> list[Unit]:
    """Read and check a units list against a form's unit types and attributes (the default
    form when none is given); raise :class:`UnitsError` naming every bad row."""
    if form is None:
        from qcdc_xl.form.spec import load_form
        form = load_form()
    if not path and not default_units_path(form.id).is_file():
        raise UnitsError(f"Biểu mẫu «{form.id}» không kèm danh sách đơn vị mẫu; hãy chỉ danh sách "
                         f"đơn vị của đợt này bằng --units (tệp .csv hoặc .xlsx).")
    path = Path(path) if path else default_units_path(form.id)
    if not path.is_file():
        raise UnitsError(f"Không tìm thấy danh sách đơn vị «{path}»; kiểm tra lại đường dẫn.")
    rows = [r for r in _read_rows(path)]
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise UnitsError(f"Danh sách đơn vị «{path.name}» trống.")
    aliases = _header_aliases(form)
    header = [_column_of(h, aliases) for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UnitsError(f"Danh sách đơn vị «{path.name}», dòng 1: thiếu cột {', '.join(missing)}; "
                         f"dòng tiêu đề cần có Mã đơn vị, Tên đơn vị, Loại hình "
                         f"({'/'.join(form.type_ids)}).")
    units, errors = _units_of_rows(form, header, rows[1:], path.name)
    if errors:
        raise _list_error(path.name, errors)
    if not units:
        raise UnitsError(f"Danh sách đơn vị «{path.name}» không có đơn vị nào.")
    return units


def _units_of_rows(form, header: list, rows: list, name: str) -> tuple:
    """Every unit of the list and every bad row's message (all of them: a staff member fixes
    the list once, not once a row)."""
    kinds = _type_aliases(form)
    units, seen, errors = [], {}, []
    for number, row in enumerate(rows, start=2):
        values = {col: _clean(row[i]) if i < len(row) else "" for i, col in enumerate(header) if col}
        if not any(values.values()):
            continue
        try:
            unit = _unit_from_row(form, kinds, values, number, name)
        except UnitsError as exc:
            errors.append(str(exc))
            continue
        if unit.ma_don_vi.casefold() in seen:
            errors.append(f"Danh sách đơn vị «{name}», dòng {number}: mã đơn vị "
                          f"«{unit.ma_don_vi}» bị trùng với dòng {seen[unit.ma_don_vi.casefold()]}; "
                          f"mỗi đơn vị cần một mã riêng.")
            continue
        seen[unit.ma_don_vi.casefold()] = number
        units.append(unit)
    return units, errors


def _list_error(name: str, errors: list) -> UnitsError:
    """One error as it is; several as a count and one line each (the first ones)."""
    if len(errors) == 1:
        return UnitsError(errors[0], errors)
    shown = errors[:UNITS_ERRORS_SHOWN]
    more = len(errors) - len(shown)
    lines = [f"Danh sách đơn vị «{name}» có {len(errors)} dòng cần sửa:"] + [f"- {e}" for e in shown]
    if more:
        lines.append(f"- … và {more} dòng khác; sửa các dòng trên rồi chạy lại để xem tiếp.")
    return UnitsError("\n".join(lines), errors)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(str(text).split()))


def _unit_from_row(form, kinds: dict, values: dict, number: int, name: str) -> Unit:
    """One unit; ``kinds`` is :func:`_type_aliases` of the form (worked out once a list)."""
    where = f"Danh sách đơn vị «{name}», dòng {number}"
    code = values.get("ma_don_vi", "")
    if not code:
        raise UnitsError(f"{where}: thiếu mã đơn vị.")
    if not _CODE_RE.match(code):
        raise UnitsError(f"{where}: mã đơn vị «{code}» chỉ được gồm chữ không dấu, số, '.', '-', '_' "
                         f"(tối đa 40 ký tự).")
    if not values.get("ten_don_vi"):
        raise UnitsError(f"{where}: thiếu tên đơn vị.")
    loai = kinds.get(_fold(values.get("loai_hinh", "")))
    if loai is None:
        kinds = "; ".join(f"{t.id} ({t.label})" for t in form.unit_types.values())
        raise UnitsError(f"{where}: loại hình «{values.get('loai_hinh', '')}» không hợp lệ; "
                         f"ghi một trong: {kinds}.")
    attributes = tuple((a, _attribute_value(form.attributes[a], values.get(a, ""), where))
                       for a in form.unit_types[loai].attributes if values.get(a))
    return Unit(ma_don_vi=code, ten_don_vi=values["ten_don_vi"], loai_hinh=loai,
                khoi=values.get("khoi", ""), attributes=attributes)


def _attribute_value(attribute, value: str, where: str) -> str:
    """A unit attribute's canonical option text; a value not among the options is refused."""
    if not attribute.options:
        return value
    folded = {_fold(o): o for o in attribute.options}
    if _fold(value) not in folded:
        raise UnitsError(f"{where}: {attribute.label.lower()} «{value}» không hợp lệ; dùng một "
                         f"trong: {'; '.join(attribute.options)}.")
    return folded[_fold(value)]


def canonical_option(value: str, options: tuple) -> str:
    """The option text a value stands for (case, accents and spacing aside), else the value."""
    folded = {_fold(o): o for o in options}
    return folded.get(_fold(value), value) if value else ""
