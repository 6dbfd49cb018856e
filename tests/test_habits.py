"""The project's habits hold: the conda environment pins the lock's versions, the licence file is the
licence pyproject declares, the test tiers and the linters are configured where the Makefile runs them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[_norm(name)] = version.strip()
    return pins


def _environment() -> tuple[dict[str, str], dict[str, str]]:
    """(conda pins, pip pins) of environment.yml."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep.get("pip", []):
                name, _, version = spec.partition("==")
                pip[_norm(name)] = version
        elif dep != "pip":
            name, _, version = dep.partition("=")
            conda[_norm(name)] = version
    return conda, pip


def test_environment_yml_pins_the_locks_versions():
    lock = _lock()
    conda, pip = _environment()
    assert conda.pop("python") == "3.11" and conda.pop("quarto") == "1.10.*"
    pinned = {**conda, **pip}
    assert all(pinned.values()), [n for n, v in pinned.items() if not v]  # every package pinned
    differ = {n: (v, lock.get(n)) for n, v in pinned.items() if lock.get(n) != v}
    assert not differ, f"environment.yml differs from requirements.lock (environment, lock): {differ}"
    # every direct dependency of the package is in the environment
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = [_norm(re.split(r"[<>=!~\[ ]", d)[0]) for d in project["dependencies"]]
    assert [d for d in direct if d not in pinned] == []


def test_license_file_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_tiers_and_linters_are_configured():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    markers = [m.split(":")[0] for m in cfg["tool"]["pytest"]["ini_options"]["markers"]]
    assert "slow" in markers
    assert cfg["tool"]["ruff"]["line-length"] == 120
    assert set(cfg["tool"]["ruff"]["lint"]["select"]) == {"E", "F", "W", "B", "I"}
    assert cfg["tool"]["mypy"]["ignore_missing_imports"] is True
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r'^test: .*\n\t.*pytest .*-m "not slow"', make, re.M)
    assert re.search(r"^test-all: .*\n\t.*lint.*\n.*\$\(MAKE\).* test .*\n.*pytest .*-m slow", make, re.M)
    assert "make test-all" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    ids = {h["id"] for repo in hooks["repos"] for h in repo["hooks"]}
    assert {"ruff", "ruff-format", "nbstripout"} <= ids
