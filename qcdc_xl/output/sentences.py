"""Ready-to-paste Vietnamese sentences, every figure computed, as the form's ``report:`` block
declares them (see :mod:`qcdc_xl.form.report_spec`; no block: a default set from the form).

The wording of a campaign lives in its spec; only generic wording stays here (``PHRASES``, which
a spec may override under ``report.phrases``). When returns are missing, a sentence says so, so
nobody quotes a partial figure as complete.
"""
from __future__ import annotations

import string
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from dataclasses import dataclass

from qcdc_xl.form.report_spec import (ALL, KHOI, Footnote, SentenceSpec, base_fields, group_types,
                          report_spec, terms)
from qcdc_xl.form.spec import PERIOD_SUFFIX, grid_id
from qcdc_xl.report.summarise import UNKNOWN, answered_counts, counted, status_counts, valid_value
from qcdc_xl.report.listings import table_counts, table_rows, table_years, units_with_rows

# ---------------------------------------------------------------- generic wording

PHRASES = {
    "all_in": "Đã nhận đủ báo cáo của {n}/{n} đơn vị.",
    "missing": "Đã nhận báo cáo của {got}/{n} đơn vị; {miss}/{n} đơn vị chưa gửi báo cáo, "
               "số liệu dưới đây chưa gồm các đơn vị này.",
    "with_errors": "Có {k} báo cáo còn lỗi; các giá trị lỗi không được tính vào số liệu "
                   "(xem trang «Kiểm tra»).",
    "superseded": "Có {k} tệp là bản cũ của đơn vị đã gửi lại, không được tính.",
    "sum": "{label}: {value}{partial}.",
    "partial": " (theo báo cáo của {n}/{N} đơn vị)",
    "yes_all": "100% ({n}/{N}) {subject} {predicate}.",
    "yes_some": "Có {n}/{N} {subject} ({pct}) {predicate}.",
    "options": "{label}: {parts} (trên {N} đơn vị).",
    "options_part": "{option} {pct}",
    "table_units": "Có {parts}.",
    "table_part": "{n} {option}",
    "years_part": "năm {year}: {n}",
    "unknown_year": "chưa rõ năm",
    "no_khoi": "Không ghi khối",
    "rate_year": "Năm {year}, {da}/{phai} {subject} ({pct}) {predicate}.",
    "rate_series": "{Predicate} theo từng năm: {parts}.",
    "rate_series_part": "năm {year}: {da}/{phai} ({pct})",
    "rate_series_none": "năm {year}: không có",
    "count_series": "{label} giai đoạn {y0}-{y1}: {total} ({parts}).",
    "count_part": "năm {year}: {n}",
    "series_part": "năm {year}: {value}",
    "pair_part": "{num}/{den} {label}",
    "year": "Năm {year}",
    "period": "Giai đoạn {y0}-{y1}",
    "none": "không có",
}


@dataclass(frozen=True)
class Entry:
    """One sentence of the report: its topic, its text and, when asked, a footnote."""

    topic: str
    text: str
    footnote: str | None = None


# ---------------------------------------------------------------- Vietnamese numbers


def fmt_number(value, decimals: int = 2) -> str:
    """8012 → "8.012"; 12.5 → "12,5" (thousands '.', decimal ',')."""
    if value is None:
        return "0"
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
    else:
        text = f"{int(round(value)):,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def fmt_count(value, pad: int | None = None) -> str:
    """A count, zero-padded when the spec asks ("06" with ``pad: 2``), else as fmt_number."""
    if pad and value is not None and float(value).is_integer() and 0 <= value < 10 ** pad:
        return str(int(value)).zfill(pad)
    return fmt_number(value)


def fmt_pct(num, den, decimals: int = 1, rounding: str = "half_up") -> str:
    """Share num/den in %, decimals only when not whole ("97,9%", "83,08%" with 2); half-up
    rounding, or the last digit cut (``rounding="down"``: 83,07%) as some reports write it;
    never "100%" or "0%" when that would be false."""
    if not den:
        return "—"
    step = Decimal(1).scaleb(-decimals)
    exact = Decimal(num or 0) * 100 / Decimal(den)
    pct = exact.quantize(step, ROUND_DOWN if rounding == "down" else ROUND_HALF_UP)
    if pct >= 100 and (num or 0) < den:
        pct = 100 - step
    elif pct <= 0 and (num or 0) > 0:
        pct = step
    if pct == pct.to_integral_value():
        return f"{int(pct)}%"
    return f"{pct:.{decimals}f}".rstrip("0").replace(".", ",") + "%"


