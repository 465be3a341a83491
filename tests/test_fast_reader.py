"""The fast reader (qcdc_xl.intake.fastread) gives what the thorough one (openpyxl) gives.

Each file of the corpus is read both ways: the LibreOffice-made samples, the hostile corpus
(hostile.py's builders, on a sample), a slice of the fuzzer's mutants (in a child process:
a mutant may abort a native library) and targeted edits of the constructs the fast scanner
handles itself (shared and array formulas, inline and rich strings, dates, booleans,
errors). What is compared is everything the reader hands on (the RawReturn, types
included: 5 and 5.0 are not the same reading) and the checked result (issues as flat
tuples, values, tables). A file the fast path refuses is read the thorough way, so it is
equal by construction; the tests also count how many the fast path took, so that they do
not pass by refusing everything.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fuzz
import hostile as h
from qcdc_xl.intake import screen
from qcdc_xl.validate.check import check_return
from qcdc_xl.intake.fastread import NotFast, _unescape
from qcdc_xl.intake.read import read_return
from qcdc_xl.intake.units import load_units

SAMPLES = sorted(fuzz.SAMPLES.glob("*.xlsx"))
# the units list beside the samples (the installed package's may be another checkout's)
UNITS = {u.ma_don_vi: u for u in load_units(fuzz.SAMPLES.parent / "don_vi.csv")}
FUZZ_MUTANTS = 50  # ~30 s; benchmarks/fuzz_long.py-sized runs go through the same code


# ---------------------------------------------------------------- comparing


def same(a, b, where="") -> list[str]:
    """Where ``a`` and ``b`` differ, types included (True is not 1, 5 is not 5.0)."""
    if type(a) is not type(b):
        return [f"{where}: {type(a).__name__} {a!r:.80} != {type(b).__name__} {b!r:.80}"]
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)[:8]} != {list(b)[:8]}"]
        return [d for k in a for d in same(a[k], b[k], f"{where}[{k!r}]")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in same(x, y, f"{where}[{i}]")]
    if hasattr(a, "__dataclass_fields__"):
        return [d for k in a.__dataclass_fields__ for d in same(getattr(a, k), getattr(b, k), f"{where}.{k}")]
    if isinstance(a, float) and a != a and b != b:
        return []  # NaN
    if hasattr(a, "text") and hasattr(a, "ref"):  # openpyxl's ArrayFormula
        return same((a.ref, a.text), (b.ref, b.text), where)
    return [] if a == b else [f"{where}: {a!r:.120} != {b!r:.120}"]


def flat(result) -> dict:
    """A checked result as the report shows it."""
    if isinstance(result, list):
        return {"issues": [tuple(i.to_dict().items()) for i in result]}
    return {"issues": [tuple(i.to_dict().items()) for i in result.issues], "values": result.values,
            "tables": result.tables, "status": result.status, "saved_at": result.saved_at}


def checked(raw, form):
    if any(i.code in ("unreadable_file", "encrypted_file") for i in raw.issues):
        return list(raw.issues)
    return check_return(form, raw, UNITS)


def compare(path: Path, form) -> bool:
    """Assert both readings agree; whether the fast path took the file."""
    thorough = read_return(path, path.name, form, reader="openpyxl")
    try:
        fast, took = read_return(path, path.name, form, reader="fast"), True
    except NotFast:
        fast, took = read_return(path, path.name, form), False  # auto: the fallback
    differences = same(thorough, fast, "raw")
    differences += same(flat(checked(thorough, form)), flat(checked(fast, form)), "checked")
    assert not differences, f"{path.name}:\n" + "\n".join(differences[:20])
    return took


# ---------------------------------------------------------------- the corpus


def test_samples_read_the_same_and_all_fast(form):
    took = [compare(path, form) for path in SAMPLES[::4]]
    assert all(took), f"{took.count(False)} samples refused by the fast path"


HOSTILE = [h.no_content_types, h.no_workbook, h.sheet_part_missing, h.huge_dimension, h.far_cell,
           h.styled_rows_below_limit, h.bad_utf8, h.odd_defined_names, h.bad_table_ref,
           h.huge_table_ref, h.garbage_meta, h.props_wrong_types, h.with_vba, h.truncated]


@pytest.mark.parametrize("build", HOSTILE, ids=lambda f: f.__name__)
def test_hostile_files_read_the_same(build, form, tmp_path):
    good = SAMPLES[0].read_bytes()
    path = build(good, tmp_path / f"{build.__name__}.xlsx")
    compare(Path(path), form)


_CHILD = """
import json, sys, tempfile
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
import fuzz, test_fast_reader as t
from qcdc_xl.form.spec import load_form
form = load_form()
seeds = [fuzz.load_seed(fuzz.SAMPLES / n, form) for n in fuzz.SEEDS]
tmp, out = Path(tempfile.mkdtemp(prefix="qcdc_fast_")), {"fast": 0, "failures": []}
with fuzz.warnings_off():
    for i, m in enumerate(fuzz.mutants(seeds, int(sys.argv[2]), seed=int(sys.argv[3]))):
        path = tmp / f"m{i}.xlsx"
        path.write_bytes(m.data)
        try:
            out["fast"] += t.compare(path, form)
        except AssertionError as exc:
            out["failures"].append(f"{m.kind} {m.detail[:100]}: {str(exc)[:600]}")
        path.unlink()
