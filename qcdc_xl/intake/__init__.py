"""Returned files → what they hold: discovery, safety screening, conversion, reading."""
