"""Ready-to-paste Vietnamese sentences in the style of the bloc report, every figure computed.

All wording lives in the tables below (``PHRASES``, ``YESNO``, ``YEARLY_RATES``, …) so a
clerk's correction is a one-line change. A sentence whose fields the form lacks is skipped,
so the module also works on other forms; when returns are missing, a sentence says so, so
nobody quotes a partial figure as complete.
"""
from __future__ import annotations

from .spec import Form
from .summarise import (ALL, UNKNOWN, answered_counts, document_rollup, model_rollup,
                        status_counts, units_with_documents)

# ---------------------------------------------------------------- wording (data, not code)

PHRASES = {
    "scope": "Toàn Khối",
    "units": "{scope} có {n} tổ chức cơ sở đảng báo cáo, trong đó {hcsn} tổ chức đảng trong lĩnh "
             "vực hành chính, sự nghiệp và {dn} tổ chức đảng trong lĩnh vực doanh nghiệp{ownership}.",
    "khoi": "{khoi}: {n} đơn vị ({hcsn} hành chính, sự nghiệp; {dn} doanh nghiệp).",
    "no_khoi": "Không ghi khối",
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
    "rating": "Tự đánh giá chất lượng thực hiện QCDC: {parts} (trên {N} đơn vị tự đánh giá).",
    "rating_part": "loại {option} {pct}",
    "documents_units": "Có {parts}.",
    "documents_total": "Các đơn vị đã kê khai {n} văn bản đã ban hành, trong đó: {parts}.",
    "documents_years": "Số văn bản theo năm ban hành: {parts}.",
    "inspection": "Từ năm {y0} đến nay, có {kt_chuong_trinh} lượt tổ chức đảng cơ sở xây dựng "
                  "chương trình, kế hoạch kiểm tra, giám sát có nội dung thực hiện QCDC; các tổ "
                  "chức cơ sở đảng đã kiểm tra {kt_to_chuc} lượt tổ chức đảng và {kt_dang_vien} "
                  "đảng viên, giám sát {gs_to_chuc} lượt tổ chức đảng và {gs_dang_vien} đảng viên "
                  "về các nội dung liên quan đến thực hiện QCDC ở cơ sở.",
    "dvc": "Tổng số dịch vụ công trực tuyến mức độ 3, 4: {dvc_3_4}, trong đó mức độ 4: {dvc_4}.",
    "ntm": "Đến 31/12/2021, các đơn vị được giao đỡ đầu {giao} xã, trong đó {dat} xã ({pct}) "
           "đạt chuẩn nông thôn mới (31/12/2016: {dat16}/{giao16} xã).",
    "ntm_money": "Kinh phí huy động xây dựng nông thôn mới giai đoạn {period}: {kp} đồng, "
                 "bằng {pct} tổng kinh phí ({tong} đồng).",
    "rate_year": "Năm {year}, {da}/{phai} {subject} ({pct}) {predicate}.",
    "rate_series": "{Predicate} theo từng năm: {parts}.",
    "rate_series_part": "năm {year}: {da}/{phai} ({pct})",
    "rate_series_none": "năm {year}: không có",
    "count_series": "{label} giai đoạn {y0}-{y1}: {total} ({parts}).",
    "count_part": "năm {year}: {n}",
    "letters": "{when}, đã giải quyết {parts}; tỷ lệ giải quyết chung {pct}.",
    "letters_none": "{when}, không nhận được đơn thư khiếu nại, tố cáo, phản ánh, kiến nghị.",
    "letters_part": "{gq}/{nhan} {kind}",
    "year": "Năm {year}",
    "period": "Giai đoạn {y0}-{y1}",
    "models": "Các đơn vị đã xây dựng {n} điển hình, mô hình, trong đó: {parts}.",
    "models_level": "Theo cấp công nhận: {parts}.",
    "none": "không có",
}

TOPICS = {
    "nop": "Tình hình nộp báo cáo", "dac_diem": "Đặc điểm tình hình",
    "dang_vien": "Đảng viên, người lao động", "to_chuc": "Tổ chức thực hiện QCDC",
    "danh_gia": "Tự đánh giá", "van_ban": "Văn bản đã ban hành",
    "kiem_tra": "Kiểm tra, giám sát", "cchc": "Cải cách hành chính",
    "ntm": "Xây dựng nông thôn mới", "hnccc": "Hội nghị cán bộ, công chức, viên chức",
    "hnnld": "Hội nghị người lao động", "dtnlv": "Đối thoại tại nơi làm việc",
    "don_thu": "Giải quyết đơn thư", "dttt": "Đối thoại trực tiếp", "mo_hinh": "Điển hình, mô hình",
}

