"""Fuzzing the reader: mutants of LibreOffice-made returns never crash, hang or abort it,
and a value whose meaning changed is reported, never accepted silently.

The fast slice reads a few hundred mutants (``fuzz.py``) in worker processes under a time
limit; the long run is ``benchmarks/fuzz_long.py``. Below it, one small explicit test per
crash class the fuzzer found.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fuzz
from qcdc_xl.validate.check import check_return
from qcdc_xl.intake.read import read_return
from qcdc_xl.intake.units import load_units

FAST_MUTANTS = 240  # ~60 s on two free cores; the long run reads 10,000
SEED = fuzz.SAMPLES / "DN002_dang_bo_vien_thong_ha_tinh.xlsx"  # Thông tin chung: C14 = 158 đảng viên
UNITS = {u.ma_don_vi: u for u in load_units()}


def test_fast_fuzz_slice():
    stats = fuzz.run(FAST_MUTANTS, seed=0, workers=2, limit=60.0)
    shown = "\n".join(f"[{k}] {s}: {d}\n    " + "\n    ".join(p[-800:] for p in problems)
                      for k, s, d, problems in stats.failures[:10])
    assert stats.failures == [], f"{stats.line()}\n{shown}"
    assert stats.mutants == FAST_MUTANTS
    assert len(stats.kinds) >= 15  # every family of mutation had its turn


# ---------------------------------------------------------------- helpers


def _mutant(tmp_path: Path, name: str, edits: dict) -> Path:
    """SEED with some parts edited: part name -> function of its text."""
    parts = []
    for part, body in fuzz.members(SEED.read_bytes()):
        if part in edits:
            body = edits[part](body.decode("utf-8")).encode("utf-8")
        parts.append((part, body))
    path = tmp_path / name
    path.write_bytes(fuzz.pack(parts))
    return path


def _result(path: Path, form):
    raw = read_return(path, path.name, form)
    return check_return(form, raw, UNITS)


@pytest.fixture(scope="module")
def control(form):
    return _result(SEED, form)


def _codes(result) -> set:
    return {(i.code, i.field) for i in result.issues}


def _same_except(result, control, *fields) -> bool:
    return ({k: v for k, v in result.values.items() if k not in fields}
            == {k: v for k, v in control.values.items() if k not in fields})


INFO, PL1, PL2 = "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml", "xl/worksheets/sheet4.xml"


def _cell(xml: str, ref: str, content: str) -> str:
    """The cell ``ref`` replaced: ``content`` follows its address and style."""
    return re.sub(rf'<c r="{ref}"( s="\d+")?[^>]*?(?:/>|>.*?</c>)', lambda m: f'<c r="{ref}"{m.group(1) or ""}{content}',
                  xml, count=1, flags=re.S)


# ---------------------------------------------------------------- one test per crash class


def test_a_name_pointing_into_another_workbook_costs_that_field(form, control, tmp_path):
    path = _mutant(tmp_path, "ten_ngoai.xlsx", {"xl/workbook.xml": lambda x: re.sub(
        r'(name="so_dang_vien"[^>]*>)[^<]*', r"\1[1]&apos;Thông tin chung&apos;!$C$14", x)})
    result = _result(path, form)
    assert ("damaged_part", "so_dang_vien") in _codes(result)
    assert result.values["so_dang_vien"] is None
    assert _same_except(result, control, "so_dang_vien")


def test_an_absurdly_large_number_typed_over_a_label_is_data_outside(form, control, tmp_path):
    path = _mutant(tmp_path, "nhan_so_lon.xlsx", {INFO: lambda x: _cell(x, "A2", "><v>" + "9" * 400 + "</v></c>")})
    result = _result(path, form)
    found = [i for i in result.issues if i.cell == "A2"]
    assert [(i.code, i.sheet) for i in found] == [("data_outside_table", "Thông tin chung")]
    assert found[0].value.startswith("999")


@pytest.mark.parametrize("typed", ["<v>" + "9" * 400 + "</v>", "<v>1e308</v>"])
def test_an_absurdly_large_number_is_out_of_range(form, control, tmp_path, typed):
    path = _mutant(tmp_path, "so_lon.xlsx", {INFO: lambda x: _cell(x, "C14", f">{typed}</c>")})
    result = _result(path, form)
    found = [i for i in result.issues if i.field == "so_dang_vien"]
    assert [i.code for i in found] == ["out_of_range"] and "quá lớn" in found[0].message
    assert result.values["so_dang_vien"] is None


def test_a_table_without_ref_costs_that_table(form, control, tmp_path):
    path = _mutant(tmp_path, "bang_mat_ref.xlsx", {"xl/tables/table2.xml": lambda x: re.sub(
        r' ref="[^"]*"', "", x, count=1)})
    result = _result(path, form)
    assert ("damaged_part", "tbl_van_ban") in _codes(result)
    assert result.tables["tbl_van_ban"] == [] and control.tables["tbl_van_ban"]
    assert result.tables["tbl_mo_hinh"] == control.tables["tbl_mo_hinh"]
    assert _same_except(result, control, "so_van_ban")


@pytest.mark.parametrize("element", ['<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>',
                                     '<hyperlinks><hyperlink ref="A1:XFD1048576" display="x"/></hyperlinks>'])
def test_a_huge_merge_or_link_range_is_dropped_and_reported(form, control, tmp_path, element):
    def edit(x):
        x = re.sub(r"<mergeCells.*?</mergeCells>", "", x, flags=re.S)
        return x.replace("<pageMargins", element + "<pageMargins", 1)
    path = _mutant(tmp_path, "vung_lon.xlsx", {PL2: edit})
    start = time.monotonic()
    result = _result(path, form)
    assert time.monotonic() - start < 10  # it took minutes and gigabytes
    dropped = [i for i in result.issues if i.code == "damaged_part"]
    assert len(dropped) == 1 and dropped[0].severity == "warning" and dropped[0].sheet == "Phụ lục 2"
    assert result.values == control.values and result.tables == control.tables


@pytest.mark.parametrize("mutation", [
    ("shared strings uniqueCount", "xl/sharedStrings.xml",
     lambda x: re.sub(r'uniqueCount="\d+"', 'uniqueCount="4294967295"', x, count=1)),
    ("a cell far off the grid", PL2, lambda x: x.replace('<c r="E12"', '<c r="ZZZ99999999"', 1)),
])
def test_check_survives_what_would_abort_calamine(form, control, tmp_path, mutation):
    """These made calamine abort the whole process (exit 134, a Rust backtrace), so the
    command runs in a child process here."""
    label, part, edit = mutation
    path = _mutant(tmp_path, "calamine.xlsx", {part: edit})
    out = tmp_path / "kq.json"
    run = subprocess.run([sys.executable, "-m", "qcdc_xl", "check", str(path), "--json", str(out)],
                         capture_output=True, text=True, encoding="utf-8", timeout=120,
                         cwd=fuzz.ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "panicked" not in run.stderr and "memory allocation" not in run.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["values"]["so_dang_vien"] == 158


@pytest.mark.parametrize("content, why", [
    (' t="S"><v>77</v></c>', "kiểu ô «S»"),  # read as the string's index before
    (' t="s"><v>99999</v></c>', "chuỗi dùng chung"),  # IndexError stopped the whole file
    (' t="s"><v>-1</v></c>', "chuỗi dùng chung"),  # read silently as the last string
    ("><v>NaN</v></c>", "số"),  # ValueError stopped the whole file
    ("><v>1e309</v></c>", "hữu hạn"),  # read as inf
    (' t="b"><v>có</v></c>', "đúng/sai"),
    (' t="inlineStr"><v>77</v></c>', "không khớp"),  # read as empty before
])
def test_a_cell_the_file_garbles_costs_that_cell(form, control, tmp_path, content, why):
    path = _mutant(tmp_path, "o_hong.xlsx", {INFO: lambda x: _cell(x, "C16", content)})
    result = _result(path, form)
    found = [i for i in result.issues if i.field == "co_cong_doan"]
    assert [(i.code, i.cell) for i in found] == [("wrong_type", "C16")], result.issues
    assert why in found[0].message and "bị hỏng" in found[0].message
    assert result.values["co_cong_doan"] is None
    assert _same_except(result, control, "co_cong_doan")


def test_a_header_row_count_is_not_followed_but_reported(form, control, tmp_path):
    path = _mutant(tmp_path, "tieu_de_2.xlsx", {"xl/tables/table2.xml": lambda x: x.replace(
        'headerRowCount="1"', 'headerRowCount="2"')})
    result = _result(path, form)
    assert result.tables == control.tables and result.values == control.values  # row 1 kept
    assert [(i.code, i.severity, i.field) for i in result.issues] == [
        ("damaged_part", "warning", "tbl_van_ban")]


def test_an_invalid_cell_address_is_not_a_crash(form, control, tmp_path):
    path = _mutant(tmp_path, "dia_chi.xlsx", {INFO: lambda x: x.replace('<c r="C14"', '<c r="A0"', 1)})
    result = _result(path, form)
    assert any(i.field == "so_dang_vien" for i in result.issues)
    assert result.values["so_dang_vien"] != 158 or any(i.cell == "C14" for i in result.issues)


def test_control_characters_leave_free_text(form, control, tmp_path):
    """Excel writes them in shared strings as _xHHHH_ escapes; the summary's XML refuses them."""
    path = _mutant(tmp_path, "ky_tu_dieu_khien.xlsx", {"xl/sharedStrings.xml": lambda x: x.replace(
        ">Đinh Văn Lan<", ">Nguyễn_x0001_ Văn_x0007_ A<", 1)})
    result = _result(path, form)
    assert result.values["nguoi_lap"] == "Nguyễn Văn A"


