"""Find the returned workbooks under a folder, and say which other files will be reported.

The contract: read every .xlsx/.xlsm recursively; skip, without complaint, Office and
LibreOffice lock files, hidden files and folders, and files that are not spreadsheets;
report a spreadsheet we cannot read (an old .xls, an .ods, a WPS .et) so the unit can
re-save it.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

READABLE = (".xlsx", ".xlsm")
# Spreadsheets in formats we do not read: reported with a "save as .xlsx" hint.
OTHER_SPREADSHEETS = (".xls", ".xlsb", ".ods", ".fods", ".et", ".ett", ".numbers", ".xltx",
                      ".xltm", ".xlt")


@dataclass(frozen=True)
class Found:
    path: Path
    rel: str  # relative to the returns folder, '/'-separated (stable across OSes)
    readable: bool


def _is_hidden(path: Path) -> bool:
    if path.name.startswith("."):
        return True
    attrs = getattr(os.stat(path, follow_symlinks=False), "st_file_attributes", 0)
    return bool(attrs & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _is_lock_file(name: str) -> bool:
    # Excel writes "~$name.xlsx"; LibreOffice ".~lock.name.xlsx#" (also hidden by the dot).
    return name.startswith("~$") or name.startswith(".~lock.")


def find_returns(root: Path) -> list[Found]:
    """Every candidate file under ``root``, sorted by relative path for stable output."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(here / d))
        for name in sorted(filenames):
            path = here / name
            if _is_lock_file(name) or _is_hidden(path) or path.is_symlink():
                continue
            suffix = path.suffix.lower()
            if suffix in READABLE or suffix in OTHER_SPREADSHEETS:
                rel = path.relative_to(root).as_posix()
                found.append(Found(path=path, rel=rel, readable=suffix in READABLE))
    return sorted(found, key=lambda f: f.rel)
