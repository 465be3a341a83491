"""The ``qcdc-xl`` command: a thin click layer over the Python API.

Library errors become one Vietnamese line with a hint and a documented exit status
(2 = usage: bad folder or units list; 1 = anything else that stopped the output); a
traceback is never shown for bad input.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from qcdc_xl.form.spec import DEFAULT_FORM, SpecError, load_form
from qcdc_xl.intake.units import UnitsError, load_units

EXIT_USAGE, EXIT_FAILED = 2, 1

_UNITS_HELP = ("Danh sách đơn vị (.csv hoặc .xlsx; cột Mã đơn vị, Tên đơn vị, Loại hình "
               "[, Khối] và các cột riêng mà biểu mẫu khai báo). Mặc định: danh sách mẫu đi kèm "
               "biểu mẫu.")
_FORM_HELP = (f"Biểu mẫu: mã của một biểu mẫu có sẵn (xem «qcdc-xl forms»; mặc định {DEFAULT_FORM}) "
              f"hoặc đường dẫn một tệp .yaml.")


class UsageProblem(Exception):
    """A problem with what the user asked for (exit status 2)."""


def _fail(message: str, status: int) -> None:
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(status)


def _load_inputs(form_name, units_path):
    """The form and the units list, or a plain message and exit status 2."""
    try:
        form = load_form(form_name)
    except SpecError as exc:
        _fail(str(exc), EXIT_USAGE)
    try:
        units = load_units(units_path, form)
    except UnitsError as exc:
        _fail(str(exc), EXIT_USAGE)
    return form, units


def _say(lines: list) -> None:
    for line in lines:
        click.echo(line)


def _ensure_utf8_console() -> None:
    # Windows consoles default to a legacy code page; Vietnamese must not become '?'.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")
        except (AttributeError, ValueError):
            pass


_WHOLE_PROCESS = False  # set by run(): the command is all this process does


def run() -> None:
    """The qcdc-xl program (its console script and ``python -m qcdc_xl``): :func:`main`, in a
    process of its own. (Tests call main; they share their process with other tests.)"""
    global _WHOLE_PROCESS
    _WHOLE_PROCESS = True
    main(prog_name="qcdc-xl")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qcdc-xl", message="qcdc-xl %(version)s")
def main():
    """qcdc-xl — tạo biểu mẫu Excel cho các đơn vị và tổng hợp báo cáo gửi về.

    \b
    Ví dụ:
      qcdc-xl generate
      qcdc-xl aggregate samples/nq02_sk5/returns
    """
    _ensure_utf8_console()


@main.command()
@click.option("--units", "units_path", type=click.Path(path_type=Path), help=_UNITS_HELP)
@click.option("--form", "form_name", default=None, help=_FORM_HELP)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("build/templates"),
              show_default=True, help="Thư mục ghi các tệp biểu mẫu.")
@click.option("--zip", "make_zip", is_flag=True, help="Ghi thêm một tệp .zip chứa tất cả biểu mẫu.")
def generate(units_path, form_name, out_dir, make_zip):
    """Tạo cho mỗi đơn vị một tệp Excel gồm các trang của biểu mẫu, đã điền sẵn thông tin đơn vị.

    \b
    Ví dụ:
      qcdc-xl generate --units don_vi.csv --out bieu_mau --zip
    """
    from qcdc_xl.template.generate import generate_all

    form, units = _load_inputs(form_name, units_path)
    try:
        paths, zip_path = generate_all(form, units, out_dir, make_zip=make_zip)
    except SpecError as exc:  # e.g. a spec text longer than Excel allows
        _fail(str(exc), EXIT_USAGE)
    except OSError as exc:
        _fail(f"không ghi được vào «{out_dir}» ({exc.strerror or exc}); kiểm tra quyền ghi "
              f"hoặc đóng tệp đang mở trong Excel.", EXIT_FAILED)
    click.echo(f"Đã tạo {len(paths)} biểu mẫu trong «{out_dir}».")
    if zip_path:
        click.echo(f"Tệp nén: «{zip_path}».")


@main.command()
@click.argument("returns_dir", type=click.Path(path_type=Path))
@click.option("--units", "units_path", type=click.Path(path_type=Path), help=_UNITS_HELP)
@click.option("--form", "form_name", default=None, help=_FORM_HELP)
@click.option("-o", "--output", "summary_path", type=click.Path(path_type=Path),
              default=Path("build/tong_hop.xlsx"), show_default=True, help="Tệp Excel tổng hợp.")
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Ghi thêm báo cáo dạng JSON (cho máy đọc).")
@click.option("--feedback", "feedback_dir", type=click.Path(path_type=Path),
              help="Thư mục ghi bản trả lại cho từng đơn vị có lỗi (ô lỗi được tô màu, có ghi chú).")
def aggregate(returns_dir, units_path, form_name, summary_path, json_path, feedback_dir):
    """Đọc, kiểm tra mọi tệp báo cáo trong RETURNS_DIR và ghi bảng tổng hợp.

    \b
    Ví dụ:
      qcdc-xl aggregate bao_cao_gui_ve --units don_vi.csv -o tong_hop.xlsx --json bao_cao.json
    """
    from qcdc_xl.collector import pace_for_bulk
    from qcdc_xl.report.aggregate import AggregateError, progress_bar, run_aggregate

    if not returns_dir.is_dir():
        _fail(f"không tìm thấy thư mục «{returns_dir}»; hãy chỉ đúng thư mục chứa các tệp "
              f"báo cáo gửi về.", EXIT_USAGE)
    form, units = _load_inputs(form_name, units_path)
    if _WHOLE_PROCESS:  # the process ends with the command: the collector keeps the bulk
        pace_for_bulk()  # pace for good, as a reading worker does (run_aggregate's own pace,
        # undone as it ends, would start a full collection of the whole report: ≈ 0.25 s)
    try:
        outcome = run_aggregate(form, units, returns_dir, summary_path=summary_path,
                                json_path=json_path, feedback_dir=feedback_dir,
                                progress=progress_bar(sys.stderr))
    except AggregateError as exc:
        _fail(str(exc), EXIT_FAILED)
    _say(outcome.lines)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--units", "units_path", type=click.Path(path_type=Path), help=_UNITS_HELP)
@click.option("--form", "form_name", default=None, help=_FORM_HELP)
@click.option("--json", "json_path", type=click.Path(path_type=Path),
              help="Ghi kết quả kiểm tra dạng JSON.")
def check(file, units_path, form_name, json_path):
    """Kiểm tra một tệp báo cáo và in ra các lỗi, cảnh báo (cùng quy tắc với aggregate).

    \b
    Ví dụ:
      qcdc-xl check bao_cao_gui_ve/SNV_so_ngoai_vu.xlsx
    """
    from qcdc_xl.report.aggregate import AggregateError, run_check

    if not file.is_file():
        _fail(f"không tìm thấy tệp «{file}».", EXIT_USAGE)
    form, units = _load_inputs(form_name, units_path)
    try:
        outcome = run_check(form, units, file, json_path=json_path)
    except AggregateError as exc:
        _fail(str(exc), EXIT_FAILED)
    _say(outcome.lines)


@main.command()
def forms():
    """Liệt kê các biểu mẫu có sẵn (mã, phiên bản, tên).

    \b
    Ví dụ:
      qcdc-xl forms
      qcdc-xl generate --form kl120_tk
    """
    from qcdc_xl.form.spec import bundled_forms

    for form_id, loaded in bundled_forms():
        if isinstance(loaded, SpecError):
            click.echo(f"{form_id}\t(lỗi: {loaded})")
        else:
            click.echo(f"{loaded.id}\t{loaded.version}\t{loaded.name}")


@main.command("form-check")
@click.argument("spec_file", type=click.Path(path_type=Path))
def form_check(spec_file):
    """Kiểm tra một tệp biểu mẫu (.yaml) và liệt kê mọi lỗi: dòng nào, sai gì, sửa thế nào.

    Thoát với mã 2 khi có lỗi, 0 khi biểu mẫu dùng được.

    \b
    Ví dụ:
      qcdc-xl form-check workbook_templates/bieu_mau_moi.yaml
    """
    from qcdc_xl.form.spec import describe_form

    if not spec_file.is_file():
        _fail(f"không tìm thấy tệp biểu mẫu «{spec_file}».", EXIT_USAGE)
    try:
        form = load_form(spec_file)
    except SpecError as exc:
        for error in exc.errors:
            click.echo(str(error))
        click.echo(f"Có {len(exc.errors)} lỗi; sửa xong chạy lại lệnh này.", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(describe_form(form))


if __name__ == "__main__":
    main()
