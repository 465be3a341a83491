"""Synthetic :class:`UnitResult` objects for the summarise/summary tests.

``scenario(form)`` is a small aggregate run with every status the summary must handle; the
numbers that the tests check by hand are set explicitly there, everything else is filled
with plausible, deterministic values by :func:`filled_values`.
"""
from __future__ import annotations

import datetime as dt

from qcdc_xl.form.formulas import compute_derived
from qcdc_xl.report.issues import issue
from qcdc_xl.report.records import UnitResult
from qcdc_xl.intake.units import Unit


def filled_values(form, loai_hinh: str, seed: int = 1) -> dict:
    """A valid value for every input field that applies to the type (rules respected)."""
    values = {}
    for f in form.input_fields(loai_hinh):
        values[f.id] = _value_for(f, seed)
    return values


def _value_for(f, seed: int):
    base = f.base_id
    if f.type == "yesno":
        return "Có" if (seed + len(f.id)) % 3 else "Không"
    if f.type == "list":
        return f.options[seed % len(f.options)]
    if f.type == "date":
        return dt.date(2022, 6, 1 + seed % 27)
    if f.type == "text":
        return f"Nguyễn Văn {seed}" if f.id == "nguoi_lap" else "0912 345 678"
    if f.min is not None:  # a year such as nam_thanh_lap_bcd
        return f.min + seed % (f.max - f.min + 1)
    bump = (f.year or 2016) - 2016
    if base.endswith(("_phai", "_nhan", "_giao", "_3_4")) or base in ("ntm_xa_giao_2016",):
        return 4 + seed % 3 + bump
    if base.endswith(("_da", "_gq", "_dat", "dvc_4")) or base == "ntm_xa_dat_2016":
        return 2 + seed % 2 + bump
    if base == "ntm_tong_kinh_phi":
        return 10_000_000 * (seed + 1)
    if f.type == "money":
        return 1_000_000 * (seed + 1)
    return 10 + seed + bump


def make_unit(code: str, name: str, loai: str, khoi: str = "", loai_dn: str = "") -> Unit:
    return Unit(ma_don_vi=code, ten_don_vi=name, loai_hinh=loai, khoi=khoi,
                attributes=(("loai_dn", loai_dn),) if loai_dn else ())


def make_result(form, unit: Unit, status: str = "ok", *, seed: int = 1, values=None,
                invalid=(), tables=None, issues=(), file: str | None = "auto") -> UnitResult:
    """A result as the aggregator would build it: inputs, recomputed derived fields, rows."""
    if status == "missing":
        return UnitResult(unit=unit, status=status, file=None,
                          issues=list(issues) or [_missing_issue(unit)])
    vals = filled_values(form, unit.loai_hinh, seed)
    vals.update({"ma_don_vi": unit.ma_don_vi, "ten_don_vi": unit.ten_don_vi,
                 "loai_hinh": unit.loai_hinh, "khoi": unit.khoi or None})
    if unit.attr("loai_dn") and unit.loai_hinh == "DN":
        vals["loai_dn"] = unit.attr("loai_dn")
    vals.update(values or {})
    for fid in invalid:
        vals[fid] = None
    tables = tables if tables is not None else {"tbl_van_ban": [], "tbl_mo_hinh": []}
    counts = {name: len(rows) for name, rows in tables.items()}
    vals.update(compute_derived(form, unit.loai_hinh, vals, counts))
    name = f"{unit.ma_don_vi}.xlsx" if file == "auto" else file
    return UnitResult(unit=unit, status=status, file=name, values=vals, invalid=set(invalid),
                      tables=tables, issues=list(issues),
                      saved_at=dt.datetime(2022, 6, 1, 8, 0))


def _missing_issue(unit: Unit):
    return issue("missing_return", f"Đơn vị «{unit.ten_don_vi}» chưa gửi báo cáo.",
                 ma_don_vi=unit.ma_don_vi)


def doc(kind: str, number: str, date: dt.date, excerpt: str = "Thực hiện QCDC ở cơ sở") -> dict:
    return {"loai_van_ban": kind, "so_ky_hieu": number, "ngay_ban_hanh": date,
            "co_quan_ban_hanh": "Cấp ủy", "trich_yeu": excerpt, "ghi_chu": None}


def model(name: str, field: str, year: int, level: str) -> dict:
    return {"ten_mo_hinh": name, "linh_vuc": field, "nam": year, "cap_cong_nhan": level,
            "ghi_chu": None}


# Codes of the scenario, for the tests' hand computations.
H1, H2, H3, H4, D1, D2 = "H01", "H02", "H03", "H04", "D01", "D02"
KHOI_A = "Khối Cơ quan"


