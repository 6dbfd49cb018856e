import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIRROR = Path(os.environ.get("KG_MIRROR", ROOT.parent / "shared" / "data")).resolve()


def pytest_configure(config):
    os.chdir(ROOT)  # the project is found from the current directory (like git); tests run in it


@pytest.fixture(scope="session")
def mirror() -> Path:
    assert MIRROR.is_dir(), f"offline mirror not found at {MIRROR} (set KG_MIRROR)"
    return MIRROR


@pytest.fixture(scope="session")
def fetched(tmp_path_factory, mirror):
    """Settings whose raw dir holds a complete offline fetch from the mirror (session-wide)."""
    from kunnskapsgrunnlag.config import make_settings
    from kunnskapsgrunnlag.fetch import fetch_all

    base = tmp_path_factory.mktemp("fetched")
    s = make_settings(raw_dir=base / "raw", processed_dir=base / "processed", build_dir=base / "build")
    fetch_all(s, online=False, mirror=mirror)
    return s


@pytest.fixture
def fresh_settings(tmp_path):
    from kunnskapsgrunnlag.config import make_settings

    return make_settings(raw_dir=tmp_path / "raw", processed_dir=tmp_path / "processed", build_dir=tmp_path / "build")


@pytest.fixture
def copy_raw(tmp_path, fetched):
    """A writable copy of the fetched raw dir (for tampering tests)."""
    from kunnskapsgrunnlag.config import make_settings

    dst = tmp_path / "raw"
    shutil.copytree(fetched.raw_dir, dst)
    for p in dst.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return make_settings(raw_dir=dst, processed_dir=tmp_path / "processed", build_dir=tmp_path / "build")


@pytest.fixture(scope="session")
def built_project(tmp_path_factory, mirror):
    """A temporary copy of the project with the default configuration (2026-33) fetched, built and
    rendered offline (session-wide; tests copy it again before changing anything)."""
    from helpers import cli, copy_project

    proj = copy_project(tmp_path_factory.mktemp("built") / "proj")
    cli(proj, "report", "--mirror", str(mirror), "--offline", "--jobs", "2", "--renderer", "pandoc")
    return proj
