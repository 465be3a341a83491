"""Which files under a returns folder are read, reported or silently skipped."""
from qcdc_xl.intake.discover import find_returns


def test_finds_spreadsheets_recursively_and_skips_locks_hidden_and_others(tmp_path):
    names = ["a.xlsx", "sub/b.XLSM", "sub/deeper/Sở Nội vụ.xlsx", "~$a.xlsx", ".~lock.a.xlsx#",
             ".hidden.xlsx", ".git/c.xlsx", "notes.docx", "scan.pdf", "old.xls", "calc.ods", "wps.et"]
    for n in names:
        p = tmp_path / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    found = find_returns(tmp_path)
    assert [(f.rel, f.readable) for f in found] == [
        ("a.xlsx", True), ("calc.ods", False), ("old.xls", False),
        ("sub/b.XLSM", True), ("sub/deeper/Sở Nội vụ.xlsx", True), ("wps.et", False)]
