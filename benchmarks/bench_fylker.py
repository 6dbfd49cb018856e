#!/usr/bin/env python3
"""Benchmark: build every one of the 15 fylker offline (prints the time per fylke and in total).

In a temporary copy of the project: one fetch from the mirror, then `report --region R --jobs 2
--no-render` for each fylke (the notebooks, as in the `allfylker` test; rendering is timed by
bench_build.py). Exit code 1 if any fylke fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import cli, copy_project  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--jobs", default="2")
    ap.add_argument("--render", action="store_true", help="also render each book (pandoc fallback)")
    ap.add_argument("--regions", nargs="*", help="only these fylker (default: all 15)")
    a = ap.parse_args()
    mirror = str(Path(a.mirror).resolve())
    sys.path.insert(0, str(ROOT))
    from kunnskapsgrunnlag.config import valid_regions

    regions = a.regions or sorted(valid_regions())
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        proj = copy_project(Path(tmp))
        t_all = time.perf_counter()
        cli(proj, "fetch", "--offline", "--mirror", mirror)
        print(f"{'fetch':28s} {time.perf_counter() - t_all:6.1f} s", flush=True)
        for r in regions:
            t0 = time.perf_counter()
            args = ["report", "--region", r, "--offline", "--mirror", mirror, "--jobs", a.jobs]
            args += ["--renderer", "pandoc"] if a.render else ["--no-render"]
            p = cli(proj, *args, check=False)
            status = "ok" if p.returncode == 0 else f"FAILED (exit {p.returncode})"
            if p.returncode:
                failed.append(r)
            print(f"{r} {valid_regions()[r]:25s} {time.perf_counter() - t0:6.1f} s  {status}", flush=True)
        total = time.perf_counter() - t_all
    label = "all 15 fylker" if len(regions) == 15 else f"{len(regions)} fylke(r)"
    print(f"{label:28s} {total:6.1f} s ({total / 60:.1f} min; target for all 15 in CI < 15 min)")
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
