"""Each rule of our Excel lint fires on a file that breaks it, and a generated template is clean.

Every bad file is a generated template with one part edited the way a faulty writer would
write it, so each test shows that its rule alone catches the fault.
"""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from xlsx_lint import lint_xlsx

SHEET_INFO = "xl/worksheets/sheet2.xml"  # «Thông tin chung»: validations, merges, formats
SHEET_PL1 = "xl/worksheets/sheet3.xml"   # «Phụ lục 1»: the documents table
TABLE_1 = "xl/tables/table1.xml"
WORKBOOK = "xl/workbook.xml"


def edited(path, part: str, edit) -> bytes:
    """The file's bytes with ``part`` replaced by ``edit(text)`` (which must change it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                text = data.decode("utf-8")
                new = edit(text)
                assert new != text, f"the edit did not change {part}"
                data = new.encode("utf-8")
            zout.writestr(info, data)
    return out.getvalue()


def with_parts(path, extra: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        for name, text in extra.items():
            zout.writestr(name, text.encode("utf-8"))
    return out.getvalue()


def once(pattern: str, repl: str):
    """An edit replacing the first match of ``pattern``."""
    return lambda text: re.sub(pattern, repl, text, count=1)


def rules(findings: list[str]) -> set[str]:
    return {f.split(":", 1)[0] for f in findings}


@pytest.mark.parametrize("kind", ["HCSN", "DN"])
def test_generated_template_is_clean(templates, kind):
    assert lint_xlsx(templates[kind]) == []


@pytest.mark.parametrize("edit,words", [
    (once(r'name="Hướng dẫn"', 'name="' + "H" * 32 + '"'), "length 32"),
    (once(r'name="Hướng dẫn"', 'name="Hướng/dẫn"'), "forbidden"),
    (once(r'name="Hướng dẫn"', "name=\"'Hướng dẫn\""), "apostrophe"),
    (once(r'name="Hướng dẫn"', 'name="history"'), "reserved"),
    (once(r'name="Hướng dẫn"', 'name="KIỂM TRA"'), "twice"),
])
def test_sheet_name_rule(templates, edit, words):
    found = lint_xlsx(edited(templates["HCSN"], WORKBOOK, edit))
    assert rules(found) == {"sheet_name"} and words in " ".join(found), found


def test_every_sheet_hidden(templates):
    found = lint_xlsx(edited(templates["HCSN"], WORKBOOK,
                             lambda t: re.sub(r'(<sheet name="[^"]*" sheetId="\d+")( r:id)',
                                              r'\1 state="hidden"\2', t)))
    assert "sheet_visibility: xl/workbook.xml: every sheet is hidden" in found


def test_active_tab_on_a_hidden_sheet(templates):
    found = lint_xlsx(edited(templates["HCSN"], WORKBOOK, once(r"<workbookView ", '<workbookView activeTab="5" ')))
    assert found == ["sheet_visibility: xl/workbook.xml: activeTab 5 is '_qcdc_lists', which is hidden"]


@pytest.mark.parametrize("bad,words", [
    ("kh oi", "illegal"), ("1khoi", "illegal"), ("khoi-2", "illegal"),
    ("AB12", "cell reference"), ("R1C1", "cell reference"), ("r", "cell reference"),
    ("x" * 256, "length 256"), ("KHOI_DN", None),
])
def test_defined_name_rule(templates, bad, words):
    found = lint_xlsx(edited(templates["HCSN"], WORKBOOK, once(r'definedName name="khoi"', f'definedName name="{bad}"')))
    if words is None:  # a legal name, unique: still clean
        assert found == []
    else:
        assert rules(found) == {"defined_name"} and words in " ".join(found), found


def test_defined_name_twice_in_one_scope(templates):
    found = lint_xlsx(edited(templates["HCSN"], WORKBOOK,
                             once(r"(<definedName name=\"khoi\">[^<]*</definedName>)", r'\1<definedName name="KHOI">$A$1</definedName>')))
    assert found == ["defined_name: xl/workbook.xml: 'khoi' defined 2 times in scope workbook"]


def test_table_header_text_differs_from_its_column_name(templates):
    found = lint_xlsx(edited(templates["HCSN"], TABLE_1, once(r'name="Ghi chú"', 'name="Ghi chu"')))
    assert found == ["table: xl/tables/table1.xml: header cell (row 7, column 7) is 'Ghi chú', "
                     "its tableColumn is 'Ghi chu'"]


def test_table_ref_wider_than_its_columns(templates):
    found = lint_xlsx(edited(templates["HCSN"], TABLE_1, lambda t: t.replace(":G207", ":H207")))
    assert "table: xl/tables/table1.xml: ref A7:H207 is 8 columns wide, 7 tableColumn" in found


def test_table_column_named_twice_and_filter_off_the_table(templates):
    def edit(t):
        t = t.replace('name="Ghi chú"', 'name="TT"')
        return t.replace('<autoFilter ref="A7:G207"/>', '<autoFilter ref="A7:G20"/>')
    found = " ".join(lint_xlsx(edited(templates["HCSN"], TABLE_1, edit)))
    assert "column name 'tt' used 2 times" in found and "autoFilter ref A7:G20" in found


def test_formula_over_8192_characters(templates):
    long = "+".join(["1"] * 4097)  # 8193 characters
    found = lint_xlsx(edited(templates["HCSN"], SHEET_PL1, once(r"<f>[^<]*</f>", f"<f>{long}</f>")))
    assert rules(found) == {"formula_length"} and "8193 characters > 8192" in found[0], found


@pytest.mark.parametrize("edit,words", [
    (once(r"<formula1>[^<]*</formula1>", "<formula1>" + "+".join(["1"] * 129) + "</formula1>"), "formula1 257"),
    (once(r'(type="list"[^>]*><formula1>)[^<]*', r'\1"' + ",".join(["ab"] * 86) + '"'), "list literal 257"),
    (once(r'promptTitle="[^"]*"', 'promptTitle="' + "T" * 33 + '"'), "promptTitle 33"),
    (once(r'errorTitle="[^"]*"', 'errorTitle="' + "T" * 33 + '"'), "errorTitle 33"),
    (once(r'prompt="[^"]*"', 'prompt="' + "P" * 256 + '"'), "prompt 256"),
    (once(r' error="[^"]*"', ' error="' + "E" * 256 + '"'), "error 256"),
])
def test_validation_rule(templates, edit, words):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO, edit))
    assert rules(found) == {"validation"} and words in " ".join(found), found


def test_a_formula_of_255_characters_is_still_fine(templates):
    edit = once(r"<formula1>[^<]*</formula1>", "<formula1>" + "+".join(["1"] * 128) + "</formula1>")  # 255
    assert lint_xlsx(edited(templates["HCSN"], SHEET_INFO, edit)) == []


def test_a_cell_under_two_validations(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO, once(r'(<dataValidation [^>]*)sqref="C16"', r'\1sqref="C15:C16"')))
    assert found == ["validation: xl/worksheets/sheet2.xml: C15 and C15:C16 validate the same cells"]


def test_rows_out_of_order(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO, once(r'<row r="2"', '<row r="1"')))
    assert any(f.startswith("cell_order: xl/worksheets/sheet2.xml: row 1 after row 1") for f in found), found


def test_a_cell_twice_in_its_row(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO,
                             once(r'(<c r="A1"[^>]*?(/>|>.*?</c>))', r"\1\1")))
    assert any("cell A1 after column 1" in f for f in found), found


def test_cell_in_the_wrong_row(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO, once(r'<c r="A1"', '<c r="A9"')))
    assert "cell_order: xl/worksheets/sheet2.xml: cell A9 inside row 1" in found


def test_dxf_id_out_of_range(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO, once(r'dxfId="\d+"', 'dxfId="4"')))
    assert found == ["style_index: xl/worksheets/sheet2.xml: conditional format dxfId 4 but 4 dxfs"]


def test_cell_style_out_of_range(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO, once(r'(<c r="A1"[^>]*?) s="\d+"', r'\1 s="999"')))
    assert rules(found) == {"style_index"} and "A1 style 999" in found[0], found


_VML = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">'
        '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{block}"/></o:shapelayout>'
        '<v:shape id="_x0000_s{shape}" type="#_x0000_t202"/></xml>')


def test_same_vml_idmap_in_two_parts(templates):
    found = lint_xlsx(with_parts(templates["HCSN"], {
        "xl/drawings/commentsDrawing1.vml": _VML.format(block=1, shape=1025),
        "xl/drawings/commentsDrawing2.vml": _VML.format(block=1, shape=1025)}))
    assert found == [
        "vml: xl/drawings/commentsDrawing2.vml: o:idmap block 1 already used by xl/drawings/commentsDrawing1.vml",
        "vml: xl/drawings/commentsDrawing2.vml: shape id _x0000_s1025 already used by xl/drawings/commentsDrawing1.vml"]


def test_distinct_vml_blocks_are_fine(templates):
    assert lint_xlsx(with_parts(templates["HCSN"], {
        "xl/drawings/commentsDrawing1.vml": _VML.format(block=1, shape=1025),
        "xl/drawings/commentsDrawing2.vml": _VML.format(block=2, shape=2049)})) == []


def test_overlapping_merges(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO,
                             once(r'<mergeCell ref="A1:D1"/>', '<mergeCell ref="A1:D1"/><mergeCell ref="C1:E1"/>')))
    assert found == ["merge: xl/worksheets/sheet2.xml: A1:D1 overlaps C1:E1"]


def test_table_over_a_merged_range(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_PL1, once(r"<mergeCell ", '<mergeCell ref="B9:C9"/><mergeCell ')))
    assert found == ["table: xl/worksheets/sheet3.xml: table A7:G207 overlaps merge B9:C9"]


@pytest.mark.parametrize("edit,words", [
    (once(r'(<cellXfs[^>]*><xf [^>]*?)fontId="\d+"', r'\1fontId="99"'), "cellXfs xf 0 fontId 99"),
    (once(r'(<cellXfs[^>]*><xf [^>]*?)borderId="\d+"', r'\1borderId="99"'), "cellXfs xf 0 borderId 99"),
    (once(r'(<cellXfs[^>]*><xf [^>]*?)numFmtId="\d+"', r'\1numFmtId="200"'), "numFmtId 200 is not declared"),
])
def test_cell_format_pointing_at_nothing(templates, edit, words):
    found = lint_xlsx(edited(templates["HCSN"], "xl/styles.xml", edit))
    assert rules(found) == {"style_index"} and words in " ".join(found), found


def test_column_style_out_of_range(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO, once(r"<col ", '<col style="999" ')))
    assert rules(found) == {"style_index"} and "style 999" in found[0], found


def test_shared_string_index_out_of_range(templates):
    found = lint_xlsx(edited(templates["HCSN"], SHEET_INFO, once(r'(<c r="A1"[^>]*t="s"[^>]*><v>)\d+', r"\g<1>99999")))
    assert rules(found) == {"shared_string"} and "'99999'" in found[0], found
