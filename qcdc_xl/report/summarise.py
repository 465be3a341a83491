"""Roll the units' valid values up into the contract's ``totals`` and the other counts a
summary needs (answered counts for "n/N"); the tables' roll-ups are in :mod:`qcdc_xl.report.listings`.

Only returns that count (status ok/errors) enter a total; a field enters a group's total only
for the units it applies to; invalid values are never counted. Rates are Σ numerators over
Σ denominators of the group, never an average of the units' rates. Everything returned is
JSON-serialisable (str keys, numbers, str, None, dict).
"""
from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Callable, Iterable

from qcdc_xl.form.formulas import rate
from qcdc_xl.report.records import UnitResult
from qcdc_xl.form.spec import YES, Field, Form
from qcdc_xl.intake.units import canonical_option
from qcdc_xl.memo import Memo

ALL = "all"
UNKNOWN = ""  # key for a table row whose year or option is unknown (see listings.py)
TOTALLED_INPUTS = ("int", "money", "yesno", "list")
_CANONICAL = Memo(kept=10_000)  # (text, options) -> canonical_option


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
    if not options:
        return str(value)
    key = (str(value), tuple(options))  # a few texts, asked for every unit by every sheet
    return _CANONICAL.get(key, canonical_option, *key)


def totalled_fields(form: Form, types: Iterable[str] | None = None) -> list[Field]:
    """Fields that have a total: numbers, yes/no, lists, and the derived ones; not identity;
    with ``types``, those that apply to at least one of them."""
    wanted = None if types is None else set(types)
    return [f for f in form.fields.values()
            if not f.is_identity and (f.is_formula or f.type in TOTALLED_INPUTS)
            and (wanted is None or f.applies & wanted)]


def group_members(form: Form) -> dict:
    """The contract's groups: ``all``, every unit type, every named group → its unit types."""
    return {ALL: form.type_ids, **{k: form.group_types(k) for k in (*form.type_ids, *form.unit_groups)}}


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


class _Columns:
    """The counted units' valid values, one column per field, worked out once and then
    summed per group (a thousand units × ~40 groups × a hundred fields, asked unit by unit,
    took half a second, twice a run). A group is a list of positions in ``members``."""

    def __init__(self, members: list[UnitResult]):
        self.members = members
        self._position = {id(r): i for i, r in enumerate(members)}
        self._kept: dict = {}

    def positions(self, results: list[UnitResult]) -> list[int]:
        return [self._position[id(r)] for r in results]

    def _column(self, key, make):
        if key not in self._kept:
            self._kept[key] = make()
        return self._kept[key]

    def valid(self, field: Field) -> list:
        """valid_value of each member."""
        return self._column(("valid", field.id), lambda: [valid_value(r, field) for r in self.members])

    def numbers(self, field: Field) -> list:
        """The valid numbers, 0 for the rest (adding 0 changes no sum: a -0.0 total that
        would become 0.0 is an integer, returned as 0 either way)."""
        return self._column(("number", field.id), lambda: [
            v if _is_number(v) else 0 for v in self.valid(field)])

    def yes(self, field: Field) -> list:
        return self._column(("yes", field.id), lambda: [
            1 if v == YES else 0 for v in self.valid(field)])

    def rows(self, field: Field) -> list:
        """The row count of the field's table for the units it applies to, else 0."""
        return self._column(("rows", field.id), lambda: [
            len(r.tables.get(field.table) or ()) if field.applies_to(r.unit.loai_hinh) else 0
            for r in self.members])


def _picked(column: list, positions: list[int]) -> tuple:
    if len(positions) > 1:
        return itemgetter(*positions)(column)
    return tuple(column[i] for i in positions)


def _input_total(field: Field, columns: _Columns, positions: list[int]):
    if field.type == "yesno":
        return sum(_picked(columns.yes(field), positions))
    if field.type == "list":
        counts = Counter(v for v in _picked(columns.valid(field), positions) if v in field.options)
        return {o: counts.get(o, 0) for o in field.options}
    total = sum(_picked(columns.numbers(field), positions))
    return int(total) if isinstance(total, float) and total.is_integer() else total


def _group_totals(form: Form, columns: _Columns, results: list[UnitResult],
                  types: tuple | None) -> dict:
    """Totals of one group; derived fields are built from the group's own totals."""
    fields = totalled_fields(form, types)
    positions = columns.positions(results)
    out: dict = {}

    def total(fid: str):
        if fid not in out:
            out[fid] = _field_total(form.fields[fid], columns, positions, total)
        return out[fid]

    for f in fields:
        total(f.id)
    ordered = {f.id: out[f.id] for f in fields}
    ordered["so_don_vi"] = len(results)  # so_van_ban / so_mo_hinh are the tables' count fields
    return ordered


def _field_total(field: Field, columns: _Columns, positions: list[int], total: Callable):
    if field.type == "sum":  # Σ of the parts' totals = Σ over units of their valid parts
        return sum(total(x) or 0 for x in field.of)
    if field.type == "rate":
        return rate(total(field.num), total(field.den))
    if field.type == "count":
        return sum(_picked(columns.rows(field), positions))
    return _input_total(field, columns, positions)



# ---------------------------------------------------------------- public API


def compute_totals(form: Form, results: list[UnitResult]) -> dict:
    """The contract's ``totals``: ``all``, every unit type and named group, the same per
    ``khoi`` when units have one, and for each unit attribute (``loai_dn``) one group per
    option, over the units of the types that have it."""
    members = counted(results)
    columns = _Columns(members)

    def make(rs, types):
        return _group_totals(form, columns, rs, types)

    totals = _by_type(form, members, make)
    khois = khoi_values(results)
    if khois:
        totals["khoi"] = {k: _by_type(form, rs, make) for k, rs in _by_khoi(members, khois).items()}
    for name, attribute in form.attributes.items():
        value = {id(r): attribute_value(form, r, name) for r in members  # once a unit
                 if r.unit.loai_hinh in attribute.types}
        totals[name] = {o: make([r for r in members if value.get(id(r)) == o], attribute.types)
                        for o in attribute.options}
    return totals


def answered_counts(form: Form, results: list[UnitResult]) -> dict:
    """Per group (as in the totals, and ``khoi`` when present) and input field: the number of
    counted units with a valid value, the N of "n/N"."""
    fields = [f for f in form.fields.values() if f.is_input or f.is_identity]
    members = counted(results)
    # each unit's answered fields worked out once, then counted per group (a thousand units
    # × a few hundred fields × each group asked one by one took seconds)
    answered = {id(r): _answered(r, fields) for r in members}

    def make(rs, types):
        n = Counter(fid for r in rs for fid in answered[id(r)])
        return {f.id: n[f.id] for f in fields if types is None or f.applies & set(types)}

    out = _by_type(form, members, make)
    khois = khoi_values(results)
    if khois:
        out["khoi"] = {k: _by_type(form, rs, make) for k, rs in _by_khoi(members, khois).items()}
    return out


def _answered(r: UnitResult, fields: list[Field]) -> list[str]:
    """The fields of ``fields`` the unit gave a valid value of."""
    return [f.id for f in fields if valid_value(r, f) is not None]


def status_counts(results: list[UnitResult]) -> dict:
    """Units of the list by status; ``don_vi`` counts units once (superseded are extra files)."""
    by_status = Counter(r.status for r in results)
    units = {r.unit.ma_don_vi for r in results}
    return {"don_vi": len(units), "ok": by_status.get("ok", 0),
            "errors": by_status.get("errors", 0), "missing": by_status.get("missing", 0),
            "superseded": by_status.get("superseded", 0)}
