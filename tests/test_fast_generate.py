"""Fast generation (stamping units into a template built once) writes exactly the bytes that
building each workbook afresh writes; whatever it cannot stamp exactly is built afresh."""
import io
import unicodedata
import zipfile

import pytest

from conftest import GENERATED_AT
from qcdc_xl.template import stamp
from qcdc_xl.template.generate import generate_all, generate_workbook, template_filename
from qcdc_xl.intake.units import Unit
from qcdc_xl.template.zipcopy import ZipCopier

DN100 = "DN 100% vốn Nhà nước"
LONG = "Đảng bộ Tổng công ty Đầu tư phát triển hạ tầng và khu công nghiệp " * 3

# Units a stamp can serve: every kind of unit and every text that needs care.
STAMPABLE = [
    Unit("SNV", "Sở Ngoại vụ tỉnh Hà Tĩnh", "HCSN", "Khối cơ quan"),
    Unit("A&B", "Hội Cựu chiến binh & Đoàn thanh niên", "HCSN", "Khối cơ quan"),
    Unit("LT1", 'Chi bộ <Trường> "Hoa Sen" & cơ sở', "HCSN"),
    Unit("EVN_HT", "Công ty Điện lực Hà Tĩnh", "DN", "Khối doanh nghiệp", attributes=(("loai_dn", DN100),)),
    Unit("CP-02", "Công ty cổ phần Vận tải & Dịch vụ", "DN", "Khối doanh nghiệp",
         attributes=(("loai_dn", "DN cổ phần, DN tư nhân"),)),
    Unit("DN9", "Công ty TNHH Minh Phát", "DN"),  # no khối, no loại DN
    Unit("TCT01", LONG.strip(), "HCSN", "Khối doanh nghiệp"),  # wraps: taller rows
    Unit("TCT02", LONG.strip() + " Hà Tĩnh", "DN", "Khối " + "rất dài " * 12 + "cuối", attributes=(("loai_dn", DN100),)),
]
# Units only building afresh gets right: texts that are another string of the workbook (one
# shared entry instead of two), or that Unicode normalisation changes.
AFRESH = [
    Unit("HCSN1", "HCSN", "HCSN"),  # the name is the unit type's text
    Unit("K1", "Sở Tài chính", "HCSN", "Có"),  # the khối is an option of the lists
    Unit("NFD1", unicodedata.normalize("NFD", "Đảng bộ Sở Nội vụ"), "HCSN", "Khối cơ quan"),
    Unit("SAME", "SAME", "DN", "", attributes=(("loai_dn", DN100),)),  # name and code one string
]


def _afresh(form, units, out):
    out.mkdir(parents=True, exist_ok=True)
    return [generate_workbook(form, u, out / template_filename(u), GENERATED_AT) for u in units]


def test_stamped_files_are_byte_identical_to_building_each_afresh(form, tmp_path):
    units = STAMPABLE + AFRESH
    paths = [tmp_path / "fast" / template_filename(u) for u in units]
    paths[0].parent.mkdir()
    stamper = stamp.Stamper(form, GENERATED_AT)
    for unit, path in zip(units, paths):
        stamper.write(unit, path)
    assert (stamper.stamped, stamper.built) == (len(STAMPABLE), len(AFRESH))
    sized = [k for k, t in stamper.templates.items() if isinstance(k[1], tuple) and t is not None]
    assert len(sized) >= 2  # the long names were stamped into templates of their row heights
    assert all(t is None or t.copier is not None for t in stamper.templates.values())
    reference = _afresh(form, units, tmp_path / "slow")
    for unit, fast, slow in zip(units, paths, reference):
        assert fast.read_bytes() == slow.read_bytes(), unit


def test_the_placeholders_never_reach_a_unit_file(form, tmp_path):
    paths = [tmp_path / template_filename(u) for u in STAMPABLE]
    stamp.write_units(form, STAMPABLE, paths, GENERATED_AT)
    for path in paths:
        with zipfile.ZipFile(path) as zf:
            text = b"".join(zf.read(n) for n in zf.namelist())
        assert not any(t in text.lower() for t in (b"zqx7", b"q99", b"q88")), path


def test_both_cores_give_the_same_files_and_zip(form, tmp_path, monkeypatch):
    units = STAMPABLE + AFRESH
    one, one_zip = generate_all(form, units, tmp_path / "one", make_zip=True, generated_at=GENERATED_AT)
    monkeypatch.setattr(stamp, "PARALLEL_MIN_UNITS", 2)
    monkeypatch.setattr(stamp.os, "cpu_count", lambda: 2)
    two, two_zip = generate_all(form, units, tmp_path / "two", make_zip=True, generated_at=GENERATED_AT)
    assert [p.name for p in one] == [p.name for p in two]
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]
    assert one_zip.read_bytes() == two_zip.read_bytes()


def test_a_spec_error_in_a_worker_reaches_the_caller(form, tmp_path, monkeypatch):
    from dataclasses import replace

    from qcdc_xl.form.spec import SpecError
    fields = dict(form.fields)
    f = fields["so_dang_vien"]
    fields[f.id] = replace(f, help="x" * 300)  # longer than Excel's pop-up allows
    monkeypatch.setattr(stamp, "PARALLEL_MIN_UNITS", 2)
    monkeypatch.setattr(stamp.os, "cpu_count", lambda: 2)
    with pytest.raises(SpecError, match="so_dang_vien|255"):
        generate_all(replace(form, fields=fields), STAMPABLE[:2], tmp_path, generated_at=GENERATED_AT)


def test_a_placeholder_outside_the_known_places_or_changed_refuses_the_template():
    parts = {"xl/sharedStrings.xml": b"<t>ZqX7Ma</t>", "docProps/core.xml": b"ZqX7Ma",
             "xl/workbook.xml": b"<workbook/>"}
    ph = Unit(stamp.PH_MA, stamp.PH_NAME, "HCSN")
    assert stamp._only_known_places(parts, [stamp.PH_MA], ph)
    parts["xl/workbook.xml"] = b'<definedName name="ZqX7Ma"/>'
    assert not stamp._only_known_places(parts, [stamp.PH_MA], ph)
    parts["xl/workbook.xml"] = b"<workbook/>"
    parts["xl/sharedStrings.xml"] = b"<t>ZQX7MA</t>"  # a code the writer put in upper case
    assert not stamp._only_known_places(parts, [stamp.PH_MA], ph)


def _zipfile_bytes(parts: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()


def test_zip_copies_match_what_zipfile_writes():
    head = b"".join(b"<row r=\"%d\"><c><v>%d</v></c></row>" % (i, i * i) for i in range(5000))
    parts = {"a.xml": head + b"<footer>old</footer>", "b.xml": b"same" * 1000,
             "c.xml": b"<x>" + bytes(range(256)) * 50 + b"</x>"}
    raw = _zipfile_bytes(parts)
    copier = ZipCopier(raw, {"a.xml": len(head)})
    assert copier.reproduces(raw)
    changed = {**parts, "a.xml": head + b"<footer>new &amp; longer</footer>",
               "c.xml": b"changed where no change was foreseen"}
    assert copier.write(changed) == _zipfile_bytes(changed)
