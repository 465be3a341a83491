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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import range_boundaries

from .coerce import fold_key
from .formulas import is_blank
from .issues import Issue, issue, shown_value
from .metadata import KEYS, META_SHEET, PROP_PREFIX
from .records import CellRead, RawReturn
from .spec import Form, Table

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
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
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


def _xml_problem(z: zipfile.ZipFile, infos: list, rel: str) -> Issue | None:
    """Excel, LibreOffice and WPS never write a DTD in a workbook; one there is an entity
    expansion ("billion laughs") or an external entity (XXE) waiting for a parser that
    honours it. Such a file is refused before any parser sees it."""
    for info in infos:
        if not info.filename.lower().endswith(_XML_SUFFIXES):
            continue
        body = z.read(info)
        if any(mark in body for mark in _DTD_MARKS):
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
    wb = load_quietly(io.BytesIO(data), data_only=False, keep_vba=False, keep_links=False,
                      rich_text=False)
    return _Book(wb=wb, cached=_cached_values(data, wb))


def _cached_values(data: bytes, wb) -> dict:
    """Values Excel cached for each sheet that holds formulas (calamine; openpyxl fallback).

    calamine holds a sheet as one dense grid from A1 to its last cell, and aborts the whole
    process when that cannot be allocated (one value typed in XFD1048576 asks for 17 billion
    cells): a sheet whose area exceeds MAX_GRID_CELLS is read sparsely through openpyxl."""
    wanted = [ws for ws in wb.worksheets if _has_formula(ws)]
    small = [ws.title for ws in wanted if _grid_cells(ws) <= MAX_GRID_CELLS]
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
    return CellRead(value=value, sheet=ws.title, cell=f"{get_column_letter(col)}{row}", formula=formula)


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
    try:
        if dn.type != "RANGE":
            return None
        sheet, coord = next(iter(dn.destinations))
    except (StopIteration, ValueError, TypeError, AttributeError):
        return None
    m = _COORD_RE.match(coord or "")
    if not m or sheet not in wb.sheetnames:
        return None
    return wb[sheet], int(m.group(2)), column_index_from_string(m.group(1))


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


def _table_area(ws, table_obj, spec: Table) -> _TableArea:
    min_col, min_row, max_col, max_row = range_boundaries(table_obj.ref)
    headers = [c.name for c in table_obj.tableColumns]
    by_header = {fold_key(h): min_col + i for i, h in enumerate(headers)}
    columns = {c.id: by_header.get(fold_key(c.header)) for c in spec.columns}
    if None in columns.values():  # headers edited: fall back to the order of the columns
        columns = {c.id: min_col + i for i, c in enumerate(spec.columns) if min_col + i <= max_col}
    header_rows = 1 if table_obj.headerRowCount is None else int(table_obj.headerRowCount)
    totals = int(table_obj.totalsRowCount or 0)
    return _TableArea(ws=ws, columns=columns, header_row=min_row, first=min_row + header_rows,
                      last=max_row - totals, bottom=max_row)


def _row_reads(book: _Book, area: _TableArea, row: int) -> dict[str, CellRead]:
    return {cid: _cell_read(book, area.ws, row, col) for cid, col in area.columns.items()}


def _is_filled(reads: dict[str, CellRead], spec: Table) -> bool:
    return any(not is_blank(reads[c.id].value) for c in spec.input_columns if c.id in reads)


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
    title = section.title or sheet.heading or spec.name
    return f"bảng «{title}»"


def table_areas(book: _Book, form: Form) -> dict:
    """Table name -> its area in the return, for the form's tables the file holds."""
    found = _find_tables(book.wb)
    return {spec.name: _table_area(*found[spec.name.casefold()], spec)
            for spec in form.tables.values() if spec.name.casefold() in found}


def read_tables(book: _Book, form: Form, is_template, rel: str, areas: dict | None = None):
    """Table name -> filled rows; the cells covered (the rows read, in the table's columns:
    what is elsewhere in the table, its headers, the TT cells of empty rows, is compared with
    the template like any cell); issues."""
    areas = table_areas(book, form) if areas is None else areas
    tables, covered, issues = {}, set(), []
    for spec in form.tables.values():
        area = areas.get(spec.name)
        if area is None:
            continue
        rows, filled = [], set()
        for row in _rows_with_cells(area, area.first, area.last):
            reads = _row_reads(book, area, row)
            if _is_filled(reads, spec):
                rows.append(reads)
                filled.add(row)
        covered |= _area_cells(area, filled)
        below = list(_below_rows(book, area, spec, is_template, rel, table_label(form, spec)))
        for reads, problem in below:
            rows.append(reads)
            issues.append(problem)
        covered |= _area_cells(area, range(area.bottom + 1, area.bottom + 1 + len(below)))
        tables[spec.name] = rows
    return tables, covered, issues


