"""Faults a careful user can cause (issue 9), each in a temporary copy of a built project.

Cases refused before anything runs call the program in-process (`run`, typer's CliRunner); cases
about processes (locks, Ctrl-C, concurrent runs) or that build or render start it as a subprocess
(`cli`) and are in the slow tier (`make test-all`).

Every case asserts the exit code, a message naming the cause, no traceback, and that data/raw
(with its manifest) and the previous book are byte-identical afterwards (unless the case is a
recovery that is meant to change them).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import BOOK, BUILD, cli, cli_env, copy_tree, run, tree_digest

pytestmark = pytest.mark.e2e


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _state(path: Path) -> tuple:
    return tree_digest(path), sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_dir())


@pytest.fixture(scope="module")
def _module_copy(built_project, tmp_path_factory):
    return copy_tree(built_project, tmp_path_factory.mktemp("faults") / "proj"), _state(built_project)


@pytest.fixture
def proj(_module_copy, built_project):
    """A copy of the built project, as `built_project` is. One copy serves the module: a case refused
    before anything runs leaves it unchanged; after a case that changed it, it is copied again."""
    copy, original = _module_copy
    yield copy
    if _state(copy) != original:
        shutil.rmtree(copy)
        copy_tree(built_project, copy)


def snapshot(proj: Path) -> dict:
    return {"raw": tree_digest(proj / "data" / "raw"), "book": tree_digest(proj / BOOK)}


def assert_error(p: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    out = norm(p.stderr + p.stdout)
    assert p.returncode == code, f"exit {p.returncode} (expected {code}):\n{out[-2000:]}"
    assert "Traceback" not in out, out[-3000:]
    for n in needles:
        assert n in out, f"{n!r} not in:\n{out[-2000:]}"
    return out


# --- --out: a command never replaces what it did not make --------------------------------
@pytest.mark.parametrize("target", ["data/raw", ".", "notebooks", "config", "report", "data", ".."])
def test_render_out_refuses_sources_and_the_project(proj, target):
    before = snapshot(proj)
    srcs = {d: tree_digest(proj / d) for d in ("notebooks", "config", "report")}
    p = run(proj, "render", "--out", target, check=False)
    assert_error(p, 2, "refusing" if target in (".", "..") else "never replaces", "nothing was changed")
    assert snapshot(proj) == before
    assert {d: tree_digest(proj / d) for d in srcs} == srcs
    assert (proj / "_quarto.yml").exists() and (proj / "index.qmd").exists()


def test_out_refuses_an_existing_folder_the_tool_did_not_make(proj, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    before = snapshot(proj)
    for cmd in (["render"], ["report", "--offline"], ["build"]):
        p = run(proj, *cmd, "--out", str(mine), check=False)
        assert_error(p, 2, "was not made by kunnskapsgrunnlag", str(mine))
    assert (mine / "notes.txt").read_text() == "mine" and len(list(mine.iterdir())) == 1
    assert snapshot(proj) == before


@pytest.mark.slow  # renders twice
def test_out_new_folder_is_stamped_and_later_replaced(proj, tmp_path):
    out = tmp_path / "kopi"
    before = snapshot(proj)
    cli(proj, "render", "--out", str(out), "--renderer", "pandoc")
    assert (out / ".kunnskapsgrunnlag-output").exists() and (out / "index.html").exists()
    p = cli(proj, "render", "--out", str(out), "--renderer", "pandoc")
    assert "unchanged" in norm(p.stderr)
    assert snapshot(proj) == before  # the default book is untouched by --out


@pytest.mark.parametrize("folder", [BOOK, "data/processed/2026-33"])
def test_a_foreign_folder_in_the_tools_place_is_refused_before_anything_runs(proj, folder):
    (proj / folder / ".kunnskapsgrunnlag-output").unlink()  # now it looks like the user's folder
    before = snapshot(proj)
    state = (proj / BUILD / "state.json").read_bytes()
    theirs = tree_digest(proj / folder)
    p = run(proj, "build", "--force", "--renderer", "pandoc", check=False)
    assert_error(p, 2, "was not made by kunnskapsgrunnlag", "nothing was changed", folder.split("/")[-1])
    assert tree_digest(proj / folder) == theirs and snapshot(proj) == before
    assert (proj / BUILD / "state.json").read_bytes() == state  # no notebook ran


# --- one run at a time --------------------------------------------------------------------
class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            v = a.get(key)
            if v and not re.match(r"^(https?:|mailto:|#|data:|javascript:)", v):
                self.refs.append(v.split("#")[0])


@pytest.mark.slow  # two forced builds at once
def test_two_concurrent_report_force_runs(proj, mirror):
    raw_before = tree_digest(proj / "data" / "raw")
    args = [
        sys.executable,
        "-m",
        "kunnskapsgrunnlag.cli",
        "report",
        "--force",
        "--offline",
        "--mirror",
        str(mirror),
        "--jobs",
        "1",
        "--renderer",
        "pandoc",
    ]
    procs = [
        subprocess.Popen(args, cwd=proj, env=cli_env(proj), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p, *p.communicate(timeout=900)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 2], [norm(e)[-800:] for _, _, e in results]
    refused = next(norm(e) for p, _, e in results if p.returncode == 2)
    assert "already being built by pid" in refused and "started" in refused and "--wait" in refused
    assert "Traceback" not in refused
    book = proj / BOOK
    from kunnskapsgrunnlag.render.html_book import page_files

    refs = []
    for page in page_files(book):  # one page per chapter; links relative to each page
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        rel = page.parent.relative_to(book)
        refs += [os.path.normpath(rel / r) for r in parser.refs if r]
    assert any(r.startswith("notebooks/") for r in refs)
    missing = [r for r in refs if not (book / r).exists()]
    assert not missing, f"dangling links: {missing[:10]}"
    assert len(list((proj / BUILD / "notebooks").glob("*.ipynb"))) == 12
    assert not list((proj / BUILD / "notebooks").glob(".running-*")), "temporary notebooks left behind"
    assert not list(proj.glob("_book/.*new*"))
    assert tree_digest(proj / "data" / "raw") == raw_before


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.mark.slow  # a (no-op) build in a subprocess: in-process, the worktree's package would be hashed
def test_stale_lock_of_a_dead_process_is_taken_over(proj):
    pid = _dead_pid()
    (proj / BUILD / ".lock").write_text(json.dumps({"pid": pid, "started": "2026-01-01T10:00:00+00:00"}))
    before = snapshot(proj)
    p = cli(proj, "build", "--renderer", "pandoc")
    out = norm(p.stderr)
    assert f"Took over the lock of configuration 2026-33 left by pid {pid}" in out and "no longer running" in out
    assert "Traceback" not in out
    assert snapshot(proj) == before


HOLDER = """
import fcntl, json, os, sys, time
fh = open(sys.argv[1], "a+")
fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
fh.seek(0); fh.truncate()
fh.write(json.dumps({"pid": os.getpid(), "started": "2026-11-27T04:00:00+00:00"})); fh.flush()
print("locked", flush=True)
deadline = time.monotonic() + 120
while not os.path.exists(sys.argv[2]) and time.monotonic() < deadline:  # hold until told to let go
    time.sleep(0.05)
