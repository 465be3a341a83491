"""The ``summary:`` and ``report:`` blocks of a form spec: what the summary workbook and the
report sentences hold. Checked at load time with the same file-and-line errors as the rest."""
from __future__ import annotations


def validate(form) -> None:
    """Raise :class:`qcdc_xl.spec.SpecError` for any mistake in the two blocks (none yet)."""
    return None
