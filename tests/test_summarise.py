"""Totals, answered counts, roll-ups and sentences, checked against hand computations."""
import json
import sys
import unicodedata
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from result_builders import D1, H1, KHOI_A, make_result, make_unit, scenario  # noqa: E402

from qcdc_xl.output.sentences import fmt_number, fmt_pct, report_sentences, yesno_sentence  # noqa: E402
from qcdc_xl.report.listings import table_counts, table_grid, table_years, units_with_rows  # noqa: E402
from qcdc_xl.report.summarise import answered_counts, compute_totals, status_counts  # noqa: E402


@pytest.fixture(scope="module")
def results(form):
    return scenario(form)


@pytest.fixture(scope="module")
def totals(form, results):
    return compute_totals(form, results)


def test_sums_leave_out_invalid_missing_and_superseded(totals):
    # so_dang_vien: H01 40, H02 invalid, H03 missing, H04 25, D01 100, D02 20, old D02 9999.
    assert totals["all"]["so_dang_vien"] == 40 + 25 + 100 + 20
    assert totals["HCSN"]["so_dang_vien"] == 40 + 25
    assert totals["DN"]["so_dang_vien"] == 100 + 20
    assert totals["all"]["so_lao_dong"] == 60 + 30 + 25 + 900 + 200
    assert totals["all"]["kt_to_chuc"] == 3 + 4 + 0 + 5 + 1
    assert totals["all"]["ntm_kinh_phi"] == pytest.approx(1_500_000.5 + 2_000_000 + 500_000)


def test_unit_and_row_counts(totals):
    assert (totals["all"]["so_don_vi"], totals["HCSN"]["so_don_vi"], totals["DN"]["so_don_vi"]) == (5, 3, 2)
    assert totals["all"]["so_van_ban"] == 3 + 2 + 2  # the old D02's 5 documents do not count
    assert totals["all"]["so_mo_hinh"] == 2


def test_yesno_and_list_counts(totals):
    assert totals["all"]["co_ban_chi_dao"] == 3  # H01, H04, D01 (old D02's "Có" not counted)
    assert totals["all"]["tu_danh_gia"] == {"Tốt": 3, "Khá": 1, "Trung bình": 1, "Yếu": 0}
    assert totals["DN"]["co_thoa_uoc"] == 1
    assert "co_thoa_uoc" not in totals["HCSN"]  # does not apply to HCSN
    assert "hnnld_da_2021" not in totals["HCSN"] and "hnccc_da_2019" not in totals["DN"]


def test_rate_is_sum_over_sum_not_average(totals):
    # HCSN 2019: H01 5/10 (50%), H02 2/2 (100%), H04 0/0 (no rate): average 75%, Σ/Σ 7/12.
    assert totals["HCSN"]["hnccc_tl_2019"] == pytest.approx(7 / 12)
    assert totals["all"]["hnccc_tl_2019"] == pytest.approx(7 / 12)
    assert totals["all"]["kn_tl_2021"] == pytest.approx((6 + 1 + 0 + 9 + 0) / (7 + 3 + 0 + 10 + 0))


def test_rate_without_denominator_is_none(form):
    unit = make_unit("X1", "Đơn vị X", "HCSN")
    only = [make_result(form, unit, values={"hnccc_phai_2019": 0, "hnccc_da_2019": 0})]
    assert compute_totals(form, only)["all"]["hnccc_tl_2019"] is None


def test_derived_sums_and_period_totals(form, results, totals):
    counted = [r for r in results if r.counts]
    expected = sum(r.values[f"{k}_nhan_2021"] or 0 for r in counted for k in ("kn", "tc", "pakn"))
    assert totals["all"]["dt_nhan_2021"] == expected
    period = sum(r.values[f"kn_gq_{y}"] for r in counted for y in form.years)
    assert totals["all"]["kn_gq_tong"] == period


def test_khoi_groups(totals):
    assert set(totals["khoi"]) == {KHOI_A, ""}
    a = totals["khoi"][KHOI_A]
    assert (a["all"]["so_don_vi"], a["HCSN"]["so_don_vi"], a["DN"]["so_don_vi"]) == (2, 1, 1)
    assert a["all"]["so_dang_vien"] == 40 + 100  # H03 of this khoi is missing
    assert totals["khoi"][""]["all"]["so_dang_vien"] == 25 + 20  # H02 invalid