time.sleep(1.5)
"""


def test_a_running_holder_refuses_another_command_at_once(proj):
    """The refusal alone, in-process (the slow case below also waits for the holder)."""
    before = snapshot(proj)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(proj / BUILD / ".lock"), str(proj / "never")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        for cmd in (["render", "--renderer", "pandoc"], ["build"], ["report", "--offline"]):
            p = run(proj, *cmd, check=False)
            assert_error(
                p,
                2,
                "configuration 2026-33 is already being built by",
                f"pid {holder.pid}",
                "started 2026-11-27T04:00:00",
                "--wait",
            )
    finally:
        holder.kill()
        holder.wait()
    assert snapshot(proj) == before


@pytest.mark.slow  # waits for a holder process, then renders
def test_a_running_holder_refuses_a_second_run_or_is_waited_for(proj, tmp_path):
    before = snapshot(proj)
    release = tmp_path / "release"  # the holder lets go 1.5 s after this file appears
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(proj / BUILD / ".lock"), str(release)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    p = cli(proj, "render", "--renderer", "pandoc", check=False)
    assert_error(
        p,
        2,
        "configuration 2026-33 is already being built by",
        f"pid {holder.pid}",
        "started 2026-11-27T04:00:00",
        "--wait",
    )
    t0 = time.monotonic()
    waiter = subprocess.Popen(
        [sys.executable, "-m", "kunnskapsgrunnlag.cli", "render", "--renderer", "pandoc", "--wait"],
        cwd=proj,
        env=cli_env(proj),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    for line in waiter.stderr:  # however slow the machine, the holder lets go only once the waiter waits
        seen.append(line)
        if "Waiting for pid" in line:
            break
    release.touch()
    _, err = waiter.communicate(timeout=600)
    assert waiter.returncode == 0, norm("".join(seen) + err)[-2000:]
    assert "Waiting for pid" in norm("".join(seen))
    holder.wait()
    assert time.monotonic() - t0 >= 1.0
    assert snapshot(proj) == before


# --- corrupt state files are set aside and rebuilt --------------------------------------------
@pytest.mark.slow  # runs a notebook
def test_corrupt_state_json_is_set_aside_and_rebuilt(proj):
    state = proj / BUILD / "state.json"
    state.write_text(state.read_text()[:40])  # a cut write
    before = snapshot(proj)
    p = cli(proj, "build", "--only", "02_situasjonen", "--no-render")
    out = norm(p.stderr)
    assert "Warning:" in out and "state.json was corrupt" in out and "Traceback" not in out
    assert json.loads(state.read_text())["hashes"]["02_situasjonen"]
    assert list(state.parent.glob("state.json.corrupt-*"))
    assert snapshot(proj) == before


@pytest.mark.slow  # renders the book
def test_corrupt_render_state_is_set_aside_and_the_book_rendered(proj):
    rs = proj / BUILD / "render-state.json"
    rs.write_text('{"x": ')
    raw = tree_digest(proj / "data" / "raw")
    p = cli(proj, "render", "--renderer", "pandoc")
    out = norm(p.stderr)
    assert "render-state.json was corrupt" in out and "rendered with pandoc" in out and "Traceback" not in out
    assert json.loads(rs.read_text())
    assert tree_digest(proj / "data" / "raw") == raw


@pytest.mark.slow  # runs a notebook
def test_corrupt_record_is_set_aside(proj):
    rec = proj / BUILD / "records" / "03_02_livsmestring.json"
    rec.write_bytes(b"\x00\x00garbage")
    before = snapshot(proj)
    p = cli(proj, "build", "--no-render")
    out = norm(p.stderr)
    assert p.returncode == 0 and "03_02_livsmestring.json was corrupt" in out and "Traceback" not in out
    assert json.loads(rec.read_text())["notebook"] == "03_02_livsmestring"  # rebuilt by rerunning it
    assert snapshot(proj) == before


@pytest.mark.slow  # runs a notebook
def test_corrupt_variables_file_is_set_aside_and_rebuilt(proj):
    var = proj / BUILD / "variables" / "03_04_arbeid.yml"
    good = var.read_bytes()
    var.write_text("tiltak: {andel: [1,\n", encoding="utf-8")
    before = snapshot(proj)
    p = cli(proj, "build", "--no-render")
    out = norm(p.stderr)
    assert "03_04_arbeid.yml was corrupt" in out and "Notebooks: 1 ran, 11 unchanged" in out and "Traceback" not in out
    assert var.read_bytes() == good
    assert snapshot(proj) == before


# --- Ctrl-C -------------------------------------------------------------------------------------
def _papermill_of(proj: Path) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in ps if "kunnskapsgrunnlag.nbexec" in line and str(proj) in line]


@pytest.mark.slow  # a forced build, interrupted
def test_ctrl_c_cancels_the_build_and_keeps_the_last_good_outputs(proj):
    before = snapshot(proj)
    nbs = {f.name: f.read_bytes() for f in (proj / BUILD / "notebooks").glob("*.ipynb")}
    variables = (proj / BUILD / "_variables.yml").read_bytes()
    p = subprocess.Popen(
        [sys.executable, "-m", "kunnskapsgrunnlag.cli", "build", "--force", "--jobs", "2", "--renderer", "pandoc"],
        cwd=proj,
        env=cli_env(proj),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list((proj / BUILD / "notebooks").glob(".running-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    took = time.monotonic() - t0
    out = norm(err)
    assert p.returncode == 130, out[-1500:]
    assert "interrupted (Ctrl-C)" in out and "cancelled" in out and "Traceback" not in out
    assert took < 15, f"Ctrl-C took {took:.1f} s"
    time.sleep(0.5)
    assert not _papermill_of(proj), "notebook processes still running after Ctrl-C"
    assert not list((proj / BUILD / "notebooks").glob(".running-*"))
    assert not list((proj / BUILD).glob(".run-*"))
    after = {f.name: f.read_bytes() for f in (proj / BUILD / "notebooks").glob("*.ipynb")}
    assert set(after) == set(nbs)  # every notebook still has its last good output
    assert (proj / BUILD / "_variables.yml").read_bytes() == variables
    assert snapshot(proj) == before
    # the interrupted build is not published by `render` alone
    p = cli(proj, "render", "--renderer", "pandoc", check=False)
    assert_error(p, 2, "failed or was interrupted", "--allow-stale")


# --- configuration files -------------------------------------------------------------------------
def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_yaml_syntax_error_names_file_and_line(proj):
    f = proj / "config" / "project.yml"
    lines = f.read_text(encoding="utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("defaults:"))
    lines[n + 1] = "  edition: [2026"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = snapshot(proj)
    p = run(proj, "build", check=False)
    out = assert_error(p, 2, "project.yml", "YAML syntax error at line")
    line = int(re.search(r"at line (\d+)", out).group(1))
    assert abs(line - (n + 2)) <= 2
    assert snapshot(proj) == before


def test_yaml_syntax_error_in_the_catalogue(proj):
    f = proj / "config" / "datasets.yml"
    _edit(f, "  provider: ssb\n", '  provider: "ssb\n')
    before = snapshot(proj)
    p = run(proj, "report", "--offline", check=False)
    assert_error(p, 2, "datasets.yml", "YAML syntax error")
    assert snapshot(proj) == before


def test_unknown_catalogue_key_is_an_error(proj):
    _edit(proj / "config" / "datasets.yml", "  provider: ssb\n", "  provider: ssb\n  colour: red\n")
    before = snapshot(proj)
    p = run(proj, "fetch", "--offline", check=False)
    assert_error(p, 2, "datasets.yml", "unknown key 'colour'", "valid keys:")
    assert snapshot(proj) == before


def test_misspelt_catalogue_key_suggests_the_valid_one(proj):
    _edit(proj / "config" / "datasets.yml", "  licence: ", "  licnce: ")
    p = run(proj, "build", check=False)
    assert_error(p, 2, "datasets.yml", "unknown key 'licnce'", "did you mean 'licence'")


def test_misspelt_project_key_suggests_the_valid_one(proj):
    _edit(proj / "config" / "project.yml", "  comparison_regions:", "  comparsion_regions:")
    before = snapshot(proj)
    p = run(proj, "status", check=False)
    assert_error(p, 2, "project.yml", "defaults: unknown key 'comparsion_regions'", "did you mean 'comparison_regions'")
    assert snapshot(proj) == before


def test_misspelt_edition_key(proj):
    _edit(proj / "config" / "project.yml", "    neet_year: 2024", "    neet_yaer: 2024")
    p = run(proj, "build", check=False)
    assert_error(p, 2, "editions.2026: unknown key 'neet_yaer'", "did you mean 'neet_year'")


def test_latin1_config_file(proj):
    f = proj / "config" / "project.yml"
    f.write_bytes(f.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
    before = snapshot(proj)
    p = run(proj, "build", check=False)
    assert_error(p, 2, "project.yml is not UTF-8", "line", "save it with UTF-8")
    assert snapshot(proj) == before


def test_empty_config_file(proj):
    (proj / "config" / "datasets.yml").write_text("# nothing\n", encoding="utf-8")
    p = run(proj, "fetch", "--offline", check=False)
    assert_error(p, 2, "datasets.yml is empty")


# --- command-line values ---------------------------------------------------------------------------
def test_region_3_is_not_oslo(proj):
    before = snapshot(proj)
    for cmd in ("build", "status", "render", "report"):
        p = run(proj, cmd, "--region", "3", check=False)
        assert_error(p, 2, "Unknown region '3'", "must match exactly", "Did you mean 03 (Oslo)")
    assert not (proj / "build" / "2026-03").exists()
    assert snapshot(proj) == before


def test_quarto_forced_but_not_installed(proj):
    if subprocess.run(["which", "quarto"], capture_output=True).returncode == 0:
        pytest.skip("quarto is installed here")
    before = snapshot(proj)
    for cmd in ("render", "build", "report"):
        p = run(proj, cmd, "--renderer", "quarto", check=False)
        assert_error(p, 2, "Quarto is not installed", "--renderer auto")
    assert snapshot(proj) == before


def test_unknown_notebook_in_only(proj):
    p = run(proj, "build", "--only", "03_99_finnes_ikke", check=False)
    assert_error(p, 2, "Unknown notebook(s) ['03_99_finnes_ikke']", "config/project.yml")


def test_diff_of_an_edition_not_built(proj):
    p = run(proj, "diff", "2025", "2026", check=False)
    assert_error(p, 2, "edition 2025 for region 33 (Buskerud) is not built", "report --edition 2025 --region 33")


def test_debug_shows_the_traceback(proj):
    p = run(proj, "--debug", "status", "--region", "3", check=False)
    assert p.returncode == 2 and "Traceback" in p.stderr and "Unknown region" in p.stderr


# --- write errors (in-process: the tests run as root, so chmod cannot make a folder read-only) ----
@pytest.mark.parametrize(
    "err,needle", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "permission denied")]
)
@pytest.mark.slow  # renders the book
def test_write_errors_are_one_message(proj, monkeypatch, err, needle):
    from typer.testing import CliRunner

    from kunnskapsgrunnlag import atomic, config
    from kunnskapsgrunnlag import cli as cli_mod

    monkeypatch.chdir(proj)
    config.load_project.cache_clear()
    config.load_catalogue.cache_clear()
    target = proj / BUILD / "render-state.json"
    target.write_text("{}")  # force a re-render, which writes the render state

    def fail(path, data):
        raise OSError(err, os.strerror(err), str(path))

    monkeypatch.setattr(atomic, "write_bytes", fail)
    before = snapshot(proj)
    res = CliRunner().invoke(cli_mod.app, ["render", "--renderer", "pandoc"])
    out = norm(res.output)
    config.load_project.cache_clear()
    config.load_catalogue.cache_clear()
    assert res.exit_code == 1, out
    assert needle in out and "Traceback" not in out
    assert not isinstance(res.exception, OSError)
    assert snapshot(proj) == before  # the previous book is kept


@pytest.mark.slow  # runs a notebook
def test_read_only_build_folder(proj):
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions (covered in-process by test_write_errors_are_one_message)")
    d = proj / BUILD
    for q in [d, *d.rglob("*")]:
        q.chmod(0o555 if q.is_dir() else 0o444)
    try:
        p = cli(proj, "build", "--force", "--only", "02_situasjonen", check=False)
        assert_error(p, 1, "cannot write")
    finally:
        for q in [d, *d.rglob("*")]:
            q.chmod(0o755 if q.is_dir() else 0o644)


# --- render refuses a failed or stale build ---------------------------------------------------------
@pytest.mark.slow  # runs a notebook, renders twice
def test_render_after_a_failed_build_refuses_until_fixed(proj):
    import nbformat

    src = proj / "notebooks" / "03_02_livsmestring.ipynb"
    original = src.read_bytes()
    nb = nbformat.read(src, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[2].source += "\nraise ValueError('testfeil')"
    nbformat.write(nb, src)
    before = snapshot(proj)
    p = cli(proj, "build", "--only", "03_02_livsmestring", "--no-render", check=False)
    assert_error(p, 1, "Notebook 03_02_livsmestring failed")
    failed = proj / BUILD / "notebooks" / "03_02_livsmestring.failed.ipynb"
    assert failed.exists()
    p = cli(proj, "render", "--renderer", "pandoc", check=False)
    assert_error(p, 2, "the last build of 2026-33 failed", "03_02_livsmestring", "--allow-stale")
    assert snapshot(proj) == before
    p = cli(proj, "render", "--renderer", "pandoc", "--allow-stale")
    assert "Warning (--allow-stale)" in norm(p.stderr)
    src.write_bytes(original)
    cli(proj, "build", "--no-render")
    assert not failed.exists(), "the .failed.ipynb must be cleared when the notebook succeeds"
    p = cli(proj, "render", "--renderer", "pandoc")
    assert p.returncode == 0


def test_render_refuses_stale_notebooks(proj):
    before = snapshot(proj)
    nb = proj / "notebooks" / "03_05_kompetanse.ipynb"
    data = json.loads(nb.read_text(encoding="utf-8"))
    data["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["Endret."]})
    nb.write_text(json.dumps(data), encoding="utf-8")
    p = run(proj, "render", "--renderer", "pandoc", check=False)
    assert_error(p, 2, "stale", "03_05_kompetanse", "kunnskapsgrunnlag build")
    assert snapshot(proj) == before


# --- clean -------------------------------------------------------------------------------------------
def test_clean_removes_only_what_the_tool_made(proj):
    (proj / "build" / "mine.txt").write_text("mine")
    (proj / "_book" / "mine").mkdir()
    (proj / "_book" / "mine" / "x.html").write_text("mine")
    raw = tree_digest(proj / "data" / "raw")
    run(proj, "clean")
    assert not (proj / BUILD).exists() and not (proj / BOOK).exists()
    assert (proj / "build" / "mine.txt").read_text() == "mine"
    assert (proj / "_book" / "mine" / "x.html").read_text() == "mine"
    assert tree_digest(proj / "data" / "raw") == raw
    assert (proj / "notebooks" / "02_situasjonen.ipynb").exists()


# --- issue 18: build outputs verified like raw data, signals, symlinks, no data ------------------------
def _processes_in(proj: Path) -> list[str]:
    """Processes whose working directory lies in the project (notebook runners and their kernels)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cwd = os.readlink(d / "cwd")
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd == str(proj) or cwd.startswith(str(proj) + os.sep):
            found.append(f"{d.name} {cmd[:200]}")
    return found


