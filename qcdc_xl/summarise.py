"""Roll the units' valid values up into the contract's ``totals`` and the other counts a
summary needs (answered counts for "n/N", documents by type and year, models).

Only returns that count (status ok/errors) enter a total; a field enters a group's total only
for the units it applies to; invalid values are never counted. Rates are Σ numerators over
Σ denominators of the group, never an average of the units' rates. Everything returned is
JSON-serialisable (str keys, numbers, str, None, dict).
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Callable, Iterable

from .formulas import rate
from .records import UnitResult
from .spec import Field, Form
from .units import canonical_option

ALL = "all"
UNKNOWN = ""  # key for a document/model whose year or option is unknown
DOC_TABLE, DOC_TYPE, DOC_DATE = "tbl_van_ban", "loai_van_ban", "ngay_ban_hanh"
MODEL_TABLE, MODEL_FIELD, MODEL_LEVEL = "tbl_mo_hinh", "linh_vuc", "cap_cong_nhan"
YES = "Có"
TOTALLED_INPUTS = ("int", "money", "yesno", "list")


# ---------------------------------------------------------------- small helpers


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def counted(results: Iterable[UnitResult]) -> list[UnitResult]:
    """The results whose values go into the totals."""
    return [r for r in results if r.counts]


def valid_value(result: UnitResult, field: Field):
    """The unit's value of a field if it applies, was given and is valid; else None."""
    if not field.applies_to(result.unit.loai_hinh) or field.id in result.invalid:
        return None
    return result.values.get(field.id)


def attribute_value(form: Form, result: UnitResult, name: str) -> str:
    """A unit attribute (``loai_dn``): from the units list, else from the field of the return
    that the list would prefill, as an option of the attribute's list."""
    value = result.unit.attr(name)
    if not value:
        field = next((f for f in form.fields.values() if f.prefill_optional == name), None)
        value = (result.values.get(field.id) if field else None) or ""
    options = form.attributes[name].options
    return canonical_option(str(value), options) if options else str(value)


def totalled_fields(form: Form, types: Iterable[str] | None = None) -> list[Field]:
    """Fields that have a total: numbers, yes/no, lists, and the derived ones; not identity;
    with ``types``, those that apply to at least one of them."""
    wanted = None if types is None else set(types)
    return [f for f in form.fields.values()
            if not f.is_identity and (f.is_formula or f.type in TOTALLED_INPUTS)
            and (wanted is None or f.applies & wanted)]


def group_members(form: Form) -> dict:
    """The contract's groups: ``all``, every unit type, every named group → its unit types."""
    out = {ALL: form.type_ids}
    out.update({t: (t,) for t in form.type_ids})
    out.update({g: grp.types for g, grp in form.unit_groups.items()})
    return out


def _by_type(form: Form, results: list[UnitResult], make: Callable[[list, tuple | None], dict]) -> dict:
    """``{"all": make(all, None), <type>: make(its units, (type,)), <group>: …}``."""
    out = {}
    for key, types in group_members(form).items():
        out[key] = make(results if key == ALL else [r for r in results if r.unit.loai_hinh in types],
                        None if key == ALL else types)
    return out


def khoi_values(results: Iterable[UnitResult]) -> list[str]:
    """The khoi values of the units list, in first-seen order ([] when no unit has one)."""
    seen = list(dict.fromkeys(r.unit.khoi or UNKNOWN for r in results))
    return seen if any(seen) else []


def _by_khoi(results: list[UnitResult], khois: list[str]) -> dict:
    return {k: [r for r in results if (r.unit.khoi or UNKNOWN) == k] for k in khois}


# ---------------------------------------------------------------- one group's totals


def _input_total(field: Field, results: list[UnitResult]):
    values = [valid_value(r, field) for r in results]
    if field.type == "yesno":
        return sum(1 for v in values if v == YES)
    if field.type == "list":
        counts = Counter(v for v in values if v in field.options)
        return {o: counts.get(o, 0) for o in field.options}
    total = sum(v for v in values if _is_number(v))
    return int(total) if isinstance(total, float) and total.is_integer() else total


def _group_totals(form: Form, results: list[UnitResult], types: tuple | None) -> dict:
    """Totals of one group; derived fields are built from the group's own totals."""
    fields = totalled_fields(form, types)
    out: dict = {}

    def total(fid: str):
        if fid not in out:
            out[fid] = _field_total(form.fields[fid], results, total)
        return out[fid]

    for f in fields:
        total(f.id)
    ordered = {f.id: out[f.id] for f in fields}
    ordered["so_don_vi"] = len(results)  # so_van_ban / so_mo_hinh are the tables' count fields
    return ordered


def _field_total(field: Field, results: list[UnitResult], total: Callable):
    if field.type == "sum":  # Σ of the parts' totals = Σ over units of their valid parts
        return sum(total(x) or 0 for x in field.of)
    if field.type == "rate":
        return rate(total(field.num), total(field.den))
    if field.type == "count":
        return sum(len(r.tables.get(field.table) or ()) for r in results
                   if field.applies_to(r.unit.loai_hinh))
    return _input_total(field, results)



# ---------------------------------------------------------------- public API


