"""Make the kl120_tk sample returns: a province shaped like Bình Thuận (shared/seeds/001_…).

    python3 scripts/make_samples_kl120.py [--out DIR] [--no-libreoffice] [--check-only]

The province's 77 units (samples/kl120_tk/don_vi.csv: 10 huyện, 3 đảng ủy, the Khối, 56 sở,
ban, ngành, the Mặt trận and 5 đoàn thể, the Ban Chỉ đạo tỉnh) each get values chosen so that the
province roll-up reproduces the seed's headline figures R1–R21 (shared/spec/kl120-form.md):
sums exactly, rates as the seed quotes them. ``SEED_FIGURES`` holds them; ``design_check``
recomputes every one of them from the plan before anything is written, so a change that breaks
a figure stops here. A few returns carry the slips people make (``MISTAKES``), chosen so that
none of them changes a headline figure.

The templates come from the real generator and are filled through LibreOffice Calc (typed by
defined name, recalculated, saved as .xlsx), with the machinery of scripts/make_samples.py.
Deterministic: fixed seed, fixed generation and save times.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sys
import tempfile
import time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import make_samples as base  # noqa: E402  (spread, person, phone, Return, LibreOffice filling…)

FORM = ROOT / "workbook_templates" / "kl120_tk.yaml"
SAMPLES = ROOT / "samples" / "kl120_tk"
UNITS_CSV = SAMPLES / "don_vi.csv"
RETURNS = SAMPLES / "returns"
SEED = 20160107  # the date of Kết luận 120-KL/TW
GENERATED_AT = dt.datetime(2021, 5, 10, 8, 0)
YEARS = range(2016, 2021)
RESENT_FOLDER = "Gửi bổ sung"

# ---------------------------------------------------------------- the seed's figures

# R-number -> the figures as the seed quotes them (rates in percent, with the seed's decimals).
SEED_FIGURES = {
    1: {"so_nganh": (56, 56), "cap_uy": (14, 14),
        "chi_thi": ("Tuy Phong", "Bắc Bình", "Tánh Linh", "Đức Linh", "Phú Quý")},
    2: {"co_bcd": (14, 14), 2018: {"Tốt": 9, "Khá": 2, "Trung bình": 3},
        2019: {"Tốt": 13, "Trung bình": 1}, 2020: {"Tốt": 13, "Trung bình": 1}},
    3: {"tcd": {"tinh": 19, "huyen": 335, "xa": 552}, "tcd_total": 906,
        "dt_dan": {"tinh": 6, "huyen": 99, "xa": 355}, "dt_dan_total": 460},
    4: {"tinh": {"kt_so_to": 31, "kt_so_don_vi": 145, "kt_phuc_tra": 14,
                 "kt_ct14_to_chuc": 4, "kt_ct14_ca_nhan": 4},
        "cap_uy": {"kt_so_to": 103, "kt_so_don_vi": 814}},
    5: {"gs_cuoc": {"tinh": 57, "huyen": 391, "xa": 1687}, "gs_total": 2135,
        "pb_hoi_nghi": {"tinh": 4, "huyen": 10, "xa": 43}, "pb_total": 57,
        "gs_kien_nghi": 2961, "gq_rate": "80.81"},
    6: {"hs_giai_quyet": 4_300_214, "dung_han_rate": "97.9"},
    7: {"hs_dung_han": {"tinh": 532_703, "huyen": 628_847, "xa": 3_049_661},
        "rate": {"tinh": "96.3", "huyen": "92.3", "xa": "99.4"}},
    8: {"hs_tre_han": 89_003, "tre_han_rate": "2.1"},
    9: {"xa": (6, 3, 127, 124), "thon": (30, 15, 706, 691)},
    10: {"huong_uoc_rate": "100"},
    11: {"to_hoa_giai": 698, "hoa_giai_vien": 4208},
    12: {"near": 90},
    13: {"sx_phong_sap_xep": 52, "giam": 34, "giam_rate": "23.45", "sx_dvsn_giam": 84},
    14: {"tthc": {"tthc_tinh": 1473, "tthc_huyen": 345, "tthc_xa": 163, "tthc_khac": 42},
         "tthc_cong_khai": 2023},
    15: {"dvc_3_4": 428, "dvc_qg": 114},
    16: {"kn": (45, 47, "95.7"), "tc": (54, 65, "83.07"), "pakn": (130, 140, "92.85")},
    17: {"hnccc_rate": "100"},
    18: {"ntm": (65, 93, "69.9"), "huyen_dat": 2},
    19: {"hnnld_rate": "45", "hnnld_nn_rate": "100"},
    20: {"dnnn_bcd_rate": "100"},
    21: {"tap_huan": (192, 119, 583), "khen_tinh": 5},
}


def quoted(rate: float, seed_text: str) -> bool:
    """Does ``rate`` (percent) read as the seed quotes it? The seed rounds some rates half-up
    (89.003/4.300.214 = 2,07 % is "2,1 %") and truncates others (54/65 = 83,08 % is "83,07 %");
    kl120-form.md allows ±0,01 for that. So: rounded or truncated to the seed's decimals, it
    is the seed's figure (within 0,01 of the last digit for the two-decimal ones)."""
    exp = Decimal(seed_text).as_tuple().exponent
    step = Decimal(1).scaleb(exp)
    value, want = Decimal(repr(rate)), Decimal(seed_text)
    shown = {value.quantize(step, ROUND_HALF_UP), value.quantize(step, ROUND_DOWN)}
    return any(abs(s - want) <= Decimal("0.01") for s in shown)


# ---------------------------------------------------------------- the province


# District facts: xã, phường, thị trấn (01/01/2016, now, merged, merged into), thôn, khu phố
# likewise, communes in the new-countryside programme and those that reached it, whether the
# district reached it (None: thị xã, thành phố), and a size weight (population, thousands).
DISTRICTS = {
    "HU_TUYPHONG": dict(xa=(12, 12, 0, 0), thon=(68, 65, 6, 3), ntm=(10, 7, False), size=150),
    "HU_BACBINH": dict(xa=(19, 18, 2, 1), thon=(96, 92, 8, 4), ntm=(16, 9, False), size=125),
    "HU_HTBAC": dict(xa=(17, 17, 0, 0), thon=(101, 98, 6, 3), ntm=(15, 10, False), size=175),
    "HU_HTNAM": dict(xa=(13, 12, 2, 1), thon=(70, 70, 0, 0), ntm=(11, 11, True), size=105),
    "HU_HAMTAN": dict(xa=(10, 10, 0, 0), thon=(58, 58, 0, 0), ntm=(8, 4, False), size=75),
    "HU_TANHLINH": dict(xa=(14, 13, 2, 1), thon=(80, 80, 0, 0), ntm=(12, 6, False), size=105),
    "HU_DUCLINH": dict(xa=(12, 12, 0, 0), thon=(77, 75, 4, 2), ntm=(10, 7, False), size=130),
    "HU_PHUQUY": dict(xa=(3, 3, 0, 0), thon=(25, 25, 0, 0), ntm=(3, 3, True), size=30),
    "TXU_LAGI": dict(xa=(9, 9, 0, 0), thon=(52, 52, 0, 0), ntm=(4, 4, None), size=110),
    "TPU_PHANTHIET": dict(xa=(18, 18, 0, 0), thon=(79, 76, 6, 3), ntm=(4, 4, None), size=230),
}
CHI_THI = ("HU_TUYPHONG", "HU_BACBINH", "HU_TANHLINH", "HU_DUCLINH", "HU_PHUQUY")  # R1, fn 3
# R2, fn 10: who was rated below "Tốt" (the others are "Tốt").
RATINGS = {2018: {"HU_HAMTAN": "Trung bình", "HU_TANHLINH": "Trung bình", "HU_PHUQUY": "Trung bình",
                  "HU_BACBINH": "Khá", "HU_DUCLINH": "Khá"},
           2019: {"HU_HAMTAN": "Trung bình"}, 2020: {"HU_HAMTAN": "Trung bình"}}

