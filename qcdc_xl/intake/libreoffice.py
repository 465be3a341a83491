"""Drive LibreOffice Calc headless: open workbooks, type values, recalculate, save .xlsx/.pdf.

The project's Python usually cannot ``import uno`` (it lives in the system or LibreOffice's own
Python), so the work is split: this module (any Python, Windows-safe) finds ``soffice`` and a
UNO-capable Python, starts ONE soffice with a throw-away profile, and runs
:mod:`qcdc_xl.intake.lo_worker` under the UNO Python with a JSON job file. soffice is always killed
and the profile removed at the end, also on failure or timeout.

A job (every key but ``open`` optional)::

    {"open": "in.xlsx",
     "set_names": {"so_dang_vien": 83, "ngay_lap": "2022-06-15", "co_cong_doan": "Có",
                   "dien_thoai": "", "ghi_chu": {"text": "2018-05-12"}},
     "set_table_rows": {"tbl_van_ban": [["Kế hoạch", "11-KH/ĐUK", "2019-09-20", …]]},
     "set_cells": [{"sheet": "Phụ lục 1", "cell": "B240", "value": "…"}],
     "unprotect_sheets": ["Phụ lục 1"],  # switch protection off, as a user can (no password)
     "edits": [{"op": "insert_rows", "sheet": "Phụ lục 1", "row": 9, "count": 2}, …],
     "recalc": true, "save_xlsx": "out.xlsx", "save_pdf": "out.pdf",
     "save_as": {"path": "out.xls", "filter": "MS Excel 97"},
     "read_names": ["hnnld_tl_2019"], "read_cells": [{"sheet": "…", "cell": "C5"}],
     "read_modified": true}  # values["modified"]: the document's saved time as loaded (ISO)

``edits`` run after the writes, in order, as a person's own actions: insert_rows / delete_rows
(1-based row), sort (a range by a column offset), rename_sheet, set_cell (see lo_worker).

Values: numbers are written as numbers, ``YYYY-MM-DD`` strings as real dates (serial value,
the cell keeps its date format), other strings as text (so ``"1.234"`` stays text), ``""`` or
``None`` clears. ``{"text": …}`` / ``{"date": …}`` force a kind; ``{"formula": "=5+3"}`` types a
live formula. Table rows list the input
columns in order (formula columns such as ``tt`` are skipped). Writing goes through the model
API, which sheet protection does not block for contents; the protection stays on in the saved
file. Cell formats do obey protection: a date written into a locked cell that has no date
format fails the job unless its sheet is listed in ``unprotect_sheets``.

Result, one per job, in order: ``{"ok": bool, "error": str | None, "values": {name: value}}``
where values are read after recalculation: numbers, text, ISO dates, ``None`` for empty.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

WORKER = Path(__file__).resolve().with_name("lo_worker.py")
_WINDOWS = os.name == "nt"
_STARTUP_SECONDS = 90  # first start with a fresh profile can be slow on a cold machine
_SECONDS_PER_JOB = 20
_MAX_RESTARTS = 2


class LibreOfficeUnavailable(RuntimeError):
    """No soffice or no Python with ``uno`` on this machine (the message says which)."""


# ---------------------------------------------------------------- finding LibreOffice


def _program_dirs() -> list[Path]:
    dirs = [Path("/usr/lib/libreoffice/program"), Path("/opt/libreoffice/program"),
            Path("/Applications/LibreOffice.app/Contents/MacOS")]
    for base in (os.environ.get("ProgramFiles"), os.environ.get("ProgramFiles(x86)"),
                 r"C:\Program Files", r"C:\Program Files (x86)"):
        if base:
            dirs.append(Path(base) / "LibreOffice" / "program")
    dirs += sorted(Path("/opt").glob("libreoffice*/program")) if Path("/opt").is_dir() else []
    return dirs


def find_soffice() -> Path | None:
    """``QCDC_SOFFICE``, then PATH, then the usual install folders."""
    override = os.environ.get("QCDC_SOFFICE")
    if override:
        return Path(override) if Path(override).is_file() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    exe = "soffice.exe" if _WINDOWS else "soffice"
    for d in [Path("/usr/bin")] + _program_dirs():
        if (d / exe).is_file():
            return d / exe
    return None


def _python_candidates(soffice: Path | None) -> list[Path]:
    found = []
    override = os.environ.get("QCDC_UNO_PYTHON")
    if override:
        return [Path(override)]
    if soffice is not None:  # LibreOffice's bundled Python (Windows, macOS, tarball installs)
        real = soffice.resolve().parent
        found += [real / "python.exe", real / "python", real.parent / "Resources" / "python"]
    found += [Path("/usr/bin/python3"), Path("/usr/local/bin/python3")]
    found += [d / ("python.exe" if _WINDOWS else "python") for d in _program_dirs()]
    found.append(Path(sys.executable))
    return found


def _worker_env() -> dict:
    """The environment for the UNO Python: without this Python's PYTHONHOME/PYTHONPATH."""
    env = dict(os.environ)
    if not _WINDOWS:  # LibreOffice's own Windows python.exe relies on its launcher's settings
        for key in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP"):
            env.pop(key, None)
    return env


