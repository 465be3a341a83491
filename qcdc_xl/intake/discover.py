"""Find the returned workbooks under a folder, and say which other files will be reported.

The contract: read every .xlsx/.xlsm recursively; skip, without complaint, Office and
LibreOffice lock files, hidden files and folders, and files that are not spreadsheets;
list the other spreadsheets too: an old .xls, an .ods, a WPS .et are read through LibreOffice
when it is installed (:mod:`qcdc_xl.intake.convert`), any other is reported so the unit can re-save
it.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from qcdc_xl.report.issues import Issue, issue

READABLE = (".xlsx", ".xlsm")
# Spreadsheets in formats openpyxl does not read: converted when they are in
# convert.CONVERTIBLE and LibreOffice is installed, else reported with a "save as .xlsx" hint.
OTHER_SPREADSHEETS = (".xls", ".xlsb", ".ods", ".ots", ".fods", ".et", ".ett", ".numbers",
                      ".xltx", ".xltm", ".xlt")


@dataclass(frozen=True)
class Found:
    path: Path
    rel: str  # relative to the returns folder, '/'-separated (stable across OSes)
    readable: bool
    problem: Issue | None = None  # why a file is not read, when it is not its format
    converted_from: str | None = None  # an old format's suffix: ``path`` is its .xlsx copy
    source: Path | None = None  # then the original file


def _is_hidden(path: Path) -> bool:
    if path.name.startswith("."):
        return True
    try:
        attrs = getattr(os.stat(path, follow_symlinks=False), "st_file_attributes", 0)
    except OSError:  # gone since the folder was listed
        return False
    return bool(attrs & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _is_lock_file(name: str) -> bool:
    # Excel writes "~$name.xlsx"; LibreOffice ".~lock.name.xlsx#" (also hidden by the dot).
    return name.startswith("~$") or name.startswith(".~lock.")


def find_returns(root: Path) -> list[Found]:
    """Every candidate file under ``root``, sorted by relative path for stable output.

    Never follows a link (no loops, nothing outside the folder); a sub-folder that cannot be
    listed, a spreadsheet name that is no valid text, or a "file" that is a pipe or device
    is reported rather than read or silently lost."""
    found = []

    def cannot_list(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        rel = _rel(where, root) or "."
        found.append(Found(path=where, rel=rel, readable=False, problem=issue(
            "unreadable_file", file=rel, message=(
                f"Thư mục «{rel}»: không mở được để tìm tệp báo cáo (không có quyền đọc hoặc "
                f"thư mục hỏng), các tệp bên trong chưa được tổng hợp. Hãy cấp quyền đọc hoặc "
                f"chép các tệp ra một thư mục khác rồi chạy lại."))))

    for dirpath, dirnames, filenames in os.walk(root, onerror=cannot_list, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(here / d))
        for name in sorted(filenames):
            path = here / name
            if _is_lock_file(name) or _is_hidden(path) or path.is_symlink():
                continue
            suffix = path.suffix.lower()
            if suffix in READABLE or suffix in OTHER_SPREADSHEETS:
                found.append(_found(path, root, suffix))
    return sorted(found, key=lambda f: f.rel)


def _rel(path: Path, root: Path) -> str:
    """The relative path as text that can be printed and written (a name that is no valid
    UTF-8 on a POSIX disk keeps its valid parts, the rest shown as «�»)."""
    rel = path.relative_to(root).as_posix() if path != root else ""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _found(path: Path, root: Path, suffix: str) -> Found:
    rel = _rel(path, root)
    problem = None
    if "\ufffd" in rel and "\ufffd" not in path.relative_to(root).as_posix():
        problem = ("tên tệp có ký tự không đọc được (bảng mã lạ khi giải nén hoặc sao chép) nên "
                   "tệp không được đọc; hãy đổi tên tệp, chỉ dùng chữ, số và dấu cách, rồi chạy lại.")
    elif not _is_regular(path):
        problem = ("đây không phải một tệp thông thường (là ống dẫn, thiết bị hoặc tệp đặc biệt) "
                   "nên không được đọc; hãy chép đúng tệp báo cáo vào thư mục rồi chạy lại.")
    if problem:
        return Found(path=path, rel=rel, readable=False, problem=issue(
            "unreadable_file", file=rel, message=f"Tệp «{rel}»: {problem}"))
    return Found(path=path, rel=rel, readable=suffix in READABLE)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path, follow_symlinks=False).st_mode)
    except OSError:
        return True  # gone or unreadable: the reader says so with the file's own words