def _rows_with_cells(area: _TableArea, first: int, last: int) -> list[int]:
    """The rows from ``first`` to ``last`` holding a cell in the table's columns. A table's
    ref may claim a million rows; only what the sheet holds is looked at."""
    lo, hi = _column_span(area)
    return sorted({r for r, c in area.ws._cells if first <= r <= last and lo <= c <= hi})


def _column_span(area: _TableArea) -> tuple[int, int]:
    table_cols = set(area.columns.values())
    return min(table_cols), max(table_cols)


def _area_cells(area: _TableArea, rows) -> set:
    """The existing cells of the table's columns in ``rows`` (only existing cells can be
    typed in, and the sheet's cells, not the table's claimed size, bound the work)."""
    lo, hi = _column_span(area)
    return {(area.ws.title, r, c) for r, c in area.ws._cells if r in rows and lo <= c <= hi}


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
    """What the pristine template of this unit type holds (qcdc_xl.pristine; cached once per
    form and unit type); None when it cannot be made."""
    from .pristine import pristine as described

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


def formula_shape(text: str | None, row: int | None = None, col: int | None = None) -> str:
    """A formula with what a row insert or a sheet rename changes taken out, for comparing
    a returned formula with the template's: sheet names dropped, and each A1 reference
    reduced to its column (``a#``), or, given the cell's own position, to its column offset
    and whether it is on the same row (``c1r=``), for formulas written row by row."""
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
    """The workbook; when openpyxl chokes on the document properties only (a custom property
    of a type it does not expect, a malformed date), the workbook without them: the identity
    is on the meta sheet too, and a unit's figures must not be lost to a property."""
    try:
        return _open(data)
    except Exception:
        stripped = _without_doc_props(data)
        if stripped is None:
            raise
    return _open(stripped)


def _without_doc_props(data: bytes) -> bytes | None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        if not any(n.startswith("docProps/") for n in src.namelist()):
            return None
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            for info in src.infolist():
                if not info.filename.startswith("docProps/"):
                    dst.writestr(info.filename, src.read(info))
    return out.getvalue()


def read_return(path: Path, rel: str, form: Form) -> RawReturn:
    """Everything one returned file holds; never raises for a bad file."""
    path = Path(path)
    raw = RawReturn(path=rel, meta={}, fields={}, tables={}, file_mtime=_stat_mtime(path))
    data, problem = read_input(path, rel)
    problem = problem or sniff(data, rel)
    if problem is not None:
        raw.issues.append(problem)
        return raw
    try:
        book = _open_leniently(data)
    except Exception as exc:  # openpyxl fails in many ways on damaged files
        raw.issues.append(_bad_file(rel, f"tệp bị hỏng, không đọc được nội dung (mã kỹ thuật: {type(exc).__name__}); "
                                         f"{_save_as_hint()}."))
        return raw
    _fill(raw, book, form, rel, data)
    return raw


def _fill(raw: RawReturn, book: _Book, form: Form, rel: str, data: bytes = b"") -> None:
    from .typed import Comparison, identity_of

    wb = book.wb
    raw.meta = read_meta(wb)
    raw.saved_at = _saved_at(wb)
    raw.protected_sheets = {ws.title: bool(ws.protection.sheet) for ws in wb.worksheets}
    raw.fields, taken = read_fields(book, form)
    ours = raw.meta.get("form_id") == form.id
    # Another version's template is not the one we can compare with, cell by cell.
    same_version = raw.meta.get("form_version") == form.version
    static = pristine(form, _unit_type(raw)) if ours and same_version else None
    areas = table_areas(book, form)
    comparison = None
    if static is not None:
        identity = identity_of(raw.fields, raw.meta, wb)
        inputs = {t.name: [c.id for c in t.input_columns] for t in form.tables.values()}
        comparison = Comparison.of(book, data, static, identity, raw.fields, areas, inputs)
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
