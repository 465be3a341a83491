"""Nothing typed is lost: a marker typed into any cell of any sheet of a return (inputs,
labels, blanks, table headers, TT cells, under a merge, far beyond the used range, the
guide, check, lists and meta sheets, protected or not) is either read into a field or a
table row, or reported with its exact sheet and cell; and a return that only fills its
inputs gets no such report.

Seeded random (reproducible: the seed is in the test id) on openpyxl-filled templates of both
unit types; the LibreOffice slice is in test_typed_libreoffice.py.
"""
from __future__ import annotations

import posixpath
import random
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from openpyxl.cell.cell import MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string, column_index_from_string, range_boundaries

import builders as b
import lo_helpers as h
from qcdc_xl.validate.check import check_return
from qcdc_xl.template.metadata import KEYS, META_SHEET
from qcdc_xl.intake.read import load_quietly, read_return

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
UNITS = {"HCSN": b.HCSN_UNIT, "DN": b.DN_UNIT}


@pytest.fixture(scope="module")
def templates(form, tmp_path_factory):
    d = tmp_path_factory.mktemp("typed_templates")
    return {kind: b.make_template(form, unit, d / f"{kind}.xlsx") for kind, unit in UNITS.items()}


def check(form, path: Path, kind: str):
    raw = read_return(path, path.name, form)
    result = check_return(form, raw, {u.ma_don_vi: u for u in UNITS.values()})
    return raw, result


# ---------------------------------------------------------------- writing under a merge


