"""Load a declarative form spec (YAML in ``workbook_templates/``) into an immutable model.

The model is the one source of truth: the generator lays it out, the checks enforce it and
the summary rolls it up. Every error in a spec names the file and the line it comes from.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Iterable

import yaml

from qcdc_xl.form.bundled import bundled_form_path, forms_dir

DEFAULT_FORM = "nq02_sk5"

INPUT_TYPES = ("int", "money", "yesno", "list", "date", "text")
FORMULA_TYPES = ("rate", "sum", "count")
COLUMN_TYPES = INPUT_TYPES + ("row_number",)
YESNO_LIST = "co_khong"
YES, NO = "Có", "Không"  # the yes/no answers of the form language (list co_khong)
ALL = "ALL"
PERIOD_SUFFIX, PERIOD_HEADER = "tong", "Cả giai đoạn"  # the period column of a yearly grid


def default_list_key(table_name: str) -> str:
    """A table's key in the JSON report when the spec names none: ``tbl_van_ban`` → ``van_ban``."""
    return table_name[4:] if table_name.startswith("tbl_") else table_name


def grid_id(base: str, suffix) -> str:
    """The id of one cell of a grid row: ``hnnld_da_2019``, ``hs_dung_han_tinh``, ``kn_gq_tong``."""
    return f"{base}_{suffix}"
COMPARISONS = ("<=", ">=", "<", ">", "=")
_CHECK_RE = re.compile(r"^(.*?)(<=|>=|<|>|=)(.*)$")
_TERM_RE = re.compile(r"\s*([+-])?\s*(?:([0-9]+)\s*\*\s*)?([a-z][a-z0-9_]*)\s*")
_TYPE_ID_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# Excel refuses defined names that look like A1 or R1C1 references.
_CELL_LIKE_RE = re.compile(r"^([a-z]{1,3}[0-9]+|r[0-9]*c[0-9]*|r|c)$")
EXCEL_SHEET_NAME_MAX = 31
EXCEL_NAME_MAX = 255


class _Echo(Exception):
    """A part that names a field whose own mistake is already reported: skipped quietly."""


class SpecError(ValueError):
    """A form spec that cannot be used; the message names the file and line. ``errors`` holds
    every mistake found (this one first), each a SpecError of its own."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path, self.line, self.detail = Path(path), line, message
        where = f"{Path(path).name}, dòng {line}" if line else Path(path).name
        self.errors = [self]
        super().__init__(f"Lỗi biểu mẫu {where}: {message}")


def _all_errors(errors: list) -> SpecError:
    """One SpecError standing for several: the first one's line, and all of them listed."""
    first = errors[0]
    combined = SpecError(first.path, first.line, first.detail + (
        f" (và {len(errors) - 1} lỗi khác; chạy «qcdc-xl form-check» để xem hết)" if len(errors) > 1 else ""))
    combined.errors = list(errors)
    return combined


# ---------------------------------------------------------------- model


@dataclass(frozen=True)
class Condition:
    field: str
    equals: str
    otherwise: str = "error"  # only_if: a value set while the condition is false is this


@dataclass(frozen=True)
class Attribute:
    """An extra units-list column of some unit types (``loai_dn``), with its option list."""

    name: str
    label: str
    options_name: str | None
    options: tuple
    aliases: tuple
    types: tuple  # the unit types that have it, in spec order
    line: int


@dataclass(frozen=True)
class UnitType:
    id: str
    label: str
    short: str  # a column header in the summary
    title: str  # a block title in the summary
    subject: str  # "n/N <subject> …" in a sentence
    aliases: tuple  # accepted in a units list, besides the id
    attributes: tuple  # attribute names
    max_units: int | None
    line: int
    min_units: int | None = None


@dataclass(frozen=True)
class UnitGroup:
    id: str
    label: str
    types: tuple
    short: str
    title: str
    subject: str
    line: int


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
    level: str | None = None  # the level of a levels-grid field; None otherwise
    level_label: str | None = None
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
    required_when_met: bool = True  # only_if: required when the condition holds (a year may not)
    early: bool = False  # a yearly cell before the field's ``expected_from``: a value is a warning
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
    def column_label(self) -> str:
        """Which column of a grid the cell is in, for a person: "năm 2019", "cấp tỉnh"."""
        if self.year is not None:
            return f"năm {self.year}"
        if self.level_label:
            return self.level_label[:1].lower() + self.level_label[1:]
        return ""

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
    expect_row: Any = None  # ExpectRow or None
    json_key: str | None = None  # the spec's ``list_key``

    @property
    def list_key(self) -> str:
        """The key of the unit's rows in the JSON report (default: the name without ``tbl_``)."""
        return self.json_key or default_list_key(self.name)

    @property
    def input_columns(self) -> tuple:
        return tuple(c for c in self.columns if c.is_input)

    @property
    def row_number_column(self) -> str | None:
        """The id of the TT column (type ``row_number``), if the table has one."""
        return next((c.id for c in self.columns if not c.is_input), None)


@dataclass(frozen=True)
class ExpectRow:
    """A table should have at least one filled row whose ``column`` equals ``equals``."""

    column: str
    equals: str
    severity: str
    message: str


