"""indented_json (qcdc_xl/output/json_text.py) is json.dumps(…, ensure_ascii=False, indent=2)
to the character, on the report's shapes and on values that are hard to encode."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from qcdc_xl.output.json_text import indented_json

AWKWARD = ["", "chữ có dấu", 'ngoặc "kép" \\ gạch', "dòng\nmới\ttab\x01", "{[,]}: ", "\u2028",
           0, -1, 10 ** 30, 1.5, -0.0, 1e-300, 1e300, float("nan"), float("inf"), float("-inf"),
           True, False, None]

CASES = {
    "scalars": AWKWARD,
    "flat dict": {f"k{i}": v for i, v in enumerate(AWKWARD)},
    "empty": {"a": {}, "b": [], "c": [[], {}], "d": [{}], "e": ()},
    "odd keys": {5: "int", 2.5: "float", True: "bool", None: "none", "": "empty", "k\n": 1},
    "nested": {"units": [{"ma": "X01", "values": {"a": 1, "b": None}, "van_ban": [
        {"so": 1, "ngay": "2024-01-02"}, {"so": 2, "ngay": None}], "mo_hinh": []}],
        "totals": {"all": {"x": {"A": 1, "B": {"2024": 3}}}, "khoi": {}},
        "deep": [[[1, [2, [3, {"z": [4]}]]]]], "tuple": (1, (2, 3))},
    "top scalar": "chỉ một chuỗi",
    "top number": 3.25,
    "top empty": [],
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_text_as_json_dumps(name):
    data = CASES[name]
    assert indented_json(data) == json.dumps(data, ensure_ascii=False, indent=2)


def test_a_report_of_many_units(form):
    from result_builders import many_results, scenario
    from qcdc_xl.report.records import Report
    from qcdc_xl.report.summarise import compute_totals
    results = scenario(form) + many_results(form, 40)
    data = Report(form.id, form.version, "2022-07-01T10:00:00", results,
                  [i for r in results for i in r.issues], compute_totals(form, results)).to_json()
    assert data["units"] and data["issues"] and data["totals"]["khoi"]
    assert indented_json(data) == json.dumps(data, ensure_ascii=False, indent=2)
