"""Old spreadsheet formats (.xls, .ods, WPS .et) read through LibreOffice, when it is installed.

Every old-format return of a run is converted in ONE headless soffice session (starting it
costs seconds) with a throw-away profile and a time limit (:mod:`qcdc_xl.intake.libreoffice`). Each
original is first copied into a temporary folder and only the copy is opened, so nothing,
not even a LibreOffice lock file, is ever written next to a return. The converted .xlsx is
then read as if it were the original: the issues keep the original's relative path, and a
``converted_file`` warning says what happened.

What a conversion cannot carry is put back into the converted copy, never guessed at read
time: the file's own last-saved time (LibreOffice stamps a stored copy with the present
time, which would make an old .xls win over a later .xlsx of the same unit), and the
template's Excel tables, which the .xls format has no place for (they come back as plain
cells; docs/decisions.md).

Also here: the ``macros_present`` warning for an .xlsm or a workbook with a VBA part (its
values are read; openpyxl never runs a macro and the converter opens files with macros off).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree

from qcdc_xl.validate.coerce import fold_key
from qcdc_xl.intake.discover import Found
from qcdc_xl.report.issues import Issue, issue
from qcdc_xl.form.spec import Form

# Suffixes LibreOffice reads that units actually send (Excel 97–2003, its template,
# OpenDocument, flat OpenDocument, WPS Spreadsheets and its template).
CONVERTIBLE = (".xls", ".xlt", ".ods", ".ots", ".fods", ".et", ".ett")
KINDS = {".xls": "Excel 97–2003 (.xls)", ".xlt": "mẫu Excel 97–2003 (.xlt)",
         ".ods": "LibreOffice/OpenOffice (.ods)", ".ots": "mẫu LibreOffice (.ots)",
         ".fods": "LibreOffice dạng XML (.fods)", ".et": "WPS Spreadsheets (.et)",
         ".ett": "mẫu WPS Spreadsheets (.ett)"}
_SECONDS_START = 90  # a first soffice start with a fresh profile (libreoffice.py)
_SECONDS_PER_FILE = 30  # for the batch; a filled template converts in about 0.3 s
_SECONDS_ONE_FILE = 120  # one file may take at most this long, then the rest go on without it
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_WORKBOOK_STREAMS = tuple(n.encode("utf-16-le") for n in ("Workbook", "Book"))  # as read.py
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TABLE_REL = _NS_REL + "/table"
_TABLE_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"


# ---------------------------------------------------------------- what needs converting


def _read_regular(path: Path, size: int) -> bytes:
    """Up to ``size`` bytes of a regular file; b"" for anything else (a pipe named .xls must
    not block the run: the reader reports it) or when it cannot be opened."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        with os.fdopen(os.open(path, flags), "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return b""
            return fh.read(size)
    except OSError:
        return b""


def _head(path: Path, size: int = 4096) -> bytes:
    return _read_regular(path, size)


def _ole_kind(path: Path) -> str:
    """'encrypted' (a password-protected Office file, which stays ``encrypted_file``),
    'workbook' (an Excel 97–2003 workbook stream inside) or 'other' (a .doc, a .ppt…)."""
    data = _read_regular(path, 100 * 1024 * 1024 + 1)
    if _ENCRYPTED in data:
        return "encrypted"
    return "workbook" if any(n in data for n in _WORKBOOK_STREAMS) else "other"


def content_kind(path: Path) -> str | None:
    """By content, whatever the name says: '.xls' for an Excel 97–2003 workbook, '.ods' for
    an OpenDocument spreadsheet, '.xlsx' for an OOXML package, 'encrypted' for a
    password-protected Office file, 'encrypted_odf' for an OpenDocument one, else None."""
    head = _head(path)
    if head.startswith(_OLE_MAGIC):
        return {"encrypted": "encrypted", "workbook": ".xls"}.get(_ole_kind(path))
    if head.startswith(_ZIP_MAGIC):
        if head[30:38] == b"mimetype" and b"opendocument.spreadsheet" in head[:200]:
            return "encrypted_odf" if _odf_encrypted(path) else ".ods"
        return ".xlsx"
    return None


