#!/usr/bin/env python3
"""`make bench`: warm kernels and the atlas, measured in one run (prints a Markdown table).

In a temporary copy of the project, after one offline fetch (not timed):
1. one clean configuration (the default, 2026-33) as before: `report --cold` (kernels started as
   new processes, no shared cache), fetch + notebooks + render;
2. the same clean configuration with warm kernels and the shared cache (the default);
3. the atlas: `report --all-regions` (every fylke, fetch + notebooks + renders + the atlas page).
`clean` runs between them (data/raw is kept). From the build logs (KG-TIMING lines): the median
kernel start per notebook (launch -> kernel ready; warm = imports included, cold = imports still
to come in the cells) and the share of the notebook phase outside cell execution.

Targets (issue 21): median warm kernel start < 1 s; clean warm >= 1.5x faster than cold; all 15
fylker <= 6x one clean configuration. The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from helpers import cli_env, copy_project  # noqa: E402
from kunnskapsgrunnlag.kernels import parse_timing  # noqa: E402

CPU: list[float] = []  # CPU seconds (user + system) of each run, all its processes included


def run(proj: Path, *args: str, env: dict | None = None) -> float:
    import resource

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "kunnskapsgrunnlag.cli", *args],
        cwd=proj,
        env={**cli_env(proj), **(env or {})},
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        print(f"FAILED: kunnskapsgrunnlag {' '.join(args)} (exit {p.returncode})\n{p.stderr[-3000:]}", file=sys.stderr)
        sys.exit(1)
    return took


def timings(proj: Path) -> list[dict]:
    out = []
    for log in sorted((proj / "build").glob("*/logs/*.log")):
        t = parse_timing(log.read_text(encoding="utf-8", errors="replace"))
        if t:
            out.append(t)
    return out


def median_start(ts: list[dict]) -> float:
    return statistics.median(t["kernel_start"] for t in ts) if ts else float("nan")


def outside_share(ts: list[dict]) -> float:
    total = sum(t["total"] for t in ts)
    return (total - sum(t["cells"] for t in ts)) / total if total else float("nan")


def warm_count(ts: list[dict]) -> str:
    return f"{sum(t['mode'] == 'warm' for t in ts)} of {len(ts)} notebooks ran warm"


def show(rows: list, start: int) -> None:
    for name, val, note in rows[start:]:
        print(f"| {name} | {val} | {note} |", flush=True)


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--jobs", default="2")
    ap.add_argument("--renderer", default="pandoc")
    ap.add_argument("--skip-atlas", action="store_true", help="only the single configuration, cold and warm")
    ap.add_argument(
        "--atlas-jobs",
        default="default,same",
        help="the --jobs of the atlas runs, comma-separated: `default` (report --all-regions' own default, "
        "pipeline.atlas_jobs), `same` (the --jobs of the single configuration) or a number",
    )
    a = ap.parse_args()
    mirror = str(Path(a.mirror).resolve())
    common = ["--offline", "--mirror", mirror, "--jobs", a.jobs, "--renderer", a.renderer]
    from kunnskapsgrunnlag.pipeline import atlas_jobs

    atlas_runs = []
    for j in a.atlas_jobs.split(","):
        n = str(atlas_jobs()) if j == "default" else a.jobs if j == "same" else j
        if n not in [x for x, _ in atlas_runs]:
            atlas_runs.append((n, "the atlas default, twice the CPUs" if j == "default" else ""))
    rows, loads = [], [f"start {load()}"]
    print(
        f"kunnskapsgrunnlag benchmark, one configuration --jobs {a.jobs}, atlas --jobs "
        f"{' and '.join(j for j, _ in atlas_runs)}, renderer {a.renderer}, {os.cpu_count()} CPUs, "
        f"load average at start {load()}\n\n| measurement | value | note |\n|---|---:|---|",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
        proj = copy_project(Path(tmp) / "proj")
        run(proj, "fetch", "--offline", "--mirror", mirror)
        cold = run(proj, "report", *common, "--cold", env={"KG_NO_SHARED_CACHE": "1"})
        t_cold = timings(proj)
        loads.append(f"after cold {load()}")
        cpu_cold = CPU[-1]
        print(
            f"| one clean configuration (2026-33), --cold | {cold:.1f} s | CPU {cpu_cold:.0f} s; "
            f"{warm_count(t_cold)} |",
            flush=True,
        )
        run(proj, "clean")  # data/raw stays
        warm = run(proj, "report", *common)
        cpu_warm = CPU[-1]
        t_warm = timings(proj)
        loads.append(f"after warm {load()}")
        rows += [
            (
                "one clean configuration (2026-33), warm",
                f"{warm:.1f} s",
                f"{cold / warm:.2f}x faster than --cold (target >= 1.5x); CPU {cpu_warm:.0f} s "
                f"({cpu_cold / cpu_warm:.2f}x less); {warm_count(t_warm)}",
            ),
            (
                "median kernel start per notebook, --cold",
                f"{median_start(t_cold):.2f} s",
                "launch -> kernel ready; the notebooks' imports still follow in their cells",
            ),
            (
                "median kernel start per notebook, warm",
                f"{median_start(t_warm):.2f} s",
                "launch -> kernel ready, imports done (target < 1 s)",
            ),
            ("notebook phase outside cell execution, --cold", f"{outside_share(t_cold):.0%}", ""),
            ("notebook phase outside cell execution, warm", f"{outside_share(t_warm):.0%}", ""),
        ]
        show(rows, 0)
        shown = len(rows)
        for jobs, why in [] if a.skip_atlas else atlas_runs:
            run(proj, "clean")
            opts = ["--offline", "--mirror", mirror, "--jobs", jobs, "--renderer", a.renderer]
            atlas = run(proj, "report", "--all-regions", *opts)
            cpu_atlas = CPU[-1]
            t_atlas = timings(proj)
            loads.append(f"after atlas --jobs {jobs} {load()}")
            n = len(list((proj / "_book").glob("20*-*/index.html")))
            rows += [
                (
                    f"atlas, all {n} fylker in one --all-regions run, --jobs {jobs}" + (f" ({why})" if why else ""),
                    f"{atlas:.1f} s",
                    f"{atlas / warm:.2f}x one clean configuration (target <= 6x); {atlas / n:.1f} s per fylke; "
                    f"CPU {cpu_atlas:.0f} s = {cpu_atlas / cpu_warm:.2f}x one configuration's CPU",
                ),
                (
                    f"median kernel start per notebook, atlas --jobs {jobs}",
                    f"{median_start(t_atlas):.2f} s",
                    f"{len(t_atlas)} notebooks",
                ),
                (
                    f"notebook phase outside cell execution, atlas --jobs {jobs}",
                    f"{outside_share(t_atlas):.0%}",
                    warm_count(t_atlas),
                ),
            ]
            show(rows, shown)
            shown = len(rows)
    print(f"\nload average (1/5/15 min): {'; '.join(loads)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