print(json.dumps(out))
"""


def test_fuzz_mutants_read_the_same():
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", _CHILD, root, str(FUZZ_MUTANTS), "3"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["failures"] == [], "\n".join(out["failures"][:10])
    assert out["fast"] >= FUZZ_MUTANTS // 2  # most mutants are still plain enough to go fast


# ---------------------------------------------------------------- the constructs the scanner reads


def _edit_sheet(tmp_path: Path, name: str, edit, part_of=lambda parts: h.sheet_part(parts, "Thông tin chung")):
    parts = h.members(SAMPLES[0].read_bytes())
    part = part_of(parts)
    parts[part] = edit(parts[part].decode("utf-8")).encode("utf-8")
    return h.write_zip(tmp_path / name, parts)


def _add_row(xml: str, cells: str, row: int = 300) -> str:
    return xml.replace("</sheetData>", f'<row r="{row}">{cells}</row></sheetData>', 1)


EDITS = {
    "shared_formulas": '<c r="A300"><f t="shared" ref="A300:C300" si="7">B1+1</f><v>2</v></c>'
                       '<c r="B300"><f t="shared" si="7"/><v>3</v></c><c r="C300"><f t="shared" si="7"/></c>',
    "array_formula": '<c r="A300"><f t="array" ref="A300">SUM(B1:B2*2)</f><v>4</v></c>',
    "inline_strings": '<c r="A300" t="inlineStr"><is><t xml:space="preserve"> chữ  &amp; &#7908;&#7908;&#7908;&#7908; </t></is></c>'
                      '<c r="B300" t="inlineStr"><is><t/></is></c><c r="C300" t="inlineStr"/>',
    "numbers_and_types": '<c r="A300"><v>5</v></c><c r="B300"><v>5.0</v></c><c r="C300"><v>1E+20</v></c>'
                         '<c r="D300" t="b"><v>1</v></c><c r="E300" t="e"><v>#DIV/0!</v></c>'
                         '<c r="F300" t="str"><v>văn bản</v></c><c r="G300" t="d"><v>2024-03-05T10:20:00</v></c>'
                         '<c r="H300" t="n"><v></v></c><c r="I300" t="s"/><c r="J300"><v> 7 </v></c>',
    "formula_values": '<c r="A300" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="B300" t="b"><f>TRUE()</f><v>1</v></c>'
                      '<c r="C300" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="D300"><f>1+1</f><v>2</v></c>',
}


@pytest.mark.parametrize("kind", EDITS)
def test_cell_constructs_read_the_same_and_fast(kind, form, tmp_path):
    path = _edit_sheet(tmp_path, f"{kind}.xlsx", lambda xml: _add_row(xml, EDITS[kind]))
    assert compare(path, form), "the fast path refused a plain construct"


def test_a_date_styled_number_reads_as_openpyxl_reads_it(form, tmp_path):
    """A number in a cell whose style is a date format is a datetime for openpyxl."""
    parts = h.members(SAMPLES[0].read_bytes())
    styles = parts["xl/styles.xml"].decode()
    count = len(re.findall(r"<xf\b", styles.split("<cellXfs", 1)[1].split("</cellXfs>", 1)[0]))
    styles = re.sub(r'(<cellXfs count=")(\d+)(">)', lambda m: f"{m.group(1)}{count + 1}{m.group(3)}", styles)
    parts["xl/styles.xml"] = styles.replace("</cellXfs>", '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs>').encode()
    sheet = h.sheet_part(parts, "Thông tin chung")
    parts[sheet] = _add_row(parts[sheet].decode(), f'<c r="A300" s="{count}"><v>45000.25</v></c>').encode()
    path = h.write_zip(tmp_path / "date.xlsx", parts)
    assert compare(path, form)


def test_rich_shared_strings_go_through_openpyxl_and_read_the_same(form, tmp_path):
    parts = h.members(SAMPLES[0].read_bytes())
    sst = parts["xl/sharedStrings.xml"].decode()
    rich = '<si><r><rPr><b/><sz val="11"/></rPr><t>đậm</t></r><r><t xml:space="preserve"> thường</t></r></si>'
    parts["xl/sharedStrings.xml"] = sst.replace("</sst>", rich + "</sst>").encode()
    index = sst.count("<si>")
    sheet = h.sheet_part(parts, "Thông tin chung")
    parts[sheet] = _add_row(parts[sheet].decode(), f'<c r="A300" t="s"><v>{index}</v></c>').encode()
    path = h.write_zip(tmp_path / "rich.xlsx", parts)
    assert compare(path, form)


REFUSED = {  # what the thorough reader marks unreadable, or the scanner does not know
    "bad_number": '<c r="A300"><v>1,5</v></c>',
    "nan": '<c r="A300"><v>NaN</v></c>',
    "unknown_type": '<c r="A300" t="x"><v>1</v></c>',
    "prefix": '<x:c r="A300"><x:v>1</x:v></x:c>',
    "comment": '<!-- hi --><c r="A300"><v>1</v></c>',
    "entity": '<c r="A300" t="str"><v>&nbsp;</v></c>',
    "comment_between_rows": '</row><!-- hi --><row r="301"><c r="A301"><v>1</v></c>',
    "cdata": '<c r="A300" t="str"><v><![CDATA[x]]></v></c>',
    "processing_instruction": '<c r="A300"><v>1</v></c><?pi x?>',
}


@pytest.mark.parametrize("kind", REFUSED)
def test_what_the_scanner_refuses_is_read_the_thorough_way(kind, form, tmp_path):
    path = _edit_sheet(tmp_path, f"{kind}.xlsx", lambda xml: _add_row(xml, REFUSED[kind]))
    assert not compare(path, form)


# ---------------------------------------------------------------- the pieces


def test_pristine_description_is_the_same_from_the_fast_reader(form):
    """pristine.describe (what a template holds, cell by cell) of a workbook read the fast
    way equals that of the workbook openpyxl loads: the pristine templates are read so."""
    from qcdc_xl.intake import pristine
    from qcdc_xl.intake.fastread import open_fast
    from qcdc_xl.intake.read import load_quietly

    for path in SAMPLES[:2]:
        thorough = pristine.describe(load_quietly(path), form)
        fast = pristine.describe(open_fast(path.read_bytes()).wb, form)
        assert thorough.sheets and not same(thorough, fast, path.name)


def test_screening_finds_ranges_only_where_their_names_stand():
    """screen._sub_at is re.sub, tried at the keywords only: the same on real parts and on
    random fragments of the constructs it looks for."""
    bodies = [body for path in SAMPLES[:3] for body in h.members(path.read_bytes()).values()]
    rng = random.Random(1)
    pieces = [b'<mergeCell ref="A1:B2"/>', b"<x:mergeCell ref='A1:ZZ9999'>", b"</mergeCell>",
              b'<hyperlink ref="A1"/>', b"<a.b:hyperlink>", b"</x:hyperlink >", b"<:hyperlink/>",
              b'<dataValidation sqref="A1 B!">', b"</dataValidation>", b"mergeCells", b"<<mergeCell/>",
              b'<conditionalFormatting sqref="Q0"/>', b":mergeCell", b"<mergeCellX/>", b"x", b"<", b">",
              b"/", b'"', b"</conditionalFormatting\n>", b"<dataValidation>", b"</y:dataValidation>",
              b'<hyperlink ref="a/>b">', b"</ mergeCell>", b"</mergeCells>"]
    bodies += [b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 30))) for _ in range(4000)]

    def mark(m):
        return b"[" + m.group(0)[:4] + b"]"
    for body in bodies:
        for pattern, words in ((screen._RANGE_ELEMENT, (b"mergeCell", b"hyperlink")),
                               (screen._SQREF_ELEMENT, (b"dataValidation", b"conditionalFormatting"))):
            expected = pattern.sub(mark, body)
            assert screen._sub_at(pattern, words, mark, body) == expected
            assert screen._sub_at(pattern, words, mark, body, screen._element_at) == expected


def test_text_references_resolve_as_an_xml_parser_does():
    assert _unescape("a &amp; b &lt;&gt;&quot;&apos;") == "a & b <>\"'"
    assert _unescape("&#7908;&#x1EE4;&#7908;&#7908;&#65;") == "ỤỤỤỤA"
    assert _unescape("&#128;") == "\x80"  # XML, not HTML's windows-1252 reading
    for bad in ("&nbsp;", "&#0;", "&#0;&#0;&#0;&#0;", "a & b", "&#xD800;"):
        with pytest.raises(NotFast):
            _unescape(bad)


def test_no_saved_time_is_no_saved_time(form, tmp_path):
    """A file without a modified time in its properties has none (openpyxl would make up
    the time of reading, and that file would then be a unit's newest return)."""
    parts = h.members(SAMPLES[0].read_bytes())
    parts["docProps/core.xml"] = re.sub(rb"<dcterms:modified\b.*?</dcterms:modified>", b"",
                                        parts["docProps/core.xml"], flags=re.S)
    path = h.write_zip(tmp_path / "no_time.xlsx", parts)
    for reader in ("openpyxl", "fast"):
        assert read_return(path, path.name, form, reader=reader).saved_at is None
    assert isinstance(read_return(SAMPLES[0], "x", form, reader="fast").saved_at, dt.datetime)


def _tree(element) -> tuple:
    """What the row scan looks at of an element: tag, attributes, text, children."""
    return (element.tag, dict(element.attrib), element.text, [_tree(child) for child in element])


def _plain_tree(row: bytes, prefixes: dict):
    """The plain scanner's tree of a row; None when it hands the row to lxml; "refused"
    when it refuses it as lxml would (NotFast)."""
    from qcdc_xl.intake import fastread

    try:
        found = fastread._plain_pieces(row)
        if found is None:
            return None
        head, cells, self_closing = found
        attrs = fastread._plain_head(head, prefixes, self_closing)
        return ("row", attrs, None, [_tree(fastread._plain_cell(piece, prefixes)) for piece in cells])
    except fastread._NotPlain:
        return None
    except NotFast:
        return "refused"


def test_plain_rows_are_the_tree_lxml_makes_of_them():
    """The rows the plain scanner reads itself (fastread._plain_pieces, _plain_head,
    _plain_cell) are what lxml parses
    them into, tag by tag, attribute by attribute, text by text; a row lxml refuses, the
    scanner refuses too or hands to lxml: over the samples' rows, the constructs above
    and random edits of them."""
    from lxml import etree
    from qcdc_xl.intake import fastread

    ns = {"r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "x14ac": "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"}
    wrapper = "<w" + "".join(f' xmlns:{p}="{u}"' for p, u in ns.items()) + ">"
    prefixes = dict(ns, xml="http://www.w3.org/XML/1998/namespace")
    rows = []
    for path in SAMPLES[:3]:
        for body in h.members(path.read_bytes()).values():
            if b"<sheetData>" in body:
                rows += list(fastread._rows(body.split(b"<sheetData>", 1)[1].split(b"</sheetData>", 1)[0]))
    rows += [f'<row r="300">{cells}</row>'.encode() for cells in list(EDITS.values()) + list(REFUSED.values())]
    rows += [b'<row r="3" x14ac:dyDescent="0.25" spans="1:3"><c r="A3" s="1" t="s"><v>0</v></c></row>',
             b'<row r="4"/>', b'<row r="5" ><c r="A5"\n s="1" /></row>', b'<row r="6"/></row>']
    pieces = [b"&amp;", b"&#13;", b"&#0;", b"&#x1EE4;", b"&bad;", b"&", b"\r", b"\t", b"\n", b" ", b'"', b"'",
              b" x14ac:a=\"1\"", b" q:a=\"1\"", b' s="2"', b' r="A1"', b"<v/>", b"<v>1</v>", b"<f/>",
              b"<is><t/></is>", b"]]>", b">", b"<", b"/", b"</c>", b"<c>", b"\x01", "ụ".encode(), b"\xff",
              b"<t>", b" xml:space=\"preserve\"", b"=", b"<!--x-->", b"<x:c/>", b"</row>", b"<row>"]
    originals = len(rows)
    rng = random.Random(8)
    for _ in range(6000):
        row = bytearray(rng.choice(rows))
        marks = [i for i, byte in enumerate(row) if byte in b'<>"']  # at tags, texts, values
        for _ in range(rng.choice((1, 1, 2))):
            if rng.random() < 0.7:  # inserted before a '>' or a '"'
                at = rng.choice(marks)
                row[at:at] = rng.choice(pieces)
            else:
                at = rng.randrange(len(row) + 1)
                row[at:at + rng.choice((0, 0, 1, 2))] = rng.choice(pieces)
        rows.append(bytes(row))
    parser = fastread._row_parser()
    plain = 0
    for i, row in enumerate(rows):
        mine = _plain_tree(row, prefixes)
        assert mine is not None or i >= originals - 4 - len(REFUSED), row  # the writers' rows: plain
        if mine is None:
            continue
        try:
            parsed = etree.fromstring(wrapper.encode() + row + b"</w>", parser)
            theirs = _tree(parsed[0]) if len(parsed) == 1 else "refused"
        except etree.XMLSyntaxError:
            theirs = "refused"
        if mine != "refused":
            plain += 1
            assert mine == theirs, row
        # a row the scanner refuses is refused by lxml or by _unescape's checks alone
    assert plain - originals >= 100  # edited rows too, not only the writers' own


def test_members_unpack_as_zipfile_unpacks_them():
    """screen.Package unpacks a plain member itself (screen._inflate) and hands any other
    to zipfile: each member of the samples and of damaged copies of them (bytes changed in
    the headers and the packed data) reads as zipfile reads it, or fails as it fails."""
    import io
    import zipfile

    rng = random.Random(5)
    packages = [path.read_bytes() for path in SAMPLES[:3]]
    for _ in range(150):
        data = bytearray(rng.choice(packages[:3]))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        packages.append(bytes(data))
    mine_read = 0
    for data in packages:
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - no directory: nothing to compare
            continue
        package = screen.Package(data)
        for theirs_info, info in zip(z.infolist(), package.infos):
            try:
                theirs = z.read(theirs_info)
            except Exception as exc:  # noqa: BLE001
                theirs = type(exc)
            try:
                mine = package.read(info)
            except Exception as exc:  # noqa: BLE001
                mine = type(exc)
            assert mine == theirs, info.filename
            mine_read += screen._inflate(data, info) is not None
    assert mine_read > 1000  # the plain members are unpacked by _inflate, not zipfile


def test_a_member_that_lies_about_its_size_is_never_inflated_past_it():
    """A member declaring 100 bytes that inflates to 50 MB (a bomb) is not unpacked by
    screen._inflate beyond the declared size: it is handed to zipfile, which reads it, or
    fails, as before."""
    import io
    import tracemalloc
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)
    data = buf.getvalue()
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    assert screen._inflate(data, info) == b"0" * 50_000_000  # told the truth: unpacked here
    info.file_size = 100
    tracemalloc.start()
    try:
        assert screen._inflate(data, info) is None
        assert tracemalloc.get_traced_memory()[1] < 5_000_000
    finally:
        tracemalloc.stop()


def test_footers_of_one_shape_parse_alike():
    """fastread remembers whether openpyxl takes a sheet's header and footer by their shape
    (the texts, which name the unit, left out) when the texts are plain enough: every
    footer of one shape is then taken, or refused, alike; over random texts of risky
    pieces (references, digit runs, escapes, colons, control characters)."""
    from qcdc_xl.intake import fastread

    rng = random.Random(3)
    pieces = ["&amp;L", "&amp;C", "&amp;R", "&amp;P", "&amp;10 ", "&amp;\"Times New Roman,Bold\"", "&amp;KFF0000",
              "Đảng bộ", "&#272;&#7843;ng", "&#0;", "&#1;", "&nbsp;", "&", "]]>", "1" * 120, "_x0031_",
              " a:b=", "x", " ", "\r", "&lt;", "&#x1EE4;", "٣" * 101, "&amp;" + "9" * 5000]
    verdicts: dict = {}
    shaped = set()
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 5)))
        attrs = rng.choice(["", ' differentFirst="1"', ' bogus="1"'])  # (openpyxl refuses the last)
        element = f"<headerFooter{attrs}><oddHeader></oddHeader><oddFooter>{text}</oddFooter></headerFooter>".encode()
        try:
            fastread._parse_footer(element)
            verdict = "taken"
        except Exception as exc:  # noqa: BLE001 - what openpyxl (or the prefix check) refuses
            verdict = type(exc).__name__
        shape = fastread._footer_shape(element)
        if shape is not None:
            assert verdicts.setdefault(shape, verdict) == verdict, element[:200]
            shaped.add(verdict)
    assert "taken" in shaped and len(shaped) >= 2  # shapes taken and refused were remembered


