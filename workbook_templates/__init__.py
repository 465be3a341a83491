"""The bundled form specs (``*.yaml``): package data of qcdc-xl, installed as
``qcdc_xl.workbook_templates`` (setup.cfg maps this folder there), found through
:mod:`qcdc_xl.form.bundled`. A spec of one's own is passed by path with ``--form``."""
