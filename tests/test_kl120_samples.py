"""The kl120_tk province samples (Bình Thuận, shared/seeds/001_…) reproduce the seed's headline figures.

``samples/kl120_tk/returns/`` holds the returns of the province's 77 units, filled through
LibreOffice by scripts/make_samples_kl120.py. Aggregated with ``--form kl120_tk --units
samples/kl120_tk/don_vi.csv``, the JSON report's ``totals`` (per unit type and per group) must
give each figure R1–R21 of shared/spec/kl120-form.md as the seed quotes it; the seed's words
are in each test's comment. Rates: the seed rounds some and truncates others; a rate passes
when, rounded half-up or truncated to the seed's decimals, it is the seed's figure (±0,01 for
the two-decimal ones), as docs/decisions.md records.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from ooxml import find_sdk_validator, ooxml_findings, sdk_findings_many
from qcdc_xl.report.aggregate import build_report
from qcdc_xl.output.feedback import write_feedback
from qcdc_xl.output.sentences import report_entries
from qcdc_xl.form.spec import load_form
from qcdc_xl.output.summary import write_summary
from qcdc_xl.intake.units import load_units
from xlsx_lint import lint_xlsx

ROOT = Path(__file__).resolve().parent.parent
FORM = ROOT / "workbook_templates" / "kl120_tk.yaml"  # == --form kl120_tk, from this checkout
SAMPLES = ROOT / "samples" / "kl120_tk"
YEARS = range(2016, 2021)
LEVELS = ("tinh", "huyen", "xa")
TYPES = ("HUYEN", "DANG_UY", "KHOI", "SO_NGANH", "MTTQ_DT", "TINH")


def shows_as(rate: float, seed: str) -> bool:
    """``rate`` (percent) reads as the seed's ``seed`` ("97.9", "83.07")."""
    step = Decimal(1).scaleb(Decimal(seed).as_tuple().exponent)
    value = Decimal(repr(rate))
    shown = (value.quantize(step, ROUND_HALF_UP), value.quantize(step, ROUND_DOWN))
    return any(abs(s - Decimal(seed)) <= Decimal("0.01") for s in shown)


def test_shows_as_follows_the_seed_s_own_roundings():
    assert shows_as(100 * 54 / 65, "83.07") and shows_as(100 * 130 / 140, "92.85")  # truncated
    assert shows_as(100 * 89_003 / 4_300_214, "2.1")                              # 2,07 rounded
    assert not shows_as(100 * 89_003 / 4_300_214, "2.2") and not shows_as(96.25, "96.4")
    assert not shows_as(100 * 45 / 47, "95.8") and not shows_as(100 * 65 / 93, "70.0")
    assert not shows_as(80.83, "80.81")


@pytest.fixture(scope="module")
def form():
    return load_form(FORM)


@pytest.fixture(scope="module")
def built(form):
    """The bundled returns aggregated as ``qcdc-xl aggregate … --form kl120_tk --units
    samples/kl120_tk/don_vi.csv`` does it."""
    return build_report(form, load_units(SAMPLES / "don_vi.csv", form), SAMPLES / "returns")


@pytest.fixture(scope="module")
def report(built):
    """The report's JSON, as ``--json`` writes it."""
    return json.loads(json.dumps(built.to_json(), ensure_ascii=False))


@pytest.fixture(scope="module")
def totals(report):
    return report["totals"]


def counted_units(report, *types) -> list[dict]:
    return [u for u in report["units"] if u["status"] in ("ok", "errors") and u["loai_hinh"] in types]


def listed(report, *types) -> list[dict]:
    return [u for u in report["units"] if u["status"] != "superseded" and u["loai_hinh"] in types]


def total(totals, field, *groups) -> int:
    return sum(totals[g].get(field) or 0 for g in groups)


def per_level(totals, field, groups_by_level: dict) -> dict:
    return {lv: total(totals, f"{field}_{lv}", *groups) for lv, groups in groups_by_level.items()}


def options(counts: dict) -> dict:
    """A list field's counts per option, without the options nobody chose."""
    return {k: v for k, v in counts.items() if v}


