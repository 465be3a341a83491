"""The fast reading path: a return's cells without openpyxl's ``load_workbook``.

openpyxl spends ~80 % of a return's reading time making a Cell object (styles, descriptors)
for each of its few thousand cells. This module builds the same view the reader and the
comparison use (read._Book around a workbook whose sheets have ``title``, ``_cells``,
``merged_cells``, ``protection``, ``tables``, ``defined_names``; document properties) in a
fraction of that time, and gives *the same* result as the thorough path, by construction:

* **Everything but the cells is openpyxl's own.** The package is handed to openpyxl with each
  sheet's ``<sheetData>`` emptied and the shared strings and document properties left out
  (the "skeleton"): the workbook part, names, styles, tables, merges, protection, the sheet
  parts' other elements are parsed, validated and bound by openpyxl itself, so what it
  refuses is refused here too. The skeleton of one template, as one program saved it, is the
  same byte for byte in every return: it is parsed once per process and remembered.
* **The cells are scanned**, per openpyxl's own rules for turning a ``<c>`` into a value (the
  number casts, date styles, shared and array formulas, inline and shared strings), by a
  strict scanner of the sheet XML as Excel, LibreOffice, WPS and openpyxl write it. The
  document properties (which differ per unit) and the shared strings that are not plain are
  parsed by openpyxl's own functions.
* **Anything else is refused** (:class:`NotFast`): a cell the lenient thorough reader would
  mark unreadable, an XML construct the scanner does not know (a prefix, a comment, CDATA,
  an odd encoding), comments bound to cells, chart sheets. The caller then reads the file
  the thorough way, so the fast path never changes a figure; it only skips work.

The values Excel cached for formula cells come from python-calamine, as on the thorough
path (read._cached_values, the same code).
"""
from __future__ import annotations

import io
import math
import re
import warnings
import zipfile
from collections import OrderedDict, deque
from itertools import chain
from operator import attrgetter, itemgetter

from qcdc_xl.intake.screen import cell_position, lenient_cells, package
from qcdc_xl.memo import LARGEST_KEPT, weight

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_MAIN_XMLNS = f'xmlns="{_MAIN_NS}"'.encode()
_CORE, _CUSTOM = "docProps/core.xml", "docProps/custom.xml"
_KNOWN_TYPES = frozenset({"n", "s", "b", "str", "inlineStr", "e", "d"})
_SKELETONS_KEPT = 32  # skeletons remembered per process (one per template and program)
_LARGEST_SKELETON = 2 * 1024 * 1024  # bytes of a skeleton's parts remembered at most (~40 KB)


class NotFast(Exception):
    """The fast path does not take this file; the thorough path reads it."""


# ---------------------------------------------------------------- the view the reader uses


class FastCell:
    """A cell as read.py and typed.py look at it: its value and openpyxl's data type (and,
    for a formula cell, the value Excel cached, as calamine reads it, or _ASK_CALAMINE)."""

    __slots__ = ("value", "data_type", "cached")

    def __init__(self, value, data_type: str, cached=None):
        self.value, self.data_type, self.cached = value, data_type, cached


_ASK_CALAMINE = object()  # a cached value whose reading by calamine is not worked out here
# Number formats calamine reads a number under as a plain float (not a date): General, 0,
# 0.00, #,##0, #,##0.00, percentages, scientific, fractions, accounting, text (openpyxl's
# numFmtId, which names a built-in format only when the code is that format's).
_PLAIN_FORMATS = frozenset({0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 37, 38, 39, 40, 48, 49})
_PLAIN_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class _Protection:
    __slots__ = ("sheet",)

    def __init__(self, sheet: bool):
        self.sheet = sheet


class FastSheet:
    """One worksheet: its cells from the scan, the rest from the skeleton (shared, read only)."""

    def __init__(self, title: str, cells: dict, shape: "_SheetShape", formulas: dict | None = None,
                 extent: tuple[int, int] | None = None):
        self.title, self._cells = title, cells
        # what the scan worked out on the way: the cached values of the formula cells (as
        # _cached_here takes them from the cells) and the last row and column written
        self._formulas, self._extent = formulas, extent
        self.merged_cells, self.tables = shape.merged_cells, shape.tables
        self.protection, self.defined_names = shape.protection, shape.defined_names
        self._sorted: list | None = None

    @property
    def max_row(self) -> int:
        return self.sorted_keys()[-1][0] if self._cells else 1  # as openpyxl's

    def sorted_keys(self) -> list:
        """The (row, col) of its cells in order, worked out once (the cells never change
        after the scan): the table readers look at a few rows by bisection."""
        if self._sorted is None:
            self._sorted = sorted(self._cells)
        return self._sorted


class FastWorkbook:
    def __init__(self, sheets: list[FastSheet], names: dict, properties, custom):
        self.worksheets = sheets
        self.sheetnames = [ws.title for ws in sheets]
        self._by_title = {ws.title: ws for ws in sheets}
        self.defined_names, self.properties, self.custom_doc_props = names, properties, custom

    def __getitem__(self, title: str) -> FastSheet:
        return self._by_title[title]


class _Name:
    """A defined name with what read._destination asks of it worked out once: openpyxl's
    tokenizer costs ~0.2 ms a name, and a template has a few hundred, the same in every
    return of it. Raises what openpyxl raised, where it raised it."""

    __slots__ = ("attr_text", "_type", "_first", "_error")

    def __init__(self, dn):
        self.attr_text = dn.attr_text
        self._type, self._first, self._error = None, None, None
        try:
            self._type = dn.type
            if self._type == "RANGE":
                self._first = list(_first(dn.destinations))
        except Exception as exc:  # noqa: BLE001 - re-raised where the reader asks
            self._error = exc

    @property
    def type(self):
        if self._error is not None and self._type is None:
            raise self._error
        return self._type

    @property
    def destinations(self):
        if self._error is not None:
            raise self._error
        return iter(self._first or ())


def _first(generator):
    for item in generator:
        yield item
        return


# ---------------------------------------------------------------- the skeleton


class _SheetShape:
    """What the skeleton says of one worksheet."""

    def __init__(self, ws, part: str):
        self.part = part
        self.merged_cells, self.tables = ws.merged_cells, ws.tables
        self.protection = _Protection(bool(ws.protection.sheet))
        self.defined_names = {k: _Name(v) for k, v in ws.defined_names.items()}


class _Skeleton:
    def __init__(self, reader):
        from openpyxl.xml.constants import COMMENTS_NS

        wb = reader.wb
        if wb.chartsheets or len(wb.worksheets) != len(wb._sheets):
            raise NotFast("chart sheet")
        parts = [rel.target for _sheet, rel in reader.parser.find_sheets()
                 if rel.target in reader.valid_files and "chartsheet" not in rel.Type]
        if len(parts) != len(wb.worksheets):
            raise NotFast("sheets and parts do not pair")
        for ws in wb.worksheets:
            if list(ws._rels.find(COMMENTS_NS)):
                raise NotFast("comments (openpyxl makes a cell for each)")
        self.sheets = [(ws.title, _SheetShape(ws, part)) for ws, part in zip(wb.worksheets, parts)]
        self.names = {k: _Name(v) for k, v in wb.defined_names.items()}
        self.date_formats, self.timedelta_formats = wb._date_formats, wb._timedelta_formats
        self.styles, self.epoch = len(wb._cell_styles), wb.epoch
        self.plain_styles = {i for i, style in enumerate(wb._cell_styles) if style.numFmtId in _PLAIN_FORMATS}


_SKELETONS: "OrderedDict[tuple, _Skeleton | NotFast]" = OrderedDict()  # by ((name, bytes), …)
_EMPTY_SST = f'<sst {_MAIN_XMLNS.decode()}/>'.encode()


