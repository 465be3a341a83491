"""Measure qcdc-xl at a province's scale, side by side with the naive way and the floor.

    python3 benchmarks/scale.py                  # N = 100, 1000, 3000
    python3 benchmarks/scale.py --units 100 1000 # other sizes
    python3 benchmarks/scale.py --keep build/bench  # keep (and reuse) the made returns

For each N, in the same run and on the same files:
- ``qcdc-xl generate`` for N units (wall time, peak RSS);
- ``qcdc-xl aggregate`` end to end: read, check, summary, JSON (wall time, peak RSS);
- a naive baseline: openpyxl ``load_workbook`` of each file, reading every field by defined
  name and every table row (what a simple script would do);
- the floor: a bare python-calamine read of every sheet of each file.
Then the ratios the targets of issue 8 are stated in. Each measured step runs in a fresh
process, so peak RSS is that step's own (the largest process: a worker or the main one).

The returns are realistic: both unit types, Phụ lục 1 and 2 tables filled to varied lengths,
varied figures, and about one in twenty with a mistake (a rule broken, a text in a number
cell, a required cell left empty). Making them (openpyxl, both cores) is not measured.
Speed is measured here, never asserted in tests.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import functools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_KINDS = ("Nghị quyết", "Kế hoạch", "Quy chế", "Quyết định", "Công văn", "Thông báo")
ISSUERS = ("Cấp ủy", "Lãnh đạo cơ quan, đơn vị", "Công đoàn")
MODEL_FIELDS = ("Cải cách hành chính", "Dân vận khéo", "Khác")
MODEL_LEVELS = ("Tỉnh", "Khối, huyện", "Cơ sở")


# ---------------------------------------------------------------- making the returns


def write_units(path: Path, n: int) -> None:
    """A province-sized units list: 7 in 11 HCSN, the rest DN, over ten blocs."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["ma_don_vi", "ten_don_vi", "loai_hinh", "khoi", "loai_dn"])
        for i in range(n):
            khoi = f"Khối {i % 10 + 1}"
            if i % 11 < 7:
                out.writerow([f"H{i:05d}", f"Đảng bộ cơ quan số {i}", "HCSN", khoi, ""])
            else:
                out.writerow([f"D{i:05d}", f"Đảng bộ Công ty số {i}", "DN", khoi,
                              "DN 100% vốn Nhà nước"])


@functools.lru_cache(maxsize=None)
def _complete(loai_hinh: str) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from builders import complete_values
    from qcdc_xl.form.spec import load_form

    return complete_values(load_form(), loai_hinh)


def _figures(rng: random.Random, loai_hinh: str) -> dict:
    """A valid answer scaled by one factor per unit, which keeps every rule between counts."""
    k = rng.randint(1, 9)
    return {key: value * k if type(value) is int and key != "nam_thanh_lap_bcd" else value
            for key, value in _complete(loai_hinh).items()}


def _rows(rng: random.Random) -> dict:
    docs = [[rng.choice(DOC_KINDS), f"{k + 1}-KH/ĐU", dt.datetime(2017, 6, 1) + dt.timedelta(days=rng.randrange(1800)), rng.choice(ISSUERS), f"Về thực hiện quy chế dân chủ, lần {k + 1}", None]
            for k in range(rng.randint(3, 40))]
    models = [[f"Mô hình {k + 1}", rng.choice(MODEL_FIELDS), 2018 + rng.randint(0, 3),
               rng.choice(MODEL_LEVELS), None] for k in range(rng.randint(0, 6))]
    return {"tbl_van_ban": docs, "tbl_mo_hinh": models}


def _mistake(rng: random.Random, values: dict) -> None:
    kind = rng.randrange(3)
    if kind == 0 and "kn_nhan_2019" in values:
        values["kn_gq_2019"] = values["kn_nhan_2019"] + 5  # resolved > received (warning)
    elif kind == 1:
        values["so_dang_vien"] = "bốn mươi"
    else:
        values.pop("so_lao_dong", None)


def _fill_one(job: tuple) -> None:
    template, out, loai_hinh, seed = job
    sys.path.insert(0, str(ROOT / "tests"))
    from fill import fill_with_openpyxl

    warnings.simplefilter("ignore")  # openpyxl's notice about our formula print area
    rng = random.Random(seed)
    values = _figures(rng, loai_hinh)
    if rng.random() < 0.05:
        _mistake(rng, values)
    fill_with_openpyxl(Path(template), Path(out), values, _rows(rng))


