"""The long fuzz run: ``python3 benchmarks/fuzz_long.py --mutants 10000``.

Reads that many mutants of LibreOffice-made sample returns (tests/fuzz.py), each in a
worker process under a time limit, and prints what went wrong: exceptions, hangs, native
aborts, catch-all issues, values changed without an issue. Exit status 1 when anything did.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]

import fuzz  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1, help="the run's seed (the fast CI slice uses 0)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=float, default=60.0, help="seconds one mutant may take")
    ap.add_argument("--show", type=int, default=40, help="failures printed in full")
    args = ap.parse_args()
    start = time.monotonic()

    def progress(m, outcome, stats):
        if stats.failures and stats.failures[-1][2] == m.detail and len(stats.failures) <= args.show:
            kind, seed, detail, problems = stats.failures[-1]
            print(f"- [{kind}] {seed}: {detail}\n    " + "\n    ".join(p[-1500:] for p in problems), flush=True)
        if stats.mutants % 500 == 0:
            print(f"  {stats.line()} ({time.monotonic() - start:.0f} s)", flush=True)
    stats = fuzz.run(args.mutants, seed=args.seed, workers=args.workers, limit=args.limit,
                     on_result=progress)
    elapsed = time.monotonic() - start
    print(f"{stats.line()}; {elapsed:.0f} s ({elapsed / max(stats.mutants, 1):.2f} s per mutant)")
    print("by kind:", ", ".join(f"{k} {n}" for k, n in sorted(stats.kinds.items())))
    print("reported as unreadable files, by kind:",
          ", ".join(f"{k} {n}" for k, n in sorted(stats.whole_file_kinds.items())))
    by_kind = Counter(kind for kind, *_ in stats.failures)
    if by_kind:
        print("failures by kind:", dict(by_kind))
    for kind, seed, detail, problems in stats.failures:
        if kind == "control":
            print(f"- [{kind}] {seed}: {detail}\n    " + "\n    ".join(problems))
    return 1 if stats.failures else 0


if __name__ == "__main__":
    sys.exit(main())
