"""No module of the package knows a campaign: no string in its code is a field id,
table id, column id, sheet id, unit type or option of a bundled form (they all come from the
spec). The units list's own columns and the yes/no list's name are the form language's."""
import ast
from pathlib import Path

import pytest

from qcdc_xl.form.bundled import forms_dir
from qcdc_xl.form.report_spec import UNIT_COLUMNS
from qcdc_xl.form.spec import NO, YES, YESNO_LIST, load_form

PACKAGE = Path(__file__).resolve().parent.parent / "qcdc_xl"
MODULES = sorted(PACKAGE.rglob("*.py"))
# The form language's own words: the units list's columns, the yes/no list and its answers,
# and the guide and check sheets' names (which forms also have as options: a document type
# «Hướng dẫn», kl120_tk's form of inspection «Kiểm tra»).
LANGUAGE = set(UNIT_COLUMNS) | {YESNO_LIST, YES, NO, "Hướng dẫn", "Kiểm tra"}


def _facts() -> set:
    facts = set()
    for path in sorted(forms_dir().glob("*.yaml")):
        f = load_form(path)
        facts |= set(f.fields) | set(f.tables) | set(f.unit_types) | set(f.option_lists)
        facts |= {c.id for t in f.tables.values() for c in t.columns}
        facts |= {s.id for s in f.sheets} | {se.id for s in f.sheets for se in s.sections}
        facts |= {o for options in f.option_lists.values() for o in options}
    return facts - LANGUAGE


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_names_no_fact_of_a_bundled_form(module):
    facts = _facts()
    assert len(facts) > 100
    found = [(node.lineno, node.value) for node in ast.walk(ast.parse(module.read_text("utf-8")))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and node.value in facts]
    assert found == []