def implements(unit: dict) -> bool:
    return any(row.get("trien_khai") == "Có" for row in unit.get("van_ban") or [])


def short_name(unit: dict) -> str:
    return unit["ten_don_vi"].split(" ", 2)[-1]  # "Huyện ủy Tuy Phong" -> "Tuy Phong"


# ---------------------------------------------------------------- R1–R21


def test_r1_every_unit_issued_an_implementing_text(report):
    # "Có 56/56 sở, ban, ngành của tỉnh và 14/14 cấp ủy trực thuộc ban hành văn bản triển khai thực
    # hiện (Tuy Phong, Bắc Bình, Tánh Linh, Đức Linh, Phú Quý ban hành Chỉ thị; …)"; "Ủy ban Mặt trận
    # Tổ quốc Việt Nam, đoàn thể chính trị - xã hội đều có ban hành văn bản triển khai"
    for types, seed in ((("SO_NGANH",), (56, 56)), (("HUYEN", "DANG_UY", "KHOI"), (14, 14))):
        units = listed(report, *types)
        assert (sum(implements(u) for u in units), len(units)) == seed
    mttq = listed(report, "MTTQ_DT")
    assert mttq and all(implements(u) for u in mttq)
    chi_thi = {short_name(u) for u in counted_units(report, "HUYEN", "DANG_UY", "KHOI")
               if any(r.get("loai_van_ban") == "Chỉ thị" and r.get("trien_khai") == "Có" for r in u["van_ban"])}
    assert chi_thi == {"Tuy Phong", "Bắc Bình", "Tánh Linh", "Đức Linh", "Phú Quý"}


def test_r2_steering_committees_and_their_ratings(totals):
    # "14/14 đảng ủy trực thuộc đã thành lập Ban chỉ đạo theo quy định"; fn 10 "Năm 2018 có 9/14 đơn
    # vị đạt loại tốt; 2/14 đơn vị đạt loại khá; 3/14 đơn vị đạt loại trung bình. Năm 2019 có 13/14
    # đơn vị đạt loại tốt; 1/14 đơn vị đạt loại trung bình. Năm 2020 có 13/14 … tốt; 1/14 … trung bình."
    cap_uy = totals["CAP_UY"]
    assert (cap_uy["co_ban_chi_dao"], cap_uy["so_don_vi"]) == (14, 14)
    assert options(cap_uy["xl_bcd_2018"]) == {"Tốt": 9, "Khá": 2, "Trung bình": 3}
    assert options(cap_uy["xl_bcd_2019"]) == {"Tốt": 13, "Trung bình": 1}
    assert options(cap_uy["xl_bcd_2020"]) == {"Tốt": 13, "Trung bình": 1}


def test_r3_citizens_received_and_dialogues(totals):
    # "từ năm 2019 đến cuối năm 2020, bí thư các cấp ủy địa phương trong tỉnh tiếp công dân 906 cuộc
    # (Bí thư Tỉnh ủy 19 cuộc, bí thư cấp huyện 335 cuộc, bí thư cấp xã 552 cuộc)"
    by_level = {"tinh": ("TINH",), "huyen": ("HUYEN",), "xa": ("HUYEN",)}
    tcd = {lv: sum(total(totals, f"tcd_bt_{lv}_{y}", *g) for y in (2019, 2020)) for lv, g in by_level.items()}
    assert tcd == {"tinh": 19, "huyen": 335, "xa": 552} and sum(tcd.values()) == 906
    # "Trong 05 năm, đã tổ chức được 460 cuộc đối thoại; trong đó cấp tỉnh 06, cấp huyện 99, cấp xã 355"
    dt_dan = per_level(totals, "dt_dan", by_level)
    assert dt_dan == {"tinh": 6, "huyen": 99, "xa": 355} and sum(dt_dan.values()) == 460


