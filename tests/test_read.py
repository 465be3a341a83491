"""The reader: what a returned file holds, found by name, whatever the unit did to it, and a
clean issue (never an exception) for a file that cannot be read."""
import datetime as dt
import hashlib
import shutil
import subprocess

import pytest
from openpyxl.utils.cell import range_boundaries

import builders as b
from qcdc_xl.intake.read import read_return



@pytest.fixture(scope="module")
def templates(form, tmp_path_factory):
    d = tmp_path_factory.mktemp("templates")
    return {"HCSN": b.make_template(form, b.HCSN_UNIT, d / "hcsn.xlsx"),
            "DN": b.make_template(form, b.DN_UNIT, d / "dn.xlsx")}


def read(path, form):
    return read_return(path, path.name, form)


def codes(raw):
    return [(i.code, i.sheet, i.cell) for i in raw.issues]


DOC = ["Kế hoạch", "11-KH/ĐUK", dt.datetime(2018, 5, 12), "Cấp ủy", "Kế hoạch thực hiện QCDC"]


# ---------------------------------------------------------------- a template as generated


def test_pristine_template_reads_clean(form, templates):
    raw = read(templates["HCSN"], form)
    assert raw.issues == [] and raw.outside == []
    assert raw.meta["form_id"] == form.id and raw.meta["ma_don_vi"] == "CQ01"
    assert set(raw.meta) == {"form_id", "form_version", "ma_don_vi", "loai_hinh", "generated_at",
                             "integrity_tag"}
    assert {f.id for f in form.fields_for("HCSN")} <= set(raw.fields)
    assert raw.tables == {"tbl_van_ban": [], "tbl_mo_hinh": []}
    assert raw.protected_sheets["Phụ lục 1"] is True
    assert isinstance(raw.saved_at, dt.datetime) and isinstance(raw.file_mtime, dt.datetime)


def test_values_formulas_and_table_rows(form, templates, tmp_path):
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx",
                 values={"so_dang_vien": 12, "co_cong_doan": "Có", "ngay_lap": dt.datetime(2022, 6, 1)},
                 rows={"tbl_van_ban": [DOC, [None] * 5, ["Quy chế", "02-QC/ĐU", "1/3/2019", None, "Quy chế"]]})
    raw = read(out, form)
    sheet, cell = b.cell_of(out, "so_dang_vien")
    assert raw.fields["so_dang_vien"].value == 12
    assert (raw.fields["so_dang_vien"].sheet, raw.fields["so_dang_vien"].cell) == (sheet, cell)
    assert raw.fields["ngay_lap"].value == dt.datetime(2022, 6, 1)
    assert raw.fields["so_van_ban"].formula.upper().startswith("=COUNT(")
    assert raw.fields["kn_tl_2017"].formula is not None
    rows = raw.tables["tbl_van_ban"]
    assert [r["so_ky_hieu"].value for r in rows] == ["11-KH/ĐUK", "02-QC/ĐU"]  # empty row skipped
    assert rows[0]["tt"].formula is not None and rows[1]["ngay_ban_hanh"].value == "1/3/2019"
    assert raw.issues == []


def test_input_files_are_byte_identical_after_reading(form, templates, tmp_path):
    files = [b.fill(templates["DN"], tmp_path / "r.xlsx", values={"so_dang_vien": 5}),
             b.truncated(templates["DN"], tmp_path / "t.xlsx"), b.csv_as_xlsx(tmp_path / "c.xlsx")]
    before = [(hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files]
    for p in files:
        read(p, form)
    assert [(hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files] == before


def test_xlsm_is_read_like_xlsx(form, templates, tmp_path):
    out = b.fill(templates["DN"], tmp_path / "r.xlsx", values={"so_dang_vien": 7})
    xlsm = b.copy(out, tmp_path / "r.xlsm")
    assert read(xlsm, form).fields["so_dang_vien"].value == 7


# ---------------------------------------------------------------- what units do to their file


def test_row_inserted_above_an_input_moves_nothing(form, templates, tmp_path):
    sheet, cell = b.cell_of(templates["HCSN"], "so_dang_vien")
    _, ref = b.table_ref(templates["HCSN"], "tbl_van_ban")
    top = range_boundaries(ref)[1]

    def edit(wb):
        b.insert_rows(wb, sheet, int(cell[1:]) - 1, 2)
        b.insert_rows(wb, "Phụ lục 1", top, 1)  # above the table
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx", values={"so_dang_vien": 12},
                 rows={"tbl_van_ban": [DOC]}, edit=edit)
    raw = read(out, form)
    assert raw.fields["so_dang_vien"].value == 12
    assert raw.fields["so_dang_vien"].cell == f"{cell[0]}{int(cell[1:]) + 2}"
    assert [r["so_ky_hieu"].value for r in raw.tables["tbl_van_ban"]] == ["11-KH/ĐUK"]
    assert raw.issues == [] and raw.outside == []


def test_renamed_sheet_still_reads(form, templates, tmp_path):
    def edit(wb):
        b.rename_sheet(wb, "Phụ lục 2", "PL2 đã sửa")
    out = b.fill(templates["DN"], tmp_path / "r.xlsx", values={"hnnld_da_2019": 3},
                 rows={"tbl_mo_hinh": [["Dân vận khéo trong sản xuất", "Dân vận khéo", 2020]]}, edit=edit)
    raw = read(out, form)
    assert raw.fields["hnnld_da_2019"].value == 3 and raw.fields["hnnld_da_2019"].sheet == "PL2 đã sửa"
    assert raw.tables["tbl_mo_hinh"][0]["ten_mo_hinh"].sheet == "PL2 đã sửa"
    assert raw.issues == []


def test_rows_typed_below_a_table_are_read_and_flagged(form, templates, tmp_path):
    sheet, ref = b.table_ref(templates["HCSN"], "tbl_mo_hinh")
    min_col, _, _, max_row = range_boundaries(ref)
    col = lambda i: chr(ord("A") + min_col - 1 + i)  # noqa: E731
    below = [(sheet, f"{col(1)}{max_row + 1}", "Mô hình thứ 51"), (sheet, f"{col(3)}{max_row + 1}", 2021),
             (sheet, f"{col(1)}{max_row + 2}", "Mô hình thứ 52"),
             (sheet, f"{col(1)}{max_row + 4}", "sau một dòng trống")]  # after a gap: outside

    def edit(wb):
        wb[sheet].protection.sheet = False  # a person must unprotect to type there
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx", rows={"tbl_mo_hinh": [["Mô hình 1"]]},
                 cells=below, edit=edit)
    raw = read(out, form)
    names = [r["ten_mo_hinh"].value for r in raw.tables["tbl_mo_hinh"]]
    assert names == ["Mô hình 1", "Mô hình thứ 51", "Mô hình thứ 52"]
    assert raw.tables["tbl_mo_hinh"][1]["nam"].value == 2021
    assert codes(raw) == [("data_outside_table", sheet, f"{col(1)}{max_row + 1}"),
                          ("data_outside_table", sheet, f"{col(1)}{max_row + 2}"),
                          ("data_outside_table", sheet, f"{col(1)}{max_row + 4}")]
    assert [(o.cell, o.value) for o in raw.outside] == [(f"{col(1)}{max_row + 4}", "sau một dòng trống")]


