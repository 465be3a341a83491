"""LibreOffice worker: runs under a Python that can ``import uno`` (not the project's Python).

Started by :mod:`qcdc_xl.intake.libreoffice` as ``<uno-python> lo_worker.py JOBFILE``. It connects to
a soffice that is already listening, runs every job of JOBFILE on its own document and writes
one JSON line per job to the results file named in JOBFILE, flushing after each one, so the
host still knows which jobs finished if soffice dies halfway.

Standard library + ``uno`` only: this file must not import the rest of qcdc_xl (the UNO
Python usually lacks openpyxl & co.).

JOBFILE: {"connect": "uno:pipe,name=…;urp;StarOffice.ComponentContext",
          "connect_timeout": 60, "results": "/path/results.jsonl", "terminate": true,
          "jobs": [{"index": 0, "open": "/abs/in.xlsx", "set_names": {…}, …}, …]}
Result line: {"index": 0, "ok": true, "error": null, "values": {name: value}}
"""
import datetime as dt
import json
import re
import sys
import time
import traceback

import uno
from com.sun.star.beans import PropertyValue

# com.sun.star.table.CellContentType / sheet.FormulaResult / util.NumberFormat / sheet.CellFlags
_EMPTY, _VALUE, _TEXT, _FORMULA = "EMPTY", "VALUE", "TEXT", "FORMULA"
_RESULT_VALUE, _RESULT_STRING = 1, 2
_NUMBER_FORMAT_DATE, _NUMBER_FORMAT_DATETIME = 2, 6
_CLEAR_CONTENT = 1 | 2 | 4 | 16  # VALUE | DATETIME | STRING | FORMULA
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_XLSX_FILTER = "Calc MS Excel 2007 XML"
_PDF_FILTER = "calc_pdf_Export"


class JobError(Exception):
    """A problem with one job (bad name, table too small…): reported, next job runs."""


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def to_url(path):
    return uno.systemPathToFileUrl(path)


# ---------------------------------------------------------------- connection


def connect(uno_url, timeout):
    """The soffice Desktop; soffice may still be starting (a fresh profile takes seconds)."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            ctx = resolver.resolve(uno_url)
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:  # NoConnectException until soffice listens
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def load(desktop, path):
    # Hidden, no macros, no link updates: a return is data, never code to run.
    args = (prop("Hidden", True), prop("MacroExecutionMode", 0), prop("UpdateDocMode", 0),
            prop("ReadOnly", False))
    doc = desktop.loadComponentFromURL(to_url(path), "_blank", 0, args)
    if doc is None or not hasattr(doc, "Sheets"):
        if doc is not None:
            doc.close(True)
        raise JobError("LibreOffice could not open %s as a spreadsheet" % path)
    return doc


# ---------------------------------------------------------------- cells


def named_cell(names, name):
    """The first cell of a defined name (workbook scope); ``names`` is ``doc.NamedRanges``.

    Every UNO call is a round trip to soffice, so this asks as little as possible.
    """
    try:
        cells = names.getByName(name).getReferredCells()
    except Exception:  # NoSuchElementException
        raise JobError("no defined name %r" % name) from None
    if cells is None:
        raise JobError("defined name %r does not refer to cells" % name)
    return cells.getCellByPosition(0, 0)


def sheet_cell(doc, sheet, address):
    if not doc.Sheets.hasByName(sheet):
        raise JobError("no sheet %r" % sheet)
    return doc.Sheets.getByName(sheet).getCellRangeByName(address)


def null_date(doc):
    d = doc.NullDate
    return dt.date(d.Year, d.Month, d.Day)


def is_date_format(doc, cell):
    try:
        kind = doc.NumberFormats.getByKey(cell.NumberFormat).Type
    except Exception:
        return False
    return bool(kind & _NUMBER_FORMAT_DATE)


def ensure_date_format(doc, cell):
    """Keep the template's date format; give a plain cell a Vietnamese day-first one."""
    if is_date_format(doc, cell):
        return
    formats, locale = doc.NumberFormats, uno.createUnoStruct("com.sun.star.lang.Locale")
    key = formats.queryKey("DD/MM/YYYY", locale, False)
    if key == -1:
        key = formats.addNew("DD/MM/YYYY", locale)
    cell.NumberFormat = key
    if cell.NumberFormat != key:  # formats, unlike contents, obey sheet protection
        raise JobError("cannot give a date format to a locked cell of a protected sheet; "
                       "list the sheet in unprotect_sheets")


