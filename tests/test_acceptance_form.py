"""Issue 7's acceptance check: a form written by someone else from the README section alone
(`tests/forms/cds_sk3.yaml`: three unit types of its own, a group, a levels grid, a yearly grid
with a period total, two tables on two sheets, rules with `when` and a coefficient, `only_if`,
`required_from`, a unit attribute, `summary:` and `report:` blocks) goes through every command as
a staff member would use them: form-check, generate, filling in LibreOffice Calc (11 of 12 units,
seven with a mistake), aggregate (summary, JSON, feedback) and check. Every figure asserted here
was recomputed by hand from the returns below."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import lo_helpers as h
from qcdc_xl.cli import main
from qcdc_xl.form.spec import SpecError, load_form
from qcdc_xl.intake import libreoffice

FORMS = Path(__file__).resolve().parent / "forms"
SPEC, UNITS = FORMS / "cds_sk3.yaml", FORMS / "cds_sk3_don_vi.csv"
YEARS = (2022, 2023, 2024)
D = dt.date


def _grid(files):
    """(received, online, signed) per year -> the yearly cells (an empty signed cell: None)."""
    out = {}
    for year, (received, online, signed) in zip(YEARS, files):
        out.update({f"hs_tiep_nhan_{year}": received, f"hs_truc_tuyen_{year}": online})
        if signed is not None:
            out[f"hs_ky_so_{year}"] = signed
    return out


def _levels(level, computers, old, staff, signing):
    return {f"may_tinh_{level}": computers, f"may_tinh_cu_{level}": old, f"can_bo_{level}": staff,
            f"can_bo_ky_so_{level}": signing}


def _general(board, members, rating, money, **more):
    out = {"nguoi_lap": "Nguyễn Văn An", "dien_thoai": "0912345678", "ngay_lap": D(2025, 2, 15),
           "co_bcd": board, "muc_do_cds": rating, "kinh_phi": money}
    if members is not None:
        out["so_thanh_vien_bcd"] = members
    return {**out, **more}


def _teams(has, teams=None, members=None):
    out = {"co_to_cns": has}
    out.update({k: v for k, v in (("so_to_cns", teams), ("so_thanh_vien_to", members)) if v is not None})
    return out


# unit -> (cells by name, rows of tbl_vb [date, number, kind, summary], rows of tbl_mo_hinh)
RETURNS = {
    "X01": ({**_general("Có", 7, "Khá", 150_000_000), **_teams("Có", 3, 12),
             **_grid([(100, 20, None), (120, 48, 30), (150, 90, 60)]), **_levels("xa", 10, 4, 20, 15)},
            [[D(2022, 3, 10), "01-KH/UBND", "Kế hoạch", "Kế hoạch chuyển đổi số năm 2022"],
             [D(2023, 2, 1), "05-QĐ/UBND", "Quyết định", "Kiện toàn Ban Chỉ đạo"]],
            [["Chợ 4.0 Tân Lập", "Kinh tế số", 2023, 20_000_000, "Có"]]),
    # a phone number not of the pattern (a warning)
    "X02": ({**_general("Có", 5, "Trung bình", 80_000_000, dien_thoai="123"), **_teams("Không"),
             **_grid([(80, 8, None), (90, 27, 10), (100, 50, 40)]), **_levels("xa", 8, 2, 18, 9)},
            [[D(2022, 5, 20), "12-KH/UBND", "Kế hoạch", "Kế hoạch thực hiện Nghị quyết 05"]], []),
    # 75 online files of 70 received in 2023: both numbers leave the totals
    "X03": ({**_general("Không", None, "Yếu", 40_000_000), **_teams("Có", 2, 8),
             **_grid([(60, 6, None), (70, 75, 5), (80, 24, 20)]), **_levels("xa", 6, 3, 15, 5)},
            [[D(2022, 9, 1), "20-KH/UBND", "Kế hoạch", "Kế hoạch chuyển đổi số"]], []),
    # 4 members for 3 teams (rule with a coefficient and `when`: a warning, kept)
    "X04": ({**_general("Có", 9, "Tốt", 300_000_000), **_teams("Có", 3, 4),
             **_grid([(200, 60, 20), (220, 110, 80), (250, 175, 150)]), **_levels("xa", 15, 5, 25, 25)},
            [[D(2022, 1, 15), "02-NQ/ĐU", "Nghị quyết", "Nghị quyết chuyên đề"],
             [D(2022, 2, 10), "03-KH/UBND", "Kế hoạch", "Kế hoạch thực hiện"]],
            [["Thôn thông minh Đông Hưng", "Xã hội số", 2024, 50_000_000, "Không"],
             ["Thanh toán không dùng tiền mặt", "Kinh tế số", 2023, 10_000_000, "Có"]]),
    # 7 old computers of 5 (a levels-grid rule): both numbers leave the totals
    "X05": ({**_general("Có", 6, "Khá", 60_000_000), **_teams("Có", 1, 5),
             **_grid([(50, 10, None), (55, 22, 15), (60, 36, 30)]), **_levels("xa", 5, 7, 12, 6)},
            [[D(2022, 4, 4), "07-KH/UBND", "Kế hoạch", "Kế hoạch chuyển đổi số"]], []),
    # dated before the reporting window (a warning)
    "TT1": ({**_general("Có", 8, "Tốt", 250_000_000, ngay_lap=D(2024, 12, 20)), **_teams("Có", 4, 16),
             **_grid([(300, 150, 100), (320, 224, 200), (350, 280, 300)]), **_levels("xa", 20, 2, 22, 22)},
            [[D(2022, 3, 3), "04-KH/UBND", "Kế hoạch", "Kế hoạch chuyển đổi số"],
             [D(2023, 6, 6), "15-CV/UBND", "Công văn", "Đôn đốc thực hiện"]],
            [["Phố đi bộ số", "Chính quyền số", 2022, 30_000_000, "Có"]]),
    # signed files of 2023 left empty (required from 2023; 2022 may stay empty)
    "TT2": ({**_general("Có", 7, "Khá", 120_000_000), **_teams("Không"),
             **_grid([(150, 45, None), (160, 80, None), (170, 119, 100)]), **_levels("xa", 12, 1, 16, 12)},
            [[D(2022, 6, 6), "09-KH/UBND", "Kế hoạch", "Kế hoạch chuyển đổi số"]], []),
    "P01": ({**_general("Có", 9, "Tốt", 500_000_000),
             **_grid([(40, 20, None), (45, 36, 40), (50, 45, 50)]), **_levels("huyen", 30, 6, 28, 28)},
            [[D(2022, 1, 5), "01-KH/VHTT", "Kế hoạch", "Kế hoạch chuyển đổi số"],
             [D(2022, 8, 8), "02-CV/VHTT", "Công văn", "Hướng dẫn"]],
            [["Bản đồ số di tích", "Chính quyền số", 2023, 100_000_000, "Có"]]),
    # members of a board it has not set up (only_if: an error, the value left out)
    "P02": ({**_general("Không", 5, "Khá", 90_000_000),
             **_grid([(30, 12, None), (35, 21, 20), (40, 32, 35)]), **_levels("huyen", 18, 3, 20, 18)},
            [[D(2022, 2, 2), "03-KH/NV", "Kế hoạch", "Kế hoạch chuyển đổi số"]], []),
    # no plan among its documents (expect_row: a warning)
    "P03": ({**_general("Có", 6, "Trung bình", 200_000_000),
             **_grid([(20, 2, None), (25, 10, 10), (30, 21, 25)]), **_levels("huyen", 22, 10, 30, 24)},
            [[D(2022, 7, 7), "10-QĐ/TCKH", "Quyết định", "Thành lập tổ giúp việc"]],
            [["Phần mềm quản lý ngân sách", "Chính quyền số", 2024, 150_000_000, "Không"]]),
    "P04": ({**_general("Có", 11, "Tốt", 700_000_000),
             **_grid([(500, 400, 300), (550, 495, 500), (600, 570, 600)]), **_levels("huyen", 40, 4, 35, 35)},
            [[D(2022, 1, 1), "01-KH/VP", "Kế hoạch", "Kế hoạch chuyển đổi số"],
             [D(2022, 3, 1), "02-QĐ/VP", "Quyết định", "Quy chế"],
             [D(2023, 3, 1), "03-CV/VP", "Khác", "Thông báo"]],
            [["Một cửa điện tử liên thông", "Chính quyền số", 2022, 200_000_000, "Có"]]),
    # P05 sends nothing
}


def _cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _job(template: Path, out: Path, code: str) -> dict:
    cells, documents, models = RETURNS[code]
    return {"open": str(template), "set_names": {k: h.to_job_value(v) for k, v in cells.items()},
            "set_table_rows": {"tbl_vb": [[h.to_job_value(v) for v in row] for row in documents],
                               "tbl_mo_hinh": models},
            "save_xlsx": str(out / template.name)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    h.require_libreoffice()
    root = tmp_path_factory.mktemp("acceptance")
    checked = _cli("form-check", SPEC)
    generated = _cli("generate", "--form", SPEC, "--units", UNITS, "--out", root / "bieu_mau")
    (root / "gui_ve").mkdir()
    templates = sorted((root / "bieu_mau").glob("*.xlsx"))
    jobs = [_job(t, root / "gui_ve", t.name.split("_")[0]) for t in templates
            if t.name.split("_")[0] in RETURNS]
    results = libreoffice.run_jobs(jobs)
    assert [r["error"] for r in results if not r["ok"]] == []
    aggregated = _cli("aggregate", root / "gui_ve", "--form", SPEC, "--units", UNITS,
                      "-o", root / "tong_hop.xlsx", "--json", root / "bao_cao.json",
                      "--feedback", root / "tra_lai")
    one = _cli("check", next((root / "gui_ve").glob("TT2_*.xlsx")), "--form", SPEC, "--units", UNITS)
    return {"root": root, "checked": checked, "generated": generated, "aggregated": aggregated,
            "check": one, "templates": templates,
            "report": json.loads((root / "bao_cao.json").read_text(encoding="utf-8")),
            "summary": h.load(root / "tong_hop.xlsx", data_only=True)}


def _rows(ws) -> list[list]:
    return [[v for v in row if v is not None] for row in ws.iter_rows(values_only=True)]


def _after(ws, label: str) -> list:
    """The values right of a row's label."""
    row = next(r for r in _rows(ws) if label in r)
    return row[row.index(label) + 1:]


