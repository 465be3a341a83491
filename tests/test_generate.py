"""The generated templates: names, protection, validation, tables, formulas and their cached
values, hidden identity, determinism, file names, zip, OOXML validity and the CLI.

Files are read back with openpyxl, as the aggregator and Excel would see them.
"""
import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from ooxml import ooxml_findings
from openpyxl.utils.datetime import to_excel

from conftest import GENERATED_AT
from qcdc_xl.form import formulas
from qcdc_xl.template import metadata
from qcdc_xl.cli import main
from qcdc_xl.template.generate import (GUIDE_SHEET, generate_all, generate_workbook, slugify,
                              template_filename)
from qcdc_xl.template.layout import CHECK_OVERALL_ROW, CHECK_SHEET, plan_layout
from qcdc_xl.form.spec import SpecError
from qcdc_xl.intake.units import Unit

# The formula print area of table sheets is Excel-only; openpyxl says so on every load.

OK = "✔ Đã đủ, hợp lệ"


def _load(path, data_only=False):
    return openpyxl.load_workbook(path, data_only=data_only)


def _named(wb, name):
    """(worksheet, coordinate) of a workbook-scoped name that points at exactly one cell."""
    dests = list(wb.defined_names[name].destinations)
    assert len(dests) == 1, (name, dests)
    sheet, ref = dests[0]
    assert ":" not in ref, (name, ref)
    return wb[sheet], ref.replace("$", "")


def _validations_covering(ws, coord):
    return [dv for dv in ws.data_validations.dataValidation if coord in dv.sqref]


def _list_options(wb, source):
    """The option texts a list validation offers: its source must be a name of a cell range."""
    assert source.startswith("ds_"), source
    (sheet, ref), = wb.defined_names[source].destinations
    return [c.value for row in wb[sheet][ref.replace("$", "")] for c in row]


# ---------------------------------------------------------------- sample returns


def perfect_values(form, loai_hinh):
    """A complete, valid return: every rule holds (left 4, right 5 where a rule compares)."""
    values = {f.id: _good_value(form, f) for f in form.input_fields(loai_hinh)}
    for rule in form.rules_for(loai_hinh):
        bigger = rule.right if rule.op in ("<=", "<") else rule.left
        if form.fields[bigger].type == "int" and bigger in values:
            values[bigger] = 5
    return values


def _good_value(form, f):
    if f.type == "int":
        return f.min if f.min is not None else 4
    if f.type == "money":
        return 2_500_000
    if f.type == "date":
        return dt.date(2022, 6, 15)
    if f.type == "yesno":
        return "Có"
    if f.type == "list":
        return f.options[0]
    return "0912 345 678" if f.id == "dien_thoai" else "Nguyễn Văn An"


PERFECT_ROWS = {
    "tbl_van_ban": [
        {"loai_van_ban": "Kế hoạch", "so_ky_hieu": "11-KH/ĐUK", "ngay_ban_hanh": dt.date(2018, 5, 12),
         "co_quan_ban_hanh": "Lãnh đạo cơ quan, đơn vị", "trich_yeu": "Thực hiện Nghị quyết 02-NQ/TU"},
        {"loai_van_ban": "Quy chế", "so_ky_hieu": "05-QC/CB", "ngay_ban_hanh": dt.date(2019, 3, 1),
         "trich_yeu": "Quy chế dân chủ ở cơ sở", "ghi_chu": "Sửa đổi 2021"},
    ],
    "tbl_mo_hinh": [{"ten_mo_hinh": "Dân vận khéo trong cải cách hành chính",
                     "linh_vuc": "Dân vận khéo", "nam": 2020, "cap_cong_nhan": "Tỉnh"}],
}


def broken_hcsn(form):
    """An HCSN return with one problem of each kind, in known sections."""
    values = perfect_values(form, "HCSN")
    del values["so_dang_vien"]  # to_chuc: required missing
    values["co_ban_chi_dao"] = "Không"  # to_chuc: nam_thanh_lap_bcd must now be empty
    values["dvc_3_4"], values["dvc_4"] = 5, 9  # cai_cach_hanh_chinh: error rule
    values["kn_nhan_2018"], values["kn_gq_2018"] = 5, 7  # don_thu: warning rule
    rows = {k: [dict(r) for r in v] for k, v in PERFECT_ROWS.items()}
    del rows["tbl_van_ban"][1]["trich_yeu"]  # van_ban: required column of a filled row
    return values, rows


