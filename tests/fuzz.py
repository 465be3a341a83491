"""A seeded, deterministic mutator of LibreOffice-made returns, and a runner that reads each
mutant in a child process under a time limit.

``mutants(seeds, count, seed)`` yields :class:`Mutant` objects: a seed file's bytes changed
in one way (bytes, zip members, XML elements and attributes, typed values). The same
arguments always give the same mutants. :class:`Runner` reads each one through
``read_return`` + ``check_return`` in a worker process (spawned, so it works on Windows):
a worker that does not answer within the time limit is a hang, a worker that dies is a
native abort; both are counted and the worker is replaced. :func:`verdict` turns one
outcome into the problems the fuzz test asserts are absent.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import random
import re
import struct
import sys
import tempfile
import traceback
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "nq02_sk5" / "returns"
# LibreOffice-made returns without issues, with filled tables: two of each unit type.
SEEDS = ("BAOHT_dang_bo_bao_ha_tinh.xlsx", "CQDUK_chi_bo_co_quan_dang_uy_khoi.xlsx",
         "DN002_dang_bo_vien_thong_ha_tinh.xlsx", "DN003_dang_bo_buu_dien_tinh_ha_tinh.xlsx")
CATCH_ALL = "lỗi không mong đợi"  # aggregate's last-resort message

# ---------------------------------------------------------------- the package as parts


def members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def pack(parts: list[tuple[str, bytes]], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with warnings_off(), zipfile.ZipFile(out, "w", method) as z:
        for name, body in parts:
            z.writestr(zipfile.ZipInfo(name, (2022, 6, 2, 14, 29, 0)), body, compress_type=method)
    return out.getvalue()


class warnings_off:
    """zipfile warns about duplicate names; a duplicate is what the mutation wants."""

    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


@dataclass
class Seed:
    """One seed return and where things are in it."""

    name: str
    data: bytes
    parts: list[tuple[str, bytes]]
    sheets: dict[str, str]  # sheet name -> part name
    names: dict[str, tuple[str, str]]  # defined name -> (sheet name, cell)
    types: dict[str, str]  # field id -> field type

    def part(self, name: str) -> bytes:
        return dict(self.parts)[name]


def load_seed(path: Path, form) -> Seed:
    data = path.read_bytes()
    parts = members(data)
    by_name = dict(parts)
    wb = by_name["xl/workbook.xml"].decode()
    rels = by_name["xl/_rels/workbook.xml.rels"].decode()
    targets = dict(re.findall(r'<Relationship Id="([^"]+)" Type="[^"]*" Target="([^"]+)"', rels))
    sheets = {}
    for name, rid in re.findall(r'<sheet name="([^"]+)"[^>]*r:id="([^"]+)"', wb):
        target = targets[rid].lstrip("/")
        sheets[_unxml(name)] = target if target.startswith("xl/") else "xl/" + target
    names = {}
    for name, ref in re.findall(r'<definedName [^>]*name="([^"]+)"[^>]*>([^<]*)<', wb):
        m = re.match(r"^(?:&apos;(.+)&apos;|([^!]+))!\$([A-Z]+)\$(\d+)$", ref)
        if m and "localSheetId" not in name:
            names[name] = (_unxml(m.group(1) or m.group(2)), f"{m.group(3)}{m.group(4)}")
    types = {f.id: f.type for f in form.fields.values() if f.is_input}
    return Seed(path.name, data, parts, sheets, names, types)


def _unxml(text: str) -> str:
    return (text.replace("&apos;", "'").replace("&quot;", '"').replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- mutants


@dataclass
class Mutant:
    seed: str
    kind: str  # mutation family, e.g. "zip.drop", "xml.cell_type", "value"
    detail: str  # what exactly was done, for the report
    data: bytes
    same: bool = False  # the mutation keeps the meaning: values must equal the seed's
    target: str | None = None  # for value mutations: the field whose cell was changed
    target_cell: str | None = None
    target_type: str | None = None
    edit: bool = False  # the file says something else, validly (as if typed): may change values


def _replace_part(seed: Seed, name: str, body: bytes) -> list[tuple[str, bytes]]:
    return [(n, body if n == name else b) for n, b in seed.parts]


def _edit(seed: Seed, name: str, fn) -> bytes:
    return pack(_replace_part(seed, name, fn(seed.part(name).decode("utf-8")).encode("utf-8")))


def _cells(xml: str) -> list[re.Match]:
    return list(re.finditer(r'<c r="([A-Z]+\d+)"([^>]*?)(?:/>|>(.*?)</c>)', xml, re.S))


# Values a person (or a broken program) may leave in a cell, as (label, XML of the cell's
# content after the r= and s= attributes).
def _inline(text: str) -> str:
    return f' t="inlineStr"><is><t xml:space="preserve">{_xml(text)}</t></is></c>'


def _number(v: str) -> str:
    return f"><v>{v}</v></c>"


HOSTILE = [
    ("text 40000", _inline("Rất dài " * 5000)),
    ("control chars", _inline("12_x0001__x0007_3")),
    ("control in text", _inline("Có_x0002_")),
    ("RTL override", _inline("\u202e45")),
    ("RLM number", _inline("\u200f45\u200f")),
    ("emoji", _inline("😀")),
    ("emoji number", _inline("12😀")),
    ("DDE", _inline("=cmd|' /C calc'!A0")),
    ("DDE formula", "><f>cmd|' /C calc'!A0</f><v>0</v></c>"),
    ("@SUM", _inline("@SUM(1)")),
    ("plus one", _inline("+1")),
    ("minus zero", _inline("-0")),
    ("NFD yes", _inline(unicodedata.normalize("NFD", "Có"))),
    ("NFD good", _inline(unicodedata.normalize("NFD", "Khá"))),
    ("1e308", _number("1e308")),
    ("1e309", _number("1e309")),
    ("NaN", _number("NaN")),
    ("nan", _number("nan")),
    ("inf", _number("inf")),
    ("-inf", _number("-inf")),
    ("Infinity", _number("Infinity")),
    ("400 digits", _number("9" * 400)),
    ("400 digits text", _inline("9" * 400)),
    ("huge float text", _inline("1e308")),
    ("Arabic-Indic", _inline("٤٥")),
    ("full-width", _inline("４５")),
    ("31/02/2020", _inline("31/02/2020")),
    ("0/0/0", _inline("0/0/0")),
    ("negative", _number("-5")),
    ("fraction", _number("2.5")),
    ("bool", ' t="b"><v>1</v></c>'),
    ("bad bool", ' t="b"><v>yes</v></c>'),
    ("error", ' t="e"><v>#DIV/0!</v></c>'),
    ("iso date", ' t="d"><v>2018-05-12T00:00:00</v></c>'),
    ("bad iso date", ' t="d"><v>31/02/2020</v></c>'),
    ("empty inline", _inline("")),
    ("spaces", _inline("   ")),
    ("zero-width", _inline("\u200b\u200b")),
    ("sst big", ' t="s"><v>999999</v></c>'),
    ("sst -1", ' t="s"><v>-1</v></c>'),
    ("sst text", ' t="s"><v>abc</v></c>'),
    ("type S", ' t="S"><v>3</v></c>'),
    ("type x", ' t="x"><v>7</v></c>'),
    ("formula no value", "><f>1+1</f></c>"),
    ("formula text", _inline("=40+5")),
    ("huge serial", _number("1e20")),
]


def _value_mutant(seed: Seed, rng: random.Random) -> Mutant:
    fid = rng.choice(sorted(f for f in seed.names if f in seed.types))
    sheet, cell = seed.names[fid]
    label, content = rng.choice(HOSTILE)
    part = seed.sheets[sheet]

    def edit(xml: str) -> str:
        for m in _cells(xml):
            if m.group(1) == cell:
                style = re.search(r' s="\d+"', m.group(2))
                return xml[:m.start()] + f'<c r="{cell}"{style.group(0) if style else ""}' + content + xml[m.end():]
        return xml
    return Mutant(seed.name, "value", f"{fid} ({sheet}!{cell}) ← {label}", _edit(seed, part, edit),
                  target=fid, target_cell=cell, target_type=seed.types[fid])


def _a_cell(xml: str, rng: random.Random) -> re.Match:
    cells = _cells(xml)
    return rng.choice(cells)


def _sheet_part(seed: Seed, rng: random.Random) -> str:
    return rng.choice(sorted(seed.sheets.values()))


def _cell_attr(seed: Seed, rng: random.Random, attr: str, choices: list[str]) -> Mutant:
    part = _sheet_part(seed, rng)
    value = rng.choice(choices)
    xml = seed.part(part).decode()
    m = _a_cell(xml, rng)
    attrs = re.sub(rf' {attr}="[^"]*"', "", m.group(2))
    head = f'<c r="{m.group(1)}"' if attr != "r" else "<c"
    new = head + (f' {attr}="{value}"' if value != "DROP" else "") + attrs
    tail = m.group(0)[len(f'<c r="{m.group(1)}"') + len(m.group(2)):]
    body = xml[:m.start()] + new + tail + xml[m.end():]
    return Mutant(seed.name, f"xml.cell_{attr}", f"{part} {m.group(1)}: {attr}={value!r}",
                  pack(_replace_part(seed, part, body.encode())))


def _cell_type(seed, rng):
    m = _cell_attr(seed, rng, "t", ["s", "n", "b", "str", "inlineStr", "e", "d", "S", "x", "", "DROP"])
    # A valid type that fits the cell's <v> (a number, a string, an error) is another value
    # the file validly holds, as if typed; an unknown or mismatched one must be reported.
    m.edit = re.search(r"t='(n|str|e|b|DROP)'$", m.detail) is not None
    return m


def _cell_ref(seed, rng):
    xml = seed.part(_sheet_part(seed, rng)).decode()
    other = _a_cell(xml, rng).group(1)
    return _cell_attr(seed, rng, "r", [other, "A0", "XFE1", "A1048577", "", "1A", "ZZZ99999999",
                                       "$C$5", "C5:D6", "DROP", "XFD1048576"])


def _cell_style(seed, rng):
    return _cell_attr(seed, rng, "s", ["99999", "-1", "abc", "", str(rng.randrange(0, 60))])


def _sst_index(seed: Seed, rng: random.Random) -> Mutant:
    part = _sheet_part(seed, rng)
    xml = seed.part(part).decode()
    found = list(re.finditer(r'(<c r="([A-Z]+\d+)"[^>]*t="s"[^>]*><v>)(\d+)(</v>)', xml))
    if not found:
        return _cell_type(seed, rng)
    m = rng.choice(found)
    value = rng.choice(["99999999", "-1", "abc", "1.5", "", "4294967296", str(int(m.group(3)) + 1)])
    body = xml[:m.start(3)] + value + xml[m.end(3):]
    # Another valid index is another string in the cell, as if typed: nothing to detect.
    return Mutant(seed.name, "xml.sst_index", f"{part} {m.group(2)}: {m.group(3)} → {value!r}",
                  pack(_replace_part(seed, part, body.encode())), edit=value == str(int(m.group(3)) + 1))


def _rows_shuffled(seed: Seed, rng: random.Random) -> Mutant:
    part = _sheet_part(seed, rng)
    xml = seed.part(part).decode()
    m = re.search(r"<sheetData>(.*)</sheetData>", xml, re.S)
    rows = re.findall(r"<row .*?</row>|<row [^>]*/>", m.group(1), re.S)
    rng.shuffle(rows)
    body = xml[:m.start(1)] + "".join(rows) + xml[m.end(1):]
    return Mutant(seed.name, "xml.rows_shuffled", part, pack(_replace_part(seed, part, body.encode())),
                  same=True)


def _row_number(seed: Seed, rng: random.Random) -> Mutant:
    part = _sheet_part(seed, rng)
    xml = seed.part(part).decode()
    found = list(re.finditer(r'<row r="(\d+)"', xml))
    m = rng.choice(found)
    value = rng.choice(["0", "-1", "abc", "", "1048577", "99999999999", "1", found[0].group(1)])
    body = xml[:m.start(1)] + value + xml[m.end(1):]
    return Mutant(seed.name, "xml.row_r", f"{part} row {m.group(1)} → {value!r}",
                  pack(_replace_part(seed, part, body.encode())))


_HUGE = ["A1:XFD1048576", "A1:ZZ200000", "B2:XFD2", "A1:A1048576", "C5:A1", "A1:XFE1", "garbage", ""]


def _insert_before_end(xml: str, element: str, after: tuple[str, ...]) -> str:
    """Put ``element`` in a plausible place of a worksheet (openpyxl does not mind order)."""
    for tag in after:
        i = xml.find(tag)
        if i >= 0:
            return xml[:i] + element + xml[i:]
    return xml.replace("</worksheet>", element + "</worksheet>")


def _huge_range(seed: Seed, rng: random.Random) -> Mutant:
    part = _sheet_part(seed, rng)
    ref = rng.choice(_HUGE)
    what = rng.choice(["merge", "hyperlink", "validation", "formatting", "dimension", "selection"])
    xml = seed.part(part).decode()
    if what == "merge":
        element = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
        body = (re.sub(r"<mergeCells[^>]*>", f'\\g<0><mergeCell ref="{ref}"/>', xml, count=1)
                if "<mergeCells" in xml else _insert_before_end(xml, element, ("<printOptions", "<pageMargins")))
    elif what == "hyperlink":
        element = f'<hyperlinks><hyperlink ref="{ref}" display="x"/></hyperlinks>'
        body = _insert_before_end(xml, element, ("<printOptions", "<pageMargins"))
    elif what == "validation":
        element = (f'<dataValidations count="1"><dataValidation type="whole" sqref="{ref}">'
                   f"<formula1>0</formula1></dataValidation></dataValidations>")
        body = _insert_before_end(xml, element, ("<hyperlinks", "<printOptions", "<pageMargins"))
    elif what == "formatting":
        element = (f'<conditionalFormatting sqref="{ref}"><cfRule type="expression" priority="1">'
                   f"<formula>TRUE</formula></cfRule></conditionalFormatting>")
        body = _insert_before_end(xml, element, ("<dataValidations", "<hyperlinks", "<printOptions",
                                                 "<pageMargins"))
    elif what == "dimension":
        body = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{ref}"', xml)
    else:
        body = re.sub(r'sqref="[^"]*"', f'sqref="{ref}"', xml, count=1)
    return Mutant(seed.name, f"xml.huge_{what}", f"{part} {ref!r}", pack(_replace_part(seed, part, body.encode())))


def _sst_counts(seed: Seed, rng: random.Random) -> Mutant:
    value = rng.choice(["4294967295", "18446744073709551615", "2147483648", "-1", "abc", "0", "99999999"])
    attr = rng.choice(["uniqueCount", "count"])
    body = re.sub(rf'{attr}="\d+"', f'{attr}="{value}"', seed.part("xl/sharedStrings.xml").decode(), count=1)
    return Mutant(seed.name, "xml.sst_count", f"{attr}={value}",
                  pack(_replace_part(seed, "xl/sharedStrings.xml", body.encode())))


def _defined_name(seed: Seed, rng: random.Random) -> Mutant:
    fid = rng.choice(sorted(f for f in seed.names if f in seed.types))
    sheet = rng.choice(sorted(seed.sheets))
    target = rng.choice(["#REF!", "&apos;Không có trang&apos;!$A$1", "[1]&apos;Thông tin chung&apos;!$C$5",
                         f"&apos;{sheet}&apos;!$C$5:$D$9", "", "1+1", "&apos;Thông tin chung&apos;!#REF!",
                         f"&apos;{sheet}&apos;!$XFD$1048576", "[0]!x", "=SUM(A1)", "&apos;&apos;!$A$1",
                         "DUPLICATE", f"&apos;{sheet}&apos;!$A$1"])

    def edit(xml: str) -> str:
        pattern = rf'(<definedName [^>]*name="{fid}"[^>]*>)([^<]*)(</definedName>)'
        if target == "DUPLICATE":
            return re.sub(pattern, r"\1\2\3\1#REF!\3", xml, count=1)
        return re.sub(pattern, lambda m: m.group(1) + target + m.group(3), xml, count=1)
    return Mutant(seed.name, "xml.defined_name", f"{fid} → {target}", _edit(seed, "xl/workbook.xml", edit))


def _table(seed: Seed, rng: random.Random) -> Mutant:
    tables = sorted(n for n, _ in seed.parts if n.startswith("xl/tables/"))
    part = rng.choice(tables)
    change = rng.choice([
        ("ref dropped", r' ref="[^"]*"', ""), ("ref ZZZZ", r' ref="[^"]*"', ' ref="A7:ZZZZ"'),
        ("ref reversed", r' ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', r' ref="\3\4:\1\2"'),
        ("ref huge", r' ref="([A-Z]+\d+):([A-Z]+)\d+"', r' ref="\1:\g<2>1048576"'),
        ("ref one cell", r' ref="([A-Z]+\d+):[A-Z]+\d+"', r' ref="\1"'),
        ("ref empty", r' ref="[^"]*"', ' ref=""'),
        ("headerRowCount=2", r'headerRowCount="\d+"', 'headerRowCount="2"'),
        ("headerRowCount=0", r'headerRowCount="\d+"', 'headerRowCount="0"'),
        ("headerRowCount=abc", r'headerRowCount="\d+"', 'headerRowCount="abc"'),
        ("totalsRowCount=1", r'totalsRowCount="\d+"', 'totalsRowCount="1"'),
        ("totalsRowCount=-5", r'totalsRowCount="\d+"', 'totalsRowCount="-5"'),
        ("name changed", r' name="(tbl_[a-z_]+)" displayName="[^"]*"', r' name="\1_x" displayName="\1_x"'),
        ("columns dropped", r"<tableColumns.*</tableColumns>", "<tableColumns count=\"0\"></tableColumns>"),
        ("column renamed", r'(<tableColumn id="2" name=")[^"]*"', r'\1Cột khác"'),
        ("duplicate column", r'(<tableColumn id="2" name="[^"]*"/>)', r"\1\1"),
        ("id garbage", r' id="\d+"', ' id="x"'),
    ])
    label, pattern, repl = change
    body = re.sub(pattern, repl, seed.part(part).decode(), count=1, flags=re.S)
    return Mutant(seed.name, "xml.table", f"{part} {label}", pack(_replace_part(seed, part, body.encode())))


def _meta(seed: Seed, rng: random.Random) -> Mutant:
    choice = rng.choice(["meta value", "meta row gone", "meta visible", "props type", "props gone",
                         "props garbage", "props duplicate", "meta tag"])
    if choice.startswith("props"):
        xml = seed.part("docProps/custom.xml").decode()
        if choice == "props type":
            xml = re.sub(r"<vt:lpwstr>([^<]*)</vt:lpwstr>", r"<vt:i4>\1</vt:i4>", xml, count=rng.randrange(1, 4))
        elif choice == "props gone":
            return Mutant(seed.name, "meta", choice, pack([p for p in seed.parts if p[0] != "docProps/custom.xml"]),
                          same=True)
        elif choice == "props garbage":
            xml = xml.replace("<vt:lpwstr>", "<vt:lpwstr>\u202e😀", 2)
        else:
            xml = re.sub(r"(<property .*?</property>)", r"\1\1", xml, count=1, flags=re.S)
        return Mutant(seed.name, "meta", choice, pack(_replace_part(seed, "docProps/custom.xml", xml.encode())))
    part = seed.sheets["_qcdc_meta"]
    xml = seed.part(part).decode()
    if choice == "meta value":
        xml = re.sub(r'(<c r="B(\d+)"[^>]*t="s"[^>]*><v>)\d+', lambda m: m.group(1) + str(rng.randrange(0, 200)),
                     xml, count=1)
    elif choice == "meta row gone":
        rows = re.findall(r"<row .*?</row>", xml, re.S)
        xml = xml.replace(rng.choice(rows), "", 1)
    elif choice == "meta tag":
        xml = re.sub(r'(<c r="B6"[^>]*)t="s"([^>]*)><v>\d+</v>', r'\1t="inlineStr"\2><is><t>sai</t></is>', xml)
    else:
        return Mutant(seed.name, "meta", choice, _edit(seed, "xl/workbook.xml",
                                                        lambda x: x.replace('state="hidden"', 'state="visible"')),
                      same=True)
    return Mutant(seed.name, "meta", choice, pack(_replace_part(seed, part, xml.encode())))


def _xml_junk(seed: Seed, rng: random.Random) -> Mutant:
    name, body = rng.choice([p for p in seed.parts if p[0].endswith((".xml", ".rels"))])
    pos = rng.randrange(len(body))
    junk = rng.choice([b"<", b"&", b"\x00", b"\xff", b"]]>", b"<x>", b'"', b"&#0;", b"&#x1F;"])
    return Mutant(seed.name, "xml.junk", f"{name}@{pos} {junk!r}",
                  pack(_replace_part(seed, name, body[:pos] + junk + body[pos:])))


# ---------------------------------------------------------------- zip-level mutations


def _zip_mutant(seed: Seed, rng: random.Random) -> Mutant:
    how = rng.choice(["drop", "duplicate", "rename", "stored", "lying size", "bad crc", "nested",
                      "flip bytes", "truncate", "empty member"])
    names = [n for n, _ in seed.parts]
    victim = rng.choice(names)
    same = False
    if how == "drop":
        data = pack([p for p in seed.parts if p[0] != victim])
    elif how == "duplicate":
        body = rng.choice([seed.part(victim), b"", b"<x/>"])
        data = pack(seed.parts + [(victim, body)])
    elif how == "rename":
        new = rng.choice([victim.upper(), victim + ".bak", victim.replace("/", "\\"), "/" + victim,
                          "../" + victim])
        data = pack([(new if n == victim else n, b) for n, b in seed.parts])
        victim = f"{victim} → {new}"
    elif how == "stored":
        data, same = pack(seed.parts, zipfile.ZIP_STORED), True
    elif how == "empty member":
        data = pack(_replace_part(seed, victim, b""))
    elif how == "nested":
        data = pack(_replace_part(seed, victim, pack([(victim, seed.part(victim))])))
    elif how in ("lying size", "bad crc"):
        data = _patch_central(seed.data, victim, how, rng)
    elif how == "flip bytes":
        raw = bytearray(seed.data)
        for _ in range(rng.randrange(1, 9)):
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        data, victim = bytes(raw), ""
    else:
        data, victim = seed.data[: rng.randrange(len(seed.data))], ""
    return Mutant(seed.name, f"zip.{how.replace(' ', '_')}", victim, data, same=same)


def _patch_central(data: bytes, victim: str, how: str, rng: random.Random) -> bytes:
    """Change one member's declared uncompressed size or CRC, in its local header and in the
    central directory (the bytes themselves are unchanged)."""
    raw = bytearray(data)
    target = victim.encode()
    for sig, crc_at, size_at, name_len_at, name_at in ((b"PK\x01\x02", 16, 24, 28, 46),
                                                       (b"PK\x03\x04", 14, 22, 26, 30)):
        pos = raw.find(sig)
        while pos >= 0:
            n = struct.unpack_from("<H", raw, pos + name_len_at)[0]
            if bytes(raw[pos + name_at: pos + name_at + n]) == target:
                if how == "bad crc":
                    struct.pack_into("<I", raw, pos + crc_at, rng.getrandbits(32))
                else:
                    size = rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 12345])
                    struct.pack_into("<I", raw, pos + size_at, size)
            pos = raw.find(sig, pos + 4)
    return bytes(raw)


FAMILIES = [
    (_value_mutant, 8), (_zip_mutant, 4), (_cell_type, 2), (_cell_ref, 2), (_cell_style, 1),
    (_sst_index, 2), (_rows_shuffled, 1), (_row_number, 1), (_huge_range, 3), (_sst_counts, 1),
    (_defined_name, 2), (_table, 2), (_meta, 1), (_xml_junk, 1),
]


def mutants(seeds: list[Seed], count: int, seed: int = 0):
    """``count`` mutants, the same for the same arguments."""
    pool = [fn for fn, weight in FAMILIES for _ in range(weight)]
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        s = seeds[i % len(seeds)]
        yield rng.choice(pool)(s, rng)


# ---------------------------------------------------------------- reading in a child


def _summary(result) -> dict:
    """What a read+check produced, as plain JSON-able data."""
    from qcdc_xl.report.records import UnitResult, json_value
    if isinstance(result, UnitResult):
        issues, values = result.issues, {k: json_value(v) for k, v in result.values.items()}
        tables = {n: [{k: json_value(v) for k, v in row.items()} for row in rows]
                  for n, rows in result.tables.items()}
    else:
        issues, values, tables = result, {}, {}
    return {"values": _plain(values), "tables": _plain(tables),
            "issues": [[i.code, i.severity, i.field, i.cell, i.sheet, i.message] for i in issues]}


def _plain(data):
    """NaN-safe, comparable JSON (a float NaN is not equal to itself)."""
    return json.loads(json.dumps(data, default=str).replace("NaN", '"NaN"'))


def read_one(form, units: dict, path: Path) -> dict:
    """read_return + check_return as aggregate does, an exception kept as a traceback."""
    from qcdc_xl.validate.check import check_return
    from qcdc_xl.intake.read import read_return
    try:
        raw = read_return(path, path.name, form)
        if any(i.code in ("unreadable_file", "encrypted_file") for i in raw.issues):
            return _summary(list(raw.issues))
        return _summary(check_return(form, raw, units))
    except BaseException:  # noqa: BLE001 - the finding itself
        return {"exception": traceback.format_exc(limit=8)}


def _child(conn, root: str) -> None:
    sys.path[:0] = [root, str(Path(root) / "tests")]
    from qcdc_xl.form.spec import load_form
    from qcdc_xl.intake.units import load_units
    form = load_form()
    units = {u.ma_don_vi: u for u in load_units()}
    tmp = Path(tempfile.mkdtemp(prefix="qcdc_fuzz_"))
    conn.send("ready")
    while True:
        job = conn.recv()
        if job is None:
            return
        name, data = job
        path = tmp / name
        path.write_bytes(data)
        try:
            conn.send(read_one(form, units, path))
        finally:
            path.unlink()


class Runner:
    """One worker process; ``read(name, data)`` returns the summary, or {"hang": s} when the
    worker did not answer in ``limit`` seconds, or {"abort": code} when it died."""

    def __init__(self, limit: float = 30.0):
        self.limit, self.proc, self.conn = limit, None, None

    def _start(self):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_child, args=(child, str(ROOT)), daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(120) or self.conn.recv() != "ready":
            raise RuntimeError("fuzz worker did not start")

    def read(self, name: str, data: bytes) -> dict:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send((name, data))
        try:
            if self.conn.poll(self.limit):
                return self.conn.recv()
        except (EOFError, OSError):
            pass
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
            self.proc = None
            return {"hang": self.limit}
        code = self.proc.exitcode
        self.proc = None
        return {"abort": code}

    def close(self):
        if self.proc is not None and self.proc.is_alive():
            self.conn.send(None)
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.kill()


# ---------------------------------------------------------------- judging one outcome


def _issue_keys(outcome: dict) -> set:
    return {(c, f, cell, sheet) for c, _s, f, cell, sheet, _m in outcome.get("issues", [])}


def verdict(mutant: Mutant, outcome: dict, control: dict) -> list[str]:
    """The problems this outcome shows (empty when the mutant was handled well)."""
    for bad in ("exception", "hang", "abort"):
        if bad in outcome:
            return [f"{bad}: {outcome[bad]}"]
    problems = []
    if any(CATCH_ALL in m for *_x, m in outcome["issues"]):
        problems.append("catch-all issue")
    if not outcome["issues"] and not outcome["values"]:
        problems.append("neither read nor reported")
    new = _issue_keys(outcome) - _issue_keys(control)
    changed = outcome["values"] != control["values"] or outcome["tables"] != control["tables"]
    if mutant.target and outcome["values"]:
        if not _target_ok(mutant, outcome, control):
            problems.append(f"{mutant.target} changed silently: {_diff(outcome, control)}")
        return problems  # free text read as typed may change the value (and its sums) silently
    if mutant.same and changed:
        problems.append("a meaning-preserving mutation changed values: " + _diff(outcome, control))
    elif changed and not new and not mutant.edit:
        problems.append("values changed without any new issue: " + _diff(outcome, control))
    return problems


def _target_ok(mutant: Mutant, outcome: dict, control: dict) -> bool:
    """A value mutation: the field reads as before, or there is an issue at its cell/field,
    or it is free text read as typed."""
    fid = mutant.target
    if outcome["values"].get(fid) == control["values"].get(fid):
        return True
    if any(f == fid or cell == mutant.target_cell for _c, _s, f, cell, _sh, _m in outcome["issues"]):
        return True
    if _reported_elsewhere(outcome, control):
        return True  # e.g. a rule with another field broken: the issue names that field
    typed = _typed_text(mutant)
    value = outcome["values"].get(fid)
    label = mutant.detail.rsplit("← ", 1)[-1]
    if mutant.target_type == "text" and str(value) in _TEXT_READS.get(label, ()):
        return True  # a number, date or error in a free-text cell reads as Excel shows it
    if mutant.target_type == "money" and label == "fraction" and value == 2.5:
        return True  # 2,5 đồng is a valid amount
    if typed is not None and value is None and not _fold(typed):
        return True  # the cell was emptied: nothing to report for an optional field
    return typed is not None and isinstance(value, str) and _fold(value) == _fold(typed)


# What a non-text value reads as in a free-text field (Excel shows the same).
# A whole number as large as 1e20 is written out in full (its digits are exact).
_TEXT_READS = {"iso date": ("2018-05-12",), "negative": ("-5",), "fraction": ("2.5",), "bool": ("TRUE",),
               "1e308": ("1e+308",), "huge serial": ("1e+20", "1" + "0" * 20),
               "400 digits": ("9" * 400,), "error": ("#DIV/0!",)}


def _reported_elsewhere(outcome: dict, control: dict) -> bool:
    """A new issue names a field whose value changed."""
    changed = {k for k in set(outcome["values"]) | set(control["values"])
               if outcome["values"].get(k) != control["values"].get(k)}
    new = _issue_keys(outcome) - _issue_keys(control)
    return any(field in changed for _code, field, _cell, _sheet in new)


def _typed_text(mutant: Mutant) -> str | None:
    """The text an inline-string value mutation typed (Excel's _xHHHH_ escapes decoded)."""
    m = re.search(r"← (.*)$", mutant.detail)
    content = dict((label, c) for label, c in HOSTILE).get(m.group(1) if m else "")
    t = re.search(r'<t xml:space="preserve">(.*)</t>', content or "", re.S)
    if t is None:
        return None
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda x: chr(int(x.group(1), 16)), _unxml(t.group(1)))


