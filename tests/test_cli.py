"""The command line: every command has Vietnamese help ending with an example; usage errors exit 2."""
import pytest
from click.testing import CliRunner

from qcdc_xl.cli import main


@pytest.mark.parametrize("command", [[], ["generate"], ["aggregate"], ["check"]])
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(main, command + ["--help"])
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    text = result.output
    assert "Ví dụ:" in text
    assert any("qcdc-xl" in line for line in text.split("Ví dụ:")[1].splitlines())
    assert lines  # not empty


def test_aggregate_missing_folder_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["aggregate", str(tmp_path / "khong_co")])
    assert result.exit_code == 2
    assert "không tìm thấy thư mục" in result.output
    assert "Traceback" not in result.output


def test_bad_units_list_is_a_usage_error(tmp_path):
    units = tmp_path / "dv.csv"
    units.write_text("ma_don_vi,ten_don_vi,loai_hinh\nA,Một,HCSN\nA,Hai,DN\n", encoding="utf-8")
    (tmp_path / "returns").mkdir()
    result = CliRunner().invoke(main, ["aggregate", str(tmp_path / "returns"), "--units", str(units)])
    assert result.exit_code == 2
    assert "dòng 3" in result.output and "bị trùng" in result.output


def test_check_missing_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["check", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    assert "không tìm thấy tệp" in result.output


def test_locked_summary_is_a_plain_message_and_exit_1(tmp_path, monkeypatch):
    import os
    (tmp_path / "returns").mkdir()
    target = tmp_path / "tong_hop.xlsx"
    target.write_bytes(b"old")

    def excel_holds_it(src, dst):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(os, "replace", excel_holds_it)
    result = CliRunner().invoke(main, ["aggregate", str(tmp_path / "returns"), "-o", str(target)])
    assert result.exit_code == 1
    assert "đang mở trong Excel hoặc bị khóa" in result.output
    assert "Traceback" not in result.output
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".~")] == []


_PACE = """
import gc, sys
from qcdc_xl import cli, collector
sys.argv = ["qcdc-xl", "aggregate", {returns!r}, "--units", {units!r}, "-o", {out!r}]
try:
    {call}
except SystemExit as exc:
    print("exit", exc.code)
print("pace", gc.get_threshold() == collector.BULK_THRESHOLD, gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize("call, bulk", [("cli.run()", True), ("cli.main()", False)], ids=["program", "main"])
def test_the_program_keeps_the_bulk_pace_to_its_end_and_main_restores_it(tmp_path, call, bulk):
    """The qcdc-xl program (run) ends its process: the collector keeps the bulk pace to the
    end, with no full collection of the report as the roll-up ends. main, as tests and other
    programs call it, leaves the collector as it found it."""
    import subprocess
    import sys
    from pathlib import Path

    samples = Path(__file__).resolve().parent.parent / "samples" / "nq02_sk5"
    script = _PACE.format(returns=str(samples / "returns"), units=str(samples / "don_vi.csv"),
                          out=str(tmp_path / "tong_hop.xlsx"), call=call)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          encoding="utf-8")
    assert "exit 0" in proc.stdout, proc.stderr[-2000:]
    assert f"pace {bulk} {bulk}" in proc.stdout
    assert (tmp_path / "tong_hop.xlsx").stat().st_size > 10_000
