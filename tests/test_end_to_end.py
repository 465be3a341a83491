"""aggregate end to end on returns filled by LibreOffice (a real client) and by openpyxl:
totals equal independent sums, the JSON has the contract's shape, inputs stay untouched."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import lo_helpers
from fill import fill_with_openpyxl
from qcdc_xl.cli import main

UNITS_CSV = (
    "ma_don_vi,ten_don_vi,loai_hinh,khoi,loai_dn\n"
    "H1,Đảng bộ Sở Ngoại vụ,HCSN,Khối Cơ quan,\n"
    "H2,\"=HYPERLINK(\"\"http://x\"\")\",HCSN,Khối Cơ quan,\n"
    "D1,Công ty Điện lực,DN,Khối Doanh nghiệp,DN 100% vốn Nhà nước\n"
    "D2,Công ty Cổ phần Cao su,DN,Khối Doanh nghiệp,\"DN cổ phần, DN tư nhân\"\n"
    "M1,Đảng bộ Sở Chưa Gửi,HCSN,Khối Cơ quan,\n"
)
YEARS = range(2017, 2022)


def common(dang_vien, lao_dong, bcd, rating, kn):
    values = {
        "so_dang_vien": dang_vien, "so_lao_dong": lao_dong, "co_cong_doan": "Có",
        "co_ban_chi_dao": "Có" if bcd else "Không", "co_ban_ttnd": "Có", "tu_danh_gia": rating,
        "nguoi_lap": "Nguyễn Văn A", "ngay_lap": dt.datetime(2022, 6, 15),
        "ntm_xa_giao": 2, "ntm_xa_dat": 1, "ntm_xa_giao_2016": 2, "ntm_xa_dat_2016": 0,
        "ntm_kinh_phi": 1_500_000, "ntm_tong_kinh_phi": 10_000_000,
    }
    if bcd:
        values["nam_thanh_lap_bcd"] = 2018
    for i, y in enumerate(YEARS):
        values.update({f"kn_nhan_{y}": kn + i, f"kn_gq_{y}": kn, f"tc_nhan_{y}": 1, f"tc_gq_{y}": 1,
                       f"pakn_nhan_{y}": 2, f"pakn_gq_{y}": 1, f"dttt_so_cuoc_{y}": 3})
    return values


def hcsn(dang_vien, lao_dong, bcd, rating, kn, phai, da):
    v = common(dang_vien, lao_dong, bcd, rating, kn)
    v.update({"mot_cua": "Có", "dvc_3_4": 10, "dvc_4": 4})
    for y in YEARS:
        v.update({f"hnccc_phai_{y}": phai, f"hnccc_da_{y}": da})
    return v


def dn(dang_vien, lao_dong, rating, kn, phai, da):
    v = common(dang_vien, lao_dong, False, rating, kn)
    v.update({"co_thoa_uoc": "Có"})
    for y in YEARS:
        v.update({f"hnnld_phai_{y}": phai, f"hnnld_da_{y}": da, f"dtnlv_phai_{y}": phai,
                  f"dtnlv_da_{y}": da, f"dtnlv_so_cuoc_{y}": da * 2})
    return v


RETURNS = {
    "H1": hcsn(83, 120, True, "Tốt", 4, 1, 1),
    "H2": hcsn(40, 60, False, "Khá", 0, 2, 1),
    "D1": dn(150, 900, "Tốt", 2, 1, 1),
    "D2": dn(30, 200, "Trung bình", 1, 1, 0),
}
DOCS = {
    "H1": [["Kế hoạch", "11-KH/ĐUK", dt.datetime(2018, 5, 12), "Cấp ủy", "Triển khai Nghị quyết 02", None],
           ["Quy chế", "05-QC/SNV", dt.datetime(2019, 1, 3), "Lãnh đạo cơ quan, đơn vị", "=1+1 không phải công thức", None]],
    "D1": [["Thỏa ước lao động tập thể", "01/TƯ", dt.datetime(2020, 3, 1), "Công đoàn", "@Thỏa ước", "+ghi chú"]],
}


def fill_with_libreoffice(jobs: list[tuple[Path, Path, dict, list]]) -> None:
    """Type the values into the templates through LibreOffice Calc's UNO API and save .xlsx."""
    from qcdc_xl.intake.libreoffice import run_jobs
    lo_helpers.require_libreoffice()
    results = run_jobs([{
        "open": str(template), "save_xlsx": str(out), "recalc": True,
        "set_names": {k: lo_helpers.to_job_value(v) for k, v in values.items()},
        "set_table_rows": {"tbl_van_ban": [[lo_helpers.to_job_value(v) for v in row] for row in rows]},
    } for template, out, values, rows in jobs])
    assert all(r["ok"] for r in results), [r["error"] for r in results]


