"""Test data for the reader and the checks: templates, filled returns, damaged files.

Templates come from the real generator (``qcdc_xl.template.generate.generate_workbook``) when it
exists; until then a small xlsxwriter stand-in lays the form out the same way (defined names
= field ids, real Excel tables with a locked TT formula column, meta sheet very hidden and in
custom properties, protected sheets). Returns are filled with openpyxl by defined name and
table name, as a person in Excel would type them.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import struct
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.utils.cell import get_column_letter

from fill import fill_with_openpyxl, find_table
from qcdc_xl.form import formulas
from qcdc_xl.template import metadata

# The generator sets print areas openpyxl cannot represent; it says so on every load.
from qcdc_xl.form.spec import Form
from qcdc_xl.intake.units import Unit

HCSN_UNIT = Unit("CQ01", "Đảng bộ Sở Tài chính", "HCSN", khoi="Khối Cơ quan")
DN_UNIT = Unit("DN01", "Đảng bộ Công ty Điện lực", "DN", khoi="Khối Doanh nghiệp",
               attributes=(("loai_dn", "DN 100% vốn Nhà nước"),))
GENERATED_AT = dt.datetime(2022, 5, 1, 8, 0, 0)


# ---------------------------------------------------------------- templates


def real_generator():
    """The project's generator, or None while it does not exist yet."""
    try:
        from qcdc_xl.template.generate import generate_workbook
    except ImportError:
        return None
    return generate_workbook


def make_template(form: Form, unit: Unit, path: Path) -> Path:
    gen = real_generator()
    if gen is not None:
        gen(form, unit, path, generated_at=GENERATED_AT)
    else:
        _standin_template(form, unit, path)
    return path