@dataclass(frozen=True)
class Rule(_Applicable):
    """``Σ lhs op Σ rhs`` must hold when every field it names is a valid number (and ``when``).

    ``lhs``/``rhs`` are ((coefficient, field id), …); the common case is one field a side.
    """

    id: str
    lhs: tuple
    op: str
    rhs: tuple
    severity: str
    message: str
    section: str
    applies: frozenset
    line: int
    year: int | None = None
    when: Condition | None = None

    @property
    def left(self) -> str:
        return self.lhs[0][1]

    @property
    def right(self) -> str:
        return self.rhs[0][1]

    @property
    def field_ids(self) -> tuple:
        return tuple(dict.fromkeys(fid for _, fid in self.lhs + self.rhs))

    @property
    def simple(self) -> bool:
        """One field a side with coefficient 1 and no condition: ``a <= b``."""
        return (len(self.lhs) == len(self.rhs) == 1 and self.lhs[0][0] == self.rhs[0][0] == 1
                and self.when is None)


@dataclass(frozen=True)
class Section(_Applicable):
    id: str
    title: str | None
    sheet: str
    applies: frozenset
    layout: str  # fields | yearly | levels | table
    line: int
    period_total: bool = False
    base_fields: tuple = ()  # yearly, levels: the row ids, in order
    grid_columns: tuple = ()  # yearly, levels: ((suffix, header), …), left to right
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
    applies: frozenset = frozenset()


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
    unit_types: dict  # id -> UnitType, in spec order
    option_lists: dict
    sheets: tuple
    fields: dict  # id -> Field, in sheet/section order
    tables: dict  # name -> Table
    rules: tuple
    path: Path = dc_field(default=None, compare=False)
    # The raw ``summary:`` and ``report:`` blocks (line-aware mappings), read and checked by
    # :mod:`qcdc_xl.form.report_spec`; None when the spec has none (defaults apply).
    summary: Any = dc_field(default=None, compare=False)
    report: Any = dc_field(default=None, compare=False)
    unit_groups: dict = dc_field(default_factory=dict)  # id -> UnitGroup
    levels: dict = dc_field(default_factory=dict)  # id -> label, in order
    attributes: dict = dc_field(default_factory=dict)  # name -> Attribute

    @property
    def type_ids(self) -> tuple:
        return tuple(self.unit_types)

    def type_label(self, loai_hinh: str) -> str:
        t = self.unit_types.get(loai_hinh)
        return t.label if t else loai_hinh

    def kind(self, kind_id: str):
        """The :class:`UnitType` or :class:`UnitGroup` of an id (label, title, short, subject)."""
        return self.unit_types.get(kind_id) or self.unit_groups[kind_id]

    def group_types(self, group_id: str) -> tuple:
        """The unit types of a named group, or of a single type id."""
        if group_id in self.unit_groups:
            return self.unit_groups[group_id].types
        return (group_id,) if group_id in self.unit_types else ()

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


def line_of(where: Any, key: str | None = None) -> int | None:
    """The spec line a mistake is about: a mapping's (or one of its keys'), or a line number."""
    if isinstance(where, _Map):
        return where.key_line(key) if key else where.line
    return where if isinstance(where, int) else None


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """" (có phải 'required'?)" for a slip of the pen, or nothing when no name is close."""
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (có phải '{close[0]}'?)" if close else ""


def unknown_key_hint(key: Any, value: Any) -> str:
    """A key with no value that no one would write as a key (spaces, accents, capitals) is
    nearly always the tail of a text cut at a comma inside {…}: `{label: Số cán bộ, công chức}`
    reads as label «Số cán bộ» plus a key «công chức». Say so, with the fix."""
    if value is not None or not isinstance(key, str) or _ID_RE.match(key):
        return ""
    return (f" Nếu «{key}» là phần sau dấu phẩy của một chữ viết trong {{…}} hay […] (ví dụ "
            f"label: Số cán bộ, công chức), hãy đặt cả chữ đó trong ngoặc kép: "
            f"label: \"Số cán bộ, công chức\".")


