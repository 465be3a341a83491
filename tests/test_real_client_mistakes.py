"""Mistakes office staff really make, made in a real spreadsheet program (LibreOffice Calc
through UNO), then checked exactly as ``qcdc-xl check`` does.

Each case fills a complete, valid return and then makes one kind of mistake: text pasted from
Word, options typed without a Vietnamese keyboard, money with its unit, dates written the many
ways people write them, a formula typed into an input cell, rows inserted, deleted or sorted
inside a table, a renamed sheet, a workbook saved as .xls/.ods. Every mistake must be caught
with the right code at the right cell, with a Vietnamese message, and no figure may be lost or
silently changed.

Skipped, with the reason, where LibreOffice or its Python UNO bridge is missing; with
QCDC_REQUIRE_LIBREOFFICE=1 (CI) a missing LibreOffice is a failure instead. All jobs run in ONE
soffice start (module fixture).
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pytest
from openpyxl.utils.cell import get_column_letter, range_boundaries

import lo_helpers as h
from fill import find_table
from qcdc_xl.intake import libreoffice
from qcdc_xl.report.aggregate import check_file
from qcdc_xl.template.generate import generate_workbook
from qcdc_xl.form.spec import load_form
from qcdc_xl.intake.units import Unit

GENERATED_AT = dt.datetime(2022, 5, 20, 8, 0)
UNITS = {
    "HCSN": Unit("SNV", "Chi bộ Sở Ngoại vụ", "HCSN", "Khối cơ quan"),
    "DN": Unit("DN002", "Đảng bộ Viễn thông Hà Tĩnh", "DN", "Khối doanh nghiệp", attributes=(("loai_dn", "DN 100% vốn Nhà nước"),)),
}
P1, P2 = "Phụ lục 1", "Phụ lục 2"
ZWSP, NBSP = "\u200b", "\u00a0"


class Run:
    def __init__(self, root: Path):
        self.root, self.form = root, load_form()
        self.templates, self.values, self.jobs, self.index, self.results = {}, {}, [], {}, []
        self.docs = [[h.to_job_value(v) for v in r] for r in h.table_rows(self.form, "tbl_van_ban", 3)]
        for kind, unit in UNITS.items():
            self.templates[kind] = generate_workbook(self.form, unit, root / f"{unit.ma_don_vi}.xlsx",
                                                     generated_at=GENERATED_AT)
            self.values[kind] = {k: h.to_job_value(v) for k, v in h.complete_values(self.form, unit).items()}
        ws, table = find_table(h.load(self.templates["HCSN"]), "tbl_van_ban")
        self.min_col, self.header_row, _, _ = range_boundaries(table.ref)

    def col(self, offset: int) -> str:
        """Column letter of tbl_van_ban's column at ``offset`` (0 = TT)."""
        return get_column_letter(self.min_col + offset)

    def add(self, key: str, kind: str = "HCSN", names=None, rows=None, **extra) -> None:
        job = {"open": str(self.templates[kind]),
               "set_names": {**self.values[kind], **(names or {})},
               "set_table_rows": {"tbl_van_ban": self.docs if rows is None else rows}, **extra}
        if "save_as" not in job:
            job["save_xlsx"] = str(self.root / f"{key}.xlsx")
        self.index[key] = len(self.jobs)
        self.jobs.append(job)

    def check(self, key: str, suffix: str = "xlsx"):
        result = self.results[self.index[key]]
        assert result["ok"], (key, result["error"])
        path = self.root / f"{key}.{suffix}"
        return check_file(self.form, list(UNITS.values()), path)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    h.require_libreoffice()
    run = Run(tmp_path_factory.mktemp("real_client_mistakes"))
    first = run.header_row + 1  # first data row of tbl_van_ban
    run.add("baseline")
    run.add("word_paste", names={"so_dang_vien": ZWSP + "45", "so_lao_dong": "120\n",
                                 "kt_to_chuc": "3" + NBSP, "co_cong_doan": "Có" + ZWSP,
                                 "co_ban_ttnd": "Có\n", "nguoi_lap": f"Nguyễn{NBSP}Thị Hoa{ZWSP}\n",
                                 "so_nguoi_quan_triet": ZWSP})
    run.add("no_diacritics", names={"co_cong_doan": "Co", "co_ban_ttnd": "Khong", "mot_cua": "CÓ",
                                    "co_ban_chi_dao": "có ", "tu_danh_gia": "kha"})
    run.add("plain_words", kind="DN", rows=[],
            names={"loai_dn": "DN co phan, DN tu nhan", "co_thoa_uoc": "Chưa", "co_ban_ttnd": "Đã"})
    run.add("money", names={"ntm_kinh_phi": "1.500.000 đ", "ntm_tong_kinh_phi": "1,5 tỷ"})
    run.add("numbers", names={"so_dang_vien": "'45", "so_lao_dong": 12.5, "kt_dang_vien": -2,
                              "kt_to_chuc": 12.0, "nam_thanh_lap_bcd": "2.018"})
    run.add("dates", names={"ngay_lap": "15.6.2022"},
            rows=[[r[0], r[1], d, *r[3:]] for r, d in zip(run.docs, ["12/5/18", "2018/5/12", "5/13/2018"])])
    run.add("year_in_date", names={"ngay_lap": 2022})
    run.add("date_in_int", names={"so_dang_vien": "2018-05-12"})
    run.add("formula_typed", names={"so_dang_vien": {"formula": "=40+5"}, "ngay_lap": {"formula": "=TODAY()"}})
    run.add("formula_as_text", names={"so_dang_vien": {"text": "=40+5"}})
    run.add("tcvn3", names={"nguoi_lap": "NguyÔn V¨n A", "tu_danh_gia": "Kh¸"},
            rows=[["KÕ ho¹ch", "11-KH/ĐUK", "2018-05-12", "CÊp ñy", "KÕ ho¹ch thùc hiÖn QCDC"]])
    run.add("delete_row", unprotect_sheets=[P1],
            edits=[{"op": "delete_rows", "sheet": P1, "row": first + 1}])
    inserted = first + 1
    run.add("insert_rows", unprotect_sheets=[P1], edits=[
        {"op": "insert_rows", "sheet": P1, "row": inserted, "count": 2},
        {"op": "set_cell", "sheet": P1, "cell": f"{run.col(1)}{inserted}", "value": "Quy chế"},
        {"op": "set_cell", "sheet": P1, "cell": f"{run.col(2)}{inserted}", "value": "99-QC/ĐU"},
        {"op": "set_cell", "sheet": P1, "cell": f"{run.col(3)}{inserted}", "value": "2019-03-04"},
        {"op": "set_cell", "sheet": P1, "cell": f"{run.col(5)}{inserted}", "value": "Quy chế dân chủ"}])
    run.add("sort", unprotect_sheets=[P1], edits=[
        {"op": "sort", "sheet": P1, "range": f"{run.col(0)}{first}:{run.col(6)}{first + 2}",
         "column": 2, "descending": True}])
    run.add("rename", edits=[{"op": "rename_sheet", "old": P2, "new": "So lieu"}])
    run.add("period_total", unprotect_sheets=[P2], names={"kn_nhan_tong": 99})  # "Cả giai đoạn"
    run.add("save_xls", save_as={"path": str(run.root / "save_xls.xls"), "filter": "MS Excel 97"})
    run.add("save_ods", save_as={"path": str(run.root / "save_ods.ods"), "filter": "calc8"})
    run.results = libreoffice.run_jobs(run.jobs)
    return run


