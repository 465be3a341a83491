"""The aggregate flow: find returns → read → check → attribute → summarise → write.

Each file is read and checked on its own (in worker processes when there are many, safe
under the ``spawn`` start method that Windows uses); a file that breaks the reader becomes
an issue and never stops the others. Inputs are only ever opened for reading.
"""
from __future__ import annotations

import atexit
import datetime as dt
import os
import pickle
import sys
import tempfile
import zlib
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context, parent_process
from pathlib import Path
from typing import Callable, Iterable

from qcdc_xl.collector import bulk_work, pace_for_bulk
from qcdc_xl.intake.discover import READABLE, Found, find_returns
from qcdc_xl.output.fileio import atomic_write_text
from qcdc_xl.output.json_text import indented_json
from qcdc_xl.report.issues import REJECTS_ATTRIBUTION, Issue, issue
from qcdc_xl.report.records import (STATUS_ERRORS, STATUS_MISSING, STATUS_OK, STATUS_SUPERSEDED, Report,
                      UnitResult)
from qcdc_xl.form.spec import Form
from qcdc_xl.intake.units import Unit

POOL_THRESHOLD = 8  # below this, starting processes costs more than it saves
FILE_TIMEOUT = 300  # seconds one file may take in a worker (the worst file read takes ~15 s)


class AggregateError(Exception):
    """Something that stopped the summary or report from being written (exit status 1)."""


# ---------------------------------------------------------------- reading one file