def _footer_oracle(body: bytes):
    """fastread._without_footer as it was: the regex over the whole part, a count, and
    openpyxl's parse of the footer found."""
    from qcdc_xl.intake import fastread

    found = list(fastread._FOOTER.finditer(body))
    if not found:
        return body
    if len(found) > 1 or body.count(b"headerFooter") != (1 if found[0].group(0).endswith(b"/>") else 2):
        return "refused"
    try:
        fastread._parse_footer(found[0].group(0))
    except Exception:  # noqa: BLE001 - what openpyxl refuses
        return "refused"
    return body[:found[0].start()] + body[found[0].end():]


def test_the_footer_is_found_as_the_whole_part_regex_finds_it():
    """fastread._without_footer looks for the footer with bounded finds and a match where
    it starts, and remembers verdicts by footer and by shape: the same as the regex over
    the whole part and openpyxl's parse of each footer, on random parts."""
    from qcdc_xl.intake import fastread

    rng = random.Random(4)
    pieces = [b"<headerFooter>", b"</headerFooter>", b"<headerFooter/>", b"<headerFooterX/>", b"headerFooter",
              b"<oddFooter>&amp;LTrang &amp;P</oddFooter>", b"<x/>", b"</headerFooter >", b'<headerFooter a="1">',
              b"<sheetPr/>", b"text", b"<headerFooter", b">"]
    for _ in range(3000):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        try:
            mine = fastread._without_footer(body)
        except NotFast:
            mine = "refused"
        assert mine == _footer_oracle(body), body


