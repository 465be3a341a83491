"""A figures sheet («Tổng hợp»): the sections of one form sheet as rows, in column blocks (the
whole, each unit type or group, each khoi), every figure a live SUMIFS/COUNTIFS over «Chi tiết
đơn vị» with its correct cached value. Yearly rows spread over the years (and levels over
the levels), single values sit in the last column."""
from __future__ import annotations

import re
from dataclasses import dataclass

from xlsxwriter.utility import xl_rowcol_to_cell

from qcdc_xl.form.report_spec import ALL, KHOI, FigureSheet, group_types
from .cells import DASH, crit, formula, nfc, page, print_scale, put, row_height, two_lines
from .book import attribute_column
from .detail import PERIOD

LABEL_WIDTH, SERIES_WIDTH, PERIOD_WIDTH = 46, 8.5, 18  # period: 1.048.810.000.000 đồng
NO_KHOI = "Không ghi khối"


@dataclass
class Block:
    """A column block: a group of units and its totals."""

    title: str
    types: tuple | None  # None: every type
    conds: tuple  # more (detail column key, criterion) pairs: a khoi, an attribute's option
    totals: dict
    first_col: int = 0


def _totals_key(gid: str) -> str:
    return "all" if gid == ALL else gid


def blocks(book, width: int) -> list:
    form, t = book.form, book.totals
    out = []
    for gid in book.spec.columns:
        if gid == KHOI:
            for no, k in enumerate(book.khois, start=1):
                out.append(Block(f"KHỐI: {(k or NO_KHOI).upper()}", None, (("ma_khoi", no),),
                                 t.get(KHOI, {}).get(k, {}).get("all", {})))
        elif gid in form.attributes:  # a block per option
            a, column = form.attributes[gid], attribute_column(form, gid)
            for o in a.options:
                out.append(Block(o.upper(), tuple(a.types), ((column, crit(o)),),
                                 (t.get(gid) or {}).get(o, {})))
        else:
            types = None if gid == ALL else group_types(form, gid)
            out.append(Block(book.spec.titles.get(gid, gid), types, (), t.get(_totals_key(gid), {})))
    for i, b in enumerate(out):
        b.first_col = 2 + i * width
    return out


