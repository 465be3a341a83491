"""The summary's faster sheet writer (qcdc_xl/output/summary/sheet.py) writes the very bytes
xlsxwriter's own writer writes, for every kind of cell and row it can meet."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
import zipfile

import pytest
import xlsxwriter

from qcdc_xl.output.summary.sheet import SummarySheet, SummaryWorkbook


def _fill(wb) -> None:
    """Two sheets with every kind of cell, row and column setting the summary uses, and
    those it does not (rich strings, booleans, errors, array formulas)."""
    bold, money = wb.add_format({"bold": True}), wb.add_format({"num_format": "#,##0"})
    wrap = wb.add_format({"text_wrap": True, "border": 1})
    ws = wb.add_worksheet("Một")
    ws.merge_range(0, 0, 0, 5, "TIÊU ĐỀ", bold)
    ws.set_row(1, 30)  # a row with a height and no cell
    ws.set_row(2, None, money)  # a row format that unformatted cells take
    ws.write_string(2, 1, "trong dòng có định dạng")
    ws.write_number(2, 3, 12)
    ws.set_column(4, 4, 20, wrap)  # a column format that unformatted cells take
    ws.write_number(3, 4, 1.5)
    ws.write_string(3, 2, "_x0041_ và <&> \"ngoặc\" \n xuống dòng")
    for row in range(5, 60):  # several blocks of 16 rows, sparse columns, wide columns
        ws.write_number(row, 0, row * 1000.25, money)
        if row % 3:
            ws.write_string(row, 2 + row % 5, f"văn bản {row % 7}", wrap)
        if row % 4 == 0:
            ws.write_blank(row, 30 + row % 3, None, bold)  # columns AE…AG
        if row % 11 == 0:
            ws.write_datetime(row, 1, dt.datetime(2024, 1, row % 28 + 1, 8, 30), money)
        if row % 13 == 0:
            ws.write_number(row, 5, 1 / 3)
            ws.write_number(row, 6, 10 ** 17)
            ws.write_number(row, 7, -0.0)
        ws.set_row(row, 15 + row % 4 * 10) if row % 2 else None
    ws.write_formula(61, 0, "=SUM(A6:A60)", money, 12345)
    ws.write_formula(61, 1, '="a"&"b"', None, "ab")
    ws.write_formula(61, 2, "=1/0", None, "#DIV/0!")
    ws.write_formula(61, 3, "=TRUE()", None, True)
    ws.write_boolean(62, 0, False, bold)
    ws.write_rich_string(62, 1, "thường ", bold, "đậm", " cuối")
    ws.write_array_formula(63, 0, 63, 0, "{=SUM(A6:A8*1)}", None, 3)
    ws.write_comment(64, 3, "ghi chú trên dòng không có ô")
    ws.write_comment(5, 40, "ghi chú ngoài các cột có ô")
    ws.set_row(70, 40, None, {"hidden": True, "level": 1})
    ws.set_row(71, 0)  # a zero height hides the row
    other_rows = wb.add_worksheet("Dòng cao")  # rows set before any cell (no used range yet)
    other_rows.set_row(4, 33.3)
    other_rows.set_row(2, None, bold)
    other_rows.write_number(6, 3, 1)
    ws.write_string(70, 0, "dòng ẩn")
    if not wb.constant_memory:  # (xlsxwriter has no tables in that mode)
        ws.add_table(72, 0, 80, 3, {"columns": [{"header": h} for h in "abcd"]})
    ws.write_string(75, 1, "trong bảng")
    if not wb.constant_memory:  # a table as the summary adds them: stretched (sheet.py)
        ws.add_table(90, 2, 400, 6, {
            "name": "tbl_dai", "style": "Table Style Light 1", "autofilter": True,
            "columns": [{"header": f"cột {h}", "header_format": bold} for h in "abcde"]})
        ws.add_table("I91:J93", {"autofilter": False, "columns": [{"header": "x"}]})
        ws.merge_range(401, 2, 401, 6, "dưới bảng", bold)
    other = wb.add_worksheet("Hai")  # a sheet with a comment only
    other.write_comment(3, 3, "chỉ có ghi chú")
    wb.add_worksheet("Ba")  # an empty sheet


def _sheets(path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.mark.parametrize("options", [{}, {"constant_memory": True}])
def test_same_bytes_as_xlsxwriter(tmp_path, options):
    created = {"created": dt.datetime(2024, 1, 1)}
    stock, fast = tmp_path / "stock.xlsx", tmp_path / "fast.xlsx"
    for cls, path in ((xlsxwriter.Workbook, stock), (SummaryWorkbook, fast)):
        wb = cls(str(path), dict(options))
        wb.set_properties(created)
        _fill(wb)
        if cls is SummaryWorkbook:
            assert all(isinstance(ws, SummarySheet) for ws in wb.worksheets())
        wb.close()
    a, b = _sheets(stock), _sheets(fast)
    assert a.keys() == b.keys()
    assert b"<v>" in a["xl/worksheets/sheet1.xml"]
    assert [n for n in a if a[n] != b[n]] == []
    assert stock.read_bytes() == fast.read_bytes()  # the zip file too: parts deflated alike


VALUES = [None, "", "chữ", "=1+1", "http://x.vn", "  cách đầu", "Vie\u0302\u0323t (NFD)", True, False,
          0, -5, 3.25, 10 ** 20, float("nan"), float("inf"), dt.date(2024, 2, 29),
          dt.datetime(2024, 12, 20, 7, 5), Decimal("1.50"), "x" * 20_000, "ỹ" * 40_000]


def _put_everything(wb) -> None:
    from qcdc_xl.output.summary.cells import put
    ws, fmt = wb.add_worksheet("Giá trị"), wb.add_format({"border": 1})
    for row, value in enumerate(VALUES, start=2):
        put(ws, row, 1, value)
        put(ws, row, 3, value, fmt)
        put(ws, row, 2, "chữ")  # the same text again: one shared string, counted twice
    put(ws, -1, 0, "ngoài trang")
    put(ws, 1_048_576, 0, 5)
    put(ws, 0, 16_384, "ngoài trang")


def test_put_stores_what_xlsxwriter_methods_store(tmp_path):
    stock, fast = tmp_path / "stock.xlsx", tmp_path / "fast.xlsx"
    for cls, path in ((xlsxwriter.Workbook, stock), (SummaryWorkbook, fast)):
        wb = cls(str(path), {"default_date_format": "dd/mm/yy"})  # a date without format takes it
        wb.set_properties({"created": dt.datetime(2024, 1, 1)})
        _put_everything(wb)
        wb.close()
    a, b = _sheets(stock), _sheets(fast)
    assert a.keys() == b.keys()
    assert [n for n in a if a[n] != b[n]] == []
    assert b"Vi\xe1\xbb\x87t" in a["xl/sharedStrings.xml"]  # the text NFC in both


def test_put_row_stores_what_put_stores(tmp_path):
    from qcdc_xl.output.summary.cells import put, put_row
    stock, fast = tmp_path / "stock.xlsx", tmp_path / "fast.xlsx"
    for cls, path in ((xlsxwriter.Workbook, stock), (SummaryWorkbook, fast)):
        wb = cls(str(path), {"default_date_format": "dd/mm/yy"})
        wb.set_properties({"created": dt.datetime(2024, 1, 1)})
        ws, fmt = wb.add_worksheet("Dòng"), wb.add_format({"italic": True})
        put(ws, 0, 5, "trước")  # a shared string already there
        put(ws, 0, 6, dt.date(2024, 2, 29))  # a date already seen
        for row in range(3, 6):
            put_row(ws, row, VALUES + ["trước", "chữ"], [fmt if i % 2 else None for i in range(22)])
        put_row(ws, 1_048_576, ["ngoài trang"], [None])
        put_row(ws, 7, ["x"] * 16_385, [None] * 16_385)  # past the last column
        wb.close()
    a, b = _sheets(stock), _sheets(fast)
    assert [n for n in a if a[n] != b[n]] == []



def test_an_untested_xlsxwriter_gets_its_own_methods_and_the_same_summary(form, monkeypatch, tmp_path):
    """SummarySheet leans on xlsxwriter's internals: only the versions it was compared with use
    it; with any other the summary is written through xlsxwriter's public methods, to the same
    bytes."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from result_builders import scenario
    from qcdc_xl.output.summary import sheet, write_summary
    from qcdc_xl.report.records import Report
    from qcdc_xl.report.summarise import compute_totals

    assert sheet.fast_cells_safe(xlsxwriter.__version__)  # this suite tests the one installed
    assert not sheet.fast_cells_safe("3.4.0") and not sheet.fast_cells_safe("4.0.0")
    results = scenario(form)
    report = Report(form.id, form.version, "2022-07-01T10:00:00", results,
                    [i for r in results for i in r.issues], compute_totals(form, results))
    fast = write_summary(form, report, tmp_path / "fast.xlsx")
    monkeypatch.setattr(sheet.SummaryWorkbook, "worksheet_class", xlsxwriter.worksheet.Worksheet)
    plain = write_summary(form, report, tmp_path / "plain.xlsx")
    with zipfile.ZipFile(fast) as a, zipfile.ZipFile(plain) as b:
        assert a.namelist() == b.namelist()
        differ = [n for n in a.namelist() if n != "docProps/core.xml" and a.read(n) != b.read(n)]
    assert differ == []


