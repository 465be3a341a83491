"""Feedback for units: their own workbook with every offending cell marked, and a plain list.

The copy is made from the returned file in memory; the input is never written. A first
sheet «Cần sửa» lists every issue with a link-free cell address so the unit can find it
even if it prints the list.
"""
from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

from qcdc_xl.output.fileio import atomic_write_bytes, atomic_write_text
from qcdc_xl.report.issues import Issue
from qcdc_xl.template.metadata import FEEDBACK_SHEET, META_SHEET
from qcdc_xl.report.records import STATUS_ERRORS, STATUS_OK, Report, UnitResult
from qcdc_xl.form.spec import Form
from qcdc_xl.output.xlsx_tidy import restore_print_areas, tidy_openpyxl_output

ERROR_FILL, WARNING_FILL = "FFC7CE", "FFEB9C"
LIST_SHEET = FEEDBACK_SHEET
_HEADERS = ("STT", "Mức độ", "Trang", "Ô", "Nội dung cần sửa")
MESSAGE_WIDTH, MESSAGE_LINE = 84, 90  # the message column, and characters per printed line


def _targets(report: Report) -> list[UnitResult]:
    """Units whose counted return has at least one issue."""
    return [u for u in report.units
            if u.status in (STATUS_OK, STATUS_ERRORS) and u.file and u.issues]


def write_feedback(form: Form, report: Report, returns_dir: Path, out_dir: Path) -> int:
    """Write a marked copy and a plain list for every unit with issues; return how many."""
    from qcdc_xl.intake.convert import temporary_folder

    out_dir.mkdir(parents=True, exist_ok=True)
    targets = _targets(report)
    with temporary_folder() as tmp:
        sources = _readable_sources(form, targets, returns_dir, Path(tmp))
        for result in targets:
            stem = Path(result.file).stem
            atomic_write_text(out_dir / f"{stem}_can_sua.txt", plain_list(result), bom=True)
            title = f"CÁC ĐIỂM CẦN SỬA — {result.unit.ma_don_vi} – {result.unit.ten_don_vi}"
            data = marked_copy(sources[result.file].read_bytes(), result.issues, title)
            if data is not None:
                atomic_write_bytes(out_dir / f"{stem}_can_sua.xlsx", data)
    return len(targets)


def _readable_sources(form: Form, targets: list[UnitResult], returns_dir: Path, tmp: Path) -> dict:
    """The file to mark for each return: the return itself, or for one read after conversion
    (.xls, .ods, .et) the .xlsx that LibreOffice makes of it again, so that its unit gets a
    marked copy too (all in one LibreOffice session; without it, the plain list only)."""
    from qcdc_xl.intake.convert import convert_all, prepare
    from qcdc_xl.intake.discover import READABLE, Found

    sources, todo = {}, []
    for result in targets:
        path = returns_dir / result.file
        sources[result.file] = path
        found, kind = prepare(Found(path=path, rel=result.file, readable=path.suffix.lower() in READABLE))
        if kind and found.problem is None:
            todo.append((found, kind))
    converted, _failed = convert_all(form, todo, tmp) if todo else ([], {})
    sources.update({f.rel: f.path for f in converted})
    return sources


def plain_list(result: UnitResult) -> str:
    """The issues as numbered Vietnamese lines, ready to paste into an e-mail."""
    unit = result.unit
    errors = sum(1 for i in result.issues if i.severity == "error")
    lines = [f"Đơn vị: {unit.ma_don_vi} – {unit.ten_don_vi}",
             f"Tệp đã gửi: {result.file}",
             f"Kết quả kiểm tra: {errors} lỗi, {len(result.issues) - errors} cảnh báo.",
             _request(errors), ""]
    for n, i in enumerate(_ordered(result.issues), start=1):
        label = "LỖI" if i.severity == "error" else "Cảnh báo"
        lines.append(f"{n}. [{label}] {i.message}")
    return "\n".join(lines) + "\n"


def _request(errors: int) -> str:
    if errors:
        return ("Đề nghị đơn vị sửa các lỗi dưới đây trong chính tệp đã gửi rồi gửi lại; "
                "các cảnh báo cần xem lại và giải trình nếu số liệu đúng.")
    return ("Báo cáo không có lỗi và đã được tổng hợp; đề nghị đơn vị xem lại các cảnh báo dưới "
            "đây, sửa nếu nhập nhầm hoặc giải trình nếu số liệu đúng.")


def _ordered(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (i.severity != "error", i.sheet or "", _row_col(i.cell)))


