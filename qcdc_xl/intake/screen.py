"""Screening a workbook's parts before the spreadsheet libraries see them.

Three things a damaged or hostile return can hold cost far more than the part they sit in:

* a huge range in a sheet's ``<mergeCell>`` or ``<hyperlink>``: openpyxl makes one cell
  object per cell of it (``A1:XFD1048576`` asked for ~2.5 GB within 20 s). Such a range is
  dropped (merges and links only change how a sheet looks) and reported;
* a shared-strings ``count``/``uniqueCount`` that lies: calamine reserves memory for it
  before reading, and a failed allocation aborts the whole process (a Rust abort cannot be
  caught). A count larger than the part can hold is removed: it carries no data;
* a cell openpyxl cannot read (``<v>NaN</v>``, a shared-string index out of range, an
  unknown ``t="S"``, an address like ``A0``) either stops the whole workbook or is read
  silently as something else (``t="S"`` as the string's index). :func:`lenient_cells`
  reads such a cell as an :class:`Unreadable` value, so only that cell is lost, reported
  where it is.
"""
from __future__ import annotations

import io
import math
import re
import struct
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from qcdc_xl.memo import Memo, cache_short

MAX_RANGE_CELLS = 10_000  # cells of one merge or hyperlink range (the template's largest: ~50)
MAX_SHEET_RANGE_CELLS = 1_000_000  # cells of all merges and hyperlink ranges of one sheet
MAX_COL, MAX_ROW = 16_384, 1_048_576  # XFD, Excel's last row

_RANGE_ELEMENT = re.compile(
    rb"<(?:[\w.-]+:)?(mergeCell|hyperlink)\b([^>]*?)(?:/>|>.*?</(?:[\w.-]+:)?\1\s*>)", re.S)
_REF_ATTR = re.compile(rb"""\sref\s*=\s*(["'])(.*?)\1""", re.S)
_SQREF_ELEMENT = re.compile(
    rb"<(?:[\w.-]+:)?(dataValidation|conditionalFormatting)\b([^>]*?)(?:/>|>.*?</(?:[\w.-]+:)?\1\s*>)", re.S)
_SQREF_ATTR = re.compile(rb"""\ssqref\s*=\s*(["'])(.*?)\1""", re.S)
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?([1-9]\d{0,6})$")
_PLAIN_CELL = re.compile(r"^([A-Z]{1,3})([1-9]\d{0,6})$")  # a cell's own r=, as openpyxl reads it
_SST_START = re.compile(rb"<(?:[\w.-]+:)?sst\b[^>]*>")
_SST_COUNT = re.compile(rb"""\s(count|uniqueCount)\s*=\s*(["'])(.*?)\2""")


@dataclass(frozen=True)
class Dropped:
    """One range element taken out of a sheet part."""

    part: str
    element: str  # "mergeCell" | "hyperlink"
    ref: str
    cells: int | None  # None: not a valid range at all


# ---------------------------------------------------------------- cell addresses


def cell_position(text: str, absolute: bool = True) -> tuple[int, int] | None:
    """(row, col) of an A1 address inside Excel's grid, or None (``absolute``: $ allowed)."""
    m = (_CELL if absolute else _PLAIN_CELL).match(text if not absolute else text.strip().upper())
    if not m:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    row = int(m.group(2))
    return (row, col) if col <= MAX_COL and row <= MAX_ROW else None


@cache_short(4096, 64)  # the same few hundred refs in every return of a template
def range_cells(ref: str) -> int | None:
    """How many cells an A1 range (or a single cell) covers; None when it is no valid range."""
    ends = ref.split(":")
    if len(ends) not in (1, 2):
        return None
    points = [cell_position(e) for e in ends]
    if None in points:
        return None
    (r1, c1), (r2, c2) = points[0], points[-1]
    if r2 < r1 or c2 < c1:
        return None  # openpyxl refuses a range written bottom-right first
    return (r2 - r1 + 1) * (c2 - c1 + 1)


# ---------------------------------------------------------------- the package


