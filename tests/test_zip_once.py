"""A return's zip directory is parsed once per reading: restoring tables, sniffing,
screening, the fast reader and the macro check share one Package of the same bytes."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import fuzz
from qcdc_xl.form.spec import load_form
from qcdc_xl.intake import convert, screen
from qcdc_xl.intake.discover import find_returns
from qcdc_xl.intake.units import load_units
from qcdc_xl.report.aggregate import read_and_check

SAMPLES = fuzz.SAMPLES
UNITS = {u.ma_don_vi: u for u in load_units(SAMPLES.parent / "don_vi.csv")}


def _directories_parsed(monkeypatch) -> list:
    parsed = []
    real = zipfile.ZipFile._RealGetContents

    def counting(self):
        parsed.append(self)
        return real(self)
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", counting)
    return parsed


def test_a_return_is_unzipped_once(tmp_path, monkeypatch):
    form = load_form()
    sample = sorted(SAMPLES.glob("*.xlsx"))[0]
    shutil.copy(sample, tmp_path / sample.name)
    found = find_returns(tmp_path)[0]
    read_and_check(form, UNITS, found)  # (the first reading parses the template's skeleton too)
    screen._LAST_PACKAGE[:] = [None, None]
    parsed = _directories_parsed(monkeypatch)
    result = read_and_check(form, UNITS, found)
    assert not isinstance(result, list) and result.unit.ma_don_vi  # really read
    assert len(parsed) == 1


def test_equal_bytes_share_a_package_and_other_bytes_do_not():
    data = sorted(SAMPLES.glob("*.xlsx"))[0].read_bytes()
    first = screen.package(data)
    assert screen.package(bytes(bytearray(data))) is first  # equal, another object
    other = sorted(SAMPLES.glob("*.xlsx"))[1].read_bytes()
    assert screen.package(other) is not first
    assert screen.package(other).namelist() == zipfile.ZipFile(SAMPLES / sorted(
        p.name for p in SAMPLES.glob("*.xlsx"))[1]).namelist()


def test_the_macro_check_still_sees_vba(tmp_path):
    sample = sorted(SAMPLES.glob("*.xlsx"))[0]
    target = tmp_path / "co_macro.xlsx"
    with zipfile.ZipFile(sample) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/vbaProject.bin", b"\0" * 64)
    found = find_returns(tmp_path)[0]
    screen.package(target.read_bytes())  # the reader's Package of these bytes, as in a run
    assert convert.macro_warning(found).code == "macros_present"
    assert convert.macro_warning(find_returns(Path(sample).parent)[0]) is None