def test_anything_typed_outside_the_input_areas_is_kept_and_reported(form, templates, tmp_path):
    def edit(wb):
        wb["Thông tin chung"].protection.sheet = False
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx", edit=edit,
                 cells=[("Thông tin chung", "K3", "Ghi chú: số liệu tạm tính"), ("Thông tin chung", "K4", 15)])
    raw = read(out, form)
    assert [(o.sheet, o.cell, o.value) for o in raw.outside] == [
        ("Thông tin chung", "K3", "Ghi chú: số liệu tạm tính"), ("Thông tin chung", "K4", 15)]
    issue = raw.issues[1]
    assert (issue.code, issue.severity, issue.value) == ("data_outside_table", "warning", "15")
    assert "Trang «Thông tin chung», ô K4" in issue.message


def test_meta_sheet_merely_hidden_is_read(form, templates, tmp_path):
    def edit(wb):
        wb["_qcdc_meta"].sheet_state = "hidden"
    raw = read(b.fill(templates["DN"], tmp_path / "r.xlsx", edit=edit), form)
    assert raw.meta["ma_don_vi"] == "DN01" and raw.issues == []


def test_meta_from_document_properties_when_the_sheet_is_gone(form, templates, tmp_path):
    def edit(wb):
        del wb["_qcdc_meta"]
    raw = read(b.fill(templates["DN"], tmp_path / "r.xlsx", edit=edit), form)
    assert raw.meta["ma_don_vi"] == "DN01" and raw.meta["form_id"] == form.id


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_a_libreoffice_resave_reads_the_same(form, templates, tmp_path):
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx", values={"so_dang_vien": 12, "co_cong_doan": "Có"},
                 rows={"tbl_van_ban": [DOC]})
    lo = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(lo), str(out)],
                   check=True, capture_output=True, timeout=180)
    raw = read(lo / "r.xlsx", form)
    assert raw.meta["ma_don_vi"] == "CQ01" and raw.issues == []
    assert raw.fields["so_dang_vien"].value == 12 and raw.fields["co_cong_doan"].value == "Có"
    assert [r["so_ky_hieu"].value for r in raw.tables["tbl_van_ban"]] == ["11-KH/ĐUK"]


# ---------------------------------------------------------------- files that cannot be read

BAD = [
    ("empty", lambda src, p: p.write_bytes(b"") or p, "unreadable_file", "rỗng"),
    ("truncated", lambda src, p: b.truncated(src, p), "unreadable_file", "Lưu thành .xlsx"),
    ("encrypted", lambda src, p: b.encrypted_ole(p), "encrypted_file", "hãy gỡ mật khẩu rồi lưu lại"),
    ("csv", lambda src, p: b.csv_as_xlsx(p), "unreadable_file", "hãy mở bằng Excel và Lưu thành .xlsx"),
    ("html", lambda src, p: b.html_as_xlsx(p), "unreadable_file", "HTML"),
    ("xls", lambda src, p: b.old_xls(p), "unreadable_file", "Excel 97–2003"),
    ("bomb", lambda src, p: b.zip_bomb(p), "unreadable_file", "bất thường"),
]


@pytest.mark.parametrize("kind, make, code, hint", BAD, ids=[x[0] for x in BAD])
def test_a_bad_file_is_one_clean_issue(form, templates, tmp_path, kind, make, code, hint):
    path = make(templates["HCSN"], tmp_path / f"{kind}.xlsx")
    raw = read(path, form)
    assert [(i.code, i.file) for i in raw.issues] == [(code, f"{kind}.xlsx")]
    assert hint in raw.issues[0].message
    assert raw.fields == {} and raw.tables == {}


def test_a_zip_that_is_no_workbook(form, tmp_path):
    import zipfile
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    raw = read(path, form)
    assert [i.code for i in raw.issues] == ["unreadable_file"] and "Word" in raw.issues[0].message


def test_a_workbook_of_another_kind_reads_without_complaint(form, tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Bảng kê"
    wb.save(tmp_path / "other.xlsx")
    raw = read(tmp_path / "other.xlsx", form)
    assert raw.meta == {} and raw.issues == [] and raw.fields == {}