def _manifest_sst(body: bytes) -> str | None:
    """The shared strings part the content types name (openpyxl reads that one, or none)."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.xml.constants import SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    ct = _memo(("manifest", body), lambda: Manifest.from_tree(fromstring(body)).find(SHARED_STRINGS))
    return ct.PartName[1:] if ct is not None else None


_SMALL: "OrderedDict[tuple, object]" = OrderedDict()


def _memo(key: tuple, make):
    """A small per-process memory of parsed parts, by their bytes (errors remembered too)."""
    if key in _SMALL:
        found = _SMALL[key]
    else:
        try:
            found = make()
        except Exception as exc:  # noqa: BLE001 - the caller's NotFast
            found = NotFast(f"{key[0]}: {type(exc).__name__}")
        if weight(key) <= LARGEST_KEPT:
            _SMALL[key] = found
            if len(_SMALL) > 256:
                _SMALL.popitem(last=False)
    if isinstance(found, NotFast):
        raise found
    return found


def _split(parts: dict, sst: str | None) -> tuple[dict, dict]:
    """(the skeleton's members, sheet part -> its sheetData's inner bytes)."""
    skeleton, data = {}, {}
    for name, body in parts.items():
        if name in (_CORE, _CUSTOM):
            continue
        if name == sst:
            skeleton[name] = _EMPTY_SST
            continue
        if b"sheetData" in body and name.lower().endswith(".xml"):
            start, inner, end = _sheet_data_span(body)
            if body[start - 1:start] == b":" or body.find(_MAIN_XMLNS, 0, start) < 0:
                raise NotFast("sheet namespace")
            data[name] = body[inner:end[0]]
            skeleton[name] = _without_footer(body[:start] + b"<sheetData/>" + body[end[1]:])
            continue
        skeleton[name] = body
    return skeleton, data


def _sheet_data_span(body: bytes) -> tuple[int, int, tuple[int, int]]:
    """(where <sheetData opens, where its content starts, (where it ends, where its close
    tag ends)), found with bytes.find (a lazy regex over 60 KB of cells is slow)."""
    start = body.find(b"<sheetData")
    tag_end = body.find(b">", start) + 1
    if start < 0 or tag_end <= 0 or body[start + 10:start + 11] not in (b">", b"/", b" "):
        raise NotFast("sheetData not plain")
    if b"xmlns" in body[start:tag_end]:
        raise NotFast("sheetData namespace")
    # One sheetData element: the name stands nowhere else before or after it (within its
    # cells it may be a cell's text, which holds no '<': a tag there is refused by the scan)
    if body.find(b"sheetData", 0, start) >= 0:
        raise NotFast("sheetData not plain")
    if body[tag_end - 2:tag_end] == b"/>":
        if body.find(b"sheetData", tag_end) >= 0:
            raise NotFast("sheetData not plain")
        return start, tag_end, (tag_end, tag_end)
    close = body.find(b"</sheetData>", tag_end)
    if close < 0 or body.find(b"sheetData", close + len(b"</sheetData>")) >= 0:
        raise NotFast("sheetData not plain")
    return start, tag_end, (close, close + len(b"</sheetData>"))


_FOOTER = re.compile(rb"<headerFooter\b[^>]*?(?:/>|>.*?</headerFooter\s*>)", re.S)


def _without_footer(body: bytes) -> bytes:
    """The sheet part without its header and footer, which name the unit (so would make
    every return's skeleton differ) and hold nothing the reader reads; checked on their own
    by openpyxl's parser, so what it refuses there is still refused."""
    at = body.find(b"<headerFooter")
    if at < 0:
        return body  # (what _FOOTER matches starts so)
    m = _FOOTER.match(body, at)
    if m is None or body.find(b"headerFooter", 0, at) >= 0 or body.find(b"headerFooter", m.end()) >= 0:
        found = list(_FOOTER.finditer(body))  # the odd ones, with the whole part
        if not found:
            return body
        if len(found) > 1 or body.count(b"headerFooter") != (1 if found[0].group(0).endswith(b"/>") else 2):
            raise NotFast("headerFooter not plain")
        m = found[0]
    elif m.group(0).count(b"headerFooter") != (1 if m.group(0).endswith(b"/>") else 2):
        raise NotFast("headerFooter not plain")
    found = [m]
    element = m.group(0)
    verdict = _FOOTERS.get(element)  # (a return's sheets share their footer)
    if verdict is None:
        try:
            _memo(("footer", _footer_shape(element) or element), lambda: _parse_footer(element))
            verdict = True
        except NotFast as exc:
            verdict = exc
        if len(_FOOTERS) >= 64:
            _FOOTERS.clear()
        _FOOTERS[element] = verdict
    if verdict is not True:
        raise verdict
    return body[:found[0].start()] + body[found[0].end():]


_FOOTERS: dict = {}  # a header and footer's bytes -> True (openpyxl takes it) or its NotFast


_FOOTER_TEXT = re.compile(rb">([^<]+)<")
_LONG_DIGITS = re.compile(r"\d{100}")


def _footer_shape(element: bytes) -> bytes | None:
    """The header and footer with each text replaced by "T", when every text is one
    openpyxl's parse cannot fail on (XML that any parser takes; no _xHHHH_ escape, no run
    of 100 digits, which its font size would turn into an int) nor _parse_footer's check
    of prefixes; else None. openpyxl then
    fails, or does not, on the shape alone: remembering its verdict by the shape spares
    parsing each unit's footer (it names the unit), ~0.3 ms a return."""
    for m in _FOOTER_TEXT.finditer(element):
        raw = m.group(1)
        if b"]]>" in raw or b"_x" in raw or b"\r" in raw or (b":" in raw and b"=" in raw):
            return None  # (a:b= is what _parse_footer takes for a prefixed attribute)
        try:
            text = _unescape(raw.decode("utf-8"))
        except (UnicodeDecodeError, NotFast):
            return None
        if _BAD_CHARS.search(text) or _LONG_DIGITS.search(text):
            return None
    return b"shape:" + _FOOTER_TEXT.sub(b">T<", element)


def _parse_footer(element: bytes):
    from openpyxl.worksheet.header_footer import HeaderFooter
    from openpyxl.xml.functions import fromstring

    if re.search(rb"<\w+:|\s(?!xml:)[\w.-]+:[\w.-]+=", element):
        raise NotFast("prefix in the header or footer")
    return HeaderFooter.from_tree(fromstring(b"<headerFooter " + _MAIN_XMLNS + element[len(b"<headerFooter"):]))


def _skeleton(skeleton_parts: dict) -> _Skeleton:
    # keyed by the parts themselves: a dict finds them by Python's hash of the bytes (~4x
    # faster than a digest) and takes them as the same only when they are equal, byte for byte
    key = tuple(skeleton_parts.items())
    found = _SKELETONS.get(key)
    if found is not None:
        _SKELETONS.move_to_end(key)
    else:
        try:
            found = _load_skeleton(skeleton_parts)
        except NotFast as exc:
            found = exc
        except Exception as exc:  # noqa: BLE001 - openpyxl refuses it: so does the thorough path
            found = NotFast(f"skeleton: {type(exc).__name__}")
        if weight(key) <= _LARGEST_SKELETON:  # (a larger one is read again each time)
            _SKELETONS[key] = found
            if len(_SKELETONS) > _SKELETONS_KEPT:
                _SKELETONS.popitem(last=False)
    if isinstance(found, NotFast):
        raise found
    return found


def _load_skeleton(parts: dict) -> _Skeleton:
    from openpyxl.reader.excel import ExcelReader

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    out.seek(0)
    with warnings.catch_warnings(), lenient_cells():
        warnings.simplefilter("ignore")
        reader = ExcelReader(out, read_only=False, keep_vba=False, data_only=False,
                             keep_links=False, rich_text=False)
        reader.read()
    return _Skeleton(reader)


# ---------------------------------------------------------------- document properties


def _properties(parts: dict):
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.packaging.custom import CustomPropertyList
    from openpyxl.xml.functions import fromstring

    try:
        props = (DocumentProperties.from_tree(fromstring(parts[_CORE])) if _CORE in parts
                 else DocumentProperties())
        custom = _custom_properties(parts[_CUSTOM]) if _CUSTOM in parts else CustomPropertyList()
    except Exception as exc:  # noqa: BLE001 - the thorough path salvages without them
        raise NotFast(f"document properties: {type(exc).__name__}") from None
    return props, custom


_CUSTOM_SHAPES: dict = {}  # a custom properties part, texts left out -> its text properties' names, or False


def _custom_properties(body: bytes):
    """openpyxl's CustomPropertyList of the part. Its texts name the unit, so each return's
    part differs; but when they are plain XML text and the part's shape (the texts left
    out) was seen before, parsed by openpyxl into text properties, one per text and each
    that text, the list is made from the texts directly: same shape, same properties
    (names, types, order), only their texts differ. ~0.3 ms a return."""
    from openpyxl.packaging.custom import CustomPropertyList, StringProperty
    from openpyxl.xml.functions import fromstring

    texts = _plain_texts(body)
    shape = _TEXT_RUN.sub(b">T<", body) if texts is not None else None
    names = _CUSTOM_SHAPES.get(shape) if shape is not None else None
    if names:
        out = CustomPropertyList()
        out.props = [StringProperty(name=name, value=text) for name, text in zip(names, texts)]
        return out
    parsed = CustomPropertyList.from_tree(fromstring(body))
    if shape is not None and names is None and len(shape) <= LARGEST_KEPT:
        props = list(parsed.props)
        plain = len(props) == len(texts) and all(
            type(p) is StringProperty and p.value == text for p, text in zip(props, texts))
        if len(_CUSTOM_SHAPES) >= 64:
            _CUSTOM_SHAPES.clear()
        _CUSTOM_SHAPES[shape] = [p.name for p in props] if plain and props else False
    return parsed


_TEXT_RUN = re.compile(rb">([^<]+)<")


def _plain_texts(body: bytes) -> list | None:
    """The texts between a UTF-8 part's tags, references resolved, when each is plain XML
    text (what any parser takes, no line end to normalise); else None."""
    try:
        _check_encoding(body, "part")
    except NotFast:
        return None
    out = []
    for m in _TEXT_RUN.finditer(body):
        raw = m.group(1)
        if b"]]>" in raw or b"\r" in raw:
            return None
        try:
            text = _unescape(raw.decode("utf-8"))
        except (UnicodeDecodeError, NotFast):
            return None
        if _BAD_CHARS.search(text):
            return None
        out.append(text)
    return out


# ---------------------------------------------------------------- XML text

_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _entity(m: re.Match) -> str:
    ref = m.group(1)
    if ref[0] != "#":
        return _NAMED[ref]
    code = int(ref[2:], 16) if ref[1] == "x" else int(ref[1:])
    if not (code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF):
        raise NotFast("character reference not allowed in XML")
    return chr(code)


_TEXT_PARSER = None


def _unescape(text: str) -> str:
    """XML text with its character and entity references resolved, as a parser does.
    Many references (openpyxl writes every non-ASCII letter as one) are resolved by lxml
    in one C call; a few by a regex."""
    if "&" not in text:
        return text
    if "&" in _ENTITY.sub("", text):
        raise NotFast("entity")
    if text.count("&") < 4:
        return _ENTITY.sub(_entity, text)
    global _TEXT_PARSER
    from lxml import etree

    if _TEXT_PARSER is None:
        _TEXT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.fromstring(f"<t>{text}</t>", _TEXT_PARSER).text or ""
    except etree.XMLSyntaxError:
        raise NotFast("character reference not allowed in XML") from None


def _check_encoding(start: bytes, what: str) -> None:
    """The part is UTF-8 (what the scanners assume), or NotFast."""
    head = start[:100].lower()
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"encoding=" in head and b"utf-8" not in head):
        raise NotFast(f"{what}: not UTF-8")