@pytest.fixture(scope="module")
def filled(form, sample_units, tmp_path_factory):
    out = tmp_path_factory.mktemp("filled")
    made = {}
    for kind, unit in sample_units.items():
        made[kind] = generate_workbook(form, unit, out / f"perfect_{kind}.xlsx", GENERATED_AT,
                                       values=perfect_values(form, kind), table_rows=PERFECT_ROWS)
    values, rows = broken_hcsn(form)
    made["broken"] = generate_workbook(form, sample_units["HCSN"], out / "broken.xlsx", GENERATED_AT,
                                       values=values, table_rows=rows)
    return made


# ---------------------------------------------------------------- structure


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_sheets_in_order_with_hidden_lists_and_very_hidden_meta(templates, kind):
    wb = _load(templates[kind])
    assert wb.sheetnames == [GUIDE_SHEET, "Thông tin chung", "Phụ lục 1", "Phụ lục 2", CHECK_SHEET,
                             metadata.LISTS_SHEET, metadata.META_SHEET]
    assert wb[metadata.LISTS_SHEET].sheet_state == "hidden"
    assert wb[metadata.META_SHEET].sheet_state == "veryHidden"
    assert all(wb[n].sheet_state == "visible" for n in wb.sheetnames[:5])


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_every_applicable_field_has_a_name_on_one_cell_and_others_have_none(form, templates, kind):
    wb = _load(templates[kind])
    layout = plan_layout(form, kind)
    for f in form.fields.values():
        if f.applies_to(kind):
            ws, coord = _named(wb, f.id)
            assert (ws.title, coord) == layout.field_cells[f.id]
        else:
            assert f.id not in wb.defined_names, f.id
    absent = "hnnld_da_2019" if kind == "HCSN" else "dvc_4"
    assert absent not in wb.defined_names and absent not in layout.field_cells


def test_each_unit_type_shows_only_its_sections_with_official_numbering(templates):
    hcsn = [c.value for c in _load(templates["HCSN"])["Phụ lục 2"]["A"] if isinstance(c.value, str)]
    dn = [c.value for c in _load(templates["DN"])["Phụ lục 2"]["A"] if isinstance(c.value, str)]
    starts = lambda col, n: any(v.startswith(n) for v in col)  # noqa: E731
    assert starts(hcsn, "1. Cải cách") and starts(hcsn, "3. Tổ chức hội nghị cán bộ")
    assert not starts(hcsn, "4. ") and not starts(hcsn, "5. ")
    assert starts(dn, "4. Tổ chức hội nghị người lao động") and starts(dn, "5. ")
    assert not starts(dn, "1. ") and not starts(dn, "3. ")
    assert starts(dn, "8. Điển hình") and starts(hcsn, "8. Điển hình")


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_input_cells_unlocked_with_exactly_one_right_validation(form, templates, kind):
    wb = _load(templates[kind])
    for f in form.input_fields(kind):
        ws, coord = _named(wb, f.id)
        cell = ws[coord]
        assert cell.protection.locked is False, f.id
        dvs = _validations_covering(ws, coord)
        assert len(dvs) == 1, (f.id, len(dvs))
        dv = dvs[0]
        assert dv.errorStyle in (None, "stop") and dv.showErrorMessage and dv.showInputMessage
        assert 0 < len(dv.promptTitle) <= 32 and 0 < len(dv.prompt) <= 255
        if f.type == "int":
            assert dv.type == "whole"
            if f.max is not None:
                assert (dv.operator in (None, "between"), dv.formula1, dv.formula2) == \
                       (True, str(f.min), str(f.max))
            else:
                assert (dv.operator, dv.formula1) == ("greaterThanOrEqual", "0")
        elif f.type == "money":
            assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
        elif f.type == "date":
            assert dv.type == "date"
            assert float(dv.formula1) == to_excel(dt.datetime.combine(f.min, dt.time()))
            assert float(dv.formula2) == to_excel(dt.datetime.combine(f.max, dt.time()))
        elif f.type in ("yesno", "list"):
            assert dv.type == "list"
            assert _list_options(wb, dv.formula1) == list(f.options), f.id
        else:
            assert (dv.type, dv.operator, dv.formula1) == ("textLength", "lessThanOrEqual", "255")