def test_enterprises_by_ownership(form, totals):
    owners = totals["loai_dn"]
    assert list(owners) == list(form.option_lists["loai_dn"])  # every option, in order
    assert owners["DN 100% vốn Nhà nước"]["so_don_vi"] == 1
    assert owners["DN cổ phần, DN tư nhân"]["so_don_vi"] == 1  # from the return's loai_dn
    assert owners["DN trên 50% vốn Nhà nước"]["so_don_vi"] == 0
    assert owners["DN 100% vốn Nhà nước"]["so_dang_vien"] == 100


def test_totals_are_json(totals):
    assert json.loads(json.dumps(totals, ensure_ascii=False)) == totals


def test_answered_counts(form, results):
    n = answered_counts(form, results)
    assert n["all"]["so_dang_vien"] == 4  # H02's value was invalid
    assert n["DN"]["co_thoa_uoc"] == 2 and "co_thoa_uoc" not in n["HCSN"]


def test_status_counts(results):
    assert status_counts(results) == {"don_vi": 6, "ok": 4, "errors": 1, "missing": 1,
                                      "superseded": 1}


def test_table_rollups(form, results):
    docs = table_counts(form, results, "tbl_van_ban", "loai_van_ban", "ngay_ban_hanh")
    assert docs["theo_nam"]["Kế hoạch"]["2019"] == 2
    assert docs["theo"]["Kế hoạch"] == 4 and docs["theo"]["Nghị quyết"] == 1
    assert docs["don_vi"]["Kế hoạch"] == 3  # H01, H02, D01
    assert docs["tong"] == 7 and docs["khong_ro"] == 0
    assert table_years(form, results, "tbl_van_ban", "ngay_ban_hanh")["2017"] == 1
    assert units_with_rows(results, "tbl_van_ban", "loai_van_ban", ("Chương trình", "Kế hoạch")) == 3
    models = table_counts(form, results, "tbl_mo_hinh", "linh_vuc")
    assert models["theo"]["Dân vận khéo"] == 1 and models["tong"] == 2
    grid = table_grid(form, results, "tbl_mo_hinh", "linh_vuc", "cap_cong_nhan")
    assert grid["Dân vận khéo"]["Tỉnh"] == 1 and grid["Sản xuất, kinh doanh"]["Cơ sở"] == 1
    assert sum(n for row in grid.values() for n in row.values()) == 2


def test_vietnamese_number_format():
    assert fmt_number(8012) == "8.012"
    assert fmt_number(1234567.5) == "1.234.567,5"
    assert fmt_pct(13, 110) == "11,8%"
    assert fmt_pct(40, 40) == "100%" and fmt_pct(3, 4) == "75%"
    assert fmt_pct(999, 1000) == "99,9%" and fmt_pct(1, 100000) == "0,1%"  # never round to a lie


def test_yesno_sentence_style():
    assert yesno_sentence(40, 40, "doanh nghiệp", "đã ký thỏa ước lao động tập thể") == \
        "100% (40/40) doanh nghiệp đã ký thỏa ước lao động tập thể."
    assert yesno_sentence(13, 110, "đơn vị", "đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở") == \
        "Có 13/110 đơn vị (11,8%) đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở."


def test_report_sentences(form, results, totals):
    sentences = report_sentences(form, results, totals)
    texts = [s for _, s in sentences]
    assert all(unicodedata.is_normalized("NFC", t) for _, t in sentences)
    assert any("1/6 đơn vị chưa gửi báo cáo" in t for t in texts)
    assert "Có 3/5 đơn vị (60%) đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở." in texts
    assert "Tổng số đảng viên: 185 (theo báo cáo của 4/5 đơn vị)." in texts
    assert "Có 1/2 doanh nghiệp (50%) đã ký thỏa ước lao động tập thể." in texts
    assert any(t.startswith("Toàn Khối có 5 tổ chức cơ sở đảng báo cáo, trong đó 3 tổ chức đảng "
                            "trong lĩnh vực hành chính, sự nghiệp và 2 tổ chức đảng trong lĩnh vực "
                            "doanh nghiệp (1 DN 100% vốn Nhà nước") for t in texts)
    assert ("Tự đánh giá chất lượng thực hiện QCDC: loại tốt 60%, loại khá 20%, loại trung bình "
            "20% (trên 5 đơn vị tự đánh giá).") in texts
    assert ("Có 1 đơn vị ban hành nghị quyết; 3 đơn vị ban hành chương trình, kế hoạch; 1 đơn vị "
            "ban hành quy chế, quy định; 1 đơn vị có thỏa ước lao động tập thể.") in texts
    year_2021 = next(t for t in texts if t.startswith("Năm 2021, đã giải quyết"))
    assert "16/20 khiếu nại" in year_2021
    assert "Năm 2021, 1/2 doanh nghiệp (50%) tổ chức hội nghị người lao động." in texts
    assert [t for t, _ in sentences][0] == "Tình hình nộp báo cáo"


def test_no_return_counts_when_all_missing(form):
    only = [make_result(form, make_unit(H1, "A", "HCSN"), "missing"),
            make_result(form, make_unit(D1, "B", "DN"), "missing")]
    totals = compute_totals(form, only)
    assert totals["all"]["so_don_vi"] == 0 and totals["all"]["so_dang_vien"] == 0
    assert totals["all"]["hnccc_tl_2019"] is None
    texts = [s for _, s in report_sentences(form, only, totals)]
    assert any("2/2 đơn vị chưa gửi báo cáo" in t for t in texts)



def test_footnotes_list_the_units_a_sentence_counts(form, results, totals):
    from qcdc_xl.output.sentences import report_entries
    notes = {e.text: e.footnote for e in report_entries(form, results, totals)}
    bcd = notes["Có 3/5 đơn vị (60%) đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở."]
    # H01, H04 and D01 answered "Có"; the old D02's "Có" does not count.
    assert bcd == ("Các đơn vị đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở: Sở Ngoại vụ, "
                   "Báo Hà Tĩnh, -Công ty Điện lực.")
    rating = next(n for t, n in notes.items() if t.startswith("Tự đánh giá"))
    assert rating == "Các đơn vị tự đánh giá loại tốt: Sở Ngoại vụ, Báo Hà Tĩnh, Công ty CP Dược."
    models = next(n for t, n in notes.items() if t.startswith("Các đơn vị đã xây dựng"))
    assert models == "Các đơn vị có điển hình, mô hình: Sở Ngoại vụ, -Công ty Điện lực."
    assert notes["Tổng số đảng viên: 185 (theo báo cáo của 4/5 đơn vị)."] is None


# ---------------------------------------------------------------- the totals, column-wise


def _reference_totals(form, results):
    """compute_totals as it was written before the per-field columns (the oracle): each
    group's valid values gathered unit by unit, field by field."""
    from collections import Counter

    from qcdc_xl.form.formulas import rate
    from qcdc_xl.form.spec import YES
    from qcdc_xl.report import summarise as S

    def field_total(f, rs, total):
        if f.type == "sum":
            return sum(total(x) or 0 for x in f.of)
        if f.type == "rate":
            return rate(total(f.num), total(f.den))
        if f.type == "count":
            return sum(len(r.tables.get(f.table) or ()) for r in rs if f.applies_to(r.unit.loai_hinh))
        values = [S.valid_value(r, f) for r in rs]
        if f.type == "yesno":
            return sum(1 for v in values if v == YES)
        if f.type == "list":
            counts = Counter(v for v in values if v in f.options)
            return {o: counts.get(o, 0) for o in f.options}
        t = sum(v for v in values if S._is_number(v))
        return int(t) if isinstance(t, float) and t.is_integer() else t

    def make(rs, types):
        fields, out = S.totalled_fields(form, types), {}

        def total(fid):
            if fid not in out:
                out[fid] = field_total(form.fields[fid], rs, total)
            return out[fid]
        for f in fields:
            total(f.id)
        return {**{f.id: out[f.id] for f in fields}, "so_don_vi": len(rs)}

    members = S.counted(results)
    totals = S._by_type(form, members, make)
    khois = S.khoi_values(results)
    if khois:
        totals["khoi"] = {k: S._by_type(form, rs, make) for k, rs in S._by_khoi(members, khois).items()}
    for name, attribute in form.attributes.items():
        totals[name] = {o: make([r for r in members if r.unit.loai_hinh in attribute.types
                                 and S.attribute_value(form, r, name) == o], attribute.types)
                        for o in attribute.options}
    return totals


def test_totals_match_the_unit_by_unit_reference(form, results):
    import copy

    from result_builders import many_results
    rs = copy.deepcopy(results) + many_results(form, 60)  # (the module's results stay as they are)
    money = next(f for f in form.fields.values() if f.is_input and f.type == "money")
    odd = [r for r in rs if r.counts][:4]  # floats, a negative zero, a bool among the numbers
    for r, v in zip(odd, (0.5, -0.0, 2.25, True)):
        r.values[money.id] = v
    got, want = compute_totals(form, rs), _reference_totals(form, rs)
    assert json.dumps(got, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    assert got["all"][money.id] == want["all"][money.id] != 0
