"""Returns in old formats (.xls, .ods, WPS .et, or one of them renamed .xlsx) and with macros.

The real round trip: a template filled in LibreOffice Calc is saved as .xls and .ods (what a
unit does with «Save as»), then ``aggregate`` converts them back through LibreOffice, all
of a run in one soffice session: every value and table row must be those of the same
return saved as .xlsx, with one ``converted_file`` warning, and the originals untouched.
Without LibreOffice, the same files are the clear ``unreadable_file`` error of before.

The real-client part is skipped, with the reason, where LibreOffice or its Python UNO bridge
is missing; with QCDC_REQUIRE_LIBREOFFICE=1 (CI) a missing LibreOffice is a failure instead.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

import builders as b
import hostile
import lo_helpers as h
from qcdc_xl.intake import convert
from qcdc_xl.intake import libreoffice
from qcdc_xl.report.aggregate import build_report, check_file, run_aggregate
from qcdc_xl.intake.discover import Found
from qcdc_xl.template.generate import generate_workbook
from qcdc_xl.template.metadata import FEEDBACK_SHEET
from qcdc_xl.intake.read import load_quietly
from qcdc_xl.intake.units import Unit

UNITS = {"HCSN": Unit("SNV", "Chi bộ Sở Ngoại vụ", "HCSN", "Khối cơ quan"),
         "DN": Unit("DN002", "Đảng bộ Viễn thông Hà Tĩnh", "DN", "Khối doanh nghiệp",
                    attributes=(("loai_dn", "DN 100% vốn Nhà nước"),))}
ROWS = {"tbl_van_ban": 3, "tbl_mo_hinh": 2}


def _found(path: Path, readable: bool | None = None) -> Found:
    return Found(path=path, rel=path.name,
                 readable=path.suffix.lower() in (".xlsx", ".xlsm") if readable is None else readable)


def _good(form, kind: str, path: Path) -> Path:
    return generate_workbook(form, UNITS[kind], path, values=b.complete_values(form, kind))


def _fake_ods(path: Path) -> Path:
    """An OpenDocument package: its first member is the uncompressed mimetype."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return path


def _word_97(path: Path) -> Path:
    """An OLE file holding a "WordDocument" stream: a .doc, no workbook."""
    b.encrypted_ole(path)
    data = bytearray(path.read_bytes())
    at = data.find("EncryptedPackage".encode("utf-16-le"))
    data[at: at + 34] = "WordDocument".encode("utf-16-le").ljust(34, b"\0")
    path.write_bytes(bytes(data))
    return path