def read_and_check(form: Form, units_by_code: dict, found: Found) -> UnitResult | list[Issue]:
    """A checked result, or only file-level issues when the file cannot be used at all."""
    from qcdc_xl.validate.check import check_return
    from qcdc_xl.intake.convert import tables_restored
    from qcdc_xl.intake.read import read_return

    try:
        with tables_restored(form, found) as readable:
            raw = read_return(readable.path, found.rel, form)
        if any(i.code in ("unreadable_file", "encrypted_file") for i in raw.issues):
            return _format_notes(found, None) + list(raw.issues)
        result = check_return(form, raw, units_by_code)
        result.issues = _format_notes(found, result.unit.ma_don_vi or None) + result.issues
        return result
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a reader bug (or a native library's panic, which is no
        # Exception) must not stop the other files
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= 150 else detail[:149] + "…"
        return [issue("unreadable_file", file=found.rel, message=(
            f"Tệp «{found.rel}»: gặp lỗi không mong đợi khi đọc (mã kỹ thuật: {type(exc).__name__}"
            f"{': ' + detail if detail else ''}). Hãy mở tệp bằng Excel, lưu lại rồi gửi lại; nếu "
            f"vẫn lỗi, gửi tệp cho bộ phận kỹ thuật."))]


def _format_notes(found: Found, ma_don_vi: str | None) -> list[Issue]:
    """The warnings about the file's format itself: converted from an old format, macros."""
    from qcdc_xl.intake.convert import converted_warning, macro_warning

    notes = [converted_warning(found, ma_don_vi)] if found.converted_from else []
    macros = macro_warning(found, ma_don_vi)
    return notes + ([macros] if macros else [])


def crashed(found: Found, timed_out: bool = False) -> Issue:
    """The issue for a file whose reading killed or stalled the process reading it."""
    what = (f"việc đọc tệp kéo dài quá {FILE_TIMEOUT} giây nên đã bị dừng" if timed_out else
            "phần mềm tổng hợp bị dừng đột ngột khi đọc tệp (tệp có thể quá lớn hoặc hỏng theo cách "
            "làm thư viện đọc Excel gặp sự cố)")
    return issue("unreadable_file", file=found.rel, message=(
        f"Tệp «{found.rel}»: {what}; các tệp khác vẫn được tổng hợp. Hãy mở tệp bằng Excel, xóa "
        f"các dòng, cột thừa, lưu lại rồi gửi lại; nếu vẫn lỗi, gửi tệp cho bộ phận kỹ thuật."))


def unreadable_format(found: Found) -> Issue:
    return issue("unreadable_file", file=found.rel, message=(
        f"Tệp «{found.rel}» ở định dạng {found.path.suffix.lower()} mà phần mềm tổng hợp không đọc được. "
        f"Hãy mở tệp bằng Excel (hoặc LibreOffice, WPS) và chọn Lưu thành → «Excel Workbook (*.xlsx)», "
        f"rồi gửi lại."))


_WORKER: dict = {}


def _worker_setup(form: Form, units_by_code: dict) -> str:
    """The path of a new private temporary file holding the form and the units (one
    compressed pickle), which each worker loads in its initializer. (A pool's initargs are
    written into each new worker's pipe before the parent goes on: a worker that dies at
    start-up before reading them leaves a write larger than the pipe's buffer blocked for
    ever. A path never fills the buffer, so the pool that reads the files can itself be
    asked whether its workers start (_workers_answer), instead of a pool of its own
    started first, which cost a whole process start, ≈ 0.2–0.4 s.)"""
    data = zlib.compress(pickle.dumps((form, units_by_code), protocol=pickle.HIGHEST_PROTOCOL))
    fd, path = tempfile.mkstemp(prefix="qcdc_setup_", suffix=".bin")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:  # (a stopped worker may still hold it on Windows: the OS cleans up)
        pass


def _init_worker(setup: str) -> None:
    # A reader never meets a numpy value; openpyxl imports numpy, when it is installed, only
    # to count its number types as numbers when writing: ≈ 0.2 s of each worker's start.
    sys.modules.setdefault("numpy", None)  # (None: "import numpy" raises ImportError)
    with open(setup, "rb") as fh:
        _WORKER["form"], _WORKER["units"] = pickle.loads(zlib.decompress(fh.read()))
    pace_for_bulk()  # a worker only reads: see qcdc_xl/collector.py
    if parent_process() is not None:  # (never in a process of its own: it would lose its exit)
        atexit.register(_exit_at_once)


def _exit_at_once() -> None:
    """A reading worker's last step when the pool stops it: leave without freeing, one by
    one, the thousands of objects its memos hold (≈ 0.7 s of CPU a worker, spent while this
    run's summary is being written). Its results are all sent by then, its standard
    streams flushed (multiprocessing does both before exiting); it holds nothing else."""
    os._exit(0)


def _work(found: Found):
    return read_and_check(_WORKER["form"], _WORKER["units"], found)


def read_all(form: Form, units_by_code: dict, files: list[Found],
             on_done: Callable[[], None] = lambda: None, work: Callable = None) -> list[tuple[Found, object]]:
    """Read and check every file, in parallel when it pays; results in the files' order.
    Old formats are first converted, all in one LibreOffice session, into a temporary
    folder that lives until everything is read. (``work`` replaces the worker's function:
    a seam for tests.)"""
    from qcdc_xl.intake.convert import convert_all, prepare, temporary_folder

    planned = [prepare(f) for f in files]
    files = [f for f, _kind in planned]
    to_convert = [(f, kind) for f, kind in planned if kind]
    if not to_convert:
        outcomes = _read_all(form, units_by_code, files, {}, on_done, work)
    else:
        with temporary_folder() as tmp:
            converted, failed = convert_all(form, to_convert, Path(tmp))
            by_rel = {f.rel: f for f in converted}  # read the copies in place of the originals
            outcomes = _read_all(form, units_by_code, [by_rel.get(f.rel, f) for f in files],
                                 failed, on_done, work)
    return [(f, outcomes[f.rel]) for f in files]


def _read_all(form: Form, units_by_code: dict, files: list[Found], outcomes: dict,
              on_done: Callable[[], None], work: Callable | None) -> dict:
    """Every file's outcome by rel; ``outcomes`` holds those already known (rel -> issue)."""
    readable = [f for f in files if f.readable and f.rel not in outcomes]
    outcomes = dict(outcomes)
    outcomes.update({f.rel: [f.problem] if f.problem else [unreadable_format(f)]
                     for f in files if not f.readable and f.rel not in outcomes})
    outcomes = {rel: [o] if isinstance(o, Issue) else o for rel, o in outcomes.items()}
    workers = min(os.cpu_count() or 1, 4)
    if len(readable) >= POOL_THRESHOLD and workers > 1:
        readable = _read_in_pool(form, units_by_code, readable, workers, outcomes, on_done,
                                 work or _work)
    for found in readable:  # few files, or no process can be started here
        outcomes[found.rel] = read_and_check(form, units_by_code, found)
        on_done()
    return outcomes


def _read_in_pool(form: Form, units_by_code: dict, files: list[Found], workers: int,
                  outcomes: dict, on_done: Callable[[], None], work: Callable) -> list[Found]:
    """Read ``files`` in worker processes; returns what is left to read in this process
    (everything, when no process can be started).

    A file that kills its worker (a native library aborting) breaks the whole pool. At most
    2 × workers files are in flight at any time; when the pool breaks, or no file finishes
    within FILE_TIMEOUT, each of those is read again alone in a fresh process, so the
    culprit becomes an ``unreadable_file`` issue and is never read in this process. The
    files not yet started go to a new pool."""
    ctx = get_context("spawn")  # the same start method everywhere, as on Windows
    try:
        setup = _worker_setup(form, units_by_code)
    except OSError:  # no temporary file can be written here: this process reads them all
        return list(files)
    try:
        return _read_in_pools(setup, files, workers, outcomes, on_done, work, ctx)
    finally:
        _remove_quietly(setup)


def _read_in_pools(setup: str, files: list[Found], workers: int, outcomes: dict,
                   on_done: Callable[[], None], work: Callable, ctx) -> list[Found]:
    queue, checked = list(files), False
    while queue:
        in_flight: dict = {}
        try:
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                     initargs=(setup,)) as pool:
                if not checked:
                    if not _workers_answer(pool, workers):
                        return queue
                    checked = True
                while queue or in_flight:
                    while queue and len(in_flight) < 2 * workers:
                        found = queue.pop(0)
                        in_flight[pool.submit(work, found)] = found
                    done, _ = wait(in_flight, timeout=FILE_TIMEOUT, return_when=FIRST_COMPLETED)
                    if not done:
                        _stop(pool)
                        raise BrokenProcessPool("no file finished in time")
                    for future in done:
                        outcome = future.result()  # BrokenProcessPool when a worker died
                        found = in_flight.pop(future)
                        outcomes[found.rel] = outcome
                        on_done()
                # Everything is read: the workers are told to stop, not waited for (the
                # summary is written meanwhile; Python joins them at exit).
                pool.shutdown(wait=False)
        except BrokenProcessPool:
            for found in in_flight.values():
                outcomes[found.rel] = _read_alone(setup, found, ctx, work)
                on_done()
        except OSError:  # processes cannot be started here (sandbox, no semaphores, …)
            return list(in_flight.values()) + queue
    return []