def test_list_with_commas_uses_a_named_range_not_a_literal(form, templates):
    wb = _load(templates["DN"])
    ws, coord = _named(wb, "loai_dn")
    (dv,) = _validations_covering(ws, coord)
    assert '"' not in dv.formula1
    assert "DN cổ phần, DN tư nhân" in _list_options(wb, dv.formula1)


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_identity_cells_hold_the_unit_and_are_locked(form, templates, sample_units, kind):
    wb, unit = _load(templates[kind]), sample_units[kind]
    for f in form.fields_for(kind):
        if f.is_identity:
            ws, coord = _named(wb, f.id)
            assert ws[coord].value == getattr(unit, f.prefill), f.id
            assert ws[coord].protection.locked is True
            assert not _validations_covering(ws, coord)


def test_loai_dn_is_prefilled_but_stays_an_input(templates):
    ws, coord = _named(_load(templates["DN"]), "loai_dn")
    assert ws[coord].value == "DN 100% vốn Nhà nước" and ws[coord].protection.locked is False


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_every_formula_cell_is_locked_and_every_sheet_protected_without_password(templates, kind):
    wb = _load(templates[kind])
    formulas_seen = 0
    for ws in wb.worksheets:
        p = ws.protection
        assert p.sheet is True and not p.password, ws.title
        # "0" in the file = allowed: resizing columns/rows and selecting cells stay possible
        assert (p.formatColumns, p.formatRows, p.selectLockedCells, p.selectUnlockedCells) == \
               (False, False, False, False), ws.title
        assert (p.insertRows, p.deleteRows) == (True, True), ws.title
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    formulas_seen += 1
                    assert c.protection.locked is True, (ws.title, c.coordinate)
    assert formulas_seen > 250  # derived fields, 250 TT cells, checks


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_derived_fields_are_named_locked_formulas_from_formulas_module(form, templates, kind):
    wb = _load(templates[kind])
    layout = plan_layout(form, kind)
    for f in form.formula_fields(kind):
        ws, coord = _named(wb, f.id)
        assert ws[coord].value == formulas.excel_formula(f, layout.count_range), f.id
        if f.type == "rate":
            assert ws[coord].number_format == "0.0%"
    assert wb.defined_names["so_van_ban"] is not None
    ws, coord = _named(wb, "so_van_ban")
    assert ws[coord].value == "=COUNT('Phụ lục 1'!$A$8:$A$207)"


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_tables_exist_with_spec_columns_and_ready_rows(form, templates, kind):
    wb = _load(templates[kind])
    layout = plan_layout(form, kind)
    for t in form.tables_for(kind):
        sheet, ref = layout.table_refs[t.name]
        table = wb[sheet].tables[t.name]
        assert table.ref == ref
        assert [c.name for c in table.tableColumns] == [c.header for c in t.columns]
        first, last = openpyxl.utils.cell.range_boundaries(ref)[1::2]
        assert last - first >= t.ready_rows
        ws = wb[sheet]
        tt = ws.cell(first + 1, openpyxl.utils.cell.range_boundaries(ref)[0])
        assert tt.value.startswith("=IF(COUNTA(") and "ROW()-ROW(" in tt.value and "[" not in tt.value
        # every input column: one validation over all ready rows; unlocked cells
        for j, col in enumerate(t.columns, start=openpyxl.utils.cell.range_boundaries(ref)[0]):
            top, bottom = ws.cell(first + 1, j), ws.cell(last, j)
            if col.is_input:
                dvs = _validations_covering(ws, top.coordinate)
                assert len(dvs) == 1 and bottom.coordinate in dvs[0].sqref, (t.name, col.id)
                assert top.protection.locked is False and bottom.protection.locked is False
                if col.type == "list":
                    assert _list_options(wb, dvs[0].formula1) == list(col.options)


# ---------------------------------------------------------------- cached values


def _section_status(wb, form, layout, section_id):
    for s in layout.sheets:
        for b in s.blocks:
            if b.section.id == section_id:
                return wb[s.name].cell(b.status_row + 1, b.status_cols[0] + 1).value
    raise KeyError(section_id)


