"""Which return counts for which unit: newest wins, doubtful files are never attributed."""
import datetime as dt

from qcdc_xl.report.aggregate import attribute
from qcdc_xl.report.issues import issue
from qcdc_xl.report.records import UnitResult
from qcdc_xl.intake.units import Unit

A = Unit("A", "Đảng bộ Sở A", "HCSN")
B = Unit("B", "Công ty B", "DN", attributes=(("loai_dn", "DN 100% vốn Nhà nước"),))
C = Unit("C", "Đảng bộ Sở C", "HCSN")


def result(unit, file, saved=None, mtime=None, issues=()):
    return UnitResult(unit=unit, status="ok", file=file, saved_at=saved, file_mtime=mtime,
                      issues=list(issues))


def statuses(results):
    return [(r.unit.ma_don_vi, r.status, r.file) for r in results]


def test_newest_by_saved_time_then_file_time_wins():
    t = dt.datetime(2022, 6, 1, 8, 0)
    outcomes = [
        (None, result(A, "a_old.xlsx", saved=t, mtime=t + dt.timedelta(days=9))),
        (None, result(A, "a_new.xlsx", saved=t + dt.timedelta(hours=1), mtime=t)),
        (None, result(B, "b1.xlsx", saved=t, mtime=t)),
        (None, result(B, "b2.xlsx", saved=t, mtime=t + dt.timedelta(minutes=1))),
    ]
    results, issues = attribute([A, B, C], outcomes)
    assert statuses(results) == [("A", "ok", "a_new.xlsx"), ("A", "superseded", "a_old.xlsx"),
                                 ("B", "ok", "b2.xlsx"), ("B", "superseded", "b1.xlsx"),
                                 ("C", "missing", None)]
    assert [(i.code, i.ma_don_vi, i.file) for i in issues] == [
        ("duplicate_return", "A", "a_old.xlsx"), ("duplicate_return", "B", "b1.xlsx"),
        ("missing_return", "C", None)]
    assert all(i.severity == "warning" for i in issues)


def test_errors_status_and_doubtful_files_are_not_attributed():
    bad = issue("required_missing", message="x", field="so_dang_vien", cell="C9")
    mismatch = issue("identity_mismatch", message="y", file="copy.xlsx")
    loose = [issue("unreadable_file", message="z", file="broken.xlsx")]
    outcomes = [
        (None, result(A, "a.xlsx", issues=[bad])),
        (None, result(C, "copy.xlsx", issues=[mismatch])),
        (None, loose),
    ]
    results, issues = attribute([A, C], outcomes)
    assert statuses(results) == [("A", "errors", "a.xlsx"), ("C", "missing", None)]
    assert [i.code for i in issues] == ["required_missing", "missing_return", "identity_mismatch",
                                        "unreadable_file"]


def test_units_keep_the_lists_order_and_spelling():
    file_view = Unit("A", "tên trong tệp", "HCSN")
    results, _ = attribute([C, A], [(None, result(file_view, "a.xlsx"))])
    assert [(r.unit.ma_don_vi, r.unit.ten_don_vi) for r in results] == [
        ("C", "Đảng bộ Sở C"), ("A", "Đảng bộ Sở A")]
