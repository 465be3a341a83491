"""Our lint for the Excel rules that no validator catches but that make Excel "repair" a file.

Excel checks more than the schema: a file can pass the Open XML SDK validator and openxml-audit
and still open with «We found a problem with some content… Do you want us to try to recover?»,
after which Excel silently drops tables, names or validations. The rules below are those
(each with a tiny test in tests/test_xlsx_lint.py proving it fires):

- ``sheet_name``: ≤ 31 characters, none of ``: \\ / ? * [ ]``, no apostrophe at either end,
  unique ignoring case, not «History».
- ``sheet_visibility``: at least one sheet visible; ``activeTab`` and selected tabs on a visible
  sheet.
- ``defined_name``: legal characters (no spaces), not a cell reference (``A1``, ``R1C1``),
  ≤ 255 characters, unique per scope ignoring case.
- ``table``: header cell text == its ``tableColumn`` name, ref width == column count, unique
  column names, ``autoFilter`` == ref, table names unique and not a defined name, no table
  over a merged range or over another table.
- ``formula_length``: any formula (cell, name, validation, conditional format) ≤ 8192 characters.
- ``validation``: ``formula1``/``formula2`` ≤ 255 characters, a list literal ≤ 255, prompt and
  error titles ≤ 32, their messages ≤ 255; no cell under two validations (Excel applies one,
  and LibreOffice keeps only the last written on a re-save: docs/decisions.md).
- ``cell_order``: rows ascending, cells ascending within their row, no cell twice.
- ``style_index``: ``dxfId`` < number of ``dxfs``; a cell's, row's or column's style <
  number of ``cellXfs``; each xf's font, fill, border and parent style exist, and its number
  format is built in or defined.
- ``shared_string``: a shared-string cell's index < number of shared strings.
- ``vml``: the same ``o:idmap`` block (or the same shape id) in two VML parts.
- ``merge``: merged ranges that overlap.

Findings are lines ``rule: part: detail``; :func:`lint_xlsx` returns them (empty when clean).
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections import Counter
from pathlib import Path

from lxml import etree
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
VML_O = "urn:schemas-microsoft-com:office:office"
MAX_SHEET_NAME, MAX_NAME, MAX_FORMULA, MAX_DV_FORMULA = 31, 255, 8192, 255
MAX_DV_TITLE, MAX_DV_MESSAGE = 32, 255
MAX_ROW, MAX_COL = 1_048_576, 16_384
_BAD_SHEET_CHARS = set(":\\/?*[]")
_NAME_CHARS = re.compile(r"^[^\W\d][\w.\\?]*$|^\\[\w.\\?]*$")  # letter, _ or \ first
_A1_LIKE = re.compile(r"^([A-Za-z]{1,3})(\d+)$")
_R1C1_LIKE = re.compile(r"^[Rr](\d*)([Cc](\d*))?$|^[Cc](\d*)$")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _q(tag: str, ns: str = MAIN) -> str:
    return f"{{{ns}}}{tag}"


def unescape(text: str) -> str:
    """ST_Xstring's ``_xHHHH_`` escapes (a line break in a header is ``_x000a_``)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


class Package:
    """The parts of an .xlsx, parsed on demand, with the workbook's sheets resolved."""

    def __init__(self, data: bytes):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            self.parts = {i.filename: z.read(i.filename) for i in z.infolist() if not i.is_dir()}
        self._parsed: dict[str, etree._Element] = {}
        self.workbook = self.xml("xl/workbook.xml")
        targets = self.rels("xl/workbook.xml")
        self.sheets = []  # (name, state, part) in tab order
        for s in self.workbook.iter(_q("sheet")):
            self.sheets.append((s.get("name", ""), s.get("state", "visible"), targets.get(s.get(_q("id", REL)))))
        self.strings = [_text(si) for si in self.xml("xl/sharedStrings.xml").iter(_q("si"))] \
            if "xl/sharedStrings.xml" in self.parts else []

    def xml(self, name: str):
        if name not in self._parsed:
            parser = etree.XMLParser(recover=name.endswith(".vml"), resolve_entities=False)
            self._parsed[name] = etree.fromstring(self.parts[name], parser)
        return self._parsed[name]

    def rels(self, part: str) -> dict[str, str]:
        """Relationship id -> the part it points at (internal targets only)."""
        folder, base = posixpath.split(part)
        name = posixpath.join(folder, "_rels", base + ".rels")
        if name not in self.parts:
            return {}
        out = {}
        for r in self.xml(name).iter(_q("Relationship", PKG_REL)):
            if r.get("TargetMode") == "External":
                continue
            target = r.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[r.get("Id")] = path
        return out

    def worksheets(self):
        """(sheet name, part, parsed xml) of every worksheet present."""
        for name, _state, part in self.sheets:
            if part in self.parts and self.xml(part).tag == _q("worksheet"):
                yield name, part, self.xml(part)


def _text(element) -> str:
    """A string item's text: its runs, without phonetic guides."""
    return "".join(t.text or "" for t in element.iter(_q("t"))
                   if not any(a.tag == _q("rPh") for a in t.iterancestors()))


def _cell_text(pkg: Package, c) -> str | None:
    kind = c.get("t")
    if kind == "inlineStr":
        inline = c.find(_q("is"))
        return _text(inline) if inline is not None else ""
    v = c.find(_q("v"))
    if v is None or v.text is None:
        return None
    if kind == "s":
        index = int(v.text)
        return pkg.strings[index] if 0 <= index < len(pkg.strings) else None
    return v.text


def _cells(ws) -> dict[tuple[int, int], object]:
    """(row, column) -> the cell element, for cells that state their reference."""
    out = {}
    for c in ws.iter(_q("c")):
        ref = c.get("r")
        if ref:
            col, row = coordinate_from_string(ref)
            out[(row, column_index_from_string(col))] = c
    return out


# ---------------------------------------------------------------- rules


def sheet_name_findings(pkg: Package) -> list[str]:
    out, seen = [], Counter(name.casefold() for name, _s, _p in pkg.sheets)
    for name, _state, _part in pkg.sheets:
        problems = []
        if not name or len(name) > MAX_SHEET_NAME:
            problems.append(f"length {len(name)} (1..{MAX_SHEET_NAME})")
        if _BAD_SHEET_CHARS & set(name):
            problems.append(f"forbidden characters {sorted(_BAD_SHEET_CHARS & set(name))}")
        if name.startswith("'") or name.endswith("'"):
            problems.append("apostrophe at an end")
        if name.casefold() == "history":
            problems.append("reserved name")
        if seen[name.casefold()] > 1:
            problems.append("used twice (ignoring case)")
        out += [f"sheet_name: xl/workbook.xml: {name!r}: {p}" for p in problems]
    return out


def sheet_visibility_findings(pkg: Package) -> list[str]:
    out = []
    states = [state for _n, state, _p in pkg.sheets]
    if states and all(s != "visible" for s in states):
        out.append("sheet_visibility: xl/workbook.xml: every sheet is hidden")
    for view in pkg.workbook.iter(_q("workbookView")):
        active = int(view.get("activeTab", "0"))
        if active >= len(states):
            out.append(f"sheet_visibility: xl/workbook.xml: activeTab {active} but {len(states)} sheets")
        elif states[active] != "visible":
            out.append(f"sheet_visibility: xl/workbook.xml: activeTab {active} is "
                       f"{pkg.sheets[active][0]!r}, which is {states[active]}")
    for name, state, part in pkg.sheets:
        if state != "visible" and part in pkg.parts:
            if any(v.get("tabSelected") in ("1", "true") for v in pkg.xml(part).iter(_q("sheetView"))):
                out.append(f"sheet_visibility: {part}: {name!r} is {state} but its tab is selected")
    return out


def _is_cell_like(name: str) -> bool:
    a1 = _A1_LIKE.match(name)
    if a1:
        col, row = a1.groups()
        return column_index_from_string(col.upper()) <= MAX_COL and 1 <= int(row) <= MAX_ROW
    return bool(_R1C1_LIKE.match(name))