def make_returns(work: Path, n: int) -> tuple[Path, Path]:
    """The units list and N filled returns (reused when ``work`` already holds them)."""
    units, returns = work / "don_vi.csv", work / "returns"
    if returns.is_dir() and len(list(returns.glob("*.xlsx"))) == n:
        return units, returns
    shutil.rmtree(returns, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    write_units(units, n)
    templates = work / "templates"
    run_cli(["generate", "--units", str(units), "--out", str(templates)])
    with units.open(encoding="utf-8") as fh:
        kinds = {row["ma_don_vi"]: row["loai_hinh"] for row in csv.DictReader(fh)}
    returns.mkdir(parents=True)
    jobs = [(str(p), str(returns / p.name), kinds[p.name.split("_")[0]], i)
            for i, p in enumerate(sorted(templates.glob("*.xlsx")))]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(_fill_one, jobs, chunksize=16))
    shutil.rmtree(templates)
    return units, returns


# ---------------------------------------------------------------- measuring


def run_cli(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "qcdc_xl", *args], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss_mib": peak, "rc": done.returncode, "err": done.stderr[-500:]}))
"""


def measure(argv: list[str]) -> dict:
    """Wall time and peak RSS (largest process) of one command, run from a fresh process."""
    if os.name == "nt":  # no getrusage: time only
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        return {"wall": time.perf_counter() - start, "rss_mib": float("nan"), "rc": 0}
    out = subprocess.run([sys.executable, "-c", _MEASURE, *argv], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(argv[:4])}…: exit {result['rc']}\n{result['err']}")
    return result


def naive_reader(folder: str) -> None:
    """What a simple script does: openpyxl load_workbook, every name and table row read."""
    import openpyxl

    for path in sorted(Path(folder).glob("*.xlsx")):
        wb = openpyxl.load_workbook(path, data_only=True)
        for dn in wb.defined_names.values():
            for sheet, coord in dn.destinations:
                if sheet in wb.sheetnames:
                    _ = wb[sheet][coord.replace("$", "")]
        for ws in wb.worksheets:
            for table in ws.tables.values():
                for row in ws[table.ref]:
                    _ = [c.value for c in row]


def calamine_floor(folder: str) -> None:
    """The floor: every sheet of every file read by python-calamine, nothing else."""
    from python_calamine import CalamineWorkbook

    for path in sorted(Path(folder).glob("*.xlsx")):
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()


def python_step(function: str, folder: Path) -> list[str]:
    code = f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import scale; scale.{function}({str(folder)!r})"
    return [sys.executable, "-c", code]


def bench(n: int, work: Path) -> dict:
    units, returns = make_returns(work, n)
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    qcdc = [sys.executable, "-m", "qcdc_xl"]
    return {
        "n": n,
        "generate": measure(qcdc + ["generate", "--units", str(units), "--out", str(out / "templates")]),
        "aggregate": measure(qcdc + ["aggregate", str(returns), "--units", str(units),
                                     "-o", str(out / "tong_hop.xlsx"), "--json", str(out / "bao_cao.json")]),
        "naive": measure(python_step("naive_reader", returns)),
        "floor": measure(python_step("calamine_floor", returns)),
    }


def report(row: dict) -> str:
    agg, naive, floor, gen = row["aggregate"], row["naive"], row["floor"], row["generate"]
    return (f"N={row['n']:>5}  generate {gen['wall']:7.2f} s ({gen['rss_mib']:5.0f} MiB)  "
            f"aggregate {agg['wall']:7.2f} s ({agg['rss_mib']:5.0f} MiB)  "
            f"naive openpyxl {naive['wall']:7.2f} s  calamine floor {floor['wall']:6.2f} s  "
            f"| naive/aggregate {naive['wall'] / agg['wall']:5.2f}x  "
            f"aggregate/floor {agg['wall'] / floor['wall']:5.2f}x")


def byte_compile_package() -> None:
    """Compile the package to bytecode first, as pip does when it installs the wheel: where
    PYTHONDONTWRITEBYTECODE is set (as on this machine) every worker of every measured run
    would otherwise compile each module again (≈ 0.1 s a process)."""
    import compileall

    compileall.compile_dir(str(ROOT / "qcdc_xl"), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[100, 1000, 3000])
    parser.add_argument("--keep", type=Path, help="folder to keep the made returns in (reused)")
    args = parser.parse_args()
    byte_compile_package()
    base = args.keep or Path(tempfile.mkdtemp(prefix="qcdc_bench_"))
    rows = []
    try:
        for n in args.units:
            rows.append(bench(n, base / f"n{n}"))
            print(report(rows[-1]), flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = (last["aggregate"]["wall"] / first["aggregate"]["wall"]) / (last["n"] / first["n"])
        print(f"aggregate time per unit, N={last['n']} vs N={first['n']}: {growth:.2f}x (1.00 = linear)")


if __name__ == "__main__":
    main()