def test_custom_properties_read_as_openpyxl_reads_them():
    """fastread makes a custom properties part of a shape seen before from its texts: the
    same properties, types and values as openpyxl's parse of it, over random parts of a
    few shapes (text, number and yes/no properties) and risky texts."""
    from openpyxl.packaging.custom import CustomPropertyList
    from openpyxl.xml.functions import fromstring
    from qcdc_xl.intake import fastread

    rng = random.Random(6)
    vt = 'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"'
    texts = ["D00021", "Đảng bộ", "&#272;&#7843;ng", "a &amp; b", " x ", "12", "true", "&#0;", "&nbsp;", "", "\r\n", "x]]>"]
    kinds = ["lpwstr", "lpwstr", "lpwstr", "i4", "bool"]
    shapes = [[rng.choice(kinds) for _ in range(rng.randint(1, 4))] for _ in range(6)]
    made_from_texts = 0
    for _ in range(400):
        props = "".join(f'<property name="p{i}" fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i + 2}">'
                        f"<vt:{kind} {vt}>{rng.choice(texts)}</vt:{kind}></property>"
                        for i, kind in enumerate(rng.choice(shapes)))
        body = ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties">'
                f"{props}</Properties>").encode()
        try:
            theirs = [(type(p), p.name, p.value) for p in CustomPropertyList.from_tree(fromstring(body)).props]
        except Exception as exc:  # noqa: BLE001
            theirs = type(exc)
        shape_known = bool(fastread._CUSTOM_SHAPES.get(fastread._TEXT_RUN.sub(b">T<", body)))
        try:
            mine = [(type(p), p.name, p.value) for p in fastread._custom_properties(body).props]
        except Exception as exc:  # noqa: BLE001
            mine = type(exc)
        assert mine == theirs, body
        made_from_texts += shape_known and fastread._plain_texts(body) is not None
    assert made_from_texts >= 50