# Sở, ngành that settle dossiers at provincial level: weight of their dossiers, share late.
DOSSIERS = {"STNMT": (30, 0.07), "SGTVT": (25, 0.02), "BHXH": (25, 0.03), "CTHUE": (20, 0.02),
            "SKHDT": (12, 0.05), "SLDTBXH": (10, 0.04), "SYT": (9, 0.03), "SCT": (8, 0.02),
            "STP": (8, 0.04), "SXD": (6, 0.08), "SNNPTNT": (5, 0.05), "KBNN": (5, 0),
            "CHQ": (4, 0), "SGDDT": (4, 0.03), "SNV": (3, 0.02), "SVHTTDL": (3, 0.02),
            "STC": (2, 0), "STTTT": (2, 0.01), "BQLKCN": (2, 0.03), "SKHCN": (1, 0),
            "SNGV": (1, 0), "BDT": (0.5, 0)}
# Each sở counts its sector's list of procedures at every level (one source per figure).
TTHC = {  # tinh, huyen, xa weights
    "SKHDT": (120, 20, 0), "STNMT": (105, 40, 12), "SGTVT": (125, 15, 0), "SYT": (150, 12, 6),
    "SCT": (130, 25, 4), "SNNPTNT": (110, 30, 18), "SLDTBXH": (120, 45, 40), "SVHTTDL": (125, 20, 12),
    "STP": (120, 60, 45), "SXD": (55, 25, 0), "STC": (30, 10, 0), "SNV": (85, 25, 15),
    "STTTT": (45, 8, 0), "SKHCN": (45, 0, 0), "SGDDT": (80, 30, 11), "SNGV": (8, 0, 0),
    "BDT": (3, 0, 0), "BQLKCN": (40, 0, 0), "TTRA": (12, 5, 4)}
TTHC_KHAC = {"CTHUE": 12, "BHXH": 18, "KBNN": 6, "CHQ": 6}  # central agencies: "cơ quan khác"
DVC = {"SKHDT": (70, 25), "STNMT": (30, 8), "SGTVT": (40, 12), "SYT": (35, 9), "SCT": (60, 15),
       "SNNPTNT": (25, 6), "SLDTBXH": (28, 8), "SVHTTDL": (30, 7), "STP": (22, 6), "SXD": (18, 5),
       "SNV": (20, 5), "STTTT": (15, 4), "SKHCN": (12, 2), "SGDDT": (15, 2)}
# Rooms of the sở before / cut / affected by the reorganisation (R13), and public-service units cut.
ROOMS = {"SNV": (8, 2, 3), "STP": (6, 1, 2), "SKHDT": (8, 2, 3), "STC": (8, 2, 3), "SCT": (9, 2, 3),
         "SNNPTNT": (10, 3, 4), "SGTVT": (8, 2, 3), "SXD": (7, 2, 2), "STNMT": (9, 2, 3),
         "STTTT": (6, 1, 2), "SLDTBXH": (9, 3, 4), "SVHTTDL": (9, 2, 3), "SKHCN": (6, 1, 2),
         "SGDDT": (8, 2, 3), "SYT": (9, 2, 3), "SNGV": (4, 1, 2), "TTRA": (6, 2, 3), "BDT": (5, 1, 2),
         "VPUB": (6, 1, 2), "BQLKCN": (4, 0, 0)}
DVSN_CUT = {"SYT": 30, "SGDDT": 22, "SNNPTNT": 10, "SVHTTDL": 6, "SLDTBXH": 5, "STNMT": 3,
            "SKHCN": 2, "STTTT": 2, "SXD": 1, "SCT": 1, "SGTVT": 1, "SNV": 1}
# Letters the sở, ngành settled (5 years): (received, settled) per kind (R16).
LETTERS_SO = {
    "kn": {"STNMT": (12, 13), "SXD": (6, 5), "SGDDT": (5, 4), "SYT": (6, 5), "SLDTBXH": (5, 5),
           "SNV": (3, 3), "SGTVT": (4, 4), "SNNPTNT": (3, 3), "SCT": (3, 3)},
    "tc": {"STNMT": (15, 12), "SYT": (10, 8), "SGDDT": (9, 7), "SXD": (8, 7), "SLDTBXH": (6, 5),
           "SNV": (5, 4), "SGTVT": (5, 4), "TTRA": (4, 4), "SNNPTNT": (3, 3)},
    "pakn": {"STNMT": (28, 25), "SXD": (14, 13), "SGTVT": (14, 13), "SLDTBXH": (12, 11),
             "SYT": (12, 11), "SGDDT": (10, 10), "SNNPTNT": (10, 9), "SCT": (8, 8), "STTTT": (6, 6),
             "SVHTTDL": (6, 6), "SKHDT": (6, 5), "SNV": (4, 4), "STP": (4, 4), "CTHUE": (3, 3),
             "BHXH": (3, 2)},
}
# The districts' letters (R12 "gần 90%"): province totals received / settled per kind.
LETTERS_HUYEN = {"kn": (1240, 1090), "tc": (310, 262), "pakn": (3450, 3118)}
NO_TTND = ("HVHNT", "HNB")  # two small associations have no Ban Thanh tra nhân dân
# Enterprises (R19–R20): conferences due / held per year, of them state-owned (all held).
HNNLD_PHAI = (380, 400, 420, 440, 460)
HNNLD_DA = (182, 196, 210, 207, 150)  # 45 % pooled; 2020 low (Covid-19)
KHOI_HNNLD = {"phai": (45, 46, 46, 45, 44), "da": (40, 41, 40, 39, 30),
              "nn": (18, 17, 16, 15, 14), "dtnlv": (38, 39, 38, 37, 25)}
KHOI_DNNN, KHOI_THOA_UOC = 14, 36

MTTQ_WEIGHTS = {"UBMTTQ": 30, "LDLD": 14, "HLHPN": 16, "TINHDOAN": 12, "HND": 16, "HCCB": 12}

# code -> (what is wrong, the issue the aggregator should report). None changes a headline figure.
MISTAKES = {
    "STNMT": "kn_gq (13) > kn_nhan (12): a complaint from 2015 settled in the period "
             "-> constraint_violated (warning; both values count)",
    "TPU_PHANTHIET": "hs_dung_han_xa typed as text with thousands dots (like '3.049.661') "
                     "-> coerced_text_number (warning; counts)",
    "SGTVT": "Phụ lục 1: the date of its implementing plan typed as text 'd/m/yyyy' -> coerced_text_date (warning)",
    "BCD_TINH": "Phụ lục 1: Công văn 932/UBND-SNV of 31/3/2015 (seed fn 5), before KL 120 "
                "-> out_of_range warning (warn_min)",
    "SCT": "co_ban_ttnd typed 'x' -> coerced_text_choice (warning; read as Có)",
    "HU_PHUQUY": "hoa_giai_vien 70 < 3 x 25 tổ hòa giải -> constraint_violated (warning; counts)",
    "HCCB": "nguoi_lap left empty -> required_missing (error; the figures still count)",
    "HU_HAMTAN": "ngay_lap typed 15/6/2020 instead of 2021 -> out_of_range warning (reporting window)",
    "SXD": "sent twice: the older return (tthc_cong_khai above the total, dvc_qg above dvc_3_4) "
           "in returns/, the corrected one in 'Gửi bổ sung/' -> duplicate_return; the older is superseded",
}
TEXT_NUMBER = ("TPU_PHANTHIET", "hs_dung_han_xa")
TWO_VERSIONS = "SXD"