class Package:
    """A zip package read from bytes: its directory parsed once and each member unpacked at
    most once. Sniffing, screening and the fast reader all look at the same members of the
    same bytes; unpacking them once each saves a few milliseconds per return. A member that
    cannot be unpacked raises, each time it is asked for, what zipfile raised."""

    def __init__(self, data: bytes):
        self._data = data
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self.infos = self._zip.infolist()
        self._bodies: dict = {}

    def read(self, info: zipfile.ZipInfo) -> bytes:
        found = self._bodies.get(id(info))
        if found is None:
            found = _inflate(self._data, info)
            if found is None:  # anything unusual: zipfile reads it, or raises what it raises
                try:
                    found = self._zip.read(info)
                except Exception as exc:  # noqa: BLE001 - raised again below, to every caller
                    found = exc
            self._bodies[id(info)] = found
        if isinstance(found, Exception):
            raise found
        return found

    def read_name(self, name: str) -> bytes:
        return self.read(self._zip.getinfo(name))

    def namelist(self) -> list[str]:
        return [i.filename for i in self.infos]


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_UNUSUAL_FLAGS = 0x1 | 0x20 | 0x40  # encrypted, compressed patched data, strong encryption


def _inflate(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """The member's bytes as zipfile.ZipFile.read gives them, for a plain member (stored or
    deflated, not encrypted, its local header where the directory says, naming the same
    file), whose unpacked bytes have the size and CRC-32 the directory declares: then
    zipfile's reading gives these very bytes. None for any other: zipfile reads it then
    (and raises what it raises). zipfile's per-member objects cost ~30 µs a member."""
    if info.flag_bits & _UNUSUAL_FLAGS or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    at = info.header_offset
    try:
        sig, _v1, _v2, flags, _m, _t, _d, _crc, _cs, _fs, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, at)
    except struct.error:
        return None
    start = at + _LOCAL_HEADER.size
    name = data[start:start + name_len]
    try:
        name_text = name.decode("utf-8" if flags & 0x800 else "cp437")
    except UnicodeDecodeError:
        return None
    if sig != b"PK\x03\x04" or name_text != info.orig_filename:
        return None
    start += name_len + extra_len
    packed = data[start:start + info.compress_size]
    try:
        if info.compress_type == zipfile.ZIP_STORED:
            body = packed
        else:
            # never more than the declared size (+1, to see a lie): the part may be a bomb
            inflater = zlib.decompressobj(-15)
            body = inflater.decompress(packed, info.file_size + 1)
            if not inflater.eof:
                return None
    except zlib.error:
        return None
    if len(body) != info.file_size or zlib.crc32(body) != info.CRC:
        return None
    return body


_LAST_PACKAGE: list = [None, None]  # (the bytes, their Package): one return at a time


def package(data: bytes) -> Package:
    """The Package of ``data``, made once for the bytes being read (the same object goes
    from sniffing to screening to reading; equal bytes, the same file read again to restore
    its tables or look for macros, share it too); raises what zipfile raises."""
    if _LAST_PACKAGE[0] is data or _LAST_PACKAGE[0] == data:  # (a Package depends on the bytes only)
        return _LAST_PACKAGE[1]
    found = Package(data)
    _LAST_PACKAGE[:] = [data, found]
    return found


def screen_package(data: bytes) -> tuple[bytes, list[Dropped]]:
    """The package with absurd ranges and lying counts taken out (the same bytes when there
    were none), and what was dropped from which part."""
    dropped: list[Dropped] = []
    changed: dict[str, bytes] = {}
    z = package(data)
    for info in z.infos:
        name = info.filename
        if not name.lower().endswith(".xml"):
            continue
        body = z.read(info)
        if b"sqref" in body or b"mergeCell" in body or b"hyperlink" in body:  # (a sheet's selection
            # names an sqref before its cells: found there, the others are not looked for)
            new, found = _screen_sheet_ranges(name, body)
            dropped += found
            if new != body:
                changed[name] = body = new
        if b"sst" in body:  # (_screen_sst changes only an <sst>'s start tag: one search)
            new = _screen_sst(body)
            if new is not body:
                changed[name] = new
    if not changed:
        return data, []
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in z.infos:
            dst.writestr(info.filename, changed.get(info.filename) or z.read(info))
    return out.getvalue(), dropped


