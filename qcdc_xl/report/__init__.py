"""Checked returns → the report: issue codes, records, attribution, roll-up."""
