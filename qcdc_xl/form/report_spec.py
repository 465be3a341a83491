"""The ``summary:`` and ``report:`` blocks of a form spec: what the summary workbook and the
report sentences hold. Checked at load time with the same file-and-line errors as the rest.

Both blocks are optional: without them the summary and the sentences are derived from the
form (see :func:`default_summary` and :func:`default_report`). Every key is documented in
``docs/form-language.md``; the Python here knows no field, table, unit type or option of
any bundled form.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from qcdc_xl.form.spec import (YESNO_LIST, SpecError, _all_errors, _Map, did_you_mean, line_of,
                               unknown_key_hint)

ALL = "ALL"  # the whole: every counted unit (the totals' "all")
KHOI = "khoi"  # the units list's own grouping column


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class FigureSheet:
    """A summary sheet of figures: the sections of one form sheet, in blocks of columns."""

    sheet: str  # form sheet id
    name: str  # summary sheet name
    title: str


@dataclass(frozen=True)
class GeneralSheet:
    """The sheet of unit counts, sums and n/N shares of one form sheet."""

    sheet: str | None
    name: str
    title: str
    attributes: tuple = ()  # ((attribute name, section title, row label), …): shares of its options
    fields: tuple = ()  # when given: only these fields (of any sheet), else the sheet's


@dataclass(frozen=True)
class Listing:
    """A summary sheet listing one table's rows of every counted unit."""

    table: str
    name: str
    title: str
    excel_table: str
    unit_columns: tuple
    columns: tuple
    widths: dict
    year_of: str | None = None  # a date column: adds «Năm» and the type × year counts
    counts: str | None = None  # a list column counted by year above the listing
    chart: str | None = None  # title of a bar chart of those counts
    counts_label: str | None = None  # head of the counts block (default: the column's header)
    units_label: str = "Số đơn vị"  # head of its "units with this option" column
    chart_series: str = "Số dòng"  # the bar chart's series name


@dataclass(frozen=True)
class Chart:
    title: str
    kind: str  # line | column
    series: tuple  # ((name, base field id), …) over the first figures sheet, block ALL


@dataclass(frozen=True)
class SummarySpec:
    columns: tuple  # ALL, type ids, group ids, "khoi"
    titles: dict  # column id -> block title
    shorts: dict  # column id -> short name
    figures: tuple
    general: GeneralSheet | None
    listings: tuple
    charts: tuple
    year_fields: frozenset  # int fields shown as a year (2019, not 2.019), never summed


@dataclass(frozen=True)
class Footnote:
    text: str  # "{units}" is the names of the units that match
    field: str | None = None
    equals: tuple = ()  # the values that select a unit
    table: str | None = None  # or: units with at least one row of this table …
    column: str | None = None  # … whose column holds one of ``equals``
    of: str = ALL  # only the units of this column id (a unit type or group)
    above: float | None = None  # or: the units whose number in ``field`` is above this


@dataclass(frozen=True)
class SentenceSpec:
    kind: str
    topic: str
    params: dict
    footnote: Footnote | None
    line: int


@dataclass(frozen=True)
class ReportSpec:
    subjects: dict  # group id -> "n/N <subject> …"
    phrases: dict  # overrides of the generic wording
    sentences: tuple


# ---------------------------------------------------------------- access


def summary_spec(form) -> SummarySpec:
    """The form's summary spec (parsed once, then kept on the form)."""
    return _parsed(form)[0]


def report_spec(form) -> ReportSpec:
    return _parsed(form)[1]


def validate(form) -> None:
    """Raise :class:`qcdc_xl.form.spec.SpecError` for any mistake in the two blocks."""
    _parsed(form)


def _parsed(form) -> tuple:
    cached = form.__dict__.get("_report_specs")
    if cached is None:
        reader = _Reader(form)
        cached = (reader.guard(reader.summary, None), reader.guard(reader.report, None))
        if reader.errors:
            raise _all_errors(reader.errors)
        object.__setattr__(form, "_report_specs", cached)  # the form is frozen; a cache only
    return cached


# ---------------------------------------------------------------- form facts (generic)


def kind_ids(form) -> tuple:
    """Every unit type id, then every named group id, in spec order."""
    return form.type_ids + tuple(form.unit_groups)


def group_types(form, gid: str) -> tuple:
    """The unit types of a column id: ALL → every type; a type → itself; a group → its types."""
    return form.type_ids if gid == ALL else form.group_types(gid)


def terms(expr) -> list:
    """A sum written as a field id, a list of ids, or "a + b - c" → [(sign, id or number)]."""
    if isinstance(expr, list):
        return [(1, str(x)) for x in expr]
    text = str(expr).replace("+", " + ").replace("-", " - ").split()
    out, sign = [], 1
    for token in text:
        if token in "+-":
            sign = -1 if token == "-" else 1
            continue
        out.append((sign, float(token) if token.replace(".", "", 1).isdigit() else token))
        sign = 1
    return out


