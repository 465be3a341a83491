"""The form spec loads, expands and refuses broken specs with their line."""
import textwrap

import pytest

from qcdc_xl.form.spec import SpecError, load_form, load_form_text

MINI = textwrap.dedent("""\
    form:
      id: mini
      version: "1"
      name: Mini
      years: {from: 2020, to: 2021}
      reporting_window: {from: 2022-01-01, to: 2022-12-31}
    unit_types: {HCSN: a, DN: b}
    option_lists:
      co_khong: [Có, Không]
    sheets:
      - id: s
        name: Trang
        title: T
        sections:
          - id: sec
            layout: yearly
            period_total: true
            fields:
              - {id: phai, label: Phải, type: int, required: true}
              - {id: da, label: Đã, type: int}
              - {id: tl, label: Tỷ lệ, type: rate, num: da, den: phai}
            rules:
              - {id: da_le_phai, check: da <= phai, severity: error, message: Sai}
    """)


def test_real_form_loads_with_every_field_of_the_domain_spec():
    form = load_form()
    assert form.id == "nq02_sk5" and form.years == (2017, 2018, 2019, 2020, 2021)
    for fid in ("ma_don_vi", "so_dang_vien", "nam_thanh_lap_bcd", "hnnld_da_2019", "dvc_4",
                "ntm_xa_dat_2016", "kn_gq_2021", "dttt_so_cuoc_2017", "so_mo_hinh", "ngay_lap"):
        assert fid in form.fields, fid
    assert [c.id for c in form.tables["tbl_van_ban"].columns] == [
        "tt", "loai_van_ban", "so_ky_hieu", "ngay_ban_hanh", "co_quan_ban_hanh", "trich_yeu", "ghi_chu"]
    assert [c.id for c in form.tables["tbl_mo_hinh"].columns] == [
        "tt", "ten_mo_hinh", "linh_vuc", "nam", "cap_cong_nhan", "ghi_chu"]
    assert form.fields["hnnld_da_2019"].applies == {"DN"}
    assert form.fields["hnccc_da_2019"].applies == {"HCSN"}
    assert form.fields["co_thoa_uoc"].applies == {"DN"}
    assert "DN cổ phần, DN tư nhân" in form.fields["loai_dn"].options


def test_yearly_section_expands_per_year_with_period_total():
    form = load_form_text(MINI)
    assert list(form.fields) == ["phai_2020", "phai_2021", "phai_tong", "da_2020", "da_2021",
                                 "da_tong", "tl_2020", "tl_2021", "tl_tong"]
    assert form.fields["tl_2021"].num == "da_2021" and form.fields["tl_2021"].den == "phai_2021"
    assert form.fields["tl_tong"].num == "da_tong"
    assert form.fields["phai_tong"].of == ("phai_2020", "phai_2021")
    assert [(r.left, r.right) for r in form.rules] == [("da_2020", "phai_2020"), ("da_2021", "phai_2021")]


@pytest.mark.parametrize("old,new,line,words", [
    ("type: int, required: true}", "type: intt, required: true}", 19, "intt"),
    ("check: da <= phai", "check: da <== phai", 23, "ma_a <= ma_b"),
    ("num: da, den: phai", "num: da, den: phaii", 21, "trường 'phaii'"),
    ("{id: da, label: Đã, type: int}", "{id: da, label: Đã, type: int, colour: red}", 20, "colour"),
    ("{id: da, label: Đã, type: int}", "{id: phai, label: Đã, type: int}", 20, "bị lặp"),
    ("name: Trang", "name: Trang có một tên rất dài vượt quá giới hạn", 12, "31"),
    ("  id: mini", "  id: b12", 2, "địa chỉ ô"),
])
def test_broken_spec_is_refused_with_its_line(old, new, line, words):
    assert old in MINI
    with pytest.raises(SpecError) as err:
        load_form_text(MINI.replace(old, new, 1))
    assert err.value.line == line
    assert words in str(err.value)
    assert f"dòng {line}" in str(err.value)


def test_yaml_syntax_error_names_its_line():
    with pytest.raises(SpecError) as err:
        load_form_text(MINI.replace("  name: Mini", "  name: \"Mini"))
    assert err.value.line is not None and 4 <= err.value.line <= 6
    assert "YAML" in str(err.value)