def test_what_the_row_scan_remembers_is_bounded_in_bytes(form, tmp_path, monkeypatch):
    """Hostile files of large, all different rows cannot fill the memory through the rows
    and cells remembered across returns: a row or cell over _LARGEST_KEPT bytes is never
    kept, and all that is kept stays under _BYTES_KEPT (made small here); the files still
    read as openpyxl reads them, by the fast path."""
    from qcdc_xl.intake import fastread

    monkeypatch.setattr(fastread, "_BYTES_KEPT", 60_000)
    fastread._forget_all()
    good = SAMPLES[0].read_bytes()

    def rows(n: int, first: int, text: str = "") -> str:
        return "".join(f'<row r="{r}">' + "".join(f'<c r="{col}{r}"><v>{r * 7 + n}</v></c>' for col in "JKLM")
                       + (f'<c r="N{r}" t="inlineStr"><is><t>{text}</t></is></c>' if text else "") + "</row>"
                       for r in range(first, first + 150))

    def junk(n: int, text: str = ""):
        return lambda x: x.replace("</sheetData>", rows(n, 100, text) + "</sheetData>")

    files = [h.edited(good, tmp_path / f"rows{n}.xlsx", {"sheet:Phụ lục 2": junk(n)}) for n in range(4)]
    files.append(h.edited(good, tmp_path / "wide.xlsx", {"sheet:Phụ lục 2": junk(9, "x" * 70_000)}))
    for path in files:
        assert compare(path, form), path.name
        tables = [t for memo in fastread._MEMOS.values() for t in memo.tables()]
        keys = [k if isinstance(k, bytes) else k[0] for t in tables for k in t]
        assert fastread._HELD[0] == sum(t.held for t in tables) == sum(map(len, keys))
        assert fastread._HELD[0] <= 60_000 and max(map(len, keys)) <= fastread._LARGEST_KEPT
    assert any(len(k) > 100 for k in keys)  # rows are still remembered


