"""The summary workbook: sheets, live formulas with right cached values (also after a real
LibreOffice recalculation), unit text kept literal, charts, a clean OOXML audit, atomic write."""
import math
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from result_builders import D2, H2, KHOI_A, many_results, scenario  # noqa: E402

from qcdc_xl.report.records import Report  # noqa: E402
from qcdc_xl.report.summarise import compute_totals  # noqa: E402
from ooxml import ooxml_findings  # noqa: E402
from qcdc_xl.output.summary import STATUS_VI, SummaryLockedError, sheet_names, write_summary  # noqa: E402

SHEETS = ["Tổng hợp", "Thông tin chung", "Số liệu báo cáo", "Biểu đồ", "Tình hình nộp",
          "Kiểm tra", "Chi tiết đơn vị", "Danh mục văn bản", "Điển hình, mô hình"]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# LibreOffice keeps an .xlsx file's cached values unless told to recalculate on load.
RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def make_report(form, results):
    issues = [i for r in results for i in r.issues]
    return Report(form.id, form.version, "2022-07-01T10:00:00", results, issues,
                  compute_totals(form, results))


@pytest.fixture(scope="module")
def results(form):
    return scenario(form)


@pytest.fixture(scope="module")
def summary(form, results, tmp_path_factory):
    return write_summary(form, make_report(form, results), tmp_path_factory.mktemp("s") / "tong_hop.xlsx")


@pytest.fixture(scope="module")
def values_wb(summary):
    return openpyxl.load_workbook(summary, data_only=True)


@pytest.fixture(scope="module")
def formulas_wb(summary):
    return openpyxl.load_workbook(summary)


def _group_of_block(title: str):
    """("all"|"HCSN"|"DN", khoi or None) from a block title of «Tổng hợp»."""
    if title.startswith("KHỐI: "):
        name = title[len("KHỐI: "):]
        return "all", ("" if name == "KHÔNG GHI KHỐI" else name)
    return {"TỔNG SỐ": ("all", None), "HÀNH CHÍNH, SỰ NGHIỆP (HCSN)": ("HCSN", None),
            "DOANH NGHIỆP (DN)": ("DN", None)}[title]


def _summary_cells(form, ws):
    """Yield (row, col, field id, group, khoi) for every figure cell of «Tổng hợp», found by
    reading its headers and its «Mã chỉ tiêu» column (not by asking the code under test)."""
    header = next(r for r in range(1, 12) if ws.cell(r, 1).value == "TT")
    id_col = next(c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value == "Mã chỉ tiêu")
    blocks, current = {}, None
    for c in range(3, id_col):
        title = ws.cell(header, c).value
        current = title if title else current
        blocks[c] = current
    for r in range(header + 2, ws.max_row + 1):
        base = ws.cell(r, id_col).value
        if not base:
            continue
        for c in range(3, id_col):
            key = str(ws.cell(header + 1, c).value)
            if base == "so_don_vi" or base in form.fields:
                fid = base
            elif key == "Cả giai đoạn":
                fid = f"{base}_tong"
            else:
                fid = f"{base}_{key}"
            if fid != base and fid not in form.fields:
                continue
            if base in form.fields and key != "Cả giai đoạn":
                continue  # a single-value row: only the last column holds the figure
            if base == "so_don_vi" and key != "Cả giai đoạn":
                continue
            group, khoi = _group_of_block(blocks[c])
            yield r, c, fid, group, khoi


def _expected(totals, fid, group, khoi):
    source = totals if khoi is None else totals["khoi"][_khoi_key(totals, khoi)]
    return source[group].get(fid, "absent")


def _khoi_key(totals, upper):
    return next(k for k in totals["khoi"] if k.upper() == upper)


def test_every_sheet_is_there(form, values_wb):
    assert values_wb.sheetnames == SHEETS
    assert sheet_names(form) == SHEETS


def test_summary_cached_values_equal_totals(form, results, values_wb, formulas_wb):
    totals = compute_totals(form, results)
    ws_v, ws_f = values_wb["Tổng hợp"], formulas_wb["Tổng hợp"]
    checked = 0
    for r, c, fid, group, khoi in _summary_cells(form, ws_f):
        cached, formula = ws_v.cell(r, c).value, ws_f.cell(r, c).value
        expected = _expected(totals, fid, group, khoi)
        if expected == "absent":  # the field does not apply to the group
            assert cached == "—", (fid, group)
            continue
        assert isinstance(formula, str) and formula.startswith("="), (fid, group, formula)
        if expected is None:
            assert cached in (None, ""), (fid, group, cached)
        else:
            assert cached == pytest.approx(expected), (fid, group, khoi)
        checked += 1
    assert checked > 300


