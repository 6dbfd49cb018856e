"""Command-line program: `kunnskapsgrunnlag fetch | build | render | report | status | diff | clean`."""
from __future__ import annotations

import errno
import sys
import time
import warnings
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import outputs, pipeline, rawstore
from .config import ConfigError, make_settings
from .fetch.ssb import InvalidQuery
from .runner import BuildInterrupted, NotebookFailed, VariablesError
from .errors import ValidationError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                  help="Build the Buskerudplanen knowledge base: fetch data, run notebooks, render the report.")
console = Console(stderr=True)
DEBUG = {"on": False}


@app.callback()
def _global(debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error.")):
    """Build the Buskerudplanen knowledge base: fetch data, run notebooks, render the report."""
    DEBUG["on"] = debug


def _show_warning(message, category, filename, lineno, file=None, line=None):
    console.print(f"[yellow]Warning:[/] {message}")


warnings.showwarning = _show_warning

EditionOpt = typer.Option(None, "--edition", help="Edition year (see config/project.yml `editions`).")
RegionOpt = typer.Option(None, "--region", help="Fylke code (2024), default 33 Buskerud.")
CompareOpt = typer.Option(None, "--compare", help="Comparison regions (repeat), default from config.")
MirrorOpt = typer.Option(None, "--mirror", help="Offline mirror folder, e.g. ../shared/data.")
WaitOpt = typer.Option(False, "--wait", help="If another run of the same configuration is going on, wait for it instead of stopping.")


def _settings(edition, region, compare):
    return make_settings(edition=edition, region=region, comparison_regions=compare or None)


def _fail(msg: str, code: int = 1):
    console.print(f"[bold red]Error:[/] {msg}")
    raise typer.Exit(code)


def _run_fetch(settings, mirror, offline, datasets):
    table = Table(title="Fetch", show_lines=False)
    for col in ("dataset", "status", "source", "detail"):
        table.add_column(col)

    def show(r):
        colour = "green" if r.status == "ok" else "yellow"
        table.add_row(r.dataset, f"[{colour}]{r.status}[/]", r.source, r.detail)

    with console.status("Fetching datasets …"):
        online, results = pipeline.fetch(settings, mirror=mirror, offline=offline, only=datasets, on_result=show)
    console.print(f"Network: {'online' if online else 'offline'}; mirror: {mirror or '-'}")
    console.print(table)
    missing = [r for r in results if r.status == "missing"]
    if missing:
        console.print(f"[yellow]{len(missing)} dataset(s) missing[/] – shown as missing in the report, "
                      "with the query that fetches them (see build/changes.md and the Datakilder appendix).")
    return results


def _run_build(settings, jobs, force, only):
    rows = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as prog:
        def event(name, status, msg):
            if name not in rows:
                rows[name] = prog.add_task(name, total=1)
            colour = {"ran": "green", "skipped": "dim", "failed": "red", "blocked": "red", "running": "cyan"}[status]
            prog.update(rows[name], description=f"[{colour}]{name}: {status}[/] {msg}",
                        completed=0 if status == "running" else 1)
        res = pipeline.build(settings, jobs=jobs, force=force, only=only, on_event=event)
    console.print(f"Notebooks: {res.count('ran')} ran, {res.count('skipped')} unchanged, "
                  f"{res.count('failed')} failed, {res.count('blocked')} blocked")
    for m in res.missing:
        console.print(f"[yellow]MISSING[/] {m['dataset']} ({m['notebook']}): {m['reason']}\n    fetch: {m['how_to_fetch']}")
    for s in res.steps:
        if s.status == "failed":
            console.print(f"[bold red]FAILED[/] {s.message}\n    log: {settings.build_dir / 'logs' / (s.notebook + '.log')}; "
                          f"failed notebook: {settings.build_dir / 'notebooks' / (s.notebook + '.failed.ipynb')}; "
                          "the last good output is kept")
    if res.changes:
        console.print(f"{len(res.changes)} number(s) in the report changed; see {settings.build_dir / 'changes.md'}")
    return res


def _os_message(exc: OSError) -> str:
    where = exc.filename or "a file"
    if exc.errno == errno.ENOSPC:
        return (f"the disk is full (writing {where}); free some space and run again "
                "(the previous outputs are kept)")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"cannot write {where}: {exc.strerror.lower()} (read-only or not yours); make the folder writable "
                "(e.g. `chmod -R u+w`) or run from a copy of the project you own")
    if exc.errno == errno.ENOENT:
        return f"{where} does not exist"
    return f"{exc.strerror or exc} ({where})"


def _guard(fn):
    """Run a command: every error the user can cause is one message and a non-zero exit (traceback with --debug)."""
    from .render import RenderError

    try:
        return fn()
    except typer.Exit:
        raise
    except BaseException as exc:  # noqa: BLE001 - the single place that turns errors into messages
        if DEBUG["on"]:
            console.print_exception()
        if isinstance(exc, (BuildInterrupted, KeyboardInterrupt)):
            done = getattr(exc, "finished", None)
            detail = f" ({len(done)} notebook(s) finished before; {len(exc.cancelled)} cancelled)" if done is not None else ""
            _fail(f"interrupted (Ctrl-C){detail}; queued notebooks were cancelled and running ones stopped. "
                  "The last good outputs and the previous book are kept; run the command again to continue.", 130)
        if isinstance(exc, (ConfigError, InvalidQuery, ValidationError, rawstore.RawDataError, outputs.OutputError,
                            outputs.LockBusy, pipeline.StaleBuildError, pipeline.DatasetError, VariablesError)):
            _fail(str(exc), 2)
        if isinstance(exc, NotebookFailed):
            _fail(str(exc))
        if isinstance(exc, RenderError):
            _fail(f"rendering failed: {exc} (the previous book is kept)")
        if isinstance(exc, KeyError):
            _fail(f"{str(exc).strip(chr(39) + chr(34))} (a key missing from a file or dataset; run with --debug for details)", 2)
        if isinstance(exc, OSError):
            _fail(_os_message(exc), 1)
        if isinstance(exc, SystemExit):
            raise
        _fail(f"unexpected error: {type(exc).__name__}: {exc}. Run again with --debug for the traceback "
              "and report it with that output.", 1)


@app.command()
def fetch(mirror: Optional[Path] = MirrorOpt,
          offline: bool = typer.Option(False, "--offline", help="Do not try the online APIs."),
          dataset: Optional[List[str]] = typer.Option(None, "--dataset", help="Only these datasets (repeat)."),
          edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt, compare: Optional[List[str]] = CompareOpt):
    """Fetch every catalogued dataset (online API, else the offline mirror) into data/raw + manifest."""
    _guard(lambda: _run_fetch(_settings(edition, region, compare), mirror, offline, dataset))


@app.command()
def build(jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Notebooks to run concurrently."),
          force: bool = typer.Option(False, "--force", help="Rerun notebooks even if unchanged."),
          only: Optional[List[str]] = typer.Option(None, "--only", help="Only these notebooks (repeat)."),
          renderer: str = typer.Option("auto", "--renderer", help="auto | quarto | pandoc"),
          no_render: bool = typer.Option(False, "--no-render", help="Run the notebooks only."),
          out: Optional[Path] = typer.Option(None, "--out", help="Output folder for the book (default _book/<edition>-<region>)."),
          wait: bool = WaitOpt,
          edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt, compare: Optional[List[str]] = CompareOpt):
    """Run the notebooks (papermill) and render the report (HTML + PDF)."""
    def go():
        s = _settings(edition, region, compare)
        _check_renderer(renderer)
        if out is not None and not no_render:
            outputs.check_output_dir(out, s.root, what="--out folder")  # before touching anything
        with _lock(s, wait):
            res = _run_build(s, jobs, force, only)
            if not res.ok:
                _fail(f"notebook phase failed; the report was not rendered (the previous {_book_name(s, out)} is kept)")
            if not no_render:
                _run_render(s, renderer, out)
    _guard(go)


def _check_renderer(renderer):
    import shutil

    if renderer not in {"auto", "quarto", "pandoc"}:
        _fail(f"Unknown renderer {renderer!r}; valid: auto, quarto, pandoc", 2)
    if renderer == "quarto" and shutil.which("quarto") is None:
        _fail("--renderer quarto, but Quarto is not installed (no `quarto` on PATH). Install it "
              "(https://quarto.org or conda-forge `quarto`), or use --renderer auto / pandoc", 2)


def _book_name(settings, out):
    return str(out) if out else f"_book/{settings.config_id}/"


def _lock(settings, wait):
    return pipeline.configuration_lock(settings, wait=wait, on_message=lambda m: console.print(f"[yellow]{m}[/]"))


def _run_render(settings, renderer, out, check=False, allow_stale=False):
    _check_renderer(renderer)
    t0 = time.perf_counter()
    with console.status("Rendering the report …"):
        res = pipeline.render(settings, renderer=renderer, out_dir=out, check=check, allow_stale=allow_stale,
                              on_message=lambda m: console.print(f"[yellow]{m}[/]"))
    how = "unchanged, not re-rendered" if res.get("skipped") else f"rendered with {res.get('renderer')} in {time.perf_counter() - t0:.1f} s"
    console.print(f"Report ({settings.config_id}: utgave {settings.edition}, {settings.region_name}) {how}: "
                  f"{res.get('html')}  {res.get('pdf')}")
    if out is None:
        console.print(f"All built books: {settings.root / '_book' / 'index.html'}")