def test_a_memo_is_bounded_by_the_size_of_its_keys(monkeypatch):
    from qcdc_xl import memo

    monkeypatch.setattr(memo, "HELD_KEPT", 1000)
    kept = memo.Memo(kept=100)
    assert kept.get(("x" * 2000,), len, "abc") == 3  # worked out, not kept: larger than the memo
    assert kept.values == {}
    monkeypatch.setattr(memo, "LARGEST_KEPT", 500)
    assert kept.get(("y" * 600, 1), len, "ab") == 2 and kept.values == {}  # larger than LARGEST_KEPT
    sizes = []
    for i in range(5):
        assert kept.get((f"{i}" * 300,), str.upper, f"t{i}") == f"T{i}"
        assert kept.held == sum(map(memo.weight, kept.values)) <= 1000
        sizes.append(len(kept.values))
    assert sizes == [1, 2, 3, 1, 2]  # keys of 301: three fit in 1000, the fourth empties it
    assert memo.weight(("ab", b"cde", (1, "f"))) == 2 + 3 + (1 + 1 + 1) + 1


def test_long_texts_of_a_return_are_worked_out_but_never_kept():
    """The caches keyed by a return's texts keep none longer than their bound (hostile files
    could fill the memory with long, all different texts); short ones are kept."""
    from qcdc_xl.intake import pristine as P
    from qcdc_xl.intake import screen as S
    from qcdc_xl.intake.read import formula_shape

    caches = (P._typed_cell_key, P._text_key, P._shape, S.range_cells)

    def sizes():
        return [c.cache_info().currsize for c in caches]

    for cache in caches:
        cache.cache_clear()
    text, formula = "Đảng  bộ " * 300, "=" + "+".join(f"A{i}" for i in range(1, 600))
    assert len(text) > P.LONGEST_KEPT and len(formula) > P.LONGEST_KEPT
    assert P.known_cell_key(text, None) == ("s", P.text_key(text))
    assert P.known_cell_key(5, formula) == ("f", formula_shape(formula))
    assert S.range_cells("A1:" + "B" * 70) is None and S.range_cells("A1:" + "B" * 2 + "7" * 62) is None
    assert sizes() == [0, 0, 0, 0]
    assert P.known_cell_key("Đảng  bộ", "=A1+A2") == ("f", formula_shape("=A1+A2"))
    assert P.known_cell_key("Đảng  bộ", None) == ("s", "Đảng bộ") and S.range_cells("A1:B2") == 4
    assert sizes() == [2, 1, 1, 1]