def _workers_answer(pool: ProcessPoolExecutor, workers: int) -> bool:
    """Whether the pool's workers start and run at all here, asked before any file is sent.
    A script fed on standard input or without a ``__main__`` guard, a frozen program or a
    sandbox makes every worker die at start-up: the machine's trouble, not a file's, so
    reading stays in this process instead of blaming each file for a crash. One question per
    worker, so that all of them start at once (the pool starts a worker for a task only
    when none is idle); the first answer is enough."""
    try:
        asked = [pool.submit(abs, -1) for _ in range(workers)]  # a builtin: nothing to import
        done, _ = wait(asked, timeout=120, return_when=FIRST_COMPLETED)
        if not done:
            _stop(pool)
            return False
        return next(iter(done)).result() == 1
    except (BrokenProcessPool, OSError, RuntimeError):
        return False


def _read_alone(setup: str, found: Found, ctx, work: Callable):
    """One file in its own fresh process: its outcome, or the issue saying it crashed."""
    try:
        with ProcessPoolExecutor(1, mp_context=ctx, initializer=_init_worker,
                                 initargs=(setup,)) as pool:
            future = pool.submit(work, found)
            try:
                return future.result(timeout=FILE_TIMEOUT)
            except FuturesTimeout:
                _stop(pool)
                return [crashed(found, timed_out=True)]
    except BrokenProcessPool:
        return [crashed(found)]


