"""The summary: and report: blocks of a spec: a small inline form of its own (other sheets,
another series of years, its own table, a free-text sentence with a footnote) gets exactly the
summary sheets and sentences it declares; a form without the blocks gets useful defaults;
mistakes in the blocks are refused with their line."""
import datetime as dt
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from result_builders import make_result  # noqa: E402

from qcdc_xl.report.records import Report  # noqa: E402
from qcdc_xl.output.sentences import report_entries  # noqa: E402
from qcdc_xl.form.spec import SpecError, load_form_text  # noqa: E402
from qcdc_xl.report.summarise import compute_totals  # noqa: E402
from qcdc_xl.output.summary import sheet_names, write_summary  # noqa: E402
from qcdc_xl.intake.units import Unit  # noqa: E402

FORM = textwrap.dedent("""\
    form:
      id: thu_nghiem
      version: "1"
      name: Tổng kết công tác tuyên truyền
      issuer: Ban Tuyên giáo tỉnh
      years: {from: 2019, to: 2023}
      reporting_window: {from: 2024-01-01, to: 2024-12-31}
      period_label: "2019-2023"
    unit_types:
      HOI:
        label: Hội cấp tỉnh
        subject: hội cấp tỉnh
        attributes:
          vung: {label: Vùng, options: vung}
      CHI_HOI: {label: Chi hội doanh nghiệp, title: CÁC CHI HỘI, subject: chi hội}
      BAN: Ban vận động
    unit_groups:
      HOI_DOAN: {label: Hội và chi hội, types: [HOI, CHI_HOI], subject: "hội, chi hội"}
    levels: {tinh: Cấp tỉnh, huyen: Cấp huyện}
    option_lists:
      co_khong: [Có, Không]
      hinh_thuc: [Trực tiếp, Trực tuyến]
      vung: [Miền núi, Đồng bằng]
    sheets:
      - id: chung
        name: Chung
        title: THÔNG TIN
        sections:
          - id: dinh_danh
            fields:
              - {id: ma_don_vi, label: Mã, type: text, prefill: ma_don_vi}
              - {id: ten_don_vi, label: Tên, type: text, prefill: ten_don_vi}
              - {id: loai_hinh, label: Loại hình, type: text, prefill: loai_hinh}
          - id: co_ban
            title: I. CƠ BẢN
            fields:
              - {id: so_hoi_vien, label: Số hội viên, type: int, required: true}
              - {id: co_quy_che, label: Có quy chế phối hợp, type: yesno, required: true}
      - id: so_lieu
        name: Số liệu
        title: SỐ LIỆU
        sections:
          - id: tuyen_truyen
            title: 1. Tuyên truyền (theo năm)
            applies: HOI_DOAN
            layout: yearly
            period_total: true
            fields:
              - {id: buoi_kh, label: Số buổi theo kế hoạch, type: int, required: true}
              - {id: buoi_th, label: Số buổi đã tổ chức, type: int, required: true}
              - {id: buoi_tl, label: Tỷ lệ tổ chức, type: rate, num: buoi_th, den: buoi_kh}
          - id: hoi_nghi
            title: 2. Hội nghị theo cấp
            layout: levels
            levels: {tinh: HOI, huyen: CHI_HOI}
            fields:
              - {id: hn_so, label: Số hội nghị, type: int, required: true}
              - {id: hn_nguoi, label: Số người dự, type: int, required: true}
      - id: ds
        name: Danh sách
        title: DANH SÁCH
        sections:
          - id: hoat_dong
            table:
              name: tbl_hoat_dong
              ready_rows: 10
              count_field: {id: so_hoat_dong, label: Số hoạt động}
              columns:
                - {id: tt, header: TT, type: row_number}
                - {id: ten, header: Tên hoạt động, type: text, required: true}
                - {id: hinh_thuc, header: Hình thức, type: list, options: hinh_thuc}
                - {id: ngay, header: Ngày, type: date, min: 2019-01-01, max: 2023-12-31}
    summary:
      columns: [ALL, HOI_DOAN, CHI_HOI, vung]
      titles: {ALL: CẢ TỈNH}
      figures: [{sheet: so_lieu, name: TH tuyên truyền, title: TỔNG HỢP TUYÊN TRUYỀN}]
      general:
        sheet: chung
        name: TH chung
        title: THÔNG TIN CHUNG CÁC HỘI
        attributes: [{attribute: vung, title: Hội cấp tỉnh theo vùng}]
      listings:
        - table: tbl_hoat_dong
          name: Hoạt động
          title: DANH SÁCH HOẠT ĐỘNG
          excel_table: tbl_ds_hoat_dong
          year_of: ngay
          counts: hinh_thuc
          chart: Hoạt động theo hình thức
      charts:
        - {title: Tỷ lệ tổ chức theo năm, kind: line, series: [{name: Tổ chức, field: buoi_tl}]}
    report:
      subjects: {ALL: hội}
      sentences:
        - {topic: Nộp báo cáo, kind: returns}
        - topic: Tuyên truyền
          text: "Giai đoạn {period}, các hội tổ chức {th}/{kh} buổi ({tl}), thấp nhất năm {thap}; theo năm: {theo_nam}. Có {co}/{n} hội có quy chế phối hợp."
          values:
            th: buoi_th_tong
            kh: buoi_kh_tong
            tl: {rate: [buoi_th_tong, buoi_kh_tong]}
            thap: {lowest_year: buoi_tl}
            theo_nam: {series: buoi_th, pad: 2}
            co: {count: co_quy_che, equals: Có}
            n: {answered: co_quy_che}
          footnote: {text: "Các chi hội có quy chế: {units}.", field: co_quy_che, equals: Có, of: CHI_HOI}
        - topic: Hoạt động
          text: "{listed} hội trong danh sách; {truc_tiep}/{listed} hội có hoạt động trực tiếp; {so_hd} hoạt động; còn {chenh} buổi chưa tổ chức; hai năm đầu đạt {tl}; {tren} hội có trên 50 hội viên."
          values:
            listed: {listed: HOI_DOAN}
            truc_tiep: {rows: tbl_hoat_dong, column: hinh_thuc, equals: Trực tiếp, units_only: true}
            so_hd: {rows: tbl_hoat_dong}
            chenh: "buoi_kh_tong - buoi_th_tong"
            tl: {rate: ["buoi_th_2019 + buoi_th_2020", [buoi_kh_2019, buoi_kh_2020]], decimals: 2}
            tren: {count: so_hoi_vien, above: 50}
          footnote: {text: "Hội có hoạt động trực tuyến: {units}.", table: tbl_hoat_dong, column: hinh_thuc, equals: Trực tuyến}
        - {topic: Hội viên, kind: sum, field: so_hoi_vien, label: Tổng số hội viên}
        - {topic: Hội viên, kind: share, field: co_quy_che, of: HOI_DOAN, predicate: có quy chế phối hợp}
        - topic: Hội nghị
          text: "Các hội, chi hội tổ chức {hn} hội nghị ({theo_cap})."
          values:
            hn: [hn_so_tinh, hn_so_huyen]
            theo_cap: {series: hn_so, part: "{label} {value}", pad: 2, join: ", "}
        - {topic: Hoạt động, kind: table_counts, table: tbl_hoat_dong, column: hinh_thuc, text: "Các hội đã tổ chức {n} hoạt động, trong đó: {parts}.", lower: true}
    """)