SUBJECT = {ALL: "đơn vị", "HCSN": "cơ quan, đơn vị hành chính, sự nghiệp", "DN": "doanh nghiệp"}

# Sums written as "label: value." (topic, field id, label)
SUMS = (
    ("dang_vien", "so_dang_vien", "Tổng số đảng viên"),
    ("dang_vien", "so_lao_dong", "Tổng số cán bộ, công chức, viên chức, người lao động"),
    ("to_chuc", "so_nguoi_quan_triet", "Số cán bộ, đảng viên được quán triệt Nghị quyết 02"),
    ("to_chuc", "so_lan_kien_toan_bcd", "Tổng số lần kiện toàn Ban Chỉ đạo"),
)

# yes/no fields: (topic, field id, predicate after the subject)
YESNO = (
    ("to_chuc", "co_ban_chi_dao", "đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở"),
    ("to_chuc", "co_cong_doan", "có tổ chức công đoàn cơ sở"),
    ("to_chuc", "co_ban_ttnd", "có Ban Thanh tra nhân dân"),
    ("to_chuc", "co_thoa_uoc", "đã ký thỏa ước lao động tập thể"),
    ("cchc", "mot_cua", "thực hiện cơ chế \u201cmột cửa\u201d, \u201cmột cửa liên thông\u201d"),
)

# Document types grouped as the bloc report counts them: (types, predicate)
DOC_GROUPS = (
    (("Nghị quyết",), "đơn vị ban hành nghị quyết"),
    (("Chương trình", "Kế hoạch"), "đơn vị ban hành chương trình, kế hoạch"),
    (("Quy chế", "Quy định"), "đơn vị ban hành quy chế, quy định"),
    (("Thỏa ước lao động tập thể",), "đơn vị có thỏa ước lao động tập thể"),
)

# Yearly "đã/phải" rates: (topic, numerator base id, denominator base id, subject, predicate)
YEARLY_RATES = (
    ("hnccc", "hnccc_da", "hnccc_phai", "cơ quan, đơn vị",
     "tổ chức hội nghị cán bộ, công chức, viên chức"),
    ("hnnld", "hnnld_da", "hnnld_phai", "doanh nghiệp", "tổ chức hội nghị người lao động"),
    ("dtnlv", "dtnlv_da", "dtnlv_phai", "doanh nghiệp", "tổ chức đối thoại tại nơi làm việc"),
)

# Yearly counts: (topic, base id, label)
YEARLY_COUNTS = (
    ("dtnlv", "dtnlv_so_cuoc", "Tổng số cuộc đối thoại tại nơi làm việc"),
    ("dttt", "dttt_so_cuoc", "Số cuộc đối thoại trực tiếp của người đứng đầu cấp ủy, lãnh đạo "
                             "với cán bộ, công nhân viên chức, người lao động"),
)

# Letters: (received base id, resolved base id, kind) and the all-kinds pair
LETTER_KINDS = (("kn_nhan", "kn_gq", "khiếu nại"), ("tc_nhan", "tc_gq", "tố cáo"),
                ("pakn_nhan", "pakn_gq", "phản ánh, kiến nghị"))
LETTER_ALL = ("dt_nhan", "dt_gq")
INSPECTION = ("kt_chuong_trinh", "kt_to_chuc", "kt_dang_vien", "gs_to_chuc", "gs_dang_vien")
RATING_FIELD = "tu_danh_gia"
OTHER_DOCUMENTS = "văn bản khác"  # the option "Khác" of the document types, in a sentence
PROPER_LEVELS = ("Trung ương",)  # recognition levels written with a capital after "cấp"


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


def fmt_pct(num, den) -> str:
    """Share num/den in %, one decimal only when not whole; never "100%" or "0%" when false."""
    if not den:
        return "—"
    pct = round(100.0 * (num or 0) / den, 1)
    if pct >= 100 and (num or 0) < den:
        pct = 99.9
    elif pct <= 0 and (num or 0) > 0:
        pct = 0.1
    text = f"{pct:.0f}" if float(pct).is_integer() else f"{pct:.1f}".replace(".", ",")
    return f"{text}%"