def _xml_text(body: bytes, what: str) -> str:
    """A part's bytes as the text an XML parser sees: UTF-8 only, line ends normalised."""
    _check_encoding(body, what)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotFast(f"{what}: bad UTF-8") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _BAD_CHARS.search(text):
        raise NotFast(f"{what}: character not allowed in XML")
    return text


# ---------------------------------------------------------------- shared strings

_SST_HEAD = re.compile(r'\s*(?:<\?xml[^>]*\?>)?\s*<sst\b([^>]*?)(/?)>')
_SI = re.compile(r'\s*(?:<si>\s*<t(?: xml:space="preserve")?>([^<]*)</t>\s*</si>'
                 r'|<si>\s*<t(?: xml:space="preserve")?\s*/>\s*</si>)')


def _shared_strings(parts: dict, path: str | None) -> list:
    """The shared strings, as openpyxl's read_string_table gives them (its own function
    for any that are not plain text: rich runs, phonetic guides)."""
    if path is None:
        return []
    body = parts.get(path)
    if body is None:
        raise NotFast("shared strings part missing")
    strings = _plain_strings(body)
    if strings is None:
        from openpyxl.reader.strings import read_string_table
        try:
            strings = read_string_table(io.BytesIO(body))
        except Exception as exc:  # noqa: BLE001 - openpyxl refuses it: so does the thorough path
            raise NotFast(f"shared strings: {type(exc).__name__}") from None
    return strings


def _plain_strings(body: bytes) -> list | None:
    try:
        text = _xml_text(body, "shared strings")
    except NotFast:
        return None
    head = _SST_HEAD.match(text)
    if head is None or _MAIN_XMLNS.decode() not in head.group(1) or "xmlns:" in head.group(1):
        return None
    pos, out = head.end(), []
    if head.group(2):
        return out if not text[pos:].strip() else None
    for m in _SI.finditer(text, pos):
        if m.start() != pos:
            return None
        out.append(_unescape(m.group(1) or "").replace("x005F_", ""))
        pos = m.end()
    return out if re.fullmatch(r"\s*</sst>\s*", text[pos:]) else None


# ---------------------------------------------------------------- cells

_DIGITS = re.compile(r"[0-9]+")


_ROW_ENDS = (b">", b"/", b" ", b"\t", b"\n", b"\r")


def _rows(body: bytes):
    """Each ``<row …>…</row>`` (or ``<row …/>``) of a sheetData's content, in order; only
    white space may stand between them. (Cell text holds no raw '<', so a row ends at the
    first ``</row>``; a '>' inside an attribute value makes the row's own scan refuse it.)"""
    pos, size = 0, len(body)
    while True:
        start = body.find(b"<row", pos)
        if start < 0:
            if body[pos:].strip():
                raise NotFast("unknown element in the cells")
            return
        if body[pos:start].strip() or body[start + 4:start + 5] not in _ROW_ENDS:
            raise NotFast("unknown element in the cells")
        tag_end = body.find(b">", start)
        if tag_end < 0:
            raise NotFast("row not closed")
        if body[tag_end - 1] == 0x2F:  # "/>"
            pos = tag_end + 1
        else:
            close = body.find(b"</row>", tag_end)
            if close < 0:
                raise NotFast("row not closed")
            pos = close + 6
        yield body[start:pos]
        if pos >= size:
            return
_ROWS_KEPT = 20_000  # rows remembered per process (~30 MB; a template has about a thousand)
_CELLS_KEPT = 50_000  # cells of the rows not remembered whole (each row of a unit's figures)
# The counts alone would let hostile files of large distinct rows fill the memory: the bytes
# of what is remembered are bounded too (a template's row is ~400 bytes, its rows and cells
# remembered over a whole run ~10 MB): a larger row or cell is scanned every time.
_LARGEST_KEPT = 64 * 1024  # bytes of one row or cell remembered at most
_BYTES_KEPT = 24 * 1024 * 1024  # bytes of every row and cell remembered, in all the sheets


_ERROR, _REFS, _PAIRS, _CELLS = attrgetter("error"), attrgetter("refs"), attrgetter("pairs"), attrgetter("cells")
_FORMULAS, _MAX_ROW, _MAX_COL = attrgetter("formulas"), attrgetter("max_row"), attrgetter("max_col")


