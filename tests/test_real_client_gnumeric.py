"""Gnumeric as a third real client: a template filled by our filler, opened and saved as .xlsx
by Gnumeric (``ssconvert``, its xlsx exporter Gnumeric_Excel:xlsx2), reads back the same.

What Gnumeric 1.12 writes, and how the reader copes (docs/decisions.md):
- no Excel table objects (Gnumeric has none): the reader puts the template's tables back where
  their header rows are (``convert.tables_restored``), so every table row is still read;
- the very-hidden metadata sheet becomes a visible one, and custom document properties are
  dropped: the identity is read from the metadata sheet;
- defined names, sheet protection and the values survive.

Skipped, with the reason, where ssconvert is missing; with QCDC_REQUIRE_GNUMERIC=1 (CI) a
missing Gnumeric is a failure instead.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import lo_helpers as h
from fill import fill_with_openpyxl
from qcdc_xl.report.aggregate import check_file
from qcdc_xl.template.generate import generate_workbook
from qcdc_xl.intake.units import Unit

UNITS = {"HCSN": Unit("SNV", "Chi bộ Sở Ngoại vụ", "HCSN", "Khối cơ quan"),
         "DN": Unit("DN002", "Đảng bộ Viễn thông Hà Tĩnh", "DN", "Khối doanh nghiệp",
                    attributes=(("loai_dn", "DN 100% vốn Nhà nước"),))}


def require_gnumeric() -> str:
    found = shutil.which("ssconvert")
    if found:
        return found
    if os.environ.get("QCDC_REQUIRE_GNUMERIC") == "1":
        pytest.fail("QCDC_REQUIRE_GNUMERIC=1 but ssconvert (Debian package gnumeric) is not installed")
    pytest.skip("Gnumeric không dùng được: không tìm thấy ssconvert (gói Debian gnumeric)")


def through_gnumeric(ssconvert: str, source: Path, out: Path) -> Path:
    done = subprocess.run([ssconvert, "--export-type=Gnumeric_Excel:xlsx2", str(source), str(out)],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert done.returncode == 0 and out.is_file(), done.stderr.decode("utf-8", "replace")[-2000:]
    return out


@pytest.mark.parametrize("kind", list(UNITS))
def test_a_return_saved_by_gnumeric_reads_the_same(form, tmp_path, kind):
    ssconvert = require_gnumeric()
    unit = UNITS[kind]
    template = generate_workbook(form, unit, tmp_path / "mau.xlsx")
    rows = {t.name: h.table_rows(form, t.name, 3) for t in form.tables_for(kind)}
    filled = fill_with_openpyxl(template, tmp_path / f"{unit.ma_don_vi}.xlsx",
                                values=h.complete_values(form, unit), rows=rows)
    saved = through_gnumeric(ssconvert, filled, tmp_path / f"{unit.ma_don_vi}_gnumeric.xlsx")

    ours, our_issues = check_file(form, list(UNITS.values()), filled)
    theirs, their_issues = check_file(form, list(UNITS.values()), saved)
    assert our_issues == [] and their_issues == [], [i.message for i in their_issues]
    assert theirs.status == "ok" and theirs.unit.ma_don_vi == unit.ma_don_vi
    assert theirs.values == ours.values
    assert theirs.tables == ours.tables
    assert {t: len(r) for t, r in theirs.tables.items()} == {t: 3 for t in rows}
    with zipfile.ZipFile(saved) as z:  # what the reader had to cope with, if Gnumeric changes
        kept_tables = any(n.startswith("xl/tables/") for n in z.namelist())
    print(f"Gnumeric kept the table objects: {kept_tables}")