def test_summary_uses_sumifs_over_the_detail_sheet(formulas_wb):
    ws = formulas_wb["Tổng hợp"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("=SUMIFS('Chi tiết đơn vị'!") for t in texts)
    assert any(t.startswith('=IF(N(') for t in texts)  # rates: Σnum/Σden, blank when 0


def test_known_figures_in_the_summary(values_wb):
    ws = values_wb["Tổng hợp"]
    found = {}
    for row in ws.iter_rows():
        label = row[1].value
        if label in ("Số đơn vị báo cáo được tính", "Tỷ lệ đã tổ chức"):
            found.setdefault(label, []).append([c.value for c in row[2:]])
    first = found["Số đơn vị báo cáo được tính"][0]
    assert first[5] == 5 and first[11] == 3 and first[17] == 2  # Tổng, HCSN, DN
    hnccc = found["Tỷ lệ đã tổ chức"][0]
    assert hnccc[2] == pytest.approx(7 / 12)  # 2019, Σ/Σ, not the 75% average


def test_detail_sheet_marks_invalid_and_excluded(values_wb, formulas_wb):
    ws = formulas_wb["Chi tiết đơn vị"]
    header = 5  # ids row (1-based)
    col = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    rows = {ws.cell(r, col["ma_don_vi"]).value: r for r in range(header + 1, ws.max_row + 1)
            if ws.cell(r, col["trang_thai"]).value != STATUS_VI["superseded"]}
    cell = ws.cell(rows[H2], col["so_dang_vien"])
    assert cell.value == "ba mươi" and cell.data_type == "s"  # as typed, text: never summed
    assert cell.comment is not None and "không hợp lệ" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("F8CBAD")
    statuses = [(ws.cell(r, col["ma_don_vi"]).value, ws.cell(r, col["trang_thai"]).value,
                 ws.cell(r, col["duoc_tinh"]).value) for r in range(header + 1, ws.max_row + 1)]
    assert (D2, STATUS_VI["superseded"], 0) in statuses
    assert ("H03", STATUS_VI["missing"], 0) in statuses
    assert ws.tables and "tbl_chi_tiet" in ws.tables


def test_unit_text_stays_literal(summary, formulas_wb):
    expected = {"=Sở Tư pháp", "-Công ty Điện lực", "@Ban Dân vận", "=SUM(A1:A9)", "+05-QC",
                "@ghi chú", "=Sáng kiến"}
    seen = set()
    for ws in formulas_wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value in expected:
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    seen.add(c.value)
    assert seen == expected
    with zipfile.ZipFile(summary) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    assert "<f>SUM(A1:A9)" not in xml and "Sở Tư pháp</f>" not in xml


def test_sheets_hold_lists_and_sentences(values_wb):
    docs = values_wb["Danh mục văn bản"]
    assert "tbl_danh_muc_van_ban" in docs.tables
    texts = [c.value for row in values_wb["Số liệu báo cáo"].iter_rows() for c in row]
    assert "Có 3/5 đơn vị (60%) đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở." in texts
    returns = [c.value for row in values_wb["Tình hình nộp"].iter_rows() for c in row]
    assert {"Đạt", "Có lỗi", "Chưa nộp", "Bản cũ, bị thay thế"} <= set(returns)
    issues = values_wb["Kiểm tra"]
    assert "tbl_kiem_tra" in issues.tables
    general = [[c.value for c in row] for row in values_wb["Thông tin chung"].iter_rows()]
    bcd = next(r for r in general if r[1] == "Đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở")
    assert bcd[2:8] == ["3/5", pytest.approx(0.6), "2/3", pytest.approx(2 / 3), "1/2", 0.5]
    owner = next(r for r in general if r[1] == "Số DN 100% vốn Nhà nước")
    assert owner[2] == "1/2" and owner[4] == "—"


def test_khoi_block_present(values_wb):
    ws = values_wb["Tổng hợp"]
    titles = {c.value for row in ws.iter_rows(max_row=8) for c in row if isinstance(c.value, str)}
    assert f"KHỐI: {KHOI_A.upper()}" in titles and "KHỐI: KHÔNG GHI KHỐI" in titles


def test_charts_exist(summary):
    with zipfile.ZipFile(summary) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 3


def test_openxml_audit_finds_nothing(summary):
    assert ooxml_findings(summary) == []


def test_properties_fixed_and_output_deterministic(form, results, tmp_path):
    report = make_report(form, results)
    a = write_summary(form, report, tmp_path / "a.xlsx").read_bytes()
    b = write_summary(form, report, tmp_path / "b.xlsx").read_bytes()
    assert a == b
    props = openpyxl.load_workbook(tmp_path / "a.xlsx").properties
    assert props.creator == "qcdc-xl" and props.created.year == 2022


