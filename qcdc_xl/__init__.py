"""qcdc-xl: Excel-native forms for review campaigns — generate unit templates, aggregate returns."""

__version__ = "0.1.0"