def write_value(doc, cell, value):
    """Numbers as numbers, ISO dates as real dates, other text as text, "" or None clears.

    {"text": "2018-05-12"} forces text, {"date": "2018-05-12"} forces a date.
    Writing through the model API is not blocked by sheet protection, and the protection
    (with its options) stays exactly as the template set it.
    """
    if isinstance(value, dict):
        if "text" in value:
            cell.setString(str(value["text"]))
            return
        if "formula" in value:  # typed as a person types "=5+3": a live formula
            cell.setFormula(str(value["formula"]))
            return
        if "date" in value:
            write_date(doc, cell, value["date"])
            return
        raise JobError("unknown value form %r" % (value,))
    if value is None or value == "":
        cell.clearContents(_CLEAR_CONTENT)
    elif isinstance(value, bool):
        raise JobError("yes/no values are text (Có/Không), not %r" % value)
    elif isinstance(value, (int, float)):
        cell.setValue(float(value))  # a big int would travel as UNO "hyper", not double
    elif isinstance(value, str) and _ISO_DATE.match(value):
        write_date(doc, cell, value)
    elif isinstance(value, str):
        cell.setString(value)
    else:
        raise JobError("cannot write %r" % (value,))


def write_date(doc, cell, iso):
    serial = (dt.date.fromisoformat(iso) - null_date(doc)).days
    cell.setValue(serial)
    ensure_date_format(doc, cell)


def number(x):
    return int(x) if float(x).is_integer() and abs(x) < 2 ** 53 else x


def read_value(doc, cell):
    """What the cell shows, typed: None (empty), number, text, ISO date or "#ERR…" text."""
    kind = cell.getType().value
    if kind == _EMPTY:
        return None
    if kind == _TEXT:
        return cell.getString()
    if kind == _FORMULA:
        if cell.getError():
            return "#ERR%d %s" % (cell.getError(), cell.getString())
        if cell.FormulaResultType2 == _RESULT_STRING:
            return cell.getString()
    value = cell.getValue()
    if is_date_format(doc, cell):
        return (null_date(doc) + dt.timedelta(days=int(value))).isoformat()
    return number(value)


# ---------------------------------------------------------------- tables


def table_area(doc, name):
    """The range of an Excel table (LibreOffice imports it as a database range)."""
    ranges = doc.DatabaseRanges
    if ranges.hasByName(name):
        return ranges.getByName(name).DataArea
    if doc.NamedRanges.hasByName(name):  # fallback: a plain defined name over the table
        return doc.NamedRanges.getByName(name).getReferredCells().RangeAddress
    raise JobError("no table %r (database ranges: %s)" % (name, ", ".join(ranges.ElementNames)))


def input_columns(sheet, area):
    """Table columns a person types into: those whose first data cell holds no formula."""
    first = area.StartRow + 1
    return [c for c in range(area.StartColumn, area.EndColumn + 1)
            if sheet.getCellByPosition(c, first).getType().value != _FORMULA]


def write_table_rows(doc, name, rows):
    area = table_area(doc, name)
    sheet = doc.Sheets.getByIndex(area.Sheet)
    columns = input_columns(sheet, area)
    capacity = area.EndRow - area.StartRow  # header row excluded
    if len(rows) > capacity:
        raise JobError("table %r has %d rows, %d given" % (name, capacity, len(rows)))
    for r, row in enumerate(rows):
        if len(row) > len(columns):
            raise JobError("table %r row %d: %d values for %d input columns"
                           % (name, r + 1, len(row), len(columns)))
        for col, value in zip(columns, row):
            write_value(doc, sheet.getCellByPosition(col, area.StartRow + 1 + r), value)


# ---------------------------------------------------------------- one job


def store(doc, path, filter_name):
    doc.storeToURL(to_url(path), (prop("FilterName", filter_name), prop("Overwrite", True)))


def write_all(doc, job):
    """All writes with automatic recalculation off: otherwise every single value recalculates
    its dependents (seconds per document). It is switched back on before saving, so the file
    does not open in manual-calculation mode."""
    for sheet in job.get("unprotect_sheets") or []:  # as a user does: no password
        if not doc.Sheets.hasByName(sheet):
            raise JobError("no sheet %r" % sheet)
        doc.Sheets.getByName(sheet).unprotect("")
    doc.enableAutomaticCalculation(False)
    names = doc.NamedRanges
    try:
        for name, value in (job.get("set_names") or {}).items():
            write_value(doc, named_cell(names, name), value)
        for name, rows in (job.get("set_table_rows") or {}).items():
            write_table_rows(doc, name, rows)
        for item in job.get("set_cells") or []:
            write_value(doc, sheet_cell(doc, item["sheet"], item["cell"]), item.get("value"))
    finally:
        doc.enableAutomaticCalculation(True)


def _sheet(doc, name):
    if not doc.Sheets.hasByName(name):
        raise JobError("no sheet %r" % name)
    return doc.Sheets.getByName(name)


