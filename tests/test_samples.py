"""The bundled sample bloc (returns filled through LibreOffice) yields exactly its designed mistakes.

samples/README.md lists the mistakes make_samples.py plants in real-client files; the
aggregator must report each one where it is, and nothing else, and reach the bloc report's
designed figures (13 units with a steering committee, 40/40 enterprises with an agreement).
"""
from pathlib import Path

import pytest

from qcdc_xl.report.aggregate import build_report
from qcdc_xl.form.spec import load_form
from qcdc_xl.intake.units import load_units

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "nq02_sk5"

DESIGNED = {
    ("coerced_text_number", "BVDK", "Thông tin chung", "so_lao_dong"),
    ("coerced_text_date", "SGTVT", "Phụ lục 1", "tbl_van_ban.ngay_ban_hanh"),
    ("coerced_text_choice", "DN007", "Thông tin chung", "co_ban_ttnd"),
    ("constraint_violated", "DN020", "Phụ lục 2", "hnnld_da_2019"),
    ("constraint_violated", "CTHUE", "Phụ lục 2", "kn_gq_2019"),
    ("required_missing", "HNM", "Thông tin chung", "ngay_lap"),
    ("protection_removed", "STP", "Phụ lục 1", None),
    ("data_outside_table", "STP", "Phụ lục 1", None),
    ("duplicate_return", "STNMT", None, None),
    ("missing_return", "HLG", None, None),
    ("missing_return", "LHHN", None, None),
    ("missing_return", "TTDVVL", None, None),
    ("not_a_form", None, None, None),
}


@pytest.fixture(scope="module")
def report():
    return build_report(load_form(), load_units(SAMPLES / "don_vi.csv"), SAMPLES / "returns")


def test_every_designed_mistake_and_nothing_else(report):
    assert {(i.code, i.ma_don_vi, i.sheet, i.field) for i in report.issues} == DESIGNED
    assert len(report.issues) == len(DESIGNED)


def test_statuses_and_designed_figures(report):
    status = {}
    for u in report.units:
        status[u.status] = status.get(u.status, 0) + 1
    assert status == {"ok": 105, "errors": 2, "missing": 3, "superseded": 1}
    newest = next(u for u in report.units if u.unit.ma_don_vi == "STNMT" and u.status == "ok")
    assert newest.file.startswith("Gửi bổ sung/")
    assert report.totals["all"]["so_don_vi"] == 107
    assert report.totals["all"]["co_ban_chi_dao"] == 13
    assert report.totals["DN"]["so_don_vi"] == 40 and report.totals["DN"]["co_thoa_uoc"] == 40
    assert report.files_read == 109  # lock files skipped; the stray non-form counted as read


def test_feedback_on_libreoffice_made_returns_is_valid(report, tmp_path):
    from ooxml import ooxml_findings
    from qcdc_xl.output.feedback import write_feedback
    written = write_feedback(load_form(), report, SAMPLES / "returns", tmp_path)
    copies = sorted(tmp_path.glob("*.xlsx"))
    flagged = {u.unit.ma_don_vi for u in report.units if u.status in ("ok", "errors") and u.issues}
    assert written == len(copies) == len(flagged) == 7
    for copy in copies:
        assert ooxml_findings(copy) == [], copy.name


def test_sentences_say_the_bloc_reports_figures_with_its_footnote(report):
    """The report sentences of the sample bloc: the bloc report's figures (seed 000), and the
    footnote naming the 13 units with a Ban Chỉ đạo as the seed's footnote 3 does."""
    from qcdc_xl.output.sentences import report_entries
    entries = report_entries(load_form(), report.units, report.totals)
    texts = {e.text: e.footnote for e in entries}
    assert ("Toàn Khối có 107 tổ chức cơ sở đảng báo cáo, trong đó 67 tổ chức đảng trong lĩnh "
            "vực hành chính, sự nghiệp và 40 tổ chức đảng trong lĩnh vực doanh nghiệp (16 DN 100% "
            "vốn Nhà nước; 15 DN trên 50% vốn Nhà nước; 1 DN dưới 50% vốn Nhà nước; 8 DN cổ phần, "
            "DN tư nhân).") in texts
    assert "100% (40/40) doanh nghiệp đã ký thỏa ước lao động tập thể." in texts
    bcd = texts["Có 13/107 đơn vị (12,1%) đã thành lập Ban Chỉ đạo thực hiện QCDC ở cơ sở."]
    names = bcd.split(": ", 1)[1].rstrip(".").split(", ")
    assert len(names) == 13
    assert any("Sở Công Thương" in n for n in names) and any("Sở Ngoại vụ" in n for n in names)
    assert {e.topic for e in entries} >= {"Tình hình nộp báo cáo", "Văn bản đã ban hành",
                                          "Giải quyết đơn thư", "Điển hình, mô hình"}
