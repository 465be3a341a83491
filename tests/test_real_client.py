"""A real spreadsheet program (LibreOffice Calc, driven through UNO) fills our templates.

It opens a generated template (HCSN and DN), types values by defined name although the sheets
are protected, recalculates and saves .xlsx; the file it writes must still be a valid return
(names, validations, protection, metadata), and every figure it computed (rates, sums, counts,
the "Kiểm tra" check cells) must equal the one Python computes from the same inputs. It also
prints a template to PDF.

Skipped, with the reason, where LibreOffice or its Python UNO bridge is missing; with
QCDC_REQUIRE_LIBREOFFICE=1 (CI) a missing LibreOffice is a failure instead. All jobs run in ONE
soffice start (module fixture) to keep the suite fast.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import lo_helpers as h
from qcdc_xl.form import formulas
from qcdc_xl.template import guide
from qcdc_xl.intake import libreoffice
from qcdc_xl.template import metadata
from qcdc_xl.template.generate import generate_workbook
from qcdc_xl.template.layout import CHECK_COLS, CHECK_OVERALL_ROW, CHECK_SHEET, a1, check_rows, plan_layout
from qcdc_xl.form.spec import load_form
from qcdc_xl.intake.units import Unit

GENERATED_AT = dt.datetime(2022, 5, 20, 8, 0)
KHOI = "Đảng bộ Khối các cơ quan và doanh nghiệp tỉnh"
UNITS = {
    "HCSN": Unit("SNV", "Chi bộ Sở Ngoại vụ", "HCSN", KHOI),
    "DN": Unit("DN002", "Đảng bộ Viễn thông Hà Tĩnh", "DN", KHOI, attributes=(("loai_dn", "DN 100% vốn Nhà nước"),)),
}
KINDS = list(UNITS)
ROWS = {"tbl_van_ban": 3, "tbl_mo_hinh": 2}


def _check_cells(form, kind: str) -> list[dict]:
    """Every count and status cell of the "Kiểm tra" sheet, and the overall status."""
    rows = check_rows(plan_layout(form, kind))
    numbers = [r.row for r in rows] + [rows[-1].row + 1]  # section rows, then the total row
    cells = [{"sheet": CHECK_SHEET, "cell": a1(r, CHECK_COLS[k])} for r in numbers
             for k in ("missing", "not_empty", "errors", "warnings", "status")]
    return cells + [{"sheet": CHECK_SHEET, "cell": a1(CHECK_OVERALL_ROW, 0)}]


class Run:
    """Everything the module's single LibreOffice run produced."""

    def __init__(self, root: Path):
        self.root, self.form = root, load_form()
        self.templates, self.twins, self.values, self.rows = {}, {}, {}, {}
        self.jobs, self.index, self.results = [], {}, []

    def add(self, key: str, job: dict) -> None:
        self.index[key] = len(self.jobs)
        self.jobs.append(job)

    def result(self, key: str) -> dict:
        return self.results[self.index[key]]


def _prepare(run: Run, kind: str) -> None:
    """The template, the inputs, and a Python twin: the generator pre-filled with the same
    inputs writes Python's figures as the cached values of every formula."""
    form, unit = run.form, UNITS[kind]
    run.templates[kind] = generate_workbook(form, unit, run.root / f"{unit.ma_don_vi}.xlsx",
                                            generated_at=GENERATED_AT)
    run.values[kind] = h.complete_values(form, unit)
    run.rows[kind] = {t.name: h.table_rows(form, t.name, ROWS[t.name]) for t in form.tables_for(kind)}
    run.twins[kind] = generate_workbook(
        form, unit, run.root / f"python_{kind}.xlsx", generated_at=GENERATED_AT,
        values=run.values[kind],
        table_rows={t: h.rows_as_dicts(form, t, rs) for t, rs in run.rows[kind].items()})