def test_a_stretched_table_is_taken_and_overlaps_are_still_refused(tmp_path):
    """SummarySheet adds a plain table over its first rows only and stretches it (xlsxwriter
    would visit every cell): the same bytes (test above), and an overlap met anywhere in its
    rows is refused as xlsxwriter refuses it, for a table and for a merge, either first."""
    from xlsxwriter.exceptions import OverlappingRange

    wb = SummaryWorkbook(str(tmp_path / "t.xlsx"))
    ws = wb.add_worksheet()
    ws.merge_range(0, 0, 0, 4, "tiêu đề")
    ws.add_table(2, 0, 500, 3, {"name": "tbl_a", "columns": [{"header": h} for h in "abcd"]})
    assert (400, 1) not in ws.table_cells  # stretched: its rows were not visited one by one
    assert ws.tables[-1]["range"] == "A3:D501" and ws.tables[-1]["autofilter"] == "A3:D501"
    with pytest.raises(OverlappingRange, match="previous table range 'A3:D501'"):
        ws.merge_range(450, 3, 450, 6, "chồng lên bảng")
    with pytest.raises(OverlappingRange, match="previous table range 'A3:D501'"):
        ws.add_table(499, 3, 600, 5, {"name": "tbl_b"})
    with pytest.raises(OverlappingRange, match="previous merge range 'A1:E1'"):
        ws.add_table(0, 4, 10, 6, {"name": "tbl_c"})
    ws.merge_range(700, 0, 705, 1, "xa bảng")
    with pytest.raises(OverlappingRange, match="previous merge range 'A701:B706'"):
        ws.add_table(600, 1, 900, 2, {"name": "tbl_d", "columns": [{"header": "x", "formula": "=1"}]})
    assert ws.add_table(502, 0, 600, 3, {"name": "tbl_e"}) == 0  # just below: no overlap
    assert [t["name"] for t in ws.tables] == ["tbl_a", "tbl_e"]
    wb.close()