@pytest.fixture(scope="module", params=["libreoffice", "openpyxl"])
def run(request, tmp_path_factory):
    """Generate templates, fill four of five (by LibreOffice or openpyxl), aggregate."""
    root = tmp_path_factory.mktemp("e2e")
    units = root / "don_vi.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    templates, returns = root / "templates", root / "returns"
    result = CliRunner().invoke(main, ["generate", "--units", str(units), "--out", str(templates)])
    assert result.exit_code == 0, result.output
    returns.mkdir()
    jobs = [(path, returns / path.name, RETURNS[code], DOCS.get(code, []))
            for path in sorted(templates.glob("*.xlsx")) if (code := path.name.split("_")[0]) in RETURNS]
    if request.param == "libreoffice":
        fill_with_libreoffice(jobs)
    else:
        for template, out, values, rows in jobs:
            fill_with_openpyxl(template, out, values, {"tbl_van_ban": rows})
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in returns.iterdir()}
    out = root / "out"
    result = CliRunner().invoke(main, ["aggregate", str(returns), "--units", str(units),
                                       "-o", str(out / "tong_hop.xlsx"), "--json", str(out / "r.json"),
                                       "--feedback", str(out / "phan_hoi")])
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in returns.iterdir()}
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    return dict(result=result, report=report, out=out, before=before, after=after)


def test_command_succeeds_and_says_what_it_did(run):
    assert run["result"].exit_code == 0, run["result"].output
    assert "Traceback" not in run["result"].output
    assert "Đã đọc 4 tệp" in run["result"].output


def test_inputs_are_byte_identical_after_the_run(run):
    assert run["before"] == run["after"] and len(run["before"]) == 4


def test_json_has_the_contract_shape(run):
    report = run["report"]
    assert set(report) >= {"form", "form_version", "generated_at", "units", "totals", "issues"}
    assert report["form"] == "nq02_sk5"
    by_code = {u["ma_don_vi"]: u for u in report["units"]}
    assert {c: u["status"] for c, u in by_code.items()} == {
        "H1": "ok", "H2": "ok", "D1": "ok", "D2": "ok", "M1": "missing"}
    assert by_code["M1"]["file"] is None
    assert set(by_code["M1"]["values"]) == set(by_code["H1"]["values"])  # same shape, all null
    assert set(by_code["M1"]["values"].values()) == {None} and by_code["M1"]["van_ban"] == []
    h1 = by_code["H1"]
    assert h1["values"]["so_dang_vien"] == 83 and h1["values"]["co_ban_chi_dao"] == "Có"
    assert h1["values"]["ngay_lap"] == "2022-06-15"
    assert "hnnld_da_2019" not in h1["values"] and "hnnld_da_2019" in by_code["D1"]["values"]
    assert h1["van_ban"][0]["so_ky_hieu"] == "11-KH/ĐUK"
    assert h1["van_ban"][0]["ngay_ban_hanh"] == "2018-05-12"
    for i in report["issues"]:
        assert set(i) == {"severity", "code", "file", "ma_don_vi", "sheet", "cell", "field", "value", "message"}
    assert [(i["code"], i["ma_don_vi"]) for i in report["issues"]] == [("missing_return", "M1")]


def test_totals_equal_independent_sums(run):
    totals = run["report"]["totals"]
    hc, dn_ = ["H1", "H2"], ["D1", "D2"]
    for group, codes in (("all", hc + dn_), ("HCSN", hc), ("DN", dn_)):
        t = totals[group]
        assert t["so_don_vi"] == len(codes)
        assert t["so_dang_vien"] == sum(RETURNS[c]["so_dang_vien"] for c in codes)
        assert t["kn_nhan_2019"] == sum(RETURNS[c]["kn_nhan_2019"] for c in codes)
        assert t["co_ban_chi_dao"] == sum(RETURNS[c]["co_ban_chi_dao"] == "Có" for c in codes)
        assert t["so_van_ban"] == sum(len(DOCS.get(c, [])) for c in codes)
        expected_rating = {o: sum(RETURNS[c]["tu_danh_gia"] == o for c in codes)
                           for o in ("Tốt", "Khá", "Trung bình", "Yếu")}
        assert t["tu_danh_gia"] == expected_rating
    assert totals["HCSN"]["hnccc_da_2020"] == 2 and totals["HCSN"]["hnccc_phai_2020"] == 3
    assert totals["DN"]["hnnld_da_2021"] == 1 and totals["DN"]["hnnld_phai_2021"] == 2
    assert "hnnld_da_2021" not in totals["HCSN"]
    # The period rate is Σ resolved / Σ received over units and years, not an average of rates.
    kn_nhan = sum(RETURNS[c][f"kn_nhan_{y}"] for c in RETURNS for y in YEARS)
    kn_gq = sum(RETURNS[c][f"kn_gq_{y}"] for c in RETURNS for y in YEARS)
    assert totals["all"]["kn_tl_tong"] == pytest.approx(kn_gq / kn_nhan)
    assert totals["khoi"]["Khối Doanh nghiệp"]["all"]["so_dang_vien"] == 180


def test_summary_keeps_unit_text_as_text(run):
    wb = openpyxl.load_workbook(run["out"] / "tong_hop.xlsx")
    texts = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)}
    for literal in ('=HYPERLINK("http://x")', "=1+1 không phải công thức", "@Thỏa ước", "+ghi chú"):
        assert literal in texts, literal
    formulas = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f" and "HYPERLINK" in str(c.value)]
    assert formulas == []


def test_no_feedback_for_clean_returns(run):
    feedback = run["out"] / "phan_hoi"
    assert not feedback.exists() or list(feedback.iterdir()) == []