def _odf_encrypted(path: Path) -> bool:
    """An OpenDocument file saved with a password: its manifest lists encryption data."""
    try:
        with zipfile.ZipFile(io.BytesIO(_read_regular(path, 100 * 1024 * 1024 + 1))) as z:
            info = z.getinfo("META-INF/manifest.xml")
            return info.file_size < 1024 * 1024 and b"encryption-data" in z.read(info)
    except (KeyError, OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return False


def prepare(found: Found) -> tuple[Found, str | None]:
    """How to read ``found``: (the file, the old format's suffix when it must go through
    LibreOffice first, else None).

    A CONVERTIBLE name is converted, unless its bytes are an .xlsx (then it is read as one)
    or a password-protected Office file (then the reader reports ``encrypted_file``); an
    .xlsx/.xlsm whose bytes are an .xls or an .ods is converted too."""
    if found.problem is not None:
        return found, None
    suffix = found.path.suffix.lower()
    kind = content_kind(found.path) if suffix in CONVERTIBLE or found.readable else None
    if kind == "encrypted_odf":  # the reader knows only Office's encryption
        return replace(found, readable=False, problem=encrypted_odf(found)), None
    if suffix in CONVERTIBLE:
        if kind in (".xlsx", "encrypted"):
            return replace(found, readable=True), None
        return found, suffix
    return found, (kind if found.readable and kind in (".xls", ".ods") else None)


def describe(found: Found, kind: str) -> str:
    """'tệp Excel 97–2003 (.xls)', adding 'được đặt đuôi .xlsx' when the name hides it."""
    text = f"tệp {KINDS.get(kind, kind)}"
    suffix = Path(found.rel).suffix.lower()  # the original's name (path may be a copy)
    return text if suffix == kind else f"{text} được đặt đuôi {suffix}"


# ---------------------------------------------------------------- issues


def converted_warning(found: Found, ma_don_vi: str | None = None) -> Issue:
    what = describe(found, found.converted_from or Path(found.rel).suffix.lower())
    return issue("converted_file", file=found.rel, ma_don_vi=ma_don_vi, message=(
        f"Tệp «{found.rel}»: là {what} nên đã được LibreOffice chuyển sang .xlsx để đọc (tệp "
        f"gốc không bị sửa). Hãy đối chiếu các số liệu đã tổng hợp của đơn vị "
        f"với tệp gốc; lần sau hãy mở biểu mẫu bằng Excel và Lưu thành .xlsx (Sổ làm việc Excel) "
        f"rồi gửi lại."))


def encrypted_odf(found: Found) -> Issue:
    return issue("encrypted_file", file=found.rel, message=(
        f"Tệp «{found.rel}»: tệp LibreOffice/OpenOffice được đặt mật khẩu khi mở nên phần mềm tổng "
        f"hợp không đọc được; hãy mở tệp, chọn Tệp → Lưu thành, bỏ chọn «Lưu với mật khẩu», lưu "
        f"thành .xlsx (Sổ làm việc Excel) rồi gửi lại."))


def not_converted(found: Found, kind: str, reason: str) -> Issue:
    return issue("unreadable_file", file=found.rel, message=(
        f"Tệp «{found.rel}»: là {describe(found, kind)}, LibreOffice không chuyển được sang .xlsx "
        f"({reason}) nên chưa được tổng hợp. Hãy mở tệp bằng Excel (hoặc LibreOffice, WPS), chọn "
        f"Lưu thành → «Excel Workbook (*.xlsx)» rồi gửi lại; nếu không mở được, đề nghị đơn vị "
        f"gửi lại tệp."))


def no_libreoffice(found: Found, kind: str) -> Issue:
    return issue("unreadable_file", file=found.rel, message=(
        f"Tệp «{found.rel}»: là {describe(found, kind)}, phần mềm tổng hợp chỉ đọc trực tiếp tệp "
        f".xlsx. Hãy mở tệp bằng Excel (hoặc LibreOffice, WPS), chọn Lưu thành → «Excel Workbook "
        f"(*.xlsx)» rồi gửi lại; hoặc cài LibreOffice trên máy tổng hợp để phần mềm tự chuyển "
        f"đổi tệp này."))


def _reason(error: str | None, out_of_time: bool = False) -> str:
    text = " ".join(str(error or "").split())
    if "time limit" in text or (out_of_time and "stopped" in text):
        return "việc chuyển đổi quá thời gian cho phép, tệp có thể quá lớn hoặc hỏng"
    text = text if len(text) <= 150 else text[:149] + "…"
    return f"tệp hỏng hoặc không phải bảng tính; mã kỹ thuật: {text or 'không rõ'}"


def macro_warning(found: Found, ma_don_vi: str | None = None) -> Issue | None:
    """``macros_present`` for an .xlsm, a package holding VBA or Excel 4 macro sheets, or an
    old-format original holding VBA or LibreOffice Basic (the conversion drops them)."""
    if found.converted_from:
        has_code, xlsm = _old_format_macros(found.source or found.path), False
    else:
        try:
            names = [n.lower() for n in _member_names(found.path)]
        except (OSError, zipfile.BadZipFile, ValueError):
            return None  # the reader has already said why the file cannot be used
        has_code = any(n.endswith("vbaproject.bin") or n.startswith("xl/macrosheets/") for n in names)
        xlsm = found.path.suffix.lower() == ".xlsm"
    if not has_code and not xlsm:
        return None
    what = ("có macro" if has_code else
            "ở dạng .xlsm (sổ làm việc có bật macro) dù không thấy macro nào bên trong")
    return issue("macros_present", file=found.rel, ma_don_vi=ma_don_vi, message=(
        f"Tệp «{found.rel}»: {what}; số liệu vẫn được đọc, macro không được chạy. Lần sau hãy "
        f"dùng đúng biểu mẫu đã gửi (không thêm macro) và Lưu thành .xlsx (Sổ làm việc Excel)."))


def _member_names(path: Path) -> list[str]:
    """zipfile.ZipFile(path).namelist(), taken from the reader's Package of the same bytes
    when the file is one the reader reads whole: its directory is then parsed once per
    return instead of once more here (≈ 0.4 ms a return)."""
    from qcdc_xl.intake.read import MAX_FILE_BYTES
    from qcdc_xl.intake.screen import package

    data = _read_regular(path, MAX_FILE_BYTES + 1)
    if not data or len(data) > MAX_FILE_BYTES:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    return package(data).namelist()


_OLE_VBA = "_VBA_PROJECT_CUR".encode("utf-16-le")  # Excel 97–2003 keeps its VBA storage so


def _old_format_macros(path: Path) -> bool:
    """Whether an .xls holds a VBA project, or an OpenDocument file Basic or scripts."""
    data = _read_regular(path, 100 * 1024 * 1024 + 1)
    if data.startswith(_OLE_MAGIC):
        return _OLE_VBA in data
    if data.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return any(n.startswith(("Basic/", "Scripts/")) for n in z.namelist())
        except (zipfile.BadZipFile, ValueError, RuntimeError):
            return False
    return False


# ---------------------------------------------------------------- converting a batch


def convert_all(form: Form, todo: list[tuple[Found, str]], workdir: Path
                ) -> tuple[list[Found], dict[str, Issue]]:
    """Convert each (file, kind) into ``workdir`` in one LibreOffice session.

    Returns the converted copies as Founds (same ``rel``, ``converted_from`` set) and, by
    rel, the issue of each file that could not be converted."""
    from qcdc_xl.intake import libreoffice

    if not todo:
        return [], {}
    ok, _why = libreoffice.available()
    if not ok:
        return [], {f.rel: no_libreoffice(f, kind) for f, kind in todo}
    failed: dict[str, Issue] = {}
    jobs, staged = [], []
    for n, (found, kind) in enumerate(todo):
        too_large = _too_large(found)
        if too_large is not None:
            failed[found.rel] = too_large
            continue
        source = workdir / "in" / f"{n}{kind}"  # the right suffix helps LibreOffice's detection
        source.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(found.path, source)
        except OSError as exc:
            failed[found.rel] = not_converted(found, kind, f"không sao chép được tệp: "
                                                           f"{exc.strerror or exc}")
            continue
        target = workdir / "out" / f"{n}.xlsx"
        jobs.append({"open": str(source), "recalc": False, "read_modified": True,
                     "save_xlsx": str(target)})
        staged.append((found, kind, source, target))
    if not jobs:
        return [], failed
    timeout = _SECONDS_START + _SECONDS_PER_FILE * len(jobs)
    started = time.monotonic()
    try:
        results = libreoffice.run_jobs(jobs, timeout=timeout, job_timeout=_SECONDS_ONE_FILE)
    except libreoffice.LibreOfficeUnavailable:
        return [], {**failed, **{f.rel: no_libreoffice(f, kind) for f, kind, _s, _t in staged}}
    out_of_time = time.monotonic() - started >= timeout - 1  # soffice was stopped, not the file
    converted = []
    for (found, kind, source, target), result in zip(staged, results):
        if not result.get("ok") or not target.is_file():
            error = str(result.get("error") or "")
            for shown in {str(source), str(source.resolve())}:  # our copy's name: the unit's
                error = error.replace(shown, found.rel)
            failed[found.rel] = not_converted(found, kind, _reason(error, out_of_time))
            continue
        try:
            _complete(form, target, (result.get("values") or {}).get("modified"))
            _keep_file_time(found.path, target)
        except Exception as exc:  # what LibreOffice wrote is no package we can patch
            failed[found.rel] = not_converted(found, kind, _reason(f"{type(exc).__name__}: {exc}"))
            continue
        converted.append(replace(found, path=target, readable=True, converted_from=kind,
                                 source=found.path))
    return converted, failed


def _too_large(found: Found) -> Issue | None:
    """The reader's limit on disk holds for old formats too (checked before LibreOffice)."""
    from qcdc_xl.intake.read import MAX_FILE_BYTES, _too_large as too_large_issue

    try:
        size = found.path.stat().st_size
    except OSError:
        return None  # the copy fails next and says why
    return too_large_issue(found.rel, size) if size > MAX_FILE_BYTES else None


def _keep_file_time(original: Path, copy: Path) -> None:
    """The copy carries the original's file time (the tie-break between two returns)."""
    info = original.stat()
    os.utime(copy, (info.st_atime, info.st_mtime))


@contextmanager
def temporary_folder():
    """A private temporary folder, removed afterwards even when Windows still holds a file
    that soffice had open for a moment."""
    from qcdc_xl.intake.libreoffice import _remove_tree

    path = tempfile.mkdtemp(prefix="qcdc_convert_")
    try:
        yield path
    finally:
        _remove_tree(Path(path))


# ---------------------------------------------------------------- repairing the copy


def _complete(form: Form, path: Path, modified: str | None) -> None:
    """Put back into LibreOffice's .xlsx what the conversion lost (see the module doc)."""
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {info.filename: z.read(info) for info in z.infolist()}
    changed = _restore_modified(parts, modified)
    trial = dict(parts)
    try:
        if _safe_to_open(data) and _restore_tables(form, trial, data):
            parts, changed = trial, True
    except Exception:  # e.g. the generator failed: read the copy as LibreOffice wrote it
        pass
    if changed:
        path.write_bytes(_zip(parts))


def _zip(parts: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return out.getvalue()


def _safe_to_open(data: bytes) -> bool:
    """Whether the reader's own screening (size, zip bombs, DTDs) lets the file through: only
    then may openpyxl look at it here; otherwise the reader reports it."""
    from qcdc_xl.intake.read import sniff

    return sniff(data, "") is None


@contextmanager
def tables_restored(form: Form, found: Found):
    """``found``, or a temporary copy of it with the template's tables put back when the
    workbook is of this form but holds no table at all: a program that drops Excel tables
    saved it (Gnumeric does), or a person turned them into plain ranges. The rows are then
    read where the tables' headers are (docs/decisions.md)."""
    repaired = None
    if not found.converted_from and found.problem is None:
        from qcdc_xl.intake.read import MAX_FILE_BYTES
        repaired = _with_tables(form, _read_regular(found.path, MAX_FILE_BYTES + 1))
    if repaired is None:
        yield found
        return
    with temporary_folder() as tmp:
        copy = Path(tmp) / ("tables" + found.path.suffix.lower())
        copy.write_bytes(repaired)
        _keep_file_time(found.path, copy)
        yield replace(found, path=copy)


def _with_tables(form: Form, data: bytes) -> bytes | None:
    """The package with the tables put back, or None when there is nothing to put back."""
    if not data.startswith(_ZIP_MAGIC):
        return None
    from qcdc_xl.intake.screen import package

    try:
        z = package(data)  # (the reader's, of these same bytes: its directory parsed once)
        names = z.namelist()
        if (any(n.startswith("xl/tables/") for n in names) or "xl/workbook.xml" not in names
                or not _safe_to_open(data)):
            return None
        parts = {info.filename: z.read(info) for info in z.infos}
        return _zip(parts) if _restore_tables(form, parts, data) else None
    except Exception:  # a damaged package: the reader says what is wrong with it
        return None


_MODIFIED_RE = re.compile(rb"<dcterms:modified\b[^>]*>[^<]*</dcterms:modified>")


def _restore_modified(parts: dict, modified: str | None) -> bool:
    core = parts.get("docProps/core.xml")
    if core is None:
        return False
    stamp = _utc_stamp(modified)
    element = (b'<dcterms:modified xsi:type="dcterms:W3CDTF">' + stamp.encode() +
               b"</dcterms:modified>") if stamp else b""
    parts["docProps/core.xml"] = _MODIFIED_RE.sub(lambda _m: element, core, count=1)
    return True


def _utc_stamp(modified: str | None) -> str | None:
    """'2022-06-15T08:30:00Z' from the worker's ISO text (local time unless it ends in Z)."""
    if not modified:
        return None
    try:
        moment = dt.datetime.fromisoformat(modified.rstrip("Z"))
    except ValueError:
        return None
    if not modified.endswith("Z"):
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


# -- the template's tables, for a converted .xls (the format has no table objects)

_GEOMETRY: dict[tuple, dict] = {}


def _template_tables(form: Form, loai_hinh: str) -> dict:
    """Table name -> (sheet title, header row, first column, headers, data rows) in the
    template of this unit type, from its content model (cached; no template is made)."""
    key = (str(form.path), form.id, form.version, loai_hinh)
    if key not in _GEOMETRY:
        from qcdc_xl.intake.units import Unit
        from qcdc_xl.template.content import template_content
        from qcdc_xl.template.layout import plan_layout

        content = template_content(form, Unit("QCDC_MAU", "Đơn vị mẫu", loai_hinh), plan_layout(form, loai_hinh),
                                   "m.xlsx", dt.datetime(2000, 1, 1))
        _GEOMETRY[key] = {t.name: (sc.name, t.header_row + 1, t.first_col + 1, list(t.headers),
                                   t.last_row - t.header_row)
                          for sc in content.sheets.values() for t in sc.tables}
    return _GEOMETRY[key]


def _restore_tables(form: Form, parts: dict, data: bytes) -> bool:
    """Give a converted workbook that has no tables at all the template's tables back, where
    their header rows are found (same headers, side by side; the template's sheet first)."""
    if any(name.startswith("xl/tables/") for name in parts):
        return False
    from qcdc_xl.intake.read import load_quietly, read_meta

    wb = load_quietly(io.BytesIO(data))
    meta = read_meta(wb)
    loai_hinh = meta.get("loai_hinh")
    if meta.get("form_id") != form.id or loai_hinh not in form.unit_types:
        return False  # not our template: nothing to restore, the reader says what it is
    sheets = _sheet_parts(parts)
    by_sheet: dict[str, list] = {}
    for number, (name, geometry) in enumerate(_template_tables(form, loai_hinh).items(), start=1):
        hit = _find_header(wb, geometry)
        if hit is not None and hit[0] in sheets:
            by_sheet.setdefault(sheets[hit[0]], []).append((number, name, *hit[1:]))
    for sheet_part, tables in by_sheet.items():
        _add_tables(parts, sheet_part, tables)
    return bool(by_sheet)


def _find_header(wb, geometry) -> tuple | None:
    """(sheet, header row, first column, header texts, last row) of the table in ``wb``."""
    title, _row, _col, headers, rows = geometry
    wanted = [fold_key(h) for h in headers]
    order = sorted(wb.worksheets, key=lambda ws: ws.title != title)
    for ws in order:
        for (r, c), cell in sorted(ws._cells.items()):
            if not isinstance(cell.value, str) or fold_key(cell.value) != wanted[0]:
                continue
            found = [ws._cells.get((r, c + i)) for i in range(len(wanted))]
            if all(x is not None and isinstance(x.value, str) and fold_key(x.value) == w
                   for x, w in zip(found, wanted)):
                return ws.title, r, c, [str(x.value) for x in found], _last_row(ws, r, c, rows)
    return None


def _last_row(ws, header: int, col: int, rows: int) -> int:
    """The template's number of rows below the header, and further while the first column
    still holds a formula (rows a person inserted and gave the row's formula)."""
    bottom = header + rows
    while (cell := ws._cells.get((bottom + 1, col))) is not None and cell.data_type == "f":
        bottom += 1
    return bottom


def _sheet_parts(parts: dict) -> dict:
    """Sheet title -> its part name, from xl/workbook.xml and its relationships."""
    book = ElementTree.fromstring(parts["xl/workbook.xml"])
    rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{_NS_PKG_REL}}}Relationship")}
    out = {}
    for sheet in book.iter(f"{{{_NS_MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{_NS_REL}}}id"))
        if target:
            out[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _add_tables(parts: dict, sheet_part: str, tables: list[tuple]) -> None:
    """Write table parts for one sheet: (number, name, header row, first column, header
    texts, last row) each, with their relationships, the sheet's <tableParts> and content
    types."""
    rels_part = "/_rels/".join(sheet_part.rsplit("/", 1)) + ".rels"
    rels = parts.get(rels_part, f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships '
                                f'xmlns="{_NS_PKG_REL}"></Relationships>'.encode())
    types = parts["[Content_Types].xml"]
    refs = []
    for number, name, row, col, headers, bottom in tables:
        table_part = f"xl/tables/table{number}.xml"
        parts[table_part] = _table_xml(number, name, row, col, headers, bottom)
        rel_id = f"rIdQcdcTable{number}"
        refs.append(f'<tablePart r:id="{rel_id}"/>')
        rels = rels.replace(b"</Relationships>", (
            f'<Relationship Id="{rel_id}" Type="{_TABLE_REL}" '
            f'Target="../tables/table{number}.xml"/></Relationships>').encode(), 1)
        types = types.replace(b"</Types>", (
            f'<Override PartName="/{table_part}" ContentType="{_TABLE_TYPE}"/></Types>').encode(), 1)
    parts[rels_part], parts["[Content_Types].xml"] = rels, types
    sheet = parts[sheet_part]
    element = (f'<tableParts count="{len(refs)}" xmlns:r="{_NS_REL}">{"".join(refs)}'
               f"</tableParts>").encode()
    at = sheet.rfind(b"<extLst")  # <tableParts> comes last but for <extLst>
    at = at if at != -1 else sheet.rfind(b"</worksheet>")
    parts[sheet_part] = sheet[:at] + element + sheet[at:]


def _table_xml(number: int, name: str, row: int, col: int, headers: list[str], bottom: int) -> bytes:
    from openpyxl.utils import get_column_letter

    ref = f"{get_column_letter(col)}{row}:{get_column_letter(col + len(headers) - 1)}{bottom}"
    columns = "".join(f'<tableColumn id="{i}" name="{_escape(h)}"/>'
                      for i, h in enumerate(headers, start=1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<table xmlns="{_NS_MAIN}" id="{number}" name="{name}" displayName="{name}" '
            f'ref="{ref}" headerRowCount="1" totalsRowShown="0">'
            f'<tableColumns count="{len(headers)}">{columns}</tableColumns></table>').encode("utf-8")
