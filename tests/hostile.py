"""A corpus of broken and hostile returns, made at test time from a real generated template.

Each builder takes a good return (bytes of a filled .xlsx) and a target path and writes one
nasty file; ``CORPUS`` says what the aggregator must report for it. Nothing here is
committed as a binary: every file comes from the generator plus a few zip/XML edits.
"""
from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

import builders as b

SECRET = "QCDC_BI_MAT_KHONG_DUOC_LO_7f3a"  # what an external entity would leak

_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lolololololololololololololololololololol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                     for i in range(1, 10)) + "]>")


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write_zip(path: Path, parts: dict[str, bytes], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in {**parts, **(extra or {})}.items():
            z.writestr(name, body)
    return path


def sheet_part(parts: dict, sheet: str) -> str:
    """The worksheet part of the sheet called ``sheet`` (follows workbook.xml's rIds)."""
    wb = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', wb).group(1)
    target = re.search(rf'<Relationship[^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels)
    if target is None:  # attribute order differs
        target = re.search(rf'<Relationship[^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    t = target.group(1).lstrip("/")
    return t if t.startswith("xl/") else f"xl/{t}"


def edited(good: bytes, path: Path, edits: dict, extra: dict | None = None, drop=()) -> Path:
    """``good`` with parts replaced: ``edits`` maps a part name (or a sheet name prefixed by
    'sheet:') to a function of its text."""
    parts = members(good)
    for key, fn in edits.items():
        name = sheet_part(parts, key[6:]) if key.startswith("sheet:") else key
        parts[name] = fn(parts[name].decode("utf-8")).encode("utf-8") if callable(fn) else fn
    for name in drop:
        parts.pop(name, None)
    return write_zip(path, parts, extra)


def with_doctype(xml: str, doctype: str, inject: tuple[str, str] | None = None) -> str:
    xml = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + doctype, xml, count=1)
    if inject:
        xml = xml.replace(inject[0], inject[1], 1)
    return xml


# ---------------------------------------------------------------- the builders


def empty(good, p):
    p.write_bytes(b"")
    return p


def random_bytes(good, p):
    data = bytearray(random.Random(7).randbytes(64 * 1024))
    data[:4] = b"\x13\x37\xca\xfe"
    p.write_bytes(bytes(data))
    return p


def truncated(good, p):
    p.write_bytes(good[: len(good) * 6 // 10])
    return p


def no_content_types(good, p):
    return edited(good, p, {}, drop=["[Content_Types].xml"])


def no_workbook(good, p):
    return edited(good, p, {}, drop=["xl/workbook.xml"])


def sheet_part_missing(good, p):
    parts = members(good)
    return edited(good, p, {}, drop=[sheet_part(parts, "Phụ lục 2")])


def laughs_in_sheet(good, p):
    return edited(good, p, {"sheet:Phụ lục 2": lambda x: with_doctype(
        x, _LAUGHS.replace("lolz", "worksheet"), ("<sheetData>", "<sheetData><!-- &lol9; -->"))})


def laughs_in_shared_strings(good, p):
    return edited(good, p, {"xl/sharedStrings.xml": lambda x: with_doctype(
        x, _LAUGHS.replace("lolz", "sst"), ("<t>", "<t>&lol9;"))})


def _xxe(root: str, secret_file: Path) -> str:
    return f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'


def xxe_in_shared_strings(good, p):
    secret = p.parent.parent / "bi_mat.txt"
    return edited(good, p, {"xl/sharedStrings.xml": lambda x: with_doctype(
        x, _xxe("sst", secret), ("<t>", "<t>&xxe;"))})


def xxe_in_core_props(good, p):
    secret = p.parent.parent / "bi_mat.txt"
    return edited(good, p, {"docProps/core.xml": lambda x: with_doctype(
        x, _xxe("cp:coreProperties", secret), ("<dc:creator>", "<dc:creator>&xxe;"))})


def xxe_in_custom_props(good, p):
    secret = p.parent.parent / "bi_mat.txt"
    return edited(good, p, {"docProps/custom.xml": lambda x: with_doctype(
        x, _xxe("Properties", secret), ("<vt:lpwstr>", "<vt:lpwstr>&xxe;"))})


def zip_bomb(good, p):
    return b.zip_bomb(p)


def many_members(good, p):
    extra = {f"xl/media/rac{i}.bin": b"x" for i in range(6000)}
    return edited(good, p, {}, extra=extra)


def huge_dimension(good, p):
    return edited(good, p, {"sheet:Phụ lục 2": lambda x: re.sub(
        r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', x)})


def far_cell(good, p):
    """Protection switched off and one value typed in the sheet's very last cell, on a sheet
    with formulas (a Ctrl+End accident)."""
    row = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return edited(good, p, {"sheet:Phụ lục 2": lambda x: re.sub(
        r"<sheetProtection[^>]*/>", "", x.replace("</sheetData>", row + "</sheetData>"))})


def styled_rows(good, p, up_to=1_048_576):
    """Empty rows down to ``up_to``, each formatted (a format applied row by row)."""
    def edit(x):
        last = max(int(r) for r in re.findall(r'<row r="(\d+)"', x))
        rows = "".join(f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/></row>'
                       for r in range(last + 1, up_to + 1))
        return x.replace("</sheetData>", rows + "</sheetData>")
    return edited(good, p, {"sheet:Phụ lục 2": edit})


def million_styled_rows(good, p):
    return styled_rows(good, p)


def styled_rows_below_limit(good, p):
    """The largest sheet still read: just under the XML limit."""
    return styled_rows(good, p, up_to=150_000)


def bad_utf8(good, p):
    parts = members(good)
    sst = parts["xl/sharedStrings.xml"].replace(b"<t>", b"<t>\xff\xfe\xc3(", 1)
    return edited(good, p, {"xl/sharedStrings.xml": sst})


def odd_defined_names(good, p):
    """#REF!, a multi-cell range, a name on the hidden meta sheet, a duplicate, sheet scope."""
    def edit(x):
        x = re.sub(r'(<definedName name="so_dang_vien">)[^<]*', r"\1#REF!", x)
        x = re.sub(r'(<definedName name="so_lao_dong">)[^<]*', r"\1'Phụ lục 2'!$C$10:$H$40", x)
        x = re.sub(r'(<definedName name="co_cong_doan">)[^<]*', r"\1'_qcdc_meta'!$B$1", x)
        x = re.sub(r'(<definedName name="co_ban_ttnd">)[^<]*', r"\1'Không có trang'!$A$1", x)
        dup = ('<definedName name="co_ban_chi_dao">#REF!</definedName>'
               '<definedName name="so_dang_vien" localSheetId="1">\'Thông tin chung\'!$C$5</definedName>'
               '<definedName name="tu_danh_gia" localSheetId="99">x!$A$1</definedName>')
        return x.replace("</definedNames>", dup + "</definedNames>")
    return edited(good, p, {"xl/workbook.xml": edit})


def bad_table_ref(good, p):
    return edited(good, p, {"xl/tables/table1.xml": lambda x: re.sub(
        r'ref="[^"]*"', 'ref="A7:ZZZZ"', x)})


def huge_table_ref(good, p):
    return edited(good, p, {"xl/tables/table1.xml": lambda x: re.sub(
        r'ref="A(\d+):G\d+"', r'ref="A\1:G1048576"', x)})


def garbage_meta(good, p):
    def edit(x):
        x = re.sub(r"<sheetData>.*</sheetData>",
                   '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>form_id</t></is></c>'
                   '<c r="B1" t="e"><v>#N/A</v></c></row><row r="2"><c r="A2"><v>42</v></c>'
                   '<c r="B2" t="b"><v>1</v></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>'
                   'ma_don_vi</t></is></c><c r="B3" t="inlineStr"><is><t>' + "Ω" * 5000
                   + "</t></is></c></row></sheetData>", x, flags=re.S)
        return x
    return edited(good, p, {"sheet:_qcdc_meta": edit}, drop=["docProps/custom.xml"])


def props_wrong_types(good, p):
    def edit(x):
        x = x.replace("<vt:lpwstr>HCSN</vt:lpwstr>", "<vt:i4>không phải số</vt:i4>", 1)
        x = re.sub(r"<vt:lpwstr>(\d{4}-\d\d-\d\dT[^<]*)</vt:lpwstr>", r"<vt:filetime>ngày \1</vt:filetime>", x)
        return x.replace("</Properties>", '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" '
                         'pid="99" name="qcdc_x"><vt:bool>có lẽ</vt:bool></property></Properties>')
    return edited(good, p, {"docProps/custom.xml": edit})


def with_vba(good, p):
    def ct(x):
        return x.replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                         "application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
            "<Default Extension=\"xml\"",
            '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
            '<Default Extension="xml"')
    def rels(x):
        return x.replace("</Relationships>", '<Relationship Id="rIdVba" Type="http://schemas.'
                         'microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                         "</Relationships>")
    vba = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 1000
    return edited(good, p, {"[Content_Types].xml": ct, "xl/_rels/workbook.xml.rels": rels},
                  extra={"xl/vbaProject.bin": vba})


def encrypted(good, p):
    return b.encrypted_ole(p)


def xls_renamed(good, p):
    return b.old_xls(p)


def junk_outside(good, p, rows=40_000):
    """Protection off and a block of numbers pasted beside the form, down to ``rows``: just
    under the XML limit, every cell of it "outside the input areas"."""
    def edit(x):
        block = "".join(f'<row r="{r}">' + "".join(f'<c r="{col}{r}"><v>{r}</v></c>' for col in "JKLMNOPQ")
                        + "</row>" for r in range(100, rows))
        x = re.sub(r"<sheetProtection[^>]*/>", "", x)
        return x.replace("</sheetData>", block + "</sheetData>")
    return edited(good, p, {"sheet:Phụ lục 2": edit})


def crash_on_poison(found):
    """A worker function that dies like a native library aborting, on files named poison."""
    import os

    from qcdc_xl.report import aggregate
    if "poison" in found.rel:
        os.abort()
    return aggregate._work(found)


def stall_on_poison(found):
    """A worker function that never returns on files named poison (a parser stuck)."""
    import time

    from qcdc_xl.report import aggregate
    if "poison" in found.rel:
        time.sleep(3600)
    return aggregate._work(found)


class _Witness:
    """Writes its file when freed: at a worker's exit only if Python frees, one by one, what
    the worker still holds (which a reading worker skips)."""

    def __init__(self, path: str):
        import os

        self.path, self.os = path, os  # (late in an exit, globals and builtins may be gone)

    def __del__(self):
        fd = self.os.open(self.path, self.os.O_WRONLY | self.os.O_CREAT)
        self.os.write(fd, b"freed\n")
        self.os.close(fd)


_HELD: list = []


def read_holding_a_witness(found):
    """The worker's function, which also leaves a witness held by this module and notes the
    worker's process id (folder: QCDC_TEST_WITNESS)."""
    import os
    from pathlib import Path

    from qcdc_xl.report import aggregate
    folder = Path(os.environ["QCDC_TEST_WITNESS"])
    if not _HELD:
        _HELD.append(_Witness(str(folder / f"freed_{os.getpid()}.txt")))
        (folder / f"pid_{os.getpid()}.txt").write_text(str(os.getpid()), encoding="utf-8")
    return aggregate._work(found)