def _overall(wb):
    return wb[CHECK_SHEET].cell(CHECK_OVERALL_ROW + 1, 1).value


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_empty_template_caches_blank_rates_zero_sums_and_counts(form, templates, kind):
    wb = _load(templates[kind], data_only=True)
    for f in form.formula_fields(kind):
        ws, coord = _named(wb, f.id)
        expected = {"rate": None, "sum": 0, "count": 0}[f.type]
        assert ws[coord].value == expected, f.id
    assert _overall(wb).startswith("✘ Chưa gửi được: Thiếu ")
    assert _section_status(wb, form, plan_layout(form, kind), "kiem_tra_giam_sat") == OK


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_filled_template_caches_what_compute_derived_says(form, filled, kind):
    wb = _load(filled[kind], data_only=True)
    values = perfect_values(form, kind)
    counts = {"tbl_van_ban": 2, "tbl_mo_hinh": 1}
    expected = formulas.compute_derived(form, kind, values, counts)
    for fid, value in expected.items():
        ws, coord = _named(wb, fid)
        assert ws[coord].value == pytest.approx(value), fid
    if kind == "HCSN":
        assert _named_value(wb, "hnccc_tl_2019") == pytest.approx(0.8)
        assert _named_value(wb, "kn_nhan_tong") == 25
    ws = wb["Phụ lục 1"]
    assert [ws.cell(r, 1).value for r in (8, 9, 10)] == [1, 2, None]
    assert _overall(wb) == "✔ Biểu mẫu đã đủ và hợp lệ: có thể gửi"


def _named_value(wb, name):
    ws, coord = _named(wb, name)
    return ws[coord].value


def test_status_cells_count_each_kind_of_problem(form, filled):
    wb = _load(filled["broken"], data_only=True)
    layout = plan_layout(form, "HCSN")
    assert _section_status(wb, form, layout, "to_chuc") == "✘ Thiếu 1 ô bắt buộc; 1 ô phải để trống"
    assert _section_status(wb, form, layout, "cai_cach_hanh_chinh") == "✘ 1 số liệu mâu thuẫn"
    assert _section_status(wb, form, layout, "don_thu") == "⚠ Cần xem lại 1 số liệu"
    assert _section_status(wb, form, layout, "van_ban") == "✘ Thiếu 1 ô bắt buộc"
    assert _section_status(wb, form, layout, "nong_thon_moi") == OK
    assert _overall(wb) == ("✘ Chưa gửi được: Thiếu 2 ô bắt buộc; 1 ô phải để trống; "
                            "1 số liệu mâu thuẫn; 1 số liệu cần xem lại")