# Per unit: (code, name, type, vùng, hội viên, quy chế, {year: (kế hoạch, tổ chức)},
# {level: (hội nghị, người dự)}, activities)
UNITS = [
    ("A1", "Hội Nông dân", "HOI", "Miền núi", 120, "Có",
     {2019: (4, 4), 2020: (4, 1), 2021: (5, 5)}, {"tinh": (3, 300)},
     [("Trực tiếp", dt.date(2020, 3, 1)), ("Trực tuyến", dt.date(2021, 5, 2))]),
    ("A2", "Hội Phụ nữ", "HOI", "Đồng bằng", 80, "Không", {2019: (2, 2), 2020: (3, 2)},
     {"tinh": (1, 50)}, [("Trực tiếp", dt.date(2019, 7, 9))]),
    ("B1", "Hội Doanh nhân trẻ", "CHI_HOI", "", 30, "Có", {2022: (6, 3), 2023: (1, 1)},
     {"huyen": (7, 70)}, []),
    ("C1", "Ban vận động", "BAN", "", 10, "Có", {}, {}, []),
]


def _results(form):
    out = []
    for code, name, kind, region, members, rules, years, levels, acts in UNITS:
        values = {"so_hoi_vien": members, "co_quy_che": rules}
        for y in form.years:
            kh, th = years.get(y, (0, 0))
            values.update({f"buoi_kh_{y}": kh, f"buoi_th_{y}": th})
        for level in form.levels:
            meetings, people = levels.get(level, (0, 0))
            values.update({f"hn_so_{level}": meetings, f"hn_nguoi_{level}": people})
        rows = [{"ten": f"Hoạt động {i}", "hinh_thuc": how, "ngay": day}
                for i, (how, day) in enumerate(acts, start=1)]
        unit = Unit(code, name, kind, attributes=(("vung", region),) if region else ())
        out.append(make_result(form, unit, values=values, tables={"tbl_hoat_dong": rows}))
    out.append(make_result(form, Unit("B2", "Hội Cựu chiến binh", "CHI_HOI"), "missing"))
    return out