_RANGE_ELEMENTS = (b"mergeCell", b"hyperlink", b"dataValidation", b"conditionalFormatting")
_SCREENED = Memo(kept=256)  # (part, the elements after the cells) -> _screen_ranges of them


def _screen_sheet_ranges(part: str, body: bytes) -> tuple[bytes, list[Dropped]]:
    """_screen_ranges of a sheet part, worked out once per process for the stretch after
    its cells (merges, validations, links: the template's, the same in every return of it)
    when every element it screens lies in that stretch: up to the header and footer,
    which name the unit. A part where any of them stands elsewhere is screened whole."""
    close = body.find(b"</sheetData>")
    if close < 0:
        return _screen_ranges(part, body)
    start = close + len(b"</sheetData>")
    end = body.find(b"<headerFooter", start)
    end = len(body) if end < 0 else end
    head, stretch, rest = body[:start], body[start:end], body[end:]
    if any(k in head or k in rest for k in _RANGE_ELEMENTS) or (
            b"sqref" not in stretch and (b"sqref" in head or b"sqref" in rest)):
        return _screen_ranges(part, body)  # (a selection's sqref, before the cells, is fine)
    new, dropped = _SCREENED.get((part, stretch), _screen_ranges, part, stretch)
    return (body if new == stretch else head + new + rest), list(dropped)


def _screen_ranges(part: str, body: bytes) -> tuple[bytes, list[Dropped]]:
    """Drop each merge/hyperlink range larger than MAX_RANGE_CELLS or not a range at all,
    and every one past MAX_SHEET_RANGE_CELLS in all."""
    found: list[Dropped] = []
    total = 0

    def keep_or_drop(m: re.Match) -> bytes:
        nonlocal total
        element = m.group(1).decode()
        ref_m = _REF_ATTR.search(m.group(2))
        ref = ref_m.group(2).decode("utf-8", "replace") if ref_m else ""
        cells = range_cells(ref) if ref else None
        if element == "hyperlink" and cells == 1:
            return m.group(0)  # a link on one cell costs one cell
        if cells is not None and cells <= MAX_RANGE_CELLS and total + cells <= MAX_SHEET_RANGE_CELLS:
            total += cells
            return m.group(0)
        found.append(Dropped(part, element, ref[:60], cells))
        return b""
    new = _sub_at(_RANGE_ELEMENT, (b"mergeCell", b"hyperlink"), keep_or_drop, body, _element_at)
    if b"sqref" in new:
        new = _sub_at(_SQREF_ELEMENT, (b"dataValidation", b"conditionalFormatting"), _valid_sqref_only,
                      new, _element_at)
    return new, found


_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


class _Found:
    """What _element_at found: the groups of _RANGE_ELEMENT / _SQREF_ELEMENT's match."""

    __slots__ = ("_groups", "_end")

    def __init__(self, whole: bytes, name: bytes, attrs: bytes, end: int):
        self._groups, self._end = (whole, name, attrs), end

    def group(self, i: int = 0) -> bytes:
        return self._groups[i]

    def end(self) -> int:
        return self._end


_CLOSE: dict = {}


