"""Shared helpers for tests that run the command-line program in a temporary copy of the project.

Two ways to run the program: `cli()` starts it as a subprocess (`python -m kunnskapsgrunnlag.cli`,
as a user would), `run()` calls it in-process with typer's CliRunner (no start-up cost; for
configuration and argument errors and other cases refused before anything runs). Both return an
object with `returncode`, `stdout` and `stderr`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = "_book/2026-33"  # the default configuration's book
BUILD = "build/2026-33"  # the default configuration's build folder
PDF_NAME = "Kunnskapsgrunnlag-til-Buskerudplanen-Del-1.pdf"


def copy_project(dst: Path) -> Path:
    """The project's tracked and untracked (not ignored) files copied to `dst`."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dst / f)
    return dst


def copy_tree(src: Path, dst: Path) -> Path:
    """A full copy of a (built) project copy: sources, data/raw, build/ and _book/."""
    shutil.copytree(src, dst, symlinks=True)
    for p in [dst, *dst.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)
    return dst


def cli_env(proj: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KG_MIRROR"}  # the mirror: --mirror or the config
    return {**env, "COLUMNS": "200"}  # the project is found from the cwd (proj)


def cli(proj: Path, *args: str, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
    p = subprocess.run(
        [sys.executable, "-m", "kunnskapsgrunnlag.cli", *args],
        cwd=proj,
        env=cli_env(proj),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and p.returncode != 0:
        raise AssertionError(f"kunnskapsgrunnlag {' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def _clear_config_caches() -> None:
    """Forget configuration read for another project copy (the module-level caches, while they exist)."""
    from kunnskapsgrunnlag import classification, config

    for fn in (
        getattr(config, "load_project", None),
        getattr(config, "load_catalogue", None),
        getattr(classification, "_kommuner_from_raw", None),
    ):
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


def run(proj: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The command-line program in-process (typer's CliRunner) on project copy `proj`, from `proj` as
    working directory. An exception the program let escape is appended to stderr as a traceback, so
    the tests' "no Traceback" checks see it as a subprocess run would show it.

    For cases refused before anything runs: in-process, the package imported is this worktree's,
    not the copy's, so a build or render here hashes other files than a subprocess in the copy."""
    from typer.testing import CliRunner

    from kunnskapsgrunnlag import cli as cli_mod

    old_width = cli_mod.console._width  # the project is found from the working directory (proj)
    cli_mod.console.width = 200  # as COLUMNS=200 in cli_env: long messages stay on one line
    _clear_config_caches()
    try:
        with contextlib.chdir(proj):
            res = CliRunner().invoke(cli_mod.app, list(args))
    finally:
        cli_mod.console._width = old_width
        _clear_config_caches()
    stderr = res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        stderr += "".join(traceback.format_exception(res.exception))
    p = subprocess.CompletedProcess(["kunnskapsgrunnlag", *args], res.exit_code, res.stdout, stderr)
    if check and p.returncode != 0:
        raise AssertionError(f"kunnskapsgrunnlag {' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 of every file under `path` (relative names), to show a folder is byte-identical."""
    path = Path(path)
    if not path.exists():
        return {}
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }
