"""Read one returned workbook into a :class:`RawReturn`: what the file holds, no judgement.

Every file is treated as possibly hostile: its first bytes and its zip directory are looked
at before any spreadsheet library sees it (encrypted, renamed .xls/.ods/CSV/HTML, truncated,
zip bombs), and :func:`read_return` never raises for a bad file: problems become issues.
Inputs are read into memory once and never written.

Where things are is found the way the template defines them, so a unit's edits that Excel
follows (inserted rows, renamed sheets) change nothing: fields by their workbook-scoped
defined name (= field id), lists by their Excel table name. The structure and formula text
come from openpyxl (which parses XML through defusedxml when it is installed, as it is
here); the values Excel cached for formula cells from python-calamine, which reads the
whole workbook in about a millisecond, where a second openpyxl pass would double the time.
"""
from __future__ import annotations

import datetime as dt
import errno
import io
import os
import re
import stat
import unicodedata
import warnings
import zipfile
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import range_boundaries

from qcdc_xl.validate.coerce import fold_key
from qcdc_xl.form.formulas import is_blank
from qcdc_xl.memo import Memo
from qcdc_xl.report.issues import Issue, issue, shown_value
from qcdc_xl.template.metadata import KEYS, META_SHEET, PROP_PREFIX
from qcdc_xl.report.records import CellRead, RawReturn
from qcdc_xl.intake.screen import (Dropped, Package, Unreadable, calamine_safe, lenient_cells, package,
                                   screen_package, sheet_names)
from qcdc_xl.form.spec import Form, Table

# Limits on what a return may hold (docs/decisions.md, "Limits"). A filled template is about
# 40 KB on disk and 250 KB of XML unpacked (LibreOffice-filled samples: at most 340 KB).
# openpyxl needs up to ~1 s and ~25 MB of memory per MB of sheet XML, so MAX_XML_BYTES keeps
# the worst file still read at about 15 s and 250 MB (measured; docs/decisions.md).
MAX_FILE_BYTES = 100 * 1024 * 1024  # on disk (pictures included)
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # every part unpacked, pictures included
MAX_XML_BYTES = 10 * 1024 * 1024  # the XML parts unpacked: what the parsers walk through
MAX_MEMBERS = 5000
MAX_RATIO = 200  # unpacked/packed per member; real sheets compress ~10–30×
MAX_OUTSIDE_CELLS = 200  # data_outside_table issues listed cell by cell per file
MAX_GRID_CELLS = 5_000_000  # a sheet's A1-to-last-value area read at once for cached values
_XML_SUFFIXES = (".xml", ".rels", ".vml")

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_COORD_RE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?[A-Z]{1,3}\$?\d+)?$")


# ---------------------------------------------------------------- messages


def _save_as_hint() -> str:
    return "hãy mở bằng Excel và Lưu thành .xlsx (Sổ làm việc Excel) rồi gửi lại"


def _bad_file(rel: str, what: str, code: str = "unreadable_file") -> Issue:
    return issue(code, file=rel, message=f"Tệp «{rel}»: {what}")


# ---------------------------------------------------------------- sniffing the bytes


def sniff(data: bytes, rel: str) -> Issue | None:
    """An issue when the bytes are not a workbook we can open safely, else None."""
    if not data:
        return _bad_file(rel, "tệp rỗng (0 byte), có thể bị lỗi khi sao chép hoặc gửi; "
                              "hãy mở tệp gốc bằng Excel, kiểm tra rồi gửi lại.")
    if len(data) > MAX_FILE_BYTES:
        return _too_large(rel, len(data))
    if data.startswith(_OLE_MAGIC):
        return _ole_problem(data, rel)
    if data.startswith(_ZIP_MAGIC) or data.startswith(_EMPTY_ZIP_MAGIC):
        return _zip_problem(data, rel)
    return _bad_file(rel, f"không phải tệp Excel .xlsx mà là {_foreign_kind(data)} được đặt đuôi "
                          f".xlsx; {_save_as_hint()}.")


def _too_large(rel: str, size: int) -> Issue:
    return _bad_file(rel, f"tệp quá lớn ({_mb(size)} MB, giới hạn {_mb(MAX_FILE_BYTES)} MB; một biểu "
                          f"mẫu đã điền chưa tới 1 MB); hãy xóa phần thừa (hình ảnh, trang tính thêm), "
                          f"{_save_as_hint()}.")