def _fill_big(wb) -> None:
    """A sheet of several megabytes (many pieces for the deflating thread), a small one, a
    sheet with a newline in a text."""
    ws = wb.add_worksheet("Lớn")
    for row in range(15_000):
        ws.write_string(row, 0, f"dòng {row % 997} — văn bản")
        ws.write_number(row, 1, row * 1.25)
        ws.write_string(row, 2, f"tên {row}")
    wb.add_worksheet("Nhỏ").write_string(0, 0, "một\nhai")


@pytest.mark.parametrize("breaks", [None, "fails", "astray"])
def test_parts_deflated_by_the_thread_make_the_same_zip(tmp_path, monkeypatch, breaks):
    """SummaryWorkbook's worksheets are deflated by a thread as they are written and zipfile
    takes that stream (_Replay): the file is the one xlsxwriter writes, byte for byte; a
    failing thread leaves the part to zipfile, and a stream of other bytes than the file's
    (here rows changed on their way to the thread) is not used: the same file again."""
    from qcdc_xl.output.summary import sheet
    replayed = []
    flush = sheet._Replay.flush
    monkeypatch.setattr(sheet._Replay, "flush", lambda self: replayed.append(1) or flush(self))
    if breaks == "fails":
        def fail(self, text):
            raise MemoryError
        monkeypatch.setattr(sheet._DeflatingFile, "_deflate", fail)
    if breaks == "astray":
        deflate = sheet._DeflatingFile._deflate
        monkeypatch.setattr(sheet._DeflatingFile, "_deflate",
                            lambda self, text: deflate(self, text.replace("</row>", "</row> ")))
    stock, fast = tmp_path / "stock.xlsx", tmp_path / "fast.xlsx"
    for cls, path in ((xlsxwriter.Workbook, stock), (SummaryWorkbook, fast)):
        wb = cls(str(path))
        wb.set_properties({"created": dt.datetime(2024, 1, 1)})
        _fill_big(wb)
        wb.close()
    assert len(replayed) == (0 if breaks == "fails" else 2)  # both worksheets, no other part
    assert stock.stat().st_size > 50_000 and stock.read_bytes() == fast.read_bytes()
    with zipfile.ZipFile(fast) as z:
        assert z.testzip() is None  # every part's checksum holds