def _join(parts: list[str], how: str = "auto") -> str:
    if how != "auto":
        return how.join(parts)
    return "; ".join(parts) if any("," in p for p in parts) else ", ".join(parts)


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _first_lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def yesno_sentence(n: int, big_n: int, subject: str, predicate: str, phrases=None) -> str:
    phrases = phrases or PHRASES
    key = "yes_all" if n == big_n else "yes_some"
    return phrases[key].format(n=fmt_number(n), N=fmt_number(big_n), subject=subject,
                               predicate=predicate, pct=fmt_pct(n, big_n))


# ---------------------------------------------------------------- what every builder reads


class _Scope:
    """The figures a sentence speaks of: the whole, or one khoi (``each: khoi``)."""

    def __init__(self, totals: dict, answered: dict, results: list):
        self.totals, self.answered, self.results = totals, answered, results


class _Ctx:
    def __init__(self, form, results: list, totals: dict, answered: dict | None = None):
        self.form, self.results, self.totals = form, results, totals
        self.spec = report_spec(form)
        self.phrases = {**PHRASES, **self.spec.phrases}
        self.answered = answered_counts(form, results) if answered is None else answered
        self.status = status_counts(results)
        self.whole = _Scope(totals, self.answered, counted(results))

    def group_of(self, fid: str) -> str:
        """The smallest column a field belongs to: its one type, a named group, or ALL."""
        applies = set(self.form.fields[fid].applies)
        if applies >= set(self.form.type_ids):
            return ALL
        if len(applies) == 1:
            return next(iter(applies))
        for gid in self.form.unit_groups:
            if set(group_types(self.form, gid)) == applies:
                return gid
        return ALL

    def subject(self, group: str) -> str:
        return self.spec.subjects.get(group, self.spec.subjects.get(ALL, "đơn vị"))

    def total(self, fid: str, group: str = ALL, scope: _Scope | None = None):
        return (scope or self.whole).totals.get(_key(group), {}).get(fid)

    def partial(self, fid: str, group: str = ALL) -> str:
        """" (theo báo cáo của n/N đơn vị)" when some counted units the field applies to
        left it empty."""
        n = self.answered.get(_key(group), {}).get(fid, 0)
        f = self.form.fields[fid]
        big_n = sum(1 for r in self.in_group(self.whole.results, group)
                    if f.applies_to(r.unit.loai_hinh))
        return self.phrases["partial"].format(n=n, N=big_n) if n < big_n else ""

    def khoi_scopes(self) -> list:
        """(khoi label, scope) per khoi of the units list, when there is more than one."""
        khois = self.totals.get(KHOI, {})
        if len(khois) < 2:
            return []  # one khoi is the whole, already said
        answered = self.answered.get(KHOI, {})
        return [(k or self.phrases["no_khoi"],
                 _Scope(t, answered.get(k, {}),
                        [r for r in self.whole.results if (r.unit.khoi or UNKNOWN) == k]))
                for k, t in khois.items()]

    def in_group(self, results: list, group: str) -> list:
        types = set(group_types(self.form, group))
        return [r for r in results if r.unit.loai_hinh in types]


def _key(group: str) -> str:
    """The totals' key of a column id (the totals call the whole "all")."""
    return "all" if group == ALL else group


# ---------------------------------------------------------------- the kinds


def _returns(c: _Ctx, p: dict) -> list[str]:
    s, ph = c.status, c.phrases
    got = s["ok"] + s["errors"]
    out = [ph["all_in"].format(n=s["don_vi"]) if not s["missing"] else
           ph["missing"].format(got=got, n=s["don_vi"], miss=s["missing"])]
    if s["errors"]:
        out.append(ph["with_errors"].format(k=s["errors"]))
    if s["superseded"]:
        out.append(ph["superseded"].format(k=s["superseded"]))
    return out


def _sum(c: _Ctx, p: dict) -> list[str]:
    fid, group = p["field"], p.get("of", ALL)
    return [c.phrases["sum"].format(label=p["label"], value=fmt_number(c.total(fid, group)),
                                    partial=c.partial(fid, group))]


def _share(c: _Ctx, p: dict) -> list[str]:
    fid = p["field"]
    group = p.get("of") or c.group_of(fid)
    big_n = c.answered.get(_key(group), {}).get(fid, 0)
    if not big_n:
        return []
    n = c.total(fid, group)
    if isinstance(n, dict):  # a list field: the units that chose one option
        n = n.get(str(p.get("equals", "")), 0)
    return [yesno_sentence(n or 0, big_n, c.subject(group), p["predicate"], c.phrases)]


