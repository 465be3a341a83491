"""Load a declarative form spec (YAML in ``workbook_templates/``) into an immutable model.

The model is the one source of truth: the generator lays it out, the checks enforce it and
the summary rolls it up. Every error in a spec names the file and the line it comes from.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .bundled import bundled_form_path

DEFAULT_FORM = "nq02_sk5"

INPUT_TYPES = ("int", "money", "yesno", "list", "date", "text")
FORMULA_TYPES = ("rate", "sum", "count")
COLUMN_TYPES = INPUT_TYPES + ("row_number",)
UNIT_TYPES = ("HCSN", "DN")
YESNO_LIST = "co_khong"
COMPARISONS = ("<=", ">=", "<", ">", "=")
_CHECK_RE = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(<=|>=|<|>|=)\s*([a-z][a-z0-9_]*)\s*$")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Excel refuses defined names that look like A1 or R1C1 references.
_CELL_LIKE_RE = re.compile(r"^([a-z]{1,3}[0-9]+|r[0-9]*c[0-9]*|r|c)$")
EXCEL_SHEET_NAME_MAX = 31
EXCEL_NAME_MAX = 255


class SpecError(ValueError):
    """A form spec that cannot be used; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path, self.line, self.detail = Path(path), line, message
        where = f"{Path(path).name}, dòng {line}" if line else Path(path).name
        super().__init__(f"Lỗi biểu mẫu {where}: {message}")


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Condition:
    field: str
    equals: str


class _Applicable:
    """Model parts that exist only for some unit types (their ``applies`` set)."""

    applies: frozenset

    def applies_to(self, loai_hinh: str) -> bool:
        return loai_hinh in self.applies


@dataclass(frozen=True)
class Field(_Applicable):
    """One single-cell field of the form (input or formula), after yearly expansion."""

    id: str
    label: str
    type: str
    sheet: str
    section: str
    applies: frozenset
    line: int
    base_id: str = ""
    year: int | None = None  # the year of a yearly field; None otherwise
    period_total: bool = False  # the "Cả giai đoạn" column of a yearly row
    required: bool = False
    options_name: str | None = None
    options: tuple = ()
    min: Any = None
    max: Any = None
    warn_min: Any = None
    warn_max: Any = None
    warn_min_message: str | None = None
    only_if: Condition | None = None
    prefill: str | None = None  # units-list column; the cell is locked
    prefill_optional: str | None = None  # units-list column; the cell stays an input
    help: str | None = None
    pattern: str | None = None
    pattern_hint: str | None = None
    num: str | None = None  # rate numerator field id
    den: str | None = None  # rate denominator field id
    of: tuple = ()  # sum: field ids
    table: str | None = None  # count: table name

    @property
    def is_formula(self) -> bool:
        return self.type in FORMULA_TYPES

    @property
    def is_identity(self) -> bool:
        return self.prefill is not None

    @property
    def is_input(self) -> bool:
        return not self.is_formula and not self.is_identity


@dataclass(frozen=True)
class Column:
    id: str
    header: str
    type: str
    line: int
    required: bool = False
    options_name: str | None = None
    options: tuple = ()
    min: Any = None
    max: Any = None
    warn_min: Any = None
    warn_max: Any = None
    warn_min_message: str | None = None
    unique: str | None = None  # severity of a duplicate value within one unit
    width: float = 14
    help: str | None = None

    @property
    def is_input(self) -> bool:
        return self.type != "row_number"


@dataclass(frozen=True)
class Table(_Applicable):
    name: str
    sheet: str
    section: str
    applies: frozenset
    ready_rows: int
    columns: tuple
    count_field: str
    line: int

    @property
    def input_columns(self) -> tuple:
        return tuple(c for c in self.columns if c.is_input)


@dataclass(frozen=True)
class Rule(_Applicable):
    """A comparison between two fields: ``left op right`` must hold when both are numbers."""

    id: str
    left: str
    op: str
    right: str
    severity: str
    message: str
    section: str
    applies: frozenset
    line: int
    year: int | None = None


@dataclass(frozen=True)
class Section(_Applicable):
    id: str
    title: str | None
    sheet: str
    applies: frozenset
    layout: str  # fields | yearly | table
    line: int
    period_total: bool = False
    base_fields: tuple = ()  # yearly: the row ids, in order
    field_ids: tuple = ()  # expanded, in layout order
    table: str | None = None
    rule_ids: tuple = ()