def base_fields(form, base: str) -> list:
    """The fields expanded from one base id (a yearly row), in spec order."""
    return [f for f in form.fields.values() if (f.base_id or f.id) == base]


# ---------------------------------------------------------------- reading and checking


_SENTENCE_KINDS = {
    # kind: (required keys, optional keys)
    "returns": ((), ()),
    "text": (("text",), ("values", "each")),
    "sum": (("field", "label"), ("of",)),
    "share": (("field", "predicate"), ("of", "equals")),
    "options": (("field",), ("text", "part", "of")),
    "table_units": (("table", "column", "groups"), ("text",)),
    "table_counts": (("table", "column", "text"), ("part", "labels", "lower", "unknown", "join",
                                                    "empty")),
    "table_years": (("table", "date", "text"), ("part", "unknown")),
    "yearly_rate": (("num", "den", "subject", "predicate"), ()),
    "yearly_count": (("field", "label"), ()),
    "paired_rates": (("pairs", "total", "text", "none"), ("part", "period")),
}
_COMMON_KEYS = ("kind", "topic", "footnote")
_VALUE_KINDS = ("sum", "units", "listed", "count", "answered", "rate", "series", "lowest_year",
                "breakdown", "rows")
_VALUE_OPTIONS = ("of", "equals", "above", "around", "pad", "decimals", "round", "part", "join",
                  "column", "total", "units_only")
ATTRIBUTE_ROW = "Số {option}"  # a row of «Thông tin chung» per option of a unit attribute
ROUNDINGS = ("half_up", "down")  # a rate's last digit: rounded, or cut as some reports do
_BUILTINS = ("y0", "y1", "period", "khoi")
_LAYOUT_KEYS = ("columns", "titles", "shorts", "figures", "general", "listings", "charts",
                "year_fields")