class _Map(dict):
    """A dict that remembers the line of itself and of each key."""

    line: int = 0

    def key_line(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


# libyaml's parser, where PyYAML has it (its wheels do): ten times faster than the pure-Python
# one, which took ≈ 0.4 s of every command's start for nq02's spec; the marks are the same.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _make_loader(path: Path):
    class Loader(_SAFE_LOADER):
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


def _syntax_message(detail) -> str:
    """The parser's own words are English: kept as a technical detail after the advice."""
    return (f"cú pháp YAML sai; hãy kiểm tra dấu ngoặc, dấu nháy, dấu hai chấm và thụt lề ở dòng này "
            f"hoặc dòng ngay trên (chi tiết kỹ thuật: {detail}).")


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
        raise SpecError(path, _error_line(exc), _syntax_message(exc.problem or exc)) from None
    except yaml.YAMLError as exc:
        raise SpecError(path, None, _syntax_message(exc)) from None
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
        self.window: tuple = ()
        self.sheet_names: set = set()
        self.unit_types: dict = {}
        self.groups: dict = {}
        self.levels: dict = {}
        self.attributes: dict = {}
        self.errors: list = []  # every mistake found; a broken part is skipped, not the rest
        self.broken_ids: set = set()  # ids of fields that could not be read (no echo errors)

    def soft(self, check, *args, default=None):
        """``check(*args)``, whose failure need not stop reading the part it is about: the
        mistake is recorded and ``default`` stands in."""
        done = self.each([None], lambda _: check(*args))
        return done[0] if done else default

    def each(self, items, build, *args) -> list:
        """``build(item, *args)`` for every item; a mistake in one is recorded and skipped."""
        out = []
        for item in items:
            try:
                out.append(build(item, *args))
            except SpecError as exc:
                self.errors.append(exc)
                if isinstance(item, _Map) and isinstance(item.get("id"), str):
                    self.broken_ids.add(item["id"])
            except _Echo:
                pass
        return out

    # -- small helpers
    def fail(self, where: Any, message: str, key: str | None = None):
        raise SpecError(self.path, line_of(where, key), message)

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
                self.fail(m, f"{what}: khóa '{key}' không được hỗ trợ{did_you_mean(key, allowed)} "
                             f"(dùng: {', '.join(sorted(allowed))}).{unknown_key_hint(key, m[key])}", key)

    def check_id(self, m: _Map, key: str, value: str, what: str):
        if not isinstance(value, str) or not _ID_RE.match(value):
            self.fail(m, f"{what}: mã '{value}' chỉ được gồm chữ thường không dấu, số và '_', "
                         f"bắt đầu bằng chữ.", key)
        if _CELL_LIKE_RE.match(value):
            self.fail(m, f"{what}: mã '{value}' trông như một địa chỉ ô Excel nên không dùng được "
                         f"làm tên; hãy thêm '_' hoặc đổi tên.", key)

    def applies(self, m: _Map, default: frozenset, key: str = "applies") -> frozenset:
        """``ALL``, a unit type, a group of types, or a list of these; else ``default``."""
        value = m.get(key)
        if value is None:
            return default
        items = value if isinstance(value, list) else [value]
        out: set = set()
        for item in items:
            if item == ALL:
                out |= set(self.type_ids)
            elif item in self.unit_types:
                out.add(item)
            elif item in self.groups:
                out |= set(self.groups[item].types)
            else:
                if item in self.broken_ids:
                    continue  # a type or group whose own mistake is already reported
                known = [ALL, *self.type_ids, *self.groups]
                self.fail(m, f"'{key}': '{item}' không phải loại hình hay nhóm loại hình của biểu "
                             f"mẫu{did_you_mean(item, known)}; dùng một trong: {', '.join(known)}.", key)
        return frozenset(out)

    # -- top level
    _TOP_KEYS = ("form", "unit_types", "unit_groups", "levels", "option_lists", "sheets",
                 "summary", "report")

    def build(self) -> Form:
        raw = self.raw
        self.only_keys(raw, self._TOP_KEYS, "Tệp biểu mẫu")
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
        self.window = (w0, w1)
        self.build_option_lists(self.need(raw, "option_lists", "Tệp biểu mẫu", _Map))
        self.build_unit_types(self.need(raw, "unit_types", "Tệp biểu mẫu", _Map))
        self.each([raw.get("unit_groups")], self.build_groups)
        self.each([raw.get("levels")], self.build_levels)
        sheets_raw = self.need(raw, "sheets", "Tệp biểu mẫu", list)
        sheets = tuple(self.each(sheets_raw, self.build_sheet))
        self.check_references()
        if self.errors:
            raise _all_errors(self.errors)
        return Form(
            id=form_id, version=version, name=self.need(meta, "name", "Mục 'form'"),
            subtitle=meta.get("subtitle", ""), issuer=meta.get("issuer", ""),
            years=self.years, window=(w0, w1), period_label=str(meta.get("period_label", "")),
            unit_types=self.unit_types, option_lists=self.option_lists, sheets=sheets,
            fields=self.fields, tables=self.tables, rules=tuple(self.rules), path=self.path,
            summary=raw.get("summary"), report=raw.get("report"), unit_groups=self.groups,
            levels=self.levels, attributes=self.attributes)

    @property
    def type_ids(self) -> tuple:
        return tuple(self.unit_types)

    # -- unit types, groups, attributes, levels
    _TYPE_KEYS = ("label", "short", "title", "subject", "aliases", "attributes", "min_units",
                  "max_units")

    def build_unit_types(self, types: _Map):
        if not types:
            self.fail(types, "'unit_types' cần ít nhất một loại hình đơn vị.")
        self.each(list(types.items()), lambda item: self.remembering_broken(
            item[0], self.build_unit_type, types, *item))

    def remembering_broken(self, tid: Any, build, *args):
        """``build(*args)``; when it fails, ``tid`` (a type or group) is marked broken so that its
        uses are not reported again as unknown ids."""
        try:
            return build(*args)
        except SpecError:
            if isinstance(tid, str):
                self.broken_ids.add(tid)
            raise

    def build_unit_type(self, types: _Map, tid: Any, value: Any):
        self.check_type_id(types, tid, "Loại hình")
        m = value if isinstance(value, _Map) else None
        if m is None and not isinstance(value, str):
            self.fail(types, f"loại hình '{tid}': ghi tên loại hình, hoặc một bảng khóa "
                             f"({', '.join(self._TYPE_KEYS)}).", tid)
        if m is None:
            self.unit_types[tid] = UnitType(tid, value, tid, value.upper(), value, (), (), None,
                                            types.key_line(tid))
            return
        self.only_keys(m, self._TYPE_KEYS, f"Loại hình '{tid}'")
        label = self.need(m, "label", f"Loại hình '{tid}'")
        attr_map = self.mapping(m, "attributes", f"Loại hình '{tid}'")
        attrs = tuple(self.build_attribute(attr_map, a, tid) for a in attr_map)
        for key in ("min_units", "max_units"):
            value = m.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                self.fail(m, f"loại hình '{tid}': '{key}' phải là số nguyên không âm.", key)
        max_units = m.get("max_units")
        self.unit_types[tid] = UnitType(
            tid, label, str(m.get("short", tid)), str(m.get("title", label.upper())),
            str(m.get("subject", label)), self.text_list(m, "aliases", f"Loại hình '{tid}'"),
            attrs, max_units, m.line, m.get("min_units"))

    def mapping(self, m: _Map, key: str, owner: str) -> _Map:
        value = m.get(key)
        if value is None:
            return _Map()
        if not isinstance(value, _Map):
            self.fail(m, f"'{owner}': '{key}' phải là một bảng khóa: giá trị.", key)
        return value

    def text_list(self, m: _Map, key: str, what: str) -> tuple:
        value = m.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(m, f"{what}: '{key}' phải là danh sách chữ, ví dụ [a, b].", key)
        return tuple(value)

    def check_type_id(self, m: _Map, tid: Any, what: str):
        if not isinstance(tid, str) or not _TYPE_ID_RE.match(tid) or tid == ALL:
            self.fail(m, f"{what} '{tid}': mã chỉ gồm chữ IN HOA không dấu, số và '_' (vd. HUYEN, "
                         f"SO_NGANH), không được là {ALL}.", tid if isinstance(tid, str) else None)
        if tid in self.unit_types or tid in self.groups:
            self.fail(m, f"{what} '{tid}': mã đã được dùng cho một loại hình hoặc nhóm khác.", tid)

    def build_attribute(self, attrs: _Map, name: str, tid: str) -> str:
        m = attrs[name]
        self.check_id(attrs, name, name, f"Thuộc tính của loại hình '{tid}'")
        if name in ("ma_don_vi", "ten_don_vi", "loai_hinh", "khoi"):
            self.fail(attrs, f"thuộc tính '{name}' trùng tên một cột chuẩn của danh sách đơn vị.", name)
        if not isinstance(m, _Map):
            self.fail(attrs, f"thuộc tính '{name}' phải là một bảng khóa (label, options, aliases).", name)
        self.only_keys(m, ("label", "options", "aliases"), f"Thuộc tính '{name}'")
        options_name, options = None, ()
        if "options" in m:
            options_name = m["options"]
            if options_name not in self.option_lists:
                self.fail(m, f"thuộc tính '{name}': danh sách lựa chọn '{options_name}' không có trong "
                             f"'option_lists'.", "options")
            options = self.option_lists[options_name]
        old = self.attributes.get(name)
        types = (old.types if old else ()) + (tid,)
        self.attributes[name] = Attribute(name, self.need(m, "label", f"Thuộc tính '{name}'"),
                                          options_name, options,
                                          self.text_list(m, "aliases", f"Thuộc tính '{name}'"),
                                          types, m.line)
        return name

    def build_groups(self, groups: Any):
        if groups is None:
            return
        if not isinstance(groups, _Map):
            self.fail(None, "'unit_groups' phải là một bảng khóa: MÃ_NHÓM: {label, types}.")
        self.each(list(groups.items()),
                  lambda item: self.remembering_broken(item[0], self.build_group, groups, *item))

    def build_group(self, groups: _Map, gid: Any, m: Any):
        self.check_type_id(groups, gid, "Nhóm loại hình")
        if not isinstance(m, _Map):
            self.fail(groups, f"nhóm '{gid}' phải là một bảng khóa (label, types).", gid)
        self.only_keys(m, ("label", "types", "short", "title", "subject"), f"Nhóm '{gid}'")
        label = self.need(m, "label", f"Nhóm '{gid}'")
        types = self.need(m, "types", f"Nhóm '{gid}'", list)
        for t in types:
            if t not in self.unit_types and t not in self.broken_ids:
                self.fail(m, f"nhóm '{gid}': '{t}' không phải loại hình của biểu mẫu (có: "
                             f"{', '.join(self.type_ids)}).", "types")
        types = [t for t in types if t in self.unit_types]  # a broken type is reported already
        self.groups[gid] = UnitGroup(gid, label, tuple(dict.fromkeys(types)),
                                     str(m.get("short", gid)), str(m.get("title", label.upper())),
                                     str(m.get("subject", label)), m.line)

    def build_levels(self, levels: Any):
        if levels is None:
            return
        if not isinstance(levels, _Map) or not levels:
            self.fail(None, "'levels' phải là một bảng khóa: mã cấp: tên cấp (vd. tinh: Cấp tỉnh).")
        for lid, label in levels.items():
            self.check_id(levels, lid, lid, "Cấp")
            if not isinstance(label, str) or not label.strip():
                self.fail(levels, f"cấp '{lid}' cần một tên, ví dụ «Cấp tỉnh».", lid)
            self.levels[lid] = label

    def build_option_lists(self, lists: _Map):
        for name, options in lists.items():
            self.check_id(lists, name, name, "Danh sách lựa chọn")
            if not isinstance(options, list) or not options:
                self.fail(lists, f"danh sách '{name}' phải là một danh sách không rỗng.", name)
            texts = tuple(str(o) for o in options)
            if len(set(texts)) != len(texts):
                self.fail(lists, f"danh sách '{name}' có lựa chọn bị lặp.", name)
            self.option_lists[name] = texts
        if self.option_lists.get(YESNO_LIST) != (YES, NO):
            self.fail(lists, f"cần danh sách '{YESNO_LIST}: [{YES}, {NO}]' (đúng hai lựa chọn này) "
                             f"dùng cho trường yesno.")

    # -- sheets and sections
    def build_sheet(self, m: Any) -> Sheet:
        if not isinstance(m, _Map):
            self.fail(None, "mỗi mục trong 'sheets' phải là một bảng khóa: giá trị.")
        self.only_keys(m, ("id", "name", "title", "heading", "applies", "sections"), "Trang")
        sheet_id = self.need(m, "id", "Trang")
        self.soft(self.check_id, m, "id", sheet_id, "Trang")
        name = self.need(m, "name", f"Trang '{sheet_id}'")
        if len(name) > EXCEL_SHEET_NAME_MAX or re.search(r"[\[\]:*?/\\]", name):
            self.fail(m, f"tên trang '{name}' dài quá {EXCEL_SHEET_NAME_MAX} ký tự hoặc có ký tự "
                         f"cấm []:*?/\\; Excel không nhận tên này, hãy đặt tên ngắn hơn.", "name")
        if name.casefold() in self.sheet_names:
            self.fail(m, f"tên trang '{name}' bị lặp.", "name")
        self.sheet_names.add(name.casefold())
        applies = self.soft(self.applies, m, frozenset(self.type_ids), default=frozenset(self.type_ids))
        sections = tuple(self.each(self.need(m, "sections", f"Trang '{sheet_id}'", list),
                                   self.build_section, sheet_id, applies))
        return Sheet(id=sheet_id, name=name,
                     title=self.need(m, "title", f"Trang '{sheet_id}'"),
                     heading=m.get("heading"), sections=sections, line=m.line, applies=applies)

    _SECTION_KEYS = ("id", "title", "applies", "layout", "period_total", "levels", "fields",
                     "rules", "table")

    def build_section(self, m: Any, sheet_id: str, sheet_applies: frozenset) -> Section:
        if not isinstance(m, _Map):
            self.fail(None, f"mỗi mục trong 'sections' của trang '{sheet_id}' phải là một bảng khóa.")
        self.only_keys(m, self._SECTION_KEYS, "Mục")
        sid = self.need(m, "id", "Mục")
        self.soft(self.check_id, m, "id", sid, "Mục")
        applies = self.soft(self.applies, m, sheet_applies, default=sheet_applies)
        if "table" in m:
            if "fields" in m or "rules" in m:
                self.fail(m, f"mục '{sid}': một mục bảng không có 'fields' hay 'rules'.", "table")
            table = self.build_table(self.need(m, "table", f"Mục '{sid}'", _Map), sheet_id, sid, applies)
            return Section(id=sid, title=m.get("title"), sheet=sheet_id, applies=applies,
                           layout="table", line=m.line, field_ids=(table.count_field,),
                           table=table.name)
        layout = m.get("layout", "fields")
        if layout not in ("fields", "yearly", "levels"):
            self.fail(m, f"mục '{sid}': 'layout' phải là fields, yearly hoặc levels.", "layout")
        if "levels" in m and layout != "levels":
            self.fail(m, f"mục '{sid}': 'levels' chỉ dùng với 'layout: levels'.", "levels")
        raw_fields = self.need(m, "fields", f"Mục '{sid}'", list)
        period_total = bool(m.get("period_total", False))
        if period_total and layout != "yearly":
            self.fail(m, f"mục '{sid}': 'period_total' chỉ dùng với 'layout: yearly'.", "period_total")
        ctx = dict(sheet=sheet_id, section=sid, applies=applies)
        columns = self.grid_columns(m, layout, applies)
        if layout == "fields":
            ids = tuple(self.each(raw_fields, lambda f: self.add_field(self.parse_field(f, ctx)).id))
            bases = ()
        else:
            ctx["period_total"] = period_total
            ctx["own"] = frozenset(f.get("id") for f in raw_fields if isinstance(f, _Map))
            ids, bases = self.build_grid(raw_fields, ctx, columns)
        rule_ids = tuple(self.build_rules(m.get("rules") or [], ctx, columns))
        return Section(id=sid, title=m.get("title"), sheet=sheet_id, applies=applies, layout=layout,
                       line=m.line, period_total=period_total, base_fields=bases, field_ids=ids,
                       rule_ids=rule_ids,
                       grid_columns=tuple((c.suffix, c.header) for c in columns)
                       + (((PERIOD_SUFFIX, PERIOD_HEADER),) if period_total else ()))

    def grid_columns(self, m: _Map, layout: str, applies: frozenset) -> list:
        """The columns of a grid section: one per year, or one per level of the section."""
        if layout == "yearly":
            return [_GridColumn(str(y), str(y), applies, year=y) for y in self.years]
        if layout != "levels":
            return []
        if not self.levels:
            self.fail(m, "mục dùng 'layout: levels' nhưng biểu mẫu chưa khai báo 'levels' "
                         "(vd. levels: {tinh: Cấp tỉnh, huyen: Cấp huyện, xa: Cấp xã}).", "layout")
        wanted = m.get("levels", list(self.levels))
        if isinstance(wanted, list):
            wanted = {lid: None for lid in wanted}
        if not isinstance(wanted, dict) or not wanted:
            self.fail(m, "'levels' của mục phải là danh sách cấp, hoặc bảng cấp: loại hình.", "levels")
        out = []
        for lid, who in wanted.items():
            if lid not in self.levels:
                self.fail(m, f"cấp '{lid}' không có trong 'levels' của biểu mẫu (có: "
                             f"{', '.join(self.levels)}){did_you_mean(lid, self.levels)}; hãy sửa mã "
                             f"cấp, hoặc khai báo cấp này trong 'levels' ở đầu tệp.", "levels")
            level_applies = applies if who is None else self.applies(_one(wanted, lid), applies)
            out.append(_GridColumn(lid, self.levels[lid], level_applies & applies, level=lid))
        return out

    # -- fields
    _FIELD_KEYS = ("id", "label", "type", "applies", "required", "options", "min", "max",
                   "warn_min", "warn_max", "warn_min_message", "only_if", "prefill",
                   "prefill_optional", "help", "pattern", "pattern_hint", "num", "den", "of",
                   "required_from", "from_year", "expected_from")

    def parse_field(self, m: Any, ctx: dict, column: "_GridColumn | None" = None) -> Field:
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
        suffix = self.suffixer(ctx, column)
        only_if = None
        if "only_if" in m:
            only_if = self.condition(self.need(m, "only_if", what, _Map), "'only_if'", suffix,
                                     otherwise=True)
        yearly_keys = [k for k in ("required_from", "from_year", "expected_from") if k in m]
        if yearly_keys and column is None and "own" not in ctx:
            self.fail(m, f"{what}: '{yearly_keys[0]}' chỉ dùng trong mục 'layout: yearly'.", yearly_keys[0])
        for key in yearly_keys:
            if not isinstance(m[key], int) or isinstance(m[key], bool):
                self.fail(m, f"{what}: '{key}' phải là một năm, ví dụ 2018.", key)
            if not self.years[0] <= m[key] <= self.years[-1]:
                self.fail(m, f"{what}: '{key}: {m[key]}' nằm ngoài các năm của biểu mẫu "
                             f"({self.years[0]}–{self.years[-1]}, khóa 'form.years'); hãy ghi một "
                             f"năm trong khoảng này.", key)
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
            options=options, min=m.get("min"), max=m.get("max"),
            **self.field_warn_bounds(m, ftype), warn_min_message=m.get("warn_min_message"),
            only_if=only_if, prefill=m.get("prefill"), prefill_optional=m.get("prefill_optional"),
            help=m.get("help"), pattern=m.get("pattern"), pattern_hint=m.get("pattern_hint"),
            num=num, den=den, of=of)

    def suffixer(self, ctx: dict, column: "_GridColumn | None"):
        """In a grid, the section's own ids take the column's suffix; other ids stay as written."""
        if column is None:
            return lambda x: x
        own = ctx.get("own", frozenset())
        return lambda x: grid_id(x, column.suffix) if x in own else x

    def condition(self, cond: _Map, what: str, suffix, otherwise: bool = False) -> Condition:
        self.only_keys(cond, ("field", "equals") + (("otherwise",) if otherwise else ()), what)
        severity = cond.get("otherwise", "error")
        if severity not in ("error", "warning"):
            self.fail(cond, f"{what}: 'otherwise' phải là error (giá trị bị loại) hoặc warning "
                            f"(chỉ nhắc, vẫn tính).", "otherwise")
        return Condition(suffix(self.need(cond, "field", what)), str(self.need(cond, "equals", what, None)),
                         severity)

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

    _BOUND_KEYS = ("min", "max", "warn_min", "warn_max")

    def field_warn_bounds(self, m: _Map, ftype: str) -> dict:
        """A date field with no bounds of its own is the report's date (README: "ngày lập hợp lệ
        (ngoài khoảng: nhắc)"): a date outside the reporting window is a warning, kept."""
        if ftype == "date" and not any(k in m for k in self._BOUND_KEYS):
            return {"warn_min": self.window[0], "warn_max": self.window[1]}
        return {"warn_min": m.get("warn_min"), "warn_max": m.get("warn_max")}

    def column_bounds(self, m: _Map, ctype: str) -> dict:
        """A table's date column with no min/max takes the campaign's dates (1 January of the
        first year to the end of the reporting window), never the window alone: a document of
        the period is dated before the report."""
        lo, hi = m.get("min"), m.get("max")
        if ctype == "date":
            lo = dt.date(self.years[0], 1, 1) if lo is None else lo
            hi = self.window[1] if hi is None else hi
        return {"min": lo, "max": hi}

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

    def build_grid(self, raw_fields: list, ctx: dict, columns: list):
        """A yearly or levels grid: each row field once per column, ``<id>_<suffix>``."""
        base_ids, ids = [], []
        period = ctx.get("period_total")
        for m in raw_fields:
            done = self.each([m], self.grid_row, ctx, columns, period)
            if done:
                base_ids.append(done[0][0])
                ids.extend(done[0][1])
        return tuple(ids), tuple(base_ids)

    def grid_row(self, m: Any, ctx: dict, columns: list, period: bool) -> tuple:
        """One row of a grid: (its base id, the ids of its cells)."""
        ids = []
        base = self.parse_field(m, ctx)
        for column in columns:
            if column.year is not None and column.year < int(m.get("from_year") or 0):
                continue  # the field has no cell before its first year
            f = self.parse_field(m, ctx, column)
            # required_from alone says "required from that year"; before it, optional
            in_time = column.year is None or column.year >= int(m.get("required_from") or 0)
            required = (base.required or "required_from" in m) and in_time
            early = column.year is not None and column.year < int(m.get("expected_from") or 0)
            ids.append(self.add_field(_replace(
                f, id=grid_id(base.id, column.suffix), base_id=base.id, year=column.year,
                level=column.level, level_label=self.levels.get(column.level),
                applies=f.applies & column.applies, required=required and f.only_if is None,
                required_when_met=in_time, early=early)).id)
        if period:
            ids.append(self.add_field(self.period_field(base)).id)
        return base.id, ids

    def period_field(self, base: Field) -> Field:
        """The "Cả giai đoạn" cell of a yearly row: a sum over the years, or a rate of sums."""
        common = dict(id=grid_id(base.id, PERIOD_SUFFIX), base_id=base.id, period_total=True, required=False,
                      options_name=None, options=(), min=None, max=None, warn_min=None,
                      warn_max=None, only_if=None, help=None)
        if base.type == "rate":
            return _replace(base, type="rate", num=grid_id(base.num, PERIOD_SUFFIX),
                            den=grid_id(base.den, PERIOD_SUFFIX), **common)
        if base.type in ("int", "money", "sum"):
            years = [grid_id(base.id, y) for y in self.years if grid_id(base.id, y) in self.fields]
            return _replace(base, type="sum", of=tuple(years),
                            num=None, den=None, **common)
        self.fail(base.line, f"trường '{base.id}' kiểu {base.type} không cộng dồn được cho cột "
                             f"'Cả giai đoạn'; bỏ 'period_total' hoặc đổi kiểu.")

    # -- tables
    _COLUMN_KEYS = ("id", "header", "type", "required", "options", "min", "max", "warn_min",
                    "warn_max", "warn_min_message", "unique", "width", "help")

    def build_table(self, m: _Map, sheet_id: str, section_id: str, applies: frozenset) -> Table:
        self.only_keys(m, ("name", "ready_rows", "count_field", "columns", "expect_row", "list_key"),
                       "Bảng")
        name = self.need(m, "name", "Bảng")
        self.check_id(m, "name", name, "Bảng")
        if name in self.tables:
            self.fail(m, f"tên bảng '{name}' bị lặp.", "name")
        ready = self.need(m, "ready_rows", f"Bảng '{name}'", int)
        if not 1 <= ready <= 5000:
            self.fail(m, f"bảng '{name}': 'ready_rows' phải từ 1 đến 5000.", "ready_rows")
        columns = tuple(self.each(self.need(m, "columns", f"Bảng '{name}'", list), self.build_column, name))
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
                      ready_rows=ready, columns=columns, count_field=count_id, line=m.line,
                      expect_row=self.expect_row(m, name, columns), json_key=self.list_key(m, name))
        self.tables[name] = table
        return table

    def list_key(self, m: _Map, name: str) -> str | None:
        key = m.get("list_key")
        if key is not None:
            self.check_id(m, "list_key", key, f"Bảng '{name}'")
            if key in {t.list_key for t in self.tables.values()}:
                self.fail(m, f"bảng '{name}': 'list_key' '{key}' đã dùng cho một bảng khác.", "list_key")
        return key

    def expect_row(self, m: _Map, name: str, columns: tuple) -> ExpectRow | None:
        if "expect_row" not in m:
            return None
        e = self.need(m, "expect_row", f"Bảng '{name}'", _Map)
        what = f"'expect_row' của bảng '{name}'"
        self.only_keys(e, ("column", "equals", "severity", "message"), what)
        column = next((c for c in columns if c.id == self.need(e, "column", what)), None)
        if column is None:
            self.fail(e, f"{what}: bảng không có cột '{e['column']}'.", "column")
        equals = str(self.need(e, "equals", what, None))
        if column.options and equals not in column.options:
            self.fail(e, f"{what}: '{equals}' không phải lựa chọn của cột '{column.id}' "
                         f"({', '.join(column.options)}).", "equals")
        severity = e.get("severity", "warning")
        if severity not in ("error", "warning"):
            self.fail(e, f"{what}: 'severity' phải là error hoặc warning.", "severity")
        return ExpectRow(column.id, equals, severity, self.need(e, "message", what))

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
                      options=options, **self.column_bounds(m, ctype),
                      warn_min=m.get("warn_min"), warn_max=m.get("warn_max"),
                      warn_min_message=m.get("warn_min_message"), unique=unique,
                      width=float(m.get("width", 14)), help=m.get("help"))

    # -- rules
    def build_rules(self, raw_rules: list, ctx: dict, columns: list):
        section_id = ctx["section"]
        if not isinstance(raw_rules, list):
            self.fail(None, f"mục '{section_id}': 'rules' phải là một danh sách.")
        for found in self.each(raw_rules, lambda m: list(self.build_rule(m, ctx, columns))):
            yield from found

    def build_rule(self, m: Any, ctx: dict, columns: list):
        section_id = ctx["section"]
        if not isinstance(m, _Map):
            self.fail(None, f"mỗi quy tắc của mục '{section_id}' phải là một bảng khóa.")
        self.only_keys(m, ("id", "check", "when", "severity", "message"), "Quy tắc")
        rid = self.need(m, "id", "Quy tắc")
        self.check_id(m, "id", rid, "Quy tắc")
        lhs, op, rhs = self.parse_check(m, rid)
        severity = self.need(m, "severity", f"Quy tắc '{rid}'")
        if severity not in ("error", "warning"):
            self.fail(m, f"quy tắc '{rid}': 'severity' phải là error hoặc warning.", "severity")
        common = dict(op=op, severity=severity, message=self.need(m, "message", f"Quy tắc '{rid}'"),
                      section=section_id, applies=ctx["applies"], line=m.line)
        for column in (columns or [None]):
            sfx = self.suffixer(ctx, column)
            when = self.condition(m["when"], f"'when' của quy tắc '{rid}'", sfx) if "when" in m else None
            rule = Rule(id=sfx(rid) if column is None else grid_id(rid, column.suffix),
                        lhs=tuple((k, sfx(x)) for k, x in lhs), rhs=tuple((k, sfx(x)) for k, x in rhs),
                        year=column.year if column else None, when=when, **common)
            if column is not None and any(fid not in self.fields for fid in rule.field_ids
                                          if fid.endswith("_" + column.suffix)):
                continue  # a row without a cell in this column (``from_year``)
            self.rules.append(rule)
            yield rule.id

    def parse_check(self, m: _Map, rid: str) -> tuple:
        """``a + b - 2 * c <= d``: each side a sum of fields with optional whole coefficients."""
        text = str(self.need(m, "check", f"Quy tắc '{rid}'"))
        match = _CHECK_RE.match(text)
        sides = match and (_terms(match.group(1)), _terms(match.group(3)))
        if not sides or None in sides:
            self.fail(m, f"quy tắc '{rid}': 'check' phải có dạng 'ma_a <= ma_b', hoặc tổng, hiệu của "
                         f"các mã như 'a + b - 3 * c >= d' (so sánh: {' '.join(COMPARISONS)}).", "check")
        return sides[0], match.group(2), sides[1]

    def check_references(self):
        """Every id a formula, rule or condition names must be a field of the form."""
        self.each(list(self.fields.values()), self.check_field_references)
        self.rules = self.each(self.rules, self.check_rule_references)
        # a grid repeats a mistake in every column: say it once (its ids without the suffix)
        suffixes = "|".join(map(re.escape, [*map(str, self.years), *self.levels, PERIOD_SUFFIX]))
        echo = re.compile(rf"_(?:{suffixes})'")
        seen, unique = set(), []
        for e in self.errors:
            key = (e.line, echo.sub("'", e.detail))
            if key not in seen:
                seen.add(key)
                unique.append(e)
        self.errors = unique

    def known(self, fid: str, line: int, what: str) -> Field:
        if fid not in self.fields:
            if self.broken_ids.intersection({fid, fid.rsplit("_", 1)[0]}):
                raise _Echo(fid)  # that field's own mistake is already reported
            self.fail(line, f"{what} nhắc tới trường '{fid}' nhưng biểu mẫu không có trường này"
                            f"{did_you_mean(fid, {*self.fields, *(f.base_id for f in self.fields.values())})}; "
                            f"hãy sửa mã cho đúng mã một trường.")
        return self.fields[fid]

    def check_condition(self, cond: Condition, line: int, what: str):
        target = self.known(cond.field, line, what)
        if cond.equals not in target.options:
            self.fail(line, f"{what}: '{cond.equals}' không phải lựa chọn của '{target.id}'.")

    def check_field_references(self, f: Field):
        for ref in (f.num, f.den, *f.of):
            if ref:
                self.known(ref, f.line, f"trường '{f.id}'")
        if f.only_if:
            self.check_condition(f.only_if, f.line, f"'only_if' của trường '{f.id}'")

    def check_rule_references(self, r: Rule) -> Rule:
        """The rule, applying only where all its fields exist."""
        applies = r.applies
        for ref in r.field_ids:
            target = self.known(ref, r.line, f"quy tắc '{r.id}'")
            if target.type not in ("int", "money", "date", "sum", "count"):
                self.fail(r.line, f"quy tắc '{r.id}' so sánh trường '{ref}' kiểu {target.type}; "
                                  f"chỉ so sánh được số hoặc ngày.")
            applies &= target.applies
        if r.when:
            self.check_condition(r.when, r.line, f"'when' của quy tắc '{r.id}'")
            applies &= self.fields[r.when.field].applies
        return _replace(r, applies=applies)