def _stop(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's workers (the executor has no public way to stop a running task)."""
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()


# ---------------------------------------------------------------- attributing returns


def _is_attributable(result: UnitResult) -> bool:
    return not any(i.code in REJECTS_ATTRIBUTION and i.severity == "error" for i in result.issues)


def _recency(result: UnitResult):
    floor = dt.datetime.min
    return (_naive(result.saved_at) or floor, _naive(result.file_mtime) or floor, result.file or "")


def _naive(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def attribute(units: list[Unit], outcomes: Iterable,
              form: Form | None = None) -> tuple[list[UnitResult], list[Issue]]:
    """One result per listed unit (newest return wins), plus every issue in report order.

    With ``form``, a unit that sent nothing still lists every field that applies to it (all
    None) and empty tables, so every unit in the report has the same shape.
    """
    by_unit: dict[str, list[UnitResult]] = {}
    loose_issues: list[Issue] = []
    for _found, outcome in outcomes:
        if isinstance(outcome, list):
            loose_issues.extend(outcome)
        elif _is_attributable(outcome):
            by_unit.setdefault(outcome.unit.ma_don_vi, []).append(outcome)
        else:
            loose_issues.extend(outcome.issues)
    results = [_result_for(unit, by_unit.get(unit.ma_don_vi, []), form) for unit in units]
    issues = [i for group in results for r in group for i in r.issues] + loose_issues
    return [r for group in results for r in group], issues


def _result_for(unit: Unit, returns: list[UnitResult], form: Form | None) -> list[UnitResult]:
    if not returns:
        missing = issue("missing_return", ma_don_vi=unit.ma_don_vi, message=(
            f"Đơn vị {unit.ma_don_vi} – {unit.ten_don_vi}: chưa gửi báo cáo (không tìm thấy tệp nào "
            f"của đơn vị trong thư mục). Hãy đề nghị đơn vị gửi biểu mẫu đã điền."))
        empty = {} if form is None else dict(
            values={f.id: None for f in form.fields_for(unit.loai_hinh)},
            tables={t.name: [] for t in form.tables_for(unit.loai_hinh)})
        return [UnitResult(unit=unit, status=STATUS_MISSING, issues=[missing], **empty)]
    newest, *older = sorted(returns, key=_recency, reverse=True)
    newest.unit = unit  # the list's spelling of the unit, not the file's
    newest.status = STATUS_ERRORS if newest.error_count else STATUS_OK
    for old in older:
        old.unit, old.status = unit, STATUS_SUPERSEDED
        old.issues = [issue("duplicate_return", file=old.file, ma_don_vi=unit.ma_don_vi, message=(
            f"Đơn vị {unit.ma_don_vi} – {unit.ten_don_vi} gửi nhiều bản: tệp «{old.file}» lưu trước tệp "
            f"«{newest.file}» nên không được tính. Nếu bản gửi trước mới là bản đúng, hãy xóa bản "
            f"gửi sau khỏi thư mục rồi tổng hợp lại."))]
    # Only the counted return lists its issues; a superseded one is reduced to its notice.
    return [newest, *older]


# ---------------------------------------------------------------- the whole run


def unit_count_issues(form: Form, units: list[Unit]) -> list[Issue]:
    """A warning for each unit type whose number of units in the list is outside what the
    spec says (``min_units``/``max_units``: e.g. exactly one Ban Chỉ đạo tỉnh)."""
    out = []
    for t in form.unit_types.values():
        n = sum(1 for u in units if u.loai_hinh == t.id)
        low, high = t.min_units or 0, t.max_units
        if n < low or (high is not None and n > high):
            want = (f"đúng {low}" if low == high else f"ít nhất {low}" if high is None
                    else f"từ {low} đến {high}" if low else f"nhiều nhất {high}")
            out.append(issue("unit_count", message=(
                f"Danh sách đơn vị có {n} đơn vị loại hình {t.id} ({t.label}); biểu mẫu cần {want}. "
                f"Hãy kiểm tra lại cột loại hình của danh sách đơn vị.")))
    return out


def build_report(form: Form, units: list[Unit], returns_dir: Path,
                 progress: Callable[[int], Callable[[], None]] | None = None) -> Report:
    """Read, check and roll up every return under ``returns_dir``."""
    from qcdc_xl.report.summarise import compute_totals

    files = find_returns(returns_dir)
    units_by_code = {u.ma_don_vi: u for u in units}
    tick = progress(len(files)) if progress else (lambda: None)
    outcomes = read_all(form, units_by_code, files, on_done=tick)
    results, issues = attribute(units, outcomes, form)
    issues = unit_count_issues(form, units) + issues
    return Report(form_id=form.id, form_version=form.version,
                  generated_at=dt.datetime.now().replace(microsecond=0).isoformat(),
                  units=results, issues=issues, totals=compute_totals(form, results),
                  files_read=len(files), list_keys={t.name: t.list_key for t in form.tables.values()})


def write_json(data: dict, path: Path) -> None:
    """UTF-8 JSON, written atomically so a reader never sees half a report."""
    atomic_write_text(path, indented_json(data) + "\n")  # = json.dumps(…, indent=2), faster


@dataclass
class Outcome:
    """What a command did, for the command line to say: the report (``aggregate``) or the
    issues (``check``), and the lines for people. The API itself prints nothing."""

    lines: list
    report: Report | None = None
    issues: list = field(default_factory=list)


def run_aggregate(form: Form, units: list[Unit], returns_dir: Path, summary_path: Path,
                  json_path: Path | None = None, feedback_dir: Path | None = None,
                  progress: Callable[[int], Callable[[], None]] | None = None) -> Outcome:
    """The ``aggregate`` command: everything but argument parsing and printing."""
    with bulk_work():  # (results, then ~500,000 summary cells: see qcdc_xl/collector.py)
        report = build_report(form, units, returns_dir, progress=progress)
        return _write_outputs(form, report, returns_dir, summary_path, json_path, feedback_dir)


def _write_outputs(form: Form, report: Report, returns_dir: Path, summary_path: Path,
                   json_path: Path | None, feedback_dir: Path | None) -> Outcome:
    from qcdc_xl.output.summary import SummaryLockedError, write_summary

    try:
        write_summary(form, report, summary_path, totals_current=True)  # (build_report's)
    except SummaryLockedError as exc:
        raise AggregateError(str(exc)) from None
    except OSError as exc:
        raise AggregateError(f"không ghi được bảng tổng hợp «{summary_path}» "
                             f"({exc.strerror or exc}); kiểm tra quyền ghi thư mục.") from None
    if json_path:
        _write_or_fail(lambda: write_json(report.to_json(), json_path), json_path)
    feedback_count = 0
    if feedback_dir:
        from qcdc_xl.output.feedback import write_feedback
        feedback_count = _write_or_fail(
            lambda: write_feedback(form, report, returns_dir, feedback_dir), feedback_dir)
    lines = console_summary(report, returns_dir, summary_path, json_path, feedback_dir, feedback_count)
    return Outcome(lines=lines, report=report)


def _write_or_fail(write: Callable, target: Path):
    try:
        return write()
    except OSError as exc:
        raise AggregateError(f"không ghi được «{target}» ({exc.strerror or exc}); kiểm tra quyền "
                             f"ghi hoặc đóng tệp nếu đang mở.") from None


def console_summary(report: Report, returns_dir: Path, summary_path: Path,
                    json_path: Path | None, feedback_dir: Path | None, feedback_count: int) -> list[str]:
    count = {s: sum(1 for u in report.units if u.status == s)
             for s in (STATUS_OK, STATUS_ERRORS, STATUS_MISSING, STATUS_SUPERSEDED)}
    listed = count[STATUS_OK] + count[STATUS_ERRORS] + count[STATUS_MISSING]
    errors = sum(1 for i in report.issues if i.severity == "error")
    warnings = len(report.issues) - errors
    lines = [
        f"Đã đọc {report.files_read} tệp trong «{returns_dir}».",
        f"Đơn vị trong danh sách: {listed} — {count[STATUS_OK]} đạt, {count[STATUS_ERRORS]} có lỗi, "
        f"{count[STATUS_MISSING]} chưa nộp; {count[STATUS_SUPERSEDED]} bản cũ bị thay thế.",
        f"Vấn đề phát hiện: {errors} lỗi, {warnings} cảnh báo (xem trang «Kiểm tra» của bảng tổng hợp).",
        f"Bảng tổng hợp: {summary_path}",
    ]
    if json_path:
        lines.append(f"Báo cáo JSON: {json_path}")
    if feedback_dir:
        lines.append(f"Bản trả lại cho {feedback_count} đơn vị: {feedback_dir}")
    return lines


def progress_bar(stream) -> Callable[[int], Callable[[], None]]:
    """A one-line bar on a terminal; nothing on a pipe or for a handful of files."""
    def start(total: int) -> Callable[[], None]:
        if total < 10 or not getattr(stream, "isatty", lambda: False)():
            return lambda: None
        state = {"done": 0}

        def tick():
            state["done"] += 1
            filled = state["done"] * 30 // total
            stream.write(f"\rĐang đọc: [{'#' * filled}{'.' * (30 - filled)}] {state['done']}/{total}")
            if state["done"] == total:
                stream.write("\n")
            stream.flush()
        return tick
    return start


# ---------------------------------------------------------------- check one file


def check_file(form: Form, units: list[Unit], path: Path) -> tuple[UnitResult | None, list[Issue]]:
    """The ``check`` command's work: the same reading and checks as ``aggregate`` (an old
    format converted first), for one file, read in this process."""
    found = Found(path=path, rel=path.name, readable=path.suffix.lower() in READABLE)
    [(_found, outcome)] = read_all(form, {u.ma_don_vi: u for u in units}, [found])
    if isinstance(outcome, list):
        return None, outcome
    return outcome, outcome.issues


def run_check(form: Form, units: list[Unit], path: Path, json_path: Path | None = None) -> Outcome:
    """The ``check`` command: the issues of one file and the lines that say them."""
    result, issues = check_file(form, units, path)
    errors = sum(1 for i in issues if i.severity == "error")
    who = f"đơn vị {result.unit.ma_don_vi} – {result.unit.ten_don_vi}" if result else "không xác định đơn vị"
    lines = [f"Tệp «{path.name}» ({who}): {errors} lỗi, {len(issues) - errors} cảnh báo."]
    lines += [f"  [{'LỖI' if i.severity == 'error' else 'Cảnh báo'}] {i.message}" for i in issues]
    if not issues:
        lines.append("  Không phát hiện vấn đề nào.")
    if json_path:
        data = {"file": path.name, "ma_don_vi": result.unit.ma_don_vi if result else None,
                "status": (STATUS_ERRORS if errors else STATUS_OK),
                "values": _json_values(result), "issues": [i.to_dict() for i in issues]}
        _write_or_fail(lambda: write_json(data, json_path), json_path)
    return Outcome(lines=lines, issues=issues)


def _json_values(result: UnitResult | None) -> dict | None:
    from qcdc_xl.report.records import json_value
    return None if result is None else {k: json_value(v) for k, v in result.values.items()}


if __name__ == "__main__":  # pragma: no cover - a module, not a script
    sys.exit("Dùng lệnh: qcdc-xl aggregate THƯ_MỤC")