def test_r4_inspections_of_the_steering_committees(totals):
    # "Ban Chỉ đạo tỉnh đã thành lập 31 Tổ kiểm tra … tại 145 cơ quan, đơn vị, địa phương, doanh
    # nghiệp (trong đó, phúc tra 14 cơ quan, đơn vị)"
    tinh = totals["TINH"]
    assert (tinh["kt_so_to"], tinh["kt_so_don_vi"], tinh["kt_phuc_tra"]) == (31, 145, 14)
    # "Quyết định số 223-QĐ/TU … tại 04 địa phương … và 04 đồng chí đứng đầu cấp ủy nói trên"
    assert (tinh["kt_ct14_to_chuc"], tinh["kt_ct14_ca_nhan"]) == (4, 4)
    # "Ban Chỉ đạo QCDC các huyện, thị, thành ủy, đảng ủy trực thuộc đã thành lập 103 tổ kiểm tra và
    # tiến hành kiểm tra tại 814 đơn vị, địa phương, doanh nghiệp"
    assert (totals["CAP_UY"]["kt_so_to"], totals["CAP_UY"]["kt_so_don_vi"]) == (103, 814)


def test_r5_supervision_and_social_criticism(totals):
    # "2.135 cuộc giám sát đối với các tổ chức, cá nhân (Cấp tỉnh 57 cuộc; Cấp huyện 391 cuộc; Cấp xã
    # 1.687 cuộc) và thực hiện 57 hội nghị phản biện (cấp tỉnh 04, cấp huyện 10, cấp xã 43)"
    mttq = {lv: ("MTTQ_DT",) for lv in LEVELS}
    gs, pb = per_level(totals, "gs_cuoc", mttq), per_level(totals, "pb_hoi_nghi", mttq)
    assert gs == {"tinh": 57, "huyen": 391, "xa": 1687} and sum(gs.values()) == 2135
    assert pb == {"tinh": 4, "huyen": 10, "xa": 43} and sum(pb.values()) == 57
    # "đề xuất, kiến nghị 2.961 nội dung … được các cấp, các ngành xem xét, giải quyết đạt 80,81%"
    m = totals["MTTQ_DT"]
    assert m["gs_kien_nghi"] == 2961
    assert shows_as(100 * m["gs_kien_nghi_gq"] / m["gs_kien_nghi"], "80.81")


DOSSIER_LEVELS = {"tinh": ("SO_NGANH",), "huyen": ("HUYEN",), "xa": ("HUYEN",)}


def dossiers(totals) -> tuple[dict, dict]:
    """Dossiers settled on time and late per level: hs_giai_quyet = hs_dung_han + hs_tre_han."""
    return per_level(totals, "hs_dung_han", DOSSIER_LEVELS), per_level(totals, "hs_tre_han", DOSSIER_LEVELS)


def test_r6_dossiers_settled_in_the_province(totals):
    # "toàn tỉnh đã tiếp nhận và giải quyết 4.300.214 hồ sơ; tỷ lệ giải quyết đúng hạn đạt 97,9%"
    on_time, late = dossiers(totals)
    settled = sum(on_time.values()) + sum(late.values())
    assert settled == 4_300_214
    assert shows_as(100 * sum(on_time.values()) / settled, "97.9")


def test_r7_dossiers_on_time_per_level(totals):
    # "cấp tỉnh giải quyết đúng hạn 532.703 hồ sơ, đạt tỷ lệ 96,3%; cấp huyện đúng hạn 628.847 hồ sơ,
    # đạt tỷ lệ 92,3% và cấp xã đúng hạn là 3.049.661 hồ sơ, đạt tỷ lệ 99,4%"
    on_time, late = dossiers(totals)
    assert on_time == {"tinh": 532_703, "huyen": 628_847, "xa": 3_049_661}
    for level, seed in (("tinh", "96.3"), ("huyen", "92.3"), ("xa", "99.4")):
        assert shows_as(100 * on_time[level] / (on_time[level] + late[level]), seed), level