def test_form_check_and_generate(run):
    assert run["checked"].exit_code == 0 and "loại hình: XA, THI_TRAN, PHONG_BAN" in run["checked"].output
    assert run["generated"].exit_code == 0 and len(run["templates"]) == 12
    by_code = {t.name.split("_")[0]: t for t in run["templates"]}
    commune, office = h.load(by_code["X01"]), h.load(by_code["P01"])
    # the levels grid: a commune fills the commune column only, an office the district one
    assert "may_tinh_xa" in commune.defined_names and "may_tinh_huyen" not in commune.defined_names
    assert "may_tinh_huyen" in office.defined_names and "co_to_cns" not in office.defined_names
    assert h.name_cell(commune, "vung").value == "Miền núi"  # the type's attribute, prefilled


def test_totals_recomputed_by_hand(run):
    t = run["report"]["totals"]
    every = t["all"]
    # 2023 leaves out X03's 70/75 (an error-level contradiction takes out both numbers)
    assert [every[f"hs_tiep_nhan_{y}"] for y in (*YEARS, "tong")] == [1530, 1620, 1880, 5030]
    assert [every[f"hs_truc_tuyen_{y}"] for y in (*YEARS, "tong")] == [733, 1073, 1442, 3248]
    assert [every[f"hs_ky_so_{y}"] for y in YEARS] == [420, 910, 1410]  # TT2's empty 2023 cell
    assert (every["may_tinh_huyen"], every["may_tinh_xa"], every["may_tinh_cu_xa"]) == (110, 71, 17)
    assert (every["can_bo_ky_so_xa"], every["can_bo_xa"]) == (94, 128)
    assert (every["co_bcd"], every["so_thanh_vien_bcd"], every["so_to_cns"]) == (9, 68, 13)
    assert every["muc_do_cds"] == {"Tốt": 4, "Khá": 4, "Trung bình": 2, "Yếu": 1}
    assert (every["kinh_phi"], every["so_vb"], every["so_mo_hinh"]) == (2_490_000_000, 17, 7)
    assert (t["CAP_XA"]["so_don_vi"], t["PHONG_BAN"]["so_don_vi"], every["so_don_vi"]) == (7, 4, 11)
    assert "may_tinh_huyen" not in t["CAP_XA"] and "co_to_cns" not in t["PHONG_BAN"]
    mountains = t["vung"]["Miền núi"]  # X01, X03, X05
    assert (mountains["so_don_vi"], mountains["hs_tiep_nhan_2023"], mountains["may_tinh_xa"]) == (3, 175, 16)
    assert t["khoi"]["Cụm 1"]["all"]["may_tinh_xa"] == 38  # X01 10 + X02 8 + TT1 20


def test_summary_sheets_show_the_same_figures(run):
    wb = run["summary"]
    assert _after(wb["Tổng hợp"], "Tổng số hồ sơ tiếp nhận")[:4] == [1530, 1620, 1880, 5030]
    assert _after(wb["Tổng hợp"], "Số máy tính đang dùng")[:2] == [110, 71]
    rate = _after(wb["Tổng hợp"], "Tỷ lệ cán bộ có chữ ký số")[:2]
    assert rate == [pytest.approx(105 / 113), pytest.approx(94 / 128)]
    general = wb["Thông tin chung"]
    assert _after(general, "Đã kiện toàn Ban Chỉ đạo chuyển đổi số")[:2] == ["9/11", pytest.approx(9 / 11)]
    assert _after(general, "Tổng số thành viên Ban Chỉ đạo")[0] == 68
    assert _after(general, "– Miền núi")[0] == "3/5"  # the row label the spec chose
    documents = wb["Danh mục văn bản"]
    assert _after(documents, "Kế hoạch")[:6] == [10, 0, 0, 0, 10, 10]  # 2022…2025, total, units
    models = wb["Mô hình"]
    money = next(c for row in models.iter_rows() for c in row if c.value == 150_000_000)
    assert money.number_format == "#,##0"  # 150.000.000 đồng, not 150000000


def test_sentences_say_the_hand_figures(run):
    ws = run["summary"]["Số liệu báo cáo"]
    lines = {r[2]: (r[3] if len(r) > 3 else "") for r in _rows(ws) if len(r) > 2 and isinstance(r[0], int)}
    expected = [
        "Đã nhận báo cáo của 11/12 đơn vị; 1/12 đơn vị chưa gửi báo cáo, số liệu dưới đây chưa gồm "
        "các đơn vị này.",
        "Có 9/11 đơn vị (81,8%) đã kiện toàn Ban Chỉ đạo chuyển đổi số.",
        "Tổng kinh phí chi cho chuyển đổi số (đồng): 2.490.000.000.",
        "5/7 xã, thị trấn có tổ công nghệ số cộng đồng, với 13 tổ và 45 thành viên.",
        "Tự đánh giá mức độ chuyển đổi số: tốt 36,4%, khá 36,4%, trung bình 18,2%, yếu 9,1% (trên 11 đơn vị).",
        "Năm 2024, 1.442/1.880 hồ sơ (76,7%) nộp trực tuyến.",
        "Giai đoạn 2022-2024, tỷ lệ hồ sơ nộp trực tuyến đạt 64,6%; năm thấp nhất là 2022; năm 2024 có "
        "1.410 hồ sơ được ký số.",
        "Tỷ lệ cán bộ, công chức có chữ ký số: 82,6% (cấp huyện 92,9%, cấp xã 73,4%).",
        "Các đơn vị đã ban hành 17 văn bản lãnh đạo, chỉ đạo về chuyển đổi số, gồm 1 nghị quyết, "
        "10 kế hoạch, 3 quyết định, 2 công văn, 1 văn bản khác.",
        "10 đơn vị đã ban hành kế hoạch chuyển đổi số.",
        "Có 4 đơn vị có mô hình chính quyền số; 2 đơn vị có mô hình kinh tế số, xã hội số.",
        "Toàn huyện có 7 mô hình, sáng kiến, tổng kinh phí 560.000.000 đồng; 5 mô hình đã được nhân rộng.",
    ]
    assert [s for s in expected if s not in lines] == []
    assert lines[expected[1]] == "Các đơn vị chưa kiện toàn Ban Chỉ đạo: UBND xã Phú Thịnh, Phòng Nội vụ."
    assert lines[expected[3]] == ("Các xã, thị trấn có tổ công nghệ số cộng đồng: UBND xã Tân Lập, UBND xã "
                                  "Phú Thịnh, UBND xã Đông Hưng, UBND xã Quảng Ngãi Thượng, UBND thị trấn Phố Mới.")
    assert "Phòng Tài chính - Kế hoạch" not in lines[expected[9]]  # P03 issued no plan