def _encrypted_ods(path: Path) -> Path:
    """An OpenDocument spreadsheet saved with a password (its manifest lists encryption data)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", '<manifest:manifest><manifest:file-entry '
                   'manifest:full-path="content.xml"><manifest:encryption-data/>'
                   "</manifest:file-entry></manifest:manifest>", zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", b"\x8f\x12 encrypted bytes", zipfile.ZIP_DEFLATED)
    return path


@pytest.fixture
def no_libreoffice(monkeypatch, tmp_path):
    """A machine without LibreOffice (QCDC_SOFFICE pointing nowhere)."""
    monkeypatch.setenv("QCDC_SOFFICE", str(tmp_path / "khong_co" / "soffice"))
    libreoffice._probe.cache_clear()
    yield
    monkeypatch.undo()
    libreoffice._probe.cache_clear()


# ---------------------------------------------------------------- what goes through LibreOffice


def test_old_formats_are_recognised_by_name_and_by_content(form, tmp_path):
    good = _good(form, "HCSN", tmp_path / "tot.xlsx")
    cases = {
        "tot.xlsx": (good, None, True),
        "cu.xls": (b.old_xls(tmp_path / "cu.xls"), ".xls", False),
        "cu_doi_ten.xlsx": (b.old_xls(tmp_path / "cu_doi_ten.xlsx"), ".xls", True),
        "ods_doi_ten.xlsx": (_fake_ods(tmp_path / "ods_doi_ten.xlsx"), ".ods", True),
        "bang.ods": (_fake_ods(tmp_path / "bang.ods"), ".ods", False),
        "wps.et": (b.old_xls(tmp_path / "wps.et"), ".et", False),
        "xlsx_doi_ten.xls": (b.copy(good, tmp_path / "xlsx_doi_ten.xls"), None, True),
        "mat_khau.xls": (b.encrypted_ole(tmp_path / "mat_khau.xls"), None, True),
        "nhi_phan.xlsb": (b.copy(good, tmp_path / "nhi_phan.xlsb"), None, False),
        "van_ban.xlsx": (_word_97(tmp_path / "van_ban.xlsx"), None, True),  # a .doc: not converted
    }
    for name, (path, kind, readable) in cases.items():
        found, got = convert.prepare(_found(path))
        assert (got, found.readable) == (kind, readable), name


def test_a_renamed_xlsx_is_read_and_an_encrypted_xls_stays_encrypted(form, tmp_path):
    good = _good(form, "HCSN", tmp_path / "tot.xlsx")
    result, issues = check_file(form, list(UNITS.values()), b.copy(good, tmp_path / "SNV.xls"))
    assert result.status == "ok" and issues == [] and result.values["so_dang_vien"] is not None
    _, issues = check_file(form, list(UNITS.values()), b.encrypted_ole(tmp_path / "mat_khau.xls"))
    assert [i.code for i in issues] == ["encrypted_file"]


@pytest.mark.parametrize("name", ["mat_khau.ods", "mat_khau_ods.xlsx"])
def test_a_password_protected_ods_is_an_encrypted_file(form, tmp_path, name):
    _, issues = check_file(form, list(UNITS.values()), _encrypted_ods(tmp_path / name))
    assert [(i.code, i.file) for i in issues] == [("encrypted_file", name)]
    assert "mật khẩu" in issues[0].message and "Lưu thành" in issues[0].message
    returns = tmp_path / "returns"
    returns.mkdir()
    _encrypted_ods(returns / name)
    report = build_report(form, list(UNITS.values()), returns)
    assert [i.code for i in report.issues if i.file == name] == ["encrypted_file"]


def test_without_libreoffice_an_old_format_is_the_clear_error_of_before(form, tmp_path, no_libreoffice):
    assert libreoffice.available()[0] is False
    returns = tmp_path / "returns"
    returns.mkdir()
    _good(form, "HCSN", returns / "SNV.xlsx")
    b.old_xls(returns / "DN002.xls")
    b.old_xls(returns / "cu_doi_ten.xlsx")
    _fake_ods(returns / "bang.ods")
    report = build_report(form, list(UNITS.values()), returns)
    by_file = {i.file: i for i in report.issues if i.file}
    assert {u.unit.ma_don_vi: u.status for u in report.units} == {"SNV": "ok", "DN002": "missing"}
    for rel, kind in [("DN002.xls", "Excel 97–2003 (.xls)"), ("bang.ods", "(.ods)"),
                      ("cu_doi_ten.xlsx", "Excel 97–2003 (.xls) được đặt đuôi .xlsx")]:
        issue = by_file[rel]
        assert issue.code == "unreadable_file" and issue.severity == "error", rel
        assert kind in issue.message and "Lưu thành" in issue.message
        assert "cài LibreOffice" in issue.message
    _, issues = check_file(form, list(UNITS.values()), returns / "DN002.xls")
    assert [i.code for i in issues] == ["unreadable_file"] and "cài LibreOffice" in issues[0].message


# ---------------------------------------------------------------- macros


def test_an_xlsm_is_read_with_a_warning_that_nothing_was_run(form, tmp_path):
    good = _good(form, "DN", tmp_path / "DN002.xlsx")
    ref, _ = check_file(form, list(UNITS.values()), good)
    for path, words in [(b.copy(good, tmp_path / "DN002.xlsm"), ".xlsm"),
                        (hostile.with_vba(good.read_bytes(), tmp_path / "vba.xlsx"), "có macro"),
                        (hostile.with_vba(good.read_bytes(), tmp_path / "vba.xlsm"), "có macro")]:
        result, issues = check_file(form, list(UNITS.values()), path)
        assert [(i.code, i.severity, i.ma_don_vi) for i in issues] == [
            ("macros_present", "warning", "DN002")], path.name
        assert words in issues[0].message and "macro không được chạy" in issues[0].message
        assert result.status == "ok" and result.values == ref.values


def test_macros_in_an_old_format_original_are_reported_too(tmp_path):
    """The conversion drops them; the warning is about what the unit sent."""
    xls = b.old_xls(tmp_path / "co_macro.xls")
    data = bytearray(xls.read_bytes())
    data[-200:-200 + 32] = "_VBA_PROJECT_CUR".encode("utf-16-le")
    xls.write_bytes(bytes(data))
    ods = tmp_path / "co_macro.ods"
    with zipfile.ZipFile(ods, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("Basic/Standard/Module1.xml", "<script:module/>")
    copy = tmp_path / "chuyen_doi.xlsx"  # the converted copy: the warning never looks at it
    copy.write_bytes(b"")
    for original, kind in [(xls, ".xls"), (ods, ".ods")]:
        found = Found(path=copy, rel=original.name, readable=True, converted_from=kind, source=original)
        warning = convert.macro_warning(found, "SNV")
        assert (warning.code, warning.file, warning.ma_don_vi) == ("macros_present", original.name, "SNV")
    plain = Found(path=copy, rel="x.xls", readable=True, converted_from=".xls",
                  source=b.old_xls(tmp_path / "x.xls"))
    assert convert.macro_warning(plain) is None


def test_a_plain_xlsx_has_no_macro_warning(form, tmp_path):
    _, issues = check_file(form, list(UNITS.values()), _good(form, "DN", tmp_path / "DN002.xlsx"))
    assert issues == []


# ---------------------------------------------------------------- repairing the converted copy


def test_the_saved_time_put_back_is_utc():
    assert convert._utc_stamp("2022-06-15T08:30:00Z") == "2022-06-15T08:30:00Z"
    local = dt.datetime(2022, 6, 15, 8, 30)
    expected = local.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat() + "Z"
    assert convert._utc_stamp("2022-06-15T08:30:00") == expected
    assert convert._utc_stamp(None) is None and convert._utc_stamp("hôm qua") is None
    parts = {"docProps/core.xml": b'<cp:coreProperties><dcterms:modified xsi:type="dcterms:W3CDTF">'
                                  b"2026-12-01T09:00:00Z</dcterms:modified></cp:coreProperties>"}
    convert._restore_modified(parts, "2022-06-15T08:30:00Z")
    assert b">2022-06-15T08:30:00Z<" in parts["docProps/core.xml"]
    convert._restore_modified(parts, None)  # no saved time known: none, rather than "now"
    assert b"modified" not in parts["docProps/core.xml"]


# ---------------------------------------------------------------- the real round trip


class Saved:
    """Returns filled in LibreOffice (one soffice run) and saved as .xlsx, .xls and .ods."""

    def __init__(self, form, root: Path):
        self.form, self.root = form, root
        self.saved = root / "saved"
        jobs = []
        for kind, unit in UNITS.items():
            template = generate_workbook(form, unit, root / f"{unit.ma_don_vi}_mau.xlsx")
            fill = {"open": str(template),
                    "set_names": {k: h.to_job_value(v) for k, v in h.complete_values(form, unit).items()},
                    "set_table_rows": {t: [[h.to_job_value(v) for v in r] for r in h.table_rows(form, t, n)]
                                       for t, n in ROWS.items() if form.tables[t].applies_to(kind)}}
            jobs.append(dict(fill, save_xlsx=str(self.saved / f"{kind}.xlsx"),
                             save_as={"path": str(self.saved / f"{kind}.xls"), "filter": "MS Excel 97"}))
            jobs.append(dict(fill, save_as={"path": str(self.saved / f"{kind}.ods"), "filter": "calc8"}))
        results = libreoffice.run_jobs(jobs)
        assert all(r["ok"] for r in results), results
        self.reference = {kind: check_file(form, list(UNITS.values()), self.saved / f"{kind}.xlsx")[0]
                          for kind in UNITS}

    def returns(self, name: str, files: dict) -> Path:
        """A returns folder: {name in the folder: saved file, or bytes}."""
        folder = self.root / name
        for target, source in files.items():
            (folder / target).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, bytes):
                (folder / target).write_bytes(source)
            else:
                shutil.copyfile(source, folder / target)
        return folder


@pytest.fixture(scope="module")
def saved(form, tmp_path_factory):
    h.require_libreoffice()
    return Saved(form, tmp_path_factory.mktemp("old_formats"))


def _digests(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def test_xls_and_ods_returns_read_the_same_as_xlsx_in_one_session(form, saved, tmp_path):
    returns = saved.returns("xls_ods", {"SNV.xls": saved.saved / "HCSN.xls",
                                        "con/DN002.ods": saved.saved / "DN.ods",
                                        "hong.ods": b"\x00\x01 not a spreadsheet " * 50})
    before = _digests(returns)
    report = run_aggregate(form, list(UNITS.values()), returns, tmp_path / "tong_hop.xlsx",
                           json_path=tmp_path / "bao_cao.json", feedback_dir=tmp_path / "phan_hoi").report
    # one soffice for every conversion of the reading (the feedback converts again, once)
    assert len(libreoffice.last_sessions) == 1
    assert _digests(returns) == before  # originals untouched, no lock file left beside them
    units = {u.unit.loai_hinh: u for u in report.units}
    for kind, rel in [("HCSN", "SNV.xls"), ("DN", "con/DN002.ods")]:
        got, ref = units[kind], saved.reference[kind]
        assert got.status == "ok" and got.file == rel
        assert got.values == ref.values and got.tables == ref.tables
        assert [len(got.tables[t]) for t in ROWS if t in got.tables] == [
            n for t, n in ROWS.items() if form.tables[t].applies_to(kind)]
        assert [(i.code, i.file, i.ma_don_vi) for i in got.issues] == [
            ("converted_file", rel, got.unit.ma_don_vi)]
        assert "LibreOffice" in got.issues[0].message and "Lưu thành .xlsx" in got.issues[0].message
    broken = [i for i in report.issues if i.file == "hong.ods"]
    assert [i.code for i in broken] == ["unreadable_file"]
    assert "LibreOffice không chuyển được" in broken[0].message and "Lưu thành" in broken[0].message
    assert "qcdc_convert_" not in broken[0].message  # no temporary path shown to people
    # the feedback for a converted return: the plain list, and a marked .xlsx made from a
    # fresh conversion (the unit's own .xls cannot be marked), with its list sheet first
    assert "LibreOffice" in (tmp_path / "phan_hoi" / "SNV_can_sua.txt").read_text(encoding="utf-8-sig")
    marked = load_quietly(tmp_path / "phan_hoi" / "SNV_can_sua.xlsx")
    assert marked.sheetnames[0] == FEEDBACK_SHEET
    assert any("LibreOffice" in str(c.value) for row in marked[FEEDBACK_SHEET].iter_rows() for c in row)
    assert "so_dang_vien" in marked.defined_names  # the unit's own workbook, converted


def test_the_converted_copy_keeps_the_units_own_saved_time(form, saved):
    """LibreOffice stamps a stored copy with the present time: that would make an old .xls
    win over a later .xlsx of the same unit."""
    result, _ = check_file(form, list(UNITS.values()), saved.saved / "HCSN.xls")
    reference = saved.reference["HCSN"].saved_at  # stored by the same job, just before
    assert result.saved_at is not None and abs((result.saved_at - reference).total_seconds()) <= 2


def test_a_wps_et_and_a_renamed_xls_are_converted_too(form, saved):
    """LibreOffice has no .et export; a WPS .et is the Excel 97 binary format, which is what
    the .xls saved here is."""
    returns = saved.returns("et_renamed", {"DN002.et": saved.saved / "DN.xls",
                                           "SNV.xlsx": saved.saved / "HCSN.ods"})
    report = build_report(form, list(UNITS.values()), returns)
    assert len(libreoffice.last_sessions) == 1
    for unit in report.units:
        ref = saved.reference[unit.unit.loai_hinh]
        assert unit.status == "ok" and unit.values == ref.values and unit.tables == ref.tables
        assert [i.code for i in unit.issues] == ["converted_file"]
    messages = {u.file: u.issues[0].message for u in report.units}
    assert "WPS Spreadsheets (.et)" in messages["DN002.et"]
    assert "(.ods) được đặt đuôi .xlsx" in messages["SNV.xlsx"]


def test_an_old_format_file_past_the_size_limit_is_refused_before_libreoffice(form, saved, monkeypatch):
    from qcdc_xl.intake import read
    monkeypatch.setattr(read, "MAX_FILE_BYTES", 1000)
    monkeypatch.setattr(libreoffice, "run_jobs", lambda *a, **k: pytest.fail("LibreOffice started"))
    result, issues = check_file(form, list(UNITS.values()), saved.saved / "HCSN.xls")
    assert result is None and [i.code for i in issues] == ["unreadable_file"]
    assert "quá lớn" in issues[0].message


def test_a_conversion_past_its_time_limit_is_an_unreadable_file(form, saved, monkeypatch):
    monkeypatch.setattr(convert, "_SECONDS_START", 0.5)
    monkeypatch.setattr(convert, "_SECONDS_PER_FILE", 0)
    result, issues = check_file(form, list(UNITS.values()), saved.saved / "HCSN.xls")
    assert result is None and [i.code for i in issues] == ["unreadable_file"]
    assert "quá thời gian" in issues[0].message and "Lưu thành" in issues[0].message


# ---------------------------------------------------------------- a workbook without its tables


def _without_tables(wb) -> None:
    for ws in wb.worksheets:
        for name in list(ws.tables):
            del ws.tables[name]


def test_tables_turned_into_plain_ranges_are_found_by_their_headers(form, tmp_path):
    """What an .xls conversion or Gnumeric leaves: the template's cells, no table objects."""
    from fill import fill_with_openpyxl

    template = generate_workbook(form, UNITS["HCSN"], tmp_path / "mau.xlsx")
    values = h.complete_values(form, UNITS["HCSN"])
    rows = {t.name: h.table_rows(form, t.name, 2) for t in form.tables_for("HCSN")}
    kept = fill_with_openpyxl(template, tmp_path / "co_bang.xlsx", values=values, rows=rows)
    plain = fill_with_openpyxl(template, tmp_path / "khong_bang.xlsx", values=values, rows=rows,
                               edit=_without_tables)
    with zipfile.ZipFile(plain) as z:
        assert not any(n.startswith("xl/tables/") for n in z.namelist())
    before = plain.read_bytes()
    ref, _ = check_file(form, list(UNITS.values()), kept)
    result, issues = check_file(form, list(UNITS.values()), plain)
    assert issues == [] and result.values == ref.values and result.tables == ref.tables
    assert [len(result.tables[t]) for t in rows] == [2, 2]
    assert plain.read_bytes() == before  # the tables went into a temporary copy only


