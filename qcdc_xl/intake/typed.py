"""Nothing typed is lost: every cell of a return compared with the pristine template's cell
at the same place.

A cell that holds something (a value or a formula, on any sheet, hidden or not, protected or
not, under a merge, far beyond the used range) is either read (a field, a table row, the
meta sheet's identity) or equal to the template's cell at the same place, or it is reported:
``data_outside_table`` with its sheet, cell and value, or, where the template has a formula,
a tampered formula (check.py turns those into ``formula_tampered``).

"The same place" survives the edits spreadsheet programs make: a sheet is matched to the
template's by the fields and tables it holds (so a renamed sheet is still itself), and rows
are aligned — first at the fields' and tables' own rows, then between those by the rows'
content (difflib) — so rows inserted or deleted by a unit move what is below them, not turn
every cell below into a report.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter

from qcdc_xl.form.formulas import is_blank
from qcdc_xl.template.metadata import FEEDBACK_SHEET, KEYS, META_SHEET
from qcdc_xl.intake.pristine import (IdentityMatcher, Pristine, PristineSheet, cell_key, known_cell_key,
                                     sorted_row_keys, text_key)
from qcdc_xl.report.records import CellRead

_ALIGN_SLACK = 2000  # return rows past the template's end still aligned (rows inserted)
_MAX_LOOKALIKES = 20  # sheets of unknown name compared with the template's unclaimed ones


# ---------------------------------------------------------------- the return's cells


@dataclass
class _Sheet:
    """One sheet of a return, with the template sheet it is compared with."""

    ws: Any
    page: PristineSheet | None  # None: a sheet the template does not have
    content: dict = field(default_factory=dict)  # (row, col) -> (value, formula)
    hidden: set = field(default_factory=set)  # (row, col) of content under a merge
    excluded: set = field(default_factory=set)  # (row, col) read as identity (meta sheet)
    input_areas: list = field(default_factory=list)  # (first, last, {cols}) of its tables
    rows: "_RowMap | None" = None
    row_signatures: dict = field(default_factory=dict)  # row -> signature (see _signatures)
    left_out: set = field(default_factory=set)  # (row, col) of content no signature holds
    _keys: dict | None = None
    _order: list | None = None

    def order(self) -> list:
        """The (row, col) of the content, sorted (once: the signatures and the differences
        both go through the content in order)."""
        if self._order is None:
            self._order = sorted(self.content)
        return self._order

    def keys(self) -> "_Keys":
        """(row, col) -> cell_key of the content, each worked out the first time it is asked
        (the anchors, the signatures and the differences all ask; a cell read as a field is
        never asked: its value may have no key, e.g. an integer too large for a float)."""
        if self._keys is None:
            self._keys = _Keys(self.content)
        return self._keys

    def key(self, at: tuple):
        """cell_key of the content at (row, col)."""
        return self.keys()[at]


class _Keys(dict):
    """cell_key by (row, col) of a sheet's content, made on first lookup (known_cell_key)."""

    __slots__ = ("content",)

    def __init__(self, content: dict):
        super().__init__()
        self.content = content

    def __missing__(self, at):
        found = self[at] = known_cell_key(*self.content[at])
        return found

    def fill(self, cells: list) -> None:
        """Work out the keys of ``cells`` at once (a lookup of each then finds it): a sheet's
        ~1,000 cells cost half as much without a __missing__ call for each."""
        content = self.content
        values, formulas = zip(*map(content.__getitem__, cells)) if cells else ((), ())
        self.update(zip(cells, map(known_cell_key, values, formulas)))


def _content(ws) -> dict:
    """(row, col) -> (value, formula) of the cells holding something (a sheet has thousands
    of cells, most of them formatted, empty: those cost one test)."""
    from qcdc_xl.intake.read import _formula_text

    out = {}
    for at, cell in ws._cells.items():
        value = cell.value
        if value is None:
            continue  # empty; a formula cell without text too, and every MergedCell
        if cell.data_type == "f":
            out[at] = (value, _formula_text(cell))
        elif not is_blank(value):
            out[at] = (value, None)
    return out


def _meta_values(ws) -> set:
    """The meta sheet's key and value cells: read as the file's identity (check.py checks
    them), not compared."""
    out = set()
    for (row, col), cell in ws._cells.items():
        if col == 1 and isinstance(cell.value, str) and cell.value.strip() in KEYS:
            out |= {(row, 1), (row, 2)}
    return out


# ---------------------------------------------------------------- values under merges