def scenario(form) -> list[UnitResult]:
    """3 HCSN (one with an invalid value), 1 missing, 2 DN (one also sent an older,
    superseded return), a khoi on some units, and unit text that looks like formulas."""
    d = dt.date
    h1 = make_result(form, make_unit(H1, "Sở Ngoại vụ", "HCSN", KHOI_A), seed=1, values={
        "so_dang_vien": 40, "so_lao_dong": 60, "co_ban_chi_dao": "Có", "tu_danh_gia": "Tốt",
        "hnccc_phai_2019": 10, "hnccc_da_2019": 5, "kn_nhan_2021": 7, "kn_gq_2021": 6,
        "kt_to_chuc": 3, "ntm_kinh_phi": 1_500_000.5},
        tables={"tbl_van_ban": [doc("Nghị quyết", "01-NQ/ĐU", d(2018, 3, 1)),
                                doc("Kế hoạch", "02-KH/ĐU", d(2019, 4, 2)),
                                doc("Kế hoạch", "03-KH/ĐU", d(2019, 5, 3))],
                "tbl_mo_hinh": [model("Dân vận khéo trong tiếp dân", "Dân vận khéo", 2020, "Tỉnh")]})
    h2 = make_result(form, make_unit(H2, "=Sở Tư pháp", "HCSN"), "errors", seed=2, values={
        "so_lao_dong": 30, "co_ban_chi_dao": "Không", "tu_danh_gia": "Khá",
        "hnccc_phai_2019": 2, "hnccc_da_2019": 2, "kn_nhan_2021": 3, "kn_gq_2021": 1,
        "kt_to_chuc": 4, "ntm_kinh_phi": 2_000_000},
        invalid={"so_dang_vien"},
        issues=[issue("wrong_type", "Số đảng viên phải là số nguyên.", file=f"{H2}.xlsx",
                      ma_don_vi=H2, sheet="Thông tin chung", cell="C8", field="so_dang_vien",
                      value="ba mươi"),
                issue("protection_removed", "Trang «Phụ lục 2» đã bị gỡ bảo vệ.",
                      file=f"{H2}.xlsx", ma_don_vi=H2, sheet="Phụ lục 2")],
        tables={"tbl_van_ban": [doc("Quy chế", "+05-QC", d(2020, 1, 6), "=SUM(A1:A9)"),
                                doc("Kế hoạch", "06-KH", d(2021, 2, 7), "@ghi chú")],
                "tbl_mo_hinh": []})
    h3 = make_result(form, make_unit(H3, "@Ban Dân vận", "HCSN", KHOI_A), "missing")
    h4 = make_result(form, make_unit(H4, "Báo Hà Tĩnh", "HCSN"), seed=4, values={
        "so_dang_vien": 25, "so_lao_dong": 25, "co_ban_chi_dao": "Có", "tu_danh_gia": "Tốt",
        "hnccc_phai_2019": 0, "hnccc_da_2019": 0, "kn_nhan_2021": 0, "kn_gq_2021": 0,
        "kt_to_chuc": 0, "ntm_kinh_phi": 0})
    d1 = make_result(form, make_unit(D1, "-Công ty Điện lực", "DN", KHOI_A, "DN 100% vốn Nhà nước"),
                     seed=5, values={
        "so_dang_vien": 100, "so_lao_dong": 900, "co_ban_chi_dao": "Có", "co_thoa_uoc": "Có",
        "tu_danh_gia": "Trung bình", "hnnld_phai_2021": 1, "hnnld_da_2021": 1,
        "kn_nhan_2021": 10, "kn_gq_2021": 9, "kt_to_chuc": 5, "ntm_kinh_phi": 0},
        tables={"tbl_van_ban": [doc("Thỏa ước lao động tập thể", "TU-01", d(2021, 3, 1)),
                                doc("Kế hoạch", "KH-02", d(2017, 6, 1))],
                "tbl_mo_hinh": [model("=Sáng kiến", "Sản xuất, kinh doanh", 2021, "Cơ sở")]})
    d2_owner = "DN cổ phần, DN tư nhân"
    d2_unit = make_unit(D2, "Công ty CP Dược", "DN", loai_dn="")
    d2 = make_result(form, d2_unit, seed=6, values={
        "loai_dn": d2_owner, "so_dang_vien": 20, "so_lao_dong": 200, "co_ban_chi_dao": "Không",
        "co_thoa_uoc": "Không", "tu_danh_gia": "Tốt", "hnnld_phai_2021": 1, "hnnld_da_2021": 0,
        "kn_nhan_2021": 0, "kn_gq_2021": 0, "kt_to_chuc": 1, "ntm_kinh_phi": 500_000},
        file="sub/D02_moi.xlsx")
    d2_old = make_result(form, d2_unit, "superseded", seed=7, values={
        "loai_dn": d2_owner, "so_dang_vien": 9999, "so_lao_dong": 9999, "co_ban_chi_dao": "Có",
        "co_thoa_uoc": "Có", "tu_danh_gia": "Yếu", "kn_nhan_2021": 999, "kn_gq_2021": 999,
        "kt_to_chuc": 999, "ntm_kinh_phi": 999},
        issues=[issue("duplicate_return", "Đơn vị gửi nhiều bản; dùng bản mới nhất.",
                      file="D02_cu.xlsx", ma_don_vi=D2)],
        tables={"tbl_van_ban": [doc("Nghị quyết", "X", d(2019, 1, 1))] * 5, "tbl_mo_hinh": []},
        file="D02_cu.xlsx")
    return [h1, h2, h3, h4, d1, d2, d2_old]


def many_results(form, n: int = 110) -> list[UnitResult]:
    """n units, 70/40 HCSN/DN like the bloc, two khoi, a few documents and models each."""
    owners = form.option_lists["loai_dn"]
    out = []
    for i in range(n):
        loai = "HCSN" if i < n * 7 // 11 else "DN"
        unit = make_unit(f"U{i:03d}", f"Đơn vị số {i + 1}", loai, ["Khối A", "Khối B"][i % 2],
                         owners[i % len(owners)] if loai == "DN" else "")
        docs = [doc(form.option_lists["loai_van_ban"][(i + k) % 13], f"{k}-VB/{i}",
                    dt.date(2017 + (i + k) % 6, 6, 1)) for k in range(8)]
        models = [model(f"Mô hình {i}-{k}", form.option_lists["linh_vuc"][k % 6], 2020,
                        form.option_lists["cap_cong_nhan"][k % 5]) for k in range(2)]
        status = "missing" if i % 37 == 36 else "ok"
        out.append(make_result(form, unit, status, seed=i,
                               tables={"tbl_van_ban": docs, "tbl_mo_hinh": models}))
    return out