def _row_col(cell: str | None) -> tuple:
    from openpyxl.utils.cell import coordinate_from_string, column_index_from_string
    if not cell:
        return (0, 0)
    try:
        col, row = coordinate_from_string(cell.split(":")[0].replace("$", ""))
        return (row, column_index_from_string(col))
    except ValueError:
        return (0, 0)


def marked_copy(data: bytes, issues: list[Issue], title: str = "CÁC ĐIỂM CẦN SỬA") -> bytes | None:
    """The workbook with issue cells filled and commented, and a «Cần sửa» sheet first."""
    wb = _load(data)
    if wb is None:  # the reader already reported why this file cannot be used
        return None
    by_cell = defaultdict(list)
    for i in issues:
        if i.sheet in wb.sheetnames and i.cell:
            by_cell[(i.sheet, i.cell.split(":")[0].replace("$", ""))].append(i)
    for (sheet, cell), found in by_cell.items():
        _mark_cell(wb[sheet], cell, found)
    _add_list_sheet(wb, issues, title)
    if META_SHEET in wb.sheetnames:  # LibreOffice, which has no "very hidden", saves it hidden
        wb[META_SHEET].sheet_state = "veryHidden"
    out = io.BytesIO()
    wb.save(out)
    return restore_print_areas(data, tidy_openpyxl_output(out.getvalue()))


def _load(data: bytes):
    """The workbook as the reader opened it: without the absurd merge/link ranges it reported
    (openpyxl would hang on them), and without an optional part openpyxl chokes on (the
    document properties, a broken table); None when it cannot be opened at all."""
    from qcdc_xl.intake.read import _open_leniently
    from qcdc_xl.intake.screen import screen_package
    try:
        return _open_leniently(screen_package(data)[0]).wb
    except Exception:  # the reader already reported why this file cannot be used
        return None


def _mark_cell(ws, cell: str, found: list[Issue]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    target = ws[cell]
    if type(target).__name__ == "MergedCell":
        return
    colour = ERROR_FILL if any(i.severity == "error" for i in found) else WARNING_FILL
    target.fill = PatternFill("solid", start_color=colour, end_color=colour)
    text = "\n".join(f"• {i.message}" for i in found)
    comment = Comment(text[:2000], "qcdc-xl")
    comment.width, comment.height = 360, 40 + 18 * min(12, text.count("\n") + len(text) // 60)
    target.comment = comment


def _add_list_sheet(wb, issues: list[Issue], title: str) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    ws = wb.create_sheet(LIST_SHEET, 0)
    wb.active = 0
    for sheet in wb.worksheets[1:]:
        sheet.sheet_view.tabSelected = False
    ws.append([title])
    ws.append(["Sửa từng điểm dưới đây trong các trang của tệp này (ô cần sửa được tô màu và có "
               "ghi chú), lưu lại rồi gửi lại tệp."])
    ws.append(list(_HEADERS))
    for n, i in enumerate(_ordered(issues), start=1):
        ws.append([n, "Lỗi" if i.severity == "error" else "Cảnh báo", i.sheet or "", i.cell or "",
                   i.message])
        ws.cell(ws.max_row, 5).data_type = "s"  # a message is always text
        # openpyxl cannot autofit: ~MESSAGE_LINE characters of Times 12 fit the column per line
        ws.row_dimensions[ws.max_row].height = 16 * max(1, -(-len(i.message) // MESSAGE_LINE)) + 4
    # Narrow enough to print at full size across an A4 landscape page (no shrinking).
    for col, width in zip("ABCDE", (6, 10, 16, 8, MESSAGE_WIDTH)):
        ws.column_dimensions[col].width = width
    edge = Side(style="thin")
    for row in ws.iter_rows():
        for cell in row:
            cell.font = Font(name="Times New Roman", size=14 if cell.row == 1 else 12,
                             bold=cell.row in (1, 3), italic=cell.row == 2)
            centred = cell.row == 3 or (cell.row > 3 and cell.column < 5)
            cell.alignment = Alignment(wrap_text=cell.row > 2, vertical="top",
                                       horizontal="center" if centred else None)
            if cell.row >= 3:
                cell.border = Border(left=edge, right=edge, top=edge, bottom=edge)
    for cell in ws[3]:
        cell.fill = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
    ws.row_dimensions[1].height = 22
    ws.freeze_panes = "A4"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.7
    ws.oddFooter.right.text = "Trang &P/&N"
    ws.oddFooter.right.font, ws.oddFooter.right.size = "Times New Roman,Regular", 10
    ws.print_title_rows = "3:3"