def test_every_mistake_is_found_where_it_is(run):
    found = {(i["ma_don_vi"], i["code"], i["severity"], i["field"], i["cell"]) for i in run["report"]["issues"]}
    assert found == {
        ("X02", "wrong_type", "warning", "dien_thoai", "C12"),
        ("X03", "constraint_violated", "error", "hs_truc_tuyen_2023", "D8"),
        ("X04", "constraint_violated", "warning", "so_thanh_vien_to", "C20"),
        ("X05", "constraint_violated", "error", "may_tinh_cu_xa", "C15"),
        ("TT1", "out_of_range", "warning", "ngay_lap", "C12"),
        ("TT2", "required_missing", "error", "hs_ky_so_2023", "D10"),
        ("P02", "constraint_violated", "error", "so_thanh_vien_bcd", "C16"),
        ("P03", "constraint_violated", "warning", "tbl_vb.loai", None),
        ("P05", "missing_return", "warning", None, None),
    }
    message = {i["ma_don_vi"]: i["message"] for i in run["report"]["issues"]}
    assert "20/12/2024 nằm ngoài khoảng hợp lý (từ 01/01/2025 đến 30/06/2025)" in message["TT1"]
    assert "3 × «Số tổ công nghệ số cộng đồng» (3 × 3 = 9)" in message["X04"]
    assert message["P03"].startswith("Trang «Văn bản», bảng «VĂN BẢN LÃNH ĐẠO, CHỈ ĐẠO»: chưa có dòng")
    tt1 = next(i for i in run["report"]["issues"] if i["ma_don_vi"] == "TT1")
    assert tt1["value"] == "2024-12-20"


def test_feedback_and_check(run):
    copies = sorted(p.name.split("_")[0] for p in (run["root"] / "tra_lai").glob("*.xlsx"))
    assert copies == ["P02", "P03", "TT1", "TT2", "X02", "X03", "X04", "X05"]  # errors or warnings
    copy = h.load(next((run["root"] / "tra_lai").glob("X03_*.xlsx")))
    assert copy.sheetnames[0] == "Cần sửa"
    assert copy["Số liệu"]["D8"].comment is not None and "75" in copy["Số liệu"]["D8"].comment.text
    assert run["check"].exit_code == 0 and "ô D10 (Hồ sơ được ký số năm 2023): chưa điền" in run["check"].output