class _Reader:
    def __init__(self, form):
        self.form = form
        self.path = form.path or "inline.yaml"
        self.errors: list = []

    # -- helpers
    def fail(self, where: Any, message: str, key: str | None = None):
        raise SpecError(self.path, line_of(where, key), message)

    def mapping(self, value, where, key: str, what: str) -> _Map:
        if not isinstance(value, _Map):
            self.fail(where, f"{what} phải là một bảng khóa: giá trị (mỗi dòng «khóa: giá trị»).",
                      key)
        return value

    def only(self, m: _Map, allowed, what: str):
        for key in m:
            if key not in allowed:
                self.fail(m, f"{what}: khóa '{key}' không được hỗ trợ; dùng một trong: "
                             f"{', '.join(allowed)}.{unknown_key_hint(key, m[key])}", key)

    def text(self, m: _Map, key: str, what: str, default=None) -> str:
        value = m.get(key, default)
        if value is None or (not isinstance(value, (str, int, float)) or value == ""):
            if default is not None:
                return default
            self.fail(m, f"{what}: thiếu '{key}' hoặc '{key}' không phải là chữ; hãy ghi "
                         f"«{key}: …».", key)
        return str(value)

    def list_of(self, m: _Map, key: str, what: str) -> list:
        value = m.get(key)
        if not isinstance(value, list) or not value:
            self.fail(m, f"{what}: '{key}' phải là một danh sách không rỗng (dạng [a, b] hoặc "
                         f"mỗi dòng «- a»).", key)
        return value

    def field(self, m: _Map, key: str, what: str, value=None, base: bool = False) -> str:
        fid = m.get(key) if value is None else value
        known = base_fields(self.form, fid) if base and isinstance(fid, str) else None
        if not isinstance(fid, str) or (fid not in self.form.fields and not known):
            ids = {*self.form.fields, *(f.base_id for f in self.form.fields.values())}
            self.fail(m, f"{what}: '{key}' ghi mã trường '{fid}' không có trong biểu mẫu"
                         f"{did_you_mean(fid, ids)}; hãy dùng mã một trường đã khai báo ở 'sheets'.", key)
        return fid

    def table(self, m: _Map, key: str, what: str) -> str:
        name = m.get(key)
        if name not in self.form.tables:
            self.fail(m, f"{what}: '{key}' ghi bảng '{name}' không có trong biểu mẫu; các bảng "
                         f"có: {', '.join(self.form.tables) or '(không có)'}.", key)
        return name

    def column(self, m: _Map, key: str, table: str, what: str, value=None) -> str:
        cid = m.get(key) if value is None else value
        ids = [c.id for c in self.form.tables[table].columns]
        if cid not in ids:
            self.fail(m, f"{what}: cột '{cid}' không có trong bảng '{table}'; các cột: "
                         f"{', '.join(ids)}.", key)
        return cid

    def group(self, m: _Map, key: str, what: str, value=None, khoi: bool = False,
              more: tuple = ()) -> str:
        gid = m.get(key, ALL) if value is None else value
        allowed = (ALL,) + kind_ids(self.form) + ((KHOI,) if khoi else ()) \
            + more
        if gid not in allowed:
            self.fail(m, f"{what}: '{gid}' không phải loại hình hay nhóm đơn vị; dùng một trong: "
                         f"{', '.join(allowed)}.", key)
        return gid

    def sheet_id(self, m: _Map, key: str, what: str) -> str:
        sid = m.get(key)
        ids = [s.id for s in self.form.sheets]
        if sid not in ids:
            self.fail(m, f"{what}: '{key}' ghi trang '{sid}' không có trong biểu mẫu; các trang: "
                         f"{', '.join(ids)}.", key)
        return sid

    # -- summary
    def summary(self) -> SummarySpec:
        raw = self.form.summary
        defaults = default_summary(self.form)
        if raw is None:
            return defaults
        m = self.mapping(raw, None, "summary", "Mục 'summary'")
        self.guard(lambda: self.only(m, _LAYOUT_KEYS, "Mục 'summary'"), None)
        columns = self.guard(lambda: tuple(
            self.column_id(m, c) for c in self.list_of(m, "columns", "'summary.columns'"))
            if "columns" in m else defaults.columns, defaults.columns)
        titles = {**defaults.titles, **self.guard(lambda: self.labels(m, "titles"), {})}
        shorts = {**defaults.shorts, **self.guard(lambda: self.labels(m, "shorts"), {})}
        figures = self.entries(m, "figures", self.figure, defaults.figures)
        general = self.guard(lambda: self.general(m["general"], m), None) if "general" in m \
            else defaults.general
        listings = self.entries(m, "listings", self.listing, defaults.listings)
        charts = self.entries(m, "charts", self.chart, defaults.charts)
        years = self.guard(lambda: frozenset(
            self.field(m, "year_fields", "'summary.year_fields'", value=f)
            for f in self.list_of(m, "year_fields", "'summary.year_fields'"))
            if "year_fields" in m else defaults.year_fields, frozenset())
        spec = SummarySpec(columns, titles, shorts, figures, general, listings, charts, years)
        self.guard(lambda: self.check_sheet_names(spec, m), None)
        return spec

    # -- every mistake, not only the first (form-check lists them all)
    def guard(self, make, fallback):
        """``make()``, or ``fallback`` with its mistakes kept for the end."""
        try:
            return make()
        except SpecError as exc:
            self.errors.extend(exc.errors)
            return fallback

    def entries(self, m: _Map, key: str, parse, default: tuple) -> tuple:
        """Each entry of a list key parsed on its own, so one mistake does not hide the next."""
        if key not in m:
            return default
        items = self.guard(lambda: self.list_of(m, key, f"'summary.{key}'"), [])
        return tuple(x for x in (self.guard(lambda item=item: parse(item, m), None)
                                 for item in items) if x is not None)

    def column_id(self, m: _Map, value) -> str:
        """A column block: ALL, a unit type or group, khoi, or a unit attribute (an option each)."""
        if value in self.attributes():
            return value
        return self.group(m, "columns", "'summary.columns'", value=value, khoi=True,
                          more=tuple(self.attributes()))

    def attributes(self) -> dict:
        return self.form.attributes

    def labels(self, m: _Map, key: str, khoi: bool = False) -> dict:
        if key not in m:
            return {}
        labels = self.mapping(m[key], m, key, f"'summary.{key}'")
        for gid in labels:
            self.group(labels, gid, f"'summary.{key}'", value=gid, khoi=khoi)
        return {gid: self.text(labels, gid, f"'summary.{key}'") for gid in labels}

    def figure(self, x, parent: _Map) -> FigureSheet:
        m = self.mapping(x, parent, "figures", "Mỗi mục của 'summary.figures'")
        self.only(m, ("sheet", "name", "title"), "'summary.figures'")
        sid = self.sheet_id(m, "sheet", "'summary.figures'")
        sheet = self.form.sheet(sid)
        return FigureSheet(sid, self.text(m, "name", "'summary.figures'", sheet.name),
                           self.text(m, "title", "'summary.figures'", f"TỔNG HỢP SỐ LIỆU "
                                                                      f"{sheet.name.upper()}"))

    def general(self, x, parent: _Map) -> GeneralSheet:
        m = self.mapping(x, parent, "general", "'summary.general'")
        self.only(m, ("sheet", "name", "title", "attributes", "fields"), "'summary.general'")
        fields = ()
        if "fields" in m:
            fields = tuple(self.field(m, "fields", "'summary.general'", value=f)
                           for f in self.list_of(m, "fields", "'summary.general'"))
        sid = self.sheet_id(m, "sheet", "'summary.general'") if "sheet" in m or not fields \
            else None
        attributes = []
        for a in (m.get("attributes") or []):
            a = self.mapping(a, m, "attributes", "Mỗi mục của 'summary.general.attributes'")
            self.only(a, ("attribute", "title", "label"), "'summary.general.attributes'")
            name = a.get("attribute")
            if name not in self.attributes():
                self.fail(a, f"'summary.general.attributes': '{name}' không phải thuộc tính đơn vị "
                             f"nào (khai báo ở 'attributes' của một loại hình trong 'unit_types'); "
                             f"các thuộc tính: {', '.join(self.attributes()) or '(không có)'}.",
                          "attribute")
            label = self.text(a, "label", "'summary.general.attributes'", ATTRIBUTE_ROW)
            if "{option}" not in label:
                self.fail(a, "'summary.general.attributes': 'label' phải có «{option}» (chỗ ghi "
                             "tên lựa chọn), ví dụ «Xã {option}».", "label")
            attributes.append((name, self.text(a, "title", "'summary.general.attributes'",
                                               self.attributes()[name].label), label))
        return GeneralSheet(sid, self.text(m, "name", "'summary.general'", "Thông tin chung"),
                            self.text(m, "title", "'summary.general'",
                                      "THÔNG TIN CHUNG VỀ CÁC ĐƠN VỊ"), tuple(attributes), fields)

    def listing(self, x, parent: _Map) -> Listing:
        m = self.mapping(x, parent, "listings", "Mỗi mục của 'summary.listings'")
        self.only(m, ("table", "name", "title", "excel_table", "unit_columns", "columns",
                      "widths", "year_of", "counts", "chart"), "'summary.listings'")
        name = self.table(m, "table", "'summary.listings'")
        base = default_listing(self.form, name)
        what = f"'summary.listings' (bảng {name})"
        columns = base.columns
        if "columns" in m:
            columns = tuple(self.column(m, "columns", name, what, value=c)
                            for c in self.list_of(m, "columns", what))
        unit_columns = base.unit_columns
        if "unit_columns" in m:
            unit_columns = tuple(self.list_of(m, "unit_columns", what))
            for c in unit_columns:
                if c not in UNIT_COLUMNS:
                    self.fail(m, f"{what}: 'unit_columns' có '{c}'; dùng: "
                                 f"{', '.join(UNIT_COLUMNS)}.", "unit_columns")
        widths = dict(base.widths)
        if "widths" in m:
            w = self.mapping(m["widths"], m, "widths", f"{what}: 'widths'")
            for key, value in w.items():
                if not isinstance(value, (int, float)) or not 2 <= value <= 120:
                    self.fail(w, f"{what}: độ rộng của '{key}' phải là số từ 2 đến 120.", key)
                widths[key] = float(value)
        year_of = self.column(m, "year_of", name, what) if "year_of" in m else base.year_of
        counts, labels = self.counts(m, name, what)
        if counts and not year_of:
            self.fail(m, f"{what}: 'counts' đếm theo lựa chọn × năm nên cần 'year_of' (một cột "
                         f"kiểu date của bảng); thêm 'year_of: <mã cột ngày>' hoặc bỏ 'counts'.", "counts")
        chart = m.get("chart")
        if isinstance(chart, str):
            chart = _Map({"title": chart})
            chart.line, chart.key_lines = m.key_line("chart"), {}
        if chart is not None:
            chart = self.mapping(chart, m, "chart", f"{what}: 'chart'")
            self.only(chart, ("title", "series"), f"{what}: 'chart'")
            if not counts:
                self.fail(m, f"{what}: 'chart' vẽ bảng đếm nên cần 'counts'.", "chart")
        return Listing(name, self.text(m, "name", what, base.name),
                       self.text(m, "title", what, base.title),
                       self.text(m, "excel_table", what, base.excel_table), unit_columns,
                       columns, widths, year_of, counts,
                       self.text(chart, "title", what) if chart else None,
                       labels.get("label"), labels.get("units_label", "Số đơn vị"),
                       self.text(chart, "series", what, "Số dòng") if chart else "Số dòng")

    def counts(self, m: _Map, table: str, what: str) -> tuple:
        """'counts: column' or 'counts: {column, label, units_label}'."""
        raw = m.get("counts")
        if raw is None:
            return None, {}
        if isinstance(raw, str):
            return self.column(m, "counts", table, what), {}
        c = self.mapping(raw, m, "counts", f"{what}: 'counts'")
        self.only(c, ("column", "label", "units_label"), f"{what}: 'counts'")
        column = self.column(c, "column", table, what)
        if self.form.tables[table].columns[[x.id for x in self.form.tables[table].columns]
                                           .index(column)].type != "list":
            self.fail(c, f"{what}: cột đếm '{column}' phải là kiểu list.", "column")
        return column, {k: self.text(c, k, what) for k in ("label", "units_label") if k in c}

    def chart(self, x, parent: _Map) -> Chart:
        m = self.mapping(x, parent, "charts", "Mỗi mục của 'summary.charts'")
        self.only(m, ("title", "kind", "series"), "'summary.charts'")
        kind = m.get("kind", "line")
        if kind not in ("line", "column"):
            self.fail(m, "'summary.charts': 'kind' phải là line hoặc column.", "kind")
        series = []
        for s in self.list_of(m, "series", "'summary.charts'"):
            s = self.mapping(s, m, "series", "Mỗi dãy của 'summary.charts.series'")
            self.only(s, ("name", "field"), "'summary.charts.series'")
            series.append((self.text(s, "name", "'summary.charts.series'"),
                           self.field(s, "field", "'summary.charts.series'", base=True)))
        return Chart(self.text(m, "title", "'summary.charts'"), kind, tuple(series))

    def check_sheet_names(self, spec: SummarySpec, m: _Map):
        """Summary sheet names: Excel's limits, and no two alike (the line of the second)."""
        lines = {}
        for key in ("figures", "listings", "general"):
            raw = m.get(key)
            for entry in (raw if isinstance(raw, list) else [raw]):
                if isinstance(entry, _Map) and isinstance(entry.get("name"), str):
                    lines.setdefault(entry["name"], entry.key_line("name"))
        names = [f.name for f in spec.figures] + ([spec.general.name] if spec.general else []) \
            + [x.name for x in spec.listings]
        seen = {n.casefold() for n in FIXED_SHEETS.values()}
        for name in names:
            line = lines.get(name, m.line)
            if len(name) > 31 or any(ch in name for ch in "[]:*?/\\"):
                self.fail(line, f"tên trang tổng hợp '{name}' dài quá 31 ký tự hoặc có ký tự cấm "
                                f"[]:*?/\\; hãy đặt tên ngắn hơn.")
            if name.casefold() in seen:
                self.fail(line, f"tên trang tổng hợp '{name}' bị trùng với một trang khác của bảng "
                                f"tổng hợp; hãy đặt tên khác.")
            seen.add(name.casefold())

    # -- report
    def report(self) -> ReportSpec:
        raw = self.form.report
        if raw is None:
            return default_report(self.form)
        m = self.mapping(raw, None, "report", "Mục 'report'")
        self.only(m, ("subjects", "phrases", "sentences"), "Mục 'report'")
        subjects = default_report(self.form).subjects
        if "subjects" in m:
            subjects = {**subjects, **self.labels(m, "subjects", khoi=False)}
        phrases = {}
        if "phrases" in m:
            p = self.mapping(m["phrases"], m, "phrases", "'report.phrases'")
            from qcdc_xl.output.sentences import PHRASES
            for key in p:
                if key not in PHRASES:
                    self.fail(p, f"'report.phrases': '{key}' không phải câu mặc định nào; dùng: "
                                 f"{', '.join(PHRASES)}.", key)
                phrases[key] = self.text(p, key, "'report.phrases'")
        items = self.guard(lambda: self.list_of(m, "sentences", "'report.sentences'"), [])
        sentences = tuple(x for x in (self.guard(lambda item=item: self.sentence(item, m), None)
                                      for item in items) if x is not None)
        return ReportSpec(subjects, phrases, sentences)

    def sentence(self, x, parent: _Map) -> SentenceSpec:
        m = self.mapping(x, parent, "sentences", "Mỗi câu của 'report.sentences'")
        kind = m.get("kind", "text")
        if kind not in _SENTENCE_KINDS:
            self.fail(m, f"câu: 'kind' '{kind}' không có{did_you_mean(kind, _SENTENCE_KINDS)}; dùng một trong: "
                         f"{', '.join(_SENTENCE_KINDS)}.", "kind")
        required, optional = _SENTENCE_KINDS[kind]
        what = f"câu kiểu '{kind}'"
        self.only(m, _COMMON_KEYS + required + optional, what.capitalize())
        for key in required:
            if key not in m:
                self.fail(m, f"{what} thiếu khóa '{key}'; câu kiểu này cần đủ các khóa "
                             f"{', '.join(required)} (xem docs/form-language.md, mục «Kinds»).")
        topic = self.text(m, "topic", what)
        params = {k: m[k] for k in required + optional if k in m}
        getattr(self, f"check_{kind}")(m, what)
        footnote = self.footnote(m, kind) if "footnote" in m else None
        return SentenceSpec(kind, topic, params, footnote, m.line)

    def footnote(self, m: _Map, kind: str) -> Footnote:
        raw = m["footnote"]
        if isinstance(raw, str):  # the sentence's own units (share: those answering yes)
            if kind not in ("share", "options"):
                self.fail(m, "'footnote' dạng một câu chỉ dùng cho câu 'share'; ở đây hãy ghi "
                             "{text: …, field: …, equals: …} hoặc {text: …, table: …}.", "footnote")
            raw = _Map({"text": raw})
            raw.line, raw.key_lines = m.key_line("footnote"), {}
        f = self.mapping(raw, m, "footnote", "'footnote'")
        self.only(f, ("text", "field", "equals", "above", "table", "column", "of"), "'footnote'")
        text = self.text(f, "text", "'footnote'")
        of = self.group(f, "of", "'footnote'") if "of" in f else ALL
        if "{units}" not in text:
            self.fail(f, "'footnote': câu phải có «{units}» (chỗ ghi tên các đơn vị).", "text")
        if "table" in f:
            table = self.table(f, "table", "'footnote'")
            if "column" not in f:
                return Footnote(text, table=table, of=of)
            column = self.column(f, "column", table, "'footnote'")
            equals = f.get("equals")
            equals = tuple(str(e) for e in (equals if isinstance(equals, list) else [equals]))
            return Footnote(text, table=table, column=column, equals=equals, of=of)
        fid = f.get("field", m.get("field"))
        fid = self.field(f, "field", "'footnote'", value=fid)
        if "above" in f:
            if not isinstance(f["above"], (int, float)) or isinstance(f["above"], bool):
                self.fail(f, "'footnote': 'above' phải là một số (vd. above: 0).", "above")
            return Footnote(text, field=fid, of=of, above=f["above"])
        equals = f.get("equals", m.get("equals"))
        if equals is None:
            equals = self.form.option_lists[YESNO_LIST][0]
        equals = tuple(str(e) for e in (equals if isinstance(equals, list) else [equals]))
        options = self.form.fields[fid].options
        for e in equals:
            if options and e not in options:
                self.fail(f, f"'footnote': '{e}' không phải lựa chọn của '{fid}' "
                             f"({', '.join(options)}).", "equals")
        return Footnote(text, field=fid, equals=equals, of=of)

    # -- per kind
    def check_returns(self, m, what):
        pass

    def check_sum(self, m, what):
        self.field(m, "field", what)
        self.group(m, "of", what)

    def check_share(self, m, what):
        fid = self.field(m, "field", what)
        f = self.form.fields[fid]
        if f.type not in ("yesno", "list"):
            self.fail(m, f"{what}: trường '{fid}' phải là yesno hoặc list.", "field")
        if "equals" in m and str(m["equals"]) not in f.options:
            self.fail(m, f"{what}: '{m['equals']}' không phải lựa chọn của '{fid}'.", "equals")
        if "of" in m:
            self.group(m, "of", what)

    def check_options(self, m, what):
        fid = self.field(m, "field", what)
        if self.form.fields[fid].type != "list":
            self.fail(m, f"{what}: trường '{fid}' phải là kiểu list.", "field")
        self.placeholders(m, "text", what, ("parts", "N", "label"))
        self.placeholders(m, "part", what, ("option", "pct", "n"))

    def check_table_units(self, m, what):
        table = self.table(m, "table", what)
        col = self.column(m, "column", table, what)
        options = self.form.tables[table].columns[[c.id for c in self.form.tables[table].columns]
                                                   .index(col)].options
        for g in self.list_of(m, "groups", what):
            g = self.mapping(g, m, "groups", f"{what}: mỗi nhóm của 'groups'")
            self.only(g, ("options", "predicate"), f"{what}: 'groups'")
            for o in self.list_of(g, "options", f"{what}: 'groups'"):
                if o not in options:
                    self.fail(g, f"{what}: '{o}' không phải lựa chọn của cột '{col}'.", "options")
            self.text(g, "predicate", f"{what}: 'groups'")
        self.placeholders(m, "text", what, ("parts",))

    def check_table_counts(self, m, what):
        table = self.table(m, "table", what)
        self.column(m, "column", table, what)
        self.placeholders(m, "text", what, ("n", "parts"))
        self.placeholders(m, "part", what, ("n", "option"))
        if "labels" in m:
            self.mapping(m["labels"], m, "labels", f"{what}: 'labels'")

    def check_table_years(self, m, what):
        table = self.table(m, "table", what)
        self.column(m, "date", table, what)
        self.placeholders(m, "text", what, ("parts",))
        self.placeholders(m, "part", what, ("year", "n"))

    def check_yearly_rate(self, m, what):
        self.field(m, "num", what, base=True)
        self.field(m, "den", what, base=True)

    def check_yearly_count(self, m, what):
        self.field(m, "field", what, base=True)

    def check_paired_rates(self, m, what):
        for p in self.list_of(m, "pairs", what):
            p = self.mapping(p, m, "pairs", f"{what}: mỗi cặp của 'pairs'")
            self.only(p, ("num", "den", "label"), f"{what}: 'pairs'")
            self.field(p, "num", f"{what}: 'pairs'", base=True)
            self.field(p, "den", f"{what}: 'pairs'", base=True)
            self.text(p, "label", f"{what}: 'pairs'")
        t = self.mapping(m["total"], m, "total", f"{what}: 'total'")
        self.field(t, "num", f"{what}: 'total'", base=True)
        self.field(t, "den", f"{what}: 'total'", base=True)
        self.placeholders(m, "text", what, ("when", "parts", "pct"))
        self.placeholders(m, "none", what, ("when",))

    def check_text(self, m, what):
        values = m.get("values") or _Map()
        values = self.mapping(values, m, "values", f"{what}: 'values'")
        for name, spec in values.items():
            self.value(values, name, spec, what)
        if "each" in m and m["each"] != KHOI:
            self.fail(m, f"{what}: 'each' chỉ nhận '{KHOI}' (một câu cho mỗi khối).", "each")
        allowed = tuple(values) + _BUILTINS + tuple(self.form.fields)
        self.placeholders(m, "text", what, allowed)

    def value(self, values: _Map, name: str, spec, what: str):
        """One named value of a text sentence (a bare field id is its sum)."""
        if isinstance(spec, (str, list)):
            spec = _Map({"sum": spec})
            spec.line, spec.key_lines = values.key_line(name), {}
        v = self.mapping(spec, values, name, f"{what}: giá trị '{name}'")
        kinds = [k for k in _VALUE_KINDS if k in v]
        if len(kinds) != 1:
            self.fail(v, f"{what}: giá trị '{name}' phải có đúng một trong: "
                         f"{', '.join(_VALUE_KINDS)}.")
        kind, where = kinds[0], f"{what}: giá trị '{name}'"
        self.only(v, (kind,) + _VALUE_OPTIONS, where)
        getattr(self, f"value_{kind}")(v, kind, where)
        if "of" in v:
            self.group(v, "of", where)
        for key in ("pad", "decimals", "above"):
            if key in v and (not isinstance(v[key], (int, float)) or isinstance(v[key], bool)):
                self.fail(v, f"{where}: '{key}' phải là một số.", key)
        if v.get("round", "half_up") not in ROUNDINGS:
            self.fail(v, f"{where}: 'round' phải là half_up (làm tròn) hoặc down (bỏ phần lẻ).", "round")
        values[name] = v

    def expression(self, v: _Map, key: str, what: str, value=None) -> None:
        """A field id, a list of ids (their sum) or "a + b - c"."""
        value = v[key] if value is None else value
        for _, term in terms(value):
            if isinstance(term, str):
                self.field(v, key, what, value=term)

    def value_sum(self, v, kind, what):
        self.expression(v, kind, what)

    def value_units(self, v, kind, what):
        self.group(v, kind, what)

    value_listed = value_units

    def value_count(self, v, kind, what):
        fid = self.field(v, kind, what)
        options = self.form.fields[fid].options
        if "equals" in v and options and str(v["equals"]) not in options:
            self.fail(v, f"{what}: '{v['equals']}' không phải lựa chọn của '{fid}' "
                         f"({', '.join(options)}).", "equals")

    def value_answered(self, v, kind, what):
        self.field(v, kind, what)

    def value_rate(self, v, kind, what):
        pair = v[kind]
        if not isinstance(pair, list) or len(pair) != 2:
            self.fail(v, f"{what}: 'rate' phải là [tử số, mẫu số].", kind)
        for side in pair:
            self.expression(v, kind, what, value=side)

    def value_series(self, v, kind, what):
        self.field(v, kind, what, base=True)
        self.placeholders(v, "part", what, ("year", "key", "label", "value"))

    value_lowest_year = value_series

    def value_breakdown(self, v, kind, what):
        fid = self.field(v, kind, what)
        if self.form.fields[fid].type != "list":
            self.fail(v, f"{what}: 'breakdown' cần một trường kiểu list.", kind)

    def value_rows(self, v, kind, what):
        table = self.table(v, kind, what)
        if "column" in v:
            self.column(v, "column", table, what)
        if "total" in v:
            self.column(v, "total", table, what)

    def placeholders(self, m: _Map, key: str, what: str, allowed):
        if key not in m:
            return
        text = self.text(m, key, what)
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError:
            self.fail(m, f"{what}: '{key}' có dấu ngoặc {{ }} không khớp; mỗi chỗ thay số ghi "
                         f"dạng {{ten}}.", key)
        for name in names:
            if name not in allowed:
                self.fail(m, f"{what}: '{key}' dùng «{{{name}}}» chưa được định nghĩa; dùng một "
                             f"trong: {', '.join(allowed[:12])}{'…' if len(allowed) > 12 else ''}.",
                          key)