def test_aggregate_of_a_few_mutants_in_process_exits_cleanly(form, tmp_path):
    """Fewer than 8 files are read in the aggregate process itself: nothing may abort it,
    and every file is reported without the catch-all message."""
    seeds = [fuzz.load_seed(SEED, form)]
    picks = {"xml.sst_count", "xml.huge_merge", "xml.huge_hyperlink", "xml.table", "value",
             "xml.defined_name", "xml.cell_t"}
    folder = tmp_path / "tra_ve"
    folder.mkdir()
    chosen = {}
    for m in fuzz.mutants(seeds, 400, seed=3):
        if m.kind in picks and m.kind not in chosen:
            chosen[m.kind] = m
            (folder / f"{len(chosen)}_{m.kind.replace('.', '_')}.xlsx").write_bytes(m.data)
    assert len(chosen) == len(picks)
    out = tmp_path / "bao_cao.json"
    run = subprocess.run([sys.executable, "-m", "qcdc_xl", "aggregate", str(folder), "-o",
                          str(tmp_path / "tong_hop.xlsx"), "--json", str(out), "--feedback",
                          str(tmp_path / "phan_hoi")], capture_output=True, text=True,
                         encoding="utf-8", timeout=300, cwd=fuzz.ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    files = {i["file"] for i in report["issues"]} | {u["file"] for u in report["units"] if u["file"]}
    assert files >= {p.name for p in folder.iterdir()}
    assert not any(fuzz.CATCH_ALL in i["message"] for i in report["issues"])


@pytest.mark.parametrize("label, edit", [
    ("a style the file lacks", lambda x: x.replace('<c r="C14" s="23"', '<c r="C14" s="99999"', 1)),
    ("a merge written bottom-right first", lambda x: x.replace('<mergeCell ref="A1:D1"/>',
                                                               '<mergeCell ref="D1:A1"/>', 1)),
    ("a validation on no valid cells", lambda x: x.replace(
        "<pageMargins", '<dataValidations count="1"><dataValidation type="whole" sqref="garbage">'
        "<formula1>0</formula1></dataValidation></dataValidations><pageMargins", 1)),
])
def test_what_stopped_openpyxl_no_longer_costs_the_file(form, control, tmp_path, label, edit):
    """Each of these made openpyxl give up on the whole workbook (IndexError, ValueError,
    TypeError): now the figures are all read."""
    result = _result(_mutant(tmp_path, "openpyxl.xlsx", {INFO: edit}), form)
    assert result.values == control.values and result.tables == control.tables
    assert not [i for i in result.issues if i.severity == "error"], result.issues


def test_a_garbled_identity_cell_is_reported_not_read(form, control, tmp_path):
    """ten_don_vi pointed at shared string 4294967296: read as that number before."""
    path = _mutant(tmp_path, "ten_hong.xlsx", {INFO: lambda x: _cell(x, "C8", ' t="s"><v>4294967296</v></c>')})
    result = _result(path, form)
    assert result.values["ten_don_vi"] is None
    assert ("wrong_type", "ten_don_vi") in _codes(result)


def test_an_empty_shared_string_index_is_reported(form, control, tmp_path):
    """<c t="s"><v></v></c> was read as an empty cell: a value lost without a word."""
    path = _mutant(tmp_path, "chi_so_rong.xlsx", {INFO: lambda x: _cell(x, "C14", ' t="s"><v></v></c>')})
    result = _result(path, form)
    assert ("wrong_type", "so_dang_vien") in _codes(result)
