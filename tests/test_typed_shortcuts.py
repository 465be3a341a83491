"""The comparison's shortcuts find what the full comparison finds.

typed.Comparison maps a sheet row to row without difflib when its rows of content are the
template's and every anchor is on the diagonal, and does not look cell by cell at a row
whose signature is its template row's. Each return below is read twice: as the reader does,
and with both shortcuts turned off (every sheet aligned by _align, every cell compared);
what is read, reported and found tampered must be the same, and the shortcuts must have
been taken where they apply (else this would test nothing).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

import builders as b
from qcdc_xl.intake import typed
from qcdc_xl.intake.pristine import PristineSheet
from qcdc_xl.intake.read import load_quietly, read_return

P1, P2 = "Phụ lục 1", "Phụ lục 2"
DOC = {"so_ky_hieu": "01-KH/ĐU", "ngay_ban_hanh": "2019-03-01", "loai_van_ban": "Kế hoạch",
       "trich_yeu": "Kế hoạch thực hiện"}


@pytest.fixture(scope="module")
def template(form, tmp_path_factory):
    return b.make_template(form, b.HCSN_UNIT, tmp_path_factory.mktemp("shortcuts") / "HCSN.xlsx")


def _first_label(wb, sheet: str):
    """(row, col) of the first text cell of a sheet (a title or label of the template)."""
    ws = wb[sheet]
    return next(at for at, cell in sorted(ws._cells.items()) if isinstance(cell.value, str) and cell.value.strip())


def _edits(template: Path):
    _, ref = b.table_ref(template, "tbl_van_ban")
    top = range_boundaries(ref)[1]

    def label_typed_over(wb):
        r, c = _first_label(wb, P2)
        wb[P2].cell(r, c).value = "Nhãn đã bị sửa"

    def beside_a_label(wb):
        r, _ = _first_label(wb, P2)
        wb[P2].cell(r, 30).value = "ghi chú"

    def rows_inserted(wb):
        b.insert_rows(wb, P1, top, 2)
        b.insert_rows(wb, P2, 3, 1)

    def formula_typed_over(wb):
        ws = wb["Kiểm tra"]
        at = next(at for at, cell in sorted(ws._cells.items()) if cell.data_type == "f")
        ws.cell(*at).value = 7

    def renamed(wb):
        b.rename_sheet(wb, P2, "Số liệu")
    return {"untouched": None, "label_typed_over": label_typed_over, "beside_a_label": beside_a_label,
            "rows_inserted": rows_inserted, "formula_typed_over": formula_typed_over, "renamed": renamed}


def _what_is_found(path: Path, form) -> tuple:
    raw = read_return(path, path.name, form)
    cell = lambda r: (r.sheet, r.cell, r.value, r.formula)  # noqa: E731
    return ([cell(r) for r in raw.outside], [(cell(r), t) for r, t in raw.tampered],
            [dataclasses.astuple(i) for i in raw.issues],
            {name: [{k: cell(v) for k, v in row.items()} for row in rows] for name, rows in raw.tables.items()})


def _without_shortcuts(monkeypatch) -> None:
    def every_row_aligned(sheet, anchors, signatures):
        agreed = [(r, t) for r, t in anchors if typed._rows_agree(sheet, r, t)]
        return typed._align(sheet, agreed, signatures)
    monkeypatch.setattr(typed, "_row_map", every_row_aligned)
    monkeypatch.setattr(PristineSheet, "signature_at", lambda self, row: object())  # never equal


@pytest.mark.parametrize("case", ["untouched", "label_typed_over", "beside_a_label", "rows_inserted",
                                  "formula_typed_over", "renamed"])
def test_shortcuts_find_what_the_full_comparison_finds(form, template, tmp_path, monkeypatch, case):
    path = b.fill(template, tmp_path / f"{case}.xlsx", values=b.complete_values(form, "HCSN"),
                  rows={"tbl_van_ban": [DOC]}, edit=_edits(template)[case])
    aligned, made = [], []
    real_align, real_of = typed._align, typed.Comparison.of.__func__
    monkeypatch.setattr(typed, "_align", lambda *a: aligned.append(a[0].ws.title) or real_align(*a))
    monkeypatch.setattr(typed.Comparison, "of", classmethod(
        lambda cls, *a: made.append(real_of(cls, *a)) or made[-1]))
    quick = _what_is_found(path, form)
    aligned_quick = list(aligned)  # the reader's own run only
    with monkeypatch.context() as m:
        _without_shortcuts(m)
        full = _what_is_found(path, form)
    assert quick == full

    outside, tampered = {(s, c) for s, c, *_ in quick[0]}, {(r[0], r[1]) for r, _ in quick[1]}
    sheets = made[0].sheets
    if case == "rows_inserted":
        assert P1 in aligned_quick and P2 in aligned_quick  # rows moved: aligned by content
    else:
        assert P1 not in aligned_quick  # a sheet whose rows are the template's: mapped row to row
    if case in ("untouched", "rows_inserted", "renamed"):
        assert not outside and not tampered
    if case == "untouched":  # every row of the table sheet is its template row: no cell compared
        page = sheets[P1].page
        assert all(page.signature_at(r) == sig for r, sig in sheets[P1].row_signatures.items())
    if case in ("label_typed_over", "beside_a_label"):
        r, c = _first_label(load_quietly(template), P2)
        assert (P2, f"{get_column_letter(c if case == 'label_typed_over' else 30)}{r}") in outside
    if case == "formula_typed_over":
        assert any(s == "Kiểm tra" for s, _ in tampered)

