"""The bundled sample units list (``don_vi.csv``): package data of qcdc-xl, installed as
``qcdc_xl.samples`` (setup.cfg maps this folder there), found through :mod:`qcdc_xl.form.bundled`.
Only the units list is installed; the sample returns stay in the checkout."""
