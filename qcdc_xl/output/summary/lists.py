"""The list sheets: «Số liệu báo cáo» (ready sentences and their footnotes), «Tình hình nộp»
(one row per unit or file), «Kiểm tra» (every issue)."""
from __future__ import annotations

from qcdc_xl.report.issues import CODES
from qcdc_xl.form.report_spec import FIXED_SHEETS
from qcdc_xl.output.sentences import report_entries
from qcdc_xl.report.summarise import status_counts
from .book import SEVERITY_VI, STATUS_VI, attribute_value
from .cells import STYLE, page, put, row_height


def write_sentences(book, ws) -> None:
    st = book.st
    row = book.titles(ws, "SỐ LIỆU DÙNG CHO BÁO CÁO", 3,
                      "Mỗi dòng là một câu đã tính sẵn số liệu, có thể sao chép vào báo cáo; cột "
                      "«Chú thích» kê tên các đơn vị (để ghi chú thích cuối trang). "
                      + book.coverage_note(), 145)
    for col, text in enumerate(("TT", "Nội dung", "Câu văn", "Chú thích")):
        put(ws, row, col, text, st("head"))
    header = row
    for i, e in enumerate(report_entries(book.form, book.results, book.totals, book.answered), start=1):
        row += 1
        put(ws, row, 0, i, st("cell", "center"))
        put(ws, row, 1, e.topic, st("cell", "wrap"))
        put(ws, row, 2, e.text, st("cell", "wrap"))
        put(ws, row, 3, e.footnote or "", st("cell", "wrap"))
        ws.set_row(row, max(row_height(e.text, 88), row_height(e.topic, 22),
                            row_height(e.footnote or "", 40)))
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 88)
    ws.set_column(3, 3, 40)
    ws.freeze_panes(header + 1, 0)
    page(ws, FIXED_SHEETS["sentences"], landscape=False, repeat_rows=(header, header))


def write_returns(book, ws) -> None:
    attrs = book.attributes()
    heads = [("STT", 5), ("Mã đơn vị", 11), ("Tên đơn vị", 34), ("Loại hình", 9), ("Khối", 16)] \
        + [(a.label, 18) for a in attrs] \
        + [("Trạng thái", 14), ("Tệp", 28), ("Số lỗi", 7), ("Số cảnh báo", 9),
           ("Thời điểm lưu tệp", 16)]
    s = status_counts(book.results)
    note = " · ".join(f"{STATUS_VI[k]}: {s[k]}" for k in ("ok", "errors", "missing", "superseded"))
    row = book.titles(ws, "TÌNH HÌNH NỘP BÁO CÁO", len(heads) - 1,
                      f"{s['don_vi']} đơn vị trong danh sách — {note}.")
    header = row
    status_col = 5 + len(attrs)
    centred = {0: "center", status_col + 2: "center", status_col + 3: "center",
               status_col + 4: "datetime"}
    for i, r in enumerate(book.results, start=1):
        row += 1
        values = [i, r.unit.ma_don_vi, r.unit.ten_don_vi, r.unit.loai_hinh, r.unit.khoi] \
            + [(attribute_value(book.form, r, a.name) or "") if r.unit.loai_hinh in a.types else ""
               for a in attrs] \
            + [STATUS_VI.get(r.status, r.status), r.file or "", r.error_count, r.warning_count,
               r.saved_at]
        muted = "muted" if not r.counts else None
        styles = [(centred.get(col, "wrap"), muted) for col in range(len(values))]
        styles[status_col] = ("center", f"st_{r.status}" if f"st_{r.status}" in STYLE else None)
        book.list_row(ws, row, values, heads, styles)
    book.table(ws, header, row, heads, "tbl_tinh_hinh_nop")
    page(ws, FIXED_SHEETS["returns"], landscape=True, repeat_rows=(header, header))


def write_issues(book, ws) -> None:
    heads = [("STT", 5), ("Mức độ", 9), ("Mã lỗi", 18), ("Loại lỗi", 22), ("Mã đơn vị", 10),
             ("Tên đơn vị", 24), ("Tệp", 20), ("Trang", 14), ("Ô", 6), ("Trường", 16),
             ("Giá trị", 14), ("Nội dung", 60)]
    names = {r.unit.ma_don_vi: r.unit.ten_don_vi for r in book.results}
    issues = book.report.issues
    n_err = sum(1 for i in issues if i.severity == "error")
    row = book.titles(ws, "KẾT QUẢ KIỂM TRA", len(heads) - 1,
                      f"{n_err} lỗi, {len(issues) - n_err} cảnh báo. Giá trị lỗi không được "
                      f"tính vào tổng; cảnh báo cần xem lại nhưng số liệu vẫn được tính.")
    header = row
    for n, item in enumerate(issues, start=1):
        row += 1
        values = [n, SEVERITY_VI.get(item.severity, item.severity), item.code,
                  CODES.get(item.code, ("", ""))[1], item.ma_don_vi,
                  names.get(item.ma_don_vi, ""), item.file, item.sheet, item.cell,
                  item.field, item.value, item.message]
        styles = [("center" if col in (0, 1, 8) else "wrap",
                   item.severity if col == 1 else None) for col in range(len(values))]
        book.list_row(ws, row, values, heads, styles)
    book.table(ws, header, row, heads, "tbl_kiem_tra")
    page(ws, FIXED_SHEETS["issues"], landscape=True, repeat_rows=(header, header))
