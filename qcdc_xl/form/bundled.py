"""Where the data that ships inside the package lives: the form specs and the sample units list.

Both are package data (``qcdc_xl.workbook_templates``, ``qcdc_xl.samples``; setup.cfg maps the
checkout's top-level ``workbook_templates/`` and ``samples/`` there), so they are found the same
way from a wheel, an editable install or a checkout, whatever the current folder."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

FORMS_PACKAGE = "qcdc_xl.workbook_templates"
SAMPLES_PACKAGE = "qcdc_xl.samples"


def _package_dir(package: str) -> Path:
    # A wheel installs plain files, so the resource is a real path (never a zip member).
    return Path(str(resources.files(package)))


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