@dataclass(frozen=True)
class Sheet:
    id: str
    name: str
    title: str
    heading: str | None
    sections: tuple
    line: int


@dataclass(frozen=True)
class Form:
    id: str
    version: str
    name: str
    subtitle: str
    issuer: str
    years: tuple
    window: tuple  # (date from, date to)
    period_label: str
    unit_types: dict
    option_lists: dict
    sheets: tuple
    fields: dict  # id -> Field, in sheet/section order
    tables: dict  # name -> Table
    rules: tuple
    path: Path = dc_field(default=None, compare=False)
    # The raw ``summary:`` and ``report:`` blocks (line-aware mappings), read and checked by
    # :mod:`qcdc_xl.report_spec`; None when the spec has none (defaults apply).
    summary: Any = dc_field(default=None, compare=False)
    report: Any = dc_field(default=None, compare=False)

    def sheet(self, sheet_id: str) -> Sheet:
        return next(s for s in self.sheets if s.id == sheet_id)

    def section(self, section_id: str) -> Section:
        return next(se for s in self.sheets for se in s.sections if se.id == section_id)

    def fields_for(self, loai_hinh: str) -> list:
        return [f for f in self.fields.values() if f.applies_to(loai_hinh)]

    def input_fields(self, loai_hinh: str | None = None) -> list:
        return [f for f in self.fields.values() if f.is_input
                and (loai_hinh is None or f.applies_to(loai_hinh))]

    def formula_fields(self, loai_hinh: str | None = None) -> list:
        return [f for f in self.fields.values() if f.is_formula
                and (loai_hinh is None or f.applies_to(loai_hinh))]

    def rules_for(self, loai_hinh: str) -> list:
        return [r for r in self.rules if r.applies_to(loai_hinh)]

    def tables_for(self, loai_hinh: str) -> list:
        return [t for t in self.tables.values() if t.applies_to(loai_hinh)]


# ---------------------------------------------------------------- YAML with line numbers


class _Map(dict):
    """A dict that remembers the line of itself and of each key."""

    line: int = 0

    def key_line(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


def _make_loader(path: Path):
    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader, node, deep=False):
        result = _Map()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise SpecError(path, line, f"khóa {key!r} phải là chữ.")
            if key in result:
                raise SpecError(path, line, f"khóa '{key}' bị lặp lại.")
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_lines[key] = line
        return result

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def _error_line(exc: yaml.MarkedYAMLError) -> int | None:
    """The line a person should look at: where an unclosed quote or bracket began, if that
    is the trouble (the parser only notices at the end of the file), else where it failed."""
    mark = exc.problem_mark
    if exc.context_mark is not None and (mark is None or "end of stream" in str(exc.problem)):
        mark = exc.context_mark
    return mark.line + 1 if mark else None


def _read_yaml(path: Path) -> _Map:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(path, None, "không tìm thấy tệp biểu mẫu.") from None
    except UnicodeDecodeError as exc:
        raise SpecError(path, None, f"tệp không phải UTF-8 ({exc.reason}); hãy lưu lại dạng UTF-8.") from None
    try:
        data = yaml.load(text, Loader=_make_loader(path))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        raise SpecError(path, _error_line(exc), f"cú pháp YAML sai: {exc.problem or exc}.") from None
    except yaml.YAMLError as exc:
        raise SpecError(path, None, f"cú pháp YAML sai: {exc}.") from None
    if not isinstance(data, _Map):
        raise SpecError(path, 1, "tệp biểu mẫu phải là một bảng khóa: giá trị (form, sheets, …).")
    return data


# ---------------------------------------------------------------- building the model