def test_a_foreign_workbook_without_tables_is_left_alone(form, tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active["A1"] = "TT"
    wb.save(tmp_path / "khac.xlsx")
    found = _found(tmp_path / "khac.xlsx")
    with convert.tables_restored(form, found) as readable:
        assert readable.path == found.path
    _, issues = check_file(form, list(UNITS.values()), found.path)
    assert [i.code for i in issues] == ["not_a_form"]


def test_a_file_that_stalls_libreoffice_costs_only_itself(saved, tmp_path):
    """The per-file limit of a batch (``job_timeout``): the stalled job is stopped, the ones
    after it run in a fresh soffice. Here the "stall" is a job typing 20000 cells (~40 s when
    not stopped; a few milliseconds per cell through the UNO bridge)."""
    jobs = []
    for n in range(3):
        source = shutil.copyfile(saved.saved / "HCSN.xlsx", tmp_path / f"{n}.xlsx")
        jobs.append({"open": str(source), "recalc": False, "read_names": ["so_dang_vien"]})
    jobs[1]["set_cells"] = [{"sheet": "Hướng dẫn", "cell": f"Z{i}", "value": i} for i in range(1, 20001)]
    results = libreoffice.run_jobs(jobs, job_timeout=1)
    assert [r["ok"] for r in results] == [True, False, True]
    assert "time limit" in results[1]["error"] and len(libreoffice.last_sessions) == 2
    expected = {"so_dang_vien": saved.reference["HCSN"].values["so_dang_vien"]}
    assert results[0]["values"] == results[2]["values"] == expected
