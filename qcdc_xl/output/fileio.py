"""Writing output files safely: never half a file, never a traceback for a locked target."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

LOCKED_MESSAGE = "Tệp «{name}» đang mở trong Excel hoặc bị khóa; hãy đóng tệp rồi chạy lại."


class LockedFileError(OSError):
    """The target is open in Excel (or otherwise locked) and cannot be replaced."""

    def __init__(self, path: Path):
        self.path = Path(path)
        super().__init__(LOCKED_MESSAGE.format(name=self.path.name))

    def __str__(self) -> str:
        return LOCKED_MESSAGE.format(name=self.path.name)


def atomic_write(path: Path, write_to: Callable[[Path], None]) -> Path:
    """Let ``write_to`` fill a temporary file beside ``path``, then rename it over ``path``.

    A reader (or Excel) never sees a half-written file, and a failure leaves the old file
    as it was. On Windows the rename fails with PermissionError while Excel holds the
    target open: that becomes :class:`LockedFileError` with a plain Vietnamese message.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".~{path.stem}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write_to(tmp)
        tmp.chmod(_file_mode(path))  # mkstemp makes it private; outputs are normal files
        try:
            os.replace(tmp, path)
        except PermissionError as exc:
            raise LockedFileError(path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _file_mode(path: Path) -> int:
    """The replaced file's mode, else what the user's umask gives a new file."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str, bom: bool = False) -> Path:
    """UTF-8 text (with a BOM when Windows Notepad must show diacritics), written atomically."""
    return atomic_write_bytes(path, (("\ufeff" if bom else "") + text).encode("utf-8"))
