"""The form language beyond the first campaign: any unit types (aliases, attributes), named
groups, a levels dimension, per-year requirements, rules over sums with conditions, and a
table that must hold a certain row. A small form written inline goes through the loader,
the units list, the generator and the checks; nothing here is in the Python."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from qcdc_xl.form import formulas
from qcdc_xl.cli import main
from qcdc_xl.template.layout import plan_layout
from qcdc_xl.form.spec import SpecError, load_form_text
from qcdc_xl.intake.units import UnitsError, load_units

FORM = """\
form:
  id: thu_cap
  version: "1"
  name: Thử biểu mẫu theo cấp
  years: {from: 2018, to: 2020}
  reporting_window: {from: 2021-01-01, to: 2021-12-31}
unit_types:
  HUYEN:
    label: Huyện ủy, thị ủy, thành ủy
    subject: huyện, thị, thành ủy
    aliases: [huyện, cấp huyện]
    attributes:
      vung:
        label: Vùng
        options: vung
        aliases: [khu vực]
  SO: {label: "Sở, ban, ngành tỉnh", aliases: [sở, ngành]}
  TINH: Ban Chỉ đạo tỉnh
unit_groups:
  DIA_PHUONG: {label: Các địa phương, types: [HUYEN, TINH]}
levels: {tinh: Cấp tỉnh, huyen: Cấp huyện, xa: Cấp xã}
option_lists:
  co_khong: [Có, Không]
  vung: [Miền núi, Đồng bằng]
  loai: [Kế hoạch, Chỉ thị, Khác]
sheets:
  - id: chung
    name: Thông tin chung
    title: THÔNG TIN CHUNG
    sections:
      - id: dinh_danh
        fields:
          - {id: ma_don_vi, label: Mã đơn vị, type: text, prefill: ma_don_vi}
          - {id: ten_don_vi, label: Tên đơn vị, type: text, prefill: ten_don_vi}
          - {id: loai_hinh, label: Loại hình, type: text, prefill: loai_hinh}
          - {id: ngay_lap, label: Ngày lập, type: date, required: true}
  - id: so_lieu
    name: Số liệu
    title: SỐ LIỆU
    sections:
      - id: ho_so
        title: 1. Hồ sơ theo cấp
        applies: [SO, HUYEN]
        layout: levels
        levels: {tinh: SO, huyen: HUYEN, xa: HUYEN}
        fields:
          - {id: hs_dung, label: Đúng hạn, type: int, required: true}
          - {id: hs_tre, label: Trễ hạn, type: int, required: true}
          - {id: hs_tong, label: Đã giải quyết, type: sum, of: [hs_dung, hs_tre]}
          - {id: hs_tiep_nhan, label: Tiếp nhận, type: int}
          - {id: hs_tl, label: Tỷ lệ đúng hạn, type: rate, num: hs_dung, den: hs_tong}
        rules:
          - {id: gq_vuot_tn, check: hs_tong <= hs_tiep_nhan, severity: warning, message: Kiểm tra lại.}
      - id: xep_loai
        title: 2. Xếp loại
        applies: DIA_PHUONG
        layout: yearly
        fields:
          - {id: co_bcd, label: Có Ban Chỉ đạo, type: yesno, required: true, from_year: 2019}
          - {id: to_kt, label: Số tổ kiểm tra, type: int, required: true, required_from: 2019}
          - {id: noi_kt, label: Số nơi được kiểm tra, type: int}
        rules:
          - {id: noi_it_hon_to, check: noi_kt >= to_kt, severity: warning, message: Mỗi tổ kiểm tra ít nhất một nơi.}
      - id: sap_nhap
        title: 3. Sáp nhập
        applies: HUYEN
        fields:
          - {id: xa_truoc, label: Xã trước, type: int, required: true}
          - {id: xa_nay, label: Xã hiện nay, type: int, required: true}
          - {id: xa_sn, label: Xã sáp nhập, type: int, required: true}
          - {id: xa_sau, label: Thành, type: int, required: true}
          - {id: dat_chuan, label: Huyện đạt chuẩn, type: yesno}
        rules:
          - id: can_doi
            check: xa_truoc - xa_nay = xa_sn - xa_sau
            severity: warning
            message: Số xã giảm phải bằng số xã sáp nhập trừ số xã thành lập.
          - id: hoa_giai
            check: xa_nay >= 3 * xa_sau
            when: {field: dat_chuan, equals: Có}
            severity: error
            message: Thử điều kiện.
  - id: van_ban
    name: Văn bản
    title: VĂN BẢN
    sections:
      - id: vb
        table:
          name: tbl_vb
          ready_rows: 5
          count_field: {id: so_vb, label: Số văn bản}
          expect_row: {column: trien_khai, equals: Có, message: Kê khai văn bản triển khai.}
          columns:
            - {id: tt, header: TT, type: row_number}
            - {id: loai, header: Loại, type: list, options: loai, required: true}
            - {id: trien_khai, header: Triển khai, type: yesno}
