"""Reading in worker processes degrades to reading in-process when workers cannot start."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Fed on standard input: `spawn` workers cannot re-import such a main module and die at
# start-up. The run must still read every file (in this process), not call each one crashed.
SCRIPT = """
from pathlib import Path
from qcdc_xl.report import aggregate
from qcdc_xl.form.spec import load_form
from qcdc_xl.intake.units import load_units
root = Path({root!r}) / "samples" / "nq02_sk5"
report = aggregate.build_report(load_form(), load_units(root / "don_vi.csv"), root / "returns")
codes = sorted({{i.code for i in report.issues}})
print("files", report.files_read, "pool", report.files_read >= aggregate.POOL_THRESHOLD)
print("codes", codes)
"""


def test_workers_that_cannot_start_do_not_turn_files_into_crashes():
    proc = subprocess.run([sys.executable, "-"], input=SCRIPT.format(root=str(ROOT)), text=True,
                          capture_output=True, timeout=180, cwd=ROOT)  # ~20 s when right
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "files 109 pool True" in proc.stdout
    assert "unreadable_file" not in proc.stdout  # no file blamed for the machine's trouble
    assert "constraint_violated" in proc.stdout  # the returns were really read and checked


def test_workers_whose_start_up_fails_leave_every_file_to_this_process(tmp_path):
    """The reading pool is itself asked whether its workers start: one whose initializer
    cannot load the form and units answers nothing, and no file is sent to it."""
    from multiprocessing import get_context

    from qcdc_xl.intake.discover import find_returns
    from qcdc_xl.report import aggregate

    files = find_returns(ROOT / "samples" / "nq02_sk5" / "returns")[:3]
    outcomes: dict = {}
    missing = str(tmp_path / "no_such_setup.bin")
    left = aggregate._read_in_pools(missing, files, 2, outcomes, lambda: None, aggregate._work,
                                    get_context("spawn"))
    assert left == files and outcomes == {}


def test_the_workers_setup_file_is_removed_afterwards(tmp_path, monkeypatch):
    import tempfile

    from qcdc_xl.form.spec import load_form
    from qcdc_xl.intake.discover import find_returns
    from qcdc_xl.intake.units import load_units
    from qcdc_xl.report import aggregate

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    root = ROOT / "samples" / "nq02_sk5"
    form = load_form()
    units = {u.ma_don_vi: u for u in load_units(root / "don_vi.csv")}
    files = [f for f in find_returns(root / "returns") if f.readable][:aggregate.POOL_THRESHOLD]
    monkeypatch.setattr(aggregate.os, "cpu_count", lambda: 2)
    made = []
    real_setup = aggregate._worker_setup

    def setup(*args):
        made.append(real_setup(*args))
        return made[-1]
    monkeypatch.setattr(aggregate, "_worker_setup", setup)
    outcomes = aggregate.read_all(form, units, files)
    assert len(outcomes) == len(files)
    assert any(not isinstance(o, list) for _f, o in outcomes)  # the files were read
    assert len(made) == 1 and Path(made[0]).parent == tmp_path  # by workers given the file
    assert list(tmp_path.iterdir()) == []