def put_under_merges(path: Path, cells: list[tuple]) -> None:
    """Write texts into cells hidden under a merged area, as LibreOffice keeps them when
    cells holding text are merged (openpyxl cannot: it drops such cells)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    rels = etree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    target = {r.get("Id"): posixpath.normpath(posixpath.join("xl", r.get("Target"))).lstrip("/")
              for r in rels}
    book = etree.fromstring(parts["xl/workbook.xml"])
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    part_of = {s.get("name"): target[s.get(rid)] for s in book.iter(f"{{{_NS}}}sheet")}
    for sheet in {s for s, _, _ in cells}:
        root = etree.fromstring(parts[part_of[sheet]])
        data = root.find(f"{{{_NS}}}sheetData")
        for _, coord, text in [c for c in cells if c[0] == sheet]:
            _put_inline(data, coord, text)
        parts[part_of[sheet]] = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                               standalone=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)


def _put_inline(data, coord: str, text: str) -> None:
    letters, row = coordinate_from_string(coord)
    col = column_index_from_string(letters)
    row_el = next((r for r in data if int(r.get("r")) == row), None)
    if row_el is None:
        row_el = etree.SubElement(data, f"{{{_NS}}}row", r=str(row))
        rows = sorted(data, key=lambda r: int(r.get("r")))
        data[:] = rows
    cell = next((c for c in row_el if c.get("r") == coord), None)
    if cell is None:
        cell = etree.Element(f"{{{_NS}}}c", r=coord)
        after = [c for c in row_el if column_index_from_string(coordinate_from_string(c.get("r"))[0]) < col]
        row_el.insert(len(after), cell)
    for child in list(cell):
        cell.remove(child)
    if isinstance(text, (int, float)):
        cell.attrib.pop("t", None)
        etree.SubElement(cell, f"{{{_NS}}}v").text = str(text)
        return
    cell.set("t", "inlineStr")
    inline = etree.SubElement(cell, f"{{{_NS}}}is")
    etree.SubElement(inline, f"{{{_NS}}}t").text = text


# ---------------------------------------------------------------- choosing cells


def candidate_cells(template: Path, rng: random.Random, per_sheet: int) -> list[tuple[str, str, bool]]:
    """(sheet, cell, under a merge) spread over every kind of place on every sheet: cells of
    the template (labels, inputs, formulas, headers, TT), blanks in and around the used
    range, rows directly and 2-5 below each table, cells under merges, far away."""
    wb = load_quietly(template)
    out = []
    for ws in wb.worksheets:
        under = {(r, c) for rng_ in ws.merged_cells.ranges for r, c in rng_.cells} - {
            (rng_.min_row, rng_.min_col) for rng_ in ws.merged_cells.ranges}
        existing = [at for at, cell in ws._cells.items() if not isinstance(cell, MergedCell)]
        if ws.title == META_SHEET:  # its identity cells are the file's identity, checked elsewhere
            keys = {r for (r, c), cell in ws._cells.items() if c == 1 and cell.value in KEYS}
            existing = [(r, c) for r, c in existing if not (r in keys and c <= 2)]
        near = [(rng.randint(1, ws.max_row + 6), rng.randint(1, ws.max_column + 4)) for _ in range(per_sheet)]
        if ws.title == META_SHEET:
            near = [(r, c) for r, c in near if c > 2 or r > ws.max_row]
        below = []
        for table in ws.tables.values():
            min_col, _, max_col, max_row = range_boundaries(table.ref)
            below += [(max_row + d, rng.randint(min_col, max_col)) for d in (1, 2, 3, 5)]
        far = [(1048576, 16384), (100000, 1), (rng.randint(1000, 1048576), rng.randint(1, 16384))]
        picks = (rng.sample(existing, min(per_sheet, len(existing))) + near + below
                 + rng.sample(sorted(under), min(3, len(under))) + rng.sample(far, rng.randint(0, 2)))
        for r, c in dict.fromkeys(picks):
            out.append((ws.title, f"{get_column_letter(c)}{r}", (r, c) in under))
    return out


def type_markers(template: Path, out: Path, cells, protect: bool) -> dict:
    """Type a distinct marker into each cell (a number now and then); (sheet, cell) -> marker."""
    markers = {}
    for i, (sheet, cell, _) in enumerate(cells):
        markers[(sheet, cell)] = 970_000 + i if i % 7 == 3 else f"MK{i:03d} ghi chú"

    def edit(wb):
        for ws in wb.worksheets:
            ws.protection.sheet = protect and ws.protection.sheet
    plain = [(s, c, markers[(s, c)]) for s, c, hidden in cells if not hidden]
    b.fill(template, out, cells=plain, edit=edit)
    put_under_merges(out, [(s, c, markers[(s, c)]) for s, c, hidden in cells if hidden])
    return markers


def found_or_reported(raw, result, markers: dict) -> dict:
    """(sheet, cell) -> why the marker there is accounted for; missing when it was lost."""
    read = {(r.sheet, r.cell): "field" for r in raw.fields.values()}
    for rows in raw.tables.values():
        for row in rows:
            read.update({(r.sheet, r.cell): "table" for r in row.values()})
    reported = {(i.sheet, i.cell): i.code for i in result.issues if i.cell}
    out = {}
    for (sheet, cell), marker in markers.items():
        where = (sheet, cell)
        value = _value_at(raw, where)
        if where in read and value == marker:
            out[where] = read[where]
        elif where in reported:
            out[where] = reported[where]
    return out


def _value_at(raw, where):
    for r in list(raw.fields.values()) + [c for rows in raw.tables.values() for row in rows for c in row.values()]:
        if (r.sheet, r.cell) == where:
            return r.value
    return None


# ---------------------------------------------------------------- the property


CASES = [(kind, protect, seed) for kind in ("HCSN", "DN") for protect, seed in ((True, 1), (False, 2), (True, 3))]


@pytest.mark.parametrize("kind, protect, seed", CASES, ids=[f"{k}-{'protected' if p else 'unprotected'}-seed{s}"
                                                            for k, p, s in CASES])
def test_every_marker_is_read_or_reported_with_its_cell(form, templates, tmp_path, kind, protect, seed):
    rng = random.Random(seed)
    cells = candidate_cells(templates[kind], rng, per_sheet=9)
    out = tmp_path / f"{kind}_{seed}.xlsx"
    markers = type_markers(templates[kind], out, cells, protect)
    raw, result = check(form, out, kind)
    accounted = found_or_reported(raw, result, markers)
    lost = {k: v for k, v in markers.items() if k not in accounted}
    assert lost == {}, f"{len(lost)} of {len(markers)} markers lost: {sorted(lost)[:12]}"
    assert len(markers) >= 60 and any(hidden for *_, hidden in cells)
    outside = {(i.sheet, i.cell): i for i in result.issues if i.code == "data_outside_table" and i.cell}
    for where, issue in outside.items():  # each report shows what was typed there
        assert issue.value == str(markers.get(where, issue.value)), where


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_a_pristine_and_a_normally_filled_return_report_nothing_typed_outside(form, templates, tmp_path, kind):
    _, result = check(form, templates[kind], kind)
    assert [i.code for i in result.issues if i.code in ("data_outside_table", "formula_tampered")] == []
    values = b.complete_values(form, kind)
    rows = {t.name: h.table_rows(form, t.name, 3) for t in form.tables_for(kind)}
    out = b.fill(templates[kind], tmp_path / "filled.xlsx", values=values, rows=rows)
    raw, result = check(form, out, kind)
    assert raw.outside == [] and raw.tampered == []
    assert [i for i in result.issues if i.code in ("data_outside_table", "formula_tampered")] == []
    assert all(len(raw.tables[t]) == 3 for t in rows)


# ---------------------------------------------------------------- the cases of the issue


def test_values_two_rows_below_a_table_on_a_protected_sheet_are_reported(form, templates, tmp_path):
    sheet, ref = b.table_ref(templates["HCSN"], "tbl_van_ban")
    min_col, _, max_col, bottom = range_boundaries(ref)
    b_cell, f_cell = f"{get_column_letter(min_col + 1)}{bottom + 2}", f"{get_column_letter(min_col + 5)}{bottom + 2}"
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx",
                 cells=[(sheet, b_cell, "Quy định"), (sheet, f_cell, "Quy định về tiếp dân")])
    raw, result = check(form, out, "HCSN")
    found = {(i.cell, i.value) for i in result.issues if i.code == "data_outside_table"}
    assert found == {(b_cell, "Quy định"), (f_cell, "Quy định về tiếp dân")}
    assert all("nằm ngoài các ô nhập" in i.message for i in result.issues if i.code == "data_outside_table")


def test_a_template_text_typed_at_another_place_is_reported(form, templates, tmp_path):
    """A label equal to some text of the template elsewhere (a list option, a heading) is
    still something typed where the template has nothing."""
    cells = [("Thông tin chung", "F13", "Số nguyên"), ("Phụ lục 2", "J30", "Quy định"),
             ("Kiểm tra", "B25", "Tình trạng")]
    raw, result = check(form, b.fill(templates["HCSN"], tmp_path / "r.xlsx", cells=cells), "HCSN")
    assert {(i.sheet, i.cell) for i in result.issues if i.code == "data_outside_table"} == {
        (s, c) for s, c, _ in cells}


def test_a_title_naming_the_unit_is_template_but_a_note_naming_it_is_reported(form, templates, tmp_path):
    name = b.HCSN_UNIT.ten_don_vi
    wb = load_quietly(templates["HCSN"])
    title_cell = next(c.coordinate for c in wb["Phụ lục 2"]._cells.values()
                      if isinstance(c.value, str) and c.value == f"Đơn vị: {name}")
    cells = [("Phụ lục 2", "J3", f"{name} ghi chú"), ("Hướng dẫn", "C3", f"Đơn vị: {name}")]
    raw, result = check(form, b.fill(templates["HCSN"], tmp_path / "r.xlsx", cells=cells), "HCSN")
    reported = {(i.sheet, i.cell) for i in result.issues if i.code == "data_outside_table"}
    assert reported == {("Phụ lục 2", "J3"), ("Hướng dẫn", "C3")}
    assert ("Phụ lục 2", title_cell) not in reported  # the title itself names the unit


def test_a_status_formula_typed_over_is_formula_tampered(form, templates, tmp_path):
    wb = load_quietly(templates["HCSN"])
    status = next(c.coordinate for c in wb["Phụ lục 2"]._cells.values()
                  if c.data_type == "f" and "Kiểm tra" in str(c.value))
    check_cell = next(c.coordinate for c in wb["Kiểm tra"]._cells.values() if c.data_type == "f")

    def edit(wb):
        wb["Kiểm tra"][check_cell].value = None  # cleared (Delete key)
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx", cells=[("Phụ lục 2", status, 0)], edit=edit)
    raw, result = check(form, out, "HCSN")
    tampered = {(i.sheet, i.cell): i for i in result.issues if i.code == "formula_tampered"}
    assert set(tampered) == {("Phụ lục 2", status), ("Kiểm tra", check_cell)}
    assert tampered[("Phụ lục 2", status)].severity == "error" and tampered[("Phụ lục 2", status)].value == "0"
    assert "gõ đè" in tampered[("Phụ lục 2", status)].message and "đã bị xóa" in tampered[("Kiểm tra", check_cell)].message
    assert "biểu mẫu mới" in tampered[("Phụ lục 2", status)].message
    assert not any(i.code == "data_outside_table" for i in result.issues)


def test_tt_cells_of_empty_rows_and_table_headers_typed_over(form, templates, tmp_path):
    sheet, ref = b.table_ref(templates["DN"], "tbl_mo_hinh")
    min_col, top, _, _ = range_boundaries(ref)
    tt, header = f"{get_column_letter(min_col)}{top + 4}", f"{get_column_letter(min_col + 1)}{top}"

    def edit(wb):
        wb[sheet].protection.sheet = False
    out = b.fill(templates["DN"], tmp_path / "r.xlsx", edit=edit,
                 cells=[(sheet, tt, "4"), (sheet, header, "Tên mô hình (sửa)")])
    raw, result = check(form, out, "DN")
    found = {(i.code, i.cell) for i in result.issues if i.code in ("formula_tampered", "data_outside_table")}
    assert found == {("formula_tampered", tt), ("data_outside_table", header)}
    assert raw.tables["tbl_mo_hinh"] == []  # a TT alone fills no row


def test_rows_inserted_above_and_inside_tables_shift_nothing_into_a_report(form, templates, tmp_path):
    sheet, ref = b.table_ref(templates["HCSN"], "tbl_van_ban")
    top = range_boundaries(ref)[1]

    def edit(wb):
        b.insert_rows(wb, "Thông tin chung", 14, 3)
        b.insert_rows(wb, sheet, top, 2)  # above the table
        b.insert_rows(wb, sheet, top + 4, 2)  # inside it, after its first row: no TT formula
        for col, value in enumerate(h.table_rows(form, "tbl_van_ban", 3)[2], start=2):
            wb[sheet].cell(top + 4, col).value = value  # one of the two typed in
        b.insert_rows(wb, "Kiểm tra", 12, 1)
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx", values=b.complete_values(form, "HCSN"),
                 rows={"tbl_van_ban": h.table_rows(form, "tbl_van_ban", 2)},
                 cells=[(sheet, f"H{top + 5}", "ghi chú bên phải")], edit=edit)
    raw, result = check(form, out, "HCSN")
    assert len(raw.tables["tbl_van_ban"]) == 3
    assert sorted((i.code, i.sheet, i.cell) for i in result.issues) == [
        ("data_outside_table", sheet, f"H{top + 9}"),  # typed, then moved down by 2 + 2
        ("formula_tampered", sheet, f"A{top + 4}")]  # the TT of the inserted row that was filled


# ---------------------------------------------------------------- sheets renamed, added, deleted


def test_a_renamed_check_sheet_is_still_compared_and_a_deleted_one_is_reported(form, templates, tmp_path):
    def rename(wb):
        wb["Kiểm tra"].title = "KT"
    raw, result = check(form, b.fill(templates["DN"], tmp_path / "r.xlsx", edit=rename,
                                     cells=[("Kiểm tra", "J9", "ghi chú")]), "DN")
    assert [(i.code, i.sheet, i.cell) for i in result.issues
            if i.code in ("data_outside_table", "formula_tampered")] == [("data_outside_table", "KT", "J9")]

    def delete(wb):
        del wb["Kiểm tra"]
    raw, result = check(form, b.fill(templates["DN"], tmp_path / "d.xlsx", edit=delete), "DN")
    gone = [i for i in result.issues if i.code == "formula_tampered" and i.cell is None]
    assert [(i.sheet, i.severity) for i in gone] == [("Kiểm tra", "error")]
    assert "đã bị xóa" in gone[0].message and "biểu mẫu mới" in gone[0].message


def test_every_cell_of_a_sheet_the_unit_added_is_reported(form, templates, tmp_path):
    def add(wb):
        ws = wb.create_sheet("Ghi chép")
        ws["A1"], ws["C40"] = "Số liệu tháng 5", 17
    raw, result = check(form, b.fill(templates["HCSN"], tmp_path / "r.xlsx", edit=add), "HCSN")
    assert [(i.sheet, i.cell, i.value) for i in result.issues if i.code == "data_outside_table"] == [
        ("Ghi chép", "A1", "Số liệu tháng 5"), ("Ghi chép", "C40", "17")]


def test_a_note_beside_a_filled_row_does_not_hide_its_missing_tt(form, templates, tmp_path):
    sheet, ref = b.table_ref(templates["HCSN"], "tbl_van_ban")
    min_col, top, max_col, _ = range_boundaries(ref)
    first = top + 1

    def edit(wb):
        wb[sheet].protection.sheet = False
        wb[sheet].cell(first, min_col).value = None  # the TT formula of a filled row deleted
    out = b.fill(templates["HCSN"], tmp_path / "r.xlsx", rows={"tbl_van_ban": h.table_rows(form, "tbl_van_ban", 1)},
                 cells=[(sheet, f"{get_column_letter(max_col + 2)}{first}", "ghi chú")], edit=edit)
    _, result = check(form, out, "HCSN")
    found = {(i.code, i.cell) for i in result.issues if i.code in ("formula_tampered", "data_outside_table")}
    assert found == {("formula_tampered", f"{get_column_letter(min_col)}{first}"),
                     ("data_outside_table", f"{get_column_letter(max_col + 2)}{first}")}