summary:
  columns: [ALL, HUYEN, SO, DIA_PHUONG]
  figures: [{sheet: so_lieu, name: Tổng hợp số liệu, title: TỔNG HỢP SỐ LIỆU THEO CẤP}]
report:
  sentences:
    - {topic: Tình hình nộp báo cáo, kind: returns}
    - topic: Hồ sơ
      text: "Cấp xã đã giải quyết {xa} hồ sơ, đúng hạn đạt {tl}."
      values: {xa: hs_tong_xa, tl: {rate: [hs_dung_xa, hs_tong_xa], decimals: 1}}
    - topic: Ban Chỉ đạo
      text: "Năm {y1}, có {n}/{N} địa phương có Ban Chỉ đạo."
      values: {n: {count: co_bcd_2020, equals: Có}, N: {listed: DIA_PHUONG}}
      footnote: {text: "Các địa phương có Ban Chỉ đạo: {units}.", field: co_bcd_2020, equals: Có}
"""


@pytest.fixture(scope="module")
def form():
    return load_form_text(FORM)


def test_unit_types_groups_and_levels_are_read(form):
    assert form.type_ids == ("HUYEN", "SO", "TINH")
    assert form.unit_groups["DIA_PHUONG"].types == ("HUYEN", "TINH")
    assert form.levels == {"tinh": "Cấp tỉnh", "huyen": "Cấp huyện", "xa": "Cấp xã"}
    assert form.attributes["vung"].types == ("HUYEN",)
    assert form.unit_types["TINH"].label == "Ban Chỉ đạo tỉnh"  # the short form: a label


def test_a_levels_grid_applies_per_level(form):
    f = form.fields
    assert f["hs_dung_tinh"].applies == {"SO"}
    assert f["hs_dung_huyen"].applies == f["hs_dung_xa"].applies == {"HUYEN"}
    assert f["hs_tong_xa"].of == ("hs_dung_xa", "hs_tre_xa")
    assert f["hs_tl_tinh"].num == "hs_dung_tinh" and f["hs_tl_tinh"].den == "hs_tong_tinh"
    assert f["hs_dung_huyen"].column_label == "cấp huyện"
    rule = next(r for r in form.rules if r.id == "gq_vuot_tn_xa")
    assert rule.left == "hs_tong_xa" and rule.applies == {"HUYEN"}


def test_per_year_requirements(form):
    f = form.fields
    assert "co_bcd_2018" not in f and f["co_bcd_2019"].required
    assert not f["to_kt_2018"].required and f["to_kt_2019"].required and f["to_kt_2020"].required
    assert f["to_kt_2019"].applies == {"HUYEN", "TINH"}  # the group


def test_a_rule_over_sums_and_a_condition(form):
    can_doi = next(r for r in form.rules if r.id == "can_doi")
    assert can_doi.lhs == ((1, "xa_truoc"), (-1, "xa_nay")) and can_doi.rhs == ((1, "xa_sn"), (-1, "xa_sau"))
    values = {"xa_truoc": 127, "xa_nay": 124, "xa_sn": 6, "xa_sau": 3}
    assert not formulas.rule_violated(can_doi, values)
    assert formulas.rule_violated(can_doi, {**values, "xa_sau": 2})
    hoa_giai = next(r for r in form.rules if r.id == "hoa_giai")
    low = {"xa_nay": 5, "xa_sau": 2}
    assert not formulas.rule_violated(hoa_giai, {**low, "dat_chuan": "Không"})
    assert formulas.rule_violated(hoa_giai, {**low, "dat_chuan": "Có"})
    assert formulas.excel_rule_violation(hoa_giai) == (
        'AND(ISNUMBER(xa_nay),ISNUMBER(xa_sau),dat_chuan="Có",(xa_nay)<(3*xa_sau))')


def test_layout_shows_only_the_levels_of_the_unit_type(form):
    so = plan_layout(form, "SO")
    huyen = plan_layout(form, "HUYEN")
    assert "hs_dung_tinh" in so.field_cells and "hs_dung_huyen" not in so.field_cells
    assert {"hs_dung_huyen", "hs_dung_xa"} <= set(huyen.field_cells) and "hs_dung_tinh" not in huyen.field_cells
    block = next(b for s in huyen.sheets for b in s.blocks if b.section.id == "ho_so")
    assert block.grid_headers == ("Cấp huyện", "Cấp xã")
    assert "xa_truoc" not in plan_layout(form, "TINH").field_cells


def test_units_list_uses_the_forms_aliases_and_attributes(form, tmp_path):
    p = tmp_path / "dv.csv"
    p.write_text("Mã đơn vị,Tên đơn vị,Loại hình,Khu vực\nH1,Huyện ủy Tuy Phong,cấp huyện,mien nui\n"
                 "S1,Sở Nội vụ,Sở,\nT1,Ban Chỉ đạo QCDC tỉnh,TINH,\n", encoding="utf-8")
    units = load_units(p, form)
    assert [(u.ma_don_vi, u.loai_hinh, u.attr("vung")) for u in units] == [
        ("H1", "HUYEN", "Miền núi"), ("S1", "SO", ""), ("T1", "TINH", "")]
    p.write_text("ma_don_vi,ten_don_vi,loai_hinh\nX,Xã,HCSN\n", encoding="utf-8")
    with pytest.raises(UnitsError, match="dòng 2.*HUYEN"):
        load_units(p, form)


@pytest.mark.parametrize("old, new, line, words", [
    ("levels: {tinh: SO, huyen: HUYEN, xa: HUYEN}", "levels: {tinh: SO, quan: HUYEN}", 45, "cấp 'quan'"),
    ("types: [HUYEN, TINH]", "types: [HUYEN, XA]", 20, "'XA' không phải loại hình"),
    ("check: xa_truoc - xa_nay = xa_sn - xa_sau", "check: xa_truoc - * xa_nay", 75, "'check' phải có dạng"),
    ("applies: DIA_PHUONG", "applies: DIA_PHUONGG", 56, "'DIA_PHUONGG'"),
    ("equals: Có, message: Kê", "equals: Co, message: Kê", 92, "'Co' không phải lựa chọn"),
    ("when: {field: dat_chuan, equals: Có}", "when: {field: dat_chuann, equals: Có}", 78, "'dat_chuann'"),
])
def test_mistakes_name_their_line(old, new, line, words):
    """The line of the mistake (a rule's condition: the rule's first line)."""
    assert old in FORM
    with pytest.raises(SpecError) as err:
        load_form_text(FORM.replace(old, new, 1))
    assert (err.value.line, words in str(err.value)) == (line, True), str(err.value)


def test_form_check_lists_every_mistake_and_exits_2(tmp_path):
    bad = (FORM.replace("type: sum, of: [hs_dung, hs_tre]", "type: summ", 1)
               .replace("applies: DIA_PHUONG", "applies: NHOM_KHAC", 1)
               .replace("equals: Có, message: Kê", "equals: Co, message: Kê", 1))
    spec = tmp_path / "thu.yaml"
    spec.write_text(bad, encoding="utf-8")
    result = CliRunner().invoke(main, ["form-check", str(spec)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("Lỗi biểu mẫu")]
    assert len(lines) == 3, result.output
    assert all("thu.yaml, dòng" in line for line in lines)
    spec.write_text(FORM, encoding="utf-8")
    ok = CliRunner().invoke(main, ["form-check", str(spec)])
    assert ok.exit_code == 0 and "thu_cap" in ok.output and "HUYEN, SO, TINH" in ok.output


def test_forms_lists_the_bundled_forms():
    result = CliRunner().invoke(main, ["forms"])
    assert result.exit_code == 0
    assert any(line.startswith("nq02_sk5\t2022.1\t") for line in result.output.splitlines())


def test_ngay_lap_is_a_date(form):
    assert form.fields["ngay_lap"].type == "date" and form.window[0] == dt.date(2021, 1, 1)


def test_a_unit_type_can_expect_a_number_of_units():
    from qcdc_xl.report.aggregate import unit_count_issues
    from qcdc_xl.intake.units import Unit
    form = load_form_text(FORM.replace("TINH: Ban Chỉ đạo tỉnh",
                                       "TINH: {label: Ban Chỉ đạo tỉnh, min_units: 1, max_units: 1}"))
    one = [Unit("T1", "Ban Chỉ đạo tỉnh", "TINH"), Unit("S1", "Sở Nội vụ", "SO")]
    assert unit_count_issues(form, one) == []
    two = one + [Unit("T2", "Ban Chỉ đạo khác", "TINH")]
    found = unit_count_issues(form, two)
    assert [(i.code, i.severity) for i in found] == [("unit_count", "warning")]
    assert "có 2 đơn vị loại hình TINH" in found[0].message and "đúng 1" in found[0].message
    assert [i.code for i in unit_count_issues(form, one[1:])] == ["unit_count"]  # none at all


def test_a_table_may_name_its_json_key(form):
    assert form.tables["tbl_vb"].list_key == "vb"  # default: the name without tbl_
    renamed = load_form_text(FORM.replace("name: tbl_vb", "name: tbl_vb\n          list_key: van_ban_trien_khai"))
    assert renamed.tables["tbl_vb"].list_key == "van_ban_trien_khai"


def test_titles_quoted_in_the_guide_keep_document_codes():
    from qcdc_xl.template.guide import sentence_case
    assert sentence_case("VĂN BẢN TRIỂN KHAI KẾT LUẬN SỐ 120-KL/TW VÀ CHỈ THỊ SỐ 14-CT/TU") == (
        "Văn bản triển khai Kết luận số 120-KL/TW và Chỉ thị số 14-CT/TU")
    assert sentence_case("DANH MỤC VĂN BẢN GIAI ĐOẠN 2017-2022") == "Danh mục văn bản giai đoạn 2017-2022"
    assert sentence_case("Đã viết thường") == "Đã viết thường"


def test_a_value_the_spec_expects_empty_is_a_warning_and_kept():
    from qcdc_xl.form import formulas as fm
    text = FORM.replace(
        "          - {id: co_bcd, label: Có Ban Chỉ đạo, type: yesno, required: true, from_year: 2019}",
        "          - {id: co_bcd, label: Có Ban Chỉ đạo, type: yesno, required: true, from_year: 2019}\n"
        "          - id: xep_loai\n"
        "            label: Xếp loại\n"
        "            type: int\n"
        "            required_from: 2019\n"
        "            expected_from: 2019\n"
        "            only_if: {field: co_bcd_2020, equals: Có, otherwise: warning}")
    form = load_form_text(text)
    f18, f20 = form.fields["xep_loai_2018"], form.fields["xep_loai_2020"]
    assert f18.early and not f20.early and f20.required_when_met and not f18.required_when_met
    assert fm.requirement(f20, {"co_bcd_2020": "Có"}) == "missing"
    assert fm.requirement(f18, {"co_bcd_2020": "Có"}) is None  # optional before 2019
    assert fm.requirement(f20, {"co_bcd_2020": "Không", "xep_loai_2020": 3}) is None  # not an error…
    assert fm.unexpected(f20, {"co_bcd_2020": "Không", "xep_loai_2020": 3}) == "condition"  # …a warning
    assert fm.unexpected(f18, {"co_bcd_2020": "Có", "xep_loai_2018": 3}) == "early"
    assert fm.excel_requirement_problem(f20) == 'OR(AND(co_bcd_2020="Có",LEN(xep_loai_2020)=0))'
    assert fm.excel_requirement_problem(f18) is None
    with pytest.raises(SpecError, match="'otherwise' phải là"):
        load_form_text(text.replace("otherwise: warning", "otherwise: maybe"))


def test_an_unknown_form_id_and_a_yaml_slip_are_explained_in_vietnamese():
    from qcdc_xl.form.spec import load_form
    with pytest.raises(SpecError, match="không có biểu mẫu «khong_co»; các biểu mẫu có sẵn: .*nq02_sk5"):
        load_form("khong_co")
    with pytest.raises(SpecError, match="cú pháp YAML sai; hãy kiểm tra dấu ngoặc") as err:
        load_form_text("form: [\n")
    assert err.value.line is not None