def test_r8_dossiers_late(totals, report):
    # "số hồ sơ trễ hạn chiếm 2,1% (89.003 hồ sơ)"; "một số cơ quan vẫn còn để trễ hạn"
    on_time, late = dossiers(totals)
    assert sum(late.values()) == 89_003
    assert shows_as(100 * 89_003 / (sum(on_time.values()) + 89_003), "2.1")
    sở = counted_units(report, "SO_NGANH")
    with_late = [u for u in sở if (u["values"].get("hs_tre_han_tinh") or 0) > 0]
    assert 0 < len(with_late) < len([u for u in sở if u["values"].get("hs_dung_han_tinh")])


def test_r9_communes_and_hamlets_merged(totals):
    # "sáp nhập 6 xã, thị trấn thành 3 xã, thị trấn (từ 127 xã, phường, thị trấn xuống còn 124 …) và
    # sáp nhập 30 thôn, khu phố thành 15 thôn, khu phố (từ 706 thôn, khu phố xuống còn 691 …)"
    h = totals["HUYEN"]
    assert (h["xa_sap_nhap"], h["xa_sau_sap_nhap"], h["xa_truoc"], h["xa_hien_nay"]) == (6, 3, 127, 124)
    assert (h["thon_sap_nhap"], h["thon_sau_sap_nhap"], h["thon_truoc"], h["thon_hien_nay"]) == (30, 15, 706, 691)


def test_r10_village_covenants_and_people_s_boards(totals):
    # "100% thôn, khu phố đã xây dựng, bổ sung, sửa đổi các quy ước, hương ước cho phù hợp";
    # "thành lập Ban thanh tra nhân dân, Ban giám sát đầu tư cộng đồng" (no figure: every commune)
    h = totals["HUYEN"]
    assert shows_as(100 * h["thon_huong_uoc"] / h["thon_hien_nay"], "100")
    assert h["xa_co_ttnd"] == h["xa_co_gsdtcd"] == h["xa_hien_nay"]


def test_r11_mediation(totals):
    # "Toàn tỉnh hiện có 698 Tổ hòa giải ở cơ sở/4.208 thành viên"; "số vụ việc được hòa giải thành
    # qua các năm đạt tỷ lệ cao"
    h = totals["HUYEN"]
    assert (h["to_hoa_giai"], h["hoa_giai_vien"]) == (698, 4208)
    assert h["hg_thanh"] / h["hg_vu_viec"] >= 0.8


def test_r12_letters_settled_at_the_grassroots(totals):
    # "Công tác tiếp công dân, giải quyết đơn thư khiếu nại tố cáo được tập trung giải quyết ngay từ
    # cơ sở, kết quả giải quyết đạt gần 90%"
    kinds = ("kn", "tc", "pakn")
    h = totals["HUYEN"]
    rate = 100 * sum(h[f"{k}_gq"] for k in kinds) / sum(h[f"{k}_nhan"] for k in kinds)
    assert 85 <= rate < 90


def test_r13_departments_reorganised(totals):
    # "toàn tỉnh đã giảm 52 phòng chuyên môn thuộc sở, cơ quan ngang sở, giảm 84 đầu mối đơn vị sự
    # nghiệp công lập thuộc tỉnh"; fn 13 "Giảm 34 đầu mối so với số lượng trước khi sắp xếp, chiếm 23,45%."
    s = totals["SO_NGANH"]
    assert (s["sx_phong_sap_xep"], s["sx_dvsn_giam"]) == (52, 84)
    cut = s["sx_phong_truoc"] - s["sx_phong_sau"]
    assert cut == 34 and shows_as(100 * cut / s["sx_phong_truoc"], "23.45")


def test_r14_procedures_published(totals):
    # "toàn tỉnh đã có 2.023/2.023 TTHC đã được cập nhật công khai trên cơ sở dữ liệu quốc gia";
    # fn 14 "cấp tỉnh 1.473 TTHC, cấp huyện 345 TTHC, cấp xã 163 TTHC, cơ quan khác 42 TTHC"
    s = totals["SO_NGANH"]
    assert (s["tthc_tinh"], s["tthc_huyen"], s["tthc_xa"], s["tthc_khac"]) == (1473, 345, 163, 42)
    assert s["tthc_cong_khai"] == s["tthc_tinh"] + s["tthc_huyen"] + s["tthc_xa"] + s["tthc_khac"] == 2023