def _options(c: _Ctx, p: dict) -> list[str]:
    fid = p["field"]
    counts = c.total(fid, p.get("of", ALL)) or {}
    big_n = sum(counts.values())
    part = p.get("part", c.phrases["options_part"])
    parts = [part.format(option=o.lower(), pct=fmt_pct(n, big_n), n=fmt_number(n))
             for o, n in counts.items() if n]
    if not parts:
        return []
    text = p.get("text", c.phrases["options"])
    return [text.format(parts=", ".join(parts), N=fmt_number(big_n),
                        label=c.form.fields[fid].label)]


def _table_units(c: _Ctx, p: dict) -> list[str]:
    parts = [f"{fmt_number(units_with_rows(c.results, p['table'], p['column'], g['options']))} "
             f"{g['predicate']}" for g in p["groups"]]
    return [p.get("text", c.phrases["table_units"]).format(parts="; ".join(parts))]


def _option_label(option: str, p: dict) -> str:
    labels = p.get("labels") or {}
    if option == UNKNOWN:
        return str(p.get("unknown", ""))
    if option in labels:
        return str(labels[option])
    return _first_lower(option) if p.get("lower") else option


def _table_counts(c: _Ctx, p: dict) -> list[str]:
    roll = table_counts(c.form, c.results, p["table"], p["column"])
    by_option = dict(roll["theo"])
    if "unknown" in p:
        by_option[UNKNOWN] = roll["khong_ro"]
    part = p.get("part", c.phrases["table_part"])
    parts = [part.format(n=fmt_number(n), option=_option_label(o, p))
             for o, n in by_option.items() if n]
    if not parts and p.get("empty") == "skip":
        return []
    joined = _join(parts, p.get("join", "auto")) or p.get("empty", c.phrases["none"])
    return [p["text"].format(n=fmt_number(roll["tong"]), parts=joined)]


def _table_years(c: _Ctx, p: dict) -> list[str]:
    by_year = table_years(c.form, c.results, p["table"], p["date"])
    part = p.get("part", c.phrases["years_part"])
    unknown = p.get("unknown", c.phrases["unknown_year"])
    parts = [part.format(year=y, n=fmt_number(n)) if y != UNKNOWN else f"{unknown}: {fmt_number(n)}"
             for y, n in by_year.items() if n]
    return [p["text"].format(parts=", ".join(parts))] if parts else []


def _yearly_ids(c: _Ctx, base: str) -> list:
    return [y for y in c.form.years if grid_id(base, y) in c.form.fields]


def _yearly_rate(c: _Ctx, p: dict) -> list[str]:
    num, den, ph = p["num"], p["den"], c.phrases
    years = [y for y in _yearly_ids(c, num) if grid_id(den, y) in c.form.fields]
    if not years:
        return []
    group = c.group_of(grid_id(num, years[0]))
    pairs = {y: (c.total(grid_id(num, y), group) or 0, c.total(grid_id(den, y), group) or 0)
             for y in years}
    if not any(phai for _, phai in pairs.values()):
        return []  # e.g. no unit of the type reported: nothing to say, not "0/0" five times
    parts = [ph["rate_series_part"].format(year=y, da=fmt_number(da), phai=fmt_number(phai),
                                           pct=fmt_pct(da, phai))
             if phai else ph["rate_series_none"].format(year=y)
             for y, (da, phai) in pairs.items()]
    out = [ph["rate_series"].format(Predicate=_first_upper(p["predicate"]), parts="; ".join(parts))]
    da, phai = pairs[years[-1]]
    if phai:
        out.append(ph["rate_year"].format(year=years[-1], da=fmt_number(da), phai=fmt_number(phai),
                                          subject=p["subject"], pct=fmt_pct(da, phai),
                                          predicate=p["predicate"]))
    return out


def _yearly_count(c: _Ctx, p: dict) -> list[str]:
    base = p["field"]
    years = _yearly_ids(c, base)
    if not years:
        return []
    group = c.group_of(grid_id(base, years[0]))
    if not c.totals.get(_key(group), {}).get("so_don_vi"):
        return []
    per_year = {y: c.total(grid_id(base, y), group) or 0 for y in years}
    parts = [c.phrases["count_part"].format(year=y, n=fmt_number(n)) for y, n in per_year.items()]
    return [c.phrases["count_series"].format(label=p["label"], y0=years[0], y1=years[-1],
                                             total=fmt_number(sum(per_year.values())),
                                             parts="; ".join(parts))]