def by_field(issues) -> dict:
    return {(i.code, i.field): i for i in issues}


def assert_good_vietnamese(issues) -> None:
    for i in issues:
        assert i.message == unicodedata.normalize("NFC", i.message)
        assert "\n" not in i.message and ZWSP not in i.message, i.message
        assert i.message.rstrip().endswith((".", ")")), i.message


# ---------------------------------------------------------------- the reference


def test_a_complete_return_filled_in_libreoffice_has_no_issue(run):
    result, issues = run.check("baseline")
    assert issues == [] and result.status == "ok"


# ---------------------------------------------------------------- pasted and typed text


def test_text_pasted_from_word_is_read_with_a_warning_that_says_why(run):
    result, issues = run.check("word_paste")
    found = by_field(issues)
    assert result.values["so_dang_vien"] == 45 and result.values["so_lao_dong"] == 120
    assert result.values["kt_to_chuc"] == 3 and result.values["co_cong_doan"] == "Có"
    assert result.values["co_ban_ttnd"] == "Có" and result.values["nguoi_lap"] == "Nguyễn Thị Hoa"
    assert result.values["so_nguoi_quan_triet"] is None  # only an invisible character: empty
    assert {k for k in found} == {("coerced_text_number", f) for f in ("so_dang_vien", "so_lao_dong", "kt_to_chuc")}
    assert "dán từ Word" in found[("coerced_text_number", "so_dang_vien")].message
    assert result.status == "ok"
    assert_good_vietnamese(issues)