def _fold(text: str) -> str:
    """Text as a person reads it: NFC, no invisible or control characters, spaces collapsed."""
    text = re.sub("[\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060\ufeff]", "",
                  unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def _diff(outcome: dict, control: dict) -> str:
    keys = [k for k in set(outcome["values"]) | set(control["values"])
            if outcome["values"].get(k) != control["values"].get(k)]
    keys += [t for t in set(outcome["tables"]) | set(control["tables"])
             if outcome["tables"].get(t) != control["tables"].get(t)]
    shown = []
    for k in sorted(keys)[:4]:
        a, b = control["values"].get(k, control["tables"].get(k)), outcome["values"].get(k, outcome["tables"].get(k))
        shown.append(f"{k}: {str(a)[:60]!s} → {str(b)[:60]!s}")
    return "; ".join(shown)


# ---------------------------------------------------------------- a whole run


@dataclass
class Stats:
    mutants: int = 0
    exceptions: int = 0
    hangs: int = 0
    aborts: int = 0
    catch_all: int = 0
    silent: int = 0
    whole_file: int = 0  # mutants that ended as one file-level unreadable_file issue
    kinds: dict = field(default_factory=dict)
    whole_file_kinds: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)  # (kind, seed, detail, problems)

    def line(self) -> str:
        return (f"{self.mutants} mutants: {self.exceptions} exceptions, {self.hangs} hangs, "
                f"{self.aborts} native aborts, {self.catch_all} catch-all issues, {self.silent} "
                f"silent changes; {self.whole_file} reported as unreadable files")