def _renamed_functions() -> list:
    """The functions xlsxwriter's _prepare_formula renames without future functions on, read
    from its own source (so that a pattern it adds shows here)."""
    import inspect
    import re
    source = inspect.getsource(xlsxwriter.worksheet.Worksheet._prepare_formula)
    dynamic = source.split("if not self.use_future_functions")[0]
    return re.findall(r're\.sub\(r"\\[bS]?([A-Z.]+)\\\(', dynamic)


@pytest.mark.parametrize("future", [False, True])
def test_formulas_prepared_as_xlsxwriter_prepares_them(future):
    """SummarySheet skips xlsxwriter's renaming passes over a formula that names none of the
    functions they rename: the same formula text for every one that does, and for those
    the summary writes; and the passes are skipped for those."""
    import re as regex
    from unittest import mock
    names = _renamed_functions()
    assert len(names) >= 29 and "XLOOKUP" in names and "INGLE" in names  # (read right)
    ours, stock = SummarySheet(), xlsxwriter.worksheet.Worksheet()
    ours.use_future_functions = stock.use_future_functions = future
    formulas = ["=SUMIFS('Chi tiết đơn vị'!$K$6:$K$1005,'Chi tiết đơn vị'!$J$6:$J$1005,1)",
                "{=SUM(A1:A3*1)}", '=IFERROR(A1/B1,"")', "=_xlfn.XLOOKUP(1,A:A,B:B)",
                "=MAPPING(1)+XMAP(2)", "=mysingle(1)"]
    formulas += [f"=SUM({n}(A1))+1" for n in names] + [f"=1+S{n}(A1)" for n in names]
    for formula in formulas:
        assert ours._prepare_formula(formula) == stock._prepare_formula(formula), formula
        assert ours._prepare_formula(formula, True) == stock._prepare_formula(formula, True)
    with mock.patch.object(regex, "sub", side_effect=AssertionError("a pass was made")):
        if not future:
            assert ours._prepare_formula(formulas[0]) == formulas[0][1:]
