"""Texts that LibreOffice would read as an escaped control character.

OOXML writes a control character in a string as ``_xHHHH_`` and a literal ``_xHHHH_`` as
``_x005F_xHHHH_``. xlsxwriter escapes only the four-digit form, but LibreOffice Calc also
decodes shorter ones: a file name such as ``X01_ubnd_xa_tan_lap.xlsx`` (every «xã», «hợp tác
xã») is shown there as ``X01_ubnd`` + a line break + ``tan_lap.xlsx``. Excel and openpyxl decode
only four digits, so escaping the leading underscore of the shorter forms too reads the same
everywhere. Installed once, on import of the package, for every workbook xlsxwriter writes
(templates, stamped copies, the summary)."""
from __future__ import annotations

import re

import xlsxwriter.xmlwriter as _xmlwriter

# _x + one to four hex digits + _ (xlsxwriter's own pattern has exactly four)
LENIENT_ESCAPE = re.compile("(_x[0-9a-fA-F]{1,4}_)")


def install() -> None:
    """Make xlsxwriter escape the short forms as well (idempotent)."""
    _xmlwriter.re_control_chars_1 = LENIENT_ESCAPE