# ---------------------------------------------------------------- defaults


UNIT_COLUMNS = ("ma_don_vi", "ten_don_vi", "loai_hinh", "khoi")
# The summary's own sheets, whose names any listing or figures sheet must not take.
FIXED_SHEETS = {"sentences": "Số liệu báo cáo", "charts": "Biểu đồ", "returns": "Tình hình nộp",
                "issues": "Kiểm tra", "detail": "Chi tiết đơn vị"}


def _has_figures(sheet, form) -> bool:
    return any(form.fields[fid].type not in ("text", "date") and not form.fields[fid].is_identity
               for se in sheet.sections if se.layout != "table" for fid in se.field_ids)


def default_summary(form) -> SummarySpec:
    """What a form with no ``summary:`` block gets: the sheet holding the identity fields as
    «Thông tin chung», every other sheet with figures as a «Tổng hợp» sheet, every table
    listed, a chart of each yearly section's rates."""
    general_sheet = next((s for s in form.sheets
                          if any(form.fields[f].is_identity for se in s.sections
                                 for f in se.field_ids)), None)
    figure_sheets = [s for s in form.sheets if s is not general_sheet and _has_figures(s, form)]
    figures = tuple(FigureSheet(s.id, "Tổng hợp" if len(figure_sheets) == 1 else
                                f"TH {s.name}"[:31], f"TỔNG HỢP SỐ LIỆU {s.name.upper()}")
                    for s in figure_sheets)
    general = GeneralSheet(general_sheet.id if general_sheet else None, "Thông tin chung",
                           "THÔNG TIN CHUNG VỀ CÁC ĐƠN VỊ")
    titles = {ALL: "TỔNG SỐ"}
    shorts = {ALL: "Toàn bộ"}
    for tid in kind_ids(form):  # the spec's own defaults: label upper-cased, the id
        titles[tid], shorts[tid] = form.kind(tid).title, form.kind(tid).short
    listings = _unique_names([default_listing(form, t) for t in form.tables])
    charts = tuple(_section_chart(form, se) for s in figure_sheets for se in s.sections
                   if se.layout == "yearly" and _section_chart(form, se) is not None)
    return SummarySpec((ALL,) + form.type_ids + (KHOI,), titles, shorts, figures, general,
                       listings, charts, frozenset())


