"""Writing output files safely: never half a file, never a traceback for a locked target."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``.

    A reader (or Excel) never sees a half-written file, and a failure leaves the old file
    as it was. On Windows the rename fails with PermissionError while Excel holds the
    target open; callers turn that into a plain message.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~qcdc-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, bom: bool = False) -> None:
    """UTF-8 text (with a BOM when Windows Notepad must show diacritics), written atomically."""
    atomic_write_bytes(path, (("\ufeff" if bom else "") + text).encode("utf-8"))
