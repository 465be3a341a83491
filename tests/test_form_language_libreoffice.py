"""The inline form of test_form_language, end to end through a real spreadsheet program:
generate a template per unit type, type the figures in LibreOffice Calc (by defined name,
through UNO), save, and aggregate the saved files. The totals per unit type, per named group
and per level, the checks the spec declares, and the feedback copies come out with no line
of Python knowing the form.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

import lo_helpers as h
from qcdc_xl.intake import libreoffice
from qcdc_xl.report.aggregate import build_report, write_json
from qcdc_xl.output.feedback import write_feedback
from qcdc_xl.template.generate import generate_workbook
from qcdc_xl.form.spec import load_form_text
from qcdc_xl.output.summary import write_summary
from qcdc_xl.intake.units import Unit
from test_form_language import FORM

GENERATED_AT = dt.datetime(2021, 3, 1, 8, 0)
UNITS = [Unit("H1", "Huyện ủy Tuy Phong", "HUYEN", attributes=(("vung", "Miền núi"),)),
         Unit("H2", "Thị ủy La Gi", "HUYEN", attributes=(("vung", "Đồng bằng"),)),
         Unit("S1", "Sở Nội vụ", "SO"),
         Unit("T1", "Ban Chỉ đạo QCDC tỉnh", "TINH"),
         Unit("S2", "Sở Tư pháp", "SO")]  # sends nothing
DAY = "2021-06-15"
VALUES = {
    "H1": {"ngay_lap": DAY, "hs_dung_huyen": 900, "hs_tre_huyen": 100, "hs_tiep_nhan_huyen": 1000,
           "hs_dung_xa": 2000, "hs_tre_xa": 0, "co_bcd_2019": "Có", "co_bcd_2020": "Có",
           "to_kt_2019": 3, "to_kt_2020": 4, "noi_kt_2019": 5, "noi_kt_2020": 6,
           "xa_truoc": 20, "xa_nay": 18, "xa_sn": 4, "xa_sau": 2, "dat_chuan": "Không"},
    # H2: a period rule that fails (warning), a conditional rule that fails (error), and the
    # 2018 tổ count left empty, which is allowed (required from 2019).
    "H2": {"ngay_lap": DAY, "hs_dung_huyen": 300, "hs_tre_huyen": 50, "hs_tiep_nhan_huyen": 340,
           "hs_dung_xa": 700, "hs_tre_xa": 7, "co_bcd_2019": "Có", "co_bcd_2020": "Không",
           "to_kt_2019": 2, "to_kt_2020": 2, "noi_kt_2019": 2, "noi_kt_2020": 1,
           "xa_truoc": 10, "xa_nay": 5, "xa_sn": 3, "xa_sau": 2, "dat_chuan": "Có"},
    "S1": {"ngay_lap": DAY, "hs_dung_tinh": 532703, "hs_tre_tinh": 20000, "hs_tiep_nhan_tinh": 560000},
    "T1": {"ngay_lap": DAY, "co_bcd_2019": "Có", "co_bcd_2020": "Có", "to_kt_2018": 9,
           "to_kt_2019": 10, "to_kt_2020": 12, "noi_kt_2019": 40, "noi_kt_2020": 41},
}
ROWS = {"H1": [["Chỉ thị", "Có"], ["Kế hoạch", "Không"]], "H2": [["Kế hoạch", "Không"]],
        "S1": [["Khác", "Có"]], "T1": [["Kế hoạch", "Có"]]}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    h.require_libreoffice()
    root = tmp_path_factory.mktemp("form_language")
    form = load_form_text(FORM)
    (root / "returns").mkdir()
    jobs = []
    for unit in UNITS[:4]:
        template = generate_workbook(form, unit, root / f"{unit.ma_don_vi}.xlsx",
                                     generated_at=GENERATED_AT)
        jobs.append({"open": str(template), "set_names": VALUES[unit.ma_don_vi],
                     "set_table_rows": {"tbl_vb": ROWS[unit.ma_don_vi]},
                     "save_xlsx": str(root / "returns" / template.name)})
    results = libreoffice.run_jobs(jobs)
    assert [r["error"] for r in results if not r["ok"]] == []
    report = build_report(form, UNITS, root / "returns")
    write_json(report.to_json(), root / "report.json")
    count = write_feedback(form, report, root / "returns", root / "feedback")
    write_summary(form, report, root / "tong_hop.xlsx")
    return {"form": form, "report": report, "root": root, "feedback": count,
            "json": json.loads((root / "report.json").read_text(encoding="utf-8"))}


def _issues(run, unit: str) -> set:
    return {(i["code"], i["severity"], i["field"]) for i in run["json"]["issues"] if i["ma_don_vi"] == unit}


def test_every_return_is_read_and_the_missing_one_is_reported(run):
    status = {u["ma_don_vi"]: u["status"] for u in run["json"]["units"]}
    assert status == {"H1": "ok", "H2": "errors", "S1": "ok", "T1": "ok", "S2": "missing"}


def test_totals_per_unit_type_group_and_level(run):
    t = run["json"]["totals"]
    assert set(t) >= {"all", "HUYEN", "SO", "TINH", "DIA_PHUONG", "vung"}
    assert t["SO"]["hs_dung_tinh"] == 532703 and t["SO"]["so_don_vi"] == 1
    assert t["HUYEN"]["hs_tong_xa"] == 2707  # a sum formula, recomputed: 2000 + 0 + 700 + 7
    assert t["HUYEN"]["hs_tl_huyen"] == pytest.approx(1200 / 1350)  # Σ/Σ, not a mean of rates
    assert t["DIA_PHUONG"]["to_kt_2020"] == 4 + 2 + 12 and t["DIA_PHUONG"]["so_don_vi"] == 3
    assert t["DIA_PHUONG"]["co_bcd_2020"] == 2  # units answering Có
    assert t["all"]["so_vb"] == 5
    assert t["vung"]["Miền núi"]["so_don_vi"] == 1 and t["vung"]["Đồng bằng"]["hs_dung_huyen"] == 300


def test_the_rules_the_spec_declares(run):
    h2 = _issues(run, "H2")
    assert ("constraint_violated", "warning", "hs_tong_huyen") in h2  # 350 solved > 340 received
    assert ("constraint_violated", "warning", "noi_kt_2020") in h2  # 1 place < 2 teams
    assert ("constraint_violated", "error", "xa_nay") in h2  # dat_chuan = Có and 5 < 3 × 2
    assert ("constraint_violated", "warning", "xa_truoc") in h2  # 10 − 5 ≠ 3 − 2
    assert ("constraint_violated", "warning", "tbl_vb.trien_khai") in h2  # no row deploys
    assert not any(code == "required_missing" for code, _, _ in h2)  # to_kt_2018 is optional
    assert not any(code == "constraint_violated" for code, _, _ in _issues(run, "H1"))
    message = next(i["message"] for i in run["json"]["issues"]
                   if i["ma_don_vi"] == "H2" and i["field"] == "xa_nay")
    assert "«Xã hiện nay» (5)" in message and "3 × «Thành» (3 × 2 = 6)" in message and "«Có»" in message


def test_an_error_leaves_its_numbers_out_of_the_totals(run):
    t = run["json"]["totals"]["HUYEN"]
    assert t["xa_nay"] == 18 and t["xa_sau"] == 2  # H2's 5 and 2 stay out until fixed


def test_each_unit_json_has_its_attributes_and_table_rows(run):
    h1 = next(u for u in run["json"]["units"] if u["ma_don_vi"] == "H1")
    assert h1["vung"] == "Miền núi"
    assert [r["loai"] for r in h1["vb"]] == ["Chỉ thị", "Kế hoạch"]
    assert "hs_dung_tinh" not in h1["values"] and h1["values"]["hs_dung_xa"] == 2000


def test_feedback_goes_to_the_unit_with_issues(run):
    assert run["feedback"] >= 1
    names = {p.name for p in (run["root"] / "feedback").rglob("*.xlsx")}
    assert any(n.startswith("H2") for n in names) and not any(n.startswith("H1") for n in names)


def _rows(ws) -> list:
    return [[c for c in row if c not in (None, "")] for row in ws.iter_rows(values_only=True)]


def test_the_summary_has_the_sheets_and_sentences_the_spec_declares(run):
    wb = h.load(run["root"] / "tong_hop.xlsx", data_only=True)
    assert wb.sheetnames[0] == "Tổng hợp số liệu"
    texts = [" ".join(str(c) for c in row) for row in _rows(wb["Số liệu báo cáo"])]
    # 2.707 solved at cấp xã, 2.700 on time: 99,7%
    assert any("Cấp xã đã giải quyết 2.707 hồ sơ, đúng hạn đạt 99,7%." in t for t in texts), texts
    line = next(t for t in texts if "địa phương có Ban Chỉ đạo." in t)
    assert "Năm 2020, có 2/3 địa phương có Ban Chỉ đạo." in line
    assert "Huyện ủy Tuy Phong, Ban Chỉ đạo QCDC tỉnh" in line  # the footnote's unit names
    assert "Thị ủy La Gi" not in line  # answered Không for 2020
    assert any("4/5" in t for t in texts)  # returns: 4 of the 5 units sent theirs


def test_the_figures_sheet_has_the_levels_and_the_groups(run):
    ws = h.load(run["root"] / "tong_hop.xlsx", data_only=True)["Tổng hợp số liệu"]
    cells = [c for row in _rows(ws) for c in row]
    assert {"Cấp tỉnh", "Cấp huyện", "Cấp xã"} <= set(cells)
    assert 532703 in cells and 2707 in cells  # SO's tỉnh dossiers, HUYEN's xã total