def run_edits(doc, edits):
    """What a person does to the structure, in order, after typing (sheets must be unprotected
    for row edits, as in the program's own menus):
    {"op": "insert_rows" | "delete_rows", "sheet", "row" (1-based), "count"},
    {"op": "sort", "sheet", "range": "B8:H10", "column": 0-based offset, "descending": bool},
    {"op": "rename_sheet", "old", "new"}, {"op": "set_cell", "sheet", "cell", "value"}."""
    for edit in edits or []:
        op = edit.get("op")
        if op in ("insert_rows", "delete_rows"):
            rows = _sheet(doc, edit["sheet"]).Rows
            if op == "insert_rows":
                rows.insertByIndex(int(edit["row"]) - 1, int(edit.get("count", 1)))
            else:
                rows.removeByIndex(int(edit["row"]) - 1, int(edit.get("count", 1)))
        elif op == "sort":
            rng = _sheet(doc, edit["sheet"]).getCellRangeByName(edit["range"])
            field = uno.createUnoStruct("com.sun.star.table.TableSortField")
            field.Field = int(edit.get("column", 0))
            field.IsAscending = not edit.get("descending", False)
            rng.sort((prop("SortFields", uno.Any("[]com.sun.star.table.TableSortField", (field,))),
                      prop("ContainsHeader", False)))
        elif op == "rename_sheet":
            _sheet(doc, edit["old"]).setName(edit["new"])
        elif op == "set_cell":
            write_value(doc, sheet_cell(doc, edit["sheet"], edit["cell"]), edit.get("value"))
        else:
            raise JobError("unknown edit %r" % (op,))


def modified_iso(doc):
    """The document's own last-saved time as loaded (ISO; "Z" when LibreOffice says UTC), or
    None: storing a copy stamps the copy with the present time, which is not when the unit
    saved it."""
    d = doc.DocumentProperties.ModificationDate
    if not d.Year:
        return None
    moment = dt.datetime(d.Year, d.Month, d.Day, d.Hours, d.Minutes, d.Seconds)
    return moment.isoformat() + ("Z" if getattr(d, "IsUTC", False) else "")


def run_job(desktop, job):
    doc = load(desktop, job["open"])
    try:
        modified = modified_iso(doc) if job.get("read_modified") else None
        write_all(doc, job)
        run_edits(doc, job.get("edits"))
        if job.get("recalc", True):
            doc.calculateAll()
        names = doc.NamedRanges
        values = {n: read_value(doc, named_cell(names, n)) for n in job.get("read_names") or []}
        for item in job.get("read_cells") or []:
            key = "%s!%s" % (item["sheet"], item["cell"])
            values[key] = read_value(doc, sheet_cell(doc, item["sheet"], item["cell"]))
        if job.get("read_modified"):
            values["modified"] = modified
        if job.get("save_xlsx"):
            store(doc, job["save_xlsx"], _XLSX_FILTER)
        if job.get("save_pdf"):
            store(doc, job["save_pdf"], _PDF_FILTER)
        if job.get("save_as"):  # another format: {"path": …, "filter": "MS Excel 97" | "calc8"}
            store(doc, job["save_as"]["path"], job["save_as"]["filter"])
        return values
    finally:
        doc.close(True)


def result_line(index, ok, error=None, values=None, bridge_lost=False):
    line = {"index": index, "ok": ok, "error": error, "values": values or {}}
    if bridge_lost:
        line["bridge_lost"] = True
    return json.dumps(line, ensure_ascii=False)


def main(job_file):
    with open(job_file, encoding="utf-8") as f:
        spec = json.load(f)
    with open(spec["results"], "a", encoding="utf-8") as out:
        try:
            desktop = connect(spec["connect"], float(spec.get("connect_timeout", 60)))
        except Exception as exc:
            out.write(json.dumps({"fatal": "cannot connect to soffice: %s" % exc}) + "\n")
            return 3
        for job in spec["jobs"]:
            index = job.get("index")
            try:
                values = run_job(desktop, job)
                out.write(result_line(index, True, values=values) + "\n")
            except JobError as exc:
                out.write(result_line(index, False, str(exc)) + "\n")
            except Exception as exc:  # a UNO error: report it, keep going if soffice lives
                detail = "%s: %s" % (type(exc).__name__, getattr(exc, "Message", "") or exc)
                lost = "Disposed" in type(exc).__name__ or "Runtime" in type(exc).__name__
                if lost:
                    detail = "LibreOffice stopped while working on this file (%s)" % detail
                out.write(result_line(index, False, detail, bridge_lost=lost) + "\n")
                if lost:
                    out.flush()
                    traceback.print_exc()
                    return 4  # the bridge is gone; the host restarts soffice for the rest
            out.flush()
        if spec.get("terminate", True):
            try:
                desktop.terminate()
            except Exception:  # soffice exits while answering: that is fine
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