class _Row:
    """What one row holds, worked out once: its cells in the file's order as (at, cell or
    shared string index); whether any is such an index; its formula cells' cached values;
    the last row and column it writes; or the NotFast it was refused with."""

    __slots__ = ("pairs", "refs", "cells", "formulas", "max_row", "max_col", "error", "keep")

    def __init__(self, entries: list, keep: bool, error: NotFast | None = None):
        self.pairs, self.keep, self.error = tuple(entries), keep, error
        refs, formulas, max_row, max_col = False, [], 0, 0
        for at, cell in entries:  # (one loop: a unit's rows are scanned in every return)
            if type(cell) is int:
                refs = True
            elif cell.data_type == "f":
                formulas.append((at, cell.cached))
            if at[0] > max_row:
                max_row = at[0]
            if at[1] > max_col:
                max_col = at[1]
        self.refs, self.formulas, self.max_row, self.max_col = refs, tuple(formulas), max_row, max_col
        self.cells = None if refs else dict(entries)  # (dict.update reuses its hashes)


class _Table(dict):
    """One table of a _SheetMemo, which counts the bytes of its keys (``held``)."""

    __slots__ = ("held",)

    def __init__(self):
        super().__init__()
        self.held = 0


class _SheetMemo:
    """The rows and cells of one sheet part of one skeleton seen so far in this process.
    A row's reading depends on the skeleton (styles, date formats) and on the sheet's
    namespace declarations (part of the skeleton) only: remembering it by (skeleton, part)
    is exact."""

    def __init__(self):
        self.rows = _Table()  # a row's bytes between "<row" and "</row>" -> _Row
        self.full_rows = _Table()  # a row's bytes as _rows yields them -> _Row
        self.cells = _Table()  # a plain cell's bytes after "<c " -> (at, cell or string index)
        self.heads = _Table()  # (a plain row's open tag, self-closing?) -> its attributes

    def tables(self) -> tuple:
        return self.rows, self.full_rows, self.cells, self.heads


_MEMOS: dict = {}  # (skeleton, part) -> _SheetMemo
_HELD = [0]  # bytes of the keys every _SheetMemo's tables hold


def _memo_of(skel: "_Skeleton", part: str) -> _SheetMemo:
    found = _MEMOS.get((skel, part))
    if found is None:
        if len(_MEMOS) >= 4 * _SKELETONS_KEPT:
            _forget_all()
            _MEMOS.clear()
        found = _MEMOS[(skel, part)] = _SheetMemo()
    return found


def _remember(table: _Table, key, value, kept: int, size: int) -> None:
    """``table[key] = value`` within the bounds: at most ``kept`` entries in the table, no
    entry of more than _LARGEST_KEPT bytes (``size``: the key's), _BYTES_KEPT in all."""
    if size > _LARGEST_KEPT:
        return
    if len(table) >= kept:
        _forget(table)
    if _HELD[0] + size > _BYTES_KEPT:
        _forget_all()
    table[key] = value
    table.held += size
    _HELD[0] += size


def _forget(table: _Table) -> None:
    _HELD[0] -= table.held
    table.clear()
    table.held = 0


def _forget_all() -> None:
    for memo in _MEMOS.values():
        for table in memo.tables():
            _forget(table)


def _unknown_construct(xml: bytes) -> bool:
    """A namespace declaration, a comment, CDATA, a DTD or a processing instruction: what
    the scanners do not read (the file is read the thorough way)."""
    return b"xmlns" in xml or b"<!" in xml or b"<?" in xml


def _row_pieces(body: bytes) -> list | None:
    """Each row of a sheetData's content without its "<row" and "</row>", with one split
    and one count; None when the rows are not written back to back, each closed by
    "</row>" (white space between them, a row written <row …/>): then _rows finds them.
    Joined again, a piece is that row's bytes, as _rows gives them; a piece that is not one
    row is refused by the row's own scan, as _rows would refuse it."""
    if not (body.startswith(b"<row") and body.endswith(b"</row>")):
        return None
    pieces = body[4:-6].split(b"</row><row")
    return pieces if body.count(b"<row") == len(pieces) else None