def _pairs_line(c: _Ctx, p: dict, suffix: str, when: str) -> str:
    parts = []
    part = p.get("part", c.phrases["pair_part"])
    for pair in p["pairs"]:
        den = c.total(grid_id(pair['den'], suffix)) or 0
        num = c.total(grid_id(pair['num'], suffix)) or 0
        if den or num:
            parts.append(part.format(num=fmt_number(num), den=fmt_number(den), label=pair["label"]))
    if not parts:
        return p["none"].format(when=when)
    num, den = (c.total(grid_id(p['total'][k], suffix)) or 0 for k in ("num", "den"))
    return p["text"].format(when=when, parts=", ".join(parts), pct=fmt_pct(num, den))


def _paired_rates(c: _Ctx, p: dict) -> list[str]:
    pairs = list(p["pairs"]) + [p["total"]]
    years = c.form.years
    if not all(grid_id(x[k], y) in c.form.fields for x in pairs for k in ("num", "den") for y in years):
        return []
    out = [_pairs_line(c, p, str(y), c.phrases["year"].format(year=y)) for y in years]
    if all(grid_id(x[k], PERIOD_SUFFIX) in c.form.fields for x in p["pairs"] for k in ("num", "den")):
        when = c.phrases["period"].format(y0=years[0], y1=years[-1])
        out.append(_pairs_line(c, p, PERIOD_SUFFIX, when))
    return out


# ---------------------------------------------------------------- free text over named values


def _text(c: _Ctx, p: dict) -> list[str]:
    if p.get("each") == KHOI:
        return [_fill(c, p, scope, khoi) for khoi, scope in c.khoi_scopes()]
    return [_fill(c, p, c.whole, "")]


def _fill(c: _Ctx, p: dict, scope: _Scope, khoi: str) -> str:
    values = p.get("values") or {}
    names = {n for _, n, _, _ in string.Formatter().parse(p["text"]) if n}
    filled = {"y0": c.form.years[0], "y1": c.form.years[-1], "period": c.form.period_label,
              "khoi": khoi}
    for name in names - set(filled):
        spec = values.get(name, {"sum": name})
        filled[name] = _value(c, spec, scope)
    return p["text"].format(**filled)


def _value(c: _Ctx, v: dict, scope: _Scope) -> str:
    group = v.get("of", ALL)
    text = _VALUES[next(k for k in _VALUES if k in v)](c, v, scope, group)
    around = v.get("around")
    return around.replace("{}", text) if around and text else text


def _amount(c: _Ctx, expr, group: str, scope: _Scope):
    """The total of a field id, of a list of ids, or of "a + b - c" (None when all are)."""
    parts = [sign * (term if isinstance(term, float) else (c.total(term, group, scope) or 0))
             for sign, term in terms(expr)]
    total = sum(parts)
    return int(total) if isinstance(total, float) and total.is_integer() else total


def _v_sum(c, v, scope, group):
    return fmt_count(_amount(c, v["sum"], group, scope), v.get("pad"))


def _v_units(c, v, scope, group):
    return fmt_count(scope.totals.get(_key(v["units"]), {}).get("so_don_vi", 0), v.get("pad"))


def _v_listed(c, v, scope, group):
    """Units of the list in the group, missing ones included (the y of "x/y units")."""
    codes = {r.unit.ma_don_vi for r in c.in_group(c.results, v["listed"])}
    return fmt_count(len(codes), v.get("pad"))


def _v_count(c, v, scope, group):
    f = c.form.fields[v["count"]]
    found = [valid_value(r, f) for r in c.in_group(scope.results, group)]
    found = [x for x in found if x is not None]
    if "equals" in v:
        found = [x for x in found if x == str(v["equals"])]
    if "above" in v:
        found = [x for x in found if isinstance(x, (int, float)) and x > v["above"]]
    return fmt_count(len(found), v.get("pad"))


def _v_answered(c, v, scope, group):
    return fmt_count(scope.answered.get(_key(group), {}).get(v["answered"], 0), v.get("pad"))


def _v_rate(c, v, scope, group):
    num, den = (_amount(c, side, group, scope) for side in v["rate"])
    return fmt_pct(num, den, int(v.get("decimals", 1)), v.get("round", "half_up"))


def _series_keys(c: _Ctx, base: str) -> list:
    """(key, label, field id) of a yearly or levels row ("2017", "Cấp tỉnh"), its total left out."""
    levels = c.form.levels
    out = []
    for f in base_fields(c.form, base):
        if f.period_total:
            continue
        key = str(f.year) if f.year is not None else (f.level or f.id)
        out.append((key, str(levels.get(key, key)), f.id))
    return out


def _v_series(c, v, scope, group):
    part = v.get("part", c.phrases["series_part"])
    parts = []
    for key, label, fid in _series_keys(c, v["series"]):
        value = c.total(fid, group, scope)
        if isinstance(value, dict):  # a list field: the units that chose one option
            value = value.get(str(v.get("equals", "")), 0)
        parts.append(part.format(year=key, key=key, label=label,
                                 value=fmt_count(value, v.get("pad"))))
    return _join(parts, v.get("join", "; "))