@dataclass(frozen=True)
class _GridColumn:
    suffix: str
    header: str
    applies: frozenset
    year: int | None = None
    level: str | None = None


def _terms(text: str) -> tuple | None:
    """``"a + 2 * b - c"`` → ((1, "a"), (2, "b"), (-1, "c")); None when it is not that shape."""
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TERM_RE.match(text, pos)
        if not m or m.end() == pos or (out and not m.group(1)):
            return None
        sign = -1 if m.group(1) == "-" else 1
        out.append((sign * int(m.group(2) or 1), m.group(3)))
        pos = m.end()
    return tuple(out) or None


def _one(m: _Map, key: str) -> _Map:
    """``{applies: m[key]}`` remembering the line of ``key`` (for an error message)."""
    out = _Map(applies=m[key])
    out.line, out.key_lines = m.key_line(key), {"applies": m.key_line(key)}
    return out


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
    path = bundled_form_path(str(form))
    if not path.is_file():
        known = ", ".join(sorted(f.stem for f in forms_dir().glob("*.yaml")))
        raise SpecError(path, None, f"không có biểu mẫu «{form}»; các biểu mẫu có sẵn: {known} "
                                    f"(xem «qcdc-xl forms»), hoặc chỉ đường dẫn một tệp .yaml.")
    return path


