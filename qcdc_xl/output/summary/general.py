"""«Thông tin chung»: the units counted, then one form sheet's figures per column group —
sums of numbers, "n/N" shares of yes/no and list answers, shares of a unit attribute's
options (e.g. enterprises by ownership) — each a live formula with its cached value."""
from __future__ import annotations

from qcdc_xl.form.report_spec import ALL, KHOI, group_types
from .book import STATUS_VI, attribute_column, attribute_value
from .cells import DASH, crit, formula, page, put, quoted, row_height
from .figures import section_band

LABEL_WIDTH = 50


class GeneralSheet:
    def __init__(self, book):
        self.book, self.spec = book, book.spec.general
        attrs = book.form.attributes
        self.groups = [(g, None if g == ALL else group_types(book.form, g))
                       for g in book.spec.columns if g != KHOI and g not in attrs]
        self.attributes = {attribute_column(book.form, name) for name, *_ in self.spec.attributes}

    def write(self, ws) -> None:
        book, st = self.book, self.book.st
        last_col = 1 + 2 * len(self.groups)
        row = book.titles(ws, self.spec.title, last_col,
                          book.coverage_note() + f" «n/N»: n đơn vị trả lời «{book.yes}» (hoặc "
                          f"chọn mục đó) trên N đơn vị đã trả lời hợp lệ.", 55 + 22 * len(self.groups))
        ws.merge_range(row, 0, row + 1, 0, "TT", st("head"))
        ws.merge_range(row, 1, row + 1, 1, "Chỉ tiêu", st("head"))
        for i, (g, _) in enumerate(self.groups):
            ws.merge_range(row, 2 + 2 * i, row, 3 + 2 * i, book.spec.titles.get(g, g), st("head"))
            put(ws, row + 1, 2 + 2 * i, "Số liệu", st("head"))
            put(ws, row + 1, 3 + 2 * i, "Tỷ lệ", st("head"))
        ws.set_row(row, 30)
        header = row
        row += 2
        for item in self.plan():
            row = self._item(ws, row, item, last_col)
        ws.set_column(0, 0, 5)
        ws.set_column(1, 1, LABEL_WIDTH)
        ws.set_column(2, last_col, 11)
        ws.freeze_panes(header + 2, 2)
        page(ws, self.spec.name, landscape=False, repeat_rows=(header, header + 1))

    # -- what goes where
    def plan(self) -> list:
        """("section", title) | ("count", label, status-or-None) | ("attr", attribute, option, label) |
        ("sum", field) | ("caption", field) | ("share", field, option)."""
        form = self.book.form
        plan = [("section", "I. ĐƠN VỊ BÁO CÁO"), ("count", "Số đơn vị trong danh sách", None),
                ("count", "Số đơn vị đã nộp, được tính", "duoc_tinh"),
                ("count", "Số đơn vị chưa nộp báo cáo", "missing"),
                ("count", "Số báo cáo còn lỗi (giá trị lỗi không được tính)", "errors")]
        for name, title, label in self.spec.attributes:
            plan.append(("section", title))
            plan += [("attr", form.attributes[name], o, label) for o in form.attributes[name].options]
        chosen = set(self.spec.fields)
        sheets = [form.sheet(self.spec.sheet)] if self.spec.sheet else \
            (list(form.sheets) if chosen else [])
        for section in (se for sheet in sheets for se in sheet.sections):
            items = [x for fid in section.field_ids if not chosen or fid in chosen
                     for x in self._field_items(form.fields[fid])]
            if items:
                plan.append(("section", section.title or section.id))
                plan += items
        return plan

    def _field_items(self, f) -> list:
        if f.is_identity or f.id in self.attributes:
            return []
        if f.type in ("int", "money") and f.id not in self.book.spec.year_fields:
            return [("sum", f)]
        if f.type == "yesno":
            return [("share", f, self.book.yes)]
        if f.type == "list":
            return [("caption", f)] + [("share", f, o) for o in f.options]
        return []

    @staticmethod
    def label(item: tuple) -> str:
        if item[0] == "count":
            return item[1]
        if item[0] == "attr":
            return item[3].format(option=item[2])  # "Số {option}" unless the spec says
        if item[0] == "sum":
            return f"Tổng {item[1].label[:1].lower()}{item[1].label[1:]}"
        if item[0] == "caption":
            return item[1].label
        f, option = item[1], item[2]
        return f.label if f.type == "yesno" else f"– {option}"

    # -- writing
    def _item(self, ws, row: int, item: tuple, last_col: int) -> int:
        st = self.book.st
        if item[0] == "section":
            section_band(self.book, ws, row, item[1], last_col, LABEL_WIDTH)
            return row + 1
        label = self.label(item)
        put(ws, row, 0, "", st("cell"))
        put(ws, row, 1, label, st("cell", "wrap"))
        ws.set_row(row, row_height(label, LABEL_WIDTH))
        if item[0] == "caption":
            for col in range(2, last_col + 1):
                ws.write_blank(row, col, None, st("cell"))
            return row + 1
        for i, (g, types) in enumerate(self.groups):
            self._cells(ws, row, 2 + 2 * i, item, g, types)
        return row + 1

    def _cells(self, ws, row: int, col: int, item: tuple, g: str, types) -> None:
        book, st, d = self.book, self.book.st, self.book.detail
        key = "all" if g == ALL else g
        if item[0] == "count":
            expr, value = self._unit_count(item[2], types)
            formula(ws, row, col, expr, st("cell", "int", "center"), value)
            ws.write_blank(row, col + 1, None, st("cell"))
            return
        f = item[1]
        applies = set(f.types) if item[0] == "attr" else f.applies
        if types and not applies & set(types):
            put(ws, row, col, DASH, st("cell", "dash"))
            put(ws, row, col + 1, DASH, st("cell", "dash"))
            return
        if item[0] == "sum":
            formula(ws, row, col, d.sum_over("SUMIFS", f"{d.rng(f.id)},", types),
                    st("cell", "int", "center"), book.totals.get(key, {}).get(f.id))
            ws.write_blank(row, col + 1, None, st("cell"))
            return
        if item[0] == "attr":
            self._attribute_share(ws, row, col, f, item[2])
            return
        n = book.totals.get(key, {}).get(f.id)
        n = n.get(item[2], 0) if isinstance(n, dict) else n
        rng = d.rng(f.id)
        answers = "+".join(d.sum_over("COUNTIFS", f"{rng},{crit(o)},", types) for o in f.options)
        self._share(ws, row, col, d.sum_over("COUNTIFS", f"{rng},{crit(item[2])},", types),
                    answers, n or 0, book.answered.get(key, {}).get(f.id, 0))

    def _attribute_share(self, ws, row: int, col: int, a, option: str) -> None:
        """Share of the counted units of the attribute's types (whatever the column group)."""
        d, column = self.book.detail, attribute_column(self.book.form, a.name)
        types = tuple(a.types)
        members = [r for r in self.book.results if r.counts and r.unit.loai_hinh in types]
        n = sum(1 for r in members if attribute_value(self.book.form, r, a.name) == option)
        self._share(ws, row, col, d.sum_over("COUNTIFS", f"{d.rng(column)},{crit(option)},", types),
                    d.sum_over("COUNTIFS", "", types), n, len(members))

    def _share(self, ws, row: int, col: int, count: str, total: str, n: int, big_n: int) -> None:
        """"n/N" (text) and n/N in % from two COUNTIFS expressions and their values."""
        st = self.book.st
        formula(ws, row, col, f'{count}&"/"&({total})', st("cell", "center"), f"{n}/{big_n}")
        formula(ws, row, col + 1, f'IF(({total})=0,"",({count})/({total}))',
                st("cell", "pct", "center"), (n / big_n) if big_n else None)

    def _unit_count(self, what: str | None, types) -> tuple:
        """(formula, value) counting rows of the detail sheet by status."""
        d = self.book.detail
        rs = [r for r in self.book.results if types is None or r.unit.loai_hinh in types]
        if what == "duoc_tinh":
            return d.sum_over("COUNTIFS", "", types), sum(1 for r in rs if r.counts)
        status = d.rng("trang_thai")
        if what is None:  # units of the list: every row except older returns
            prefix = f'{status},{quoted("<>" + STATUS_VI["superseded"])}'
            value = sum(1 for r in rs if r.status != "superseded")
        else:
            prefix = f"{status},{crit(STATUS_VI[what])}"
            value = sum(1 for r in rs if r.status == what)
        if not types:
            return f"COUNTIFS({prefix})", value
        parts = [f"COUNTIFS({prefix},{d.rng('loai_hinh')},{crit(t)})" for t in types]
        return (parts[0] if len(parts) == 1 else "(" + "+".join(parts) + ")"), value