def _lo_recalculated(path: Path, out_dir: Path) -> Path:
    """Open in LibreOffice with "always recalculate" and save as .xlsx again."""
    profile = out_dir / "profile" / "user"
    profile.mkdir(parents=True)
    (profile / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" '
        'oor:op="fuse"><value>0</value></prop></item></oor:items>', encoding="utf-8")
    conv = out_dir / "conv"
    subprocess.run(["soffice", f"-env:UserInstallation={(out_dir / 'profile').as_uri()}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(conv), str(path)],
                   check=True, capture_output=True, timeout=180)
    return conv / path.name


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_opens_it_and_recomputes_the_same_values_as_cached(filled, tmp_path):
    """The Excel formulas and their Python twins agree: LibreOffice recalculates every formula
    of the broken return and gets the values the generator cached."""
    original = filled["broken"]
    recalculated = _lo_recalculated(original, tmp_path)
    formulas_wb, cached, fresh = _load(original), _load(original, True), _load(recalculated, True)
    compared = 0
    for ws in formulas_wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    want = cached[ws.title][c.coordinate].value
                    got = fresh[ws.title][c.coordinate].value
                    want, got = (None if v == "" else v for v in (want, got))
                    assert got == pytest.approx(want), (ws.title, c.coordinate, c.value)
                    compared += 1
    assert compared > 250


# ---------------------------------------------------------------- identity, determinism, files


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_meta_sheet_and_custom_properties_carry_a_valid_tag(templates, sample_units, kind):
    wb = _load(templates[kind])
    ws = wb[metadata.META_SHEET]
    meta = {r[0]: r[1] for r in ws.iter_rows(values_only=True)}
    assert set(meta) == set(metadata.KEYS)
    assert metadata.tag_matches(meta)
    assert meta["ma_don_vi"] == sample_units[kind].ma_don_vi and meta["loai_hinh"] == kind
    assert meta["generated_at"] == GENERATED_AT.isoformat()
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert {k: props[metadata.PROP_PREFIX + k] for k in metadata.KEYS} == meta
    assert wb.properties.creator == "qcdc-xl" and wb.properties.created == GENERATED_AT


def test_copying_another_units_meta_breaks_the_tag(templates):
    meta = {r[0]: r[1] for r in _load(templates["HCSN"])[metadata.META_SHEET].iter_rows(values_only=True)}
    assert not metadata.tag_matches({**meta, "ma_don_vi": "EVN_HT"})


def test_same_generated_at_gives_byte_identical_files(form, sample_units, tmp_path):
    a, _ = generate_all(form, list(sample_units.values()), tmp_path / "a", generated_at=GENERATED_AT)
    b, _ = generate_all(form, list(sample_units.values()), tmp_path / "b", generated_at=GENERATED_AT)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c, _ = generate_all(form, list(sample_units.values())[:1], tmp_path / "c",
                        generated_at=GENERATED_AT + dt.timedelta(seconds=1))
    assert c[0].read_bytes() != a[0].read_bytes()


def test_file_name_is_code_and_ascii_slug_of_the_vietnamese_name():
    unit = Unit("DU-07", "Đảng ủy Sở Giáo dục và Đào tạo (cơ quan)", "HCSN")
    assert template_filename(unit) == "DU-07_dang_uy_so_giao_duc_va_dao_tao_co_quan.xlsx"
    assert slugify("Trường Đại học — Hà Tĩnh!!") == "truong_dai_hoc_ha_tinh"
    assert len(slugify("Công ty " * 30)) <= 60 and not slugify("Công ty " * 30).endswith("_")
    assert template_filename(Unit("X1", "—", "DN")) == "X1.xlsx"


def test_generate_all_writes_into_a_vietnamese_folder_and_zips_every_file(form, sample_units, tmp_path):
    out = tmp_path / "Biểu mẫu đơn vị" / "Đợt 1"
    paths, zip_path = generate_all(form, list(sample_units.values()), out, make_zip=True,
                                   generated_at=GENERATED_AT)
    assert all(p.parent == out and p.is_file() for p in paths)
    assert zip_path == out / "qcdc_nq02_sk5_bieu_mau.zip"
    with zipfile.ZipFile(zip_path) as zf:
        assert sorted(zf.namelist()) == sorted(p.name for p in paths)
        assert all(zf.read(p.name) == p.read_bytes() for p in paths)


def test_too_long_help_text_is_refused_naming_the_field(form, sample_units, tmp_path):
    from dataclasses import replace
    fields = dict(form.fields)
    fields["so_dang_vien"] = replace(fields["so_dang_vien"], help="Rất dài. " * 40)
    with pytest.raises(SpecError) as err:
        generate_workbook(replace(form, fields=fields), sample_units["HCSN"], tmp_path / "x.xlsx")
    assert "so_dang_vien" in str(err.value) and "255" in str(err.value)
    assert f"dòng {form.fields['so_dang_vien'].line}" in str(err.value)


def test_values_for_a_field_the_unit_does_not_have_are_refused(form, sample_units, tmp_path):
    with pytest.raises(ValueError, match="hnnld_da_2019"):
        generate_workbook(form, sample_units["HCSN"], tmp_path / "x.xlsx", values={"hnnld_da_2019": 1})


# ---------------------------------------------------------------- print and look


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_print_setup_is_a4_fit_to_width_with_footer_and_frozen_headers(templates, kind):
    wb = _load(templates[kind])
    for name in wb.sheetnames[:5]:
        ws = wb[name]
        assert ws.page_setup.paperSize == 9, name
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
        assert ws.page_setup.fitToHeight == 0, name
        assert "Trang &P/&N" in ws.oddFooter.right.text and ws.oddFooter.left.text
        assert ws.sheet_view.showGridLines is False
    assert wb["Thông tin chung"].page_setup.orientation == "portrait"
    assert wb["Phụ lục 1"].page_setup.orientation == "landscape"
    assert wb["Phụ lục 1"].print_title_rows == "$7:$7" and wb["Phụ lục 1"].freeze_panes == "A8"
    assert wb["Thông tin chung"].freeze_panes is not None


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_official_titles_and_times_new_roman(form, templates, sample_units, kind):
    wb = _load(templates[kind])
    p1, p2 = wb["Phụ lục 1"], wb["Phụ lục 2"]
    assert [p1.cell(r, 1).value for r in (1, 2, 3)] == [
        "PHỤ LỤC 1", "DANH MỤC CÁC VĂN BẢN ĐÃ BAN HÀNH GIAI ĐOẠN 2017-2022", form.subtitle]
    assert [p2.cell(r, 1).value for r in (1, 2)] == ["PHỤ LỤC 2: VỀ SỐ LIỆU", form.subtitle]
    assert sample_units[kind].ten_don_vi in p1.cell(4, 1).value
    for ws in (p1, p2, wb["Thông tin chung"], wb[GUIDE_SHEET], wb[CHECK_SHEET]):
        # no theme scheme: a "minor" scheme font would be shown as the theme's Calibri
        fonts = {(c.font.name, c.font.scheme) for row in ws.iter_rows() for c in row if c.value is not None}
        assert fonts == {("Times New Roman", None)}, (ws.title, fonts)


def test_required_empty_cells_are_highlighted_by_conditional_formatting(form, templates):
    wb = _load(templates["HCSN"])
    ws, coord = _named(wb, "so_dang_vien")
    rules = [r for cf in ws.conditional_formatting for r in cf.rules if coord in cf.sqref]
    assert any("LEN(so_dang_vien)=0" in f for r in rules for f in r.formula)


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_every_text_is_nfc(templates, kind):
    import unicodedata
    wb = _load(templates[kind])
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    assert unicodedata.is_normalized("NFC", c.value), (ws.title, c.coordinate)
        for dv in ws.data_validations.dataValidation:
            assert all(unicodedata.is_normalized("NFC", t or "") for t in (dv.prompt, dv.error))


def test_guide_tells_rows_ready_and_what_not_to_do(templates):
    text = " ".join(str(c.value) for row in _load(templates["HCSN"])[GUIDE_SHEET].iter_rows()
                    for c in row if c.value)
    for words in ("200 dòng", "50 dòng", "Không đổi tên", "Unprotect", "đơn vị khác", "màu xanh",
                  "SNV_so_ngoai_vu_tinh_ha_tinh.xlsx", "Ô nhập liệu"):
        assert words in text, words


# ---------------------------------------------------------------- validity and CLI


def test_every_generated_file_passes_openxml_audit(templates, filled):
    for path in [*templates.values(), *filled.values()]:
        assert ooxml_findings(path) == [], path.name


def _cli(args):
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output + (getattr(result, "stderr", "") or "")


def test_cli_generate_writes_every_unit(tmp_path):
    units = tmp_path / "don_vi.csv"
    units.write_text("Mã đơn vị,Tên đơn vị,Loại hình,Khối\nSNV,Sở Ngoại vụ,HCSN,Khối cơ quan\n"
                     "EVN,Công ty Điện lực,DN,Khối doanh nghiệp\n", encoding="utf-8-sig")
    code, out = _cli(["generate", "--units", str(units), "--out", str(tmp_path / "out"), "--zip"])
    assert code == 0, out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "EVN_cong_ty_dien_luc.xlsx", "SNV_so_ngoai_vu.xlsx", "qcdc_nq02_sk5_bieu_mau.zip"]