def _ole_problem(data: bytes, rel: str) -> Issue:
    """Office's old binary container: a password-protected workbook, or an old .xls/.doc."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return _bad_file(rel, "tệp được đặt mật khẩu khi mở nên phần mềm tổng hợp không đọc được; "
                              "hãy gỡ mật khẩu rồi lưu lại (trong Excel: Tệp → Thông tin → Bảo vệ "
                              "sổ làm việc → Mã hóa bằng mật khẩu, xóa trống mật khẩu) và gửi lại.",
                         code="encrypted_file")
    if any(n.encode("utf-16-le") in data for n in ("Workbook", "Book")):
        kind = "tệp Excel 97–2003 (.xls)"
    else:
        kind = "một tệp Office dạng cũ (không phải bảng tính .xlsx)"
    return _bad_file(rel, f"đây là {kind} được đặt đuôi .xlsx; {_save_as_hint()}.")


def _foreign_kind(data: bytes) -> str:
    head = data[:4096]
    if b"\0" in head:
        return "một tệp không phải bảng tính"
    text = head.decode("utf-8", "replace").lstrip("\ufeff \r\n\t").lower()
    if text.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "bảng tính XML 2003"
    if "<html" in text or "<table" in text or text.startswith("<!doctype"):
        return "trang web (HTML)"
    return "tệp văn bản/CSV"


def _zip_problem(data: bytes, rel: str) -> Issue | None:
    try:
        z = package(data)  # unpacked once for sniffing, screening and reading
        infos = z.infos
        names = {i.filename for i in infos}
        problem = _size_problem(infos, rel) or _package_kind_problem(names, data, rel)
        return problem or _xml_problem(z, infos, rel)
    except Exception:  # BadZipFile, bad CRC, zlib.error, encrypted member, odd compression…
        return _bad_file(rel, "tệp bị hỏng hoặc chưa tải về đủ (không giải nén được); "
                              f"{_save_as_hint()}; nếu Excel cũng không mở được, đề nghị đơn vị gửi lại.")


def _size_problem(infos: list, rel: str) -> Issue | None:
    """Too many parts, too much once unpacked: refused before any parser sees them. (The
    sizes are those the zip declares; Python's zipfile never unpacks more than declared.)"""
    if len(infos) > MAX_MEMBERS:
        return _bad_file(rel, f"tệp có {len(infos)} thành phần bên trong (một biểu mẫu chỉ có vài "
                              f"chục, giới hạn {MAX_MEMBERS}) nên không được đọc; {_save_as_hint()}.")
    too_big = sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES
    inflated = any(i.compress_size and i.file_size / i.compress_size > MAX_RATIO
                   and i.file_size > 10 * 1024 * 1024 for i in infos)
    if too_big or inflated:
        return _bad_file(rel, "tệp có cấu trúc bất thường (khi giải nén quá lớn so với kích thước "
                              f"tệp) nên không được đọc; {_save_as_hint()}.")
    xml = sum(i.file_size for i in infos if i.filename.lower().endswith(_XML_SUFFIXES))
    if xml > MAX_XML_BYTES:
        return _bad_file(rel, f"nội dung bảng tính khi giải nén quá lớn ({_mb(xml)} MB, giới hạn "
                              f"{_mb(MAX_XML_BYTES)} MB; một biểu mẫu đã điền chưa tới 1 MB), thường do "
                              f"định dạng hoặc dữ liệu thừa kéo tới tận dòng, cột cuối của trang; hãy "
                              f"xóa các dòng, cột thừa bên dưới và bên phải vùng biểu mẫu, lưu lại rồi "
                              f"gửi lại.")
    return None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}" if size >= 10 * 1024 * 1024 else f"{size / (1024 * 1024):.1f}"