def _standin_template(form: Form, unit: Unit, path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    bold, unlocked = wb.add_format({"bold": True}), wb.add_format({"locked": False})
    guide = wb.add_worksheet("Hướng dẫn")
    guide.write("A1", "HƯỚNG DẪN ĐIỀN BIỂU MẪU", bold)
    guide.write("A3", "Nhập số liệu vào các ô trắng; không sửa các ô có công thức.")
    guide.protect()
    for sheet in form.sheets:
        ws = wb.add_worksheet(sheet.name)
        ws.write("A1", sheet.title, bold)
        row = 3
        for section in sheet.sections:
            if not section.applies_to(unit.loai_hinh):
                continue
            if section.title:
                ws.write(row, 0, section.title, bold)
                row += 1
            if section.layout == "table":
                row = _standin_table(wb, ws, form, form.tables[section.table], section, row, unlocked)
            elif section.layout == "yearly":
                row = _standin_yearly(wb, ws, form, section, unit, row, unlocked)
            else:
                row = _standin_fields(wb, ws, form, section.field_ids, unit, row, unlocked)
            row += 1
        ws.protect()
    lists = wb.add_worksheet(metadata.LISTS_SHEET)
    lists.hide()
    meta = metadata.build_meta(form.id, form.version, unit.ma_don_vi, unit.loai_hinh,
                               GENERATED_AT.isoformat())
    meta_ws = wb.add_worksheet(metadata.META_SHEET)
    for r, key in enumerate(metadata.KEYS):
        meta_ws.write_string(r, 0, key)
        meta_ws.write_string(r, 1, meta[key])
        wb.set_custom_property(metadata.PROP_PREFIX + key, meta[key])
    meta_ws.very_hidden()
    lists.write("A1", "")
    wb.close()


def _define(wb, name: str, sheet: str, row: int, col: int) -> None:
    wb.define_name(name, f"='{sheet}'!${get_column_letter(col + 1)}${row + 1}")


def _prefill(field, unit: Unit):
    key = field.prefill or field.prefill_optional
    return getattr(unit, key, "") if key else None


def _standin_fields(wb, ws, form, ids, unit, row, unlocked) -> int:
    for fid in ids:
        f = form.fields[fid]
        if not f.applies_to(unit.loai_hinh):
            continue
        ws.write(row, 1, f.label)
        _standin_cell(ws, form, f, unit, row, 2, unlocked)
        _define(wb, f.id, ws.name, row, 2)
        row += 1
    return row


def _standin_cell(ws, form, f, unit, row, col, unlocked) -> None:
    if f.is_formula:
        ws.write_formula(row, col, formulas.excel_formula(f, _count_range))
    elif f.is_identity:
        ws.write_string(row, col, _prefill(f, unit) or "")
    else:
        value = _prefill(f, unit)
        if value:
            ws.write_string(row, col, value, unlocked)
        else:
            ws.write_blank(row, col, None, unlocked)


def _count_range(table: str) -> str:
    return f"{table}[TT]"


def _standin_yearly(wb, ws, form, section, unit, row, unlocked) -> int:
    years = form.years
    for i, y in enumerate(years):
        ws.write(row, 2 + i, y)
    if section.period_total:
        ws.write(row, 2 + len(years), "Cả giai đoạn")
    row += 1
    for base in section.base_fields:
        ws.write(row, 1, form.fields[f"{base}_{years[0]}"].label)
        for i, y in enumerate(years):
            f = form.fields[f"{base}_{y}"]
            _standin_cell(ws, form, f, unit, row, 2 + i, unlocked)
            _define(wb, f.id, ws.name, row, 2 + i)
        if section.period_total:
            f = form.fields[f"{base}_tong"]
            _standin_cell(ws, form, f, unit, row, 2 + len(years), unlocked)
            _define(wb, f.id, ws.name, row, 2 + len(years))
        row += 1
    return row


def tt_formula(table) -> str:
    inputs = table.input_columns
    span = f"{table.name}[@[{inputs[0].header}]:[{inputs[-1].header}]]"
    return f'=IF(COUNTA({span})=0,"",ROW()-ROW({table.name}[#Headers]))'


def _standin_table(wb, ws, form, table, section, row, unlocked) -> int:
    count = form.fields[table.count_field]
    ws.write(row, 1, count.label)
    ws.write_formula(row, 2, formulas.excel_formula(count, _count_range))
    _define(wb, count.id, ws.name, row, 2)
    row += 1
    first, last = row, row + table.ready_rows
    columns = []
    for c in table.columns:
        spec = {"header": c.header}
        if c.type == "row_number":
            spec["formula"] = tt_formula(table)
        else:
            spec["format"] = unlocked
        columns.append(spec)
    ws.add_table(first, 1, last, len(table.columns), {"name": table.name, "columns": columns,
                                                       "style": "Table Style Light 9"})
    return last + 1


# ---------------------------------------------------------------- filling and editing returns


def complete_values(form: Form, loai_hinh: str) -> dict:
    """A valid answer for every input of the unit type: a return with no issue at all."""
    values = {}
    for f in form.input_fields(loai_hinh):
        if f.type in ("int", "money"):
            values[f.id] = 2 if f.base_id.endswith(("_phai", "_nhan", "_giao")) or "tong" in f.id else 1
        elif f.type == "yesno":
            values[f.id] = "Có"
        elif f.type == "list":
            values[f.id] = f.options[0]
        elif f.type == "date":
            values[f.id] = dt.datetime(2022, 6, 1)
        else:
            values[f.id] = "0912 345 678" if f.id == "dien_thoai" else "Nguyễn Văn A"
    values["so_dang_vien"], values["so_lao_dong"] = 40, 120
    values["nam_thanh_lap_bcd"] = 2018
    values["dvc_3_4"], values["dvc_4"] = 10, 4
    for y in form.years:  # the number of talks is at least the number of units that held one
        values[f"dtnlv_so_cuoc_{y}"] = 3
    return {k: v for k, v in values.items() if k in form.fields and form.fields[k].applies_to(loai_hinh)}



def fill(template: Path, out: Path, values: dict | None = None, rows: dict | None = None,
         cells: list | None = None, edit=None) -> Path:
    """A copy of ``template`` with values by defined name, table rows (input columns, TT
    skipped) by table name, raw (sheet, cell, value) writes, and any ``edit(wb)``."""
    return fill_with_openpyxl(template, out, values, rows, cells, edit)


_REF = re.compile(r"(?<![\w.])(\$?[A-Z]{1,3}\$?)(\d+)(?![\w(])")
_QUALIFIED = re.compile(r"((?:'(?:[^']|'')+'|[^\W\d][\w.]*)!)?(\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)")


def insert_rows(wb, sheet: str, idx: int, amount: int = 1) -> None:
    """Insert rows the way Excel does: openpyxl moves the cells, we move what points at
    them (defined names, tables, merged ranges, references in formulas) ourselves."""
    ws = wb[sheet]
    ws.insert_rows(idx, amount)

    def shift(ref: str) -> str:
        def one(m):
            row = int(m.group(2))
            return f"{m.group(1)}{row + amount if row >= idx else row}"
        return _REF.sub(one, ref)

    def shift_formula(text: str, same_sheet: bool) -> str:
        def one(m):
            qualifier = m.group(1)
            target = qualifier[:-1].strip("'").replace("''", "'") if qualifier else None
            if (target == sheet) or (target is None and same_sheet):
                return (qualifier or "") + shift(m.group(2))
            return m.group(0)
        return _QUALIFIED.sub(one, text)

    for other in wb.worksheets:
        for cell in other._cells.values():
            if cell.data_type == "f" and isinstance(cell.value, str):
                cell.value = shift_formula(cell.value, other.title == sheet)
    for dn in wb.defined_names.values():
        if f"'{sheet}'!" in dn.attr_text or f"{sheet}!" in dn.attr_text:
            dn.attr_text = shift(dn.attr_text)
    for table in ws.tables.values():
        table.ref = shift(table.ref)
        if table.autoFilter is not None:
            table.autoFilter.ref = shift(table.autoFilter.ref)
    for rng in list(ws.merged_cells.ranges):
        ws.merged_cells.remove(rng)
        ws.merged_cells.add(shift(rng.coord))


def rename_sheet(wb, old: str, new: str) -> None:
    """Excel renames the references in defined names and formulas along with the sheet."""
    wb[old].title = new
    for dn in wb.defined_names.values():
        dn.attr_text = dn.attr_text.replace(f"'{old}'!", f"'{new}'!")
    for ws in wb.worksheets:
        for cell in ws._cells.values():
            if cell.data_type == "f" and isinstance(cell.value, str):
                cell.value = cell.value.replace(f"'{old}'!", f"'{new}'!")


def cell_of(path: Path, name: str) -> tuple[str, str]:
    """(sheet, A1 cell) a defined name points at in a workbook file."""
    wb = openpyxl.load_workbook(path)
    sheet, coord = next(iter(wb.defined_names[name].destinations))
    return sheet, coord.replace("$", "")


def table_ref(path: Path, name: str) -> tuple[str, str]:
    wb = openpyxl.load_workbook(path)
    ws, table = find_table(wb, name)
    return ws.title, table.ref


# ---------------------------------------------------------------- damaged and foreign files


def truncated(src: Path, out: Path, keep: float = 0.6) -> Path:
    data = src.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out


def encrypted_ole(out: Path) -> Path:
    """A minimal Compound File whose directory names an "EncryptedPackage" stream: the
    envelope Office writes around a workbook protected with a password to open."""
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 48, 1)  # first directory sector
    entries = bytearray(512)
    for i, name in enumerate(("Root Entry", "EncryptedPackage", "EncryptionInfo")):
        raw = name.encode("utf-16-le") + b"\0\0"
        entries[i * 128: i * 128 + len(raw)] = raw
        struct.pack_into("<H", entries, i * 128 + 64, len(raw))
        entries[i * 128 + 66] = 5 if i == 0 else 2
    out.write_bytes(bytes(header) + bytes(512) + bytes(entries))
    return out


def csv_as_xlsx(out: Path) -> Path:
    out.write_text("ma_don_vi,so_dang_vien\nCQ01,12\n", encoding="utf-8")
    return out


def html_as_xlsx(out: Path) -> Path:
    out.write_text("<html><body><table><tr><td>12</td></tr></table></body></html>", encoding="utf-8")
    return out


def old_xls(out: Path) -> Path:
    """An OLE2 file with a "Workbook" stream: an Excel 97–2003 .xls saved under .xlsx."""
    path = encrypted_ole(out)
    data = bytearray(path.read_bytes())
    pos = data.find("EncryptedPackage".encode("utf-16-le"))
    data[pos: pos + 34] = "Workbook".encode("utf-16-le").ljust(34, b"\0")
    out.write_bytes(bytes(data))
    return out


def zip_bomb(out: Path, member_mb: int = 210) -> Path:
    """A zip whose member claims more than the reader's ceiling once unpacked."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        chunk = b"\0" * (1024 * 1024)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for _ in range(member_mb):
                f.write(chunk)
    return out


def copy(src: Path, out: Path) -> Path:
    shutil.copyfile(src, out)
    return out
