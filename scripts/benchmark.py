"""Measure generate and aggregate on a synthetic bloc: wall time and peak memory.

    python3 scripts/benchmark.py            # 110 units, as the bloc in the seed report
    python3 scripts/benchmark.py --units 500

Speed is measured here, not asserted in tests: a loaded CI machine must not fail a build.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from qcdc_xl.report.aggregate import build_report  # noqa: E402
from qcdc_xl.template.generate import generate_all  # noqa: E402
from qcdc_xl.form.spec import load_form  # noqa: E402
from qcdc_xl.output.summary import write_summary  # noqa: E402
from qcdc_xl.intake.units import Unit  # noqa: E402


def synthetic_units(n: int) -> list[Unit]:
    units = []
    for i in range(n):
        if i % 11 < 7:
            units.append(Unit(f"H{i:04d}", f"Đảng bộ cơ quan số {i}", "HCSN", khoi="Khối Cơ quan"))
        else:
            units.append(Unit(f"D{i:04d}", f"Công ty số {i}", "DN", khoi="Khối Doanh nghiệp",
                              attributes=(("loai_dn", "DN 100% vốn Nhà nước"),)))
    return units


def filled_values(unit: Unit, years) -> dict:
    values = {"so_dang_vien": 50, "so_lao_dong": 120, "co_cong_doan": "Có", "co_ban_chi_dao": "Không",
              "co_ban_ttnd": "Có", "tu_danh_gia": "Tốt", "nguoi_lap": "Nguyễn Văn A",
              "ngay_lap": dt.datetime(2022, 6, 1)}
    for y in years:
        values.update({f"kn_nhan_{y}": 3, f"kn_gq_{y}": 2, f"dttt_so_cuoc_{y}": 4})
        if unit.loai_hinh == "DN":
            values.update({f"hnnld_phai_{y}": 1, f"hnnld_da_{y}": 1})
        else:
            values.update({f"hnccc_phai_{y}": 1, f"hnccc_da_{y}": 1})
    return values


def peak_rss_mib() -> str:
    try:
        import resource  # POSIX only; the benchmark still runs without it
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        return f"{own:.0f} MiB (tiến trình chính), {kids:.0f} MiB (tiến trình con lớn nhất)"
    except ImportError:
        return "không đo được trên hệ điều hành này"


def timed(label: str, action):
    start = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - start:.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=110)
    args = parser.parse_args()
    from fill import fill_with_openpyxl

    form, units = load_form(), synthetic_units(args.units)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths, _ = timed(f"generate ({len(units)} đơn vị)",
                         lambda: generate_all(form, units, tmp / "templates", make_zip=True))
        returns = tmp / "returns"
        returns.mkdir()
        for unit, path in zip(units, paths):
            fill_with_openpyxl(path, returns / path.name, filled_values(unit, form.years))
        report = timed(f"đọc + kiểm tra ({len(paths)} tệp)",
                       lambda: build_report(form, units, returns))
        timed("ghi bảng tổng hợp", lambda: write_summary(form, report, tmp / "tong_hop.xlsx"))
        print(f"Vấn đề: {len(report.issues)}; bộ nhớ đỉnh: {peak_rss_mib()}")


if __name__ == "__main__":
    main()