def _imports_uno(python: Path) -> bool:
    if not python.is_file():
        return False
    try:
        done = subprocess.run([str(python), "-c", "import uno"], env=_worker_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def find_uno_python(soffice: Path | None = None) -> Path | None:
    for python in _python_candidates(soffice):
        if _imports_uno(python):
            return python
    return None


@functools.lru_cache(maxsize=1)
def _probe() -> tuple[Path | None, Path | None, str]:
    soffice = find_soffice()
    if soffice is None:
        return None, None, ("không tìm thấy LibreOffice (soffice); cài LibreOffice Calc hoặc "
                            "đặt biến QCDC_SOFFICE trỏ tới soffice")
    python = find_uno_python(soffice)
    if python is None:
        return soffice, None, ("có LibreOffice (%s) nhưng không có Python nào import được uno; "
                               "cài python3-uno hoặc đặt biến QCDC_UNO_PYTHON" % soffice)
    return soffice, python, "LibreOffice: %s; Python UNO: %s" % (soffice, python)


def available() -> tuple[bool, str]:
    """(True, what was found) or (False, why not, in Vietnamese)."""
    soffice, python, reason = _probe()
    return soffice is not None and python is not None, reason


# ---------------------------------------------------------------- one soffice session


def _kill_tree(proc: subprocess.Popen) -> None:
    """soffice is a launcher that starts soffice.bin: end the whole process group/tree."""
    if proc.poll() is not None:
        return
    try:
        if _WINDOWS:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        else:
            import signal
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: see _start_soffice
    except (OSError, subprocess.SubprocessError):
        proc.kill()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass


def _remove_tree(path: Path) -> None:
    # Windows may hold profile files for a moment after soffice ends.
    for _ in range(10):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.3)


# What the last run_jobs left behind, for tests: [{"profile": Path, "returncode": int | None}].
last_sessions: list[dict] = []


class _Session:
    """One headless soffice with a private profile, listening on a unique pipe."""

    def __init__(self, soffice: Path, python: Path):
        self.soffice, self.python = soffice, python
        self.tmp = Path(tempfile.mkdtemp(prefix="qcdc_lo_"))
        self.pipe = "qcdc_%s" % uuid.uuid4().hex
        self.proc: subprocess.Popen | None = None
        self.worker_killed = False  # then nobody asked soffice to terminate: do not wait for it
        self.stalled = False  # the worker was stopped because one job took too long

    @property
    def uno_url(self) -> str:
        return "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % self.pipe

    def __enter__(self):
        profile = (self.tmp / "profile").resolve()
        args = [str(self.soffice), "-env:UserInstallation=" + profile.as_uri(), "--headless",
                "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck",
                "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % self.pipe]
        kwargs = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if _WINDOWS
                  else {"start_new_session": True})
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, **kwargs)
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            try:  # the worker asked soffice to terminate, unless it was killed itself
                self.proc.wait(timeout=0 if self.worker_killed else 10)
            except subprocess.TimeoutExpired:
                pass
            _kill_tree(self.proc)
        _remove_tree(self.tmp)
        last_sessions.append({"profile": self.tmp, "returncode": self.proc and self.proc.poll()})
        return False

    def run_worker(self, jobs: list[dict], deadline: float,
                   job_timeout: float | None = None) -> tuple[list[dict], str]:
        """Run the worker on ``jobs``; return the result lines it wrote and its stderr tail.

        With ``job_timeout``, the worker is also stopped when one job takes longer than that
        (the first one may also take soffice's start-up time): ``self.stalled`` is then set."""
        results = self.tmp / ("results_%s.jsonl" % uuid.uuid4().hex[:8])
        job_file = self.tmp / "jobs.json"
        job_file.write_text(json.dumps({
            "connect": self.uno_url, "connect_timeout": min(_STARTUP_SECONDS, max(5, deadline - time.monotonic())),
            "results": str(results), "terminate": True, "jobs": jobs,
        }, ensure_ascii=False), encoding="utf-8")
        results.touch()
        err_path = self.tmp / "worker_stderr.txt"
        with open(err_path, "wb") as err:
            worker = subprocess.Popen([str(self.python), str(WORKER), str(job_file)],
                                      env=_worker_env(), stdin=subprocess.DEVNULL,
                                      stdout=err, stderr=err)
            if not self._wait(worker, results, deadline, job_timeout):
                worker.kill()
                worker.wait()
                self.worker_killed = True
        lines = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
        tail = err_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        return lines, tail

    def _wait(self, worker: subprocess.Popen, results: Path, deadline: float,
              job_timeout: float | None) -> bool:
        """Whether the worker ended by itself before the deadline and, with ``job_timeout``,
        without one job (a result line) taking longer than that."""
        if job_timeout is None:
            try:
                worker.wait(timeout=max(1.0, deadline - time.monotonic()))
                return True
            except subprocess.TimeoutExpired:
                return False
        size, progress = 0, time.monotonic()
        allowance = job_timeout + _STARTUP_SECONDS  # the first job waits for soffice to start
        while True:
            try:
                worker.wait(timeout=0.5)
                return True
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            grown = results.stat().st_size if results.exists() else 0
            if grown != size:  # a job finished: the next one has its own time
                size, progress, allowance = grown, now, job_timeout
            if now >= deadline:
                return False
            if now - progress > allowance:
                self.stalled = True
                return False