class FiguresSheet:
    def __init__(self, book, figure: FigureSheet):
        self.book, self.figure = book, figure
        self.sheet = book.form.sheet(figure.sheet)
        self.plan = self._plan()
        self.keys = self._keys()
        self.blocks = blocks(book, len(self.keys))
        self.placed: dict = {}  # (field id, block index) -> (row, col)
        self.id_col = 0

    # -- what goes where
    def _key_of(self, f):
        if f.year is not None:
            return f.year
        if f.level:
            return f.level
        return PERIOD

    def _section_rows(self, section) -> list:
        """[(label, {column key: field id})] — one row per base id, in layout order."""
        rows: dict = {}
        for fid in section.field_ids:
            f = self.book.form.fields[fid]
            if f.type in ("text", "date", "list") or f.is_identity:
                continue
            label, cells = rows.setdefault(f.base_id or f.id, (f.label, {}))
            cells[self._key_of(f)] = fid
        return list(rows.values())

    def _plan(self) -> list:
        """[("section", title) | ("row", number, label, {column key: field id})] in spec order."""
        plan = [("row", "", "Số đơn vị báo cáo được tính", {PERIOD: "so_don_vi"})]
        for section in self.sheet.sections:
            rows = self._section_rows(section)
            if not rows:
                continue
            plan.append(("section", section.title or section.id))
            number = re.match(r"\s*(\d+)", section.title or "")
            prefix = number.group(1) if number else ""
            for i, (label, cells) in enumerate(rows, start=1):
                plan.append(("row", f"{prefix}.{i}" if prefix else str(i), label, cells))
        return plan

    def _keys(self) -> list:
        """The columns of a block: years, then levels, then the period/single-value column."""
        seen = {k for item in self.plan if item[0] == "row" for k in item[3]}
        years = [y for y in self.book.form.years if y in seen]
        levels = list(self.book.form.levels)
        others = [k for k in levels if k in seen] + sorted(
            k for k in seen if k != PERIOD and k not in years and k not in levels)
        return years + others + [PERIOD]

    def header(self, key) -> str:
        if key == PERIOD:
            return PERIOD if len(self.keys) > 1 else "Số liệu"
        levels = self.book.form.levels
        return str(levels.get(key, key)) if not isinstance(key, int) else str(key)

    def col_of(self, block: Block, key) -> int:
        return block.first_col + self.keys.index(key)

    # -- writing
    def write(self, ws) -> None:
        last_col = self.blocks[-1].first_col + len(self.keys) - 1
        self.id_col = last_col + 1  # machine-traceable ids, outside the print area
        top = self._titles(ws)
        self._headers(ws, top)
        first = top + 2
        self._register(top + 1, first)
        height = 4 * 18 + 60  # titles and the two header rows
        for item, row in zip(self.plan, range(first, first + len(self.plan))):
            if item[0] == "section":
                height += section_band(self.book, ws, row, item[1], last_col)
            else:
                height += self._row(ws, row, item)
        height += self._footnote(ws, first + len(self.plan) + 1)
        self._setup(ws, top, first + len(self.plan) + 1, last_col, height)

    def _register(self, header_row: int, first: int) -> None:
        """Where each figure is: for formulas that reuse a cell, and for the charts."""
        book = self.book
        series = [k for k in self.keys if k != PERIOD]
        if series:
            book.series_cols.setdefault(self.figure.name, (header_row, 2, 1 + len(series)))
        for item, row in zip(self.plan, range(first, first + len(self.plan))):
            if item[0] != "row":
                continue
            for key, fid in item[3].items():
                for i, b in enumerate(self.blocks):
                    self.placed[(fid, i)] = (row, self.col_of(b, key))
                if fid in book.form.fields:
                    base = book.form.fields[fid].base_id or fid
                    book.figure_rows.setdefault(base, (self.figure.name, row))

    def _titles(self, ws) -> int:
        """The issuer over the label columns (repeated on every printed page) and the title
        over each block, so that each printed page (one block) has its own heading."""
        st, form = self.book.st, self.book.form
        ws.merge_range(0, 0, 0, 1, nfc(two_lines(form.issuer.upper())), st("issuer", "wrap"))
        ws.set_row(0, 30)
        for b in self.blocks:
            end = b.first_col + len(self.keys) - 1
            _merge(ws, 1, b.first_col, end, nfc(self.figure.title), st("title"))
            _merge(ws, 2, b.first_col, end, nfc(form.name), st("subtitle"))
        ws.set_row(1, 22)
        return 4

    def _headers(self, ws, top: int) -> None:
        st = self.book.st
        ws.merge_range(top, 0, top + 1, 0, "TT", st("head"))
        ws.merge_range(top, 1, top + 1, 1, "Chỉ tiêu", st("head"))
        for b in self.blocks:
            _merge(ws, top, b.first_col, b.first_col + len(self.keys) - 1, nfc(b.title), st("head"))
            for key in self.keys:
                put(ws, top + 1, self.col_of(b, key), self.header(key), st("head"))
        ws.merge_range(top, self.id_col, top + 1, self.id_col, "Mã chỉ tiêu", st("ids"))
        ws.set_row(top, 30)
        ws.set_row(top + 1, 30)

    def _footnote(self, ws, row: int) -> float:
        """The reading notes under the table, in the label columns (printed on every page)."""
        note = (self.book.coverage_note() + " Các ô số liệu là công thức tính từ trang «Chi "
                "tiết đơn vị» (chỉ các dòng «Được tính» = 1); tỷ lệ = tổng tử số / tổng mẫu số; "
                "«—»: chỉ tiêu không áp dụng cho nhóm. Khi in, mỗi nhóm đơn vị một trang.")
        ws.merge_range(row, 0, row, 1, nfc(note), self.book.st("note"))
        height = row_height(note, LABEL_WIDTH + 5, 14)
        ws.set_row(row, height)
        return height

    def _row(self, ws, row: int, item: tuple) -> float:
        _, number, label, cells = item
        st, fields = self.book.st, self.book.form.fields
        put(ws, row, 0, number, st("cell", "center"))
        put(ws, row, 1, label, st("cell", "wrap"))
        height = row_height(label, LABEL_WIDTH)
        ws.set_row(row, height)
        first = next(iter(cells.values()))
        put(ws, row, self.id_col, (fields[first].base_id or first) if first in fields else first,
            st("ids"))
        for i, b in enumerate(self.blocks):
            for key in self.keys:
                col = self.col_of(b, key)
                fid = cells.get(key)
                if fid is None:
                    ws.write_blank(row, col, None, st("cell"))
                else:
                    self._cell(ws, row, col, fid, i, b)
        return height

    def _cell(self, ws, row: int, col: int, fid: str, index: int, block: Block) -> None:
        st = self.book.st
        f = self.book.form.fields.get(fid)
        if f is not None and block.types and not any(f.applies_to(t) for t in block.types):
            put(ws, row, col, DASH, st("cell", "dash"))
            return
        formula(ws, row, col, self._expr(fid, index, block, own=True), st("cell", self.book.kind(f)),
                block.totals.get(fid))

    def _expr(self, fid: str, index: int, block: Block, own: bool = False) -> str:
        """The Excel expression of a total: a cell of this block when placed, else built."""
        if not own and (fid, index) in self.placed:
            row, col = self.placed[(fid, index)]
            return xl_rowcol_to_cell(row, col)
        return total_expr(self.book, fid, block.types, block.conds,
                          lambda x: self._expr(x, index, block))

    def _setup(self, ws, top: int, last_row: int, last_col: int, height_pt: float) -> None:
        n_series = len(self.keys) - 1
        ws.set_column(0, 0, 5)
        ws.set_column(1, 1, LABEL_WIDTH)
        for b in self.blocks:
            if n_series:
                ws.set_column(b.first_col, b.first_col + n_series - 1, SERIES_WIDTH)
            ws.set_column(b.first_col + n_series, b.first_col + n_series, PERIOD_WIDTH)
        ws.set_column(self.id_col, self.id_col, 16)
        ws.freeze_panes(top + 2, 2)
        # Printed one block per portrait page, the label columns repeated: readable at ~90%
        # where three blocks side by side would shrink to an unreadable 55%. Excel ignores
        # manual page breaks under "fit to page", so the scale is computed instead.
        page(ws, self.figure.name, landscape=False, repeat_rows=(top, top + 1), fit_width=False)
        ws.print_area(0, 0, last_row, last_col)
        ws.repeat_columns(0, 1)
        ws.set_v_pagebreaks([b.first_col for b in self.blocks[1:]])
        widths = [5, LABEL_WIDTH] + [SERIES_WIDTH] * n_series + [PERIOD_WIDTH]
        ws.set_print_scale(print_scale(widths, height_pt, landscape=False))