def test_r15_online_public_services(totals):
    # "428 dịch vụ công trực tuyến mức độ 3, 4; đã kết nối, tích hợp … Cổng dịch vụ công trực tuyến
    # quốc gia với 114 dịch vụ mức độ 3, 4"
    assert (totals["SO_NGANH"]["dvc_3_4"], totals["SO_NGANH"]["dvc_qg"]) == (428, 114)


def test_r16_letters_settled_by_the_departments(totals):
    # "trong 5 năm, đã giải quyết 45/47 đơn khiếu nại (đạt 95,7%), 54/65 đơn tố cáo (đạt 83,07%),
    # 130/140 đơn phản ánh kiến nghị (đạt 92,85%)"
    s = totals["SO_NGANH"]
    for kind, settled, received, seed in (("kn", 45, 47, "95.7"), ("tc", 54, 65, "83.07"), ("pakn", 130, 140, "92.85")):
        assert (s[f"{kind}_gq"], s[f"{kind}_nhan"]) == (settled, received), kind
        assert shows_as(100 * settled / received, seed), kind


def test_r17_staff_conferences_and_people_s_inspection_boards(totals):
    # "Hàng năm, 100% cơ quan hành chính, đơn vị sự nghiệp tổ chức Hội nghị cán bộ, công chức, viên chức"
    lowest = min(total(totals, f"hnccc_da_{y}", "SO_NGANH", "HUYEN") / total(totals, f"hnccc_phai_{y}", "SO_NGANH", "HUYEN")
                 for y in YEARS)
    assert shows_as(100 * lowest, "100")
    # "Ban Thanh tra nhân dân các cơ quan, đơn vị đều xây dựng quy chế, kế hoạch hoạt động hàng năm"
    s = totals["SO_NGANH"]
    assert s["co_ban_ttnd"] > 0 and s["ttnd_ke_hoach"] == s["co_ban_ttnd"]


def test_r18_new_countryside(totals):
    # fn 1 "65/93 xã đạt chuẩn nông thôn mới, đạt 69,9% số xã; 02 huyện đạt chuẩn nông thôn mới"
    h = totals["HUYEN"]
    assert (h["ntm_xa_dat"], h["ntm_so_xa"]) == (65, 93) and shows_as(100 * 65 / 93, "69.9")
    assert h["ntm_huyen_dat"] == 2


def test_r19_workers_conferences(totals):
    # "hàng năm bình quân có khoảng 45% doanh nghiệp tổ chức hội nghị người lao động, trong đó doanh
    # nghiệp nhà nước đạt 100% (từ khi bùng phát dịch Covid-19 nên việc tổ chức hội nghị, đối thoại đạt thấp)"
    def pooled(field):
        return sum(total(totals, f"{field}_{y}", "KHOI", "HUYEN") for y in YEARS)
    assert shows_as(100 * pooled("hnnld_da") / pooled("hnnld_phai"), "45")
    assert shows_as(100 * pooled("hnnld_da_nn") / pooled("hnnld_phai_nn"), "100")
    yearly = {y: total(totals, f"hnnld_da_{y}", "KHOI", "HUYEN") / total(totals, f"hnnld_phai_{y}", "KHOI", "HUYEN")
              for y in YEARS}
    assert min(yearly, key=yearly.get) == 2020  # the Covid-19 year is the lowest
    assert 0 < pooled("dtnlv_da") <= pooled("hnnld_da")


def test_r20_state_enterprises_and_collective_agreements(totals):
    # "các doanh nghiệp nhà nước trên địa bàn tỉnh đều thành lập Ban chỉ đạo thực hiện QCDC"; "Một số
    # doanh nghiệp chưa thực hiện đầy đủ … ký kết thỏa ước lao động"
    assert total(totals, "dnnn_co_bcd", "KHOI", "HUYEN") == total(totals, "dnnn_so", "KHOI", "HUYEN") > 0
    assert total(totals, "hnnld_phai_2020", "KHOI", "HUYEN") - total(totals, "dn_thoa_uoc", "KHOI", "HUYEN") > 0