def test_options_typed_without_diacritics_or_in_plain_words(run):
    result, issues = run.check("no_diacritics")
    assert (result.values["co_cong_doan"], result.values["co_ban_ttnd"]) == ("Có", "Không")
    assert result.values["mot_cua"] == "Có" and result.values["co_ban_chi_dao"] == "Có"
    assert result.values["tu_danh_gia"] == "Khá"
    assert sorted(f for c, f in by_field(issues)) == ["co_ban_ttnd", "co_cong_doan", "tu_danh_gia"]
    assert {i.code for i in issues} == {"coerced_text_choice"}
    dn, issues = run.check("plain_words")
    assert dn.values["loai_dn"] == "DN cổ phần, DN tư nhân"
    assert (dn.values["co_thoa_uoc"], dn.values["co_ban_ttnd"]) == ("Không", "Có")
    assert {(i.code, i.field) for i in issues} == {("coerced_text_choice", f) for f in (
        "loai_dn", "co_thoa_uoc", "co_ban_ttnd")}
    assert_good_vietnamese(issues)


def test_legacy_font_text_is_converted_in_fields_and_table_rows(run):
    result, issues = run.check("tcvn3")
    assert result.values["nguoi_lap"] == "Nguyễn Văn A" and result.values["tu_danh_gia"] == "Khá"
    row = result.tables["tbl_van_ban"][0]
    assert (row["loai_van_ban"], row["co_quan_ban_hanh"]) == ("Kế hoạch", "Cấp ủy")
    assert row["trich_yeu"] == "Kế hoạch thực hiện QCDC"
    assert {i.code for i in issues} == {"legacy_encoding"} and len(issues) == 5


# ---------------------------------------------------------------- numbers and money


def test_money_written_with_its_unit_is_read_with_a_warning(run):
    result, issues = run.check("money")
    assert result.values["ntm_kinh_phi"] == 1_500_000
    assert result.values["ntm_tong_kinh_phi"] == 1_500_000_000
    assert [(i.code, i.field) for i in issues] == [("coerced_text_number", "ntm_kinh_phi"),
                                                   ("coerced_text_number", "ntm_tong_kinh_phi")]
    assert "1500000000" in issues[1].message


def test_apostrophe_decimals_negatives_and_a_grouped_year(run):
    result, issues = run.check("numbers")
    found = by_field(issues)
    assert result.values["so_dang_vien"] == 45 and ("coerced_text_number", "so_dang_vien") in found
    assert result.values["kt_to_chuc"] == 12 and result.values["nam_thanh_lap_bcd"] == 2018
    assert result.values["so_lao_dong"] is None and "so_lao_dong" in result.invalid
    assert "«12,5» không phải là số nguyên" in found[("wrong_type", "so_lao_dong")].message
    assert result.values["kt_dang_vien"] is None and ("out_of_range", "kt_dang_vien") in found
    assert ("coerced_text_number", "nam_thanh_lap_bcd") in found


# ---------------------------------------------------------------- dates


def test_dates_written_the_many_ways_people_write_them(run):
    result, issues = run.check("dates")
    assert result.values["ngay_lap"] == dt.date(2022, 6, 15)
    days = [r["ngay_ban_hanh"] for r in result.tables["tbl_van_ban"]]
    assert days == [dt.date(2018, 5, 12), dt.date(2018, 5, 12), None]
    month_first = [i for i in issues if i.code == "wrong_type"]
    assert [(i.field, i.cell) for i in month_first] == [
        ("tbl_van_ban.ngay_ban_hanh", f"{run.col(3)}{run.header_row + 3}")]
    assert "tháng/ngày/năm" in month_first[0].message and "tháng 13" in month_first[0].message
    assert sorted(i.code for i in issues) == ["coerced_text_date"] * 3 + ["wrong_type"]