def _section_chart(form, section) -> Chart | None:
    rates = [b for b in section.base_fields if base_fields(form, b)
             and base_fields(form, b)[0].type == "rate"]
    if not rates:
        return None
    series = tuple((base_fields(form, b)[0].label, b) for b in rates)
    return Chart(f"{section.title or section.id} (toàn bộ)", "line", series)


def _unique_names(listings: list) -> tuple:
    """Default listing names made unique (two tables on one sheet, a name already taken)."""
    from dataclasses import replace
    taken = {n.casefold() for n in FIXED_SHEETS.values()} | {"tổng hợp", "thông tin chung"}
    out = []
    for x in listings:
        name, k = x.name, 1
        while name.casefold() in taken:
            k += 1
            name = f"{x.name[:27]} ({k})"
        taken.add(name.casefold())
        out.append(replace(x, name=name))
    return tuple(out)


def default_listing(form, name: str) -> Listing:
    table = form.tables[name]
    sheet = form.sheet(table.sheet)
    title = form.section(table.section).title or sheet.heading or sheet.title
    columns = tuple(c.id for c in table.input_columns)
    widths = {c.id: max(8.0, min(44.0, float(c.width))) for c in table.input_columns}
    return Listing(name, f"DS {sheet.name}"[:31], str(title).upper(), f"tbl_ds_{name}"[:200],
                   UNIT_COLUMNS, columns, widths)