def defined_name_findings(pkg: Package) -> list[str]:
    out, seen = [], Counter()
    for d in pkg.workbook.iter(_q("definedName")):
        name = d.get("name", "")
        scope = d.get("localSheetId", "workbook")
        seen[(scope, name.casefold())] += 1
        problems = []
        if not name.startswith("_xlnm.") and not _NAME_CHARS.match(name):
            problems.append("illegal characters (spaces, punctuation) or first character")
        if _is_cell_like(name):
            problems.append("looks like a cell reference")
        if len(name) > MAX_NAME:
            problems.append(f"length {len(name)} > {MAX_NAME}")
        out += [f"defined_name: xl/workbook.xml: {name!r}: {p}" for p in problems]
    for (scope, name), n in seen.items():
        if n > 1:
            out.append(f"defined_name: xl/workbook.xml: {name!r} defined {n} times in scope {scope}")
    return out


def table_findings(pkg: Package) -> list[str]:
    out, table_names = [], Counter()
    names = {d.get("name", "").casefold() for d in pkg.workbook.iter(_q("definedName"))}
    for _sheet, part, ws in pkg.worksheets():
        cells, boxes = None, []
        for target in pkg.rels(part).values():
            if target not in pkg.parts or pkg.xml(target).tag != _q("table"):
                continue
            cells = cells if cells is not None else _cells(ws)
            out += _one_table(pkg, target, pkg.xml(target), cells, names, table_names)
            ref = pkg.xml(target).get("ref", "")
            boxes.append((f"table {ref}", range_boundaries(ref)))
        if boxes:
            boxes += [(f"merge {m.get('ref')}", range_boundaries(m.get("ref"))) for m in ws.iter(_q("mergeCell"))]
            out += [f"table: {part}: {a} overlaps {b}" for a, b in _overlapping(boxes)
                    if a.startswith("table") or b.startswith("table")]
    out += [f"table: xl/tables: table name {n!r} used {k} times" for n, k in table_names.items() if k > 1]
    return out


def _one_table(pkg, part, table, cells, defined, seen) -> list[str]:
    out = []
    name = table.get("displayName") or table.get("name") or ""
    seen[name.casefold()] += 1
    if name.casefold() in defined:
        out.append(f"table: {part}: {name!r} is also a defined name")
    ref = table.get("ref", "")
    min_col, min_row, max_col, _max_row = range_boundaries(ref)
    columns = table.find(_q("tableColumns"))
    cols = list(columns.iter(_q("tableColumn"))) if columns is not None else []
    if max_col - min_col + 1 != len(cols):
        out.append(f"table: {part}: ref {ref} is {max_col - min_col + 1} columns wide, "
                   f"{len(cols)} tableColumn")
    if columns is not None and columns.get("count") not in (None, str(len(cols))):
        out.append(f"table: {part}: tableColumns count={columns.get('count')} but {len(cols)} listed")
    for col_name, k in Counter(unescape(c.get("name", "")).casefold() for c in cols).items():
        if k > 1:
            out.append(f"table: {part}: column name {col_name!r} used {k} times")
    auto = table.find(_q("autoFilter"))
    if auto is not None and table.get("totalsRowCount", "0") == "0" and auto.get("ref") != ref:
        out.append(f"table: {part}: autoFilter ref {auto.get('ref')} != table ref {ref}")
    if table.get("headerRowCount", "1") != "0":
        for i, col in enumerate(cols):
            cell = cells.get((min_row, min_col + i))
            text = _cell_text(pkg, cell) if cell is not None else None
            expected = unescape(col.get("name", ""))
            if text is None or unescape(text) != expected:
                out.append(f"table: {part}: header cell (row {min_row}, column {min_col + i}) "
                           f"is {text!r}, its tableColumn is {expected!r}")
    return out


def formula_length_findings(pkg: Package) -> list[str]:
    out = []

    def check(part, where, text):
        if text and len(text) > MAX_FORMULA:
            out.append(f"formula_length: {part}: {where}: {len(text)} characters > {MAX_FORMULA}")

    for d in pkg.workbook.iter(_q("definedName")):
        check("xl/workbook.xml", f"name {d.get('name')}", d.text)
    for _sheet, part, ws in pkg.worksheets():
        for f in ws.iter(_q("f")):
            check(part, f"cell {f.getparent().get('r')}", f.text)
        for f in ws.iter(_q("formula"), _q("formula1"), _q("formula2")):
            check(part, f.tag.split("}")[1], f.text)
        for f in ws.iter("{http://schemas.microsoft.com/office/excel/2006/main}f"):  # x14 extensions
            check(part, "extension formula", f.text)
    return out