def _v_lowest_year(c, v, scope, group):
    rates = [(c.total(fid, group, scope), key) for key, _, fid in _series_keys(c, v["lowest_year"])]
    rates = [(r, k) for r, k in rates if r is not None]
    return min(rates)[1] if rates else c.phrases["none"]


def _v_breakdown(c, v, scope, group):
    fid = v["breakdown"]
    by_option = scope.totals.get(fid)
    if isinstance(by_option, dict) and all(isinstance(g, dict) for g in by_option.values()):
        counts = {o: g.get("so_don_vi", 0) for o, g in by_option.items()}
    else:  # no per-option totals: count the units' valid values
        f = c.form.fields[fid]
        counts = {o: sum(1 for r in c.in_group(scope.results, group) if valid_value(r, f) == o)
                  for o in f.options}
    return _join([f"{fmt_number(n)} {o}" for o, n in counts.items() if n], v.get("join", "auto"))


def _v_rows(c, v, scope, group):
    """Rows of a table (those whose ``column`` equals ``equals``): their number, the sum of
    their ``total`` column, or (``units_only``) the number of units that have one."""
    members = {r.unit.ma_don_vi for r in c.in_group(scope.results, group)}
    rows = [(r, row) for r, row in table_rows(c.results, v["rows"]) if r.unit.ma_don_vi in members]
    if "column" in v:
        wanted = {str(e) for e in (v["equals"] if isinstance(v.get("equals"), list)
                                   else [v.get("equals")])}
        rows = [(r, row) for r, row in rows if str(row.get(v["column"])) in wanted]
    if v.get("units_only"):
        return fmt_count(len({r.unit.ma_don_vi for r, _ in rows}), v.get("pad"))
    if "total" in v:
        return fmt_count(sum(row.get(v["total"]) or 0 for _, row in rows
                             if isinstance(row.get(v["total"]), (int, float))), v.get("pad"))
    return fmt_count(len(rows), v.get("pad"))


_VALUES = {"sum": _v_sum, "units": _v_units, "listed": _v_listed, "count": _v_count,
           "answered": _v_answered, "rate": _v_rate, "series": _v_series,
           "lowest_year": _v_lowest_year, "breakdown": _v_breakdown, "rows": _v_rows}
_KINDS = {"returns": _returns, "sum": _sum, "share": _share, "options": _options,
          "table_units": _table_units, "table_counts": _table_counts, "table_years": _table_years,
          "yearly_rate": _yearly_rate, "yearly_count": _yearly_count,
          "paired_rates": _paired_rates, "text": _text}


# ---------------------------------------------------------------- footnotes


def _footnote(c: _Ctx, s: SentenceSpec) -> str | None:
    """"…: Sở Công Thương, Sở Giao thông vận tải, …" — the units a sentence counts."""
    f: Footnote = s.footnote
    if f is None:
        return None
    members = c.in_group(c.whole.results, f.of)
    if f.table:
        codes = {r.unit.ma_don_vi for r, row in table_rows(members, f.table)
                 if f.column is None or str(row.get(f.column)) in f.equals}
        names = [r.unit.ten_don_vi for r in members if r.unit.ma_don_vi in codes]
    else:
        field = c.form.fields[f.field]
        names = [r.unit.ten_don_vi for r in members if _selects(f, valid_value(r, field))]
    if not names:
        return None
    return f.text.replace("{units}", ", ".join(names)).replace("{n}", fmt_number(len(names)))


def _selects(f: Footnote, value) -> bool:
    if f.above is not None:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value > f.above
    return value in f.equals


# ---------------------------------------------------------------- public API


def report_entries(form, results: list, totals: dict, answered: dict | None = None) -> list[Entry]:
    """Every sentence of the report, in the spec's order, with its footnote when asked
    (``answered``: the results' :func:`answered_counts`, when the caller has them)."""
    c = _Ctx(form, results, totals, answered)
    out = []
    for s in c.spec.sentences:
        texts = _KINDS[s.kind](c, s.params)
        note = _footnote(c, s) if texts else None
        out += [Entry(s.topic, t, note if i == 0 else None) for i, t in enumerate(texts)]
    return out


def report_sentences(form, results: list, totals: dict) -> list[tuple[str, str]]:
    """(topic, sentence) pairs, in the spec's order (footnotes: :func:`report_entries`)."""
    return [(e.topic, e.text) for e in report_entries(form, results, totals)]