# ---------------------------------------------------------------- the writer's slips, caught by form-check

TEXT = SPEC.read_text(encoding="utf-8")


def _errors(tmp_path, old: str, new: str) -> list[SpecError]:
    assert old in TEXT
    spec = tmp_path / "dot_moi.yaml"
    spec.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_form(spec)
    return err.value.errors


@pytest.mark.parametrize("old, new, words", [
    # a text with a comma inside {…}: YAML reads the tail as a key
    ('label: "Số cán bộ, công chức"', "label: Số cán bộ, công chức",
     'hãy đặt cả chữ đó trong ngoặc kép: label: "Số cán bộ, công chức"'),
    ("type: text, required: true}", "type: text, requried: true}", "(có phải 'required'?)"),
    ("applies: XA}", "applies: XAA}", "'XAA' không phải loại hình hay nhóm loại hình của biểu mẫu (có phải 'XA'?)"),
    ("check: hs_truc_tuyen <= hs_tiep_nhan,", "check: hs_truc_tuyen <= hs_tiep_nhanx,",
     "không có trường này (có phải 'hs_tiep_nhan'?)"),
    ("levels: {huyen: PHONG_BAN, xa: CAP_XA}", "levels: {huyen: PHONG_BAN, thon: CAP_XA}",
     "cấp 'thon' không có trong 'levels' của biểu mẫu (có: huyen, xa); hãy sửa mã cấp"),
    ("với {to} tổ và {tv} thành viên.", "với {to} tổ và {tvien} thành viên.", "«{tvien}» chưa được định nghĩa"),
    ("required_from: 2023}", "required_from: 2030}", "'required_from: 2030' nằm ngoài các năm của biểu mẫu"),
    ("kind: yearly_rate", "kind: yearly_rates", "(có phải 'yearly_rate'?)"),
    # one broken unit type or group is one mistake, not one per place that names it
    ("types: [XA, THI_TRAN]", "types: [XA, THITRAN]", "'THITRAN' không phải loại hình"),
    ("options: vung, aliases", "options: vungg, aliases", "'vungg' không có trong 'option_lists'"),
    ('label: "– {option}"}', 'label: "Xã"}', "'label' phải có «{option}»"),
])
def test_a_slip_is_one_error_with_its_line_and_fix(tmp_path, old, new, words):
    errors = _errors(tmp_path, old, new)
    assert len(errors) == 1 and words in str(errors[0]), [str(e) for e in errors]
    assert errors[0].line == TEXT[:TEXT.index(old)].count("\n") + 1


def test_date_bounds_follow_the_readme():
    form = load_form(SPEC)
    report_date = form.fields["ngay_lap"]  # no bounds of its own: the reporting window warns
    assert (report_date.min, report_date.warn_min, report_date.warn_max) == (None, D(2025, 1, 1), D(2025, 6, 30))
    issued = form.tables["tbl_vb"].columns[1]  # a document of the period, not of the window
    assert (issued.id, issued.min, issued.max) == ("ngay", D(2022, 1, 1), D(2025, 6, 30))


def test_a_file_name_with_xa_survives_libreoffice(run):
    # "_xa_" (every «xã») is an escaped line break to LibreOffice unless its underscore is escaped
    saved = h.load(next((run["root"] / "gui_ve").glob("X01_*.xlsx")))
    guide = [c.value for row in saved["Hướng dẫn"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any("«X01_ubnd_xa_tan_lap.xlsx»" in text for text in guide)
    summary = h.load(run["root"] / "tong_hop.xlsx")
    files = [c.value for row in summary["Tình hình nộp"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "X01_ubnd_xa_tan_lap.xlsx" in files