def default_report(form) -> ReportSpec:
    """Without a ``report:`` block: the returns, then a share for every yes/no field and a sum
    for every single-value number of the form, in form order."""
    subjects = {ALL: "đơn vị"}
    for tid in kind_ids(form):  # the spec's default subject: the label
        subjects[tid] = form.kind(tid).subject
    sentences = [SentenceSpec("returns", "Tình hình nộp báo cáo", {}, None, 0)]
    levels_done = set()
    for f in form.fields.values():
        topic = form.section(f.section).title or form.sheet(f.sheet).name
        if f.level and f.type in ("int", "money", "sum"):
            if f.base_id not in levels_done:
                levels_done.add(f.base_id)
                sentences.append(_levels_sentence(form, f, topic))
            continue
        if f.is_identity or f.year is not None or f.period_total or f.level:
            continue
        if f.type == "yesno":
            sentences.append(SentenceSpec("share", topic, {"field": f.id,
                                                           "predicate": _predicate(f.label)},
                                          None, 0))
        elif f.type in ("int", "money"):
            sentences.append(SentenceSpec("sum", topic, {"field": f.id, "label": f.label},
                                          None, 0))
    return ReportSpec(subjects, {}, tuple(sentences))


def _levels_sentence(form, f, topic: str) -> SentenceSpec:
    """"Đúng hạn: 33 (Cấp tỉnh 11, Cấp huyện 11, Cấp xã 11)." for a row of a levels grid."""
    ids = [x.id for x in base_fields(form, f.base_id)]
    label = f.label.replace("{", "{{").replace("}", "}}")
    params = {"text": f"{label}: {{tong}} ({{theo_cap}}).",
              "values": {"tong": {"sum": ids},
                         "theo_cap": {"series": f.base_id, "part": "{label} {value}",
                                      "join": ", "}}}
    return SentenceSpec("text", topic, params, None, 0)


def _predicate(label: str) -> str:
    """A yes/no label as the predicate after "n/N đơn vị": "Có tổ chức …" → "có tổ chức …"."""
    return label[:1].lower() + label[1:]
