"""The checks: each issue code at the right unit, field and cell; what counts and what not."""
import datetime as dt
import functools

import pytest
from openpyxl.utils.cell import range_boundaries

import builders as b
from fill import name_cell
from qcdc_xl.template import metadata
from qcdc_xl.validate.check import check_return
from qcdc_xl.intake.read import read_return

UNITS = {u.ma_don_vi: u for u in (b.HCSN_UNIT, b.DN_UNIT)}
DOC = ["Kế hoạch", "11-KH/ĐUK", dt.datetime(2018, 5, 12), "Cấp ủy", "Kế hoạch thực hiện QCDC"]


@pytest.fixture(scope="module")
def templates(form, tmp_path_factory):
    d = tmp_path_factory.mktemp("templates")
    return {"HCSN": b.make_template(form, b.HCSN_UNIT, d / "hcsn.xlsx"),
            "DN": b.make_template(form, b.DN_UNIT, d / "dn.xlsx")}


@functools.lru_cache(maxsize=None)
def cell(template, name):
    return b.cell_of(template, name)[1]


@pytest.fixture
def check(form, templates, tmp_path):
    """Fill a complete, valid return of the unit type, change what the test says, check it."""
    def run(kind="HCSN", values=None, rows=None, cells=None, edit=None, units=UNITS, complete=True):
        filled = dict(b.complete_values(form, kind)) if complete else {}
        filled.update(values or {})
        out = b.fill(templates[kind], tmp_path / f"{kind}.xlsx", values=filled, rows=rows,
                     cells=cells, edit=edit)
        return check_return(form, read_return(out, out.name, form), units)
    return run


def flat(result, code=None):
    return [i.as_tuple() for i in result.issues if code is None or i.code == code]


# ---------------------------------------------------------------- a good return


def test_a_complete_return_is_ok_and_counts_everything(check, form, templates):
    result = check("DN", rows={"tbl_van_ban": [DOC]})
    assert result.status == "ok" and result.issues == []
    assert result.unit == b.DN_UNIT and result.file == "DN.xlsx"
    assert set(result.values) == {f.id for f in form.fields_for("DN")}
    assert result.values["so_dang_vien"] == 40 and result.values["loai_dn"] == "DN 100% vốn Nhà nước"
    assert result.values["hnnld_tl_2019"] == 0.5  # recomputed: 1 of 2
    assert result.values["so_van_ban"] == 1 and result.values["so_mo_hinh"] == 0
    assert result.tables["tbl_van_ban"] == [{
        "loai_van_ban": "Kế hoạch", "so_ky_hieu": "11-KH/ĐUK", "ngay_ban_hanh": dt.date(2018, 5, 12),
        "co_quan_ban_hanh": "Cấp ủy", "trich_yeu": "Kế hoạch thực hiện QCDC", "ghi_chu": None}]
    assert result.cells["so_dang_vien"] == b.cell_of(templates["DN"], "so_dang_vien")


def test_derived_values_are_recomputed_not_taken_from_the_cache(check, templates):
    def edit(wb):  # a stale cached value cannot survive: openpyxl drops them; put a lie there
        name_cell(wb, "hnnld_tl_2019").value = 0.99
    result = check("DN", values={"hnnld_phai_2019": 4, "hnnld_da_2019": 3}, edit=edit)
    assert result.values["hnnld_tl_2019"] == 0.75
    assert ("formula_tampered", "hnnld_tl_2019", cell(templates["DN"], "hnnld_tl_2019")) in flat(result)


# ---------------------------------------------------------------- identity