def under_merges(ws, content: dict) -> set:
    """The cells of ``content`` hidden under a merged area (not its top-left cell). The
    reader keeps their values (screen.lenient_cells binds merges as ranges only), so only
    where they are is worked out here: their message says to unmerge to see them."""
    if not ws.merged_cells.ranges:
        return set()
    index = _MergeIndex(ws.merged_cells.ranges)
    if not index.tall:  # only the rows a merge spans need a look
        return {at for at in content if at[0] in index.by_row and index.hides(*at)}
    return {at for at in content if index.hides(*at)}


class _MergeIndex:
    """Is (row, col) under a merge (not the merge's top-left cell)?"""

    def __init__(self, ranges):
        self.by_row: dict[int, list] = {}
        self.tall: list = []
        for rng in ranges:
            box = (rng.min_row, rng.min_col, rng.max_row, rng.max_col)
            if rng.max_row - rng.min_row > 1000:
                self.tall.append(box)
            else:
                for row in range(rng.min_row, rng.max_row + 1):
                    self.by_row.setdefault(row, []).append(box)

    def hides(self, row: int, col: int) -> bool:
        for top, left, bottom, right in self.by_row.get(row, ()):  # merges spanning the row
            if left <= col <= right and (row, col) != (top, left):
                return True
        for top, left, bottom, right in self.tall:
            if top <= row <= bottom and left <= col <= right and (row, col) != (top, left):
                return True
        return False


# ---------------------------------------------------------------- which sheet is which


def match_sheets(wb, static: Pristine, fields: dict, areas: dict) -> dict[str, str | None]:
    """Return sheet -> the template sheet it is (None: a sheet the unit added). A sheet is
    the one whose fields or tables it holds (renames change nothing), else the one of its
    name, else the unclaimed template sheet whose content it mostly has."""
    votes: dict[str, dict[str, int]] = {}
    for fid, read in fields.items():
        tpl = static.field_sheets.get(fid)
        if tpl:
            votes.setdefault(read.sheet, {}).setdefault(tpl, 0)
            votes[read.sheet][tpl] += 1
    for name, area in areas.items():
        tpl = static.table_sheets.get(name)
        if tpl:
            votes.setdefault(area.ws.title, {}).setdefault(tpl, 0)
            votes[area.ws.title][tpl] += 1000
    out: dict[str, str | None] = {}
    claimed: set = set()
    ranked = sorted(((n, title, tpl) for title, counts in votes.items() for tpl, n in counts.items()),
                    key=lambda x: -x[0])
    for _, title, tpl in ranked:  # each template sheet is one sheet of the return at most
        if title not in out and tpl not in claimed:
            out[title] = tpl
            claimed.add(tpl)
    for ws in wb.worksheets:
        if ws.title not in out and ws.title in static.sheets and ws.title not in claimed:
            out[ws.title] = ws.title
            claimed.add(ws.title)
    unmatched = [ws for ws in wb.worksheets if ws.title not in out]
    for i, ws in enumerate(unmatched):  # a file of a thousand sheets: the first few are looked at
        out[ws.title] = _most_alike(ws, static, claimed) if i < _MAX_LOOKALIKES else None
        claimed.add(out[ws.title])
    return out


def _most_alike(ws, static: Pristine, claimed: set) -> str | None:
    """The unclaimed template sheet of which this sheet holds at least half the content
    at the same places (a renamed guide or check sheet)."""
    best, score = None, 0.0
    for name, page in static.sheets.items():
        if name in claimed or not page.cells:
            continue
        same = sum(1 for at, key in page.cells.items()
                   if (c := ws._cells.get(at)) is not None and cell_key(c.value, _formula(c)) == key)
        if same / len(page.cells) >= 0.5 and same / len(page.cells) > score:
            best, score = name, same / len(page.cells)
    return best


def _formula(cell):
    from qcdc_xl.intake.read import _formula_text

    return _formula_text(cell)


def _sheets_gone(static: Pristine, matched: set) -> list[str]:
    """Template sheets holding formulas but no field or table (the guide, «Kiểm tra») that
    no sheet of the return is: deleted. (A deleted sheet of fields is required_missing.)"""
    with_parts = set(static.field_sheets.values()) | set(static.table_sheets.values())
    return [name for name, page in static.sheets.items()
            if page.formula_cells and name not in matched and name not in with_parts]


# ---------------------------------------------------------------- aligning rows


