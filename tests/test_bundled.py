"""The form specs and the sample units list are package data, found through the package."""
from pathlib import Path

from qcdc_xl.form import bundled
from qcdc_xl.form.spec import form_path, load_form
from qcdc_xl.intake.units import load_units


def test_bundled_form_is_found_by_id_whatever_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing named like a form here
    path = form_path("nq02_sk5")
    assert path == bundled.forms_dir() / "nq02_sk5.yaml"
    assert path.is_file()
    assert load_form("nq02_sk5").id == "nq02_sk5"


def test_a_spec_of_ones_own_is_still_taken_by_path(tmp_path):
    own = tmp_path / "rieng.yaml"
    own.write_bytes(bundled.bundled_form_path("nq02_sk5").read_bytes())
    assert form_path(str(own)) == own
    assert load_form(own).path == own


def test_default_units_list_is_the_bundled_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bundled.default_units_path("nq02_sk5").is_file()
    assert len(load_units()) == len(load_units(bundled.default_units_path("nq02_sk5"))) == 110


def test_package_data_is_declared_for_the_wheel():
    # The checkout layout (top-level folders) maps onto the packages the wheel installs.
    root = Path(__file__).resolve().parent.parent
    cfg = (root / "setup.cfg").read_text(encoding="utf-8")
    assert "qcdc_xl.workbook_templates = workbook_templates" in cfg
    assert "qcdc_xl.samples = samples" in cfg
    assert "qcdc_xl.workbook_templates = *.yaml" in cfg


def test_a_checkout_that_is_not_installed_finds_its_own_folders(monkeypatch):
    # PYTHONPATH=. on a checkout whose editable install is missing or points at another copy:
    # the mapped data packages cannot be imported, so the checkout's folders are used.
    def not_importable(package):
        raise ModuleNotFoundError(package)

    monkeypatch.setattr(bundled.resources, "files", not_importable)
    root = Path(__file__).resolve().parent.parent
    assert bundled.forms_dir() == root / "workbook_templates"
    assert bundled.bundled_form_path("nq02_sk5").is_file()
    assert bundled.default_units_path("nq02_sk5") == root / "samples" / "nq02_sk5" / "don_vi.csv"
