"""`--out` can never remove a book or a folder holding one, and guards compare resolved paths
(issue 18, items 4 and 14). In-process (typer's CliRunner) on a small project with stamped books:
the refusal comes before anything is touched, so no build is needed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import tree_digest
from kunnskapsgrunnlag import cli, outputs

ROOT = Path(__file__).resolve().parent.parent


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def proj(tmp_path, monkeypatch):
    p = tmp_path / "proj"
    shutil.copytree(ROOT / "config", p / "config")
    shutil.copy2(ROOT / "_quarto.yml", p / "_quarto.yml")
    for cid in ("2026-33", "2026-40"):
        outputs.stamp(p / "_book" / cid, kind="book", configuration=cid)
        (p / "_book" / cid / "index.html").write_text(f"<p>{cid}</p>")
    outputs.stamp(p / "_book", kind="books")
    (p / "_book" / "index.html").write_text("<p>landing</p>")
    outputs.stamp(p / "_book" / "kopi", kind="book", configuration="2026-33")  # an earlier --out _book/kopi
    real_raw = tmp_path / "elsewhere" / "raw"  # data/raw on another disk
    (real_raw / "stats").mkdir(parents=True)
    (real_raw / "manifest.json").write_text("{}")
    (p / "data").mkdir()
    (p / "data" / "raw").symlink_to(real_raw, target_is_directory=True)
    monkeypatch.chdir(p)
    return p


def books(p: Path) -> dict:
    return {"book": tree_digest(p / "_book"), "raw": tree_digest(p / "data" / "raw")}


@pytest.mark.parametrize(
    "target", ["_book", "_book/2026-33", "_book/2026-33/sub", "_book/2026-40", "build", "build/2026-33"]
)
@pytest.mark.parametrize("command", ["render", "build", "report"])
def test_out_never_replaces_a_book_or_the_books_folder(proj, target, command):
    before = books(proj)
    res = CliRunner().invoke(cli.app, [command, "--out", target, "--renderer", "pandoc"])
    out = norm(res.output)
    assert res.exit_code == 2, out
    assert "nothing was changed" in out and "Traceback" not in out
    assert "_book" in out or "build" in out
    assert books(proj) == before and not (proj / "build" / "2026-33").exists()


def test_out_refuses_a_folder_holding_books(proj, tmp_path):
    holder = tmp_path / "samling"
    outputs.stamp(holder, kind="book")
    outputs.stamp(holder / "gammel", kind="book")
    before = tree_digest(holder)
    res = CliRunner().invoke(cli.app, ["render", "--out", str(holder)])
    assert res.exit_code == 2 and "other book" in norm(res.output)
    assert tree_digest(holder) == before


def test_symlinked_raw_store_is_protected_by_either_path(proj, tmp_path):
    before = books(proj)
    for target in ("data/raw/ny", str(tmp_path / "elsewhere" / "raw"), str(tmp_path / "elsewhere" / "raw" / "x")):
        res = CliRunner().invoke(cli.app, ["render", "--out", target])
        out = norm(res.output)
        assert res.exit_code == 2, (target, out)
        assert "data/ folder" in out and "nothing was changed" in out
    assert books(proj) == before and not (tmp_path / "elsewhere" / "raw" / "x").exists()


def test_an_earlier_out_folder_and_a_new_one_are_allowed(proj, tmp_path):
    assert outputs.check_output_dir(Path("_book/kopi"), proj) == (proj / "_book" / "kopi").resolve()
    assert outputs.check_output_dir(tmp_path / "ny", proj) == (tmp_path / "ny").resolve()


def test_render_of_an_unbuilt_configuration_makes_no_folder(proj):
    res = CliRunner().invoke(cli.app, ["render", "--region", "40"])
    out = norm(res.output)
    assert res.exit_code == 2 and "2026-40 has not been built" in out
    assert "`kunnskapsgrunnlag build --edition 2026 --region 40` first" in out  # the whole command in backticks
    assert not (proj / "build" / "2026-40").exists()


def test_files_the_tool_writes_are_readable_by_everyone(tmp_path):
    import os
    import stat

    from kunnskapsgrunnlag import atomic

    old = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "side.html", "<p>x</p>")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "side.html").stat().st_mode) == 0o644


def test_a_busy_lock_names_its_holder_even_just_after_it_was_taken(tmp_path):
    """The holder takes the lock, then writes its pid: a run refused in between still names it
    (test_faults.py::test_two_concurrent_report_force_runs once read the empty file)."""
    import fcntl
    import json
    import threading

    path = tmp_path / ".lock"
    fh = open(path, "a+", encoding="utf-8")
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # taken, nothing written yet

    def write_holder():
        fh.write(json.dumps({"pid": 4242, "started": "2026-12-05T06:50:00+00:00"}))
        fh.flush()

    timer = threading.Timer(0.1, write_holder)
    timer.start()
    try:
        with pytest.raises(outputs.LockBusy, match=r"already being built by pid 4242 started 2026-12-05"):
            outputs.RunLock(path, "configuration 2026-33").acquire()
    finally:
        timer.join()
        fh.close()