def test_r21_training_projects_checked_and_models_commended(report, totals):
    # "Ban chỉ đạo đã tham mưu tổ chức 03 lớp tập huấn"; fn 11 "Lớp 01 dành cho 192 đại biểu …
    # Lớp 02 dành cho 119 đại biểu … Lớp 03 dành cho 583 đại biểu"
    (tinh,) = counted_units(report, "TINH")
    assert totals["TINH"]["so_tap_huan"] == 3
    assert [r["so_dai_bieu"] for r in tinh["tap_huan"]] == [192, 119, 583]
    # fn 8 "Kiểm tra: Dự án đường Lê Duẩn …, Dự án đường Hùng Vương … và Dự án đường từ cầu Hùng Vương
    # đến đường ĐT.706B. Giám sát Dự án đường Lê Duẩn … Khu liên hợp Hồ điều hòa … Kè … sông Cà Ty"
    by_bcd = [r for r in tinh["kt_gs"] if r["chu_the"] == "Ban Chỉ đạo QCDC"]
    assert sorted(r["hinh_thuc"] for r in by_bcd) == ["Giám sát"] * 3 + ["Kiểm tra"] * 3
    # fn 7 "dự án đường Lê Duẩn (2018); … Hưng Long … (2019); … Kè … sông Càty … (2020)"
    (mttq,) = [u for u in counted_units(report, "MTTQ_DT") if u["ma_don_vi"] == "UBMTTQ"]
    assert sorted(r["nam"] for r in mttq["kt_gs"] if r["chu_the"] == "Mặt trận, đoàn thể") == [2018, 2019, 2020]
    # "nhiều mô hình … được Chủ tịch UBND tỉnh tặng bằng khen và nhân rộng trong toàn tỉnh, như: Mô hình
    # "Cán bộ, công chức xin lỗi dân khi trễ hẹn"; mô hình "Nhân dân chấm điểm công chức một cửa"; mô hình
    # "Ban Thanh tra nhân dân, Ban Giám sát đầu tư cộng đồng hoạt động hiệu quả"; mô hình "Nhân dân góp ý
    # xây dựng lực lượng Công an"; mô hình "Cán bộ, chiến sĩ vi phạm, lỗi hẹn với dân thì lãnh đạo, chỉ
    # huy phải xin lỗi dân""
    praised = {r["ten_mo_hinh"] for u in counted_units(report, *TYPES) for r in u["mo_hinh"]
               if r["cap_khen"] == "Chủ tịch UBND tỉnh" and r["nhan_rong"] == "Có"}
    assert praised == {"Cán bộ, công chức xin lỗi dân khi trễ hẹn", "Nhân dân chấm điểm công chức một cửa",
                       "Ban Thanh tra nhân dân, Ban Giám sát đầu tư cộng đồng hoạt động hiệu quả",
                       "Nhân dân góp ý xây dựng lực lượng Công an",
                       "Cán bộ, chiến sĩ vi phạm, lỗi hẹn với dân thì lãnh đạo, chỉ huy phải xin lỗi dân"}




# ---------------------------------------------------------------- the designed slips


DESIGNED = {  # samples/kl120_tk/README.md: (code, severity, unit, field)
    ("constraint_violated", "warning", "STNMT", "kn_gq"),
    ("coerced_text_number", "warning", "TPU_PHANTHIET", "hs_dung_han_xa"),
    ("coerced_text_date", "warning", "SGTVT", "tbl_van_ban.ngay_ban_hanh"),
    ("out_of_range", "warning", "BCD_TINH", "tbl_van_ban.ngay_ban_hanh"),
    ("coerced_text_choice", "warning", "SCT", "co_ban_ttnd"),
    ("constraint_violated", "warning", "HU_PHUQUY", "hoa_giai_vien"),
    ("required_missing", "error", "HCCB", "nguoi_lap"),
    ("out_of_range", "warning", "HU_HAMTAN", "ngay_lap"),
    ("duplicate_return", "warning", "SXD", None),
    ("not_a_form", "error", None, None),
}


