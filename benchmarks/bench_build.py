#!/usr/bin/env python3
"""Benchmark the build (prints figures; not a test).

In a temporary copy of the project: clean build (fetch + notebooks + render), no-op rebuild,
rebuild after editing one chapter's prose, the notebook phase with --jobs 1 vs --jobs 2 (forced),
and the peak memory of the child processes. Targets: no-op <= 5 % of clean, prose edit <= 15 %
of clean, jobs 2 >= 1.6x jobs 1.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import copy_project  # noqa: E402  (tests/helpers.py imports no pytest)


def run(proj: Path, *args: str) -> float:
    t0 = time.perf_counter()
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}  # the project: found from cwd
    subprocess.run(
        [sys.executable, "-m", "kunnskapsgrunnlag.cli", *args],
        cwd=proj,
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror", default=str(ROOT.parent / "shared" / "data"))
    a = ap.parse_args()
    mirror = str(Path(a.mirror).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        proj = copy_project(Path(tmp))
        clean = run(proj, "report", "--mirror", mirror, "--offline", "--jobs", "2", "--renderer", "pandoc")
        noop = run(proj, "report", "--mirror", mirror, "--offline", "--jobs", "2", "--renderer", "pandoc")
        ch = proj / "report" / "01_innledning.qmd"
        ch.write_text(ch.read_text(encoding="utf-8") + "\n\nEn ekstra setning for benchmarken.\n", encoding="utf-8")
        prose = run(proj, "build", "--jobs", "2", "--renderer", "pandoc")
        j1 = run(proj, "build", "--jobs", "1", "--force", "--no-render")
        j2 = run(proj, "build", "--jobs", "2", "--force", "--no-render")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rows = [
        ("clean build (fetch + notebooks + render)", f"{clean:6.1f} s", ""),
        ("no-op rebuild", f"{noop:6.1f} s", f"{noop / clean:5.1%} of clean (target <= 5 %)"),
        ("rebuild after a prose edit", f"{prose:6.1f} s", f"{prose / clean:5.1%} of clean (target <= 15 %)"),
        ("notebooks --jobs 1 (forced)", f"{j1:6.1f} s", ""),
        ("notebooks --jobs 2 (forced)", f"{j2:6.1f} s", f"speed-up {j1 / j2:4.2f}x (target >= 1.6x)"),
        ("peak memory of one child process", f"{peak:6.0f} MiB", ""),
    ]
    for name, val, note in rows:
        print(f"{name:42s} {val:>10s}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