def run(count: int, seed: int = 0, workers: int = 2, limit: float = 30.0, form=None,
        on_result=None) -> Stats:
    """Read ``count`` mutants with ``workers`` child processes; every outcome judged."""
    from concurrent.futures import ThreadPoolExecutor

    from qcdc_xl.form.spec import load_form
    form = form or load_form()
    seeds = [load_seed(SAMPLES / name, form) for name in SEEDS]
    runners = [Runner(limit) for _ in range(workers)]
    free = list(runners)
    import threading
    lock = threading.Lock()

    def on(job):
        with lock:
            runner = free.pop()
        try:
            return runner.read(*job)
        finally:
            with lock:
                free.append(runner)
    stats = Stats()
    try:
        with ThreadPoolExecutor(workers) as pool:
            controls = dict(zip((s.name for s in seeds), pool.map(on, [(s.name, s.data) for s in seeds])))
            for name, outcome in controls.items():
                if "values" not in outcome or not outcome["values"]:
                    raise RuntimeError(f"seed {name} does not read: {outcome}")
            batch = list(mutants(seeds, count, seed))
            outcomes = pool.map(on, [(f"m{i}_{m.seed}", m.data) for i, m in enumerate(batch)])
            for m, outcome in zip(batch, outcomes):
                _count(stats, m, outcome, verdict(m, outcome, controls[m.seed]))
                if on_result:
                    on_result(m, outcome, stats)
            # The unmutated seeds, read again after every mutant: nothing a mutant did to a
            # worker (a cache, a patched parser) changes another return's values.
            again = pool.map(on, [(s.name, s.data) for s in seeds])
            for s, outcome in zip(seeds, again):
                if outcome != controls[s.name]:
                    stats.failures.append(("control", s.name, "read again", ["values or issues changed: "
                                                                               + _diff(outcome, controls[s.name])]))
    finally:
        for r in runners:
            r.close()
    return stats


def _count(stats: Stats, m: Mutant, outcome: dict, problems: list[str]) -> None:
    stats.mutants += 1
    stats.kinds[m.kind] = stats.kinds.get(m.kind, 0) + 1
    stats.exceptions += "exception" in outcome
    stats.hangs += "hang" in outcome
    stats.aborts += "abort" in outcome
    stats.catch_all += any(p == "catch-all issue" for p in problems)
    stats.silent += any("changed" in p for p in problems)
    issues = outcome.get("issues") or []
    if issues and not outcome.get("values") and any(c == "unreadable_file" for c, *_ in issues):
        stats.whole_file += 1
        stats.whole_file_kinds[m.kind] = stats.whole_file_kinds.get(m.kind, 0) + 1
    if problems:
        stats.failures.append((m.kind, m.seed, m.detail, problems))