def validation_findings(pkg: Package) -> list[str]:
    out = []
    for _sheet, part, ws in pkg.worksheets():
        for dv in ws.iter(_q("dataValidation")):
            where = f"{part}: validation {dv.get('sqref')}"
            for tag in ("formula1", "formula2"):
                f = dv.find(_q(tag))
                text = (f.text or "") if f is not None else ""
                literal = dv.get("type") == "list" and text.startswith('"') and text.endswith('"')
                size = len(text) - 2 if literal else len(text)
                if size > MAX_DV_FORMULA:
                    kind = "list literal" if literal else tag
                    out.append(f"validation: {where}: {kind} {size} characters > {MAX_DV_FORMULA}")
            for attr, limit in (("promptTitle", MAX_DV_TITLE), ("errorTitle", MAX_DV_TITLE),
                                ("prompt", MAX_DV_MESSAGE), ("error", MAX_DV_MESSAGE)):
                value = dv.get(attr) or ""
                if len(value) > limit:
                    out.append(f"validation: {where}: {attr} {len(value)} characters > {limit}")
        boxes = [(ref, range_boundaries(ref)) for dv in ws.iter(_q("dataValidation"))
                 for ref in (dv.get("sqref") or "").split()]
        out += [f"validation: {part}: {a} and {b} validate the same cells"
                for a, b in _overlapping(boxes)]
    return out


def _overlapping(boxes: list) -> list[tuple[str, str]]:
    """Pairs of (ref, (min_col, min_row, max_col, max_row)) that share a cell."""
    out = []
    boxes = sorted(boxes, key=lambda b: (b[1][1], b[1][0]))
    for i, (ref, (c1, _r1, c2, r2)) in enumerate(boxes):
        for other, (d1, s1, d2, _s2) in boxes[i + 1:]:
            if s1 > r2:
                break  # sorted by first row: nothing further down can overlap
            if d1 <= c2 and c1 <= d2:
                out.append((ref, other))
    return out


def cell_order_findings(pkg: Package) -> list[str]:
    out = []
    for _sheet, part, ws in pkg.worksheets():
        data = ws.find(_q("sheetData"))
        last_row = 0
        for row in data.iter(_q("row")) if data is not None else ():
            r = int(row.get("r") or last_row + 1)
            if r <= last_row:
                out.append(f"cell_order: {part}: row {r} after row {last_row}")
            last_row, last_col = max(r, last_row), 0
            for c in row.iter(_q("c")):
                ref = c.get("r")
                col = last_col + 1
                if ref:
                    letters, number = coordinate_from_string(ref)
                    col = column_index_from_string(letters)
                    if number != r:
                        out.append(f"cell_order: {part}: cell {ref} inside row {r}")
                if col <= last_col:
                    out.append(f"cell_order: {part}: cell {ref or col} after column {last_col} "
                               f"(out of order or twice) in row {r}")
                last_col = max(col, last_col)
    return out


_TABLE_DXF_ATTRS = ("headerRowDxfId", "dataDxfId", "totalsRowDxfId", "headerRowBorderDxfId",
                    "tableBorderDxfId", "totalsRowBorderDxfId")


def style_index_findings(pkg: Package) -> list[str]:
    out = []
    styles = pkg.xml("xl/styles.xml") if "xl/styles.xml" in pkg.parts else None
    dxfs = styles.find(_q("dxfs")) if styles is not None else None
    n_dxf = len(dxfs.findall(_q("dxf"))) if dxfs is not None else 0
    xfs = styles.find(_q("cellXfs")) if styles is not None else None
    n_xf = len(xfs.findall(_q("xf"))) if xfs is not None else 0

    def dxf(part, where, value):
        if value is not None and not 0 <= int(value) < n_dxf:
            out.append(f"style_index: {part}: {where} dxfId {value} but {n_dxf} dxfs")

    if styles is not None:
        for el in styles.iter(_q("tableStyleElement")):
            dxf("xl/styles.xml", "tableStyleElement", el.get("dxfId"))
        out += _xf_findings(styles)
    for _sheet, part, ws in pkg.worksheets():
        for rule in ws.iter(_q("cfRule")):
            dxf(part, "conditional format", rule.get("dxfId"))
        for el in ws.iter(_q("c"), _q("row"), _q("col")):
            s = el.get("style" if el.tag == _q("col") else "s")
            if s is not None and not 0 <= int(s) < max(n_xf, 1):
                where = el.get("r") or f"columns {el.get('min')}-{el.get('max')}"
                out.append(f"style_index: {part}: {where} style {s} but {n_xf} cellXfs")
        for target in pkg.rels(part).values():
            if target in pkg.parts and pkg.xml(target).tag == _q("table"):
                for el in pkg.xml(target).iter():
                    for attr in _TABLE_DXF_ATTRS:
                        dxf(target, el.tag.split("}")[-1], el.get(attr))
    return out


