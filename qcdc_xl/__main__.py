"""`python -m qcdc_xl …` is the same command as `qcdc-xl …` (useful where the scripts folder
is not on PATH, as with a per-user pip install on Windows)."""
from .cli import run

run()