@app.command()
def render(renderer: str = typer.Option("auto", "--renderer", help="auto | quarto | pandoc"),
           out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default _book/<edition>-<region>)."),
           allow_stale: bool = typer.Option(False, "--allow-stale", help="Publish even if the last build failed or its notebooks are stale."),
           wait: bool = WaitOpt,
           edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt, compare: Optional[List[str]] = CompareOpt):
    """Render the report from the executed notebooks and the chapters (refuses a failed or stale build)."""
    def go():
        s = _settings(edition, region, compare)
        _check_renderer(renderer)
        if out is not None:
            outputs.check_output_dir(out, s.root, what="--out folder")  # before touching anything
        with _lock(s, wait):
            _run_render(s, renderer, out, check=True, allow_stale=allow_stale)
    _guard(go)


@app.command()
def report(mirror: Optional[Path] = MirrorOpt,
           offline: bool = typer.Option(False, "--offline", help="Do not try the online APIs."),
           jobs: int = typer.Option(2, "--jobs", "-j", min=1),
           force: bool = typer.Option(False, "--force"),
           renderer: str = typer.Option("auto", "--renderer"),
           out: Optional[Path] = typer.Option(None, "--out"),
           no_render: bool = typer.Option(False, "--no-render", help="Fetch and run the notebooks only."),
           wait: bool = WaitOpt,
           edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt, compare: Optional[List[str]] = CompareOpt):
    """The whole job: fetch, run the notebooks, render HTML and PDF."""
    def go():
        s = _settings(edition, region, compare)
        _check_renderer(renderer)
        if out is not None:
            outputs.check_output_dir(out, s.root, what="--out folder")  # before touching anything
        with _lock(s, wait):
            _run_fetch(s, mirror, offline, None)
            res = _run_build(s, jobs, force, None)
            if not res.ok:
                _fail(f"notebook phase failed; the report was not rendered (the previous {_book_name(s, out)} is kept)")
            if not no_render:
                _run_render(s, renderer, out)
    _guard(go)


@app.command()
def status(edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt):
    """Show the raw data manifest (what is fetched, from where, what is missing) and the configuration's build."""
    _guard(lambda: _status(edition, region))


def _status(edition, region):
    s = _settings(edition, region, None)
    man = rawstore.read_manifest(s.raw_dir)["datasets"]
    t = Table(title=f"data/raw ({s.raw_dir})")
    for c in ("dataset", "status", "source", "retrieved", "file / how to fetch"):
        t.add_column(c)
    for name, rec in sorted(man.items()):
        cur = rec.get("current", {})
        ok = cur.get("status") == "ok"
        t.add_row(name, cur.get("status", "?"), cur.get("source", {}).get("kind", "-") if ok else "-",
                  (cur.get("retrieved_at") or "")[:19], cur.get("file") if ok else cur.get("how_to_fetch", ""))
    Console().print(t)
    _print_build_state(s)


def _print_build_state(s):
    last, stale = pipeline.stale_notebooks(s)
    book = s.book_dir
    if not last:
        state = "not built"
    elif last.get("ok") and not stale:
        state = f"built {str(last.get('finished', ''))[:19]}, up to date"
    elif last.get("ok"):
        state = f"built {str(last.get('finished', ''))[:19]}; stale: {', '.join(stale)}"
    else:
        state = f"last build failed ({', '.join(last.get('failed', []) + last.get('blocked', [])) or 'interrupted'})"
    Console().print(f"Configuration {s.config_id} (utgave {s.edition}, {s.region_name}): {state}. "
                    f"Build folder: {s.build_dir}; book: {book / 'index.html' if (book / 'index.html').exists() else '(not rendered)'}")


@app.command()
def diff(old: int = typer.Argument(..., help="The earlier edition, e.g. 2025."),
         new: int = typer.Argument(..., help="The later edition, e.g. 2026."),
         region: Optional[str] = RegionOpt):
    """Every report number that differs between two built editions (same region), with both values."""
    def go():
        res = pipeline.diff_editions(old, new, region)
        o, n = res["old"], res["new"]
        t = Table(title=f"Endrede tall: utgave {o.edition} → {n.edition}, {o.region_name} ({o.region})")
        for c in ("variabel", f"utgave {o.edition}", f"utgave {n.edition}"):
            t.add_column(c)
        for k, a, b in res["rows"]:
            t.add_row(k, a, b)
        Console(width=max(Console().width, 140)).print(t)
        console.print(f"{len(res['rows'])} of {res['total']} variable(s) differ; written to {res['md']} and {res['csv']}")
    _guard(go)


@app.command()
def clean():
    """Remove what the tool made (build/, the books in _book/, data/processed/<configuration>/); nothing else."""
    def go():
        from .config import project_root

        removed = pipeline.clean(project_root())
        console.print(f"Removed {len(removed)} item(s) made by kunnskapsgrunnlag" +
                      "".join(f"\n  {p}" for p in removed))
    _guard(go)


def _terminate(signum, frame):  # SIGTERM: stop like Ctrl-C (cancel, terminate notebooks, keep last good outputs)
    raise KeyboardInterrupt


def main():  # pragma: no cover
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