class _Builder:
    """Turns the raw YAML mapping into a :class:`Form`, checking as it goes."""

    def __init__(self, path: Path, raw: _Map):
        self.path, self.raw = path, raw
        self.fields: dict = {}
        self.tables: dict = {}
        self.rules: list = []
        self.option_lists: dict = {}
        self.years: tuple = ()
        self.sheet_names: set = set()

    # -- small helpers
    def fail(self, where: Any, message: str, key: str | None = None):
        line = None
        if isinstance(where, _Map):
            line = where.key_line(key) if key else where.line
        elif isinstance(where, int):
            line = where
        raise SpecError(self.path, line, message)

    def need(self, m: Any, key: str, what: str, kind=str):
        if not isinstance(m, _Map):
            self.fail(None, f"{what} phải là một bảng khóa: giá trị.")
        if key not in m or m[key] is None or m[key] == "":
            self.fail(m, f"{what} thiếu khóa '{key}'.")
        value = m[key]
        if kind is not None and not isinstance(value, kind):
            self.fail(m, f"{what}: '{key}' phải là {_KIND_VI.get(kind, kind)}.", key)
        return value

    def only_keys(self, m: _Map, allowed: Iterable[str], what: str):
        for key in m:
            if key not in allowed:
                self.fail(m, f"{what}: khóa '{key}' không được hỗ trợ "
                             f"(dùng: {', '.join(sorted(allowed))}).", key)

    def check_id(self, m: _Map, key: str, value: str, what: str):
        if not isinstance(value, str) or not _ID_RE.match(value):
            self.fail(m, f"{what}: mã '{value}' chỉ được gồm chữ thường không dấu, số và '_', "
                         f"bắt đầu bằng chữ.", key)
        if _CELL_LIKE_RE.match(value):
            self.fail(m, f"{what}: mã '{value}' trông như một địa chỉ ô Excel nên không dùng được "
                         f"làm tên; hãy thêm '_' hoặc đổi tên.", key)

    def applies(self, m: _Map, default: frozenset) -> frozenset:
        value = m.get("applies")
        if value is None:
            return default
        if value == "ALL":
            return frozenset(UNIT_TYPES)
        if value in UNIT_TYPES:
            return frozenset([value])
        self.fail(m, f"'applies' phải là ALL, HCSN hoặc DN (đang là '{value}').", "applies")

    # -- top level
    def build(self) -> Form:
        raw = self.raw
        self.only_keys(raw, ("form", "unit_types", "option_lists", "sheets", "summary", "report"),
                       "Tệp biểu mẫu")
        meta = self.need(raw, "form", "Tệp biểu mẫu", _Map)
        self.only_keys(meta, ("id", "version", "name", "subtitle", "issuer", "years",
                              "reporting_window", "period_label"), "Mục 'form'")
        form_id = self.need(meta, "id", "Mục 'form'")
        self.check_id(meta, "id", form_id, "Mục 'form'")
        version = str(self.need(meta, "version", "Mục 'form'", None))
        years = self.need(meta, "years", "Mục 'form'", _Map)
        y0, y1 = self.need(years, "from", "'years'", int), self.need(years, "to", "'years'", int)
        if not 1990 <= y0 <= y1 <= 2100:
            self.fail(years, f"khoảng năm {y0}–{y1} không hợp lệ.")
        self.years = tuple(range(y0, y1 + 1))
        window = self.need(meta, "reporting_window", "Mục 'form'", _Map)
        w0 = self.need(window, "from", "'reporting_window'", dt.date)
        w1 = self.need(window, "to", "'reporting_window'", dt.date)
        if w0 > w1:
            self.fail(window, "'reporting_window': ngày bắt đầu sau ngày kết thúc.")
        unit_types = self.need(raw, "unit_types", "Tệp biểu mẫu", _Map)
        if set(unit_types) != set(UNIT_TYPES):
            self.fail(unit_types, "'unit_types' phải có đúng HCSN và DN.")
        self.build_option_lists(self.need(raw, "option_lists", "Tệp biểu mẫu", _Map))
        sheets_raw = self.need(raw, "sheets", "Tệp biểu mẫu", list)
        sheets = tuple(self.build_sheet(s) for s in sheets_raw)
        self.check_references()
        return Form(
            id=form_id, version=version, name=self.need(meta, "name", "Mục 'form'"),
            subtitle=meta.get("subtitle", ""), issuer=meta.get("issuer", ""),
            years=self.years, window=(w0, w1), period_label=str(meta.get("period_label", "")),
            unit_types=dict(unit_types), option_lists=self.option_lists, sheets=sheets,
            fields=self.fields, tables=self.tables, rules=tuple(self.rules), path=self.path,
            summary=raw.get("summary"), report=raw.get("report"))

    def build_option_lists(self, lists: _Map):
        for name, options in lists.items():
            self.check_id(lists, name, name, "Danh sách lựa chọn")
            if not isinstance(options, list) or not options:
                self.fail(lists, f"danh sách '{name}' phải là một danh sách không rỗng.", name)
            texts = tuple(str(o) for o in options)
            if len(set(texts)) != len(texts):
                self.fail(lists, f"danh sách '{name}' có lựa chọn bị lặp.", name)
            self.option_lists[name] = texts
        if YESNO_LIST not in self.option_lists:
            self.fail(lists, f"thiếu danh sách '{YESNO_LIST}' (Có/Không) dùng cho trường yesno.")

    # -- sheets and sections
    def build_sheet(self, m: Any) -> Sheet:
        if not isinstance(m, _Map):
            self.fail(None, "mỗi mục trong 'sheets' phải là một bảng khóa: giá trị.")
        self.only_keys(m, ("id", "name", "title", "heading", "sections"), "Trang")
        sheet_id = self.need(m, "id", "Trang")
        self.check_id(m, "id", sheet_id, "Trang")
        name = self.need(m, "name", f"Trang '{sheet_id}'")
        if len(name) > EXCEL_SHEET_NAME_MAX or re.search(r"[\[\]:*?/\\]", name):
            self.fail(m, f"tên trang '{name}' dài quá {EXCEL_SHEET_NAME_MAX} ký tự hoặc có ký tự "
                         f"cấm []:*?/\\; Excel không nhận tên này, hãy đặt tên ngắn hơn.", "name")
        if name.casefold() in self.sheet_names:
            self.fail(m, f"tên trang '{name}' bị lặp.", "name")
        self.sheet_names.add(name.casefold())
        sections = tuple(self.build_section(se, sheet_id)
                         for se in self.need(m, "sections", f"Trang '{sheet_id}'", list))
        return Sheet(id=sheet_id, name=name,
                     title=self.need(m, "title", f"Trang '{sheet_id}'"),
                     heading=m.get("heading"), sections=sections, line=m.line)

    def build_section(self, m: Any, sheet_id: str) -> Section:
        if not isinstance(m, _Map):
            self.fail(None, f"mỗi mục trong 'sections' của trang '{sheet_id}' phải là một bảng khóa.")
        self.only_keys(m, ("id", "title", "applies", "layout", "period_total", "fields", "rules",
                           "table"), "Mục")
        sid = self.need(m, "id", "Mục")
        self.check_id(m, "id", sid, "Mục")
        applies = self.applies(m, frozenset(UNIT_TYPES))
        if "table" in m:
            if "fields" in m or "rules" in m:
                self.fail(m, f"mục '{sid}': một mục bảng không có 'fields' hay 'rules'.", "table")
            table = self.build_table(self.need(m, "table", f"Mục '{sid}'", _Map), sheet_id, sid, applies)
            return Section(id=sid, title=m.get("title"), sheet=sheet_id, applies=applies,
                           layout="table", line=m.line, field_ids=(table.count_field,),
                           table=table.name)
        layout = m.get("layout", "fields")
        if layout not in ("fields", "yearly"):
            self.fail(m, f"mục '{sid}': 'layout' phải là fields hoặc yearly.", "layout")
        raw_fields = self.need(m, "fields", f"Mục '{sid}'", list)
        ctx = dict(sheet=sheet_id, section=sid, applies=applies)
        if layout == "yearly":
            ids, bases = self.build_yearly(raw_fields, ctx, bool(m.get("period_total", False)))
        else:
            ids = tuple(self.add_field(self.parse_field(f, ctx)).id for f in raw_fields)
            bases = ()
        rule_ids = tuple(self.build_rules(m.get("rules") or [], sid, applies, layout == "yearly"))
        return Section(id=sid, title=m.get("title"), sheet=sheet_id, applies=applies, layout=layout,
                       line=m.line, period_total=bool(m.get("period_total", False)),
                       base_fields=bases, field_ids=ids, rule_ids=rule_ids)

    # -- fields
    _FIELD_KEYS = ("id", "label", "type", "applies", "required", "options", "min", "max",
                   "warn_min", "warn_max", "warn_min_message", "only_if", "prefill",
                   "prefill_optional", "help", "pattern", "pattern_hint", "num", "den", "of")

    def parse_field(self, m: Any, ctx: dict, year_suffix=None) -> Field:
        if not isinstance(m, _Map):
            self.fail(None, f"mỗi trường của mục '{ctx['section']}' phải là một bảng khóa.")
        self.only_keys(m, self._FIELD_KEYS, "Trường")
        fid = self.need(m, "id", "Trường")
        self.check_id(m, "id", fid, "Trường")
        what = f"Trường '{fid}'"
        ftype = self.need(m, "type", what)
        if ftype not in INPUT_TYPES + FORMULA_TYPES:
            self.fail(m, f"{what}: kiểu '{ftype}' không hợp lệ (dùng một trong: "
                         f"{', '.join(INPUT_TYPES + FORMULA_TYPES)}).", "type")
        options_name, options = self.options_of(m, ftype, what)
        only_if = None
        if "only_if" in m:
            cond = self.need(m, "only_if", what, _Map)
            only_if = Condition(self.need(cond, "field", "'only_if'"), str(self.need(cond, "equals", "'only_if'", None)))
        suffix = (lambda x: x) if year_suffix is None else year_suffix
        if ftype == "rate":
            num, den = suffix(self.need(m, "num", what)), suffix(self.need(m, "den", what))
        else:
            num = den = None
        of = tuple(suffix(x) for x in (m.get("of") or ()))
        if ftype == "sum" and not of:
            self.fail(m, f"{what}: trường tổng (sum) cần 'of' là danh sách mã trường.")
        self.check_bounds(m, ftype, what)
        if "pattern" in m:
            try:
                re.compile(m["pattern"])
            except re.error as exc:
                self.fail(m, f"{what}: 'pattern' không phải biểu thức chính quy hợp lệ ({exc}).", "pattern")
        return Field(
            id=fid, label=self.need(m, "label", what), type=ftype, base_id=fid,
            sheet=ctx["sheet"], section=ctx["section"], applies=self.applies(m, ctx["applies"]),
            line=m.line, required=bool(m.get("required", False)), options_name=options_name,
            options=options, min=m.get("min"), max=m.get("max"), warn_min=m.get("warn_min"),
            warn_max=m.get("warn_max"), warn_min_message=m.get("warn_min_message"),
            only_if=only_if, prefill=m.get("prefill"), prefill_optional=m.get("prefill_optional"),
            help=m.get("help"), pattern=m.get("pattern"), pattern_hint=m.get("pattern_hint"),
            num=num, den=den, of=of)

    def options_of(self, m: _Map, ftype: str, what: str):
        if ftype == "yesno":
            return YESNO_LIST, self.option_lists[YESNO_LIST]
        if ftype != "list":
            if "options" in m:
                self.fail(m, f"{what}: chỉ kiểu list mới có 'options'.", "options")
            return None, ()
        name = self.need(m, "options", what)
        if name not in self.option_lists:
            self.fail(m, f"{what}: danh sách lựa chọn '{name}' không có trong 'option_lists'.", "options")
        return name, self.option_lists[name]

    def check_bounds(self, m: _Map, ftype: str, what: str):
        kinds = {"int": int, "money": (int, float), "date": dt.date}
        for key in ("min", "max", "warn_min", "warn_max"):
            if key in m:
                kind = kinds.get(ftype)
                if kind is None or not isinstance(m[key], kind) or isinstance(m[key], bool):
                    self.fail(m, f"{what}: '{key}' chỉ dùng cho số hoặc ngày và phải cùng kiểu với trường.", key)
        if "min" in m and "max" in m and m["min"] > m["max"]:
            self.fail(m, f"{what}: 'min' lớn hơn 'max'.", "min")

    def add_field(self, f: Field) -> Field:
        if f.id in self.fields:
            self.fail(f.line, f"mã trường '{f.id}' bị lặp (đã có ở dòng {self.fields[f.id].line}).")
        if len(f.id) > EXCEL_NAME_MAX:
            self.fail(f.line, f"mã trường '{f.id}' dài quá {EXCEL_NAME_MAX} ký tự.")
        self.fields[f.id] = f
        return f

    def build_yearly(self, raw_fields: list, ctx: dict, period_total: bool):
        base_ids, ids = [], []
        for m in raw_fields:
            base = self.parse_field(m, ctx)
            base_ids.append(base.id)
            for year in self.years:
                f = self.parse_field(m, ctx, year_suffix=lambda x, y=year: f"{x}_{y}")
                ids.append(self.add_field(_replace(f, id=f"{base.id}_{year}", base_id=base.id,
                                                   year=year)).id)
            if period_total:
                ids.append(self.add_field(self.period_field(base)).id)
        return tuple(ids), tuple(base_ids)

    def period_field(self, base: Field) -> Field:
        """The "Cả giai đoạn" cell of a yearly row: a sum over the years, or a rate of sums."""
        common = dict(id=f"{base.id}_tong", base_id=base.id, period_total=True, required=False,
                      options_name=None, options=(), min=None, max=None, warn_min=None,
                      warn_max=None, only_if=None, help=None)
        if base.type == "rate":
            return _replace(base, type="rate", num=f"{base.num}_tong", den=f"{base.den}_tong", **common)
        if base.type in ("int", "money", "sum"):
            return _replace(base, type="sum", of=tuple(f"{base.id}_{y}" for y in self.years),
                            num=None, den=None, **common)
        self.fail(base.line, f"trường '{base.id}' kiểu {base.type} không cộng dồn được cho cột "
                             f"'Cả giai đoạn'; bỏ 'period_total' hoặc đổi kiểu.")

    # -- tables
    _COLUMN_KEYS = ("id", "header", "type", "required", "options", "min", "max", "warn_min",
                    "warn_max", "warn_min_message", "unique", "width", "help")

    def build_table(self, m: _Map, sheet_id: str, section_id: str, applies: frozenset) -> Table:
        self.only_keys(m, ("name", "ready_rows", "count_field", "columns"), "Bảng")
        name = self.need(m, "name", "Bảng")
        self.check_id(m, "name", name, "Bảng")
        if name in self.tables:
            self.fail(m, f"tên bảng '{name}' bị lặp.", "name")
        ready = self.need(m, "ready_rows", f"Bảng '{name}'", int)
        if not 1 <= ready <= 5000:
            self.fail(m, f"bảng '{name}': 'ready_rows' phải từ 1 đến 5000.", "ready_rows")
        columns = tuple(self.build_column(c, name) for c in self.need(m, "columns", f"Bảng '{name}'", list))
        ids = [c.id for c in columns]
        if len(set(ids)) != len(ids):
            self.fail(m, f"bảng '{name}' có cột bị lặp mã.", "columns")
        count = self.need(m, "count_field", f"Bảng '{name}'", _Map)
        count_id = self.need(count, "id", "'count_field'")
        self.check_id(count, "id", count_id, "'count_field'")
        self.add_field(Field(id=count_id, base_id=count_id, label=self.need(count, "label", "'count_field'"),
                             type="count", sheet=sheet_id, section=section_id, applies=applies,
                             line=count.line, table=name))
        table = Table(name=name, sheet=sheet_id, section=section_id, applies=applies,
                      ready_rows=ready, columns=columns, count_field=count_id, line=m.line)
        self.tables[name] = table
        return table

    def build_column(self, m: Any, table: str) -> Column:
        if not isinstance(m, _Map):
            self.fail(None, f"mỗi cột của bảng '{table}' phải là một bảng khóa.")
        self.only_keys(m, self._COLUMN_KEYS, "Cột")
        cid = self.need(m, "id", "Cột")
        self.check_id(m, "id", cid, "Cột")
        what = f"Cột '{cid}' của bảng '{table}'"
        ctype = self.need(m, "type", what)
        if ctype not in COLUMN_TYPES:
            self.fail(m, f"{what}: kiểu '{ctype}' không hợp lệ (dùng: {', '.join(COLUMN_TYPES)}).", "type")
        options_name, options = self.options_of(m, ctype, what)
        self.check_bounds(m, ctype, what)
        unique = m.get("unique")
        if unique not in (None, "error", "warning"):
            self.fail(m, f"{what}: 'unique' phải là error hoặc warning.", "unique")
        return Column(id=cid, header=self.need(m, "header", what), type=ctype, line=m.line,
                      required=bool(m.get("required", False)), options_name=options_name,
                      options=options, min=m.get("min"), max=m.get("max"),
                      warn_min=m.get("warn_min"), warn_max=m.get("warn_max"),
                      warn_min_message=m.get("warn_min_message"), unique=unique,
                      width=float(m.get("width", 14)), help=m.get("help"))

    # -- rules
    def build_rules(self, raw_rules: list, section_id: str, applies: frozenset, yearly: bool):
        if not isinstance(raw_rules, list):
            self.fail(None, f"mục '{section_id}': 'rules' phải là một danh sách.")
        for m in raw_rules:
            if not isinstance(m, _Map):
                self.fail(None, f"mỗi quy tắc của mục '{section_id}' phải là một bảng khóa.")
            self.only_keys(m, ("id", "check", "severity", "message"), "Quy tắc")
            rid = self.need(m, "id", "Quy tắc")
            self.check_id(m, "id", rid, "Quy tắc")
            match = _CHECK_RE.match(self.need(m, "check", f"Quy tắc '{rid}'"))
            if not match:
                self.fail(m, f"quy tắc '{rid}': 'check' phải có dạng 'ma_a <= ma_b' "
                             f"(so sánh: {' '.join(COMPARISONS)}).", "check")
            severity = self.need(m, "severity", f"Quy tắc '{rid}'")
            if severity not in ("error", "warning"):
                self.fail(m, f"quy tắc '{rid}': 'severity' phải là error hoặc warning.", "severity")
            left, op, right = match.groups()
            common = dict(op=op, severity=severity, message=self.need(m, "message", f"Quy tắc '{rid}'"),
                          section=section_id, applies=applies, line=m.line)
            for year in (self.years if yearly else (None,)):
                sfx = (lambda x: x) if year is None else (lambda x, y=year: f"{x}_{y}")
                rule = Rule(id=sfx(rid), left=sfx(left), right=sfx(right), year=year, **common)
                self.rules.append(rule)
                yield rule.id

    def check_references(self):
        """Every id a formula, rule or condition names must be a field of the form."""
        def known(fid, line, what):
            if fid not in self.fields:
                self.fail(line, f"{what} nhắc tới trường '{fid}' nhưng biểu mẫu không có trường này.")
            return self.fields[fid]
        for f in self.fields.values():
            for ref in (f.num, f.den, *f.of):
                if ref:
                    known(ref, f.line, f"trường '{f.id}'")
            if f.only_if:
                cond = known(f.only_if.field, f.line, f"'only_if' của trường '{f.id}'")
                if f.only_if.equals not in cond.options:
                    self.fail(f.line, f"'only_if' của trường '{f.id}': '{f.only_if.equals}' không phải "
                                      f"lựa chọn của '{cond.id}'.")
        for r in self.rules:
            for ref in (r.left, r.right):
                target = known(ref, r.line, f"quy tắc '{r.id}'")
                if target.type not in ("int", "money", "date", "sum", "count"):
                    self.fail(r.line, f"quy tắc '{r.id}' so sánh trường '{ref}' kiểu {target.type}; "
                                      f"chỉ so sánh được số hoặc ngày.")


