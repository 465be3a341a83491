"""Tidy a workbook saved by openpyxl so Excel opens it as-is, without rewriting it.

openpyxl 3.1 writes every string inline (``t="inlineStr"``) and orders a font's children
its own way. Excel accepts both but rewrites the file on the next save, and the OOXML
checks (openxml-audit, like Excel's repair pass) flag them. This moves inline strings into
a shared-strings table and puts font children in the schema's sequence.

openpyxl also gives every sheet's comment drawing (VML) the same ``o:idmap`` block 1 and
the same shape ids; with comments on two sheets Excel "repairs" the file and drops notes.
Each VML part gets its own block(s) and shape ids inside them. And it writes a comment's
``shapeId="0"``, which Office 2010 added: Excel 2007's schema does not know it, and it is
optional (a note finds its drawing by cell), so it is left out.
"""
from __future__ import annotations

import io
import zipfile

from lxml import etree

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_PART = "xl/sharedStrings.xml"
_VML_O = "urn:schemas-microsoft-com:office:office"
_VML_V = "urn:schemas-microsoft-com:vml"
_VML_BLOCK = 1024  # shape ids of o:idmap block n are n*1024 .. n*1024+1023
# CT_Font children in the order of the Open XML SDK's schema.
_FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign",
               "sz", "color", "name", "family", "charset", "scheme")


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _xml(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _order_fonts(styles: bytes) -> bytes:
    root = etree.fromstring(styles)
    rank = {_q(t): i for i, t in enumerate(_FONT_ORDER)}
    for font in root.iter(_q("font")):
        children = sorted(font, key=lambda el: rank.get(el.tag, len(rank)))
        for child in children:
            font.append(child)  # re-appending moves each child into sorted order
    return _xml(root)


def _vml_order(name: str) -> tuple:
    """commentsDrawing2.vml before commentsDrawing10.vml."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0, name)


def _number_vml_drawings(parts: dict) -> None:
    """Give each VML part its own o:idmap block(s) and its shapes ids inside them."""
    block = 1
    for name in sorted((n for n in parts if n.endswith(".vml")), key=_vml_order):
        root = etree.fromstring(parts[name])
        idmaps = list(root.iter(f"{{{_VML_O}}}idmap"))
        shapes = [el for el in root.iter(f"{{{_VML_V}}}shape") if (el.get("id") or "").startswith("_x0000_s")]
        if not idmaps:
            continue
        needed = len(shapes) // _VML_BLOCK + 1  # ids n*1024+1 .. n*1024+len(shapes)
        for idmap in idmaps:
            idmap.set("data", ",".join(str(b) for b in range(block, block + needed)))
        for i, shape in enumerate(shapes, start=1):
            shape.set("id", f"_x0000_s{block * _VML_BLOCK + i}")
        parts[name] = etree.tostring(root)
        block += needed


def _drop_comment_shape_ids(parts: dict) -> None:
    for name in [n for n in parts if n.startswith("xl/comments") and n.endswith(".xml")]:
        root = etree.fromstring(parts[name])
        for comment in root.iter(_q("comment")):
            comment.attrib.pop("shapeId", None)
        parts[name] = _xml(root)


class _SharedStrings:
    def __init__(self, existing: bytes | None):
        self.root = etree.fromstring(existing) if existing else etree.Element(_q("sst"), nsmap={None: NS})
        self.count = len(self.root.findall(_q("si")))

    def add(self, inline) -> int:
        si = etree.SubElement(self.root, _q("si"))
        for child in list(inline):
            si.append(child)
        self.count += 1
        return self.count - 1

    def to_bytes(self) -> bytes:
        self.root.set("count", str(self.count))
        self.root.set("uniqueCount", str(self.count))
        return _xml(self.root)


def _share_strings(sheet: bytes, sst: _SharedStrings) -> bytes:
    root = etree.fromstring(sheet)
    for cell in root.iter(_q("c")):
        if cell.get("t") != "inlineStr":
            continue
        inline = cell.find(_q("is"))
        index = sst.add(inline) if inline is not None else sst.add(etree.Element(_q("is")))
        if inline is not None:
            cell.remove(inline)
        cell.set("t", "s")
        etree.SubElement(cell, _q("v")).text = str(index)
    return _xml(root)


def _ensure_sst_registered(parts: dict) -> None:
    rels_name = "xl/_rels/workbook.xml.rels"
    rels = etree.fromstring(parts[rels_name])
    if not any(r.get("Type") == _SST_TYPE for r in rels):
        ids = {r.get("Id") for r in rels}
        new_id = next(f"rId{n}" for n in range(1, len(ids) + 2) if f"rId{n}" not in ids)
        etree.SubElement(rels, f"{{{_REL_NS}}}Relationship", Id=new_id, Type=_SST_TYPE,
                         Target="sharedStrings.xml")
        parts[rels_name] = _xml(rels)
    types = etree.fromstring(parts["[Content_Types].xml"])
    if not any(o.get("PartName") == "/" + _SST_PART for o in types):
        etree.SubElement(types, f"{{{_CT_NS}}}Override", PartName="/" + _SST_PART, ContentType=_SST_CT)
        parts["[Content_Types].xml"] = _xml(types)


def tidy_openpyxl_output(data: bytes) -> bytes:
    """The same workbook with shared strings, schema-ordered fonts and distinct VML blocks."""
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        infos = zin.infolist()
        parts = {i.filename: zin.read(i.filename) for i in infos}
    sst = _SharedStrings(parts.get(_SST_PART))
    for name in sorted(parts):
        if name.startswith("xl/worksheets/sheet") and name.endswith(".xml"):
            parts[name] = _share_strings(parts[name], sst)
    if "xl/styles.xml" in parts:
        parts["xl/styles.xml"] = _order_fonts(parts["xl/styles.xml"])
    _number_vml_drawings(parts)
    _drop_comment_shape_ids(parts)
    if sst.count:
        parts[_SST_PART] = sst.to_bytes()
        _ensure_sst_registered(parts)
    out = io.BytesIO()
    names = [i.filename for i in infos] + ([_SST_PART] if _SST_PART not in {i.filename for i in infos} and sst.count else [])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in names:
            zout.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), parts[name],
                          compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


_PRINT_AREA = "_xlnm.Print_Area"


def _sheet_names(workbook) -> list[str]:
    return [s.get("name") for s in workbook.iter(_q("sheet"))]


def _workbook_part(z: zipfile.ZipFile) -> str:
    """The workbook part the package's root relationships name (Excel: xl/workbook.xml)."""
    rels = etree.fromstring(z.read("_rels/.rels"))
    for r in rels:
        if (r.get("Type") or "").endswith("/officeDocument") and r.get("TargetMode") != "External":
            return (r.get("Target") or "").lstrip("/")
    return "xl/workbook.xml"


def restore_print_areas(source: bytes, data: bytes) -> bytes:
    """``data`` (openpyxl's save of ``source``) with the print areas openpyxl dropped put back.

    openpyxl keeps only a plain range as a print area; the template's self-sizing one
    (``$A$1:INDEX(…)``, it grows with the rows filled in) is dropped on load. Each print area of
    ``source`` whose sheet has none in ``data`` is copied over, its scope (a sheet index)
    re-mapped by sheet name, since the copy may have a sheet more in front.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(source)) as z:
            old = etree.fromstring(z.read(_workbook_part(z)))
    except (KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return data  # openpyxl read it, so this is unlikely; the copy is still good without
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i.filename) for i in infos}
    new = etree.fromstring(parts["xl/workbook.xml"])
    old_names, new_index = _sheet_names(old), {n: i for i, n in enumerate(_sheet_names(new))}
    names = new.find(_q("definedNames"))
    have = {d.get("localSheetId") for d in (names if names is not None else ()) if d.get("name") == _PRINT_AREA}
    missing = []
    for d in old.iter(_q("definedName")):
        scope = d.get("localSheetId")
        if d.get("name") != _PRINT_AREA or scope is None or not scope.isdigit() or int(scope) >= len(old_names):
            continue
        target = new_index.get(old_names[int(scope)])
        if target is not None and str(target) not in have:
            missing.append((target, d.text or ""))
    if not missing:
        return data
    if names is None:  # definedNames sits right after sheets in CT_Workbook's sequence
        names = etree.Element(_q("definedNames"))
        new.find(_q("sheets")).addnext(names)
    for target, text in sorted(missing):
        el = etree.SubElement(names, _q("definedName"), name=_PRINT_AREA, localSheetId=str(target))
        el.text = text
    parts["xl/workbook.xml"] = _xml(new)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zout.writestr(info, parts[info.filename], compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
