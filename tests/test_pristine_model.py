"""The reader knows a pristine template from the content model, not by generating one.

``pristine._build`` describes a unit type's template from ``template.content`` (the model the
generator writes every cell from). The oracle is ``pristine.describe`` of a template really
generated for the same stand-in unit and read back, both by the fast reader and by openpyxl:
the two descriptions must be equal field by field, for both bundled forms and every unit
type, and for the inline form of test_form_language (levels, attributes, groups)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from test_form_language import FORM as INLINE_FORM
from qcdc_xl.form.spec import load_form, load_form_text
from qcdc_xl.intake import pristine as P
from qcdc_xl.intake.fastread import open_fast
from qcdc_xl.intake.read import load_quietly
from qcdc_xl.intake.units import Unit
from qcdc_xl.template.generate import generate_workbook

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qcdc_xl"
FORMS = {"nq02_sk5": lambda: load_form(ROOT / "workbook_templates" / "nq02_sk5.yaml"),
         "kl120_tk": lambda: load_form(ROOT / "workbook_templates" / "kl120_tk.yaml"),
         "inline": lambda: load_form_text(INLINE_FORM)}
_LOADED: dict = {}
BOOK_FIELDS = ("protected", "tt_formulas", "formulas", "field_sheets", "table_sheets")
SHEET_FIELDS = ("cells", "patterns", "inputs", "formula_cells", "signatures", "anchors", "tt_cells")


def _form(key: str):
    if key not in _LOADED:
        _LOADED[key] = FORMS[key]()
    return _LOADED[key]


def _cases() -> list:
    return [(key, t) for key in FORMS for t in _form(key).unit_types]


def differences(model: P.Pristine, ref: P.Pristine) -> list:
    """Every field where the two descriptions differ, said briefly."""
    out = [f"{f}: model {getattr(model, f)!r:.300} / file {getattr(ref, f)!r:.300}"
           for f in BOOK_FIELDS if getattr(model, f) != getattr(ref, f)]
    if list(model.sheets) != list(ref.sheets):
        out.append(f"sheets: model {list(model.sheets)} / file {list(ref.sheets)}")
    for name, page in ref.sheets.items():
        mine = model.sheets.get(name, P.PristineSheet(name))
        for f in SHEET_FIELDS:
            a, b = getattr(mine, f), getattr(page, f)
            if a == b:
                continue
            if isinstance(a, dict):
                what = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
            elif isinstance(a, set):
                what = (sorted(a - b)[:5], sorted(b - a)[:5])
            else:
                what = [pair for pair in zip(a, b) if pair[0] != pair[1]][:3] or (len(a), len(b))
            out.append(f"{name}.{f}: {what!r:.400}")
    return out


def _stand_in_template(form, loai_hinh: str, folder: Path) -> Path:
    unit = Unit(P.SENTINEL_CODE, P.SENTINEL_NAME, loai_hinh)
    return generate_workbook(form, unit, folder / P.SENTINEL_FILE)


@pytest.mark.parametrize("key,loai_hinh", _cases())
def test_the_model_describes_the_generated_template(key, loai_hinh, tmp_path):
    form = _form(key)
    model = P._build(form, loai_hinh)
    path = _stand_in_template(form, loai_hinh, tmp_path)
    for reader, wb in (("fast", open_fast(path.read_bytes()).wb), ("openpyxl", load_quietly(path))):
        ref = P.describe(wb, form)
        assert not differences(model, ref), (reader, differences(model, ref))
    # not equal by being empty: the template's texts, formulas, inputs and unit texts are there
    pages = model.sheets.values()
    assert all(model.protected.values()) and len(model.protected) == len(model.sheets) >= 5
    assert sum(len(p.cells) for p in pages) > 100 and sum(len(p.formula_cells) for p in pages) > 5
    assert sum(len(p.patterns) for p in pages) >= 3 and sum(len(p.inputs) for p in pages) > 10
    assert model.field_sheets and model.formulas


def test_the_model_fits_a_real_units_template(tmp_path):
    """A real unit's template, read back, holds what the stand-in model says, each text that
    names the unit matching its pattern with the unit's own code and name put in."""
    form = _form("kl120_tk")
    unit = Unit("HU_BB", "Huyện ủy Bắc Bình", "HUYEN")
    path = generate_workbook(form, unit, tmp_path / "HU_BB_huyen_uy_bac_binh.xlsx")
    real = P.describe(open_fast(path.read_bytes()).wb, form)
    model = P._build(form, "HUYEN")
    identity = {"ma_don_vi": ["HU_BB"], "ten_don_vi": ["Huyện ủy Bắc Bình"]}
    matched = 0
    for name, page in model.sheets.items():
        theirs = real.sheets[name]
        assert {k: v for k, v in theirs.cells.items() if k not in page.patterns} == page.cells, name
        for where, text in page.patterns.items():
            kind, value = theirs.cells[where]
            assert kind == "s" and P.IdentityMatcher(text, identity).fullmatch(value), (name, where, value)
            matched += 1
    assert matched >= 5


def test_the_reader_never_generates_a_template(monkeypatch):
    """Building a description with the generator out of order works: it is not called."""
    from qcdc_xl.template import generate

    def refuse(*args, **kwargs):
        raise AssertionError("the reader called the generator")

    monkeypatch.setattr(generate, "generate_workbook", refuse)
    monkeypatch.setattr(generate, "_write", refuse)
    monkeypatch.setattr(P, "_CACHE", {})
    form = _form("nq02_sk5")
    assert P.pristine(form, "HCSN") is not None and P.pristine(form, "HCSN").sheets


def _imports(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_no_reader_module_imports_the_generator():
    for path in sorted((PACKAGE / "intake").glob("*.py")):
        found = {n for n in _imports(path) if n.startswith("qcdc_xl.template.generate")
                 or n.startswith("qcdc_xl.template.stamp") or n.split(".")[0] == "xlsxwriter"}
        assert not found, (path.name, found)


def test_the_content_model_is_pure_data():
    found = {n for n in _imports(PACKAGE / "template" / "content.py")
             if n.split(".")[0] in ("xlsxwriter", "openpyxl") or n.startswith("qcdc_xl.template.generate")}
    assert not found
