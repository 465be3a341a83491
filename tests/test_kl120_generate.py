"""kl120_tk templates: each unit type gets exactly its sections, and every template is valid for Excel.

The sections per type are those of shared/spec/kl120-form.md ("Units and unit types"), written
here from that page, not from the spec file: HUYEN A B C E F G H I, DANG_UY A C, KHOI A C I,
SO_NGANH F G H, MTTQ_DT D, TINH B C. A template shows a section by its heading ("A. …", and
its parts "A1. …") on «Phụ lục 2»; the cells by level and by year follow the same page (e.g.
only a sở has ``hs_dung_han_tinh``, only a huyện ``hs_dung_han_xa``). The checks are those of
tests/test_excel_validity.py: the Open XML SDK validator (also against Excel 2007),
openxml-audit and tests/xlsx_lint.py, with nothing allowed.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from ooxml import ooxml_findings, require_sdk_validator, sdk_findings_many
from qcdc_xl.template.generate import generate_all
from qcdc_xl.form.spec import load_form
from qcdc_xl.intake.units import load_units
from xlsx_lint import lint_xlsx

ROOT = Path(__file__).resolve().parent.parent
FORM = ROOT / "workbook_templates" / "kl120_tk.yaml"
UNITS = ROOT / "samples" / "kl120_tk" / "don_vi.csv"
GENERATED_AT = dt.datetime(2021, 5, 10, 8, 0)

SECTIONS = {"HUYEN": "ABCEFGHI", "DANG_UY": "AC", "KHOI": "ACI", "SO_NGANH": "FGH", "MTTQ_DT": "D", "TINH": "BC"}
TABLES = {t: {"tbl_van_ban", "tbl_mo_hinh", "tbl_kt_gs"} for t in SECTIONS}
TABLES["TINH"] = {"tbl_van_ban", "tbl_mo_hinh", "tbl_kt_gs", "tbl_tap_huan"}
# Cells that exist only for some types (kl120-form.md: suffix by level, years, "TINH, optional").
ONLY = {
    "hs_dung_han_tinh": {"SO_NGANH"}, "hs_dung_han_huyen": {"HUYEN"}, "hs_dung_han_xa": {"HUYEN"},
    "tcd_bt_tinh_2019": {"TINH"}, "tcd_bt_huyen_2020": {"HUYEN"}, "tcd_bt_xa_2016": {"HUYEN"},
    "dt_dan_tinh": {"TINH"}, "dt_dan_xa": {"HUYEN"}, "gs_cuoc_huyen": {"MTTQ_DT"},
    "kt_ct14_to_chuc": {"TINH"}, "kt_so_to": {"TINH", "HUYEN", "DANG_UY", "KHOI"},
    "xl_bcd_2018": {"HUYEN", "DANG_UY", "KHOI"}, "tthc_khac": {"SO_NGANH"}, "ttnd_ke_hoach": {"SO_NGANH"},
    "hnccc_da_2017": {"SO_NGANH", "HUYEN"}, "hnnld_da_nn_2020": {"KHOI", "HUYEN"},
    "dn_thoa_uoc": {"KHOI", "HUYEN"}, "ntm_huyen_dat": {"HUYEN"}, "gs_kien_nghi_gq": {"MTTQ_DT"},
    "ngay_lap": set(SECTIONS),
}
HEADING = re.compile(r"^([A-I])\d*\. ")


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict:
    """One template per unit type, for the first unit of that type in the sample province."""
    form = load_form(FORM)
    units = load_units(UNITS, form)
    first = {}
    for u in units:
        first.setdefault(u.loai_hinh, u)
    assert set(first) == set(SECTIONS)
    paths, _zip = generate_all(form, list(first.values()), tmp_path_factory.mktemp("kl120_tpl"),
                               generated_at=GENERATED_AT)
    return {u.loai_hinh: p for u, p in zip(first.values(), paths)}


def headings(ws) -> str:
    letters = {m.group(1) for row in ws.iter_rows(values_only=True) for v in row
               if isinstance(v, str) and (m := HEADING.match(v.strip()))}
    return "".join(sorted(letters))


@pytest.mark.parametrize("loai", list(SECTIONS))
def test_each_type_gets_exactly_its_sections_tables_and_cells(templates, loai):
    wb = openpyxl.load_workbook(templates[loai])
    names = set(wb.defined_names)  # workbook-scoped: one per field id
    sheets = {ws.title for ws in wb.worksheets}
    assert {"Thông tin chung", "Phụ lục 1", "Phụ lục 3"} <= sheets
    assert headings(wb["Phụ lục 2"]) == SECTIONS[loai]
    assert {t for ws in wb.worksheets for t in ws.tables} == TABLES[loai]
    for cell, types in ONLY.items():
        assert (cell in names) == (loai in types), cell


@pytest.fixture(scope="module")
def sdk(templates) -> dict:
    command = require_sdk_validator()
    return sdk_findings_many(list(templates.values()), command)


@pytest.fixture(scope="module")
def sdk_2007(templates) -> dict:
    command = require_sdk_validator()
    return sdk_findings_many(list(templates.values()), command, "Office2007")


@pytest.mark.parametrize("loai", list(SECTIONS))
def test_every_template_passes_excel_s_own_validator(templates, sdk, sdk_2007, loai):
    assert sdk[templates[loai]] == [] and sdk_2007[templates[loai]] == []


@pytest.mark.parametrize("loai", list(SECTIONS))
def test_every_template_passes_openxml_audit_and_our_lint(templates, loai):
    assert ooxml_findings(templates[loai]) == []
    assert lint_xlsx(templates[loai]) == []


def _label_of(wb, name: str) -> str:
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    ws = wb[sheet]
    return ws.cell(row=ws[ref.replace("$", "")].row, column=2).value


def test_a_row_required_only_from_a_year_says_so(templates):
    """kl120's «Bí thư … tiếp công dân» rows are required from 2019 (Quy định 11-QĐi/TW): the label
    says «* (từ 2019)», the guide explains it, and a template without such a row does not."""
    wb = openpyxl.load_workbook(templates["HUYEN"])
    assert _label_of(wb, "tcd_bt_huyen_2019").endswith(" * (từ 2019)")
    guide = [v for row in wb["Hướng dẫn"].iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert any(v.startswith("Dấu * (từ 2019) sau tên chỉ tiêu") for v in guide)
    other = openpyxl.load_workbook(templates["DANG_UY"])
    assert not any("Dấu * (từ" in v for row in other["Hướng dẫn"].iter_rows(values_only=True)
                   for v in row if isinstance(v, str))
    required_every_year = [n for n in other.defined_names if n.startswith("xl_bcd_")]
    assert required_every_year and not _label_of(other, required_every_year[0]).endswith(")")