def test_not_a_form(form, tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Bảng kê"
    wb.save(tmp_path / "other.xlsx")
    result = check_return(form, read_return(tmp_path / "other.xlsx", "other.xlsx", form), UNITS)
    assert flat(result) == [("not_a_form", None, None)] and result.status == "errors"


def test_a_form_of_another_id_is_not_a_form(check):
    def edit(wb):
        wb["_qcdc_meta"]["B1"] = "bieu_khac"
    result = check(edit=edit)
    assert flat(result) == [("not_a_form", None, None)]


def test_a_copy_of_another_units_template(check):
    def edit(wb):  # the unit edited the hidden code: the tag no longer matches
        wb["_qcdc_meta"]["B3"] = "DN01"
    result = check(edit=edit)
    assert ("identity_mismatch", None, None) in flat(result)


def test_identity_cell_edited(check, templates):
    result = check(values={"ma_don_vi": "CQ99"})
    assert flat(result, "identity_mismatch") == [
        ("identity_mismatch", "ma_don_vi", cell(templates["HCSN"], "ma_don_vi"))]
    assert result.issues[0].ma_don_vi == "CQ01"


def test_unknown_unit(check, templates):
    result = check(units={"DN01": b.DN_UNIT})
    assert flat(result) == [("unknown_unit", "ma_don_vi", cell(templates["HCSN"], "ma_don_vi"))]
    assert result.unit.ma_don_vi == "CQ01" and result.unit.loai_hinh == "HCSN"
    assert result.unit.ten_don_vi == b.HCSN_UNIT.ten_don_vi


def _set_version(wb, version):
    meta = {wb["_qcdc_meta"].cell(r, 1).value: r for r in range(1, 7)}
    wb["_qcdc_meta"].cell(meta["form_version"], 2).value = version
    tag = metadata.integrity_tag("nq02_sk5", version, "CQ01")
    wb["_qcdc_meta"].cell(meta["integrity_tag"], 2).value = tag


def test_older_version_with_every_name_is_a_warning(check):
    result = check(edit=lambda wb: _set_version(wb, "2021.9"))
    assert flat(result) == [("form_version_mismatch", None, None)]
    assert result.issues[0].severity == "warning" and result.status == "ok"


def test_older_version_missing_names_is_an_error(check):
    def edit(wb):
        _set_version(wb, "2021.9")
        del wb.defined_names["dttt_so_cuoc_2021"]
    result = check(edit=edit)
    assert ("form_version_mismatch", None, None) in flat(result)
    assert [i.severity for i in result.issues if i.code == "form_version_mismatch"] == ["error"]


# ---------------------------------------------------------------- structure


def test_formula_overwritten(check, templates):
    def edit(wb):
        name_cell(wb, "so_van_ban").value = 5
    result = check(edit=edit)
    assert flat(result) == [("formula_tampered", "so_van_ban", cell(templates["HCSN"], "so_van_ban"))]
    assert result.values["so_van_ban"] == 0  # recomputed from the rows, not the 5 typed


def test_tt_column_overwritten(check, templates):
    sheet, ref = b.table_ref(templates["HCSN"], "tbl_van_ban")
    min_col, min_row, _, _ = range_boundaries(ref)
    tt = f"{chr(64 + min_col)}{min_row + 2}"
    result = check(rows={"tbl_van_ban": [DOC, ["Quy chế", "02-QC", dt.datetime(2019, 1, 2), None, "x"]]},
                   cells=[(sheet, tt, 2)])
    assert flat(result) == [("formula_tampered", "tbl_van_ban.tt", tt)]


def test_protection_removed(check):
    def edit(wb):
        wb["Phụ lục 2"].protection.sheet = False
    result = check(edit=edit)
    assert [(i.code, i.sheet, i.severity) for i in result.issues] == [
        ("protection_removed", "Phụ lục 2", "warning")]


def test_inserted_rows_and_renamed_sheet_are_not_tampering(check, templates):
    _, ref = b.table_ref(templates["HCSN"], "tbl_van_ban")

    def edit(wb):
        b.insert_rows(wb, "Phụ lục 1", range_boundaries(ref)[1], 2)
        b.insert_rows(wb, "Phụ lục 2", 3, 1)
        b.rename_sheet(wb, "Phụ lục 2", "Số liệu")
    result = check(rows={"tbl_van_ban": [DOC]}, edit=edit)
    assert result.issues == [] and result.values["so_van_ban"] == 1
    assert result.cells["dvc_4"][0] == "Số liệu"


# ---------------------------------------------------------------- single values


def test_required_missing(check, templates):
    result = check(values={"so_dang_vien": None, "kn_nhan_2019": "  "})
    assert flat(result) == [("required_missing", "so_dang_vien", cell(templates["HCSN"], "so_dang_vien")),
                            ("required_missing", "kn_nhan_2019", cell(templates["HCSN"], "kn_nhan_2019"))]
    assert result.values["so_dang_vien"] is None and result.status == "errors"


def test_only_if_required_and_must_be_empty(check, templates):
    where = cell(templates["HCSN"], "nam_thanh_lap_bcd")
    missing = check(values={"co_ban_chi_dao": "Có", "nam_thanh_lap_bcd": None})
    assert flat(missing) == [("required_missing", "nam_thanh_lap_bcd", where)]
    extra = check(values={"co_ban_chi_dao": "Không", "nam_thanh_lap_bcd": 2019})
    assert flat(extra) == [("constraint_violated", "nam_thanh_lap_bcd", where)]
    assert "phải để trống" in extra.issues[0].message and "nam_thanh_lap_bcd" in extra.invalid


def test_wrong_type_is_left_out_and_the_rest_counts(check, templates):
    result = check(values={"so_dang_vien": "bốn mươi", "ngay_lap": "đầu năm"})
    assert flat(result) == [("wrong_type", "so_dang_vien", cell(templates["HCSN"], "so_dang_vien")),
                            ("wrong_type", "ngay_lap", cell(templates["HCSN"], "ngay_lap"))]
    assert result.invalid == {"so_dang_vien", "ngay_lap"}
    assert result.values["so_dang_vien"] is None and result.values["so_lao_dong"] == 120
    assert result.issues[0].value == "bốn mươi"


@pytest.mark.parametrize("fid, typed", [("nam_thanh_lap_bcd", 1990), ("so_lao_dong", -5),
                                        ("tu_danh_gia", "Xuất sắc"), ("ngay_lap", dt.datetime(1999, 1, 1))])
def test_out_of_range(check, templates, fid, typed):
    result = check(values={fid: typed})
    assert flat(result) == [("out_of_range", fid, cell(templates["HCSN"], fid))]
    assert result.issues[0].severity == "error" and fid in result.invalid


def test_warn_min_is_a_warning_and_the_value_counts(check, templates):
    result = check(values={"ngay_lap": dt.datetime(2021, 12, 1)})
    assert flat(result) == [("out_of_range", "ngay_lap", cell(templates["HCSN"], "ngay_lap"))]
    assert result.issues[0].severity == "warning" and result.values["ngay_lap"] == dt.date(2021, 12, 1)


def test_phone_pattern_is_a_warning(check, templates):
    result = check(values={"dien_thoai": "gọi chị Hà"})
    assert [(i.code, i.field, i.cell, i.severity) for i in result.issues] == [
        ("wrong_type", "dien_thoai", cell(templates["HCSN"], "dien_thoai"), "warning")]
    assert result.status == "ok"


def test_coercions_are_warnings_and_count(check, templates):
    result = check(values={"so_dang_vien": "1.234", "ngay_lap": "12/5/2022", "co_cong_doan": "x",
                           "tu_danh_gia": "Kh¸"})
    c = functools.partial(cell, templates["HCSN"])
    assert flat(result) == [("coerced_text_number", "so_dang_vien", c("so_dang_vien")),
                            ("coerced_text_choice", "co_cong_doan", c("co_cong_doan")),
                            ("legacy_encoding", "tu_danh_gia", c("tu_danh_gia")),
                            ("coerced_text_date", "ngay_lap", c("ngay_lap")),
                            ("constraint_violated", "so_lao_dong", c("so_lao_dong"))]  # 120 < 1234
    assert result.values["so_dang_vien"] == 1234 and result.values["tu_danh_gia"] == "Khá"
    assert result.values["ngay_lap"] == dt.date(2022, 5, 12) and result.status == "ok"


def test_not_applicable_value_is_reported_and_left_out(check):
    def edit(wb):  # a DN-only field found in an HCSN unit's file
        from openpyxl.workbook.defined_name import DefinedName
        wb.defined_names["co_thoa_uoc"] = DefinedName("co_thoa_uoc", attr_text="'Thông tin chung'!$K$3")
        wb["Thông tin chung"]["K3"] = "Có"
    result = check(edit=edit)
    assert flat(result) == [("not_applicable", "co_thoa_uoc", "K3")]
    assert "co_thoa_uoc" not in result.values


# ---------------------------------------------------------------- rules


def test_rule_error_at_the_left_field(check, templates):
    result = check("DN", values={"hnnld_phai_2019": 10, "hnnld_da_2019": 12})
    assert flat(result) == [("constraint_violated", "hnnld_da_2019", cell(templates["DN"], "hnnld_da_2019"))]
    issue = result.issues[0]
    assert issue.severity == "error" and issue.ma_don_vi == "DN01" and issue.value == "12"
    assert issue.message.startswith(f"Trang «Phụ lục 2», ô {issue.cell} (Số doanh nghiệp, đơn vị đã tổ "
                                    f"chức năm 2019): giá trị 12 lớn hơn «Số doanh nghiệp, đơn vị phải tổ chức "
                                    f"năm 2019» (10).")
    # One of the two numbers is wrong: neither may reach a total, and the year's rate is blank.
    assert result.values["hnnld_da_2019"] is None and result.values["hnnld_phai_2019"] is None
    assert {"hnnld_da_2019", "hnnld_phai_2019"} <= result.invalid
    assert result.values["hnnld_tl_2019"] is None
    assert result.values["hnnld_phai_2020"] is not None  # other years still count
    assert "không được tính vào tổng hợp" in issue.message


def test_rule_warning(check, templates):
    result = check(values={"kn_nhan_2020": 1, "kn_gq_2020": 3})
    assert [(i.code, i.field, i.cell, i.severity) for i in result.issues] == [
        ("constraint_violated", "kn_gq_2020", cell(templates["HCSN"], "kn_gq_2020"), "warning")]
    # A backlog from an earlier year is legitimate: both figures keep counting.
    assert (result.values["kn_nhan_2020"], result.values["kn_gq_2020"]) == (1, 3)
    assert result.values["kn_tl_2020"] == 3


# ---------------------------------------------------------------- tables


def test_table_rows_checked_cell_by_cell(check, templates):
    sheet, ref = b.table_ref(templates["HCSN"], "tbl_van_ban")
    min_col, min_row, _, _ = range_boundaries(ref)
    col = {c: chr(64 + min_col + i) for i, c in enumerate(
        ["tt", "loai_van_ban", "so_ky_hieu", "ngay_ban_hanh", "co_quan_ban_hanh", "trich_yeu", "ghi_chu"])}
    row = lambda n: min_row + n  # noqa: E731
    rows = [DOC,
            ["Công văn", "11-KH/ĐUK", "3/3/2017", "Ban Giám đốc", None],
            [None, "05-TB", "không rõ", None, "Thông báo kết quả"]]
    result = check(rows={"tbl_van_ban": rows})
    t = "tbl_van_ban."
    assert flat(result) == [
        ("coerced_text_date", t + "ngay_ban_hanh", f"{col['ngay_ban_hanh']}{row(2)}"),
        ("out_of_range", t + "ngay_ban_hanh", f"{col['ngay_ban_hanh']}{row(2)}"),  # before 12/5/2017
        ("out_of_range", t + "co_quan_ban_hanh", f"{col['co_quan_ban_hanh']}{row(2)}"),
        ("required_missing", t + "trich_yeu", f"{col['trich_yeu']}{row(2)}"),
        ("required_missing", t + "loai_van_ban", f"{col['loai_van_ban']}{row(3)}"),
        ("wrong_type", t + "ngay_ban_hanh", f"{col['ngay_ban_hanh']}{row(3)}"),
        ("constraint_violated", t + "so_ky_hieu", f"{col['so_ky_hieu']}{row(2)}"),  # duplicate
    ]
    severities = [i.severity for i in result.issues]
    assert severities == ["warning", "warning", "error", "error", "error", "error", "warning"]
    assert "Nghị quyết 02-NQ/TU" in result.issues[1].message  # the spec's warn_min_message
    assert [r["ngay_ban_hanh"] for r in result.tables["tbl_van_ban"]] == [
        dt.date(2018, 5, 12), dt.date(2017, 3, 3), None]
    assert result.tables["tbl_van_ban"][1]["co_quan_ban_hanh"] is None
    assert result.values["so_van_ban"] == 3


def test_rows_below_a_table_count_with_a_warning(check, templates):
    sheet, ref = b.table_ref(templates["DN"], "tbl_mo_hinh")
    min_col, _, _, max_row = range_boundaries(ref)

    def edit(wb):
        wb[sheet].protection.sheet = False
    result = check("DN", rows={"tbl_mo_hinh": [["Mô hình 1"]]}, edit=edit,
                   cells=[(sheet, f"{chr(65 + min_col)}{max_row + 1}", "Mô hình 2")])
    assert flat(result) == [("data_outside_table", None, f"{chr(65 + min_col)}{max_row + 1}"),
                            ("protection_removed", None, None)]
    assert [i.ma_don_vi for i in result.issues] == ["DN01", "DN01"]
    assert [r["ten_mo_hinh"] for r in result.tables["tbl_mo_hinh"]] == ["Mô hình 1", "Mô hình 2"]
    assert result.values["so_mo_hinh"] == 2


# ---------------------------------------------------------------- mistakes people make
# (made in LibreOffice in tests/test_real_client_mistakes.py; here what openpyxl can make)


def test_a_formula_without_a_saved_result_in_an_input_cell_is_refused(check, templates):
    def edit(wb):  # a script or an odd program saves formulas without their results
        name_cell(wb, "so_dang_vien").value = "=40+5"
    result = check(edit=edit)
    assert flat(result) == [("wrong_type", "so_dang_vien", cell(templates["HCSN"], "so_dang_vien"))]
    assert result.issues[0].value == "=40+5" and "công thức" in result.issues[0].message
    assert "so_dang_vien" in result.invalid and result.values["so_dang_vien"] is None


def test_sheets_copied_into_a_new_workbook_say_so(form, templates, tmp_path):
    import openpyxl
    filled = b.fill(templates["HCSN"], tmp_path / "filled.xlsx", values=b.complete_values(form, "HCSN"))
    src, new = openpyxl.load_workbook(filled), openpyxl.Workbook()
    new.remove(new.active)
    for ws in src.worksheets:
        if ws.sheet_state == "visible":
            copy = new.create_sheet(ws.title)
            for row in ws.iter_rows():
                for c in row:
                    copy[c.coordinate] = c.value
    new.save(tmp_path / "copy.xlsx")
    result = check_return(form, read_return(tmp_path / "copy.xlsx", "copy.xlsx", form), UNITS)
    assert flat(result) == [("not_a_form", None, None)]
    assert "chép" in result.issues[0].message and "tệp mới" in result.issues[0].message


def test_an_empty_tt_cell_in_a_filled_row_explains_inserted_rows(check, templates):
    sheet, ref = b.table_ref(templates["HCSN"], "tbl_van_ban")
    min_col, min_row, _, _ = range_boundaries(ref)
    tt = f"{chr(64 + min_col)}{min_row + 1}"

    def edit(wb):
        wb[sheet][tt].value = None
    result = check(rows={"tbl_van_ban": [DOC]}, edit=edit)
    assert flat(result) == [("formula_tampered", "tbl_van_ban.tt", tt)]
    assert "chèn thêm dòng" in result.issues[0].message and result.values["so_van_ban"] == 1


def test_month_first_date_and_a_year_in_a_date_cell_are_explained(check, templates):
    result = check(values={"ngay_lap": "6/15/2022"})
    assert flat(result) == [("wrong_type", "ngay_lap", cell(templates["HCSN"], "ngay_lap"))]
    assert "tháng/ngày/năm" in result.issues[0].message
    result = check(values={"ngay_lap": dt.datetime(1905, 7, 14)})  # 2022 typed, shown as a date
    assert flat(result) == [("out_of_range", "ngay_lap", cell(templates["HCSN"], "ngay_lap"))]
    assert "con số 2022" in result.issues[0].message


@pytest.mark.parametrize("sheet", ["Phụ lục 1", "Phụ lục 2"])
def test_a_deleted_sheet_is_one_error_naming_it(check, sheet):
    result = check(edit=lambda wb: wb.remove(wb[sheet]))
    assert [(i.code, i.sheet, i.cell, i.severity) for i in result.issues] == [
        ("required_missing", sheet, None, "error")]
    assert "không còn trong tệp" in result.issues[0].message
    assert result.status == "errors"


@pytest.mark.parametrize("where", ["another_sheet", "meta_sheet"])
def test_a_name_moved_to_another_sheet_is_reported(check, form, where):
    """A field's name re-pointed at another sheet than its section's (or at the hidden meta
    sheet): the cell read may not be the field's (each template sheet's fields all on one
    sheet, the usual return, is passed over at once)."""
    from openpyxl.workbook.defined_name import DefinedName

    sheet = "Phụ lục 2" if where == "another_sheet" else metadata.META_SHEET
    moved = next(f.id for f in form.fields_for("HCSN") if form.sheet(f.sheet).name == "Thông tin chung")

    def edit(wb):
        names = wb.defined_names
        del names[moved]
        names[moved] = DefinedName(moved, attr_text=f"'{sheet}'!$Z$90")
    result = check("HCSN", edit=edit)
    found = [i for i in result.issues if i.code == "damaged_part" and i.field == moved]
    assert found and f"trang «{sheet}»" in found[0].message
    assert not [i for i in check("HCSN").issues if i.code == "damaged_part"]