# ---------------------------------------------------------------- public API


def _prepared(job: dict, index: int) -> dict:
    """Absolute paths (the worker has another working folder); output folders exist."""
    job = dict(job, index=index)
    job["open"] = str(Path(job["open"]).resolve())
    for key in ("save_xlsx", "save_pdf"):
        if job.get(key):
            out = Path(job[key]).resolve()
            out.parent.mkdir(parents=True, exist_ok=True)
            job[key] = str(out)
    if job.get("save_as"):
        out = Path(job["save_as"]["path"]).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        job["save_as"] = dict(job["save_as"], path=str(out))
    return job


def _failed(error: str) -> dict:
    return {"ok": False, "error": error, "values": {}}


def run_jobs(jobs: list[dict], timeout: float | None = None, processes: int = 1,
             job_timeout: float | None = None) -> list[dict]:
    """Run ``jobs``; one result per job, in order.

    One soffice runs them all (restarted if it crashes); ``processes`` > 1 splits the jobs over
    that many soffice instances, each with its own profile. Raises
    :class:`LibreOfficeUnavailable` when LibreOffice or UNO is missing. A job that fails, or
    that the timeout (seconds, for the whole run) cuts off, gets ``ok: False`` with the reason.
    ``job_timeout`` (seconds) also stops a job that alone takes longer: it fails with "time
    limit" in its error and the jobs after it run in a fresh soffice.
    """
    soffice, python, reason = _probe()
    if soffice is None or python is None:
        raise LibreOfficeUnavailable(reason)
    if timeout is None:
        timeout = _STARTUP_SECONDS + _SECONDS_PER_JOB * len(jobs) / max(1, processes)
    deadline = time.monotonic() + timeout
    prepared = [_prepared(job, i) for i, job in enumerate(jobs)]
    last_sessions.clear()
    results: dict[int, dict] = {j["index"]: _failed("file not found: %s" % j["open"])
                                for j in prepared if not Path(j["open"]).is_file()}
    todo = [j for j in prepared if j["index"] not in results]
    chunks = [c for c in (todo[i::max(1, processes)] for i in range(max(1, processes))) if c]
    if len(chunks) == 1:
        _run_chunk(soffice, python, chunks[0], deadline, results, job_timeout)
    elif chunks:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(len(chunks)) as pool:
            list(pool.map(lambda c: _run_chunk(soffice, python, c, deadline, results, job_timeout),
                          chunks))
    for job in prepared:
        if job["index"] not in results:
            results[job["index"]] = _failed("LibreOffice did not finish this job (time limit "
                                            "%.0f s, or it kept stopping)" % timeout)
    return [results[i] for i in range(len(jobs))]


def _run_chunk(soffice: Path, python: Path, jobs: list[dict], deadline: float,
               results: dict, job_timeout: float | None = None) -> None:
    """Jobs in one soffice; after a crash, the rest in a fresh one (a few times at most)."""
    for _attempt in range(_MAX_RESTARTS + 1):
        pending = [j for j in jobs if j["index"] not in results]
        if not pending or time.monotonic() >= deadline:
            return
        with _Session(soffice, python) as session:
            lines, tail = session.run_worker(pending, deadline, job_timeout)
        if session.stalled:
            tail = "time limit of %.0f s for one file passed" % job_timeout
        _collect(lines, tail, pending, results)


def _collect(lines: list[dict], tail: str, pending: list[dict], results: dict) -> None:
    """File the worker's result lines; blame a crash on the job it was working on.

    Jobs left unfinished stay out of ``results``: the caller retries them in a fresh soffice.
    """
    fatal = next((line["fatal"] for line in lines if "fatal" in line), None)
    for line in lines:
        if "index" in line:
            results[line["index"]] = {k: line.get(k) for k in ("ok", "error", "values")}
    unfinished = [j for j in pending if j["index"] not in results]
    if not unfinished or any(line.get("bridge_lost") for line in lines):
        return  # the worker already reported the job during which soffice went away
    if fatal:
        for job in unfinished:
            results[job["index"]] = _failed(fatal)
        return
    # The worker or soffice died silently during this job: fail it, retry the others.
    results[unfinished[0]["index"]] = _failed("LibreOffice stopped while working on this "
                                              "file: " + (tail.strip()[-500:] or "no output"))