def _filled_job(run: Run, kind: str) -> dict:
    return {
        "open": str(run.templates[kind]),
        "set_names": {k: h.to_job_value(v) for k, v in run.values[kind].items()},
        "set_table_rows": {t: [[h.to_job_value(v) for v in r] for r in rs]
                           for t, rs in run.rows[kind].items()},
        "read_names": [f.id for f in run.form.formula_fields(kind)],
        "read_cells": _check_cells(run.form, kind),
        "save_xlsx": str(run.root / f"filled_{kind}.xlsx"),
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    h.require_libreoffice()
    run = Run(tmp_path_factory.mktemp("real_client"))
    for kind in KINDS:
        _prepare(run, kind)
        run.add(f"filled_{kind}", _filled_job(run, kind))
        run.add(f"empty_{kind}", {"open": str(run.templates[kind]),
                                  "read_cells": _check_cells(run.form, kind)})
    run.add("pdf", {"open": str(run.templates["HCSN"]), "save_pdf": str(run.root / "HCSN.pdf")})
    run.add("bad_name", {"open": str(run.templates["DN"]), "set_names": {"khong_co_ten_nay": 1}})
    run.results = libreoffice.run_jobs(run.jobs)
    return run


def _saved(run: Run, kind: str, data_only: bool = False):
    result = run.result(f"filled_{kind}")
    assert result["ok"], result["error"]
    return h.load(run.root / f"filled_{kind}.xlsx", data_only=data_only)


# ---------------------------------------------------------------- the bridge itself


def test_every_job_ran_and_a_bad_job_is_reported_without_stopping_the_others(run):
    for key in run.index:
        if key != "bad_name":
            assert run.result(key)["ok"], (key, run.result(key)["error"])
    bad = run.result("bad_name")
    assert bad["ok"] is False and "khong_co_ten_nay" in bad["error"]


def test_soffice_ended_and_its_throw_away_profile_is_gone(run):
    assert libreoffice.last_sessions, "run_jobs started no soffice"
    for session in libreoffice.last_sessions:
        assert session["returncode"] is not None, "soffice still running"
        assert not Path(session["profile"]).exists()


# ---------------------------------------------------------------- the file LibreOffice saved


@pytest.mark.parametrize("kind", KINDS)
def test_saved_file_keeps_every_defined_name(run, kind):
    before = set(h.load(run.templates[kind]).defined_names)
    after = set(_saved(run, kind).defined_names)
    assert before - after == set()
    assert {f.id for f in run.form.fields_for(kind)} <= after


@pytest.mark.parametrize("kind", KINDS)
def test_saved_file_keeps_one_validation_per_input_cell(run, kind):
    wb = _saved(run, kind)
    before, after = h.validation_counts(h.load(run.templates[kind])), h.validation_counts(wb)
    cells = h.input_cells(wb, run.form, kind)
    assert {k: after[c] for k, c in cells.items() if after[c] != 1} == {}
    assert {k: (before[c], after[c]) for k, c in cells.items() if before[c] != after[c]} == {}


@pytest.mark.parametrize("kind", KINDS)
def test_saved_file_keeps_sheet_protection(run, kind):
    before = {ws.title: ws.protection.sheet for ws in h.load(run.templates[kind]).worksheets}
    after = {ws.title: ws.protection.sheet for ws in _saved(run, kind).worksheets}
    assert all(before.values())
    assert after == before


@pytest.mark.parametrize("kind", KINDS)
def test_saved_file_keeps_its_metadata_and_valid_tag(run, kind):
    wb = _saved(run, kind)
    assert wb[metadata.META_SHEET].sheet_state in ("hidden", "veryHidden")
    props = {k[len(metadata.PROP_PREFIX):]: v for k, v in h.custom_props(wb).items()
             if k.startswith(metadata.PROP_PREFIX)}
    assert set(metadata.KEYS) <= set(props)
    assert props["ma_don_vi"] == UNITS[kind].ma_don_vi and metadata.tag_matches(props)
    assert props["integrity_tag"] in h.meta_sheet_values(wb[metadata.META_SHEET]).values()


@pytest.mark.parametrize("kind", KINDS)
def test_values_typed_through_uno_read_back_with_their_types(run, kind):
    wb = _saved(run, kind)
    wrong = {}
    for fid, value in run.values[kind].items():
        got = h.name_cell(wb, fid).value
        if isinstance(value, dt.date):
            ok = isinstance(got, dt.datetime) and got.date() == value
        else:
            ok = got == value and type(got) is type(value)
        if not ok:
            wrong[fid] = (got, value)
    assert wrong == {}


# ---------------------------------------------------------------- same figures in both places


def _same(lo, python) -> bool:
    if python is None or python == "":
        return lo in (None, "")  # a blank rate: "" from the formula
    if isinstance(python, str):
        return lo == python
    return h.same_number(lo, python)


@pytest.mark.parametrize("kind", KINDS)
def test_every_rate_sum_count_libreoffice_computes_equals_python(run, kind):
    counts = {t: len(r) for t, r in run.rows[kind].items()}
    expected = formulas.compute_derived(run.form, kind, run.values[kind], counts)
    got = run.result(f"filled_{kind}")["values"]
    assert {f: (got.get(f), v) for f, v in expected.items() if not _same(got.get(f), v)} == {}
    assert any(v is None for v in expected.values()), "the data should include a 0 denominator"
    assert any(isinstance(v, float) and 0 < v < 1 for v in expected.values())


@pytest.mark.parametrize("kind", KINDS)
def test_cached_values_in_the_saved_file_match_python(run, kind):
    """What a reader sees without recalculating is LibreOffice's fresh result, not a stale one."""
    wb, twin = _saved(run, kind, data_only=True), h.load(run.twins[kind], data_only=True)
    fids = [f.id for f in run.form.formula_fields(kind)]
    assert {f: (h.name_cell(wb, f).value, h.name_cell(twin, f).value) for f in fids
            if not _same(h.name_cell(wb, f).value, h.name_cell(twin, f).value)} == {}


@pytest.mark.parametrize("kind", KINDS)
def test_check_sheet_agrees_with_python_and_turns_ok_when_complete(run, kind):
    twin = h.load(run.twins[kind], data_only=True)
    template = h.load(run.templates[kind], data_only=True)
    for key, python_wb in ((f"filled_{kind}", twin), (f"empty_{kind}", template)):
        got = {k: v for k, v in run.result(key)["values"].items() if "!" in k}
        want = {k: python_wb[k.split("!")[0]][k.split("!")[1]].value for k in got}
        assert {k: (got[k], want[k]) for k in got if not _same(got[k], want[k])} == {}, key
    overall = f"{CHECK_SHEET}!{a1(CHECK_OVERALL_ROW, 0)}"
    assert run.result(f"empty_{kind}")["values"][overall].startswith(guide.OVERALL_BAD_PREFIX)
    assert run.result(f"filled_{kind}")["values"][overall] == guide.OVERALL_OK_TEXT


# ---------------------------------------------------------------- printing


def test_libreoffice_prints_a_template_to_pdf(run):
    data = (run.root / "HCSN.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert h.pdf_pages(data) >= 2