# ---------------------------------------------------------------- per-unit figures


def by_type(units, loai):
    return [u for u in units if u.loai_hinh == loai]


def spread_map(total: int, weights: dict) -> dict:
    """``base.spread`` keyed: integers proportional to the weights, adding up to ``total``."""
    keys = list(weights)
    return dict(zip(keys, base.spread(total, [weights[k] for k in keys])))


def spread_under(total: int, caps: dict) -> dict:
    """Integers adding up to ``total``, proportional to ``caps`` and never above them."""
    out = spread_map(total, caps)
    assert all(out[k] <= caps[k] for k in caps), (total, caps, out)
    return out


def district_values(units, rng) -> dict:
    """code -> values of sections B, C (part), E, F, G, H, I for each district."""
    codes = [u.ma_don_vi for u in by_type(units, "HUYEN")]
    size = {c: DISTRICTS[c]["size"] for c in codes}
    out = {c: {} for c in codes}
    f3 = SEED_FIGURES[3]
    for level in ("huyen", "xa"):
        first = round(f3["tcd"][level] * 0.49)  # 2019; the rest in 2020
        for y, year_total in ((2019, first), (2020, f3["tcd"][level] - first)):
            for c, n in spread_map(year_total, {c: size[c] ** 0.5 for c in codes}).items():
                out[c][f"tcd_bt_{level}_{y}"] = n
        for c, n in spread_map(f3["dt_dan"][level], {c: size[c] ** 0.5 for c in codes}).items():
            out[c][f"dt_dan_{level}"] = n
    for c in codes:
        d, v = DISTRICTS[c], out[c]
        v.update(zip(("xa_truoc", "xa_hien_nay", "xa_sap_nhap", "xa_sau_sap_nhap"), d["xa"]))
        v.update(zip(("thon_truoc", "thon_hien_nay", "thon_sap_nhap", "thon_sau_sap_nhap"), d["thon"]))
        v["thon_huong_uoc"] = v["thon_hien_nay"]  # R10: 100 %
        v["xa_co_ttnd"] = v["xa_co_gsdtcd"] = v["xa_hien_nay"]
        v["ntm_so_xa"], v["ntm_xa_dat"], reached = d["ntm"]
        if reached is not None:
            v["ntm_huyen_dat"] = "Có" if reached else "Không"
    # R11: a tổ hòa giải in every thôn, khu phố, a few more where the district is large.
    extra = spread_map(SEED_FIGURES[11]["to_hoa_giai"] - sum(out[c]["thon_hien_nay"] for c in codes),
                       {c: size[c] for c in codes})
    for c in codes:
        out[c]["to_hoa_giai"] = out[c]["thon_hien_nay"] + extra[c]
    members = {"HU_PHUQUY": 70}  # fewer than 3 a tổ: the designed warning
    rest = SEED_FIGURES[11]["hoa_giai_vien"] - sum(members.values())
    members.update(spread_map(rest, {c: out[c]["to_hoa_giai"] for c in codes if c not in members}))
    for c in codes:
        out[c]["hoa_giai_vien"] = members[c]
        if c != "HU_HAMTAN":  # optional: one district does not keep the count
            cases = round(out[c]["to_hoa_giai"] * rng.uniform(1.2, 2.2))
            out[c]["hg_vu_viec"], out[c]["hg_thanh"] = cases, round(cases * rng.uniform(0.82, 0.92))
    dossier_values(out, codes, size)
    letters = {kind: (spread_map(nhan, size), spread_map(gq, size))
               for kind, (nhan, gq) in LETTERS_HUYEN.items()}
    for c in codes:
        for kind, (nhan, gq) in letters.items():
            out[c][f"{kind}_nhan"], out[c][f"{kind}_gq"] = nhan[c], min(gq[c], nhan[c])
        for y in YEARS:
            agencies = 30 + round(size[c] / 5) + (y >= 2019)  # district agencies + public units
            out[c][f"hnccc_phai_{y}"] = out[c][f"hnccc_da_{y}"] = agencies
    assert all(out[c][f"{k}_gq"] <= out[c][f"{k}_nhan"] for c in codes for k in LETTERS_HUYEN)
    enterprise_values(out, codes, size, rng)
    return out


# Dossiers settled late: per level, the province totals of R7/R8 split (see docs/decisions.md:
# the seed's per-level rates are truncated, so the split is chosen to read as quoted).
LATE = {"tinh": 20_250, "huyen": 52_200, "xa": 16_553}


def dossier_values(out, codes, size) -> None:
    dung = SEED_FIGURES[7]["hs_dung_han"]
    for level in ("huyen", "xa"):
        on_time = spread_map(dung[level], size)
        late = spread_map(LATE[level], {c: size[c] * (1.3 if c in ("TPU_PHANTHIET", "HU_HTBAC") else 1)
                                        for c in codes})
        for c in codes:
            out[c][f"hs_dung_han_{level}"] = on_time[c]
            out[c][f"hs_tre_han_{level}"] = late[c]
            out[c][f"hs_tiep_nhan_{level}"] = on_time[c] + late[c] + round(size[c] * 3)


def enterprise_values(out, codes, size, rng) -> None:
    """Section I for the districts: what the Khối does not report (non-state enterprises)."""
    for i, y in enumerate(YEARS):
        phai = spread_map(HNNLD_PHAI[i] - KHOI_HNNLD["phai"][i], {c: size[c] ** 1.3 for c in codes})
        da = spread_under(HNNLD_DA[i] - KHOI_HNNLD["da"][i], phai)
        for c in codes:
            v = out[c]
            v[f"hnnld_phai_{y}"], v[f"hnnld_da_{y}"] = phai[c], da[c]
            v[f"hnnld_phai_nn_{y}"] = v[f"hnnld_da_nn_{y}"] = 0
            v[f"dtnlv_da_{y}"] = max(0, da[c] - rng.randint(0, 3))
    for c in codes:
        out[c]["dnnn_so"] = out[c]["dnnn_co_bcd"] = 0
        out[c]["dn_thoa_uoc"] = round(out[c]["hnnld_phai_2020"] * rng.uniform(0.55, 0.75))


