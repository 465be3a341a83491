"""aggregate end to end over a folder of broken and hostile files mixed with good returns.

Every bad file must become its own clear Vietnamese issue (never a traceback, never stopping
the other files, never hanging, never modifying an input), through the CLI in this process
and through a real ``python3 -m qcdc_xl aggregate`` that reads with the process pool. The
corpus is made at test time (``hostile.py``); nothing binary is committed.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

import builders as b
import hostile as h
from qcdc_xl.report import aggregate
from qcdc_xl.intake import libreoffice
from qcdc_xl.cli import main
from qcdc_xl.intake.discover import find_returns
from qcdc_xl.template.generate import generate_workbook
from qcdc_xl.intake.units import Unit

POSIX = os.name == "posix"
ROOT = POSIX and os.geteuid() == 0
EMOJI_NAME = "Báo cáo Sở Tư pháp 😀 (bản cuối).xlsx"

# file -> (builder, unit type, issue codes expected with this file, counted for its unit?, a
# phrase the file-level message must hold). A builder gets a good return of its own unit.
CORPUS = {
    "rong.xlsx": (h.empty, "HCSN", {"unreadable_file"}, False, "rỗng"),
    "ngau_nhien.xlsx": (h.random_bytes, "HCSN", {"unreadable_file"}, False, "không phải bảng tính"),
    "cat_cut.xlsx": (h.truncated, "HCSN", {"unreadable_file"}, False, "chưa tải về đủ"),
    "thieu_content_types.xlsx": (h.no_content_types, "HCSN", {"unreadable_file"}, False,
                                 "thiếu phần «[Content_Types].xml»"),
    "thieu_workbook.xlsx": (h.no_workbook, "DN", {"unreadable_file"}, False, "thiếu phần «xl/workbook.xml»"),
    "thieu_trang_pl2.xlsx": (h.sheet_part_missing, "HCSN", {"required_missing"}, True,
                             "không còn trong tệp"),
    "billion_laughs_trang.xlsx": (h.laughs_in_sheet, "HCSN", {"unreadable_file"}, False, "DTD"),
    "billion_laughs_sst.xlsx": (h.laughs_in_shared_strings, "HCSN", {"unreadable_file"}, False, "DTD"),
    "xxe_sst.xlsx": (h.xxe_in_shared_strings, "HCSN", {"unreadable_file"}, False, "DTD"),
    "xxe_core.xlsx": (h.xxe_in_core_props, "DN", {"unreadable_file"}, False, "DTD"),
    "xxe_custom.xlsx": (h.xxe_in_custom_props, "DN", {"unreadable_file"}, False, "DTD"),
    "bom_zip.xlsx": (h.zip_bomb, "HCSN", {"unreadable_file"}, False, "bất thường"),
    "nhieu_thanh_phan.xlsx": (h.many_members, "HCSN", {"unreadable_file"}, False, "6021 thành phần"),
    "trieu_dong.xlsx": (h.million_styled_rows, "HCSN", {"unreadable_file"}, False, "xóa các dòng, cột thừa"),
    "dimension_lon.xlsx": (h.huge_dimension, "HCSN", set(), True, None),
    "o_cuoi_trang.xlsx": (h.far_cell, "HCSN", {"protection_removed", "data_outside_table"}, True, None),
    "utf8_hong.xlsx": (h.bad_utf8, "HCSN", {"unreadable_file"}, False, "bị hỏng"),
    "ten_dinh_nghia_la.xlsx": (h.odd_defined_names, "HCSN",
                               {"out_of_range", "constraint_violated", "data_outside_table",
                                "damaged_part"}, True, "không còn trỏ tới"),
    "bang_ref_sai.xlsx": (h.bad_table_ref, "HCSN", {"damaged_part"}, True, "bị hỏng"),
    "bang_trieu_dong.xlsx": (h.huge_table_ref, "HCSN", set(), True, None),
    "meta_rac.xlsx": (h.garbage_meta, "HCSN", {"not_a_form"}, False, "không phải biểu mẫu"),
    "thuoc_tinh_sai_kieu.xlsx": (h.props_wrong_types, "DN", set(), True, None),
    "co_macro.xlsm": (h.with_vba, "DN", {"macros_present"}, True, "macro không được chạy"),
    "mat_khau.xlsx": (h.encrypted, "HCSN", {"encrypted_file"}, False, "gỡ mật khẩu"),
    "cu.xls": (h.xls_renamed, "HCSN", {"unreadable_file"}, False, "Lưu thành"),
    "xls_doi_ten.xlsx": (h.xls_renamed, "HCSN", {"unreadable_file"}, False, "Excel 97–2003"),
}
if libreoffice.available()[0]:  # old formats go through LibreOffice: this fake .xls opens empty
    CORPUS.update({name: (h.xls_renamed, "HCSN", {"converted_file", "not_a_form"}, False, "LibreOffice")
                   for name in ("cu.xls", "xls_doi_ten.xlsx")})
GOOD = [("G1", "HCSN"), ("G2", "DN"), ("G3", "HCSN"), ("G4", "DN"), ("G5", "HCSN"),
        ("G6", "HCSN"), ("G7", "DN"), ("G8", "HCSN")]


def _code(name: str) -> str:
    return "V_" + Path(name).stem.upper()


def _units() -> list[Unit]:
    units = [Unit(code, f"Đơn vị tốt {code}", kind, attributes=(("loai_dn", "DN 100% vốn Nhà nước"),) if kind == "DN" else ())
             for code, kind in GOOD]
    units.append(Unit("EMOJI", "Sở Tư pháp", "HCSN"))
    units += [Unit(_code(n), f"Đơn vị thử {n}", kind, attributes=(("loai_dn", "DN 100% vốn Nhà nước"),) if kind == "DN" else ())
              for n, (_, kind, *_rest) in CORPUS.items()]
    return units


def _units_csv(path: Path) -> Path:
    lines = ["ma_don_vi,ten_don_vi,loai_hinh,khoi,loai_dn"]
    lines += [f"{u.ma_don_vi},{u.ten_don_vi},{u.loai_hinh},,{u.attr('loai_dn') or ''}" for u in _units()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _good(form, unit: Unit, path: Path) -> Path:
    return generate_workbook(form, unit, path, values=b.complete_values(form, unit.loai_hinh))


@pytest.fixture(scope="module")
def corpus(form, tmp_path_factory):
    """(root, returns folder, units csv, {rel: expectation}, special files)."""
    root = tmp_path_factory.mktemp("hostile")
    returns = root / "returns"
    (returns / "con").mkdir(parents=True)
    (root / "bi_mat.txt").write_text(h.SECRET, encoding="utf-8")  # what an XXE would leak
    units = {u.ma_don_vi: u for u in _units()}
    for code, _ in GOOD:
        _good(form, units[code], returns / f"{code}.xlsx")
    _good(form, units["EMOJI"], returns / "con" / EMOJI_NAME)
    scratch = root / "scratch"
    for name, (build, *_rest) in CORPUS.items():
        good = _good(form, units[_code(name)], scratch / f"{_code(name)}.xlsx").read_bytes()
        build(good, returns / name)
    expected = {name: exp[2:] for name, exp in CORPUS.items()}
    # Files that are no ordinary spreadsheet file.
    big = returns / "qua_lon.xlsx"
    with open(big, "wb") as fh:  # sparse: 150 MB claimed, nothing to read
        fh.truncate(150 * 1024 * 1024)
    expected["qua_lon.xlsx"] = ({"unreadable_file"}, False, "quá lớn (150 MB")
    (returns / "thu_muc.xlsx").mkdir()  # a folder named like a workbook: walked, not read
    (returns / "thu_muc.xlsx" / "ghi_chu.txt").write_text("x", encoding="utf-8")
    (returns / "~$G1.xlsx").write_bytes(b"lock")
    if POSIX:
        os.mkfifo(returns / "ong_dan.xlsx")  # reading it would block for ever
        expected["ong_dan.xlsx"] = ({"unreadable_file"}, False, "không phải một tệp thông thường")
        os.symlink(".", returns / "con" / "vong_lap")  # a folder loop
        os.symlink("tu_tro.xlsx", returns / "tu_tro.xlsx")  # a link to itself
        bad_name = os.fsencode(returns) + b"/ten_l\xe1.xlsx"
        try:
            with open(bad_name, "wb") as fh:
                fh.write(b"PK")
            expected["ten_l\ufffd.xlsx"] = ({"unreadable_file"}, False, "tên tệp có ký tự không đọc được")
        except OSError:  # a file system that insists on valid UTF-8 names
            pass
    if POSIX and not ROOT:
        locked = returns / "khong_quyen.xlsx"
        locked.write_bytes(_good(form, units["G1"], scratch / "locked.xlsx").read_bytes())
        locked.chmod(0)
        expected["khong_quyen.xlsx"] = ({"unreadable_file"}, False, "không có quyền đọc tệp")
    units_csv = _units_csv(root / "don_vi.csv")
    yield root, returns, units_csv, expected
    if POSIX and not ROOT:
        (returns / "khong_quyen.xlsx").chmod(0o644)


def _fingerprints(folder: Path) -> dict:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or not os.access(path, os.R_OK):
            out[str(path)] = None if not path.is_symlink() else os.readlink(path)
            continue
        st = path.stat()
        out[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns)
    return out


def _check_report(report: dict, output: str, expected: dict) -> None:
    assert "Traceback" not in output and h.SECRET not in output
    assert h.SECRET not in json.dumps(report, ensure_ascii=False)
    by_file: dict = {}
    for i in report["issues"]:
        by_file.setdefault(i["file"], []).append(i)
    units = {u["ma_don_vi"]: u for u in report["units"]}
    problems = []
    for rel, (codes, counted, phrase) in expected.items():
        got = {i["code"] for i in by_file.get(rel, [])}
        if got != codes:
            problems.append(f"{rel}: expected {sorted(codes)}, got {sorted(got)}")
        code = _code(rel)
        if code in units:
            status = units[code]["status"]
            if counted != (status in ("ok", "errors")):
                problems.append(f"{rel}: status {status}")
            if not counted and status != "missing":
                problems.append(f"{rel}: should not be counted, is {status}")
        if phrase:
            message = " ".join(i["message"] for i in by_file.get(rel, []))
            if phrase not in message:
                problems.append(f"{rel}: «{phrase}» not in {message!r}")
    assert problems == [], "\n".join(problems)
    for i in report["issues"]:
        assert unicodedata.is_normalized("NFC", i["message"]), i["message"]
        if i["code"] in ("unreadable_file", "encrypted_file", "not_a_form"):
            # where → what is wrong → how to fix
            assert i["message"].startswith(("Tệp «", "Thư mục «")), i["message"]
            assert any(w in i["message"].lower() for w in ("hãy", "đề nghị")), i["message"]
            assert any(w in i["message"] for w in ("gửi lại", "chạy lại", "gửi đúng")), i["message"]
    for code, _ in GOOD:
        assert units[code]["status"] == "ok" and units[code]["file"] == f"{code}.xlsx"
    assert units["EMOJI"]["status"] == "ok" and units["EMOJI"]["file"] == f"con/{EMOJI_NAME}"
    # Nothing reported for what is skipped or walked through.
    reported = set(by_file)
    assert not reported & {"thu_muc.xlsx", "~$G1.xlsx", "tu_tro.xlsx", "con/vong_lap"}


def test_cli_in_process_reports_every_bad_file_and_counts_the_good(corpus, tmp_path, monkeypatch):
    root, returns, units_csv, expected = corpus
    before = _fingerprints(returns)
    monkeypatch.setattr(aggregate, "POOL_THRESHOLD", 10 ** 6)  # this process reads every file
    out = tmp_path / "bao_cao.json"
    result = CliRunner().invoke(main, ["aggregate", str(returns), "--units", str(units_csv),
                                       "-o", str(tmp_path / "tong_hop.xlsx"), "--json", str(out),
                                       "--feedback", str(tmp_path / "phan_hoi")])
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    _check_report(json.loads(out.read_text(encoding="utf-8")), result.output, expected)
    assert _fingerprints(returns) == before


def test_real_process_with_the_pool_gives_the_same_report(corpus, tmp_path):
    root, returns, units_csv, expected = corpus
    before = _fingerprints(returns)
    out = tmp_path / "bao_cao.json"
    readable = [f for f in find_returns(returns) if f.readable]
    assert len(readable) >= aggregate.POOL_THRESHOLD  # the pool is used
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-m", "qcdc_xl", "aggregate", str(returns), "--units",
                           str(units_csv), "-o", str(tmp_path / "tong_hop.xlsx"), "--json", str(out)],
                          capture_output=True, timeout=300, env=env, cwd=tmp_path)
    output = proc.stdout.decode("utf-8") + proc.stderr.decode("utf-8")
    assert proc.returncode == 0, output
    _check_report(json.loads(out.read_text(encoding="utf-8")), output, expected)
    assert _fingerprints(returns) == before


# ---------------------------------------------------------------- crashes and reader bugs


def _folder(form, tmp_path, names: list[str]) -> tuple[list, dict]:
    units = {}
    for i, name in enumerate(names):
        unit = Unit(f"U{i}", f"Đơn vị {i}", "HCSN")
        units[unit.ma_don_vi] = unit
        _good(form, unit, tmp_path / name)
    return find_returns(tmp_path), units


def _codes(outcomes) -> dict:
    return {f.rel: sorted({i.code for i in (o if isinstance(o, list) else o.issues)})
            for f, o in outcomes}


def _only_poison_fails(outcomes, poison: str):
    """The poisoned file is one unreadable_file issue; every other file read clean."""
    codes = _codes(outcomes)
    assert codes.pop(poison) == ["unreadable_file"]
    assert all(v == [] for v in codes.values())
    return next(o for f, o in outcomes if f.rel == poison)[0]


def test_a_file_that_kills_its_worker_is_one_issue_and_the_others_are_read(form, tmp_path):
    names = [f"f{i}.xlsx" for i in range(9)] + ["poison.xlsx"]
    files, units = _folder(form, tmp_path, names)
    outcomes = aggregate.read_all(form, units, files, work=h.crash_on_poison)
    poison = _only_poison_fails(outcomes, "poison.xlsx")
    assert "bị dừng đột ngột" in poison.message and "các tệp khác vẫn được tổng hợp" in poison.message


def test_a_worker_that_stalls_is_stopped(form, tmp_path, monkeypatch):
    monkeypatch.setattr(aggregate, "FILE_TIMEOUT", 8)
    monkeypatch.setattr(aggregate, "POOL_THRESHOLD", 2)
    monkeypatch.setattr(aggregate.os, "cpu_count", lambda: 2)
    names = [f"f{i}.xlsx" for i in range(3)] + ["poison_stall.xlsx"]
    files, units = _folder(form, tmp_path, names)
    # The stalling worker function lives in the child: the timeout is the parent's.
    outcomes = aggregate.read_all(form, units, files, work=h.stall_on_poison)
    stalled = _only_poison_fails(outcomes, "poison_stall.xlsx")
    assert "kéo dài quá 8 giây" in stalled.message


class _Panic(BaseException):
    """Like pyo3's PanicException: a BaseException, not an Exception."""


