"""One way to ask openxml-audit (Excel's own repair check, as a library) about a file we wrote."""
from __future__ import annotations

from pathlib import Path


def ooxml_findings(path: Path) -> list[str]:
    """Every error and warning openxml-audit reports for ``path`` (empty when the file is clean)."""
    from openxml_audit import OpenXmlValidator
    result = OpenXmlValidator().validate(Path(path))
    return [str(e) for e in (*result.errors, *getattr(result, "warnings", ()))]