def _merge(ws, row: int, first: int, last: int, text: str, fmt) -> None:
    """A title over columns first..last (one column: a plain cell; Excel refuses 1-cell merges)."""
    if last > first:
        ws.merge_range(row, first, row, last, text, fmt)
    else:
        put(ws, row, first, text, fmt)


def total_expr(book, fid: str, types, conds, part) -> str:
    """The Excel expression of one group's total of a field (``part`` gives a part's)."""
    d = book.detail
    if fid == "so_don_vi":
        return d.sum_over("COUNTIFS", "", types, conds)
    f = book.form.fields[fid]
    if f.type == "sum":
        return "SUM(" + ",".join(part(x) for x in f.of) + ")"
    if f.type == "rate":
        num, den = part(f.num), part(f.den)
        return f'IF(N({den})=0,"",N({num})/{den})'
    if f.type == "yesno":
        return d.sum_over("COUNTIFS", f"{d.rng(fid)},{crit(book.yes)},", types, conds)
    return d.sum_over("SUMIFS", f"{d.rng(fid)},", types, conds)


def section_band(book, ws, row: int, title: str, last_col: int,
                 width: float = LABEL_WIDTH) -> float:
    """A section band: number in A, wrapped title in B (repeated on every printed page)."""
    number = re.match(r"\s*(\d+)\.\s*(.*)", title)
    text = number.group(2) if number else title
    put(ws, row, 0, number.group(1) if number else "", book.st("section", "center"))
    put(ws, row, 1, text, book.st("section", "wrap"))
    for col in range(2, last_col + 1):
        ws.write_blank(row, col, None, book.st("section"))
    height = row_height(text, width * 0.75)  # bold, often capitals: wider letters
    ws.set_row(row, height)
    return height