def _element_at(pattern: re.Pattern, body: bytes, start: int) -> "_Found | None":
    """``pattern.match(body, start)`` for _RANGE_ELEMENT and _SQREF_ELEMENT, done with
    bytes.find and one search for the close tag (their lazy ``.*?`` up to it costs ~25 µs
    an element in Python's regex engine): the lazy attributes end at the first '>', a '/'
    before it closes the element there, else the first matching close tag does."""
    m = _OPEN_TAG.match(body, start)
    if m is None or m.group(1) not in _ELEMENT_NAMES[pattern]:
        return None
    name, name_end = m.group(1), m.end()
    gt = body.find(b">", name_end)
    if gt < 0:
        return None
    if gt - 1 >= name_end and body[gt - 1] == 0x2F:  # "/>"
        return _Found(body[start:gt + 1], name, body[name_end:gt - 1], gt + 1)
    close = _CLOSE.get(name)
    if close is None:
        close = _CLOSE[name] = re.compile(rb"</(?:[\w.-]+:)?" + re.escape(name) + rb"\s*>")
    c = close.search(body, gt + 1)
    if c is None:
        return None
    return _Found(body[start:c.end()], name, body[name_end:gt], c.end())


_OPEN_TAG = re.compile(rb"<(?:[\w.-]+:)?(mergeCell|hyperlink|dataValidation|conditionalFormatting)\b")
_ELEMENT_NAMES = {_RANGE_ELEMENT: (b"mergeCell", b"hyperlink"),
                  _SQREF_ELEMENT: (b"dataValidation", b"conditionalFormatting")}


def _sub_at(pattern: re.Pattern, keywords: tuple, repl, body: bytes, match=None) -> bytes:
    """``pattern.sub(repl, body)`` for a pattern that matches ``<`` + an optional prefix +
    one of ``keywords``: the same result, but tried only where a keyword stands (found by
    bytes.find) instead of at each of a sheet's thousands of '<' (the sheets' screening
    was ~8 ms of each return's reading)."""
    starts = set()
    for keyword in keywords:
        at = body.find(keyword)
        while at >= 0:
            start = _tag_start(body, at)
            if start is not None:
                starts.add(start)
            at = body.find(keyword, at + 1)
    if not starts:
        return body
    out, pos = [], 0
    for start in sorted(starts):
        if start < pos:
            continue
        m = pattern.match(body, start) if match is None else match(pattern, body, start)
        if m is not None:
            out += [body[pos:start], repl(m)]
            pos = m.end()
    return b"".join(out) + body[pos:] if out else body


def _tag_start(body: bytes, at: int) -> int | None:
    """Where the tag naming the keyword at ``at`` opens: '<' right before it, or before
    its one-word namespace prefix."""
    if at > 0 and body[at - 1] == 0x3C:  # "<"
        return at - 1
    if at < 2 or body[at - 1] != 0x3A:  # ":"
        return None
    i = at - 2
    while i >= 0 and body[i] in _NAME_BYTES:
        i -= 1
    return i if i < at - 2 and i >= 0 and body[i] == 0x3C else None


def _valid_sqref_only(m: re.Match) -> bytes:
    """A validation or conditional format whose cell list openpyxl cannot parse (it stops
    the whole workbook) is dropped: it only guides typing, it holds no data."""
    sqref = _SQREF_ATTR.search(m.group(2))
    refs = sqref.group(2).decode("utf-8", "replace").split() if sqref else []
    return m.group(0) if refs and all(range_cells(r) for r in refs) else b""


def _screen_sst(body: bytes) -> bytes:
    """The shared-strings part without a count or uniqueCount it cannot hold (each string
    takes at least a few bytes, so no honest count exceeds the part's length)."""
    start = _SST_START.search(body)
    if start is None:
        return body
    head = start.group(0)

    def plausible(m: re.Match) -> bytes:
        value = m.group(3)
        ok = value.isdigit() and int(value) <= len(body) // 4 + 16
        return m.group(0) if ok else b""
    new_head = _SST_COUNT.sub(plausible, head)
    if new_head == head:
        return body
    return body[:start.start()] + new_head + body[start.end():]


# ---------------------------------------------------------------- cells openpyxl cannot read


class Unreadable:
    """The value of a cell openpyxl could not read as the file says: ``raw`` is what the
    file holds (for showing), ``why`` says what is wrong with it, in Vietnamese."""

    __slots__ = ("raw", "why")

    def __init__(self, raw: str | None, why: str):
        self.raw, self.why = raw, why

    def __repr__(self) -> str:
        return f"Unreadable({self.raw!r}, {self.why!r})"

    def __str__(self) -> str:
        return self.raw or ""


