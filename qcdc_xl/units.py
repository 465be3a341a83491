"""Read the units list (.csv or .xlsx) into :class:`Unit` records, refusing bad rows by number."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .bundled import default_units_path
from .coerce import strip_accents
from .spec import UNIT_TYPES


COLUMNS = ("ma_don_vi", "ten_don_vi", "loai_hinh", "khoi", "loai_dn")
REQUIRED_COLUMNS = ("ma_don_vi", "ten_don_vi", "loai_hinh")

# Header aliases, compared after folding case, accents and spacing (see _fold).
_HEADER_ALIASES = {
    "ma_don_vi": ("ma don vi", "ma dv", "ma", "code", "unit code"),
    "ten_don_vi": ("ten don vi", "ten dv", "ten", "don vi", "name", "unit name"),
    "loai_hinh": ("loai hinh", "loai hinh don vi", "loai", "type"),
    "khoi": ("khoi", "truc thuoc", "khoi huyen", "truc thuoc khoi huyen", "huyen"),
    "loai_dn": ("loai dn", "loai doanh nghiep", "loai hinh doanh nghiep", "so huu"),
}
_TYPE_ALIASES = {
    "hcsn": "HCSN", "hanh chinh su nghiep": "HCSN", "co quan": "HCSN",
    "hanh chinh": "HCSN", "su nghiep": "HCSN",
    "dn": "DN", "doanh nghiep": "DN",
}
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


class UnitsError(ValueError):
    """A units list that cannot be used; the message is Vietnamese and names the row."""


@dataclass(frozen=True)
class Unit:
    ma_don_vi: str
    ten_don_vi: str
    loai_hinh: str
    khoi: str = ""
    loai_dn: str = ""

    def to_dict(self) -> dict:
        return {c: getattr(self, c) for c in COLUMNS}


def _fold(text: str) -> str:
    """Lower-case, accents off (đ → d), punctuation and underscores to single spaces."""
    text = strip_accents(str(text)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _column_of(header: str) -> str | None:
    folded = _fold(header)
    for column, aliases in _HEADER_ALIASES.items():
        if folded == _fold(column) or folded in aliases:
            return column
    return None


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


def load_units(path: Path | str | None = None) -> list[Unit]:
    """Read and check a units list; raise :class:`UnitsError` naming the first bad row."""
    path = Path(path) if path else default_units_path()
    if not path.is_file():
        raise UnitsError(f"Không tìm thấy danh sách đơn vị «{path}»; kiểm tra lại đường dẫn.")
    rows = [r for r in _read_rows(path)]
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise UnitsError(f"Danh sách đơn vị «{path.name}» trống.")
    header = [_column_of(h) for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise UnitsError(f"Danh sách đơn vị «{path.name}», dòng 1: thiếu cột {', '.join(missing)}; "
                         f"dòng tiêu đề cần có Mã đơn vị, Tên đơn vị, Loại hình (HCSN/DN).")
    units, seen = [], {}
    for number, row in enumerate(rows[1:], start=2):
        values = {col: _clean(row[i]) if i < len(row) else "" for i, col in enumerate(header) if col}
        if not any(values.values()):
            continue
        unit = _unit_from_row(values, number, path.name)
        if unit.ma_don_vi.casefold() in seen:
            raise UnitsError(f"Danh sách đơn vị «{path.name}», dòng {number}: mã đơn vị "
                             f"«{unit.ma_don_vi}» bị trùng với dòng {seen[unit.ma_don_vi.casefold()]}; "
                             f"mỗi đơn vị cần một mã riêng.")
        seen[unit.ma_don_vi.casefold()] = number
        units.append(unit)
    if not units:
        raise UnitsError(f"Danh sách đơn vị «{path.name}» không có đơn vị nào.")
    return units


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(str(text).split()))


def _unit_from_row(values: dict, number: int, name: str) -> Unit:
    where = f"Danh sách đơn vị «{name}», dòng {number}"
    code = values.get("ma_don_vi", "")
    if not code:
        raise UnitsError(f"{where}: thiếu mã đơn vị.")
    if not _CODE_RE.match(code):
        raise UnitsError(f"{where}: mã đơn vị «{code}» chỉ được gồm chữ không dấu, số, '.', '-', '_' "
                         f"(tối đa 40 ký tự).")
    if not values.get("ten_don_vi"):
        raise UnitsError(f"{where}: thiếu tên đơn vị.")
    loai = _TYPE_ALIASES.get(_fold(values.get("loai_hinh", "")))
    if loai not in UNIT_TYPES:
        raise UnitsError(f"{where}: loại hình «{values.get('loai_hinh', '')}» không hợp lệ; "
                         f"ghi HCSN (cơ quan, đơn vị sự nghiệp) hoặc DN (doanh nghiệp).")
    return Unit(ma_don_vi=code, ten_don_vi=values["ten_don_vi"], loai_hinh=loai,
                khoi=values.get("khoi", ""), loai_dn=values.get("loai_dn", ""))


def check_loai_dn(units: list[Unit], options: tuple) -> None:
    """A prefilled ownership type must be one of the form's options (checked against the spec)."""
    folded = {_fold(o): o for o in options}
    for unit in units:
        if unit.loai_dn and _fold(unit.loai_dn) not in folded:
            raise UnitsError(f"Đơn vị «{unit.ma_don_vi}»: loại doanh nghiệp «{unit.loai_dn}» không "
                             f"hợp lệ; dùng một trong: {'; '.join(options)}.")


def canonical_loai_dn(value: str, options: tuple) -> str:
    folded = {_fold(o): o for o in options}
    return folded.get(_fold(value), value) if value else ""