@pytest.mark.parametrize("rows,words", [
    ("SNV,Sở Ngoại vụ,HCSN\nSNV,Sở Tư pháp,HCSN\n", ["dòng 3", "SNV", "trùng"]),
    ("SNV,Sở Ngoại vụ,HCSN\nSTP,Sở Tư pháp,Hợp tác xã\n", ["dòng 3", "Hợp tác xã", "loại hình"]),
])
def test_cli_bad_units_list_exits_2_naming_the_row(tmp_path, rows, words):
    units = tmp_path / "don_vi.csv"
    units.write_text("ma_don_vi,ten_don_vi,loai_hinh\n" + rows, encoding="utf-8")
    code, out = _cli(["generate", "--units", str(units), "--out", str(tmp_path / "out")])
    assert code == 2
    assert all(w in out for w in words), out
    assert "Traceback" not in out and not (tmp_path / "out").exists()


def test_a_yearly_row_required_every_year_keeps_the_plain_mark():
    """nq02's yearly rows are required every year; their period total (a formula) must not make
    them look required only from a year («* (từ …)» is for required_from rows)."""
    from qcdc_xl.form.spec import load_form as _load
    from qcdc_xl.template.content import field_label
    from qcdc_xl.template.layout import plan_layout
    form = _load("nq02_sk5")
    for loai in form.type_ids:
        rows = [fr for s in plan_layout(form, loai).sheets for b in s.blocks for fr in b.rows]
        yearly = [fr for fr in rows if fr.required and len(fr.cells) > 1]
        assert yearly and all(field_label(fr).endswith(" *") for fr in yearly)
        assert not any(fr.required_from for fr in rows)