class _SheetScan:
    """One sheet's ``<sheetData>`` turned into {(row, col): FastCell} per openpyxl's rules.

    A return's rows are mostly its template's, byte for byte the same in every return of
    it (titles, headers, formulas, the empty rows of the tables): each distinct row is
    scanned once per process and remembered, with its shared strings left as indexes into
    the file's own table; so is each distinct cell of the rows that are not (a unit's
    figures sit among the template's cells). A row using shared formulas depends on the
    rows before it and is scanned every time."""

    def __init__(self, skel: _Skeleton, strings: list, head: bytes, part: str):
        self.skel, self.strings, self.head, self.part = skel, strings, head, part
        self._wrapper: tuple | None = None
        self._prefixes: dict | None = None
        self.shared: dict = {}  # si -> openpyxl Translator, per sheet as openpyxl keeps them
        self.memo = _memo_of(skel, part)
        # set by cells(): {at: cached value} of the formula cells (None: work it out from
        # the cells), and the last row and column any cell is written at
        self.formulas: dict | None = None
        self.extent = (0, 0)

    def cells(self, body: bytes) -> dict:
        _check_encoding(self.head, "sheet")
        pieces = _row_pieces(body)
        if pieces is not None:  # (each new row is looked at for these by _scan_row: the
            rows = self._known_rows(pieces)  # split's joints cannot hold or hide them)
        else:
            if _unknown_construct(body):
                raise NotFast("namespace, comment or CDATA in the cells")
            rows = [self._full_row(r) for r in _rows(body)]
        if any(map(_ERROR, rows)):
            raise next(row.error for row in rows if row.error is not None)
        if rows:
            self.extent = (max(map(_MAX_ROW, rows)), max(map(_MAX_COL, rows)))
        if not any(map(_REFS, rows)):
            out = {}
            deque(map(out.update, map(_CELLS, rows)), maxlen=0)  # in the file's order
        else:
            out = self._with_strings(rows)
        if len(out) == sum(map(len, map(_PAIRS, rows))):  # no cell written twice
            self.formulas = dict(chain.from_iterable(map(_FORMULAS, rows)))
        return out

    def _known_rows(self, pieces: list) -> list:
        """The _Row of each piece: remembered, else scanned (in the file's order, for the
        shared formulas) and remembered when it may be."""
        known = self.memo.rows
        rows = list(map(known.get, pieces))
        if None in rows:
            for i, row in enumerate(rows):
                if row is None:
                    rows[i] = row = self._scan_row(b"<row" + pieces[i] + b"</row>")
                    if row.keep:
                        _remember(known, pieces[i], row, _ROWS_KEPT, len(pieces[i]))
        return rows

    def _full_row(self, row: bytes) -> _Row:
        known = self.memo.full_rows
        found = known.get(row)
        if found is None:
            found = self._scan_row(row)
            if found.keep:
                _remember(known, row, found, _ROWS_KEPT, len(row))
        return found

    def _with_strings(self, rows: list) -> dict:
        out, strings = {}, self.strings
        try:  # in the file's order, as openpyxl's cells are
            for row in rows:
                if not row.refs:
                    out.update(row.pairs)
                    continue
                for at, cell in row.pairs:
                    out[at] = FastCell(strings[cell], "s") if type(cell) is int else cell
        except IndexError:
            raise NotFast("shared string index out of range") from None
        return out

    def _scan_row(self, row: bytes) -> _Row:
        """The row's _Row (refused ones too: remembered as such). A row of the plain shapes
        is scanned by _plain_entries; any other is parsed by lxml (so entities, character
        references and line ends are an XML parser's), inside an element declaring the
        sheet's namespace prefixes."""
        try:
            if _unknown_construct(row):
                raise NotFast("namespace, comment or CDATA in the cells")
            plain = self._plain_entries(row)
            if plain is not None:
                return _Row(*plain)
            from lxml import etree

            try:
                wrapper = etree.fromstring(self.wrapper[0] + row + self.wrapper[1], _row_parser())
            except etree.XMLSyntaxError:
                raise NotFast("row is no well-formed XML") from None
            if len(wrapper) != 1:
                raise NotFast("row")
            return _Row(*self._row_cells(wrapper[0]))
        except NotFast as exc:
            return _Row([], True, exc)

    def _plain_entries(self, row: bytes) -> tuple[list, bool] | None:
        """_row_cells of the tree lxml makes of a row of the plain shapes (_plain_pieces,
        _plain_head, _plain_cell), each distinct cell worked out once; None for a row of
        other shapes (lxml parses it)."""
        found = _plain_pieces(row)
        if found is None:
            return None
        head, cells, self_closing = found
        memo, prefixes = self.memo, self.prefixes
        attrs = memo.heads.get((head, self_closing))
        known = memo.cells
        try:  # every new piece's tree first: one lxml must parse sends the whole row to it
            if attrs is None:
                attrs = _plain_head(head, prefixes, self_closing)
                _remember(memo.heads, (head, self_closing), attrs, _CELLS_KEPT, len(head))
            new = {piece: _plain_cell(piece, prefixes) for piece in cells if piece not in known}
        except _NotPlain:
            return None
        self._check_row(attrs)
        entries, seen, keep = [], set(), True
        for piece in cells:
            hit = known.get(piece)
            if hit is None:
                at, cell, shared = self._cell(new[piece])
                if not shared:
                    _remember(known, piece, (at, cell), _CELLS_KEPT, len(piece))
                keep = keep and not shared
            else:
                at, cell = hit
            if at in seen:
                raise NotFast("cell given twice in a row")
            seen.add(at)
            entries.append((at, cell))
        return entries, keep

    @property
    def wrapper(self) -> tuple[bytes, bytes]:
        if self._wrapper is None:
            root = re.search(rb"<(?:[\w.-]+:)?worksheet\b[^>]*>", self.head)
            decls = re.findall(rb"""\sxmlns:[\w.-]+\s*=\s*(?:"[^"]*"|'[^']*')""", root.group(0)) if root else []
            self._wrapper = (b"<w" + b"".join(decls) + b">", b"</w>")
        return self._wrapper

    @property
    def prefixes(self) -> dict:
        """Prefix -> namespace of the sheet's declarations (as the wrapper declares them)."""
        if self._prefixes is None:
            found = re.findall(rb'\sxmlns:([A-Za-z_][A-Za-z0-9_.-]*)="([^"<&]*)"', self.wrapper[0])
            self._prefixes = {p.decode(): uri.decode("utf-8", "replace") for p, uri in found}
            self._prefixes["xml"] = _XML_NS
        return self._prefixes

    def _row_cells(self, row):
        if row.tag != "row":
            raise NotFast("row")
        self._check_row(row.attrib)
        entries, seen, keep = [], set(), True
        for element in row:
            if element.tag != "c":
                raise NotFast("unknown element in a row")
            at, cell, shared = self._cell(element)
            if at in seen:
                raise NotFast("cell given twice in a row")
            seen.add(at)
            keep = keep and not shared
            entries.append((at, cell))
        return entries, keep

    def _check_row(self, attrs) -> None:
        """What openpyxl's row dimensions would refuse (the whole workbook with them)."""
        r = attrs.get("r")
        if r is not None and not (_DIGITS.fullmatch(r) and 1 <= int(r) <= 1_048_576):
            raise NotFast("row number")
        try:
            if "ht" in attrs:
                float(attrs["ht"])
            if "outlineLevel" in attrs:
                int(attrs["outlineLevel"])
        except ValueError:
            raise NotFast("row attribute") from None
        s = attrs.get("s")
        if s is not None and not (_DIGITS.fullmatch(s) and int(s) < self.skel.styles):
            raise NotFast("row style")

    def _cell(self, element):
        """(row, col), the cell (or, for a shared string, its index), whether it uses a
        shared formula; per openpyxl's WorkSheetParser.parse_cell and the lenient reader."""
        attrs = element.attrib
        address, kind = attrs.get("r"), attrs.get("t", "n")
        at = _position(address) if address else None
        if at is None or kind not in _KNOWN_TYPES:
            raise NotFast("cell address or type")
        style = attrs.get("s") or "0"
        if not (_DIGITS.fullmatch(style) and int(style) < self.skel.styles):
            raise NotFast("cell style")
        f = v = inline = None
        for child in element:
            tag = child.tag
            if tag == "f" and f is None:
                f = child
            elif tag == "v" and v is None and not len(child) and not child.attrib:
                v = child
            elif tag == "is" and inline is None:
                inline = child
            else:
                raise NotFast("cell content")
        if (kind == "inlineStr" and v is not None and inline is None) or (
                kind != "inlineStr" and inline is not None and v is None):
            raise NotFast("type does not match content")  # the thorough reader: unreadable
        if f is not None:
            value, shared = self._formula(address, f)
            return at, FastCell(value, "f", self._cached(kind, v, int(style))), shared
        if kind == "inlineStr":
            return at, (FastCell(_inline_text(inline), "s") if inline is not None else FastCell(None, kind)), False
        raw = v.text if v is not None else None
        if raw is None and v is not None:
            raw = ""
        if kind == "s" and raw is not None and not raw.strip().isdigit():
            raise NotFast("shared string index")
        if not raw:
            return at, FastCell(None, kind), False
        if kind == "s":
            try:
                return at, int(raw), False
            except ValueError:
                raise NotFast("shared string index") from None
        return at, self._typed(raw, kind, int(style)), False

    def _cached(self, kind: str, v, style: int):
        """The value calamine gives for this formula cell's cached <v>, where that is plain:
        nothing (None), a text, or a float under a number format that is no date's."""
        text = v.text if v is not None else None
        if not text:
            return None
        if kind == "str":
            return text
        if kind == "n" and style in self.skel.plain_styles and _PLAIN_NUMBER.fullmatch(text):
            value = float(text)
            return value if math.isfinite(value) else _ASK_CALAMINE
        return _ASK_CALAMINE

    def _typed(self, raw: str, kind: str, style: int) -> FastCell:
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        try:
            if kind == "n":
                value = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
                if isinstance(value, float) and not math.isfinite(value):
                    raise NotFast("number not finite")
                if style in self.skel.date_formats:
                    return FastCell(from_excel(value, self.skel.epoch,
                                               timedelta=style in self.skel.timedelta_formats), "d")
                return FastCell(value, "n")
            if kind == "b":
                return FastCell(bool(int(raw)), "b")
            if kind == "str":
                return FastCell(raw, "s")
            if kind == "d":
                return FastCell(from_ISO8601(raw), "d")
            return FastCell(raw, kind)  # "e"
        except NotFast:
            raise
        except Exception as exc:  # noqa: BLE001 - the thorough reader: unreadable (or #VALUE!)
            raise NotFast(f"cell value: {type(exc).__name__}") from None

    def _formula(self, address: str, f):
        """openpyxl's value of a formula cell; and whether it is (part of) a shared one."""
        from openpyxl.formula.translate import Translator
        from openpyxl.worksheet.formula import ArrayFormula

        if len(f):
            raise NotFast("formula content")
        value = "=" + (f.text or "")
        kind = f.get("t")
        try:
            if kind == "array":
                return ArrayFormula(ref=f.get("ref"), text=value), False
            if kind == "shared":
                idx = f.get("si")
                if idx in self.shared:
                    return self.shared[idx].translate_formula(address), True
                if value != "=":
                    self.shared[idx] = Translator(value, address)
                return value, True
        except Exception as exc:  # noqa: BLE001 - the thorough reader fails the same way
            raise NotFast(f"formula: {type(exc).__name__}") from None
        if kind == "dataTable":
            raise NotFast("data table formula")
        return value, False