def test_a_year_typed_in_a_date_cell_is_explained(run):
    result, issues = run.check("year_in_date")
    assert [(i.code, i.field, i.severity) for i in issues] == [("out_of_range", "ngay_lap", "error")]
    assert "con số 2022" in issues[0].message and result.values["ngay_lap"] is None


def test_a_date_typed_in_a_number_cell_is_shown_as_a_date(run):
    _, issues = run.check("date_in_int")
    assert [(i.code, i.field) for i in issues] == [("wrong_type", "so_dang_vien")]
    assert "«12/05/2018» không phải là số nguyên" in issues[0].message


# ---------------------------------------------------------------- formulas typed by the unit


def test_a_formula_typed_into_an_input_cell_is_read_but_never_silently(run):
    result, issues = run.check("formula_typed")
    found = by_field(issues)
    assert result.values["so_dang_vien"] == 45
    assert found[("formula_in_input", "so_dang_vien")].value == "=40+5"
    assert found[("formula_in_input", "so_dang_vien")].severity == "warning"
    assert "«45»" in found[("formula_in_input", "so_dang_vien")].message
    assert ("formula_in_input", "ngay_lap") in found  # =TODAY(): changes on every opening
    assert isinstance(result.values["ngay_lap"], dt.date)


def test_a_formula_stored_as_text_is_refused_with_the_reason(run):
    result, issues = run.check("formula_as_text")
    assert [(i.code, i.field) for i in issues] == [("wrong_type", "so_dang_vien")]
    assert "công thức bị lưu dạng chữ" in issues[0].message and result.values["so_dang_vien"] is None


def test_typing_over_a_period_total_formula(run):
    result, issues = run.check("period_total")
    assert ("formula_tampered", "kn_nhan_tong") in by_field(issues)
    assert result.values["kn_nhan_tong"] == sum(result.values[f"kn_nhan_{y}"] for y in range(2017, 2022))


# ---------------------------------------------------------------- the table's rows


def test_a_deleted_row_leaves_the_others(run):
    result, issues = run.check("delete_row")
    assert [r["so_ky_hieu"] for r in result.tables["tbl_van_ban"]] == ["01-KH/ĐU", "03-KH/ĐU"]
    assert result.values["so_van_ban"] == 2
    assert [i.code for i in issues] == ["protection_removed"]


def test_rows_inserted_inside_the_table_are_read_and_the_empty_tt_explained(run):
    result, issues = run.check("insert_rows")
    assert [r["so_ky_hieu"] for r in result.tables["tbl_van_ban"]] == [
        "01-KH/ĐU", "99-QC/ĐU", "02-KH/ĐU", "03-KH/ĐU"]
    assert result.values["so_van_ban"] == 4
    tt = [i for i in issues if i.code == "formula_tampered"]
    assert [(i.field, i.cell) for i in tt] == [("tbl_van_ban.tt", f"{run.col(0)}{run.header_row + 2}")]
    assert "chèn thêm dòng" in tt[0].message and "vẫn được đọc" in tt[0].message


def test_a_sorted_table_is_read_in_its_new_order_with_nothing_lost(run):
    result, issues = run.check("sort")
    assert [r["so_ky_hieu"] for r in result.tables["tbl_van_ban"]] == ["03-KH/ĐU", "02-KH/ĐU", "01-KH/ĐU"]
    assert [i.code for i in issues] == ["protection_removed"]


def test_a_renamed_sheet_changes_nothing(run):
    result, issues = run.check("rename")
    assert issues == [] and result.cells["dvc_4"][0] == "So lieu"


# ---------------------------------------------------------------- other formats


@pytest.mark.parametrize("key, suffix", [("save_xls", "xls"), ("save_ods", "ods")])
def test_a_workbook_saved_in_another_format_is_read_through_libreoffice_with_a_warning(run, key, suffix):
    baseline, _ = run.check("baseline")
    result, issues = run.check(key, suffix)
    assert [i.code for i in issues] == ["converted_file"] and ".xlsx" in issues[0].message
    assert result.status == "ok" and result.values == baseline.values
    assert result.tables == baseline.tables and len(result.tables["tbl_van_ban"]) == 3
