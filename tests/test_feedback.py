"""Feedback for units: their own workbook with offending cells marked, and a plain list."""
import datetime as dt
import hashlib

import openpyxl
import pytest
from click.testing import CliRunner

from fill import fill_with_openpyxl
from ooxml import ooxml_findings
from qcdc_xl.cli import main
from qcdc_xl.output.feedback import ERROR_FILL, LIST_SHEET

UNITS = "ma_don_vi,ten_don_vi,loai_hinh\nSNV,Đảng bộ Sở Ngoại vụ,HCSN\nSTC,Đảng bộ Sở Tài chính,HCSN\n"


def complete(years=range(2017, 2022)):
    v = {"so_dang_vien": 20, "so_lao_dong": 40, "co_cong_doan": "Có", "co_ban_chi_dao": "Không",
         "co_ban_ttnd": "Có", "tu_danh_gia": "Khá", "nguoi_lap": "Lê Thị B",
         "ngay_lap": dt.datetime(2022, 6, 1), "mot_cua": "Có", "dvc_3_4": 5, "dvc_4": 2,
         "ntm_xa_giao": 0, "ntm_xa_dat": 0, "ntm_xa_giao_2016": 0, "ntm_xa_dat_2016": 0,
         "ntm_kinh_phi": 0, "ntm_tong_kinh_phi": 0}
    for y in years:
        v.update({f"hnccc_phai_{y}": 1, f"hnccc_da_{y}": 1, f"kn_nhan_{y}": 0, f"kn_gq_{y}": 0,
                  f"tc_nhan_{y}": 0, f"tc_gq_{y}": 0, f"pakn_nhan_{y}": 0, f"pakn_gq_{y}": 0,
                  f"dttt_so_cuoc_{y}": 1})
    return v


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("fb")
    (root / "dv.csv").write_text(UNITS, encoding="utf-8")
    assert CliRunner().invoke(main, ["generate", "--units", str(root / "dv.csv"),
                                     "--out", str(root / "t")]).exit_code == 0
    returns = root / "returns"
    returns.mkdir()
    bad = dict(complete(), dvc_4=9, so_dang_vien="hai mươi")  # 9 > 5 and a word for a number
    del bad["nguoi_lap"]
    fill_with_openpyxl(root / "t" / "SNV_dang_bo_so_ngoai_vu.xlsx", returns / "SNV_dang_bo_so_ngoai_vu.xlsx", bad)
    fill_with_openpyxl(root / "t" / "STC_dang_bo_so_tai_chinh.xlsx", returns / "STC.xlsx", complete())
    digest = hashlib.sha256((returns / "SNV_dang_bo_so_ngoai_vu.xlsx").read_bytes()).hexdigest()
    result = CliRunner().invoke(main, ["aggregate", str(returns), "--units", str(root / "dv.csv"),
                                       "-o", str(root / "th.xlsx"), "--feedback", str(root / "fb")])
    assert result.exit_code == 0, result.output
    same = hashlib.sha256((returns / "SNV_dang_bo_so_ngoai_vu.xlsx").read_bytes()).hexdigest() == digest
    return dict(root=root, fb=root / "fb", output=result.output, input_untouched=same)


def test_only_units_with_issues_get_feedback(run):
    assert sorted(p.name for p in run["fb"].iterdir()) == [
        "SNV_dang_bo_so_ngoai_vu_can_sua.txt", "SNV_dang_bo_so_ngoai_vu_can_sua.xlsx"]
    assert "Bản trả lại cho 1 đơn vị" in run["output"]
    assert run["input_untouched"]


def test_marked_copy_highlights_and_comments_each_offending_cell(run):
    wb = openpyxl.load_workbook(run["fb"] / "SNV_dang_bo_so_ngoai_vu_can_sua.xlsx")
    assert wb.sheetnames[0] == LIST_SHEET
    listed = [(r[2], r[3]) for r in wb[LIST_SHEET].iter_rows(min_row=4, values_only=True)]
    assert wb[LIST_SHEET]["A1"].value == "CÁC ĐIỂM CẦN SỬA — SNV – Đảng bộ Sở Ngoại vụ"
    assert len(listed) == 3
    for sheet, cell in listed:
        target = wb[sheet][cell]
        assert target.fill.start_color.rgb.endswith(ERROR_FILL), (sheet, cell)
        assert target.comment is not None and target.comment.text.startswith("• ")
    names = {n: next(iter(wb.defined_names[n].destinations)) for n in ("dvc_4", "so_dang_vien", "nguoi_lap")}
    assert {(s, c.replace("$", "")) for s, c in names.values()} == set(listed)
    assert all(ws.protection.sheet for ws in wb.worksheets[1:] if ws.sheet_state == "visible")


def test_plain_list_is_numbered_vietnamese_with_bom(run):
    data = (run["fb"] / "SNV_dang_bo_so_ngoai_vu_can_sua.txt").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "Đơn vị: SNV – Đảng bộ Sở Ngoại vụ" in text
    assert "3 lỗi, 0 cảnh báo" in text
    assert [line[:3] for line in text.splitlines() if line[:1].isdigit()] == ["1. ", "2. ", "3. "]


def test_feedback_copy_passes_openxml_audit(run):
    assert ooxml_findings(run["fb"] / "SNV_dang_bo_so_ngoai_vu_can_sua.xlsx") == []


def test_a_fixed_feedback_copy_sent_back_reads_clean(run, tmp_path):
    from qcdc_xl.report.aggregate import check_file
    from qcdc_xl.form.spec import load_form
    from qcdc_xl.intake.units import load_units
    fixed = fill_with_openpyxl(run["fb"] / "SNV_dang_bo_so_ngoai_vu_can_sua.xlsx", tmp_path / "SNV.xlsx",
                               {"dvc_4": 3, "so_dang_vien": 20, "nguoi_lap": "Lê Thị B"})
    result, issues = check_file(load_form(), load_units(run["root"] / "dv.csv"), fixed)
    assert [(i.code, i.cell) for i in issues] == []
    assert result.values["dvc_4"] == 3 and result.values["so_dang_vien"] == 20