_KIND_VI = {str: "chữ", int: "số nguyên", list: "danh sách", _Map: "bảng khóa: giá trị",
            dt.date: "ngày dạng YYYY-MM-DD"}


def _replace(f: Field, **changes) -> Field:
    from dataclasses import replace
    return replace(f, **changes)


# ---------------------------------------------------------------- public API


def form_path(form: str | Path | None) -> Path:
    """A form name (``nq02_sk5``) or a path to a spec file."""
    if form is None:
        form = DEFAULT_FORM
    p = Path(form)
    if p.suffix.lower() in (".yaml", ".yml") or p.exists():
        return p
    return bundled_form_path(str(form))


def load_form(form: str | Path | None = None) -> Form:
    """Load and check a form spec; raise :class:`SpecError` naming the line of any mistake."""
    path = form_path(form)
    return _checked(_Builder(path, _read_yaml(path)).build())


def _checked(form: Form) -> Form:
    """The form, once its summary and report blocks are checked too (same SpecError)."""
    from . import report_spec
    report_spec.validate(form)
    return form


def load_form_text(text: str, name: str = "inline.yaml") -> Form:
    """Load a spec from text (for tests that write small forms inline)."""
    path = Path(name)
    try:
        data = yaml.load(text, Loader=_make_loader(path))  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        raise SpecError(path, _error_line(exc), f"cú pháp YAML sai: {exc.problem}.") from None
    if not isinstance(data, _Map):
        raise SpecError(path, 1, "tệp biểu mẫu phải là một bảng khóa: giá trị.")
    return _checked(_Builder(path, data).build())