def _join(parts: list[str]) -> str:
    return "; ".join(parts) if any("," in p for p in parts) else ", ".join(parts)


# ---------------------------------------------------------------- the sentence builders


class _Ctx:
    """What every builder reads: the form, the totals and the answered counts."""

    def __init__(self, form: Form, results: list, totals: dict):
        self.form, self.results, self.totals = form, results, totals
        self.answered = answered_counts(form, results)
        self.status = status_counts(results)

    def has(self, *ids: str) -> bool:
        return all(i in self.form.fields for i in ids)

    def group_of(self, fid: str) -> str:
        applies = self.form.fields[fid].applies
        return next(iter(applies)) if len(applies) == 1 else ALL

    def total(self, fid: str, group: str = ALL):
        return self.totals.get(group, {}).get(fid)

    def partial(self, fid: str, group: str = ALL) -> str:
        """" (theo báo cáo của n/N đơn vị)" when some counted units left the field empty."""
        n = self.answered.get(group, {}).get(fid, 0)
        big_n = self.totals.get(group, {}).get("so_don_vi", 0)
        return PHRASES["partial"].format(n=n, N=big_n) if n < big_n else ""


def _returns(c: _Ctx) -> list[str]:
    s = c.status
    got = s["ok"] + s["errors"]
    out = [PHRASES["all_in"].format(n=s["don_vi"]) if not s["missing"] else
           PHRASES["missing"].format(got=got, n=s["don_vi"], miss=s["missing"])]
    if s["errors"]:
        out.append(PHRASES["with_errors"].format(k=s["errors"]))
    if s["superseded"]:
        out.append(PHRASES["superseded"].format(k=s["superseded"]))
    return out


def _units(c: _Ctx) -> list[str]:
    t = c.totals
    dn_by_owner = [f"{fmt_number(g['so_don_vi'])} {owner}"
                   for owner, g in t.get("loai_dn", {}).items() if g["so_don_vi"]]
    ownership = f" ({_join(dn_by_owner)})" if dn_by_owner else ""
    out = [PHRASES["units"].format(scope=PHRASES["scope"], n=fmt_number(t[ALL]["so_don_vi"]),
                                   hcsn=fmt_number(t["HCSN"]["so_don_vi"]),
                                   dn=fmt_number(t["DN"]["so_don_vi"]), ownership=ownership)]
    khois = t.get("khoi", {})
    for khoi, g in (khois.items() if len(khois) > 1 else ()):  # one khoi = the whole, said above
        out.append(PHRASES["khoi"].format(khoi=khoi or PHRASES["no_khoi"],
                                          n=fmt_number(g[ALL]["so_don_vi"]),
                                          hcsn=fmt_number(g["HCSN"]["so_don_vi"]),
                                          dn=fmt_number(g["DN"]["so_don_vi"])))
    return out


def _sums(c: _Ctx, topic: str) -> list[str]:
    return [PHRASES["sum"].format(label=label, value=fmt_number(c.total(fid)), partial=c.partial(fid))
            for t, fid, label in SUMS if t == topic and c.has(fid)]


def yesno_sentence(n: int, big_n: int, subject: str, predicate: str) -> str:
    key = "yes_all" if n == big_n else "yes_some"
    return PHRASES[key].format(n=fmt_number(n), N=fmt_number(big_n), subject=subject,
                               predicate=predicate, pct=fmt_pct(n, big_n))


def _yesno(c: _Ctx, topic: str) -> list[str]:
    out = []
    for t, fid, predicate in YESNO:
        if t != topic or not c.has(fid):
            continue
        group = c.group_of(fid)
        big_n = c.answered[group].get(fid, 0)
        if big_n:
            out.append(yesno_sentence(c.total(fid, group), big_n, SUBJECT[group], predicate))
    return out


def _rating(c: _Ctx) -> list[str]:
    if not c.has(RATING_FIELD):
        return []
    counts = c.total(RATING_FIELD) or {}
    big_n = sum(counts.values())
    parts = [PHRASES["rating_part"].format(option=o.lower(), pct=fmt_pct(n, big_n))
             for o, n in counts.items() if n]
    return [PHRASES["rating"].format(parts=", ".join(parts), N=fmt_number(big_n))] if parts else []