@pytest.mark.parametrize("error", [RuntimeError("lỗi đọc"), _Panic("rust panicked")],
                         ids=["exception", "panic"])
def test_an_unexpected_error_reading_one_file_in_process(form, tmp_path, monkeypatch, error):
    import qcdc_xl.intake.read as read

    names = ["a.xlsx", "b.xlsx", "c.xlsx"]
    files, units = _folder(form, tmp_path, names)
    real = read.read_return

    def flaky(path, rel, form_):
        if rel == "b.xlsx":
            raise error
        return real(path, rel, form_)
    monkeypatch.setattr(read, "read_return", flaky)
    outcomes = aggregate.read_all(form, units, files)
    assert _codes(outcomes) == {"a.xlsx": [], "b.xlsx": ["unreadable_file"], "c.xlsx": []}
    message = next(o for f, o in outcomes if f.rel == "b.xlsx")[0].message
    assert message.startswith("Tệp «b.xlsx»: gặp lỗi không mong đợi") and "gửi lại" in message


def test_no_pool_possible_reads_in_this_process(form, tmp_path, monkeypatch):
    names = [f"f{i}.xlsx" for i in range(8)]
    files, units = _folder(form, tmp_path, names)

    class NoPool:
        def __init__(self, *a, **k):
            raise OSError(38, "Function not implemented")
    monkeypatch.setattr(aggregate, "ProcessPoolExecutor", NoPool)
    monkeypatch.setattr(aggregate.os, "cpu_count", lambda: 4)
    outcomes = aggregate.read_all(form, units, files)
    assert all(v == [] for v in _codes(outcomes).values())