def test_every_designed_slip_and_nothing_else(report):
    found = [(i["code"], i["severity"], i["ma_don_vi"], i["field"]) for i in report["issues"]]
    assert sorted(found, key=str) == sorted(DESIGNED, key=str)


def test_statuses_every_unit_counted_the_first_sxd_return_superseded(report):
    status = {}
    for u in report["units"]:
        status[u["status"]] = status.get(u["status"], 0) + 1
    assert status == {"ok": 76, "errors": 1, "superseded": 1}  # HCCB: errors, its figures count
    (newest,) = [u for u in report["units"] if u["ma_don_vi"] == "SXD" and u["status"] == "ok"]
    assert newest["file"].startswith("Gửi bổ sung/")
    assert report["totals"]["all"]["so_don_vi"] == 77
    assert {g: report["totals"][g]["so_don_vi"] for g in TYPES + ("CAP_UY",)} == {
        "HUYEN": 10, "DANG_UY": 3, "KHOI": 1, "SO_NGANH": 56, "MTTQ_DT": 6, "TINH": 1, "CAP_UY": 14}


# ---------------------------------------------------------------- feedback and check on these files


def test_feedback_copies_for_the_flagged_units_are_valid(form, built, tmp_path):
    written = write_feedback(form, built, SAMPLES / "returns", tmp_path)
    copies = sorted(tmp_path.glob("*.xlsx"))
    flagged = {u.unit.ma_don_vi for u in built.units if u.status in ("ok", "errors") and u.issues}
    assert written == len(copies) == len(flagged) == 8
    assert all(any(c.name.startswith(code + "_") for c in copies) for code in flagged)
    for copy in copies:
        assert ooxml_findings(copy) == [] and lint_xlsx(copy) == [], copy.name
    command = find_sdk_validator()
    if command:  # Excel's own validator, where installed (test_excel_validity.py requires it in CI)
        assert all(found == [] for found in sdk_findings_many(copies, command).values())


