"""Typed issues: the one currency every check pays in.

Checks yield :class:`Issue` objects; the report collects them; the CLI prints them and
``--json`` dumps them with the same keys. Codes are stable ASCII (the contract's table);
messages are Vietnamese for people, shaped *where → what is wrong → how to fix*.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

ERROR, WARNING = "error", "warning"

# code -> (default severity, short Vietnamese title for tables and filters)
CODES: dict[str, tuple[str, str]] = {
    "not_a_form": (ERROR, "Không phải biểu mẫu này"),
    "unreadable_file": (ERROR, "Không đọc được tệp"),
    "encrypted_file": (ERROR, "Tệp có mật khẩu"),
    "unknown_unit": (ERROR, "Mã đơn vị không có trong danh sách"),
    "identity_mismatch": (ERROR, "Thông tin nhận diện không khớp"),
    "form_version_mismatch": (ERROR, "Khác phiên bản biểu mẫu"),
    "duplicate_return": (WARNING, "Đơn vị gửi nhiều bản"),
    "missing_return": (WARNING, "Đơn vị chưa gửi báo cáo"),
    "unit_count": (WARNING, "Số đơn vị của một loại hình khác với biểu mẫu"),
    "formula_tampered": (ERROR, "Công thức bị sửa"),
    "protection_removed": (WARNING, "Bảo vệ trang bị gỡ"),
    "required_missing": (ERROR, "Thiếu thông tin bắt buộc"),
    "wrong_type": (ERROR, "Sai kiểu dữ liệu"),
    "out_of_range": (ERROR, "Giá trị ngoài phạm vi"),
    "constraint_violated": (ERROR, "Số liệu mâu thuẫn"),
    "not_applicable": (WARNING, "Nhập vào mục không áp dụng"),
    "data_outside_table": (WARNING, "Dữ liệu ngoài vùng nhập"),
    "coerced_text_number": (WARNING, "Số nhập dạng chữ"),
    "coerced_text_date": (WARNING, "Ngày nhập dạng chữ"),
    "coerced_text_choice": (WARNING, "Lựa chọn viết tắt"),
    "legacy_encoding": (WARNING, "Phông chữ cũ (TCVN3/VNI)"),
    "formula_in_input": (WARNING, "Công thức trong ô nhập"),
    "converted_file": (WARNING, "Tệp định dạng cũ đã chuyển đổi"),
    "macros_present": (WARNING, "Tệp có macro"),
    "damaged_part": (ERROR, "Một phần của tệp bị hỏng"),
}


# A file with one of these at error level is never attributed to a unit: its figures could be
# someone else's. Its issues are still reported; the unit stays "missing" unless another return
# of it is sound (docs/decisions.md, «Reading returns»).
REJECTS_ATTRIBUTION = frozenset({"unreadable_file", "encrypted_file", "not_a_form", "unknown_unit",
                                 "identity_mismatch", "form_version_mismatch"})


_JSON_KEYS = ("severity", "code", "file", "ma_don_vi", "sheet", "cell", "field", "value", "message")


@dataclass(frozen=True)
class Issue:
    severity: str
    code: str
    message: str
    file: str | None = None
    ma_don_vi: str | None = None
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None
    value: str | None = None

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"unknown issue code {self.code!r}")
        if self.severity not in (ERROR, WARNING):
            raise ValueError(f"bad severity {self.severity!r}")

    def to_dict(self) -> dict:
        """The contract's JSON keys, in the contract's order."""
        return {k: getattr(self, k) for k in _JSON_KEYS}  # (all str or None: no copy needed)

    def as_tuple(self) -> tuple:
        """A flat (code, field, cell) tuple: what tests usually assert on."""
        return (self.code, self.field, self.cell)

    @property
    def where(self) -> str:
        """'Trang X, ô B12' for people."""
        parts = []
        if self.sheet:
            parts.append(f"trang «{self.sheet}»")
        if self.cell:
            parts.append(f"ô {self.cell}")
        return ", ".join(parts)


def issue(code: str, message: str, severity: str | None = None, **where) -> Issue:
    """Build an issue with the code's default severity unless one is given."""
    if code not in CODES:
        raise ValueError(f"unknown issue code {code!r}")
    return Issue(severity=severity or CODES[code][0], code=code, message=message, **where)


def shown_value(value) -> str | None:
    """The value as typed, as a short string for the report (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()  # a typed date has no time of day: 2024-12-20, as in the values
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= 200 else text[:197] + "…"