_KNOWN_TYPES = {"n", "s", "b", "str", "inlineStr", "e", "d"}


def _raw_text(element, value_tag: str) -> str | None:
    text = element.findtext(value_tag)
    return None if text is None else text[:200]


def _has_content(element, value_tag: str, formula_tag: str, inline_tag: str) -> bool:
    return any(element.find(tag) is not None for tag in (value_tag, formula_tag, inline_tag))


@contextmanager
def lenient_cells():
    """While active, openpyxl reads a cell it cannot read (or would read as something it is
    not) as an :class:`Unreadable` value instead of failing or guessing; only that cell is
    lost. (openpyxl has no hook for this: its worksheet parser's two methods are wrapped for
    the duration, in this process only.)"""
    from openpyxl.worksheet import _reader
    from openpyxl.xml.constants import SHEET_MAIN_NS

    value_tag, formula_tag = f"{{{SHEET_MAIN_NS}}}v", f"{{{SHEET_MAIN_NS}}}f"
    inline_tag = f"{{{SHEET_MAIN_NS}}}is"
    parser = _reader.WorkSheetParser
    original_cell, original_row = parser.parse_cell, parser.parse_row

    def parse_row(self, row):
        r = row.get("r")
        if r is not None and not (r.isdigit() and 1 <= int(r) <= MAX_ROW):
            del row.attrib["r"]  # read as the row after the previous one, as with no number
        return original_row(self, row)

    def parse_cell(self, element):
        raw = _raw_text(element, value_tag)
        address, problem = element.get("r"), None
        if address is not None and cell_position(address, absolute=False) is None:
            problem = f"địa chỉ ô «{address[:20]}» không hợp lệ"
            del element.attrib["r"]  # placed after the previous cell, as with no address
        kind = element.get("t", "n")
        if problem is None and kind not in _KNOWN_TYPES:
            problem = f"kiểu ô «{kind[:20]}» không hợp lệ"
        if problem is None and _type_lacks_content(element, kind, value_tag, inline_tag):
            problem = f"kiểu ô «{kind}» không khớp với nội dung ô"  # read as empty before
        style = element.get("s")
        if style is not None and not (style.isdigit() and int(style) < getattr(self, "qcdc_styles", 1 << 30)):
            del element.attrib["s"]  # a style the file does not have: the default one
        counter = self.col_counter
        if problem is None:
            try:
                cell = original_cell(self, element)
                problem = _odd_value(cell, kind, raw)
                if problem is None:
                    return cell
            except (ValueError, TypeError, IndexError, KeyError, OverflowError):
                problem = _why(kind)
        has_content = _has_content(element, value_tag, formula_tag, inline_tag)
        element.attrib.pop("t", None)
        for child in list(element):
            element.remove(child)
        self.col_counter = counter
        cell = original_cell(self, element)  # its position and style only
        if has_content:
            cell["value"], cell["data_type"] = Unreadable(raw, problem), "n"
        return cell

    def bind_merged_cells(self):
        """The merged ranges kept as ranges, without openpyxl's per-cell work (it builds a
        MergedCell and border styles for every covered cell: a quarter of the reading time
        of a filled template). The reader looks at values only, and a value hidden under
        a merge stays visible to it instead of being deleted."""
        from openpyxl.worksheet.cell_range import MultiCellRange
        if self.parser.merged_cells:
            self.ws.merged_cells = MultiCellRange([c.ref for c in self.parser.merged_cells.mergeCell])

    reader = _reader.WorksheetReader
    original_merge, original_init = reader.bind_merged_cells, reader.__init__

    def init(self, ws, *args, **kwargs):
        original_init(self, ws, *args, **kwargs)
        self.parser.qcdc_styles = len(ws.parent._cell_styles)  # for parse_cell's check

    parser.parse_cell, parser.parse_row = parse_cell, parse_row
    reader.bind_merged_cells, reader.__init__ = bind_merged_cells, init
    try:
        yield
    finally:
        parser.parse_cell, parser.parse_row = original_cell, original_row
        reader.bind_merged_cells, reader.__init__ = original_merge, original_init