def test_check_one_return_from_the_command_line():
    (stnmt,) = (SAMPLES / "returns").glob("STNMT_*.xlsx")
    done = subprocess.run([sys.executable, "-m", "qcdc_xl", "check", str(stnmt), "--form", str(FORM),
                           "--units", str(SAMPLES / "don_vi.csv")], cwd=ROOT, capture_output=True,
                          encoding="utf-8", env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8"),
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "0 lỗi, 1 cảnh báo" in done.stdout
    assert "Khiếu nại — số đơn đã giải quyết" in done.stdout


# ---------------------------------------------------------------- the report sentences and the summary

# The seed's own words, verbatim: the `report:` block of kl120_tk.yaml must write them from these
# returns (R1, R3–R9, R11, R13–R16, R18, R21; where the seed cuts a rate's last digit — "99,4%",
# "80,81%", "83,07%", "92,85%" — the spec asks for `round: down`, so those read as the seed too).
SEED_SENTENCES = (
    "Có 56/56 sở, ban, ngành của tỉnh và 14/14 cấp ủy trực thuộc ban hành văn bản triển khai thực hiện",
    "tiếp công dân 906 cuộc (Bí thư Tỉnh ủy 19 cuộc, bí thư cấp huyện 335 cuộc, bí thư cấp xã 552 cuộc)",
    "đã tổ chức được 460 cuộc đối thoại; trong đó cấp tỉnh 06, cấp huyện 99, cấp xã 355 cuộc",
    "Ban Chỉ đạo tỉnh đã thành lập 31 Tổ kiểm tra việc thực hiện QCDC ở cơ sở tại 145 cơ quan, đơn vị, địa "
    "phương, doanh nghiệp (trong đó, phúc tra 14 cơ quan, đơn vị); Ban Chỉ đạo QCDC các huyện, thị, thành "
    "ủy, đảng ủy trực thuộc đã thành lập 103 tổ kiểm tra và tiến hành kiểm tra tại 814 đơn vị, địa "
    "phương, doanh nghiệp",
    "tại 04 địa phương và 04 đồng chí đứng đầu cấp ủy",
    "đã thực hiện 2.135 cuộc giám sát (Cấp tỉnh 57 cuộc; Cấp huyện 391 cuộc; Cấp xã 1.687 cuộc) và thực "
    "hiện 57 hội nghị phản biện (cấp tỉnh 04, cấp huyện 10, cấp xã 43)",
    "đề xuất, kiến nghị 2.961 nội dung",
    "xem xét, giải quyết đạt 80,81% nội dung kiến nghị",
    "cấp xã đúng hạn là 3.049.661 hồ sơ, đạt tỷ lệ 99,4%); số hồ sơ trễ hạn chiếm 2,1%",
    "toàn tỉnh đã tiếp nhận và giải quyết 4.300.214 hồ sơ; tỷ lệ giải quyết đúng hạn đạt 97,9% (cấp tỉnh "
    "giải quyết đúng hạn 532.703 hồ sơ, đạt tỷ lệ 96,3%; cấp huyện đúng hạn 628.847 hồ sơ, đạt tỷ lệ 92,3% "
    "và cấp xã đúng hạn là 3.049.661 hồ sơ",
    "số hồ sơ trễ hạn chiếm 2,1% (89.003 hồ sơ)",
    "áp nhập 6 xã, thị trấn thành 3 xã, thị trấn (từ 127 xã, phường, thị trấn xuống còn 124 xã, phường, thị "
    "trấn) và sáp nhập 30 thôn, khu phố thành 15 thôn, khu phố (từ 706 thôn, khu phố xuống còn 691 thôn, "
    "khu phố)",
    "100% thôn, khu phố đã xây dựng, bổ sung, sửa đổi các quy ước, hương ước",
    "698 Tổ hòa giải ở cơ sở/4.208 thành viên",
    "giảm 52 phòng chuyên môn thuộc sở, cơ quan ngang sở, giảm 84 đầu mối đơn vị sự nghiệp công lập thuộc tỉnh",
    "Giảm 34 đầu mối so với số lượng trước khi sắp xếp, chiếm 23,45%",
    "2.023/2.023 TTHC đã được cập nhật công khai trên cơ sở dữ liệu quốc gia",
    "(cấp tỉnh 1.473 TTHC, cấp huyện 345 TTHC, cấp xã 163 TTHC, cơ quan khác 42 TTHC)",
    "428 dịch vụ công trực tuyến mức độ 3, 4",
    "45/47 đơn khiếu nại (đạt 95,7%), 54/65 đơn tố cáo (đạt 83,07%), 130/140 đơn phản ánh kiến nghị (đạt 92,85%)",
    "65/93 xã đạt chuẩn nông thôn mới, đạt 69,9% số xã; 02 huyện đạt chuẩn nông thôn mới",
    "03 lớp tập huấn",
)


def test_the_report_sentences_say_what_the_seed_says(form, built):
    entries = report_entries(form, built.units, built.totals)
    text = "\n".join(e.text for e in entries)
    assert [s for s in SEED_SENTENCES if s not in text] == []
    assert "Năm 2018 có 9 đơn vị đạt loại tốt, 2 đơn vị đạt loại khá, 3 đơn vị đạt loại trung bình" in text
    notes = [e.footnote for e in entries if e.footnote]
    assert ("Cấp ủy ban hành Chỉ thị: Huyện ủy Tuy Phong, Huyện ủy Bắc Bình, Huyện ủy Tánh Linh, "
            "Huyện ủy Đức Linh, Huyện ủy Phú Quý.") in notes


def test_the_summary_workbook_is_valid_for_excel(form, built, tmp_path):
    summary = write_summary(form, built, tmp_path / "tong_hop.xlsx")
    assert ooxml_findings(summary) == [] and lint_xlsx(summary) == []
    command = find_sdk_validator()
    if command:
        assert sdk_findings_many([summary], command)[summary] == []