_LAST_BUILTIN_NUMFMT = 163  # number formats 0..163 are built in; custom ones are declared


def _count(styles, group: str, tag: str) -> int:
    element = styles.find(_q(group))
    return len(element.findall(_q(tag))) if element is not None else 0


def _xf_findings(styles) -> list[str]:
    """Each cell format's font, fill, border, parent style and number format exist."""
    out = []
    counts = {"fontId": _count(styles, "fonts", "font"), "fillId": _count(styles, "fills", "fill"),
              "borderId": _count(styles, "borders", "border"),
              "xfId": _count(styles, "cellStyleXfs", "xf")}
    custom = {nf.get("numFmtId") for nf in styles.iter(_q("numFmt"))}
    for group in ("cellStyleXfs", "cellXfs"):
        element = styles.find(_q(group))
        for i, xf in enumerate(element.findall(_q("xf")) if element is not None else ()):
            for attr, n in counts.items():
                value = xf.get(attr)
                if value is not None and (group, attr) != ("cellStyleXfs", "xfId") and not 0 <= int(value) < n:
                    out.append(f"style_index: xl/styles.xml: {group} xf {i} {attr} {value} but {n} there")
            number = xf.get("numFmtId")
            if number is not None and int(number) > _LAST_BUILTIN_NUMFMT and number not in custom:
                out.append(f"style_index: xl/styles.xml: {group} xf {i} numFmtId {number} is not declared")
    return out


def shared_string_findings(pkg: Package) -> list[str]:
    out, n = [], len(pkg.strings)
    for _sheet, part, ws in pkg.worksheets():
        for c in ws.iter(_q("c")):
            v = c.find(_q("v")) if c.get("t") == "s" else None
            index = (v.text or "") if v is not None else None
            if index is not None and (not index.isdigit() or int(index) >= n):
                out.append(f"shared_string: {part}: {c.get('r')} points at string {index!r} but {n} strings")
    return out


def vml_findings(pkg: Package) -> list[str]:
    out, blocks, shapes = [], {}, {}
    for part in sorted(p for p in pkg.parts if p.endswith(".vml")):
        root = pkg.xml(part)
        if root is None:
            out.append(f"vml: {part}: not readable as XML")
            continue
        for idmap in root.iter(_q("idmap", VML_O)):
            for block in (idmap.get("data") or "").replace(" ", "").split(","):
                if block and blocks.setdefault(block, part) != part:
                    out.append(f"vml: {part}: o:idmap block {block} already used by {blocks[block]}")
        for shape in root.iter("{urn:schemas-microsoft-com:vml}shape"):
            sid = shape.get("id") or ""
            if sid and shapes.setdefault(sid, part) != part:
                out.append(f"vml: {part}: shape id {sid} already used by {shapes[sid]}")
    return out


def merge_findings(pkg: Package) -> list[str]:
    out = []
    for _sheet, part, ws in pkg.worksheets():
        boxes = [(m.get("ref"), range_boundaries(m.get("ref"))) for m in ws.iter(_q("mergeCell"))]
        out += [f"merge: {part}: {a} overlaps {b}" for a, b in _overlapping(boxes)]
    return out


RULES = (sheet_name_findings, sheet_visibility_findings, defined_name_findings, table_findings,
         formula_length_findings, validation_findings, cell_order_findings, style_index_findings,
         shared_string_findings, vml_findings, merge_findings)


def lint_xlsx(source: Path | bytes) -> list[str]:
    """Every finding of every rule for the workbook at ``source`` (a path or the file's bytes)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    pkg = Package(data)
    return [line for rule in RULES for line in rule(pkg)]