def test_permission_denied_is_a_plain_issue(form, tmp_path, monkeypatch):
    import qcdc_xl.intake.read as read

    path = _good(form, Unit("U0", "Đơn vị", "HCSN"), tmp_path / "a.xlsx")
    real_open = os.open

    def denied(p, *a, **k):
        if str(p) == str(path):
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(p, *a, **k)
    monkeypatch.setattr(read.os, "open", denied)
    raw = read.read_return(path, "a.xlsx", form)
    assert [i.code for i in raw.issues] == ["unreadable_file"]
    assert "không có quyền đọc tệp" in raw.issues[0].message


@pytest.mark.skipif(not POSIX or ROOT, reason="POSIX permissions; root reads everything")
def test_an_unlistable_subfolder_is_reported(tmp_path):
    sub = tmp_path / "khoa"
    sub.mkdir()
    (sub / "a.xlsx").write_bytes(b"x")
    sub.chmod(0)
    try:
        found = find_returns(tmp_path)
    finally:
        sub.chmod(0o755)
    assert [(f.rel, f.readable, f.problem.code) for f in found] == [("khoa", False, "unreadable_file")]


@pytest.mark.skipif(os.name != "posix", reason="waits for the workers' process ids to end")
def test_reading_workers_exit_without_freeing_what_they_hold(form, tmp_path, monkeypatch):
    """A worker leaves at once when the pool stops it (its memos are not freed one by one
    while the summary is written); its results are all there."""
    witness = tmp_path / "witness"
    witness.mkdir()
    monkeypatch.setenv("QCDC_TEST_WITNESS", str(witness))
    files, units = _folder(form, tmp_path, [f"f{i}.xlsx" for i in range(aggregate.POOL_THRESHOLD)])
    outcomes = aggregate.read_all(form, units, files, work=h.read_holding_a_witness)
    assert all(v == [] for v in _codes(outcomes).values()) and len(outcomes) == len(files)
    pids = [int(p.read_text(encoding="utf-8")) for p in witness.glob("pid_*.txt")]
    assert pids
    for pid in pids:
        _wait_gone(pid)
    assert not list(witness.glob("freed_*.txt"))


def _wait_gone(pid: int, limit: float = 60) -> None:
    import time

    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"worker {pid} still running after {limit} s")
