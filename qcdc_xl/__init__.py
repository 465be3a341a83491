"""qcdc-xl: Excel-native forms for review campaigns — generate unit templates, aggregate returns."""

from qcdc_xl.output import xlsx_escape as _xlsx_escape

__version__ = "0.1.0"

_xlsx_escape.install()  # "_xa_" in a text must not become a line break in LibreOffice