def load_form(form: str | Path | None = None) -> Form:
    """Load and check a form spec; raise :class:`SpecError` naming the line of any mistake."""
    path = form_path(form)
    return _checked(_Builder(path, _read_yaml(path)).build())


def _checked(form: Form) -> Form:
    """The form, once its summary and report blocks are checked too (same SpecError)."""
    from qcdc_xl.form import report_spec
    report_spec.validate(form)
    return form


def load_form_text(text: str, name: str = "inline.yaml") -> Form:
    """Load a spec from text (for tests that write small forms inline)."""
    path = Path(name)
    try:
        data = yaml.load(text, Loader=_make_loader(path))  # noqa: S506
    except yaml.MarkedYAMLError as exc:
        raise SpecError(path, _error_line(exc), _syntax_message(exc.problem)) from None
    if not isinstance(data, _Map):
        raise SpecError(path, 1, "tệp biểu mẫu phải là một bảng khóa: giá trị.")
    return _checked(_Builder(path, data).build())


def bundled_forms() -> list:
    """(form id, Form or the SpecError that stops it) for every bundled spec, by id."""
    out = []
    for path in sorted(forms_dir().glob("*.yaml")):
        try:
            out.append((path.stem, load_form(path)))
        except SpecError as exc:
            out.append((path.stem, exc))
    return out


def describe_form(form: Form) -> str:
    """One paragraph for a person: the form is usable, and what it holds."""
    types = ", ".join(form.type_ids)
    groups = f"; nhóm: {', '.join(form.unit_groups)}" if form.unit_groups else ""
    levels = f"; cấp: {', '.join(form.levels)}" if form.levels else ""
    inputs = sum(1 for f in form.fields.values() if f.is_input)
    return (f"Biểu mẫu «{form.id}» (phiên bản {form.version}) dùng được: {len(form.sheets)} trang, "
            f"{inputs} ô nhập, {len(form.tables)} bảng, {len(form.rules)} quy tắc; loại hình: "
            f"{types}{groups}{levels}.")
