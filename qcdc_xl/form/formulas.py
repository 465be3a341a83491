"""Compile the spec's derived fields and rules once, into both Excel formulas and Python.

The generator writes :func:`excel_formula` / :func:`excel_check` into the workbook; the
aggregator recomputes with :func:`compute_derived` / :func:`rule_violated`. Both come from the
same spec entry here, so the figure a unit sees in Excel is the figure the summary uses.
Excel formulas refer to inputs by their workbook-scoped defined name (= field id).
"""
from __future__ import annotations

import operator
from typing import Callable, Iterable, Mapping

from qcdc_xl.form.spec import Field, Form, Rule
from qcdc_xl.memo import FormMemo

_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "=": operator.eq}
_NEGATED = {"<=": ">", ">=": "<", "<": ">=", ">": "<=", "=": "<>"}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------- derived fields


def excel_formula(field: Field, count_range: Callable[[str], str] | None = None) -> str:
    """The Excel formula of a derived field (rate, sum, count), without cached value.

    ``count_range(table_name)`` gives the absolute range of a table's TT column, whose
    cells hold a number exactly in the filled rows.
    """
    if field.type == "rate":
        # Blank when the denominator is empty or 0; text counts as 0 (as Python's invalid = None).
        return f'=IF(N({field.den})=0,"",N({field.num})/{field.den})'
    if field.type == "sum":
        return f"=SUM({','.join(field.of)})"
    if field.type == "count":
        if count_range is None:
            raise ValueError(f"count field {field.id} needs the range of table {field.table}")
        return f"=COUNT({count_range(field.table)})"
    raise ValueError(f"{field.id} is not a derived field")


def python_value(field: Field, values: Mapping, row_counts: Mapping[str, int]):
    """The value Excel shows for a derived field, from valid inputs (invalid/empty = None)."""
    if field.type == "rate":
        den, num = values.get(field.den), values.get(field.num)
        if not _is_number(den) or den == 0:
            return None
        try:
            return (num if _is_number(num) else 0) / den
        except OverflowError:  # inputs are bounded by coerce.MAX_NUMBER; never guess a rate
            return None
    if field.type == "sum":
        return sum(v for v in (values.get(x) for x in field.of) if _is_number(v))
    if field.type == "count":
        return row_counts.get(field.table, 0)
    raise ValueError(f"{field.id} is not a derived field")


def compute_derived(form: Form, loai_hinh: str, values: Mapping,
                    row_counts: Mapping[str, int]) -> dict:
    """All derived fields that apply to the unit type, in dependency order.

    Derived fields may build on each other (a period rate of period sums), so each one is
    computed after the fields it names; the spec loader has already rejected unknown names.
    """
    order, fields = _derived_order(form, loai_hinh)
    out = dict(values)
    for f in order:
        out[f.id] = python_value(f, out, row_counts)
    return {f.id: out[f.id] for f in fields}


_ORDERS = FormMemo()  # (form, loai_hinh) -> (order, fields)


def _derived_order(form: Form, loai_hinh: str) -> tuple[list, list]:
    """The applicable formula fields in the order they are computed (each after the formula
    fields it names), and in form order; worked out once per form and unit type."""
    return _ORDERS.get(form, loai_hinh, _order_and_fields, form, loai_hinh)


def _order_and_fields(form: Form, loai_hinh: str) -> tuple[list, list]:
    fields = form.formula_fields(loai_hinh)
    return _dependency_order(form, fields), fields


def _dependency_order(form: Form, fields: list) -> list:
    pending, done, order = list(fields), set(), []
    while pending:
        progressed = False
        for f in list(pending):
            deps = [d for d in (f.num, f.den, *f.of) if d]
            if all(d in done or not form.fields[d].is_formula for d in deps):
                order.append(f)
                done.add(f.id)
                pending.remove(f)
                progressed = True
        if not progressed:
            raise ValueError("circular derived fields: " + ", ".join(f.id for f in pending))
    return order


def rate(numerator: float | None, denominator: float | None) -> float | None:
    """A roll-up rate: Σ numerators / Σ denominators, None when the denominator is 0."""
    if not denominator:
        return None
    return (numerator or 0) / denominator


# ---------------------------------------------------------------- rules and requirements


def _side(terms: tuple, values: Mapping) -> float:
    return sum(k * values[fid] for k, fid in terms)


def rule_violated(rule: Rule, values: Mapping) -> bool:
    """True when every field of the rule is a valid number, its condition holds, and the
    comparison fails."""
    if any(not _is_number(values.get(fid)) for fid in rule.field_ids):
        return False
    if rule.when is not None and values.get(rule.when.field) != rule.when.equals:
        return False
    return not _OPS[rule.op](_side(rule.lhs, values), _side(rule.rhs, values))


def _excel_side(terms: tuple) -> str:
    out = ""
    for k, fid in terms:
        sign = "-" if k < 0 else ("+" if out else "")
        out += f"{sign}{abs(k)}*{fid}" if abs(k) != 1 else f"{sign}{fid}"
    return out


def excel_rule_violation(rule: Rule) -> str:
    """An Excel expression, TRUE exactly when :func:`rule_violated` is."""
    tests = [f"ISNUMBER({fid})" for fid in rule.field_ids]
    if rule.when is not None:
        tests.append(f'{rule.when.field}="{rule.when.equals}"')
    left, right = _excel_side(rule.lhs), _excel_side(rule.rhs)
    if not rule.simple:
        left, right = f"({left})", f"({right})"
    return f"AND({','.join(tests)},{left}{_NEGATED[rule.op]}{right})"


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def requirement(field: Field, values: Mapping) -> str | None:
    """'missing' when a required value is absent, 'not_empty' when it must be empty, else None.

    ``values`` holds what was typed, read as far as possible (a condition is met only by the
    canonical option text). A value set against a warning-level ``only_if`` is not a
    requirement problem but an :func:`unexpected` one.
    """
    value = values.get(field.id)
    if field.only_if is not None:
        met = values.get(field.only_if.field) == field.only_if.equals
        if met and is_blank(value) and field.required_when_met:
            return "missing"
        if not met and not is_blank(value) and field.only_if.otherwise == "error":
            return "not_empty"
        return None
    if field.required and is_blank(value):
        return "missing"
    return None


def unexpected(field: Field, values: Mapping) -> str | None:
    """Why a value is worth a warning though it is kept: 'condition' (set while a
    warning-level ``only_if`` is false) or 'early' (before the field's ``expected_from``)."""
    if is_blank(values.get(field.id)):
        return None
    cond = field.only_if
    if cond is not None and cond.otherwise == "warning" and values.get(cond.field) != cond.equals:
        return "condition"
    return "early" if field.early else None


def excel_requirement_problem(field: Field) -> str | None:
    """An Excel expression TRUE when :func:`requirement` is not None; None if never."""
    blank = f"LEN({field.id})=0"
    if field.only_if is not None:
        cond = f'{field.only_if.field}="{field.only_if.equals}"'
        parts = ([f"AND({cond},{blank})"] if field.required_when_met else []) + (
            [f"AND(NOT({cond}),NOT({blank}))"] if field.only_if.otherwise == "error" else [])
        return f"OR({','.join(parts)})" if parts else None
    if field.required:
        return blank
    return None


def excel_count_true(expressions: Iterable[str]) -> str:
    """A formula counting how many of the boolean expressions are TRUE (0 for none)."""
    parts = [f"({e})*1" for e in expressions]
    return "=" + ("+".join(parts) if parts else "0")