def _type_lacks_content(element, kind: str, value_tag: str, inline_tag: str) -> bool:
    """The cell holds a value where its type says none is (an inline string given as <v>,
    or a <v> cell holding only an inline string): openpyxl reads it as empty."""
    has_value, has_inline = element.find(value_tag) is not None, element.find(inline_tag) is not None
    if kind == "inlineStr":
        return has_value and not has_inline
    return has_inline and not has_value


def _odd_value(cell: dict, kind: str, raw: str | None) -> str | None:
    """What is wrong with a value openpyxl read without complaint, or None."""
    value = cell.get("value")
    if isinstance(value, float) and not math.isfinite(value):
        return f"giá trị số «{raw}» không phải là một số hữu hạn"
    if kind == "s":  # an empty <v/> as well: openpyxl reads it as an empty cell
        index = raw
        if index is not None and not index.strip().isdigit():
            return f"chỉ số chuỗi dùng chung «{index}» không hợp lệ"
    return None


def _why(kind: str) -> str:
    if kind == "s":
        return "ô trỏ tới một chuỗi dùng chung không có trong tệp"
    if kind == "n":
        return "giá trị số của ô không đọc được"
    if kind == "b":
        return "giá trị đúng/sai của ô không đọc được"
    if kind == "d":
        return "giá trị ngày của ô không đọc được"
    return "nội dung ô không đọc được"


# ---------------------------------------------------------------- what calamine may be given

_CELL_START = re.compile(rb"<(?:[\w.-]+:)?c\b([^>]*)>")
_R_ATTR = re.compile(rb"""\sr\s*=\s*(["'])(.*?)\1""")


def calamine_safe(data: bytes, max_cells: int) -> bool:
    """Whether every sheet's cells, as written in the file, lie inside Excel's grid and span
    at most ``max_cells`` from A1: calamine allocates that grid before reading and aborts
    the process when it cannot (a cell at ZZZ99999999 asks for 1.8 trillion cells). Judged
    on the raw XML, since calamine reads the raw XML, not what openpyxl made of it."""
    try:
        z = package(data)
        for info in z.infos:
            if info.filename.lower().endswith(".xml"):
                body = z.read(info)
                if b"sheetData" in body and not _extent_ok(body, max_cells):
                    return False
    except Exception:  # noqa: BLE001 - what cannot be checked is not handed to calamine
        return False
    return True


def _extent_ok(body: bytes, max_cells: int) -> bool:
    rows = cols = 0
    for m in _CELL_START.finditer(body):
        r = _R_ATTR.search(m.group(1))
        if r is None:
            continue
        at = cell_position(r.group(2).decode("ascii", "replace"), absolute=False)
        if at is None:
            return False
        rows, cols = max(rows, at[0]), max(cols, at[1])
    return rows * cols <= max_cells


# ---------------------------------------------------------------- naming parts for people


def sheet_names(data: bytes) -> dict[str, str]:
    """Worksheet part name -> sheet name, as far as workbook.xml and its rels tell."""
    import html
    try:
        z = package(data)
        wb = z.read_name("xl/workbook.xml").decode("utf-8", "replace")
        rels = z.read_name("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - the part name is shown instead
        return {}
    targets = {}
    for rel in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels):
        rid, target = re.search(r'\bId="([^"]*)"', rel), re.search(r'\bTarget="([^"]*)"', rel)
        if rid and target:
            t = target.group(1).lstrip("/")
            targets[rid.group(1)] = t if t.startswith("xl/") else "xl/" + t
    out = {}
    for sheet in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", wb):
        name, rid = re.search(r'\bname="([^"]*)"', sheet), re.search(r'\br:id="([^"]*)"', sheet)
        if name and rid and rid.group(1) in targets:
            out[targets[rid.group(1)]] = html.unescape(name.group(1))
    return out
