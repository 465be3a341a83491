"""A listing sheet: every row of one table of every counted unit, with the unit beside it;
optionally, above the list, the rows counted by a list column × year (live COUNTIFS over
the list) and how many units have each option."""
from __future__ import annotations


from xlsxwriter.utility import xl_col_to_name

from qcdc_xl.report.listings import table_counts, table_rows, year_of
from qcdc_xl.form.report_spec import Listing
from .cells import crit, formula, nfc, page, put

UNIT_HEADS = {"ma_don_vi": ("Mã đơn vị", 11), "ten_don_vi": ("Tên đơn vị", 26),
              "loai_hinh": ("Loại hình", 9), "khoi": ("Khối", 12)}
YEAR = ":year"  # the key of the «Năm» column a date column adds (never a column id)


class ListingSheet:
    def __init__(self, book, listing: Listing):
        self.book, self.listing = book, listing
        self.table = book.form.tables[listing.table]
        self.columns = {c.id: c for c in self.table.columns}
        self.keys = ["stt"] + list(listing.unit_columns) + ([YEAR] if listing.year_of else []) \
            + list(listing.columns)
        self.heads = [self._head(k) for k in self.keys]

    def _head(self, key: str) -> tuple:
        w = self.listing.widths
        if key == "stt":
            return "STT", w.get(key, 6)
        if key == YEAR:
            return "Năm", w.get(key, 8)
        if key in UNIT_HEADS:
            label, width = UNIT_HEADS[key]
            return label, w.get(key, width)
        c = self.columns[key]
        return c.header, w.get(key, c.width)

    def _style(self, key: str) -> tuple:
        column = self.columns.get(key)
        if key in ("stt", "loai_hinh", YEAR) or (column is not None and column.type == "int"):
            return ("center",)
        if column is not None and column.type == "date":
            return ("date",)
        if column is not None and column.type == "money":
            return ("int",)  # 20.000.000, not 20000000 (an int column may hold a year: left as is)
        return ("wrap",)

    def _values(self, number: int, r, row: dict) -> list:
        out = []
        for key in self.keys:
            if key == "stt":
                out.append(number)
            elif key == YEAR:
                year = year_of(row.get(self.listing.year_of))
                out.append(int(year) if year else None)
            elif key in UNIT_HEADS:
                out.append(getattr(r.unit, key))
            else:
                out.append(row.get(key))
        return out

    def write(self, ws) -> None:
        book, listing = self.book, self.listing
        rows = table_rows(book.results, listing.table)
        counts = self._count_options()
        note = book.coverage_note() + (" Bảng đếm phía trên tính từ danh mục phía dưới."
                                       if counts else "")
        top = book.titles(ws, listing.title, len(self.heads) - 1, note)
        header = top + len(counts) + 4 if counts else top
        if counts:
            self._counts(ws, top, counts, (header + 1, header + max(len(rows), 1)))
        row = header
        styles, formats = [self._style(k) for k in self.keys], None
        for n, (r, item) in enumerate(rows, start=1):
            row += 1
            if formats is None:  # the same for every row: asked once, when first needed
                formats = [book.st("cell", *names) for names in styles]
            book.list_row(ws, row, self._values(n, r, item), self.heads, formats=formats)
        book.table(ws, header, row, self.heads, listing.excel_table)
        if counts:
            ws.freeze_panes(0, 0)  # the counts block sits above; a frozen header would hide it
        page(ws, listing.name, landscape=True, repeat_rows=(header, header))

    def _count_options(self) -> list:
        return list(self.columns[self.listing.counts].options) if self.listing.counts else []

    def _counts(self, ws, top: int, options: list, list_rows: tuple) -> None:
        """Counts by option × year (live COUNTIFS over the list) and units per option."""
        book, st, listing = self.book, self.book.st, self.listing
        roll = table_counts(book.form, book.results, listing.table, listing.counts,
                            listing.year_of)
        years = [y for y in next(iter(roll["theo_nam"].values()), {}) if y]
        first, last = list_rows
        col_opt, col_year = (f"${xl_col_to_name(self.keys.index(k))}"
                             for k in (listing.counts, YEAR))
        rng = {k: f"{k}${first + 1}:{k}${last + 1}" for k in (col_opt, col_year)}
        heads = [listing.counts_label or self.columns[listing.counts].header] + years + \
            ["Tổng", listing.units_label]
        ws.merge_range(top, 0, top, 2, nfc(heads[0]), st("head"))
        for i, h in enumerate(heads[1:], start=3):
            put(ws, top, i, h, st("head"))
        ws.set_row(top, 30)
        tot_col = 3 + len(years)
        for k, o in enumerate(options, start=1):
            row = top + k
            ws.merge_range(row, 0, row, 2, nfc(o), st("cell"))
            for j, y in enumerate(years):
                formula(ws, row, 3 + j, f"COUNTIFS({rng[col_opt]},{crit(o)},{rng[col_year]},{y})",
                        st("cell", "int", "center"), roll["theo_nam"][o][y])
            formula(ws, row, tot_col, f"COUNTIFS({rng[col_opt]},{crit(o)})",
                    st("cell", "int", "center", "bold"), roll["theo"][o])
            put(ws, row, tot_col + 1, roll["don_vi"][o], st("cell", "int", "center"))
        total_row = top + len(options) + 1
        ws.merge_range(total_row, 0, total_row, 2, "Tổng số", st("head"))
        for col in range(3, tot_col + 1):
            letter = xl_col_to_name(col)
            cached = (sum(roll["theo"].values()) if col == tot_col
                      else sum(roll["theo_nam"][o][years[col - 3]] for o in options))
            formula(ws, total_row, col, f"SUM({letter}{top + 2}:{letter}{total_row})",
                    st("head", "int"), cached)
        units = len({r.unit.ma_don_vi for r, _ in table_rows(book.results, listing.table)})
        put(ws, total_row, tot_col + 1, units, st("head", "int"))
        if listing.chart:
            book.listing_counts.append((listing, (top + 1, top + len(options), 0, tot_col),
                                        max(roll["theo"].values() or [0]), len(options)))