def test_current_totals_are_taken_as_given_and_give_the_same_workbook(form, results, tmp_path,
                                                                      monkeypatch):
    """aggregate hands its just-computed totals over (totals_current): the summary then does
    not compute them again, and is the very workbook it writes when it does."""
    from qcdc_xl.output.summary import book
    report = make_report(form, results)
    recomputed = write_summary(form, report, tmp_path / "a.xlsx").read_bytes()
    asked = []
    monkeypatch.setattr(book, "compute_totals", lambda *a: asked.append(a) or compute_totals(*a))
    given = write_summary(form, report, tmp_path / "b.xlsx", totals_current=True).read_bytes()
    assert asked == [] and given == recomputed
    write_summary(form, report, tmp_path / "c.xlsx")
    assert len(asked) == 1  # (the spy works: without the flag they are computed)


def test_atomic_write_leaves_no_temp(form, results, tmp_path):
    target = write_summary(form, make_report(form, results), tmp_path / "out" / "tong_hop.xlsx")
    assert [p.name for p in target.parent.iterdir()] == ["tong_hop.xlsx"]
    if os.name == "posix":  # a normal file, not mkstemp's private 0600
        assert target.stat().st_mode & 0o044


def test_locked_target_raises_and_keeps_old_file(form, results, tmp_path, monkeypatch):
    target = tmp_path / "tong_hop.xlsx"
    target.write_bytes(b"old summary")

    def locked(src, dst):
        raise PermissionError(13, "The process cannot access the file", str(dst))

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(SummaryLockedError) as err:
        write_summary(form, make_report(form, results), target)
    assert str(err.value) == ("Tệp «tong_hop.xlsx» đang mở trong Excel hoặc bị khóa; hãy đóng "
                              "tệp rồi chạy lại.")
    assert isinstance(err.value, OSError)
    assert target.read_bytes() == b"old summary"
    assert [p.name for p in tmp_path.iterdir()] == ["tong_hop.xlsx"]


def test_110_units_quickly(form, tmp_path):
    results = many_results(form, 110)
    report = make_report(form, results)
    start = time.perf_counter()
    write_summary(form, report, tmp_path / "big.xlsx")
    elapsed = time.perf_counter() - start
    print(f"write_summary, 110 units: {elapsed:.2f} s")
    assert elapsed < 10


# ---------------------------------------------------------------- LibreOffice


def _soffice(tmp_path: Path, source: Path, target_format: str) -> Path:
    profile = tmp_path / "lo_profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
    out = tmp_path / f"lo_{target_format}"
    out.mkdir(exist_ok=True)
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", target_format, "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=180)
    return out / f"{source.stem}.{target_format}"


def _formula_cells(path: Path):
    wb_f = openpyxl.load_workbook(path)
    wb_v = openpyxl.load_workbook(path, data_only=True)
    for ws in wb_f.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    yield ws.title, c.coordinate, wb_v[ws.title][c.coordinate].value


def _same(a, b) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recalculation_matches_cached_values(summary, tmp_path):
    # The canary proves LibreOffice really recalculates with this profile.
    import xlsxwriter
    canary = tmp_path / "canary.xlsx"
    wb = xlsxwriter.Workbook(str(canary))
    wb.add_worksheet().write_formula(0, 0, "=1+1", None, 99)
    wb.close()
    assert openpyxl.load_workbook(_soffice(tmp_path, canary, "xlsx"), data_only=True).active["A1"].value == 2
    cached = {(s, a): v for s, a, v in _formula_cells(summary)}
    recalculated = _soffice(tmp_path, summary, "xlsx")
    wb_v = openpyxl.load_workbook(recalculated, data_only=True)
    wrong = [(s, a, v, wb_v[s][a].value) for (s, a), v in cached.items()
             if not _same(v, wb_v[s][a].value)]
    assert len(cached) > 500
    assert not wrong, wrong[:10]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_renders_to_pdf(summary, tmp_path):
    pdf = _soffice(tmp_path, summary, "pdf")
    assert pdf.stat().st_size > 10_000 and pdf.read_bytes().startswith(b"%PDF")


def test_all_text_is_nfc(values_wb):
    import unicodedata
    texts = [c.value for ws in values_wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert texts and all(unicodedata.is_normalized("NFC", t) for t in texts)


def test_a_written_summary_leaves_no_cells_for_the_cycle_collector(form, tmp_path):
    """The workbook and its sheets refer to each other: once written, its cells are let go
    of at once, not left for a full run of the cycle collector to find (which walks every
    one, ≈ 0.2 s for 1,000 returns, and keeps their memory until then)."""
    import gc

    report = make_report(form, many_results(form, 40))
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept in gc.garbage to look at
    try:
        write_summary(form, report, tmp_path / "tong_hop.xlsx")
        found = gc.collect()
        cells = [o for o in gc.garbage if type(o).__module__ == "xlsxwriter.worksheet"
                 and type(o).__name__ in ("String", "Number", "Blank", "Datetime", "Formula", "RowInfo")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert found and not cells, len(cells)