@pytest.fixture(scope="module")
def form():
    return load_form_text(FORM)


@pytest.fixture(scope="module")
def results(form):
    return _results(form)


@pytest.fixture(scope="module")
def book(form, results, tmp_path_factory):
    report = Report(form.id, form.version, "2024-03-01T09:00:00", results,
                    [i for r in results for i in r.issues], compute_totals(form, results))
    path = write_summary(form, report, tmp_path_factory.mktemp("th") / "tong_hop.xlsx")
    return openpyxl.load_workbook(path, data_only=True)


def _rows(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_declared_sheets_in_order(form, book):
    assert book.sheetnames == ["TH tuyên truyền", "TH chung", "Số liệu báo cáo", "Biểu đồ",
                               "Tình hình nộp", "Kiểm tra", "Chi tiết đơn vị", "Hoạt động"]
    assert sheet_names(form) == book.sheetnames


def test_figures_sheet_has_its_years_levels_and_column_blocks(book):
    rows = _rows(book["TH tuyên truyền"])
    assert any("TỔNG HỢP TUYÊN TRUYỀN" in str(v) for r in rows[:3] for v in r)
    header = next(i for i, r in enumerate(rows) if r[0] == "TT")
    width = 8  # 5 years, 2 levels, the period
    assert [rows[header][2 + i * width] for i in range(5)] == [
        "CẢ TỈNH", "HỘI VÀ CHI HỘI", "CÁC CHI HỘI", "MIỀN NÚI", "ĐỒNG BẰNG"]
    assert rows[header + 1][2:10] == ["2019", "2020", "2021", "2022", "2023", "Cấp tỉnh",
                                      "Cấp huyện", "Cả giai đoạn"]

    def block(label, i):
        row = next(r for r in rows if r[1] == label)
        return row[2 + i * width:2 + (i + 1) * width]

    assert block("Số buổi đã tổ chức", 0) == [6, 3, 5, 3, 1, None, None, 18]
    assert block("Số buổi đã tổ chức", 1) == [6, 3, 5, 3, 1, None, None, 18]  # HOI + CHI_HOI
    assert block("Số buổi đã tổ chức", 2) == [0, 0, 0, 3, 1, None, None, 4]
    assert block("Số buổi đã tổ chức", 3) == [4, 1, 5, 0, 0, None, None, 10]  # vùng: A1
    assert block("Số hội nghị", 0)[5:7] == [4, 7]
    assert block("Số hội nghị", 2)[5:7] == ["—", 7]  # a chi hội has no cấp tỉnh
    assert block("Số hội nghị", 4)[5:7] == [1, "—"]  # Đồng bằng: A2
    rate = next(r for r in rows if r[1] == "Tỷ lệ tổ chức")
    assert rate[3] == pytest.approx(3 / 7) and rate[9] == pytest.approx(18 / 25)


def test_general_sheet_sums_and_shares(book):
    rows = _rows(book["TH chung"])
    header = next(r for r in rows if r[0] == "TT")
    assert [v for v in header[2:] if v] == ["CẢ TỈNH", "HỘI VÀ CHI HỘI", "CÁC CHI HỘI"]
    members = next(r for r in rows if r[1] == "Tổng số hội viên")
    assert members[2:8:2] == [240, 230, 30]
    rules = next(r for r in rows if r[1] == "Có quy chế phối hợp")
    assert rules[2:8] == ["3/4", 0.75, "2/3", pytest.approx(2 / 3), "1/1", 1]
    mountain = next(r for r in rows if r[1] == "Số Miền núi")
    assert mountain[2:8] == ["1/2", 0.5, "1/2", 0.5, "—", "—"]


def test_listing_counts_by_option_and_year(book):
    rows = _rows(book["Hoạt động"])
    direct = next(r for r in rows if r[0] == "Trực tiếp")
    assert direct[3:10] == [1, 1, 0, 0, 0, 2, 2]  # 2019 … 2023, total, units
    listed = [r for r in rows if r[3] in ("HOI", "CHI_HOI") and isinstance(r[0], int)]
    assert [(r[1], r[7]) for r in listed] == [("A1", "Trực tiếp"), ("A1", "Trực tuyến"),
                                               ("A2", "Trực tiếp")]
    assert "tbl_ds_hoat_dong" in openpyxl_tables(book["Hoạt động"])


def openpyxl_tables(ws):
    return set(ws.tables)


def test_sentences_and_footnote(form, results, book):
    entries = report_entries(form, results, compute_totals(form, results))
    texts = [e.text for e in entries]
    assert texts[0] == ("Đã nhận báo cáo của 4/5 đơn vị; 1/5 đơn vị chưa gửi báo cáo, số liệu "
                        "dưới đây chưa gồm các đơn vị này.")
    line = next(e for e in entries if e.topic == "Tuyên truyền")
    assert line.text == ("Giai đoạn 2019-2023, các hội tổ chức 18/25 buổi (72%), thấp nhất năm "
                         "2020; theo năm: năm 2019: 06; năm 2020: 03; năm 2021: 05; năm 2022: 03; "
                         "năm 2023: 01. Có 3/4 hội có quy chế phối hợp.")
    assert line.footnote == "Các chi hội có quy chế: Hội Doanh nhân trẻ."  # of: CHI_HOI
    assert "Tổng số hội viên: 240." in texts
    assert "Có 2/3 hội, chi hội (66,7%) có quy chế phối hợp." in texts
    assert "Các hội, chi hội tổ chức 11 hội nghị (Cấp tỉnh 04, Cấp huyện 07)." in texts
    other = next(e for e in entries if e.topic == "Hoạt động" and "danh sách" in e.text)
    assert other.text == ("4 hội trong danh sách; 2/4 hội có hoạt động trực tiếp; 3 hoạt động; "
                          "còn 7 buổi chưa tổ chức; hai năm đầu đạt 69,23%; 2 hội có trên 50 hội "
                          "viên.")  # 9/13; A1 120 and A2 80 members
    assert other.footnote == "Hội có hoạt động trực tuyến: Hội Nông dân."
    assert "Các hội đã tổ chức 3 hoạt động, trong đó: 2 trực tiếp, 1 trực tuyến." in texts
    sheet = _rows(book["Số liệu báo cáo"])
    row = next(r for r in sheet if r[2] == line.text)
    assert row[1] == "Tuyên truyền" and row[3] == line.footnote


def test_charts_are_drawn(book, tmp_path):
    ws = book["Biểu đồ"]
    assert "«TH tuyên truyền» (nhóm CẢ TỈNH) và «Hoạt động»" in ws["A2"].value


def _without_blocks() -> str:
    return FORM[:FORM.index("summary:")]


def test_defaults_without_blocks(tmp_path):
    form = load_form_text(_without_blocks())
    results = _results(form)
    assert sheet_names(form) == ["Tổng hợp", "Thông tin chung", "Số liệu báo cáo", "Biểu đồ",
                                 "Tình hình nộp", "Kiểm tra", "Chi tiết đơn vị", "DS Danh sách"]
    texts = [e.text for e in report_entries(form, results, compute_totals(form, results))]
    assert "Số hội viên: 240." in texts
    assert "Có 3/4 đơn vị (75%) có quy chế phối hợp." in texts
    report = Report(form.id, form.version, "2024-03-01T09:00:00", results, [],
                    compute_totals(form, results))
    wb = openpyxl.load_workbook(write_summary(form, report, tmp_path / "th.xlsx"), data_only=True)
    header = next(r for r in _rows(wb["Tổng hợp"]) if r[0] == "TT")
    assert [v for v in header[2:] if v][:4] == ["TỔNG SỐ", "HỘI CẤP TỈNH", "CÁC CHI HỘI",
                                                "BAN VẬN ĐỘNG"]


@pytest.mark.parametrize("old,new,words", [
    ("sheet: so_lieu, name: TH", "sheet: so_lieuu, name: TH", "trang 'so_lieuu'"),
    ("CHI_HOI, vung]", "CHI_HOI, vungg]", "'vungg'"),
    ("{attribute: vung, title", "{attribute: vong, title", "'vong'"),
    ("field: buoi_tl}", "field: buoi_tyle}", "'buoi_tyle'"),
    ("counts: hinh_thuc", "counts: hinh_thucc", "cột 'hinh_thucc'"),
    ("{th}/{kh}", "{th}/{khh}", "«{khh}»"),
    ("thap: {lowest_year: buoi_tl}", "thap: {lowest: buoi_tl}", "đúng một trong"),
    ("kind: table_counts", "kind: table_count", "'table_count'"),
    ("\"buoi_kh_tong - buoi_th_tong\"", "\"buoi_kh_tong - buoi_xx\"", "'buoi_xx'"),
    ("units_only: true}", "units_only: true, colour: red}", "'colour'"),
    ("equals: Có}", "equals: Co}", "'Co'"),
    ("text: \"Các chi hội có quy chế: {units}.\"", "text: \"Các chi hội có quy chế.\"",
     "{units}"),
    ("name: TH chung", "name: Chi tiết đơn vị", "bị trùng"),
])
def test_mistakes_are_refused_with_their_line(old, new, words):
    assert old in FORM
    text = FORM.replace(old, new, 1)
    with pytest.raises(SpecError) as err:
        load_form_text(text)
    assert words in str(err.value), str(err.value)
    assert err.value.line is not None
    changed = next(i for i, (a, b) in enumerate(zip(FORM.splitlines(), text.splitlines()), 1)
                   if a != b)
    assert abs(err.value.line - changed) <= 3, (err.value.line, changed)


def test_attribute_columns_on_the_bundled_form(tmp_path):
    """`columns` may name a unit attribute: a block per option (here enterprises by ownership)."""
    from result_builders import scenario
    from qcdc_xl.form.spec import form_path
    text = form_path(None).read_text(encoding="utf-8")
    assert "  columns: [ALL, HCSN, DN, khoi]" in text
    form = load_form_text(text.replace("  columns: [ALL, HCSN, DN, khoi]",
                                       "  columns: [ALL, loai_dn]"))
    results = scenario(form)
    report = Report(form.id, form.version, "2022-07-01T10:00:00", results, [],
                    compute_totals(form, results))
    wb = openpyxl.load_workbook(write_summary(form, report, tmp_path / "th.xlsx"), data_only=True)
    rows = _rows(wb["Tổng hợp"])
    header = next(i for i, r in enumerate(rows) if r[0] == "TT")
    width = len(form.years) + 1
    titles = [rows[header][2 + i * width] for i in range(5)]
    assert titles == ["TỔNG SỐ", "DN 100% VỐN NHÀ NƯỚC", "DN TRÊN 50% VỐN NHÀ NƯỚC",
                      "DN DƯỚI 50% VỐN NHÀ NƯỚC", "DN CỔ PHẦN, DN TƯ NHÂN"]
    last = [2 + i * width + width - 1 for i in range(5)]
    units = next(r for r in rows if r[1] == "Số đơn vị báo cáo được tính")
    assert [units[c] for c in last] == [5, 1, 0, 0, 1]  # D01 from the list, D02 from its return
    received = next(r for r in rows if r[1] == "Khiếu nại — số đơn nhận được")
    y2021 = [2 + i * width + form.years.index(2021) for i in range(5)]
    assert [received[c] for c in y2021] == [7 + 3 + 0 + 10 + 0, 10, 0, 0, 0]
    general = _rows(wb["Thông tin chung"])
    top = next(r for r in general if r[0] == "TT")
    assert [v for v in top[2:] if v] == ["TỔNG SỐ"]  # its shares are rows there, not blocks


def test_general_sheet_of_chosen_fields(tmp_path):
    old = FORM[FORM.index("  general:"):FORM.index("  listings:")]
    text = FORM.replace(old, "  general: {fields: [co_quy_che, buoi_kh_2019], name: TH chung}\n")
    form = load_form_text(text)
    results = _results(form)
    report = Report(form.id, form.version, "2024-03-01T09:00:00", results, [],
                    compute_totals(form, results))
    wb = openpyxl.load_workbook(write_summary(form, report, tmp_path / "th.xlsx"), data_only=True)
    labels = [r[1] for r in _rows(wb["TH chung"])]
    assert "Có quy chế phối hợp" in labels and "Tổng số buổi theo kế hoạch" in labels
    assert "Tổng số hội viên" not in labels and "Số Miền núi" not in labels
    planned = next(r for r in _rows(wb["TH chung"]) if r[1] == "Tổng số buổi theo kế hoạch")
    assert planned[2] == 4 + 2  # 2019: A1 and A2


def test_default_listings_of_two_tables_on_one_sheet_get_their_own_sheets(tmp_path):
    text = _without_blocks() + textwrap.indent(textwrap.dedent("""\
        - id: hoat_dong_khac
          table:
            name: tbl_khac
            ready_rows: 5
            count_field: {id: so_khac, label: Số hoạt động khác}
            columns:
              - {id: ten_khac, header: Tên, type: text}
        """), "      ")
    form = load_form_text(text)
    assert sheet_names(form)[-2:] == ["DS Danh sách", "DS Danh sách (2)"]
    results = _results(form)
    report = Report(form.id, form.version, "2024-03-01T09:00:00", results, [],
                    compute_totals(form, results))
    wb = openpyxl.load_workbook(write_summary(form, report, tmp_path / "th.xlsx"))
    assert wb.sheetnames == sheet_names(form)


def test_defaults_on_the_levels_form_of_test_form_language(tmp_path):
    """The form-language test form (levels, a group, an attribute without a field), with no
    summary or report block: one sentence per levels row, the detail sheet labels each level."""
    from test_form_language import FORM as LEVELS_FORM
    form = load_form_text(LEVELS_FORM[:LEVELS_FORM.index("\nsummary:") + 1])  # no blocks
    units = [Unit("H1", "Huyện ủy Tuy Phong", "HUYEN", attributes=(("vung", "Miền núi"),)),
             Unit("S1", "Sở Nội vụ", "SO"), Unit("T1", "Ban Chỉ đạo tỉnh", "TINH")]
    levels = {"H1": {"hs_dung_huyen": 900, "hs_dung_xa": 2000}, "S1": {"hs_dung_tinh": 532703}}
    results = [make_result(form, u, values=levels.get(u.ma_don_vi, {}),
                           tables={"tbl_vb": [{"loai": "Kế hoạch", "trien_khai": "Có"}]})
               for u in units]
    totals = compute_totals(form, results)
    texts = [e.text for e in report_entries(form, results, totals)]
    assert "Đúng hạn: 535.603 (Cấp tỉnh 532.703, Cấp huyện 900, Cấp xã 2.000)." in texts
    assert "Xã trước: 11." in texts  # HUYEN only: N is the one huyện, so no "(theo … 1/3)"
    report = Report(form.id, form.version, "2021-06-01T08:00:00", results, [], totals)
    wb = openpyxl.load_workbook(write_summary(form, report, tmp_path / "th.xlsx"), data_only=True)
    labels = [c.value for c in list(wb["Chi tiết đơn vị"].iter_rows(min_row=4, max_row=4))[0]]
    assert "Vùng" in labels and "Đúng hạn (cấp tỉnh)" in labels and "Đúng hạn (cấp xã)" in labels
    rows = _rows(wb["Tổng hợp"])
    right = next(r for r in rows if r[1] == "Đúng hạn")
    assert right[2:9] == [None, None, None, 532703, 900, 2000, None]


def _readme_form() -> str:
    """The complete small form of the README section «Viết biểu mẫu cho đợt mới»."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    mark = text.index("summary:                                # bảng tổng hợp")
    start = text.rindex("```yaml", 0, mark) + len("```yaml")
    return text[start:text.index("```", mark)]


def test_the_readme_example_makes_its_summary_and_sentence(tmp_path):
    form = load_form_text(_readme_form())
    units = [Unit("H1", "Huyện ủy Tuy Phong", "HUYEN", attributes=(("vung", "Miền núi"),)),
             Unit("H2", "Thị ủy La Gi", "HUYEN"), Unit("T1", "Ban Chỉ đạo tỉnh", "TINH"),
             Unit("S1", "Sở Nội vụ", "SO")]
    checks = {"H1": (3, 5), "H2": (0, 0), "T1": (12, 41)}  # (tổ, nơi) in 2020
    rows = {"H1": [{"loai": "Chỉ thị", "trien_khai": "Có"}],
            "H2": [{"loai": "Kế hoạch", "trien_khai": "Không"}],
            "T1": [{"loai": "Kế hoạch", "trien_khai": "Có"}]}
    results = [make_result(form, u, values={"to_kt_2020": checks.get(u.ma_don_vi, (0, 0))[0],
                                            "noi_kt_2020": checks.get(u.ma_don_vi, (0, 0))[1]},
                           tables={"tbl_vb": rows.get(u.ma_don_vi, [])}) for u in units]
    totals = compute_totals(form, results)
    entries = report_entries(form, results, totals)
    check = next(e for e in entries if e.topic == "Kiểm tra")
    assert check.text.startswith("Năm 2020, các địa phương đã thành lập 15 tổ kiểm tra, kiểm tra "
                                 "46 nơi"), check.text
    assert "2/4 đơn vị" in check.text  # H1 and T1 have a row «Triển khai» = Có; 4 listed
    assert check.footnote.endswith(": Huyện ủy Tuy Phong, Ban Chỉ đạo tỉnh."), check.footnote
    report = Report(form.id, form.version, "2021-06-01T08:00:00", results, [], totals)
    wb = openpyxl.load_workbook(write_summary(form, report, tmp_path / "th.xlsx"), data_only=True)
    assert wb.sheetnames[0] == "Tổng hợp"
    header = next(r for r in _rows(wb["Tổng hợp"]) if r[0] == "TT")
    assert [v for v in header[2:] if v][:4] == ["TỔNG SỐ", "CẤP HUYỆN", "SỞ, BAN, NGÀNH TỈNH",
                                                "CÁC ĐỊA PHƯƠNG"]


def test_long_footnotes_keep_rows_within_excels_limit(tmp_path):
    """110 units: «Chú thích» lists dozens of names; no row may pass Excel's 409 points."""
    from result_builders import many_results
    from qcdc_xl.form.spec import load_form
    form = load_form()
    results = many_results(form, 110)
    report = Report(form.id, form.version, "2022-07-01T10:00:00", results, [],
                    compute_totals(form, results))
    wb = openpyxl.load_workbook(write_summary(form, report, tmp_path / "th.xlsx"))
    ws = wb["Số liệu báo cáo"]
    notes = [r[3] for r in _rows(ws) if isinstance(r[3], str) and r[3].count(",") > 30]
    assert notes  # the units with a Ban Chỉ đạo, …: long lists
    heights = [d.height for s in wb.worksheets for d in s.row_dimensions.values() if d.height]
    assert max(heights) <= 409


def test_every_mistake_of_the_blocks_is_listed():
    text = FORM.replace("field: buoi_tl}", "field: buoi_tyle}", 1).replace(
        "kind: table_counts", "kind: table_count", 1).replace("{th}/{kh}", "{th}/{khh}", 1)
    with pytest.raises(SpecError) as err:
        load_form_text(text)
    messages = [str(e) for e in err.value.errors]
    assert len(messages) == 3, messages
    assert any("'buoi_tyle'" in m for m in messages) and any("'table_count'" in m for m in messages)
    assert any("«{khh}»" in m for m in messages)
    assert "2 lỗi khác" in str(err.value)


def test_a_rate_may_cut_its_last_digit_as_a_report_does():
    from qcdc_xl.output.sentences import fmt_pct
    assert (fmt_pct(54, 65, 2), fmt_pct(54, 65, 2, "down")) == ("83,08%", "83,07%")
    assert fmt_pct(89_003, 4_300_214) == "2,1%"  # half-up: 2,07 → 2,1
    assert fmt_pct(1, 8, 0) == "13%"  # half-up at an exact half, not to even
    assert fmt_pct(399, 400, 0, "down") == "99%" and fmt_pct(1, 1000, 0, "down") == "1%"  # never 0% or 100% when false
