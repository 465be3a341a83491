"""The LibreOffice slice of "nothing typed is lost": markers typed through LibreOffice Calc
(UNO, one soffice start) into one HCSN and one DN template — locked cells of protected
sheets, labels, headers, TT cells, blanks, a cell hidden under a merge, the guide, check and
lists sheets, far below the used range, the status cell of a section typed over — saved as
.xlsx, then read: each marker is read into a field or a table row, or reported with its cell.

Skipped, with the reason, where LibreOffice is missing; a failure with QCDC_REQUIRE_LIBREOFFICE=1.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

import lo_helpers as h
from qcdc_xl.intake import libreoffice
from qcdc_xl.report.aggregate import check_file
from qcdc_xl.template.generate import generate_workbook
from qcdc_xl.intake.read import load_quietly, read_return
from qcdc_xl.form.spec import load_form
from qcdc_xl.intake.units import Unit
from test_typed import candidate_cells, found_or_reported

UNITS = {"HCSN": Unit("SNV", "Chi bộ Sở Ngoại vụ", "HCSN", "Khối cơ quan"),
         "DN": Unit("DN002", "Đảng bộ Viễn thông Hà Tĩnh", "DN", "Khối doanh nghiệp", attributes=(("loai_dn", "DN 100% vốn Nhà nước"),))}
P2 = "Phụ lục 2"


def _status_cell(template) -> str:
    """The first section status cell of Phụ lục 2 (a formula showing the «Kiểm tra» line)."""
    ws = load_quietly(template)[P2]
    return min((c for c in ws._cells.values() if c.data_type == "f" and "Kiểm tra" in str(c.value)),
               key=lambda c: (c.row, c.column)).coordinate


def _markers(template, kind: str, rng: random.Random) -> dict:
    """(sheet, cell) -> marker: a few per sheet, anywhere, plus the status cell and far cells."""
    cells = [(s, c) for s, c, _ in candidate_cells(template, rng, per_sheet=3)
             if int("".join(ch for ch in c if ch.isdigit())) < 200_000]  # keep the job small
    cells = list(dict.fromkeys(cells + [(P2, _status_cell(template)), ("Thông tin chung", "B3"),
                                        ("Phụ lục 1", "A100000"), ("Kiểm tra", "J40")]))
    out = {}
    for i, where in enumerate(cells):
        out[where] = 5 + i if where[0] == P2 and i % 5 == 0 else f"LO{kind}{i:02d} ghi chú"
    out[(P2, _status_cell(template))] = 3  # a number typed over «Thiếu … ô bắt buộc»
    return out


@pytest.fixture(scope="module")
def typed_returns(tmp_path_factory):
    h.require_libreoffice()
    root = tmp_path_factory.mktemp("typed_lo")
    form, rng, jobs, cases = load_form(), random.Random(7), [], {}
    for kind, unit in UNITS.items():
        template = generate_workbook(form, unit, root / f"{unit.ma_don_vi}.xlsx",
                                     generated_at=dt.datetime(2022, 5, 20, 8, 0))
        markers = _markers(template, kind, rng)
        out = root / f"{kind}_typed.xlsx"
        values = {k: h.to_job_value(v) for k, v in h.complete_values(form, unit).items()}
        jobs.append({"open": str(template), "set_names": values,
                     "unprotect_sheets": ["Phụ lục 1"],  # others stay protected: typed anyway
                     "set_cells": [{"sheet": s, "cell": c, "value": v} for (s, c), v in markers.items()],
                     "save_xlsx": str(out)})
        cases[kind] = (out, markers)
    results = libreoffice.run_jobs(jobs)
    assert all(r["ok"] for r in results), results
    return form, cases


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_every_marker_typed_in_libreoffice_is_read_or_reported(typed_returns, kind):
    form, cases = typed_returns
    path, markers = cases[kind]
    raw = read_return(path, path.name, form)
    result, issues = check_file(form, list(UNITS.values()), path)
    accounted = found_or_reported(raw, result, markers)
    lost = {k: v for k, v in markers.items() if k not in accounted}
    assert lost == {}, f"{len(lost)} of {len(markers)} markers lost: {sorted(lost)}"
    assert len(markers) >= 24
    assert raw.protected_sheets["Thông tin chung"] is True  # typed into a protected sheet
    assert ("Thông tin chung", "B3") in {(i.sheet, i.cell) for i in issues}  # under the title's merge


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_a_status_cell_typed_over_in_libreoffice_is_formula_tampered(typed_returns, kind):
    form, cases = typed_returns
    path, _ = cases[kind]
    result, issues = check_file(form, list(UNITS.values()), path)
    status = _status_cell(cases[kind][0].with_name(f"{UNITS[kind].ma_don_vi}.xlsx"))
    found = [i for i in issues if (i.sheet, i.cell) == (P2, status)]
    assert [(i.code, i.severity, i.value) for i in found] == [("formula_tampered", "error", "3")]
    assert "công thức" in found[0].message and "biểu mẫu mới" in found[0].message