def cap_uy_values(units) -> dict:
    """Sections A and C for the 14 cấp ủy trực thuộc (R2, R4)."""
    codes = [u.ma_don_vi for u in units if u.loai_hinh in ("HUYEN", "DANG_UY", "KHOI")]
    weight = {c: DISTRICTS[c]["size"] ** 0.5 if c in DISTRICTS else 7 for c in codes}
    f4 = SEED_FIGURES[4]["cap_uy"]
    teams, places = spread_map(f4["kt_so_to"], weight), spread_map(f4["kt_so_don_vi"], weight)
    out = {}
    for c in codes:
        v = {"co_ban_chi_dao": "Có", "kt_so_to": teams[c], "kt_so_don_vi": places[c],
             "kt_phuc_tra": places[c] // 12}
        for y in (2018, 2019, 2020):
            v[f"xl_bcd_{y}"] = RATINGS[y].get(c, "Tốt")
        out[c] = v
    return out


def so_nganh_values(units, rng) -> dict:
    codes = [u.ma_don_vi for u in by_type(units, "SO_NGANH")]
    dung = SEED_FIGURES[7]["hs_dung_han"]["tinh"]
    on_time = spread_map(dung, {c: w for c, (w, _late) in DOSSIERS.items()})
    late = spread_map(LATE["tinh"], {c: w * share for c, (w, share) in DOSSIERS.items()})
    levels = {lv: spread_map(SEED_FIGURES[14]["tthc"][f"tthc_{lv}"], {c: w[i] for c, w in TTHC.items()})
              for i, lv in enumerate(("tinh", "huyen", "xa"))}
    dvc = spread_map(SEED_FIGURES[15]["dvc_3_4"], {c: w for c, (w, _qg) in DVC.items()})
    dvc_qg = spread_under(SEED_FIGURES[15]["dvc_qg"], {c: min(dvc[c], qg * 3) for c, (_w, qg) in DVC.items()})
    out = {}
    for c in codes:
        v = {"hs_dung_han_tinh": on_time.get(c, 0), "hs_tre_han_tinh": late.get(c, 0)}
        if c in DOSSIERS:
            v["hs_tiep_nhan_tinh"] = v["hs_dung_han_tinh"] + v["hs_tre_han_tinh"] + rng.randint(20, 400)
        for lv in ("tinh", "huyen", "xa"):
            v[f"tthc_{lv}"] = levels[lv].get(c, 0)
        v["tthc_khac"] = TTHC_KHAC.get(c, 0)
        v["tthc_cong_khai"] = sum(v[f"tthc_{k}"] for k in ("tinh", "huyen", "xa", "khac"))  # R14: all
        v["dvc_3_4"], v["dvc_qg"] = dvc.get(c, 0), dvc_qg.get(c, 0)
        for kind, table in LETTERS_SO.items():
            v[f"{kind}_nhan"], v[f"{kind}_gq"] = table.get(c, (0, 0))
        staff_units = 1 + (DVSN_CUT.get(c, 0) > 0) * rng.randint(3, 12)
        for y in YEARS:
            v[f"hnccc_phai_{y}"] = v[f"hnccc_da_{y}"] = staff_units  # R17: 100 % every year
        v["co_ban_ttnd"] = "Không" if c in NO_TTND else "Có"
        if c not in NO_TTND:
            v["ttnd_ke_hoach"] = "Có"
        truoc, giam, sap_xep = ROOMS.get(c, (0, 0, 0))
        v.update(sx_phong_truoc=truoc, sx_phong_sau=truoc - giam, sx_phong_sap_xep=sap_xep,
                 sx_dvsn_giam=DVSN_CUT.get(c, 0))
        out[c] = v
    return out


def mttq_values(units) -> dict:
    codes = [u.ma_don_vi for u in by_type(units, "MTTQ_DT")]
    w = {c: MTTQ_WEIGHTS[c] for c in codes}
    f5, out = SEED_FIGURES[5], {c: {} for c in codes}
    for level in ("tinh", "huyen", "xa"):
        for c, n in spread_map(f5["gs_cuoc"][level], w).items():
            out[c][f"gs_cuoc_{level}"] = n
        # Social criticism: mostly the Mặt trận, some by the farmers' and women's unions.
        pb = spread_map(f5["pb_hoi_nghi"][level], {c: w[c] ** 2 for c in codes})
        for c in codes:
            out[c][f"pb_hoi_nghi_{level}"] = pb[c]
    kien_nghi = spread_map(f5["gs_kien_nghi"], w)
    settled = spread_under(round(f5["gs_kien_nghi"] * 0.8081), kien_nghi)  # 2.393/2.961
    for c in codes:
        out[c]["gs_kien_nghi"], out[c]["gs_kien_nghi_gq"] = kien_nghi[c], settled[c]
    return out


def tinh_values() -> dict:
    v = dict(SEED_FIGURES[4]["tinh"])
    v.update(tcd_bt_tinh_2019=10, tcd_bt_tinh_2020=9, dt_dan_tinh=SEED_FIGURES[3]["dt_dan"]["tinh"])
    return v


def khoi_values() -> dict:
    v = {"dnnn_so": KHOI_DNNN, "dnnn_co_bcd": KHOI_DNNN, "dn_thoa_uoc": KHOI_THOA_UOC}
    for i, y in enumerate(YEARS):
        v[f"hnnld_phai_{y}"], v[f"hnnld_da_{y}"] = KHOI_HNNLD["phai"][i], KHOI_HNNLD["da"][i]
        v[f"hnnld_phai_nn_{y}"] = v[f"hnnld_da_nn_{y}"] = KHOI_HNNLD["nn"][i]  # R19: 100 %
        v[f"dtnlv_da_{y}"] = KHOI_HNNLD["dtnlv"][i]
    return v


def common_values(unit, rng) -> dict:
    return {"nguoi_lap": base.person(rng), "dien_thoai": phone(rng),
            "ngay_lap": base.day(rng, dt.date(2021, 6, 1), dt.date(2021, 7, 15))}


def phone(rng) -> str:
    if rng.random() < 0.6:
        return f"0252 {rng.randint(3810, 3899)} {rng.randint(100, 999)}"  # Bình Thuận's area code
    return f"09{rng.randint(12, 89)} {rng.randint(100, 999)} {rng.randint(100, 999)}"


# ---------------------------------------------------------------- tables


def doc(kind, number, date, issuer, text, trien_khai="Có", note=None) -> dict:
    return {"loai_van_ban": kind, "so_ky_hieu": number, "ngay_ban_hanh": date,
            "co_quan_ban_hanh": issuer, "trich_yeu": text, "trien_khai": trien_khai, "ghi_chu": note}


KL120 = "Kết luận số 120-KL/TW của Bộ Chính trị và Chỉ thị số 14-CT/TU của Ban Thường vụ Tỉnh ủy"
PARTY_SUFFIX = {"HU_": "HU", "TXU_": "TXU", "TPU_": "TPU", "DU_CONGAN": "ĐUCA", "DU_QUANSU": "ĐUQS",
                "DU_BIENPHONG": "ĐUBP", "DU_KHOI": "ĐUK"}
MTTQ_SUFFIX = {"UBMTTQ": "/KH-MTTQ-BTT", "LDLD": "/KH-LĐLĐ", "HLHPN": "/KH-HPN", "TINHDOAN": "-KH/TĐTN",
               "HND": "-KH/HNDT", "HCCB": "/KH-CCB"}
PARTY_BODIES = ("VPTU", "BTCTU", "UBKTTU", "BTGTU", "BDVTU", "BNCTU")


def suffix_of(code: str) -> str:
    return next(s for k, s in PARTY_SUFFIX.items() if code.startswith(k))


def documents(unit, rng) -> list[dict]:
    """Phụ lục 1: every unit's document(s) implementing KL 120 / CT 14 (R1), plus others."""
    code, t = unit.ma_don_vi, unit.loai_hinh
    when = base.day(rng, dt.date(2016, 8, 5), dt.date(2016, 12, 20))
    if t == "TINH":
        return tinh_documents()
    if t in ("HUYEN", "DANG_UY", "KHOI"):
        p = suffix_of(code)
        if code in CHI_THI:
            rows = [doc("Chỉ thị", f"{rng.randint(5, 12):02d}-CT/{p}", when, "Cấp ủy",
                        f"Chỉ thị về tăng cường lãnh đạo thực hiện quy chế dân chủ ở cơ sở, thực hiện {KL120}")]
        else:
            rows = [doc("Kế hoạch", f"{rng.randint(20, 80):02d}-KH/{p}", when, "Cấp ủy",
                        f"Kế hoạch triển khai thực hiện {KL120}")]
        if rng.random() < 0.5:
            rows.append(doc("Công văn", f"{rng.randint(100, 900)}-CV/{p}", base.day(rng, dt.date(2017, 1, 5), dt.date(2020, 10, 30)),
                            "Cấp ủy", "Về tăng cường công tác tiếp công dân, đối thoại với nhân dân"))
        rows.append(doc("Quyết định", f"{rng.randint(100, 999)}-QĐ/{p}", base.day(rng, dt.date(2016, 3, 1), dt.date(2016, 12, 30)),
                        "Cấp ủy", "Quyết định kiện toàn Ban Chỉ đạo thực hiện quy chế dân chủ ở cơ sở", "Không"))
        return rows
    if t == "MTTQ_DT":
        return [doc("Kế hoạch", f"{rng.randint(10, 99)}{MTTQ_SUFFIX[code]}", when, "Mặt trận, đoàn thể",
                    f"Kế hoạch thực hiện {KL120} trong hệ thống")]
    # SO_NGANH: party bodies write "-KH/<code>", state bodies "/KH-<code>".
    number = f"{rng.randint(10, 99)}-KH/{code}" if code in PARTY_BODIES else f"{rng.randint(100, 3999)}/KH-{code}"
    rows = [doc("Kế hoạch" if rng.random() < 0.7 else "Công văn", number, when,
                "Cấp ủy" if code in PARTY_BODIES else "Thủ trưởng cơ quan, đơn vị",
                f"Triển khai thực hiện {KL120} tại cơ quan, đơn vị")]
    if rng.random() < 0.6:
        rows.append(doc("Quy chế", f"{rng.randint(10, 400)}/QĐ-{code}", base.day(rng, dt.date(2016, 2, 1), dt.date(2019, 12, 30)),
                        "Thủ trưởng cơ quan, đơn vị", "Quy chế thực hiện dân chủ trong hoạt động của cơ quan", "Không"))
    return rows


def tinh_documents() -> list[dict]:
    """The province's own texts, as the seed lists them (fn 4, 5; QĐ 223 of 06/5/2021)."""
    d = dt.date
    return [
        doc("Chỉ thị", "14-CT/TU", d(2016, 7, 27), "Cấp ủy", "Chỉ thị về tăng cường lãnh đạo việc thực hiện quy chế dân chủ ở cơ sở trên địa bàn tỉnh"),
        doc("Công văn", "3488/UBND-SNV", d(2016, 9, 22), "Chính quyền", "Triển khai thực hiện Chỉ thị số 14-CT/TU của Ban Thường vụ Tỉnh ủy"),
        doc("Công văn", "932/UBND-SNV", d(2015, 3, 31), "Chính quyền", "Triển khai thực hiện Nghị định số 04/2015/NĐ-CP của Chính phủ", "Không"),
        doc("Công văn", "2044/UBND-SNV", d(2016, 6, 14), "Chính quyền", "Triển khai thực hiện Kế hoạch số 1601/KH-BNV của Bộ Nội vụ", "Không"),
        doc("Quy chế", "3262/QC-UBND-MT&ĐT", d(2016, 11, 3), "Chính quyền", "Quy chế phối hợp với Mặt trận Tổ quốc Việt Nam và các đoàn thể chính trị - xã hội tỉnh"),
        doc("Công văn", "525-CV/TU", d(2016, 12, 23), "Cấp ủy", "Về tiếp tục đổi mới nội dung, phương thức hoạt động gần dân, sát cơ sở"),
        doc("Kế hoạch", "56-KH/TU", d(2017, 4, 25), "Cấp ủy", "Giám sát việc lãnh đạo, chỉ đạo công tác tiếp công dân và giải quyết khiếu nại, tố cáo"),
        doc("Công văn", "714-CV/TU", d(2017, 5, 3), "Cấp ủy", "Về việc chấn chỉnh đạo đức, tác phong, ý thức tổ chức kỷ luật của đội ngũ cán bộ, đảng viên"),
        doc("Kế hoạch", "3269/KH-UBND", d(2017, 8, 25), "Chính quyền", "Thực hiện dân chủ trong hoạt động cơ quan hành chính, đơn vị sự nghiệp trên địa bàn tỉnh"),
        doc("Kết luận", "376-KL/TU", d(2017, 8, 26), "Cấp ủy", "Các giải pháp hoàn thiện, nâng cao năng lực cạnh tranh, đẩy mạnh cải cách hành chính", "Không"),
        doc("Quyết định", "833-QĐ/TU", d(2017, 12, 6), "Cấp ủy", "Tiêu chí đánh giá, xếp loại cán bộ, công chức, viên chức lãnh đạo, quản lý (có kết quả thực hiện QCDC)"),
        doc("Công văn", "1231-CV/TU", d(2018, 7, 6), "Cấp ủy", "Triển khai thực hiện Quy định số 124-QĐ/TW của Ban Bí thư về giám sát của Mặt trận, đoàn thể và nhân dân"),
        doc("Hướng dẫn", "03-HD/TU", d(2018, 7, 17), "Cấp ủy", "Thực hiện Quyết định số 99-QĐ/TW của Ban Bí thư về phát huy vai trò của nhân dân"),
        doc("Hướng dẫn", "01-HD/BCĐ", d(2018, 9, 17), "Ban Chỉ đạo QCDC", "Chấm điểm, xếp loại hoạt động của Ban Chỉ đạo thực hiện quy chế dân chủ cơ sở các huyện, thị, thành ủy, đảng ủy trực thuộc"),
        doc("Kế hoạch", "4954/KH-UBND", d(2018, 11, 19), "Chính quyền", "Xây dựng, thực hiện hương ước, quy ước trên địa bàn tỉnh Bình Thuận"),
        doc("Chỉ thị", "42-CT/TU", d(2019, 7, 5), "Cấp ủy", "Nâng cao hiệu quả quản trị và hành chính công (PAPI) trên địa bàn tỉnh Bình Thuận", "Không"),
        doc("Kế hoạch", "3246/KH-UBND", d(2019, 8, 29), "Chính quyền", "Triển khai thực hiện Chỉ thị số 42-CT/TU của Ban Thường vụ Tỉnh ủy", "Không"),
        doc("Công văn", "1697-CV/TU", d(2020, 4, 7), "Cấp ủy", "Về nâng cao chất lượng hoạt động đối thoại giữa người đứng đầu cấp ủy, chính quyền với nhân dân"),
        doc("Công văn", "1812-CV/TU", d(2020, 8, 4), "Cấp ủy", "Về tăng cường công tác tiếp công dân, giải quyết đơn thư khiếu nại, tố cáo"),
        doc("Quyết định", "223-QĐ/TU", d(2021, 5, 6), "Cấp ủy", "Kiểm tra việc thực hiện Chỉ thị số 14-CT/TU tại 04 địa phương và 04 đồng chí đứng đầu cấp ủy"),
    ]


def model(name, field_, year, prize, spread_=True, note=None) -> dict:
    return {"ten_mo_hinh": name, "linh_vuc": field_, "nam": year, "cap_khen": prize,
            "nhan_rong": "Có" if spread_ else "Không", "ghi_chu": note}


# R21: the models the seed says the Chủ tịch UBND tỉnh commended and spread, and fn 9's others.
MODELS = {
    "SNV": [model("Cán bộ, công chức xin lỗi dân khi trễ hẹn", "Cải cách hành chính", 2017, "Chủ tịch UBND tỉnh")],
    "TTHCC": [model("Nhân dân chấm điểm công chức một cửa", "Cải cách hành chính", 2018, "Chủ tịch UBND tỉnh")],
    "UBMTTQ": [model("Ban Thanh tra nhân dân, Ban Giám sát đầu tư cộng đồng hoạt động hiệu quả", "Giám sát cộng đồng", 2019, "Chủ tịch UBND tỉnh"),
               model("Nghe dân nói, nói dân nghe, giúp dân hiểu, làm dân tin", "Tiếp dân, đối thoại", 2018, "Cấp huyện", False, "Diễn đàn")],
    "DU_CONGAN": [model("Nhân dân góp ý xây dựng lực lượng Công an", "An ninh, trật tự", 2018, "Chủ tịch UBND tỉnh"),
                  model("Cán bộ, chiến sĩ vi phạm, lỗi hẹn với dân thì lãnh đạo, chỉ huy phải xin lỗi dân", "An ninh, trật tự", 2019, "Chủ tịch UBND tỉnh")],
    "HU_HTBAC": [model("Chính quyền thân thiện", "Cải cách hành chính", 2019, "Cấp huyện")],
    "STTTT": [model("Chính quyền điện tử", "Cải cách hành chính", 2020, "Cơ sở", False)],
    "SYT": [model("Đối thoại về chính sách chăm sóc sức khỏe Nhân dân", "Tiếp dân, đối thoại", 2019, "Cơ sở", False)],
    "HND": [model("Chung sức, chung lòng xây dựng nông thôn mới", "Nông thôn mới, đô thị văn minh", 2017, "Cấp huyện")],
    "HCCB": [model("Cựu chiến binh tham gia giáo dục, cảm hóa người lầm lỗi tái hòa nhập cộng đồng", "An ninh, trật tự", 2018, "Trung ương")],
    "HLHPN": [model("Chống rác thải nhựa", "Văn hóa, xã hội", 2020, "Chưa khen thưởng")],
}


def check(text, form, who, year, note=None) -> dict:
    return {"noi_dung": text, "hinh_thuc": form, "chu_the": who, "nam": year, "ghi_chu": note}


# R21 (fn 6–8): the projects the seed names, by who checked or supervised them.
CHECKS = {
    "BCD_TINH": [
        check("Dự án đường Lê Duẩn (đoạn từ đường Trường Chinh đến đường Lê Hồng Phong), thành phố Phan Thiết", "Kiểm tra", "Ban Chỉ đạo QCDC", 2019),
        check("Dự án đường Hùng Vương (đoạn từ vòng xoay Tôn Đức Thắng đến cầu Hùng Vương)", "Kiểm tra", "Ban Chỉ đạo QCDC", 2019),
        check("Dự án đường từ cầu Hùng Vương đến đường ĐT.706B", "Kiểm tra", "Ban Chỉ đạo QCDC", 2020),
        check("Dự án đường Lê Duẩn (đoạn từ đường Lê Hồng Phong đến đường Trần Hưng Đạo)", "Giám sát", "Ban Chỉ đạo QCDC", 2018),
        check("Dự án Khu liên hợp Hồ điều hòa, chỉnh trang đô thị và dịch vụ thương mại thuộc phường Hưng Long, thành phố Phan Thiết", "Giám sát", "Ban Chỉ đạo QCDC", 2019),
        check("Dự án Kè phòng, chống lũ lụt, chủ động ứng phó với biến đổi khí hậu, gắn với cải tạo môi trường sông Cà Ty", "Giám sát", "Ban Chỉ đạo QCDC", 2020),
    ],
    "UBMTTQ": [
        check("Thực hiện QCDC trong dự án đường Lê Duẩn", "Giám sát", "Mặt trận, đoàn thể", 2018),
        check("Thực hiện QCDC trong Dự án Khu liên hợp Hồ điều hòa, chỉnh trang đô thị và dịch vụ thương mại, phường Hưng Long", "Giám sát", "Mặt trận, đoàn thể", 2019),
        check("Thực hiện QCDC trong Dự án Kè phòng, chống lũ lụt, cải tạo môi trường sông Cà Ty (bờ tả đoạn từ cầu Dục Thanh đến cầu Bát Xi)", "Giám sát", "Mặt trận, đoàn thể", 2020),
    ],
    "VPDBQH": [
        check("Thực hiện QCDC trong giải phóng mặt bằng một số dự án đầu tư xây dựng giai đoạn 2016 - 2018", "Giám sát", "HĐND", 2018),
        check("Tình hình thu, sử dụng viện phí trong các cơ sở y tế công lập", "Giám sát", "HĐND", 2017),
        check("Thực hiện pháp luật về bảo vệ môi trường tại Trung tâm nhiệt điện Vĩnh Tân", "Giám sát", "HĐND", 2019),
        check("Một số công trình trọng điểm và công trình chống hạn trên địa bàn tỉnh", "Khảo sát", "HĐND", 2020),
    ],
}
EXPRESSWAY = ("HU_TUYPHONG", "HU_BACBINH", "HU_HTBAC", "HU_HTNAM", "HU_HAMTAN")  # cao tốc Bắc - Nam

# R21, fn 11: the three training courses.
COURSES = [
    {"doi_tuong": "Lớp 01: đại biểu các cơ quan, đơn vị cấp tỉnh và Ban Chỉ đạo cấp huyện", "so_dai_bieu": 192, "nam": 2019},
    {"doi_tuong": "Lớp 02: đại biểu các đơn vị, doanh nghiệp có tổ chức công đoàn", "so_dai_bieu": 119, "nam": 2019},
    {"doi_tuong": "Lớp 03: công chức Mặt trận tỉnh, huyện; Chủ tịch Mặt trận, Trưởng Ban Chỉ đạo và Ban Thanh tra nhân dân cấp xã", "so_dai_bieu": 583, "nam": 2020},
]


def tables_for(unit, rng) -> dict:
    code = unit.ma_don_vi
    checks = list(CHECKS.get(code, []))
    if code in EXPRESSWAY:
        checks.append(check(f"Thực hiện QCDC trong Dự án đường bộ cao tốc Bắc - Nam, đoạn qua {unit.ten_don_vi.split(' ', 2)[-1]}",
                            "Kiểm tra", "Ban Chỉ đạo QCDC", 2020))
    rows = {"tbl_van_ban": documents(unit, rng), "tbl_mo_hinh": list(MODELS.get(code, [])), "tbl_kt_gs": checks}
    if unit.loai_hinh == "TINH":
        rows["tbl_tap_huan"] = list(COURSES)
    return {t: r for t, r in rows.items() if r}


# ---------------------------------------------------------------- the plan


def make_plan(units, rng) -> list:
    designed = {}
    designed.update(district_values(units, rng))
    for c, v in cap_uy_values(units).items():
        designed.setdefault(c, {}).update(v)
    designed.update(so_nganh_values(units, rng))
    designed.update(mttq_values(units))
    for u in units:
        if u.loai_hinh == "TINH":
            designed[u.ma_don_vi] = tinh_values()
        if u.loai_hinh == "KHOI":
            designed[u.ma_don_vi].update(khoi_values())
    plan = []
    for u in units:
        values = common_values(u, rng)
        values.update(designed.get(u.ma_don_vi, {}))
        saved = dt.datetime.combine(values["ngay_lap"], dt.time(rng.randint(8, 16), rng.randint(0, 59)))
        plan.append(base.Return(u, values, tables_for(u, rng), saved_at=saved))
    by_code = {r.unit.ma_don_vi: r for r in plan}
    apply_mistakes(by_code)
    plan.append(older_version(by_code[TWO_VERSIONS]))
    return plan


def apply_mistakes(by_code: dict) -> None:
    """The slips of MISTAKES; each one leaves every headline figure as it was."""
    unit, field_ = TEXT_NUMBER
    by_code[unit].values[field_] = f"{by_code[unit].values[field_]:,}".replace(",", ".")
    sgtvt = by_code["SGTVT"].rows["tbl_van_ban"][0]
    day_ = sgtvt["ngay_ban_hanh"]
    sgtvt["ngay_ban_hanh"] = f"{day_.day}/{day_.month}/{day_.year}"
    by_code["SCT"].values["co_ban_ttnd"] = "x"
    del by_code["HCCB"].values["nguoi_lap"]
    hamtan = by_code["HU_HAMTAN"]
    hamtan.values["ngay_lap"] = dt.date(2020, 6, 15)
    newer = by_code[TWO_VERSIONS]
    newer.folder = RESENT_FOLDER


def older_version(newer):
    """SXD's first return, 6 days before the corrected one: two figures it got wrong."""
    saved = newer.saved_at - dt.timedelta(days=6)
    v = newer.values
    values = dict(v, tthc_cong_khai=v["tthc_cong_khai"] + 40, dvc_qg=v["dvc_3_4"] + 2, ngay_lap=saved.date())
    return base.Return(newer.unit, values, dict(newer.rows), saved_at=saved)


# ---------------------------------------------------------------- the design check


def as_number(value):
    """What the reader makes of a value typed as text with vi-VN thousands dots."""
    if isinstance(value, str) and value.replace(".", "").isdigit():
        return int(value.replace(".", ""))
    return value


def counted(plan) -> list:
    """The returns that count: the newest of each unit (the older SXD return is superseded)."""
    newest = {}
    for r in plan:
        if r.unit.ma_don_vi not in newest or r.saved_at > newest[r.unit.ma_don_vi].saved_at:
            newest[r.unit.ma_don_vi] = r
    return list(newest.values())


def total(plan, field_id, types=None) -> int:
    return sum(as_number(r.values.get(field_id)) or 0 for r in counted(plan)
               if types is None or r.unit.loai_hinh in types)


def pct(num, den) -> float:
    return 100 * num / den


CAP_UY = ("HUYEN", "DANG_UY", "KHOI")


def design_check(plan) -> list[str]:
    """Every figure of SEED_FIGURES recomputed from the plan; the list of those that fail."""
    f, bad = SEED_FIGURES, []

    def want(r, ok, what):
        if not ok:
            bad.append(f"R{r}: {what}")

    rets = counted(plan)
    with_doc = {r.unit.ma_don_vi for r in rets if any(d.get("trien_khai") == "Có" for d in r.rows.get("tbl_van_ban", []))}
    for types, key in ((("SO_NGANH",), "so_nganh"), (CAP_UY, "cap_uy")):
        group = [r for r in rets if r.unit.loai_hinh in types]
        want(1, (sum(r.unit.ma_don_vi in with_doc for r in group), len(group)) == f[1][key], key)
    want(1, all(r.unit.ma_don_vi in with_doc for r in rets if r.unit.loai_hinh == "MTTQ_DT"), "MTTQ_DT")
    chi_thi = {r.unit.ten_don_vi.split(" ", 2)[-1] for r in rets if r.unit.loai_hinh in CAP_UY
               and any(d["loai_van_ban"] == "Chỉ thị" and d["trien_khai"] == "Có" for d in r.rows["tbl_van_ban"])}
    want(1, chi_thi == set(f[1]["chi_thi"]), f"chỉ thị {sorted(chi_thi)}")
    cap_uy = [r for r in rets if r.unit.loai_hinh in CAP_UY]
    want(2, (sum(r.values.get("co_ban_chi_dao") == "Có" for r in cap_uy), len(cap_uy)) == f[2]["co_bcd"], "co_bcd")
    for y in (2018, 2019, 2020):
        got = {}
        for r in rets:
            if r.unit.loai_hinh in CAP_UY:
                got[r.values[f"xl_bcd_{y}"]] = got.get(r.values[f"xl_bcd_{y}"], 0) + 1
        want(2, got == f[2][y], f"xl_bcd {y}: {got}")
    tcd = {lv: total(plan, f"tcd_bt_{lv}_2019") + total(plan, f"tcd_bt_{lv}_2020") for lv in ("tinh", "huyen", "xa")}
    want(3, tcd == f[3]["tcd"] and sum(tcd.values()) == f[3]["tcd_total"], f"tcd {tcd}")
    dt_dan = {lv: total(plan, f"dt_dan_{lv}") for lv in ("tinh", "huyen", "xa")}
    want(3, dt_dan == f[3]["dt_dan"] and sum(dt_dan.values()) == f[3]["dt_dan_total"], f"dt_dan {dt_dan}")
    want(4, all(total(plan, k, ("TINH",)) == n for k, n in f[4]["tinh"].items()), "TINH kt")
    want(4, all(total(plan, k, CAP_UY) == n for k, n in f[4]["cap_uy"].items()), "CAP_UY kt")
    for k in ("gs_cuoc", "pb_hoi_nghi"):
        got = {lv: total(plan, f"{k}_{lv}") for lv in ("tinh", "huyen", "xa")}
        want(5, got == f[5][k], f"{k} {got}")
    want(5, sum(total(plan, f"gs_cuoc_{lv}") for lv in ("tinh", "huyen", "xa")) == f[5]["gs_total"], "gs total")
    kn, gq = total(plan, "gs_kien_nghi"), total(plan, "gs_kien_nghi_gq")
    want(5, kn == f[5]["gs_kien_nghi"] and quoted(pct(gq, kn), f[5]["gq_rate"]), f"kiến nghị {gq}/{kn}")
    dung = {lv: total(plan, f"hs_dung_han_{lv}") for lv in ("tinh", "huyen", "xa")}
    tre = {lv: total(plan, f"hs_tre_han_{lv}") for lv in ("tinh", "huyen", "xa")}
    gq_all = sum(dung.values()) + sum(tre.values())
    want(6, gq_all == f[6]["hs_giai_quyet"] and quoted(pct(sum(dung.values()), gq_all), f[6]["dung_han_rate"]), "hồ sơ")
    for lv in dung:
        want(7, dung[lv] == f[7]["hs_dung_han"][lv] and quoted(pct(dung[lv], dung[lv] + tre[lv]), f[7]["rate"][lv]),
             f"{lv}: {dung[lv]} {pct(dung[lv], dung[lv] + tre[lv]):.3f}")
    want(8, sum(tre.values()) == f[8]["hs_tre_han"] and quoted(pct(sum(tre.values()), gq_all), f[8]["tre_han_rate"]), "trễ hạn")
    for kind in ("xa", "thon"):
        got = tuple(total(plan, f"{kind}_{k}") for k in ("sap_nhap", "sau_sap_nhap", "truoc", "hien_nay"))
        want(9, got == f[9][kind], f"{kind} {got}")
    want(10, quoted(pct(total(plan, "thon_huong_uoc"), total(plan, "thon_hien_nay")), f[10]["huong_uoc_rate"]), "hương ước")
    want(11, (total(plan, "to_hoa_giai"), total(plan, "hoa_giai_vien")) == (698, 4208), "hòa giải")
    letters = [(total(plan, f"{k}_gq", ("HUYEN",)), total(plan, f"{k}_nhan", ("HUYEN",))) for k in ("kn", "tc", "pakn")]
    r12 = pct(sum(g for g, _ in letters), sum(n for _, n in letters))
    want(12, 85 <= r12 < f[12]["near"], f"đơn thư huyện {r12:.2f}")
    so = ("SO_NGANH",)
    cut = total(plan, "sx_phong_truoc", so) - total(plan, "sx_phong_sau", so)
    want(13, (total(plan, "sx_phong_sap_xep", so), cut, total(plan, "sx_dvsn_giam", so)) == (52, 34, 84)
         and quoted(pct(cut, total(plan, "sx_phong_truoc", so)), f[13]["giam_rate"]), f"sắp xếp {cut}")
    tthc = {k: total(plan, k) for k in f[14]["tthc"]}
    want(14, tthc == f[14]["tthc"] and total(plan, "tthc_cong_khai") == f[14]["tthc_cong_khai"], f"tthc {tthc}")
    want(15, (total(plan, "dvc_3_4"), total(plan, "dvc_qg")) == (428, 114), "dvc")
    for kind, (g, n, rate) in f[16].items():
        got = (total(plan, f"{kind}_gq", so), total(plan, f"{kind}_nhan", so))
        want(16, got == (g, n) and quoted(pct(g, n), rate), f"{kind} {got}")
    for y in YEARS:
        want(17, total(plan, f"hnccc_da_{y}") == total(plan, f"hnccc_phai_{y}"), f"hnccc {y}")
    want(17, sum(r.values.get("ttnd_ke_hoach") == "Có" for r in rets) ==
         sum(as_choice(r.values.get("co_ban_ttnd")) == "Có" for r in rets), "ttnd")
    want(18, (total(plan, "ntm_xa_dat"), total(plan, "ntm_so_xa")) == f[18]["ntm"][:2]
         and quoted(pct(65, 93), f[18]["ntm"][2])
         and sum(r.values.get("ntm_huyen_dat") == "Có" for r in rets) == f[18]["huyen_dat"], "ntm")
    phai = sum(total(plan, f"hnnld_phai_{y}") for y in YEARS)
    da = sum(total(plan, f"hnnld_da_{y}") for y in YEARS)
    nn = (sum(total(plan, f"hnnld_da_nn_{y}") for y in YEARS), sum(total(plan, f"hnnld_phai_nn_{y}") for y in YEARS))
    want(19, quoted(pct(da, phai), f[19]["hnnld_rate"]) and quoted(pct(*nn), f[19]["hnnld_nn_rate"]), f"hnnld {da}/{phai}")
    want(19, pct(total(plan, "hnnld_da_2020"), total(plan, "hnnld_phai_2020")) < pct(da, phai), "Covid-19 year not low")
    want(20, total(plan, "dnnn_co_bcd") == total(plan, "dnnn_so") > 0
         and total(plan, "hnnld_phai_2020") > total(plan, "dn_thoa_uoc"), "dnnn")
    courses = [r["so_dai_bieu"] for x in rets for r in x.rows.get("tbl_tap_huan", [])]
    praised = [m for x in rets for m in x.rows.get("tbl_mo_hinh", [])
               if m["cap_khen"] == "Chủ tịch UBND tỉnh" and m["nhan_rong"] == "Có"]
    want(21, tuple(courses) == f[21]["tap_huan"] and len(praised) == f[21]["khen_tinh"], "tập huấn, mô hình")
    return bad


def as_choice(value):
    return "Có" if value in ("Có", "x") else value


# ---------------------------------------------------------------- writing files


def as_lists(form, rows: dict) -> dict:
    """Table rows keyed by column id -> lists in the table's input-column order."""
    return {t: [[r.get(c.id) for c in form.tables[t].input_columns] for r in rs] for t, rs in rows.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Tạo bộ báo cáo mẫu kl120_tk trong samples/kl120_tk/returns/.")
    ap.add_argument("--out", type=Path, default=RETURNS)
    ap.add_argument("--no-libreoffice", action="store_true", help="điền bằng trình tạo mẫu, không qua LibreOffice")
    ap.add_argument("--check-only", action="store_true", help="chỉ kiểm tra thiết kế số liệu (R1–R21), không ghi tệp")
    args = ap.parse_args(argv)
    started = time.monotonic()
    from qcdc_xl.form.spec import load_form
    from qcdc_xl.intake.units import load_units
    form = load_form(FORM)
    units = load_units(UNITS_CSV, form)
    plan = make_plan(units, random.Random(SEED))
    bad = design_check(plan)
    if bad:
        print("Thiết kế số liệu không cho đúng các con số của báo cáo tỉnh:\n  " + "\n  ".join(bad))
        return 1
    print(f"Thiết kế số liệu: {len(plan)} báo cáo của {len(units)} đơn vị cho đúng R1–R21.")
    if args.check_only:
        return 0
    from qcdc_xl.intake import libreoffice
    from qcdc_xl.template.generate import generate_all
    for r in plan:
        r.rows = as_lists(form, r.rows)
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="qcdc_kl120_") as tmp:
        paths, _zip = generate_all(form, units, Path(tmp), generated_at=GENERATED_AT)
        templates = {u.ma_don_vi: p for u, p in zip(units, paths)}
        targets = [base.output_path(r, templates[r.unit.ma_don_vi], args.out) for r in plan]
        use_lo, reason = libreoffice.available()
        if use_lo and not args.no_libreoffice:
            print(f"Điền {len(plan)} báo cáo qua LibreOffice ({reason}) …")
            for t in targets:
                t.parent.mkdir(parents=True, exist_ok=True)
            problems = base.fill_with_libreoffice(plan, templates, targets)
        else:
            print(f"Lưu ý: không dùng LibreOffice ({'--no-libreoffice' if use_lo else reason}); điền bằng trình tạo mẫu.")
            base.fill_with_generator(form, plan, targets)  # (its note is about nq02's samples)
            problems = []
    for ret, target in zip(plan, targets):
        if target.exists():
            base.set_saved_time(target, ret.saved_at)
    extras = base.write_extras(args.out, targets[0])
    written = sum(t.exists() for t in targets)
    print(f"Đã ghi {written} báo cáo + {len(extras)} tệp khác vào {args.out} trong {time.monotonic() - started:.0f} giây.")
    for code, what in MISTAKES.items():
        print(f"  {code}: {what}")
    for p in problems:
        print("  ! " + p)
    return 0 if written == len(targets) and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
