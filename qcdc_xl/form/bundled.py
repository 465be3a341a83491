"""Where the data that ships inside the package lives: the form specs and the sample units list.

Both are package data (``qcdc_xl.workbook_templates``, ``qcdc_xl.samples``; setup.cfg maps the
checkout's top-level ``workbook_templates/`` and ``samples/`` there), so they are found the same
way from a wheel, an editable install or a checkout, whatever the current folder."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

FORMS_PACKAGE = "qcdc_xl.workbook_templates"
SAMPLES_PACKAGE = "qcdc_xl.samples"
# The checkout's folders that setup.cfg maps to those packages.
CHECKOUT_ROOT = Path(__file__).resolve().parents[2]
CHECKOUT_FOLDERS = {FORMS_PACKAGE: "workbook_templates", SAMPLES_PACKAGE: "samples"}


def _package_dir(package: str) -> Path:
    # A wheel installs plain files, so the resource is a real path (never a zip member).
    try:
        return Path(str(resources.files(package)))
    except ModuleNotFoundError:
        # Run from a checkout that is not installed (or whose editable install points at another
        # copy, e.g. PYTHONPATH=.): the data packages exist only through setup.cfg's mapping, so
        # use the checkout's own top-level folder.
        return CHECKOUT_ROOT / CHECKOUT_FOLDERS[package]


def forms_dir() -> Path:
    """The folder of the bundled form specs."""
    return _package_dir(FORMS_PACKAGE)


def bundled_form_path(form_id: str) -> Path:
    """The spec file of a bundled form, by id (it may not exist: the loader says so)."""
    return forms_dir() / f"{form_id}.yaml"


def default_units_path(form_id: str) -> Path:
    """The sample units list of a bundled form, used when ``--units`` is not given
    (``samples/<form id>/don_vi.csv``; it may not exist: the units reader says so)."""
    return _package_dir(SAMPLES_PACKAGE) / form_id / "don_vi.csv"
