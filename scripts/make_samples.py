"""Make the sample returns in samples/nq02_sk5/returns/: the bloc's 110 units, filled like real people do.

    python3 scripts/make_samples.py [--out DIR] [--no-libreoffice]

Deterministic (fixed seed, fixed generation and save times). The templates come from the real
generator; they are filled through LibreOffice Calc (the real client: typed by defined name,
recalculated, saved as .xlsx) when it is available, else by the generator itself (a note says
so). Figures follow the bloc report (shared/seeds/000_…): about 8.000 đảng viên, 13 units
with a steering committee, all 40 enterprises with a union and a labour agreement, ratings
about 75/21/4 %, inspections 365/437/290/456/360. A handful of returns carry the mistakes
listed in MISTAKES, so the aggregator has something to report.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qcdc_xl.intake import libreoffice  # noqa: E402
from qcdc_xl.form.spec import load_form  # noqa: E402
from qcdc_xl.intake.units import Unit, load_units  # noqa: E402

SEED = 20220512  # the resolution's date
GENERATED_AT = dt.datetime(2022, 5, 20, 8, 0)
UNITS_CSV = ROOT / "samples" / "nq02_sk5" / "don_vi.csv"
RETURNS = ROOT / "samples" / "nq02_sk5" / "returns"
YEARS = range(2017, 2022)

# Bloc-wide figures of the report that the summary should reproduce from the returns.
TARGET_DANG_VIEN = 8046
INSPECTIONS = {"kt_chuong_trinh": 365, "kt_to_chuc": 437, "kt_dang_vien": 290,
               "gs_to_chuc": 456, "gs_dang_vien": 360}
STEERING = ("SCT", "SGTVT", "SGDDT", "SKHDT", "SNV", "SLDTBXH", "VPUBND", "THPTCHT", "CDCN",
            "HCTD", "BHXH", "DN002", "DN032")  # footnote 3 of the report, 13 units
GOOD_EXAMPLES = ("BHXH", "BDVTU", "TTRA", "PTTH", "LDLD", "CQDUK", "SNOIVU", "SNV")
RATING_COUNTS = {"Tốt": 83, "Khá": 23, "Trung bình": 4}  # of 110: 75 % / 21 % / 4 %
NOT_SENT = ("HLG", "LHHN", "TTDVVL")  # agencies only: the DN roll-ups stay 40/40
TWO_VERSIONS = "STNMT"
RESENT_FOLDER = "Gửi bổ sung"

# code -> (what is wrong, the issue the aggregator should report); applied in make_plan.
MISTAKES = {
    "BVDK": "so_lao_dong typed as text '1.234' -> coerced_text_number (warning)",
    "SGTVT": "Phụ lục 1 row 2 date typed as text '12/5/2018' -> coerced_text_date (warning)",
    "DN007": "co_ban_ttnd = 'x' -> coerced_text_choice (warning)",
    "DN020": "hnnld_da_2019 > hnnld_phai_2019 -> constraint_violated (error)",
    "HNM": "ngay_lap left empty -> required_missing (error)",
    "STP": "sheet 'Phụ lục 1' unprotected and a document typed below its table -> "
           "protection_removed + data_outside_table (warnings); file renamed by the unit",
    "CTHUE": "kn_gq_2019 > kn_nhan_2019 (backlog) -> constraint_violated (warning)",
    TWO_VERSIONS: "sent twice (older in returns/, newer in 'Gửi bổ sung/') -> duplicate_return",
}


@dataclass
class Return:
    unit: Unit
    values: dict
    rows: dict
    cells: list = field(default_factory=list)  # [{"sheet", "cell", "value"}] typed anywhere
    name: str | None = None  # file name when the unit renamed it
    folder: str = ""
    saved_at: dt.datetime | None = None


# ---------------------------------------------------------------- figures


def spread(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` that add up to exactly ``total``."""
    raw = [total * w / sum(weights) for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[: total - sum(out)]:
        out[i] += 1
    return out


def raw_size(unit: Unit, rng: random.Random) -> float:
    """A unit's relative party size: big hospitals and banks, small associations."""
    name = unit.ten_don_vi
    for key, size in (("Đa khoa", 240), ("Đại học", 200), ("Nông nghiệp và Phát triển nông thôn Chi", 230),
                      ("Điện lực", 220), ("Bảo hiểm xã hội", 160), ("Cục Thuế", 140), ("Viettel", 140),
                      ("Viễn thông", 120), ("Cao su", 110), ("Cao đẳng", 95), ("Kho bạc", 85)):
        if key in name:
            return size * rng.uniform(0.9, 1.1)
    if name.startswith("Chi bộ"):
        return rng.uniform(9, 28)
    return rng.uniform(45, 110) if unit.loai_hinh == "HCSN" else rng.uniform(40, 90)


def ratings(units: list[Unit], rng: random.Random) -> dict:
    """Tốt/Khá/Trung bình in the report's proportions; its named good examples are Tốt."""
    weak = [u.ma_don_vi for u in units if u.attr("loai_dn") == "DN cổ phần, DN tư nhân"][:3] + ["BQLDANN"]
    rest = [u.ma_don_vi for u in units if u.ma_don_vi not in weak and u.ma_don_vi not in GOOD_EXAMPLES]
    rng.shuffle(rest)
    kha = rest[: RATING_COUNTS["Khá"]]
    out = {code: "Tốt" for code in (u.ma_don_vi for u in units)}
    out.update({c: "Khá" for c in kha})
    out.update({c: "Trung bình" for c in weak})
    return out


FAMILY = ("Nguyễn", "Trần", "Lê", "Phan", "Võ", "Đặng", "Hoàng", "Bùi", "Hồ", "Dương", "Đinh")
MIDDLE = ("Thị", "Văn", "Đình", "Hữu", "Thị Hoài", "Xuân", "Quang", "Thị Thu", "Minh")
GIVEN = ("Nam", "Hà", "Lan", "Hùng", "Tuấn", "Hương", "Thủy", "Dũng", "Hòa", "Sơn", "Trang", "Linh")


def person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def phone(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"0239 {rng.randint(3850, 3899)} {rng.randint(100, 999)}"
    return f"09{rng.randint(12, 89)} {rng.randint(100, 999)} {rng.randint(100, 999)}"


def day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


# ---------------------------------------------------------------- one unit's values


def common_values(unit: Unit, dv: int, rating: str, rng: random.Random) -> dict:
    steering = unit.ma_don_vi in STEERING
    ratio = rng.uniform(1.05, 1.3) if unit.loai_hinh == "HCSN" else rng.uniform(1.1, 1.5)
    v = {
        "so_dang_vien": dv, "so_lao_dong": round(dv * ratio), "co_cong_doan": "Có",
        "co_ban_chi_dao": "Có" if steering else "Không",
        "co_ban_ttnd": "Không" if unit.attr("loai_dn") == "DN cổ phần, DN tư nhân" and rng.random() < 0.4 else "Có",
        "so_nguoi_quan_triet": rng.randint(dv, round(dv * ratio)), "tu_danh_gia": rating,
        "nguoi_lap": person(rng), "dien_thoai": phone(rng),
        "ngay_lap": day(rng, dt.date(2022, 5, 25), dt.date(2022, 6, 20)),
    }
    if steering:
        v["nam_thanh_lap_bcd"] = rng.choice((1999, 2000, 2004, 2008, 2012, 2016, 2018))
        v["so_lan_kien_toan_bcd"] = rng.randint(1, 3)
    if unit.loai_hinh == "DN":
        v.update({"loai_dn": unit.attr("loai_dn"), "co_thoa_uoc": "Có"})
    v.update(rural_values(rng))
    v.update(letters_values(rng))
    for y in YEARS:
        v[f"dttt_so_cuoc_{y}"] = rng.randint(1, 2) if y in (2020, 2021) else rng.randint(1, 4)
    return v


def rural_values(rng: random.Random) -> dict:
    """Communes a unit sponsors in the new-countryside programme (many sponsor none)."""
    giao = rng.choices((0, 1, 2), (45, 45, 10))[0]
    dat = max(0, giao - (rng.random() < 0.2))
    giao16 = giao if rng.random() < 0.8 else max(0, giao - 1)
    kinh_phi = rng.randint(1, 300) * 10_000_000 if giao else 0
    return {"ntm_xa_giao": giao, "ntm_xa_dat": dat, "ntm_xa_giao_2016": giao16,
            "ntm_xa_dat_2016": min(giao16, rng.choice((0, 0, 1))),
            "ntm_kinh_phi": kinh_phi, "ntm_tong_kinh_phi": kinh_phi * rng.randint(4, 15)}


def letters_values(rng: random.Random) -> dict:
    """Complaints, denunciations, petitions per year: mostly none, all or nearly all settled."""
    v = {}
    for y in YEARS:
        for kind, chance, most in (("kn", 0.25, 3), ("tc", 0.1, 2), ("pakn", 0.5, 6)):
            nhan = rng.randint(1, most) if rng.random() < chance else 0
            v[f"{kind}_nhan_{y}"] = nhan
            v[f"{kind}_gq_{y}"] = nhan - (nhan > 1 and rng.random() < 0.3)
    return v


def hcsn_values(unit: Unit, rng: random.Random) -> dict:
    admin = any(k in unit.ten_don_vi for k in ("Sở", "Cục", "Văn phòng", "Ban Quản lý", "Kho bạc",
                                              "Bảo hiểm", "Thanh tra", "hành chính công"))
    dvc = rng.randint(15, 160) if admin and "Sở" in unit.ten_don_vi else (rng.randint(2, 20) if admin else 0)
    v = {"mot_cua": "Có" if admin else "Không", "dvc_3_4": dvc, "dvc_4": round(dvc * rng.uniform(0.3, 0.9))}
    subordinate = rng.choice((0, 0, 1, 2, 3, 5)) if unit.ten_don_vi.startswith("Đảng bộ") else 0
    for y in YEARS:
        phai = 1 + subordinate
        da = phai - (y in (2020, 2021) and subordinate > 0 and rng.random() < 0.3)
        v.update({f"hnccc_phai_{y}": phai, f"hnccc_da_{y}": da})
    return v


def dn_values(unit: Unit, rng: random.Random) -> dict:
    v, branches = {}, rng.choice((0, 0, 0, 1, 2, 3))
    private = unit.attr("loai_dn") == "DN cổ phần, DN tư nhân"
    for y in YEARS:
        phai = 1 + branches
        da_dt = phai - (private and y in (2017, 2018) and rng.random() < 0.5)
        v.update({f"hnnld_phai_{y}": phai, f"hnnld_da_{y}": phai,  # 100 % hold the conference
                  f"dtnlv_phai_{y}": phai, f"dtnlv_da_{y}": da_dt,
                  f"dtnlv_so_cuoc_{y}": da_dt * rng.randint(1, 3)})
    return v


# ---------------------------------------------------------------- Phụ lục 1 and mô hình


def party_suffix(unit: Unit) -> str:
    return "ĐU" if unit.ten_don_vi.startswith("Đảng bộ") else "CB"


def documents(unit: Unit, rng: random.Random, plans: set, resolution: str) -> list[list]:
    """Rows of tbl_van_ban: the rules every unit issued, plus what the report counts."""
    dn, code, p = unit.loai_hinh == "DN", unit.ma_don_vi.replace("DN0", "DN"), party_suffix(unit)
    leader = "Lãnh đạo doanh nghiệp" if dn else "Lãnh đạo cơ quan, đơn vị"
    rows = [["Quy chế", f"{rng.randint(15, 240)}/QĐ-{code}", day(rng, dt.date(2017, 6, 1), dt.date(2021, 6, 30)),
             leader, "Quy chế thực hiện dân chủ ở cơ sở tại nơi làm việc" if dn else
             "Quy chế thực hiện dân chủ trong hoạt động của cơ quan", None]]
    if unit.ma_don_vi in plans:
        rows.append(["Kế hoạch", f"{rng.randint(2, 15):02d}-KH/{p}", day(rng, dt.date(2017, 6, 1), dt.date(2017, 10, 30)),
                     "Cấp ủy", "Kế hoạch triển khai thực hiện Nghị quyết 02-NQ/TU ngày 12/5/2017 "
                     "của Ban Chấp hành Đảng bộ tỉnh", None])
    if unit.ma_don_vi == resolution:
        rows.append(["Nghị quyết", f"{rng.randint(10, 30)}-NQ/{p}", dt.date(2017, 8, 18), "Cấp ủy",
                     "Nghị quyết về nâng cao chất lượng, hiệu quả thực hiện quy chế dân chủ ở cơ sở", None])
    if unit.ma_don_vi in STEERING:
        rows.append(["Quyết định", f"{rng.randint(20, 300)}/QĐ-{code}", day(rng, dt.date(2018, 1, 1), dt.date(2021, 12, 31)),
                     leader, "Quyết định kiện toàn Ban Chỉ đạo thực hiện quy chế dân chủ ở cơ sở", None])
    if dn:
        rows.append(["Thỏa ước lao động tập thể", f"01/{rng.choice((2019, 2020, 2021))}/TƯLĐTT",
                     day(rng, dt.date(2019, 1, 2), dt.date(2021, 12, 31)), leader,
                     "Thỏa ước lao động tập thể giữa người sử dụng lao động và Công đoàn cơ sở", None])
    for extra in rng.sample(EXTRA_DOCS_DN if dn else EXTRA_DOCS_HCSN, rng.randint(0, 3)):
        kind, number, issuer, text = extra
        rows.append([kind, number.format(n=rng.randint(2, 99), c=code, p=p),
                     day(rng, dt.date(2017, 6, 1), dt.date(2022, 5, 31)), issuer, text,
                     "Sửa đổi, bổ sung năm 2020" if rng.random() < 0.1 else None])
    return rows


EXTRA_DOCS_HCSN = (
    ("Quy chế", "{n}/QC-{c}", "Lãnh đạo cơ quan, đơn vị", "Quy chế phối hợp giữa Lãnh đạo cơ quan và Ban Chấp hành Công đoàn"),
    ("Quy chế", "{n}/QĐ-{c}", "Lãnh đạo cơ quan, đơn vị", "Quy chế chi tiêu nội bộ"),
    ("Quy chế", "{n}/QC-BTTND", "Ban Thanh tra nhân dân", "Quy chế hoạt động của Ban Thanh tra nhân dân"),
    ("Kế hoạch", "{n}/KH-{c}", "Lãnh đạo cơ quan, đơn vị", "Kế hoạch tổ chức Hội nghị cán bộ, công chức, viên chức"),
    ("Công văn", "{n}/{c}-VP", "Lãnh đạo cơ quan, đơn vị", "Triển khai Kế hoạch số 11-KH/ĐUK của Ban Thường vụ Đảng ủy Khối"),
    ("Thông báo", "{n:02d}-TB/{p}", "Cấp ủy", "Thông báo kết luận của cấp ủy về thực hiện quy chế dân chủ"),
)
EXTRA_DOCS_DN = (
    ("Quy chế", "{n}/QC-{c}", "Lãnh đạo doanh nghiệp", "Quy chế đối thoại tại nơi làm việc"),
    ("Quy chế", "{n}/QC-{c}", "Lãnh đạo doanh nghiệp", "Quy chế tổ chức Hội nghị người lao động"),
    ("Quy định", "{n}/QĐ-{c}", "Lãnh đạo doanh nghiệp", "Nội quy lao động"),
    ("Thông báo", "{n}/TB-CĐ", "Công đoàn", "Thông báo kết quả Hội nghị người lao động năm 2021"),
    ("Kế hoạch", "{n:02d}-KH/{p}", "Cấp ủy", "Kế hoạch lãnh đạo thực hiện quy chế dân chủ trong doanh nghiệp"),
)
MODELS = (
    ("Dân vận khéo trong cải cách thủ tục hành chính", "Dân vận khéo", "HCSN"),
    ("Bộ phận một cửa thân thiện, hài lòng", "Cải cách hành chính", "HCSN"),
    ("Ngày thứ Bảy tình nguyện vì cộng đồng", "Nông thôn mới, đô thị văn minh", "ALL"),
    ("Công sở xanh - sạch - đẹp, văn minh", "Văn hóa công sở, văn hóa doanh nghiệp", "HCSN"),
    ("Đỡ đầu xây dựng khu dân cư nông thôn mới kiểu mẫu", "Nông thôn mới, đô thị văn minh", "ALL"),
    ("Người lao động là tài sản quý nhất của doanh nghiệp", "Văn hóa công sở, văn hóa doanh nghiệp", "DN"),
    ("Sáng kiến cải tiến kỹ thuật trong sản xuất, kinh doanh", "Sản xuất, kinh doanh", "DN"),
    ("Đối thoại định kỳ hằng quý giữa Giám đốc và người lao động", "Dân vận khéo", "DN"),
)


def models(unit: Unit, rng: random.Random) -> list[list]:
    if rng.random() > 0.3:
        return []
    fitting = [m for m in MODELS if m[2] in ("ALL", unit.loai_hinh)]
    return [[name, field_, rng.randint(2017, 2022), rng.choice(("Tỉnh", "Khối, huyện", "Cơ sở", "Cơ sở")), None]
            for name, field_, _ in rng.sample(fitting, rng.randint(1, 2))]


# ---------------------------------------------------------------- the plan


def make_plan(units: list[Unit], rng: random.Random) -> list[Return]:
    sending = [u for u in units if u.ma_don_vi not in NOT_SENT]
    sizes = spread(TARGET_DANG_VIEN, [raw_size(u, rng) for u in sending])
    checks = {k: spread(total, [s ** 0.5 for s in sizes]) for k, total in INSPECTIONS.items()}
    rating = ratings(units, rng)
    plans = set(rng.sample([u.ma_don_vi for u in sending if u.loai_hinh == "HCSN"], 6)
                + rng.sample([u.ma_don_vi for u in sending if u.loai_hinh == "DN"], 2))
    resolution = rng.choice(sorted(plans))
    plan = []
    for i, unit in enumerate(sending):
        values = common_values(unit, sizes[i], rating[unit.ma_don_vi], rng)
        values.update({k: checks[k][i] for k in INSPECTIONS})
        values.update(hcsn_values(unit, rng) if unit.loai_hinh == "HCSN" else dn_values(unit, rng))
        rows = {"tbl_van_ban": documents(unit, rng, plans, resolution), "tbl_mo_hinh": models(unit, rng)}
        saved = dt.datetime.combine(values["ngay_lap"], dt.time(rng.randint(8, 16), rng.randint(0, 59)))
        plan.append(Return(unit, values, rows, saved_at=saved))
    apply_mistakes({r.unit.ma_don_vi: r for r in plan})
    plan.append(older_version(next(r for r in plan if r.unit.ma_don_vi == TWO_VERSIONS)))
    return plan


def apply_mistakes(by_code: dict) -> None:
    """The slips people really make; see MISTAKES for what each should be reported as."""
    by_code["BVDK"].values["so_lao_dong"] = "1.234"
    sgtvt = by_code["SGTVT"].rows["tbl_van_ban"]
    sgtvt[1][2] = "12/5/2018"
    by_code["DN007"].values["co_ban_ttnd"] = "x"
    dn020 = by_code["DN020"].values
    dn020["hnnld_da_2019"] = dn020["hnnld_phai_2019"] + 1
    del by_code["HNM"].values["ngay_lap"]
    cthue = by_code["CTHUE"].values
    cthue["kn_nhan_2019"], cthue["kn_gq_2019"] = 2, 4
    stp = by_code["STP"]
    stp.name = "Báo cáo QCDC - Sở Tư pháp.xlsx"
    stp.cells.append(("below_van_ban", ["Kế hoạch", "09-KH/ĐU", "2021-03-15", "Cấp ủy",
                                        "Kế hoạch kiểm tra, giám sát việc thực hiện QCDC năm 2021"]))
    newer = by_code[TWO_VERSIONS]
    newer.folder, newer.name = RESENT_FOLDER, None


def older_version(newer: Return) -> Return:
    """The first return of a unit that later sent a corrected one (9 days earlier)."""
    saved = newer.saved_at - dt.timedelta(days=9)
    values = dict(newer.values, so_dang_vien=newer.values["so_dang_vien"] - 7, tu_danh_gia="Khá",
                  dvc_4=newer.values["dvc_3_4"] + 3,  # the mistake the newer one corrects
                  ngay_lap=saved.date())
    return Return(newer.unit, values, dict(newer.rows), saved_at=saved)


# ---------------------------------------------------------------- writing files


def output_path(ret: Return, template: Path, out: Path) -> Path:
    name = ret.name or template.name
    if ret.folder:
        return out / ret.folder / name
    return out / name


def below_table_cells(template: Path, table: str, row_values: list) -> list[dict]:
    """set_cells for a row typed just under a table (outside it), in its input columns."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    from qcdc_xl.intake.read import load_quietly
    wb = load_quietly(template)
    for ws in wb.worksheets:
        if table in ws.tables:
            min_col, _r, _c, max_row = range_boundaries(ws.tables[table].ref)
            return [{"sheet": ws.title, "cell": f"{get_column_letter(min_col + 1 + i)}{max_row + 1}",
                     "value": v} for i, v in enumerate(row_values)]
    raise KeyError(table)


def iso(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def job_for(ret: Return, template: Path, target: Path) -> dict:
    cells = []
    for _kind, row_values in ret.cells:
        cells += below_table_cells(template, "tbl_van_ban", row_values)
    return {"open": str(template), "unprotect_sheets": sorted({c["sheet"] for c in cells}),
            "set_names": {k: iso(v) for k, v in ret.values.items()},
            "set_table_rows": {t: [[iso(v) for v in r] for r in rows] for t, rows in ret.rows.items() if rows},
            "set_cells": cells, "recalc": True, "save_xlsx": str(target)}


def fill_with_libreoffice(plan, templates, targets) -> list[str]:
    jobs = [job_for(r, templates[r.unit.ma_don_vi], t) for r, t in zip(plan, targets)]
    results = libreoffice.run_jobs(jobs, processes=min(2, os.cpu_count() or 1))
    return [f"{t.name}: {res['error']}" for t, res in zip(targets, results) if not res["ok"]]


def fill_with_generator(form, plan, targets) -> list[str]:
    from qcdc_xl.template.generate import generate_workbook

    for ret, target in zip(plan, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        rows = {t: [dict(zip([c.id for c in form.tables[t].input_columns], r)) for r in rs]
                for t, rs in ret.rows.items() if rs}
        generate_workbook(form, ret.unit, target, generated_at=GENERATED_AT, values=ret.values,
                          table_rows=rows)
    return ["(typed-outside-the-table row of STP skipped: it needs LibreOffice)"]


def set_saved_time(path: Path, when: dt.datetime) -> None:
    """The workbook's own saved time (docProps/core.xml) and the file time: deterministic, and
    what tells the aggregator which of two versions is newer."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                for tag in ("dcterms:modified", "dcterms:created"):
                    text = re.sub(rf"(<{tag}[^>]*>)[^<]*(</{tag}>)", rf"\g<1>{stamp}\g<2>", text)
                data = text.encode("utf-8")
            item.date_time = when.timetuple()[:6]
            dst.writestr(item, data)
    tmp.replace(path)
    os.utime(path, (when.timestamp(), when.timestamp()))


def write_extras(out: Path, some_return: Path) -> list[str]:
    """Files that land in a returns folder but are not returns."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws.append(["TT", "Họ và tên", "Năm sinh", "Ngày vào Đảng", "Chức vụ"])
    for i, (name, born, joined, role) in enumerate((
            ("Nguyễn Văn Hùng", 1975, "03/02/2001", "Bí thư Chi bộ"),
            ("Trần Thị Hương", 1982, "19/05/2008", "Phó Bí thư"),
            ("Lê Quang Tuấn", 1990, "02/09/2015", "Đảng viên")), start=1):
        ws.append([i, name, born, joined, role])
    not_form = out / "Danh sách đảng viên chi bộ.xlsx"
    wb.save(not_form)
    lock_lo = out / f".~lock.{some_return.name}#"
    lock_lo.write_text("Nguyễn Văn Hùng,PC-VANTHU,vanthu,15.06.2022 09:12,"
                       "file:///C:/Users/vanthu/AppData/Roaming/LibreOffice/4;", encoding="utf-8")
    lock_ms = out / f"~${some_return.name[2:]}"
    lock_ms.write_bytes(b"\x0cvanthu" + b"\x20" * 47 + b"\x0c\x00v\x00a\x00n\x00t\x00h\x00u\x00" + b"\x00" * 98)
    when = dt.datetime(2022, 6, 15, 9, 12)
    for p in (not_form, lock_lo, lock_ms):
        os.utime(p, (when.timestamp(), when.timestamp()))
    return [not_form.name, lock_lo.name, lock_ms.name]


# ---------------------------------------------------------------- main


def make_templates(form, units: list[Unit], where: Path) -> dict:
    """Blank templates from the real generator: unit code -> path."""
    from qcdc_xl.template.generate import generate_all

    paths, _zip = generate_all(form, units, where, generated_at=GENERATED_AT)
    return {unit.ma_don_vi: path for unit, path in zip(units, paths)}


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Tạo bộ báo cáo mẫu trong samples/nq02_sk5/returns/.")
    ap.add_argument("--out", type=Path, default=RETURNS)
    ap.add_argument("--no-libreoffice", action="store_true", help="điền bằng trình tạo mẫu, không qua LibreOffice")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    form, units = load_form(), load_units(UNITS_CSV)
    plan = make_plan(units, random.Random(SEED))
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="qcdc_samples_") as tmp:
        templates = make_templates(form, sorted({r.unit for r in plan}, key=lambda u: u.ma_don_vi), Path(tmp))
        print(f"Tạo {len(templates)} biểu mẫu: {time.monotonic() - started:.0f} giây.")
        targets = [output_path(r, templates[r.unit.ma_don_vi], args.out) for r in plan]
        use_lo, reason = libreoffice.available()
        filling = time.monotonic()
        if use_lo and not args.no_libreoffice:
            print(f"Điền {len(plan)} báo cáo qua LibreOffice ({reason}) …")
            problems = fill_with_libreoffice(plan, templates, targets)
        else:
            print(f"Lưu ý: không dùng LibreOffice ({'--no-libreoffice' if use_lo else reason}); "
                  f"điền bằng trình tạo mẫu.")
            problems = fill_with_generator(form, plan, targets)
        print(f"Điền: {time.monotonic() - filling:.0f} giây.")
    for ret, target in zip(plan, targets):
        if target.exists():
            set_saved_time(target, ret.saved_at)
    extras = write_extras(args.out, targets[0])
    report(plan, targets, extras, problems, args.out, time.monotonic() - started)
    return 1 if any(not t.exists() for t in targets) else 0


def report(plan, targets, extras, problems, out: Path, seconds: float) -> None:
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"Đã ghi {sum(t.exists() for t in targets)} báo cáo + {len(extras)} tệp khác vào {out} "
          f"({total / 1e6:.1f} MB) trong {seconds:.0f} giây.")
    print(f"Không gửi: {', '.join(NOT_SENT)}.")
    for code, what in MISTAKES.items():
        print(f"  {code}: {what}")
    for p in problems:
        print("  ! " + p)


if __name__ == "__main__":
    sys.exit(main())