def _doc_type(name: str) -> str:
    """A document type inside a sentence: "36 kế hoạch, 172 quy chế, 5 văn bản khác"."""
    return OTHER_DOCUMENTS if name == "Khác" else name[:1].lower() + name[1:]


def _documents(c: _Ctx) -> list[str]:
    if "tbl_van_ban" not in c.form.tables:
        return []
    roll = document_rollup(c.form, c.results)
    groups = [f"{fmt_number(units_with_documents(c.results, types))} {predicate}"
              for types, predicate in DOC_GROUPS]
    by_type = [f"{fmt_number(n)} {_doc_type(t)}" for t, n in roll["theo_loai"].items() if n]
    by_year = [f"năm {y}: {fmt_number(n)}" if y != UNKNOWN else f"chưa rõ năm: {fmt_number(n)}"
               for y, n in roll["theo_nam"].items() if n]
    out = [PHRASES["documents_units"].format(parts="; ".join(groups))]
    out.append(PHRASES["documents_total"].format(n=fmt_number(roll["tong"]),
                                                 parts=", ".join(by_type) or PHRASES["none"]))
    if by_year:
        out.append(PHRASES["documents_years"].format(parts=", ".join(by_year)))
    return out


def _inspection(c: _Ctx) -> list[str]:
    if not c.has(*INSPECTION):
        return []
    figures = {fid: fmt_number(c.total(fid)) for fid in INSPECTION}
    return [PHRASES["inspection"].format(y0=c.form.years[0], **figures)]


def _admin_reform(c: _Ctx) -> list[str]:
    out = _yesno(c, "cchc")
    if c.has("dvc_3_4", "dvc_4"):
        out.append(PHRASES["dvc"].format(dvc_3_4=fmt_number(c.total("dvc_3_4")),
                                         dvc_4=fmt_number(c.total("dvc_4"))))
    return out


def _new_countryside(c: _Ctx) -> list[str]:
    out = []
    if c.has("ntm_xa_giao", "ntm_xa_dat", "ntm_xa_giao_2016", "ntm_xa_dat_2016"):
        giao, dat = c.total("ntm_xa_giao"), c.total("ntm_xa_dat")
        out.append(PHRASES["ntm"].format(
            giao=fmt_number(giao), dat=fmt_number(dat), pct=fmt_pct(dat, giao),
            giao16=fmt_number(c.total("ntm_xa_giao_2016")),
            dat16=fmt_number(c.total("ntm_xa_dat_2016"))))
    if c.has("ntm_kinh_phi", "ntm_tong_kinh_phi"):
        kp, tong = c.total("ntm_kinh_phi"), c.total("ntm_tong_kinh_phi")
        out.append(PHRASES["ntm_money"].format(period=c.form.period_label,
                                               kp=fmt_number(kp), tong=fmt_number(tong),
                                               pct=fmt_pct(kp, tong)))
    return out


def _yearly_rate(c: _Ctx, num: str, den: str, subject: str, predicate: str) -> list[str]:
    years = [y for y in c.form.years if c.has(f"{num}_{y}", f"{den}_{y}")]
    if not years:
        return []
    group = c.group_of(f"{num}_{years[0]}")
    pairs = {y: (c.total(f"{num}_{y}", group) or 0, c.total(f"{den}_{y}", group) or 0)
             for y in years}
    if not any(phai for _, phai in pairs.values()):
        return []  # e.g. no enterprise reported: nothing to say, not "0/0" five times
    parts = [PHRASES["rate_series_part"].format(year=y, da=fmt_number(da), phai=fmt_number(phai),
                                                pct=fmt_pct(da, phai))
             if phai else PHRASES["rate_series_none"].format(year=y)
             for y, (da, phai) in pairs.items()]
    out = [PHRASES["rate_series"].format(Predicate=predicate[:1].upper() + predicate[1:],
                                         parts="; ".join(parts))]
    last = years[-1]
    da, phai = pairs[last]
    if phai:
        out.append(PHRASES["rate_year"].format(year=last, da=fmt_number(da), phai=fmt_number(phai),
                                               subject=subject, pct=fmt_pct(da, phai),
                                               predicate=predicate))
    return out