class _RowMap:
    """Return row <-> template row, from (return row, template row) anchors increasing in
    both. Between two anchors whose gaps agree, rows pair one to one; where a unit inserted
    (or deleted) rows, the rows after the shorter side's end have no counterpart."""

    def __init__(self, anchors: list[tuple[int, int]]):
        pairs = sorted(set(anchors) | {(0, 0)})
        self.ret = [r for r, _ in pairs]
        self.tpl = [t for _, t in pairs]
        # every anchor on the diagonal: each row is the template's row of the same number
        self.identity = all(r == t for r, t in pairs)

    def template_row(self, row: int) -> int | None:
        if self.identity:
            return row if row >= 1 else None
        return self._map(row, self.ret, self.tpl)

    def return_row(self, row: int) -> int | None:
        if self.identity:
            return row if row >= 1 else None
        return self._map(row, self.tpl, self.ret)

    @staticmethod
    def _map(row: int, src: list, dst: list) -> int | None:
        i = bisect_right(src, row) - 1
        there = dst[i] + (row - src[i])
        if i + 1 < len(src) and there >= dst[i + 1] and row < src[i + 1]:
            return None
        return there if there >= 1 else None


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (return, template) anchors, in template order, that keep both rows increasing
    (a field cut and pasted elsewhere is no anchor for the rows around it)."""
    out: list[tuple[int, int]] = []
    for r, t in sorted(set(pairs), key=lambda p: (p[1], p[0])):
        if not out or (r > out[-1][0] and t > out[-1][1]):
            out.append((r, t))
    return out


def _between(rows: list, keys: list | None, low: int, high: int | None) -> list:
    """The (row, signature) of ``rows`` with low < row < high (high None: no bound), in
    their order; by bisection when ``keys`` (the rows, sorted) is given."""
    if keys is None:
        return [(r, s) for r, s in rows if r > low and (high is None or r < high)]
    return rows[bisect_right(keys, low):(len(rows) if high is None else bisect_left(keys, high))]


def _align(sheet: _Sheet, anchors: list[tuple[int, int]], signatures: list) -> _RowMap:
    """Anchor rows, then rows between them matched by content."""
    page = sheet.page
    hard = [(0, 0)] + _increasing(anchors)
    found = list(hard)
    ends = hard[1:] + [(None, None)]
    tpl_keys, ret_keys = page.signature_row_keys(), sorted_row_keys(signatures)
    for (r0, t0), (r1, t1) in zip(hard, ends):
        tpl = _between(page.signatures, tpl_keys, t0, t1)
        ret = _between(signatures, ret_keys, r0, r1)
        if r1 is None or len(ret) > len(tpl) + _ALIGN_SLACK:  # bound the work on odd files
            ret = ret[:len(tpl) + _ALIGN_SLACK]
        if tpl and ret:
            found += _matched_rows(tpl, ret)
    return _RowMap(found)


def _runs(rows: list) -> list[tuple[Any, list[int]]]:
    """Consecutive rows of equal signature as one run: (signature, rows)."""
    out: list[tuple[Any, list[int]]] = []
    for row, sig in rows:
        if out and out[-1][0] == sig:
            out[-1][1].append(row)
        else:
            out.append((sig, [row]))
    return out


def _matched_rows(tpl: list, ret: list) -> list[tuple[int, int]]:
    """(return row, template row) pairs of equal content, in order. Runs of equal rows (the
    empty rows of a table, all alike) are matched as runs and paired from their start: rows
    matched one by one would pair an arbitrary stretch of them."""
    a, b = _runs(tpl), _runs(ret)
    matcher = SequenceMatcher(None, [s for s, _ in a], [s for s, _ in b], autojunk=False)
    pairs = []
    for i, j, n in matcher.get_matching_blocks():
        for k in range(n):
            pairs += list(zip(b[j + k][1], a[i + k][1]))
    return pairs


def _row_of_cell(a1: str) -> int:
    return int(a1.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _col_of_cell(a1: str) -> int:
    return column_index_from_string(a1.rstrip("0123456789"))


def _anchors(sheet: _Sheet, field_cells, areas: dict) -> list[tuple[int, int]]:
    """(return row, template row) of the fields (``field_cells``: (id, row, col) of this
    sheet's) and table edges of this sheet, before :func:`_rows_agree` is asked."""
    page, out = sheet.page, []
    for fid, row, _col in field_cells:
        if fid in page.anchors:
            out.append((row, page.anchors[fid]))
    for name, area in areas.items():
        if area.ws.title != sheet.ws.title:
            continue
        for edge, row in (("top", area.header_row), ("bottom", area.bottom)):
            if f"table:{name}:{edge}" in page.anchors:
                out.append((row, page.anchors[f"table:{name}:{edge}"]))
    return out


def _row_map(sheet: _Sheet, anchors: list[tuple[int, int]], signatures: list) -> _RowMap:
    """The rows aligned. Most sheets of most returns are their template's row for row: the
    same rows of content (the signatures, as one list) and every anchor on the diagonal;
    then every pair :func:`_align` would find is (r, r), and so is the map, without asking
    it. Otherwise the anchors that agree with the template, then rows matched by content."""
    if all(r == t for r, t in anchors) and signatures == sheet.page.signatures:
        return _RowMap([])
    return _align(sheet, [(r, t) for r, t in anchors if _rows_agree(sheet, r, t)], signatures)


def _rows_agree(sheet: _Sheet, row: int, tpl_row: int) -> bool:
    """The template row holds no content of its own, or the return row holds some of it at
    the same columns."""
    wanted = sheet.page.row_cells(tpl_row)
    if not wanted:
        return True
    keys, content = sheet.keys(), sheet.content
    return any(keys[(row, c)] == key for c, key in wanted if (row, c) in content)


# ---------------------------------------------------------------- comparing


@dataclass
class Comparison:
    """One return compared with its pristine template."""

    book: Any
    static: Pristine
    identity: dict  # "ma_don_vi" / "ten_don_vi" -> the spellings this file holds
    fields: dict  # field id -> CellRead
    areas: dict  # table name -> read._TableArea
    sheets: dict = field(default_factory=dict)  # return sheet title -> _Sheet
    gone: list = field(default_factory=list)  # template sheets of formulas the file lacks
    _patterns: dict = field(default_factory=dict)
    _by_sheet: dict | None = None

    @classmethod
    def of(cls, book, static: Pristine, identity: dict, fields: dict,
           areas: dict, input_columns: dict) -> "Comparison":
        """``input_columns``: table name -> the ids of its input columns (TT is none)."""
        self = cls(book=book, static=static, identity=identity, fields=fields, areas=areas)
        matched = match_sheets(book.wb, static, fields, areas)
        for ws in book.wb.worksheets:
            if ws.title == FEEDBACK_SHEET:
                continue  # the first sheet of a feedback copy is ours
            tpl = matched.get(ws.title)
            page = static.sheets.get(tpl) if tpl else None
            sheet = _Sheet(ws=ws, page=page, content=_content(ws))
            sheet.hidden = under_merges(ws, sheet.content)
            if tpl == META_SHEET:
                sheet.excluded = _meta_values(ws)
            for name, area in areas.items():
                if area.ws.title == ws.title:
                    cols = {area.columns[c] for c in input_columns.get(name, ()) if area.columns.get(c)}
                    sheet.input_areas.append((area.first, area.last, cols))
            if page is not None:
                anchors = _anchors(sheet, self._field_cells(sheet), areas)
                sheet.rows = _row_map(sheet, anchors, self._signatures(sheet))
            self.sheets[ws.title] = sheet
        self.gone = _sheets_gone(static, set(matched.values()))
        return self

    # -- what the template holds at a place of the return

    def _pattern(self, text: str):
        if text not in self._patterns:
            self._patterns[text] = IdentityMatcher(text, self.identity)
        return self._patterns[text]

    def _in_input_area(self, sheet: _Sheet, row: int, col: int) -> bool:
        return any(first <= row <= last and col in cols for first, last, cols in sheet.input_areas)

    def _names_the_unit(self, page: PristineSheet, row: int, col: int, key) -> bool:
        text = page.patterns.get((row, col))
        return text is not None and key[0] == "s" and bool(self._pattern(text).fullmatch(key[1]))

    def _signatures(self, sheet: _Sheet) -> list:
        """(row, signature) of the return rows holding template-like content: inputs, read
        identity and texts naming the unit left out (they differ from file to file). Kept
        on the sheet too: each row's signature, and the cells left out of them."""
        page = sheet.page
        skipped = {(r, c) for fid, r, c in self._field_cells(sheet)} | sheet.excluded
        by_col = page.patterns_by_col()
        spans: dict[int, list] = {}  # input column -> (first, last) rows of the tables holding it
        for first, last, cols in sheet.input_areas:
            for c in cols:
                spans.setdefault(c, []).append((first, last))
        keys, left_out = sheet.keys(), sheet.left_out
        kept = []
        for at in sheet.order():  # ~1,000 cells a return: the per-cell work kept to lookups
            if at in skipped or (at[1] in spans and any(first <= at[0] <= last for first, last in spans[at[1]])):
                left_out.add(at)
            else:
                kept.append(at)
        keys.fill([at for at in kept if at not in keys])
        out, row, cells = [], None, []
        for at in kept:
            r, c = at
            key = keys[at]
            if key[0] == "s" and c in by_col and page.may_name_the_unit(c, key[1]):
                key = next((("p", text) for text in by_col[c]  # a title naming the unit:
                            if self._pattern(text).fullmatch(key[1])), key)  # the template's pattern
            if r != row:
                if cells:
                    out.append((row, tuple(cells)))  # in column order: signature(), unsorted
                row, cells = r, []
            cells.append((c, key))
        if cells:
            out.append((row, tuple(cells)))
        sheet.row_signatures = dict(out)
        return out

    def _field_cells(self, sheet: _Sheet) -> list:
        """(field id, row, col) of the fields read on this sheet, in the fields' order."""
        if self._by_sheet is None:  # the fields' cells by sheet, parsed once per return
            self._by_sheet = {}
            for fid, read in self.fields.items():
                self._by_sheet.setdefault(read.sheet, []).append(
                    (fid, _row_of_cell(read.cell), _col_of_cell(read.cell)))
        return self._by_sheet.get(sheet.ws.title, [])

    def is_template(self, title: str, row: int, col: int) -> bool:
        """The cell holds what the template holds at its place (for the rows below tables)."""
        sheet = self.sheets.get(title)
        if sheet is None or sheet.page is None or (row, col) not in sheet.content:
            return False
        t = sheet.rows.template_row(row)
        if t is None:
            return False
        key = sheet.key((row, col))
        return sheet.page.cells.get((t, col)) == key or self._names_the_unit(sheet.page, t, col, key)

    # -- the differences

    def differences(self, taken: set) -> tuple[list[CellRead], list[tuple[CellRead, str | None]], set]:
        """Cells holding something the template does not have at their place (not read as a
        field or a table row); template formulas no longer there, with the table a TT cell
        belongs to; and which of the first are hidden under a merge ((sheet, A1))."""
        outside, tampered, hidden = [], [], set()
        for title, sheet in self.sheets.items():
            page, rows = sheet.page, sheet.rows
            keys = sheet.keys() if page is not None else {}
            left_out, excluded, row_signatures = sheet.left_out, sheet.excluded, sheet.row_signatures
            row, t, same = None, None, False
            for at in sheet.order():
                r, c = at
                if r != row:  # a new row: its template row, and whether it is the template's
                    row = r
                    t = rows.template_row(r) if rows is not None else None
                    same = t is not None and page.signature_at(t) == row_signatures.get(r)
                if same and at not in left_out:
                    continue  # in the row's signature, which is the template row's: the same
                if (title, r, c) in taken or at in excluded:
                    continue
                if t is not None:
                    key = keys[at]
                    if page.cells.get((t, c)) == key or self._names_the_unit(page, t, c, key):
                        continue
                read = self._read(sheet, r, c)
                if t is not None and (t, c) in page.formula_cells:
                    tampered.append((read, page.tt_cells.get((t, c))))
                    continue
                outside.append(read)
                if (r, c) in sheet.hidden:
                    hidden.add((title, read.cell))
            if page is not None:
                tampered += self._formulas_gone(sheet, taken)
        tampered += [(CellRead(value=None, sheet=name, cell=""), None) for name in self.gone]
        return outside, tampered, hidden

    def _formulas_gone(self, sheet: _Sheet, taken: set) -> list:
        """Template formula cells that are empty in the return (deleted, not moved)."""
        out = []
        for (t, c) in sheet.page.sorted_formula_cells():
            r = sheet.rows.return_row(t)
            if r is None or (sheet.ws.title, r, c) in taken or (r, c) in sheet.content:
                continue
            out.append((CellRead(value=None, sheet=sheet.ws.title, cell=f"{get_column_letter(c)}{r}"),
                        sheet.page.tt_cells.get((t, c))))
        return out

    def _read(self, sheet: _Sheet, row: int, col: int) -> CellRead:
        from qcdc_xl.intake.read import _cell_read

        return _cell_read(self.book, sheet.ws, row, col)


def identity_of(fields: dict, meta: dict, wb) -> dict:
    """The unit's code and name as this file holds them (cells, meta, document title), for
    the texts of the template that name the unit."""
    from qcdc_xl.intake.read import _text

    out: dict[str, set] = {"ma_don_vi": set(), "ten_don_vi": set()}
    for fid in out:
        read = fields.get(fid)
        if read is not None and isinstance(read.value, (str, int, float)) and not is_blank(read.value):
            out[fid].add(text_key(_text(read.value)))
    if meta.get("ma_don_vi"):
        out["ma_don_vi"].add(text_key(meta["ma_don_vi"]))
    title = getattr(getattr(wb, "properties", None), "title", None)
    if isinstance(title, str) and " — " in title:
        out["ten_don_vi"].add(text_key(title.split(" — ", 1)[1]))
    return out
