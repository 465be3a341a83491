"""Shared fixtures: the real form, two sample units, and their templates made once per session."""
import datetime as dt

import pytest

from qcdc_xl.template.generate import generate_all
from qcdc_xl.form.spec import load_form
from qcdc_xl.intake.units import Unit

GENERATED_AT = dt.datetime(2022, 6, 1, 8, 30, 0)
HCSN_UNIT = Unit("SNV", "Sở Ngoại vụ tỉnh Hà Tĩnh", "HCSN", "Khối cơ quan")
DN_UNIT = Unit("EVN_HT", "Công ty Điện lực Hà Tĩnh", "DN", "Khối doanh nghiệp", attributes=(("loai_dn", "DN 100% vốn Nhà nước"),))


@pytest.fixture(scope="session")
def form():
    return load_form()


@pytest.fixture(scope="session")
def sample_units():
    return {"HCSN": HCSN_UNIT, "DN": DN_UNIT}


@pytest.fixture(scope="session")
def templates(form, sample_units, tmp_path_factory):
    """Empty templates of an HCSN and a DN unit, generated with a fixed time: {loai_hinh: path}."""
    out = tmp_path_factory.mktemp("templates")
    paths, _ = generate_all(form, list(sample_units.values()), out, generated_at=GENERATED_AT)
    return {u.loai_hinh: p for u, p in zip(sample_units.values(), paths)}