def _yearly_count(c: _Ctx, base: str, label: str) -> list[str]:
    years = [y for y in c.form.years if c.has(f"{base}_{y}")]
    if not years:
        return []
    group = c.group_of(f"{base}_{years[0]}")
    if not c.totals.get(group, {}).get("so_don_vi"):
        return []
    per_year = {y: c.total(f"{base}_{y}", group) or 0 for y in years}
    parts = [PHRASES["count_part"].format(year=y, n=fmt_number(n)) for y, n in per_year.items()]
    return [PHRASES["count_series"].format(label=label, y0=years[0], y1=years[-1],
                                           total=fmt_number(sum(per_year.values())),
                                           parts="; ".join(parts))]


def _letters_line(c: _Ctx, suffix: str, when: str) -> str:
    parts = []
    for nhan, gq, kind in LETTER_KINDS:
        got, done = c.total(f"{nhan}_{suffix}") or 0, c.total(f"{gq}_{suffix}") or 0
        if got or done:
            parts.append(PHRASES["letters_part"].format(gq=fmt_number(done), nhan=fmt_number(got),
                                                        kind=kind))
    if not parts:
        return PHRASES["letters_none"].format(when=when)
    nhan, gq = (c.total(f"{x}_{suffix}") or 0 for x in LETTER_ALL)
    return PHRASES["letters"].format(when=when, parts=", ".join(parts), pct=fmt_pct(gq, nhan))


def _letters(c: _Ctx) -> list[str]:
    ids = [f"{x}_{y}" for pair in LETTER_KINDS for x in pair[:2] for y in c.form.years]
    if not c.has(*ids, *(f"{x}_{y}" for x in LETTER_ALL for y in c.form.years)):
        return []
    out = [_letters_line(c, str(y), PHRASES["year"].format(year=y)) for y in c.form.years]
    if c.has(*(f"{x}_tong" for pair in LETTER_KINDS for x in pair[:2])):
        when = PHRASES["period"].format(y0=c.form.years[0], y1=c.form.years[-1])
        out.append(_letters_line(c, "tong", when))
    return out


def _level(name: str) -> str:
    """"Tỉnh" → "tỉnh" after "cấp" (as in "cấp tỉnh, cấp huyện"); a proper name keeps its capital."""
    return name if name in PROPER_LEVELS else name[:1].lower() + name[1:]


def _models(c: _Ctx) -> list[str]:
    if "tbl_mo_hinh" not in c.form.tables:
        return []
    roll = model_rollup(c.form, c.results)
    fields = [f"{k or 'chưa rõ lĩnh vực'} {fmt_number(n)}" for k, n in roll["theo_linh_vuc"].items() if n]
    out = [PHRASES["models"].format(n=fmt_number(roll["tong"]),
                                    parts=_join(fields) or PHRASES["none"])]
    levels = [f"{'cấp ' + _level(k) if k and k != 'Chưa được công nhận' else (k or 'chưa rõ cấp')} "
              f"{fmt_number(n)}" for k, n in roll["theo_cap"].items() if n]
    if levels:
        out.append(PHRASES["models_level"].format(parts=_join(levels)))
    return out


def report_sentences(form: Form, results: list, totals: dict) -> list[tuple[str, str]]:
    """(topic, sentence) pairs, in the order of the bloc report."""
    c = _Ctx(form, results, totals)
    plan = [
        ("nop", _returns(c)),
        ("dac_diem", _units(c)),
        ("dang_vien", _sums(c, "dang_vien")),
        ("to_chuc", _yesno(c, "to_chuc") + _sums(c, "to_chuc")),
        ("danh_gia", _rating(c)),
        ("van_ban", _documents(c)),
        ("kiem_tra", _inspection(c)),
        ("cchc", _admin_reform(c)),
        ("ntm", _new_countryside(c)),
    ]
    for topic, num, den, subject, predicate in YEARLY_RATES:
        plan.append((topic, _yearly_rate(c, num, den, subject, predicate)))
    plan.append(("don_thu", _letters(c)))
    for topic, base, label in YEARLY_COUNTS:
        plan.append((topic, _yearly_count(c, base, label)))
    plan.append(("mo_hinh", _models(c)))
    order = list(TOPICS)
    plan.sort(key=lambda item: order.index(item[0]))  # stable: keeps each topic's own order
    return [(TOPICS[topic], s) for topic, sentences in plan for s in sentences]
