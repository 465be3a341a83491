"""Spec → workbook: where everything goes, the writer, the guide, styles, metadata."""