@pytest.mark.slow
def test_tampered_build_output_is_never_published(proj):
    nb = proj / BUILD / "notebooks" / "03_02_livsmestring.ipynb"
    data = json.loads(nb.read_text(encoding="utf-8"))
    data["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["Håndredigert tall: 99 %."]})
    nb.write_text(json.dumps(data), encoding="utf-8")
    before = snapshot(proj)
    p = cli(proj, "render", "--renderer", "pandoc", "--allow-stale", check=False)
    assert_error(
        p, 2, "03_02_livsmestring.ipynb (changed)", "sha256", "Nothing was published", "kunnskapsgrunnlag build"
    )
    p = cli(proj, "status", check=False)
    assert p.returncode == 1 and "CHANGED" in p.stderr and "03_02_livsmestring.ipynb" in norm(p.stderr)
    assert snapshot(proj) == before
    p = cli(proj, "build", "--no-render")
    assert "1 ran, 11 unchanged" in norm(p.stderr)
    assert "outputs changed or missing" in (proj / BUILD / "changes.md").read_text(encoding="utf-8")
    assert "Håndredigert" not in nb.read_text(encoding="utf-8")
    var = proj / BUILD / "_variables.yml"
    var.write_text(var.read_text(encoding="utf-8").replace("Buskerud", "Buskerød"), encoding="utf-8")
    p = cli(proj, "render", "--renderer", "pandoc", check=False)
    assert_error(p, 2, "_variables.yml (changed)")
    assert snapshot(proj) == before


@pytest.mark.slow
def test_a_deleted_or_altered_file_in_the_book_is_rerendered(proj):
    pdf = next((proj / BOOK).glob("*.pdf"))
    pdf.unlink()
    page = next((proj / BOOK).rglob("*.html"))
    page.write_text("endret", encoding="utf-8")
    p = cli(proj, "render", "--renderer", "pandoc")
    assert "rendered with" in norm(p.stderr)
    assert pdf.exists() and page.read_text(encoding="utf-8") != "endret"
    p = cli(proj, "render", "--renderer", "pandoc")
    assert "unchanged, not re-rendered" in norm(p.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_through_the_console_script_stops_the_build(proj, sig):
    script = Path(sys.executable).parent / "kunnskapsgrunnlag"
    assert script.exists(), "the console script is not installed (make setup)"
    before = snapshot(proj)
    nbs = {f.name: f.read_bytes() for f in (proj / BUILD / "notebooks").glob("*.ipynb")}
    p = subprocess.Popen(
        [str(script), "build", "--force", "--jobs", "2", "--renderer", "pandoc"],
        cwd=proj,
        env=cli_env(proj),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list((proj / BUILD / "notebooks").glob(".running-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)  # the kernels are up
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    out = norm(err)
    assert p.returncode == 128 + sig, out[-1500:]
    assert f"stopped by {sig.name}" in out and "cancelled" in out and "Traceback" not in out
    time.sleep(1.0)
    assert not _processes_in(proj), "processes outlived the run"
    assert not list((proj / BUILD / "notebooks").glob(".running-*")) and not list((proj / BUILD).glob(".run-*"))
    assert set(f.name for f in (proj / BUILD / "notebooks").glob("*.ipynb")) == set(nbs)
    assert snapshot(proj) == before


@pytest.mark.slow
def test_a_symlinked_raw_store_is_guarded_by_both_paths(proj, tmp_path):
    real = tmp_path / "annen disk" / "raw"
    real.parent.mkdir()
    (proj / "data" / "raw").rename(real)
    (proj / "data" / "raw").symlink_to(real, target_is_directory=True)
    before = snapshot(proj)
    for target in ("data/raw/bok", str(real / "bok"), str(real)):
        p = cli(proj, "render", "--out", target, check=False)
        assert_error(p, 2, "data/ folder", "nothing was changed")
    assert snapshot(proj) == before and not (real / "bok").exists()
    p = cli(proj, "status")  # the store itself still works through the link
    assert "stored file(s) verified" in norm(p.stderr)


@pytest.mark.slow
def test_no_data_at_all_stops_before_the_notebooks(proj, tmp_path):
    (proj / "data" / "raw").rename(tmp_path / "raw-aside")  # a clone with no raw store, no mirror, offline
    book = tree_digest(proj / BOOK)
    state = (proj / BUILD / "state.json").read_bytes()
    p = cli(proj, "report", "--offline", "--renderer", "pandoc", check=False)
    out = assert_error(p, 2, "No data to build 2026-33", "--mirror", "KG_MIRROR")
    assert "missing because no source was reachable" in out
    assert tree_digest(proj / BOOK) == book and (proj / BUILD / "state.json").read_bytes() == state
