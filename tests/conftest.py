import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIRROR = Path(os.environ.get("KG_MIRROR", ROOT.parent / "shared" / "data")).resolve()


def pytest_configure(config):
    os.chdir(ROOT)  # the project is found from the current directory (like git); tests run in it


# Test tiers: `make test` runs `pytest -m "not slow"` (unit tests, in-process CLI tests and the one
# shared end-to-end build `built_project`, under 5 minutes on two cores); `make test-all` (CI) runs
# everything. Mark `slow` any test that builds a project, starts a subprocess build or takes more
# than about 5 s, unless it only reads `built_project`. Never build what a session fixture built.


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
def _built(tmp_path_factory, mirror):
    from helpers import cli, copy_project, tree_digest

    proj = copy_project(tmp_path_factory.mktemp("built") / "proj")
    p = cli(proj, "report", "--mirror", str(mirror), "--offline", "--jobs", "2", "--renderer", "pandoc")
    before = tree_digest(proj)
    yield proj, p.stderr + p.stdout
    after = tree_digest(proj)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"a test changed the shared built_project (work in a copy: built_copy): {changed[:10]}"


@pytest.fixture(scope="session")
def built_project(_built) -> Path:
    """A temporary copy of the project with the default configuration (2026-33) fetched, built and
    rendered offline: the test session's one end-to-end build. Tests only read it; a test that
    changes anything works in its own copy (`helpers.copy_tree(built_project, tmp_path / "proj")`)."""
    return _built[0]


@pytest.fixture(scope="session")
def built_project_log(_built) -> str:
    """What the `report` command of `built_project` printed (stderr, then stdout)."""
    return _built[1]


@pytest.fixture
def built_copy(built_project, tmp_path) -> Path:
    """A writable copy of `built_project` of one's own (about 20 MB; under a second)."""
    from helpers import copy_tree

    return copy_tree(built_project, tmp_path / "proj")