def _inline_text(inline) -> str:
    """Text.from_tree(<is>).content for the plain form: one <t>, no runs."""
    if len(inline) != 1 or inline[0].tag != "t" or len(inline[0]):
        raise NotFast("inline string not plain")
    return inline[0].text or ""


# ---------------------------------------------------------------- plain rows without lxml

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_ATTRS = rf'((?>(?:[ \t\n]+{_NAME}(?::{_NAME})?="[^"<&\t\n]*")*))[ \t\n]*+'  # no reference, no tab to normalise
_ATTR = re.compile(rf'({_NAME})(?::({_NAME}))?="([^"]*)"')
_PLAIN_ROW_OPEN = re.compile(rf"<row{_ATTRS}(/?)>")  # (fullmatch: the whole open tag)
# a cell as writers write it: <c …/>, or <c …> [<f …>text</f> | <f …/>] [<v>text</v> | <v/>] </c>,
# or <c …><is><t …>text</t></is></c> (or <t …/>)
_PLAIN_CELL = re.compile(
    rf"<c{_ATTRS}(?:/>|>(?:<is><t{_ATTRS}(?:/>|>([^<]*+)</t>)</is>"
    rf"|(?:<f{_ATTRS}(?:/>|>([^<]*+)</f>))?(?:<v>([^<]*+)</v>|(<v/>))?)</c>)")


class _Element:
    """The part of an lxml element the row scan looks at (tag, attrib, text, children)."""

    __slots__ = ("tag", "attrib", "text", "children")

    def __init__(self, tag: str, attrib: dict, text: str | None, children: tuple = ()):
        self.tag, self.attrib, self.text, self.children = tag, attrib, text, children

    def get(self, key: str, default=None):
        return self.attrib.get(key, default)

    def __len__(self) -> int:
        return len(self.children)

    def __iter__(self):
        return iter(self.children)

    def __getitem__(self, i: int):
        return self.children[i]


class _NotPlain(Exception):
    """This row is not of the plain shapes: lxml parses it."""


_REFUSED_BYTES = bytes([*range(0, 9), 11, 12, 13, *range(14, 32)])  # not XML, or a line end (normalised)


def _plain_pieces(row: bytes) -> tuple[bytes, list, bool] | None:
    """(the row's open tag, the bytes of each cell after its "<c ", whether the row is
    written <row …/>) when the row may be of
    the plain shapes: no character XML refuses or a parser would normalise (a line end),
    its cells each opened by "<c "; else None (lxml parses it). (Text and attribute values
    hold no raw '<': "<c " only opens a cell; a piece that is not one plain cell is
    refused by _plain_cell.)"""
    if (len(row) > 200_000  # (lxml's limits on one text are not worked out here)
            or len(row.translate(None, _REFUSED_BYTES)) != len(row) or b"]]>" in row
            or b"\xef\xbf\xbe" in row or b"\xef\xbf\xbf" in row):  # U+FFFE, U+FFFF
        return None
    if row.endswith(b"</row>"):
        pieces = row[:-6].split(b"<c ")
        return pieces[0], pieces[1:], False
    return (row, [], True) if b"<c " not in row else None  # <row …/>


def _plain_head(head: bytes, prefixes: dict, self_closing: bool) -> dict:
    """The attributes of a row's open tag: <row …/> when ``self_closing``, else <row …>."""
    try:
        m = _PLAIN_ROW_OPEN.fullmatch(head.decode("utf-8"))
    except UnicodeDecodeError:
        raise _NotPlain from None
    if m is None or bool(m.group(2)) != self_closing:
        raise _NotPlain
    return _attributes(m.group(1), prefixes)


def _plain_cell(piece: bytes, prefixes: dict) -> _Element:
    """The tree lxml makes of one cell ("<c " + piece) of the shapes _PLAIN_CELL reads."""
    try:
        m = _PLAIN_CELL.fullmatch("<c " + piece.decode("utf-8"))
    except UnicodeDecodeError:
        raise _NotPlain from None
    if m is None:
        raise _NotPlain
    c_attrs, t_attrs, t_text, f_attrs, f_text, v_text, v_empty = m.groups()
    children = []
    if t_attrs is not None:  # <is><t>
        t = _Element("t", _attributes(t_attrs, prefixes), _text(t_text))
        children.append(_Element("is", {}, None, (t,)))
    else:
        if f_attrs is not None:
            children.append(_Element("f", _attributes(f_attrs, prefixes), _text(f_text)))
        if v_text is not None or v_empty:
            children.append(_Element("v", {}, _text(v_text)))
    return _Element("c", _attributes(c_attrs, prefixes), None, tuple(children))


def _text(found: str | None) -> str | None:
    """An element's text as lxml gives it: None when empty, references resolved."""
    if not found:
        return None
    return _unescape(found) if "&" in found else found


def _attributes(found: str, prefixes: dict) -> dict:
    """The attributes as lxml keys them ({namespace}name for a prefixed one); _NotPlain for
    an undeclared prefix or an attribute given twice (lxml refuses both)."""
    if not found:
        return {}
    out = {}
    pairs = _ATTR.findall(found)
    for first, second, value in pairs:
        if second:
            if first not in prefixes:
                raise _NotPlain
            key = f"{{{prefixes[first]}}}{second}"
        elif first == "xmlns":
            raise _NotPlain
        else:
            key = first
        out[key] = value
    if len(out) != len(pairs):
        raise _NotPlain
    return out


_POSITIONS: dict = {}


def _position(address: str):
    """screen.cell_position of a cell's own address (remembered: the same few thousand)."""
    at = _POSITIONS.get(address)
    if at is None:
        at = cell_position(address, absolute=False)
        if len(_POSITIONS) < 50_000:
            _POSITIONS[address] = at
    return at


_ROW_PARSER = None


def _row_parser():
    global _ROW_PARSER
    if _ROW_PARSER is None:
        from lxml import etree

        _ROW_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                      huge_tree=False, remove_blank_text=False)
    return _ROW_PARSER


# ---------------------------------------------------------------- the whole book


def _members(data: bytes) -> dict:
    z = package(data)  # the members sniffing and screening unpacked already
    infos = z.infos
    if len({i.filename for i in infos}) != len(infos):
        raise NotFast("member given twice")
    return {i.filename: z.read(i) for i in infos}


def open_fast(data: bytes):
    """The return as read._Book, built the fast way; NotFast when this path does not take it."""
    from qcdc_xl.intake.read import _MODIFIED, _Book, _cached_values

    parts = _members(data)
    if "[Content_Types].xml" not in parts:
        raise NotFast("no content types")
    sst_path = _manifest_sst(parts["[Content_Types].xml"])
    skeleton_parts, sheet_data = _split(parts, sst_path)
    skel = _skeleton(skeleton_parts)
    strings = _shared_strings(parts, sst_path)
    properties, custom = _properties(parts)
    if set(sheet_data) - {shape.part for _title, shape in skel.sheets}:
        raise NotFast("a sheet part no sheet of the workbook is")  # calamine_safe looks at it
    sheets = []
    for title, shape in skel.sheets:
        body = sheet_data.get(shape.part)
        if body is None:
            raise NotFast("sheet part without cells")
        head = parts[shape.part][:4096]
        scan = _SheetScan(skel, strings, head, shape.part)
        sheets.append(FastSheet(title, scan.cells(body), shape, scan.formulas, scan.extent))
    wb = FastWorkbook(sheets, skel.names, properties, custom)
    # calamine is handed the file when every cell the sheets write lies inside a grid it can
    # allocate: the cells just scanned are all of them (read.calamine_safe, without a rescan)
    known = _CORE in parts and bool(_MODIFIED.search(parts[_CORE]))
    safe = all(map(_grid_ok, sheets))
    cached = _cached_here(sheets) if safe else None
    if cached is None:
        cached = _cached_values(data, wb, safe=safe)
    return _Book(wb=wb, cached=cached, saved_time_known=known)


def _cached_here(sheets: list[FastSheet]) -> dict | None:
    """The cached values of the formula cells as read._cached_values gets them from
    calamine (a dict per sheet holding formulas), when every one is plain enough to read
    here; else None (then calamine reads them: ~4 ms a return)."""
    from qcdc_xl.intake.read import MAX_GRID_CELLS, _grid_cells

    out = {}
    for ws in sheets:
        found = ws._formulas
        if found is None:
            found = {at: cell.cached for at, cell in ws._cells.items() if cell.data_type == "f"}
        if not found:
            continue
        if _ASK_CALAMINE in found.values():
            return None
        if not _grid_ok(ws) and _grid_cells(ws) > MAX_GRID_CELLS:  # the bound, then the count
            return None
        out[ws.title] = found
    return out


def _grid_ok(ws: FastSheet) -> bool:
    from qcdc_xl.intake.read import MAX_GRID_CELLS

    if not ws._cells:
        return True
    if ws._extent is not None:
        return ws._extent[0] * ws._extent[1] <= MAX_GRID_CELLS
    return max(ws._cells)[0] * max(map(itemgetter(1), ws._cells)) <= MAX_GRID_CELLS