_DTD_MARKS = tuple(mark.encode(enc) for mark in ("<!DOCTYPE", "<!ENTITY")
                   for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def _has_dtd_mark(body: bytes) -> bool:
    """Whether any of _DTD_MARKS is in the part: the UTF-8 two looked for first (a long
    needle is found fast, "<!" alone stops at each of a sheet's thousands of '<'), the
    UTF-16 ones only in a part holding a NUL byte at all (every UTF-16 mark has one)."""
    if _DTD_MARKS[0] in body or _DTD_MARKS[3] in body:  # <!DOCTYPE, <!ENTITY in UTF-8
        return True
    return b"\x00" in body and any(mark in body for mark in _DTD_MARKS)


def _xml_problem(z: Package, infos: list, rel: str) -> Issue | None:
    """Excel, LibreOffice and WPS never write a DTD in a workbook; one there is an entity
    expansion ("billion laughs") or an external entity (XXE) waiting for a parser that
    honours it. Such a file is refused before any parser sees it."""
    for info in infos:
        if not info.filename.lower().endswith(_XML_SUFFIXES):
            continue
        body = z.read(info)
        if _has_dtd_mark(body):
            return _bad_file(rel, f"phần «{info.filename}» bên trong tệp có khai báo DTD/thực thể "
                                  f"XML (<!DOCTYPE …>), điều Excel không bao giờ ghi: tệp đã bị sửa "
                                  f"bằng công cụ khác hoặc có thể là tệp độc hại, nên không được đọc; "
                                  f"đề nghị đơn vị mở biểu mẫu bằng Excel, Lưu thành .xlsx rồi gửi lại.")
    return None


def _package_kind_problem(names: set, data: bytes, rel: str) -> Issue | None:
    if "xl/workbook.xml" in names and "[Content_Types].xml" in names:
        return None
    if "mimetype" in names and b"opendocument.spreadsheet" in data[:200]:
        kind = "bảng tính LibreOffice/OpenOffice (.ods)"
    elif "xl/workbook.bin" in names:
        kind = "sổ làm việc nhị phân Excel (.xlsb)"
    elif "word/document.xml" in names:
        kind = "văn bản Word (.docx)"
    elif any(n.startswith("xl/") for n in names):
        lost = [n for n in ("[Content_Types].xml", "xl/workbook.xml") if n not in names]
        return _bad_file(rel, f"tệp Excel bị hỏng (thiếu phần «{'», «'.join(lost)}» bên trong); "
                              f"{_save_as_hint()}; nếu Excel cũng không mở được, đề nghị đơn vị gửi lại.")
    else:
        kind = "một tệp nén không phải bảng tính Excel"
    return _bad_file(rel, f"đây là {kind} được đặt đuôi .xlsx; {_save_as_hint()}.")


# ---------------------------------------------------------------- opening


@dataclass
class _Book:
    """The workbook as openpyxl sees it (structure, formulas) plus cached values by sheet."""

    wb: Any
    # sheet name -> rows of calamine values (from A1), or {(row, col): value} of the formula
    # cells of a sheet too large to read as one grid
    cached: dict[str, list[list] | dict[tuple[int, int], Any]]
    lost_tables: list[str] = field(default_factory=list)  # table parts left out: broken
    # False when the file states no saved time: openpyxl then makes one up (the time of
    # reading), which would make such a file the newest of a unit's returns
    saved_time_known: bool = True

    def cached_value(self, sheet: str, row: int, col: int):
        grid = self.cached.get(sheet)
        if isinstance(grid, dict):
            value = grid.get((row, col))
        elif grid is None or row > len(grid) or col > len(grid[row - 1]):
            return None
        else:
            value = grid[row - 1][col - 1]
        return None if value == "" else value


def load_quietly(source, **options):
    """openpyxl's load_workbook without its warnings on the console: our own templates'
    formula print area makes it say "Print area cannot be set…" on every load."""
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(source, **options)


def _open(data: bytes) -> _Book:
    with lenient_cells():  # a cell openpyxl cannot read costs that cell only
        wb = load_quietly(io.BytesIO(data), data_only=False, keep_vba=False, keep_links=False,
                          rich_text=False)
        return _Book(wb=wb, cached=_cached_values(data, wb), saved_time_known=states_saved_time(data))


_MODIFIED = re.compile(rb"<(?:[\w.-]+:)?modified\b")


def states_saved_time(data: bytes) -> bool:
    """Whether the package's core properties part holds a modified time at all."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "docProps/core.xml" in z.namelist() and bool(_MODIFIED.search(z.read("docProps/core.xml")))
    except Exception:  # noqa: BLE001 - the openers report a damaged package
        return False


def _cached_values(data: bytes, wb, safe: bool | None = None) -> dict:
    """Values Excel cached for each sheet that holds formulas (calamine; openpyxl fallback).

    calamine holds a sheet as one dense grid from A1 to its last cell, and aborts the whole
    process when that cannot be allocated (one value typed in XFD1048576 asks for 17 billion
    cells): a sheet whose area exceeds MAX_GRID_CELLS is read sparsely through openpyxl."""
    wanted = [ws for ws in wb.worksheets if _has_formula(ws)]
    small = [ws.title for ws in wanted if _grid_cells(ws) <= MAX_GRID_CELLS]
    if not (calamine_safe(data, MAX_GRID_CELLS) if safe is None else safe):  # a cell off the grid
        small = []
    cached: dict = {}
    try:
        from python_calamine import CalamineWorkbook

        cw = CalamineWorkbook.from_filelike(io.BytesIO(data))
        cached = {name: cw.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in small}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # calamine refuses some odd files openpyxl reads (a Rust panic
        cached = {}        # is a BaseException): ask openpyxl then
    rest = [ws for ws in wanted if ws.title not in cached]
    if rest:
        values = load_quietly(io.BytesIO(data), data_only=True, keep_links=False)
        for ws in rest:
            kept = values[ws.title]._cells
            cached[ws.title] = {at: kept[at].value for at, cell in ws._cells.items()
                                if cell.data_type == "f" and at in kept}
    return cached


def _grid_cells(ws) -> int:
    """The area calamine allocates for a sheet: A1 to the last cell holding a value or a
    type (an empty ``t="str"`` cell counts for calamine; a merely formatted one does not)."""
    rows = cols = 0
    for (r, c), cell in ws._cells.items():
        if cell.value is not None or cell.data_type != "n":
            rows, cols = max(rows, r), max(cols, c)
    return rows * cols


def _has_formula(ws) -> bool:
    return any(c.data_type == "f" for c in ws._cells.values())


def _peek(ws, row: int, col: int):
    """The cell if it exists, without creating it (openpyxl's ws.cell() would)."""
    return ws._cells.get((row, col))


def _formula_text(cell) -> str | None:
    if cell is None or cell.data_type != "f":
        return None
    value = cell.value
    text = value if isinstance(value, str) else getattr(value, "text", None)
    return str(text) if text is not None else None


def _cell_read(book: _Book, ws, row: int, col: int) -> CellRead:
    cell = _peek(ws, row, col)
    formula = _formula_text(cell)
    if formula is not None:
        value = book.cached_value(ws.title, row, col)
    else:
        value = None if cell is None else cell.value
    problem = None
    if isinstance(value, Unreadable):  # what the file holds is shown, never used as a value
        value, problem = value.raw, value.why
    return CellRead(value=value, sheet=ws.title, cell=f"{get_column_letter(col)}{row}", formula=formula,
                    problem=problem)


# ---------------------------------------------------------------- metadata


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def read_meta(wb) -> dict:
    """The meta keys from the meta sheet (very hidden, or hidden after a LibreOffice save),
    completed from the custom document properties, which LibreOffice keeps too."""
    meta = {}
    if META_SHEET in wb.sheetnames:  # by the cells that exist: iter_rows would make a
        ws = wb[META_SHEET]          # million of them for one value typed in row 1048576
        for (row, col), cell in sorted(ws._cells.items()):
            key, value = cell.value, getattr(_peek(ws, row, 2), "value", None)
            if col == 1 and isinstance(key, str) and key.strip() in KEYS and not is_blank(value):
                meta[key.strip()] = _text(value)
    for prop in _custom_props(wb):
        key = prop.name[len(PROP_PREFIX):] if prop.name.startswith(PROP_PREFIX) else None
        if key in KEYS and key not in meta and not is_blank(prop.value):
            meta[key] = _text(prop.value)
    return meta


def _custom_props(wb) -> list:
    try:
        return list(wb.custom_doc_props.props)
    except AttributeError:
        return []


# ---------------------------------------------------------------- defined names


def _name_index(wb) -> dict:
    """Folded name -> DefinedName; workbook scope first, then sheet scope (Excel names are
    case-insensitive, and a re-save may scope a name to its sheet)."""
    index = {}
    for ws in wb.worksheets:
        for name, dn in getattr(ws, "defined_names", {}).items():
            index[name.casefold()] = dn
    for name, dn in wb.defined_names.items():
        index[name.casefold()] = dn
    return index


def _destination(wb, dn) -> tuple[Any, int, int] | None:
    """(worksheet, row, col) of the top-left cell a name points at, or None (#REF!, ranges
    on other workbooks, constants)."""
    place = _place(dn)
    if place is None or place[0] not in wb.sheetnames:
        return None
    return wb[place[0]], place[1], place[2]


_PLACES = Memo(kept=20_000)  # (the name's class, its text) -> _parsed_place: the same names in every return


def _place(dn) -> tuple[str, int, int] | None:
    """(sheet name, row, col) the name's text points at, worked out once per text: what a
    name points at is its text only (openpyxl's type and destinations parse nothing else;
    a name pointing nowhere, rare, is parsed each time)."""
    return _PLACES.get((dn.__class__, dn.attr_text), _parsed_place, dn)


def _parsed_place(dn) -> tuple[str, int, int] | None:
    try:
        if dn.type != "RANGE":
            return None
        sheet, coord = next(iter(dn.destinations))
    except Exception:  # #REF!, another workbook ([1]Sheet!A1: openpyxl's TokenizerError), garbage
        return None
    m = _COORD_RE.match(coord or "")
    if not m:
        return None
    return sheet, int(m.group(2)), column_index_from_string(m.group(1))


def broken_names(book: _Book, form: Form, rel: str) -> list[Issue]:
    """An error for each field whose defined name is in the file but points at no cell of
    it (#REF!, a missing sheet, another workbook): its value cannot be read."""
    index, issues = _name_index(book.wb), []
    for fid, f in form.fields.items():
        dn = index.get(fid.casefold())
        if dn is None:
            continue
        if _destination(book.wb, dn) is not None:
            if ":" in _target(dn).rsplit("!", 1)[-1]:  # the template names one cell, never a range
                target = _target(dn)
                issues.append(issue("damaged_part", file=rel, field=fid, value=target, message=(
                    f"Tệp «{rel}»: tên «{fid}» của ô «{f.label}» đang trỏ tới cả một vùng («{target}») "
                    f"thay vì một ô (tên đã bị sửa); chỉ ô đầu của vùng được đọc. Hãy chép số liệu "
                    f"sang biểu mẫu gốc của đơn vị rồi gửi lại.")))
            continue
        target = _target(dn)
        issues.append(issue("damaged_part", file=rel, field=fid, value=target or None, message=(
            f"Tệp «{rel}»: tên «{fid}» của ô «{f.label}» không còn trỏ tới một ô của tệp (đang là "
            f"«{target}», thường do xóa dòng, cột hoặc trang, hay chép ô từ tệp khác), nên giá trị "
            f"của ô này không đọc được và không được tổng hợp. Hãy chép số liệu sang biểu mẫu gốc "
            f"của đơn vị rồi gửi lại.")))
    return issues


_TARGETS = Memo(kept=20_000)  # a name's text -> _target: the same texts in every return


def _target(dn) -> str:
    """The name's text as a message shows it (white space runs as one space, 80 characters)."""
    text = getattr(dn, "attr_text", "")
    return _TARGETS.get(text, _shown_target, text) if isinstance(text, str) else _shown_target(text)


def _shown_target(text) -> str:
    return " ".join(str(text or "").split())[:80]


def read_fields(book: _Book, form: Form) -> tuple[dict[str, CellRead], set]:
    """Field id -> cell for every name of the form found; plus the (sheet, row, col) taken."""
    index, fields, taken = _name_index(book.wb), {}, set()
    for fid in form.fields:
        dn = index.get(fid.casefold())
        where = _destination(book.wb, dn) if dn is not None else None
        if where is None:
            continue
        ws, row, col = where
        fields[fid] = _cell_read(book, ws, row, col)
        taken.add((ws.title, row, col))
    return fields, taken


# ---------------------------------------------------------------- tables


@dataclass
class _TableArea:
    ws: Any
    columns: dict[str, int]  # column id -> sheet column
    header_row: int
    first: int  # first data row
    last: int  # last data row
    bottom: int  # last row of the table object (totals row included)


def _find_tables(wb) -> dict[str, tuple]:
    """Table name (folded) -> (worksheet, openpyxl table)."""
    return {t.name.casefold(): (ws, t) for ws in wb.worksheets for t in ws.tables.values()}


class BrokenTable(ValueError):
    """A table object whose area cannot be read (its ``ref`` lost or not a range)."""


def _table_bounds(ref) -> tuple[int, int, int, int]:
    """(min_col, min_row, max_col, max_row) of a table's ref, corners in any order."""
    try:
        c1, r1, c2, r2 = range_boundaries(str(ref))
    except (ValueError, TypeError):
        raise BrokenTable(ref) from None
    if None in (c1, r1, c2, r2):
        raise BrokenTable(ref)
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def _table_area(ws, table_obj, spec: Table) -> _TableArea:
    """Where the table's rows are. The template's tables have one header row and no totals
    row: the table object's own counts are not followed (a file saying headerRowCount=2
    would hide its first row), they are reported by :func:`_table_oddities`."""
    if not table_obj.ref:
        raise BrokenTable(table_obj.ref)
    min_col, min_row, max_col, max_row = _table_bounds(table_obj.ref)
    headers = [c.name for c in table_obj.tableColumns]
    by_header = {fold_key(str(h)): min_col + i for i, h in enumerate(headers) if h is not None}
    columns = {c.id: by_header.get(fold_key(c.header)) for c in spec.columns}
    if None in columns.values() or len(set(columns.values())) < len(columns):
        # headers edited: fall back to the order of the columns
        columns = {c.id: min_col + i for i, c in enumerate(spec.columns) if min_col + i <= max_col}
    if not columns:
        raise BrokenTable(table_obj.ref)
    return _TableArea(ws=ws, columns=columns, header_row=min_row, first=min_row + 1,
                      last=max_row, bottom=max_row)


def _table_oddities(table_obj) -> list[str]:
    """What the table object says that the template's tables never do (in Vietnamese)."""
    odd = []
    if table_obj.headerRowCount not in (None, 1, "1"):
        odd.append(f"số dòng tiêu đề là {table_obj.headerRowCount} (biểu mẫu có 1 dòng)")
    if table_obj.totalsRowCount not in (None, 0, "0"):
        odd.append(f"có {table_obj.totalsRowCount} dòng tổng (biểu mẫu không có)")
    return odd


def _row_reads(book: _Book, area: _TableArea, row: int) -> dict[str, CellRead]:
    return {cid: _cell_read(book, area.ws, row, col) for cid, col in area.columns.items()}


def _is_filled(reads: dict[str, CellRead], spec: Table) -> bool:
    return any(not is_blank(reads[c.id].value) for c in spec.input_columns if c.id in reads)


def _cell_value(book: _Book, ws, row: int, col: int):
    """The value _cell_read gives, without making the CellRead."""
    cell = _peek(ws, row, col)
    if cell is None:
        return None
    value = book.cached_value(ws.title, row, col) if _formula_text(cell) is not None else cell.value
    return value.raw if isinstance(value, Unreadable) else value


def _row_filled(book: _Book, area: _TableArea, row: int, spec: Table) -> bool:
    """_is_filled of the row's reads, looking at its input cells only (a table's two
    hundred rows are mostly empty: their reads are made only when one is filled)."""
    return any(not is_blank(_cell_value(book, area.ws, row, area.columns[c.id]))
               for c in spec.input_columns if c.id in area.columns)


def _below_rows(book: _Book, area: _TableArea, spec: Table, is_template, rel: str,
                label: str) -> Iterator[tuple[dict, Issue]]:
    """Rows typed directly below the table in its input columns, until the first gap.
    ``is_template(sheet, row, col)``: the cell holds what the template has at its place."""
    row = area.bottom + 1
    while row <= area.ws.max_row:
        reads = _row_reads(book, area, row)
        typed = [reads[c.id] for c in spec.input_columns if c.id in reads
                 and not is_blank(reads[c.id].value)
                 and not is_template(area.ws.title, row, area.columns[c.id])]
        if not typed:
            return
        first = typed[0]
        yield reads, issue("data_outside_table", file=rel, sheet=first.sheet, cell=first.cell,
                           value=shown_value(first.value), message=(
            f"Trang «{first.sheet}», dòng {row}: dữ liệu được nhập ngay dưới {label}, ngoài vùng "
            f"bảng; dòng này vẫn được đọc như một dòng của bảng. Lần sau hãy nhập trong "
            f"bảng; nếu hết dòng trống, đề nghị cơ quan tổng hợp cấp biểu mẫu có thêm dòng "
            f"(không chèn dòng, không gỡ bảo vệ trang)."))
        row += 1


def table_label(form: Form, spec: Table) -> str:
    sheet = form.sheet(spec.sheet)
    section = form.section(spec.section)
    # What the unit sees above the table; the Excel table name only as a last resort.
    title = section.title or sheet.heading or sheet.title or spec.name
    return f"bảng «{title}»"


def table_areas(book: _Book, form: Form) -> dict:
    """Table name -> its area in the return, for the form's tables the file holds intact
    (a broken one is left out here; read_tables reports it)."""
    found, areas = _find_tables(book.wb), {}
    for spec in form.tables.values():
        hit = found.get(spec.name.casefold())
        if hit is None:
            continue
        try:
            areas[spec.name] = _table_area(*hit, spec)
        except BrokenTable:
            continue
    return areas


def read_tables(book: _Book, form: Form, is_template, rel: str, areas: dict | None = None):
    """Table name -> filled rows; the cells covered (the rows read, in the table's columns:
    what is elsewhere in the table, its headers, the TT cells of empty rows, is compared with
    the template like any cell); issues (a broken or odd table costs that table only)."""
    areas = table_areas(book, form) if areas is None else areas
    found = _find_tables(book.wb)
    tables, covered, issues = {}, set(), []
    lost = {name.casefold() for name in book.lost_tables}
    for spec in form.tables.values():
        label, area = table_label(form, spec), areas.get(spec.name)
        hit = found.get(spec.name.casefold())
        if area is None or hit is None:
            if hit is not None or spec.name.casefold() in lost:
                sheet = hit[0].title if hit is not None else form.sheet(spec.sheet).name
                issues.append(_broken_table_issue(sheet, spec, label, rel))
            continue
        odd = _table_oddities(hit[1])
        if odd:
            issues.append(_odd_table_issue(area, spec, label, odd, rel))
        rows, filled = [], set()
        for row in _typed_rows(area, spec):
            if _row_filled(book, area, row, spec):
                rows.append(_row_reads(book, area, row))
                filled.add(row)
        covered |= _area_cells(area, filled)
        below = list(_below_rows(book, area, spec, is_template, rel, label))
        for reads, problem in below:
            rows.append(reads)
            issues.append(problem)
        covered |= _area_cells(area, range(area.bottom + 1, area.bottom + 1 + len(below)))
        tables[spec.name] = rows
    return tables, covered, issues


def _broken_table_issue(sheet: str, spec: Table, label: str, rel: str) -> Issue:
    return issue("damaged_part", file=rel, sheet=sheet, field=spec.name, message=(
        f"Trang «{sheet}»: {label} (bảng Excel «{spec.name}») bị hỏng trong tệp (mất vùng của "
        f"bảng) nên các dòng của bảng không đọc được và không được tổng hợp; phần còn lại của "
        f"báo cáo vẫn được đọc. Hãy chép các dòng sang biểu mẫu gốc của đơn vị (không chèn, "
        f"xóa dòng của bảng) rồi gửi lại."))


def _odd_table_issue(area: _TableArea, spec: Table, label: str, odd: list[str], rel: str) -> Issue:
    return issue("damaged_part", severity="warning", file=rel, sheet=area.ws.title, field=spec.name,
                 message=(
        f"Trang «{area.ws.title}»: {label} (bảng Excel «{spec.name}») đã bị sửa cấu trúc: "
        f"{'; '.join(odd)}. Các dòng được đọc theo cấu trúc của biểu mẫu (dòng {area.header_row} "
        f"là tiêu đề, dữ liệu từ dòng {area.first}); hãy kiểm tra lại số liệu, lần sau không sửa "
        f"thuộc tính của bảng."))


def _typed_rows(area: _TableArea, spec: Table) -> list[int]:
    """The data rows of the table, in order, with an input cell holding a value or a formula
    at all: only such a row can be filled (a look at its input cells before the reads of
    _row_filled; a table's two hundred rows are mostly empty). One pass over the cells the
    sheet holds in those rows: a table's ref may claim a million rows."""
    cols = {area.columns[c.id] for c in spec.input_columns if c.id in area.columns}
    cells, out = area.ws._cells, set()
    for at in _keys_in_rows(area.ws, area.first, area.last):
        if at[1] in cols and at[0] not in out:
            cell = cells[at]
            if cell.value is not None or cell.data_type == "f":
                out.add(at[0])
    return sorted(out)


def _keys_in_rows(ws, first: int, last: int):
    """The (row, col) of the sheet's cells with first <= row <= last: by bisection over the
    fast reader's sorted cells (a sheet holds thousands of formatted cells, a table's rows
    a few hundred), else by a look at every cell."""
    sorted_keys = getattr(ws, "sorted_keys", None)
    if sorted_keys is None:
        return [(r, c) for r, c in ws._cells if first <= r <= last]
    keys = sorted_keys()
    return keys[bisect_left(keys, (first, 0)):bisect_left(keys, (last + 1, 0))]


def _column_span(area: _TableArea) -> tuple[int, int]:
    table_cols = set(area.columns.values())
    return min(table_cols), max(table_cols)


def _area_cells(area: _TableArea, rows) -> set:
    """The existing cells of the table's columns in ``rows`` (only existing cells can be
    typed in, and the sheet's cells, not the table's claimed size, bound the work)."""
    lo, hi = _column_span(area)
    if not rows:
        return set()
    title = area.ws.title
    if getattr(area.ws, "sorted_keys", None) is not None and len(rows) < 64:
        # a few rows of a table of hundreds (the filled ones): each row's cells by bisection
        return {(title, r, c) for row in set(rows) for r, c in _keys_in_rows(area.ws, row, row) if lo <= c <= hi}
    return {(title, r, c) for r, c in _keys_in_rows(area.ws, min(rows), max(rows))
            if r in rows and lo <= c <= hi}


# ---------------------------------------------------------------- what was typed elsewhere


def read_outside(comparison, taken: set, rel: str
                 ) -> tuple[list[CellRead], list[Issue], list[tuple[CellRead, str | None]]]:
    """Every cell holding something that is no field, no table row and not what the pristine
    template holds at its place (typed.Comparison); past MAX_OUTSIDE_CELLS of them, one issue
    counting the rest by sheet (a sheet pasted full of data would otherwise bury the report
    under a hundred thousand lines). Also the template formulas no longer there."""
    found, tampered, hidden = comparison.differences(taken)
    outside, issues, more = [], [], {}
    for read in found:
        if len(outside) < MAX_OUTSIDE_CELLS:
            outside.append(read)
            issues.append(_outside_issue(read, rel, (read.sheet, read.cell) in hidden))
        else:
            more[read.sheet] = more.get(read.sheet, 0) + 1
    if more:
        issues.append(_more_outside_issue(more, rel))
    return outside, issues, tampered


def _more_outside_issue(more: dict, rel: str) -> Issue:
    sheets = ", ".join(f"trang «{name}»: {count} ô" for name, count in more.items())
    return issue("data_outside_table", file=rel, sheet=next(iter(more)), message=(
        f"Tệp «{rel}»: ngoài {MAX_OUTSIDE_CELLS} ô đã liệt kê, còn {sum(more.values())} ô khác có dữ "
        f"liệu nằm ngoài các ô nhập của biểu mẫu ({sheets}); các ô này không được tổng hợp và không "
        f"được liệt kê từng ô. Hãy xóa dữ liệu thừa (hoặc chuyển số liệu cần báo cáo vào đúng ô) "
        f"rồi gửi lại."))


def _outside_issue(read: CellRead, rel: str, under_merge: bool = False) -> Issue:
    shown = shown_value(read.value if read.value is not None else read.formula)
    hidden = (" (ô này bị che dưới một vùng ô đã gộp: bỏ gộp ô để thấy và xóa)"
              if under_merge else "")
    return issue("data_outside_table", file=rel, sheet=read.sheet, cell=read.cell, value=shown,
                 message=(f"Trang «{read.sheet}», ô {read.cell}: có dữ liệu «{shown}» nằm ngoài các "
                          f"ô nhập của biểu mẫu{hidden} nên không được tổng hợp. Nếu đây là số liệu "
                          f"cần báo cáo, hãy chuyển vào đúng ô; nếu không, hãy xóa đi."))


# ---------------------------------------------------------------- the pristine template


def pristine(form: Form, loai_hinh: str):
    """What the pristine template of this unit type holds (qcdc_xl.intake.pristine; cached once per
    form and unit type); None when it cannot be made."""
    from qcdc_xl.intake.pristine import pristine as described

    return described(form, loai_hinh)


# ---------------------------------------------------------------- formulas


def normalise_formula(text: str | None) -> str:
    """Formula text compared loosely: no '=', spaces, '$', _xlfn./_xlws. prefixes, case;
    [#This Row], written by Excel on disk, read as the '@' shorthand."""
    if not text:
        return ""
    s = str(text)
    s = re.sub(r"\[#this row\],\s*", "@", s, flags=re.IGNORECASE)
    s = re.sub(r"_xl(?:fn|ws|udf)\.", "", s, flags=re.IGNORECASE)
    s = s.replace("$", "").lstrip("=")
    s = "".join(s.split())
    s = re.sub(r"@([^\[\]:,()]+)(?=\])", r"@[\1]", s)  # tbl[@Col] -> tbl[@[Col]]
    return unicodedata.normalize("NFC", s).casefold()


_SHEET_QUALIFIER = re.compile(r"(?:'(?:[^']|'')+'|[^\W\d][\w.]*)!")
_A1_REF = re.compile(r"(?<![\w.])([a-z]{1,3})(\d+)(?![\w(])")


_SHAPES = Memo(kept=20_000)  # (text, row, col) -> formula_shape: the template's formulas are in every return


def formula_shape(text: str | None, row: int | None = None, col: int | None = None) -> str:
    """A formula with what a row insert or a sheet rename changes taken out, for comparing
    a returned formula with the template's: sheet names dropped, and each A1 reference
    reduced to its column (``a#``), or, given the cell's own position, to its column offset
    and whether it is on the same row (``c1r=``), for formulas written row by row."""
    if type(text) is not str and text is not None:
        return _formula_shape(text, row, col)
    return _SHAPES.get((text, row, col), _formula_shape, text, row, col)


def _formula_shape(text, row: int | None, col: int | None) -> str:
    s = _SHEET_QUALIFIER.sub("", normalise_formula(text))

    def ref(m):
        if row is None:
            return f"{m.group(1)}#"
        offset = column_index_from_string(m.group(1).upper()) - col
        return f"c{offset}r{'=' if int(m.group(2)) == row else '*'}"
    return _A1_REF.sub(ref, s)


# ---------------------------------------------------------------- the whole file


def _stat_mtime(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return None


def _saved_at(wb) -> dt.datetime | None:
    modified = getattr(wb.properties, "modified", None)
    return modified if isinstance(modified, dt.datetime) else None


def read_input(path: Path, rel: str) -> tuple[bytes, Issue | None]:
    """The file's bytes, read once and only for reading; or an issue, without reading, for
    something that is no regular file (a pipe would block for ever) or is too large."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return b"", _bad_file(rel, "đây không phải một tệp thông thường (là thư mục, ống dẫn "
                                           "hoặc thiết bị) nên không được đọc; hãy chép đúng tệp "
                                           "báo cáo vào thư mục rồi chạy lại.")
            if info.st_size > MAX_FILE_BYTES:
                return b"", _too_large(rel, info.st_size)
            return fh.read(MAX_FILE_BYTES + 1), None
    except OSError as exc:
        return b"", _bad_file(rel, f"không mở được tệp ({_os_reason(exc)}); hãy kiểm tra quyền truy "
                                   f"cập, đóng chương trình đang giữ tệp hoặc sao chép lại tệp.")


def _os_reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "không có quyền đọc tệp"
    if exc.errno == errno.ENOENT:
        return "tệp đã bị xóa hoặc đổi tên trong lúc đọc"
    return f"lỗi hệ thống: {exc.strerror or exc}"


def _open_leniently(data: bytes) -> _Book:
    """The workbook; when openpyxl chokes on one optional part, the workbook without it, so
    a unit's figures are not lost to a part that holds none of them: the document
    properties (a custom property of an unexpected type, a malformed date: the identity is
    on the meta sheet too), then one table, then every table (a table whose attributes are
    broken: its rows are lost, and reported, the rest is read). The tables left out are in
    ``book.lost_tables``."""
    try:
        return _open(data)
    except Exception as exc:
        first = exc
    for drop_props, tables in _salvage_plans(data):
        stripped = _without_parts(data, drop_props, tables)
        if stripped is None:
            continue
        try:
            book = _open(stripped)
        except Exception:
            continue
        book.lost_tables = [name for part, name in tables]
        book.saved_time_known = book.saved_time_known and not drop_props
        return book
    raise first


def _salvage_plans(data: bytes) -> list[tuple[bool, list[tuple[str, str]]]]:
    """(drop the document properties?, [(table part, table name)] to drop), in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        tables = [(i.filename, _table_name(z.read(i))) for i in z.infolist()
                  if re.match(r"^xl/tables/[^/]+\.xml$", i.filename, re.IGNORECASE)]
    plans = [(True, [])] + [(False, [t]) for t in tables] + [(True, [t]) for t in tables]
    return plans + ([(True, tables)] if len(tables) > 1 else [])


def _table_name(body: bytes) -> str:
    m = re.search(rb'<(?:\w+:)?table\b[^>]*?\sname="([^"]*)"', body)
    return m.group(1).decode("utf-8", "replace") if m else ""


def _without_parts(data: bytes, drop_props: bool, tables: list[tuple[str, str]]) -> bytes | None:
    """The package without its document properties and/or some table parts (and the
    sheets' references to them), or None when there is nothing of the kind to drop."""
    lost = {part.lower() for part, _ in tables}
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        names = src.namelist()
        if not tables and not any(n.startswith("docProps/") for n in names):
            return None
        parts = {i.filename: src.read(i) for i in src.infolist()
                 if not ((drop_props and i.filename.startswith("docProps/")) or i.filename.lower() in lost)}
    if lost:
        _drop_table_refs(parts, lost)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for name, body in parts.items():
            dst.writestr(name, body)
    return out.getvalue()


_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*?/>")


def _drop_table_refs(parts: dict, lost: set) -> None:
    """Take out of each sheet the ``<tablePart>`` of a lost table, and its relationship."""
    for rels_name in [n for n in parts if re.match(r"^xl/worksheets/_rels/[^/]+\.xml\.rels$", n, re.I)]:
        ids = set()

        def keep(m: re.Match) -> bytes:
            target = re.search(rb'Target="([^"]*)"', m.group(0))
            leaf = target.group(1).decode("utf-8", "replace").split("/")[-1].lower() if target else "\0"
            if any(part.endswith("/" + leaf) for part in lost):
                rid = re.search(rb'\sId="([^"]*)"', m.group(0))
                ids.add(rid.group(1) if rid else b"")
                return b""
            return m.group(0)
        parts[rels_name] = _RELATIONSHIP.sub(keep, parts[rels_name])
        sheet = rels_name.replace("_rels/", "")[: -len(".rels")]
        if ids and sheet in parts:
            parts[sheet] = re.sub(rb'<(?:\w+:)?tablePart\b[^>]*?r:id="([^"]*)"[^>]*/>',
                                  lambda m: b"" if m.group(1) in ids else m.group(0), parts[sheet])


READERS = ("auto", "fast", "openpyxl")


def chosen_reader(reader: str | None = None) -> str:
    """``reader`` or, when None, the environment's QCDC_READER (``openpyxl`` forces the
    thorough path everywhere, e.g. to compare), else ``auto``."""
    reader = reader or os.environ.get("QCDC_READER", "").strip().lower() or "auto"
    return reader if reader in READERS else "auto"


def read_return(path: Path, rel: str, form: Form, reader: str | None = None) -> RawReturn:
    """Everything one returned file holds; never raises for a bad file.

    ``reader``: ``auto`` (the default) reads the fast way (qcdc_xl.intake.fastread) and, for a file
    that path does not take, the thorough way (openpyxl); ``openpyxl`` only the thorough
    way; ``fast`` only the fast way, raising fastread.NotFast for a file it does not take
    (for tests that compare the two)."""
    path = Path(path)
    raw = RawReturn(path=rel, meta={}, fields={}, tables={}, file_mtime=_stat_mtime(path))
    data, problem = read_input(path, rel)
    problem = problem or sniff(data, rel)
    if problem is not None:
        raw.issues.append(problem)
        return raw
    try:
        data, dropped = screen_package(data)
    except Exception:  # noqa: BLE001 - unreadable parts are the openers' to report
        dropped = []
    raw.issues.extend(_dropped_issues(dropped, sheet_names(data), rel))
    reader = chosen_reader(reader)
    if reader != "openpyxl":
        filled = _read_fast(raw, data, form, rel, strict=reader == "fast")
        if filled is not None:
            return filled
    try:
        book = _open_leniently(data)
    except Exception as exc:  # openpyxl fails in many ways on damaged files
        raw.issues.append(_bad_file(rel, f"tệp bị hỏng, không đọc được nội dung (mã kỹ thuật: {type(exc).__name__}); "
                                         f"{_save_as_hint()}."))
        return raw
    _fill(raw, book, form, rel)
    return raw


def _read_fast(raw: RawReturn, data: bytes, form: Form, rel: str, strict: bool) -> RawReturn | None:
    """The return read the fast way, or None when that path does not take it (``strict``:
    raise instead). The fast path reads what the thorough one would, so any failure in it
    (NotFast, or a fault of its own) means: read this file the thorough way."""
    from qcdc_xl.intake.fastread import NotFast, open_fast

    try:
        book = open_fast(data)
        filled = replace(raw, issues=list(raw.issues))
        _fill(filled, book, form, rel)
        return filled
    except NotFast:
        if strict:
            raise
    except Exception:  # noqa: BLE001 - never a figure from a path that went wrong
        if strict:
            raise
    return None


def _dropped_issues(dropped: list[Dropped], sheets: dict, rel: str) -> list[Issue]:
    """One warning per sheet for the merge and link ranges taken out before reading."""
    by_part: dict[str, list[Dropped]] = {}
    for d in dropped:
        by_part.setdefault(d.part, []).append(d)
    issues = []
    for part, found in by_part.items():
        sheet = sheets.get(part)
        where = f"Trang «{sheet}»" if sheet else f"Tệp «{rel}», phần «{part}»"
        kinds = sorted({"gộp ô" if d.element == "mergeCell" else "liên kết" for d in found})
        refs = ", ".join(d.ref or "(trống)" for d in found[:3]) + (", …" if len(found) > 3 else "")
        issues.append(issue("damaged_part", severity="warning", file=rel, sheet=sheet, message=(
            f"{where}: có {len(found)} vùng {' và '.join(kinds)} bất thường ({refs}: quá lớn hoặc "
            f"không hợp lệ) nên đã được bỏ qua khi đọc; số liệu không bị ảnh hưởng. Hãy bỏ gộp ô "
            f"hoặc xóa liên kết trên vùng đó (hoặc chép số liệu sang biểu mẫu gốc) rồi gửi lại.")))
    return issues


def _fill(raw: RawReturn, book: _Book, form: Form, rel: str) -> None:
    from qcdc_xl.intake.typed import Comparison, identity_of

    wb = book.wb
    raw.meta = read_meta(wb)
    raw.saved_at = _saved_at(wb) if book.saved_time_known else None
    raw.protected_sheets = {ws.title: bool(ws.protection.sheet) for ws in wb.worksheets}
    raw.fields, taken = read_fields(book, form)
    raw.issues.extend(broken_names(book, form, rel))
    ours = raw.meta.get("form_id") == form.id
    # Another version's template is not the one we can compare with, cell by cell.
    same_version = raw.meta.get("form_version") == form.version
    static = pristine(form, _unit_type(raw)) if ours and same_version else None
    areas = table_areas(book, form)
    comparison = None
    if static is not None:
        identity = identity_of(raw.fields, raw.meta, wb)
        inputs = {t.name: [c.id for c in t.input_columns] for t in form.tables.values()}
        comparison = Comparison.of(book, static, identity, raw.fields, areas, inputs)
    is_template = comparison.is_template if comparison is not None else (lambda *_: False)
    raw.tables, covered, table_issues = read_tables(book, form, is_template, rel, areas)
    if not ours:
        return  # a foreign workbook: its cells are not "outside" anything
    raw.issues.extend(table_issues)
    if comparison is not None:  # without a template to compare with, nothing is "outside"
        raw.outside, outside_issues, raw.tampered = read_outside(comparison, taken | covered, rel)
        raw.issues.extend(outside_issues)


def _unit_type(raw: RawReturn) -> str:
    """The unit type the template was made for: the meta sheet's, else the prefilled cell's."""
    kind = raw.meta.get("loai_hinh")
    read = raw.fields.get("loai_hinh")
    if not kind and read is not None and isinstance(read.value, str):
        kind = read.value.strip()
    return kind or ""