def compute_totals(form: Form, results: list[UnitResult]) -> dict:
    """The contract's ``totals``: ``all``, every unit type and named group, the same per
    ``khoi`` when units have one, and for each unit attribute (``loai_dn``) one group per
    option, over the units of the types that have it."""
    members = counted(results)

    def make(rs, types):
        return _group_totals(form, rs, types)

    totals = _by_type(form, members, make)
    khois = khoi_values(results)
    if khois:
        totals["khoi"] = {k: _by_type(form, rs, make) for k, rs in _by_khoi(members, khois).items()}
    for name, attribute in form.attributes.items():
        having = [r for r in members if r.unit.loai_hinh in attribute.types]
        totals[name] = {o: make([r for r in having if attribute_value(form, r, name) == o],
                                attribute.types) for o in attribute.options}
    return totals


def answered_counts(form: Form, results: list[UnitResult]) -> dict:
    """Per group (as in the totals, and ``khoi`` when present) and input field: the number of
    counted units with a valid value, the N of "n/N"."""
    fields = [f for f in form.fields.values() if f.is_input or f.is_identity]

    def make(rs, types):
        return {f.id: sum(1 for r in rs if valid_value(r, f) is not None)
                for f in fields if types is None or f.applies & set(types)}

    members = counted(results)
    out = _by_type(form, members, make)
    khois = khoi_values(results)
    if khois:
        out["khoi"] = {k: _by_type(form, rs, make) for k, rs in _by_khoi(members, khois).items()}
    return out


def status_counts(results: list[UnitResult]) -> dict:
    """Units of the list by status; ``don_vi`` counts units once (superseded are extra files)."""
    by_status = Counter(r.status for r in results)
    units = {r.unit.ma_don_vi for r in results}
    return {"don_vi": len(units), "ok": by_status.get("ok", 0),
            "errors": by_status.get("errors", 0), "missing": by_status.get("missing", 0),
            "superseded": by_status.get("superseded", 0)}


def _year_of(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return str(value.year)
    if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit():
        return value[:4]  # an ISO date string
    return UNKNOWN


def table_rows(results: Iterable[UnitResult], table: str) -> list[tuple[UnitResult, dict]]:
    """(result, row) for every row of a table of every counted unit, in list order."""
    return [(r, row) for r in counted(results) for row in (r.tables.get(table) or ())]


def document_years(form: Form) -> list[str]:
    """The years a document may carry: the date column's allowed range, else the form's."""
    column = next((c for c in form.tables[DOC_TABLE].columns if c.id == DOC_DATE), None)
    if column is not None and isinstance(column.min, dt.date) and isinstance(column.max, dt.date):
        return [str(y) for y in range(column.min.year, column.max.year + 1)]
    return [str(y) for y in form.years]


def document_rollup(form: Form, results: list[UnitResult]) -> dict:
    """Documents by type × year of issue, and how many distinct units issued each type.

    ``{"theo_loai_nam": {type: {year: n, …, "": n_without_year}}, "theo_loai": {type: n},
    "theo_nam": {year: n}, "don_vi_theo_loai": {type: units}, "tong": n}``.
    """
    types = form.option_lists.get(DOC_TYPE) or ()
    years = document_years(form)
    rows = table_rows(results, DOC_TABLE)
    by_type_year = {t: {y: 0 for y in years + [UNKNOWN]} for t in types}
    units: dict[str, set] = {t: set() for t in types}
    for result, row in rows:
        kind = row.get(DOC_TYPE)
        if kind not in by_type_year:
            continue
        year = _year_of(row.get(DOC_DATE))
        by_type_year[kind][year if year in years else UNKNOWN] += 1
        units[kind].add(result.unit.ma_don_vi)
    return {
        "theo_loai_nam": by_type_year,
        "theo_loai": {t: sum(c.values()) for t, c in by_type_year.items()},
        "theo_nam": {y: sum(c[y] for c in by_type_year.values()) for y in years + [UNKNOWN]},
        "don_vi_theo_loai": {t: len(u) for t, u in units.items()},
        "tong": len(rows),
    }


def units_with_documents(results: list[UnitResult], types: Iterable[str]) -> int:
    """How many distinct counted units issued at least one document of any of ``types``."""
    wanted = set(types)
    return len({r.unit.ma_don_vi for r, row in table_rows(results, DOC_TABLE)
                if row.get(DOC_TYPE) in wanted})


def model_rollup(form: Form, results: list[UnitResult]) -> dict:
    """Models by field (``linh_vuc``), by recognition level, and field × level."""
    fields = form.option_lists.get(MODEL_FIELD) or ()
    levels = form.option_lists.get(MODEL_LEVEL) or ()
    rows = table_rows(results, MODEL_TABLE)
    grid = {f: {lv: 0 for lv in list(levels) + [UNKNOWN]} for f in list(fields) + [UNKNOWN]}
    for _, row in rows:
        f = row.get(MODEL_FIELD) if row.get(MODEL_FIELD) in fields else UNKNOWN
        lv = row.get(MODEL_LEVEL) if row.get(MODEL_LEVEL) in levels else UNKNOWN
        grid[f][lv] += 1
    return {
        "theo_linh_vuc_cap": grid,
        "theo_linh_vuc": {f: sum(c.values()) for f, c in grid.items()},
        "theo_cap": {lv: sum(grid[f][lv] for f in grid) for lv in list(levels) + [UNKNOWN]},
        "tong": len(rows),
    }
