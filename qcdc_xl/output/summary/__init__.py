"""The summary workbook of ``qcdc-xl aggregate``: print-ready, live, and safe with unit text.

What it holds comes from the form's ``summary:`` block (or defaults derived from the form,
see :mod:`qcdc_xl.form.report_spec`): one figures sheet per ``figures`` entry (:mod:`.figures`),
«Thông tin chung» (:mod:`.general`), «Số liệu báo cáo» with the report sentences, «Biểu đồ»
(:mod:`.charts`), «Tình hình nộp» and «Kiểm tra» (:mod:`.lists`), «Chi tiết đơn vị» that
every formula reads (:mod:`.detail`), and a listing per table (:mod:`.listing_sheet`).

The file is written to a temporary file beside the target, then moved into place, so a
reader never sees half a workbook.
"""
from __future__ import annotations

from pathlib import Path

from xlsxwriter.exceptions import FileCreateError

from qcdc_xl.output.fileio import LockedFileError, atomic_write
from qcdc_xl.report.records import Report
from qcdc_xl.form.report_spec import FIXED_SHEETS, summary_spec
from qcdc_xl.form.spec import Form
from .book import STATUS_VI, Book
from .cells import Styles
from .charts import write_charts
from .detail import write_detail
from .figures import FiguresSheet
from .general import GeneralSheet
from .listing_sheet import ListingSheet
from .sheet import SummaryWorkbook
from .lists import write_issues, write_returns, write_sentences

__all__ = ["write_summary", "sheet_names", "STATUS_VI", "SummaryLockedError"]

# The summary's own name for the shared locked-target error (callers catch either).
SummaryLockedError = LockedFileError


def sheet_names(form: Form) -> list[str]:
    """The summary workbook's sheets, in order, for this form."""
    spec = summary_spec(form)
    return [f.name for f in spec.figures] + ([spec.general.name] if spec.general else []) \
        + [FIXED_SHEETS[k] for k in ("sentences", "charts", "returns", "issues", "detail")] \
        + [x.name for x in spec.listings]


def write_summary(form: Form, report: Report, path: Path, totals_current: bool = False) -> Path:
    """Write the summary workbook atomically; raise :class:`SummaryLockedError` if the
    target is open/locked (the old file is then left as it was). ``totals_current``: the
    caller knows ``report.totals`` to be :func:`~qcdc_xl.report.summarise.compute_totals` of
    ``report.units`` as they are now (``aggregate`` just made them), so they are not
    recomputed; else they are, for the cached values to match the formulas."""
    book = Book(form, report, report.totals if totals_current else None)
    return atomic_write(path, lambda target: _write(book, target))


def _write(book: Book, path: Path) -> None:
    wb = SummaryWorkbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "default_format_properties": {"font_name": "Times New Roman", "font_size": 11},
    })
    book.wb, book.st = wb, Styles(wb)
    wb.set_properties(book.properties())
    spec = book.spec
    figures = [(FiguresSheet(book, f), wb.add_worksheet(f.name)) for f in spec.figures]
    general = wb.add_worksheet(spec.general.name) if spec.general else None
    fixed = {k: wb.add_worksheet(FIXED_SHEETS[k])
             for k in ("sentences", "charts", "returns", "issues", "detail")}
    listings = [(ListingSheet(book, x), wb.add_worksheet(x.name)) for x in spec.listings]
    for sheet, ws in figures:
        sheet.write(ws)
    if general is not None:
        GeneralSheet(book).write(general)
    write_sentences(book, fixed["sentences"])
    write_returns(book, fixed["returns"])
    write_issues(book, fixed["issues"])
    write_detail(book, fixed["detail"])
    for sheet, ws in listings:
        sheet.write(ws)
    write_charts(book, fixed["charts"])  # last: it points at the others' cells
    (figures[0][1] if figures else fixed["sentences"]).activate()
    try:
        wb.close()
    except FileCreateError as exc:  # an OSError for the callers
        raise OSError(f"không ghi được tệp tạm «{path.name}»: {exc}") from exc
    finally:
        wb.release_cells()
