"""Command-line program: `kunnskapsgrunnlag fetch | build | render | report | status | diff | clean`."""

from __future__ import annotations

import errno
import os
import time
import warnings
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import kernels, outputs, pipeline, rawstore
from .config import ConfigError, make_settings, set_project
from .errors import FetchRefused, ValidationError
from .fetch.query import ResponseShapeError, TemplateError
from .fetch.ssb import InvalidQuery
from .runner import BuildInterrupted, NotebookFailed, VariablesError

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Build the Buskerudplanen knowledge base: fetch data, run notebooks, render the report.",
)
console = Console(stderr=True)
DEBUG = {"on": False}


@app.callback()
def _global(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
    project: Optional[Path] = typer.Option(
        None,
        "--project",
        "-C",
        help="The project folder (default: found from the current directory upwards, like git).",
    ),
):
    """Build the Buskerudplanen knowledge base: fetch data, run notebooks, render the report."""
    DEBUG["on"] = debug
    try:
        set_project(project)  # None: every command finds the project from the current directory
    except ConfigError as exc:
        _fail(str(exc), 2)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    console.print(f"[yellow]Warning:[/] {message}")


warnings.showwarning = _show_warning

EditionOpt = typer.Option(None, "--edition", help="Edition year (see config/project.yml `editions`).")
RegionOpt = typer.Option(None, "--region", help="Fylke code (2024), default 33 Buskerud.")
CompareOpt = typer.Option(None, "--compare", help="Comparison regions (repeat), default from config.")
MirrorOpt = typer.Option(
    None,
    "--mirror",
    help="Offline mirror folder (default: $KG_MIRROR, else `defaults.mirror` in config/project.yml, ../shared/data).",
)
WaitOpt = typer.Option(
    False, "--wait", help="If another run of the same configuration is going on, wait for it instead of stopping."
)
ColdOpt = typer.Option(
    False,
    "--cold",
    help="Start every notebook's kernel as a new process that imports everything "
    "itself (no warm kernels; for comparison, see docs/benchmarks.md).",
)


def _settings(edition, region, compare):
    return make_settings(edition=edition, region=region, comparison_regions=compare or None)


def _notice(msg: str) -> None:
    """A message from a running step (a lock to wait for, a stale book published anyway, …)."""
    console.print(f"[yellow]{msg}[/]")


def _fail(msg: str, code: int = 1):
    console.print(f"[bold red]Error:[/] {msg}")
    raise typer.Exit(code)


def _run_fetch(settings, mirror, offline, datasets, rebuild_manifest=False):
    table = Table(title="Fetch", show_lines=False)
    for col in ("dataset", "status", "source", "detail"):
        table.add_column(col)

    def show(r):
        colour = {"ok": "green", "missing": "yellow"}.get(r.status, "red")
        detail = r.detail if r.status not in {"refused", "bad"} else r.detail.splitlines()[0][:160]
        table.add_row(r.dataset, f"[{colour}]{r.status}[/]", r.source, detail)

    if rebuild_manifest:
        from .config import load_catalogue

        new, notes = rawstore.rebuild_manifest(settings.raw_dir, load_catalogue(settings.root))
        console.print(
            f"Rebuilt {settings.raw_dir / rawstore.MANIFEST} from the files on disk "
            f"({len(new['datasets'])} datasets); fetch now refreshes each entry from its source."
        )
        for n in notes:
            console.print(f"[yellow]skipped[/] {n}")
    mirror, origin = pipeline.resolve_mirror(settings, mirror)
    try:
        with console.status("Fetching datasets …"):
            online, results = pipeline.fetch(settings, mirror=mirror, offline=offline, only=datasets, on_result=show)
    except FetchRefused:  # show what was fetched, then the refusals (one clear message)
        console.print(table)
        raise
    console.print(f"Network: {'online' if online else 'offline'}; mirror: {mirror or '-'} ({origin})")
    console.print(table)
    _print_resolved_queries(settings, results)
    for r in results:
        if r.restored:
            console.print(f"[green]Restored[/] {r.dataset}: {r.detail}")
    missing = [r for r in results if r.status == "missing"]
    if missing:
        console.print(
            f"[yellow]{len(missing)} dataset(s) missing[/] – shown as missing in the report, "
            f"with the query that fetches them (see {settings.build_dir / 'changes.md'} and the "
            "Datakilder appendix)."
        )
    from .config import load_catalogue

    cat = load_catalogue(settings.root)
    unreachable = [
        r
        for r in missing
        if cat.get(r.dataset, {}).get("provider") not in {"manual", "published"} and (not online) and (mirror is None)
    ]
    if unreachable:
        console.print(
            f"[yellow]{len(unreachable)} dataset(s) missing because no source was reachable[/] "
            f"(offline and no mirror: {origin}); {pipeline.MIRROR_HINT}."
        )
    return results


def _print_resolved_queries(settings, results):
    """The configuration's resolved online query of every API dataset (templates filled in)."""
    from .config import load_catalogue
    from .fetch import how_to_fetch

    cat = load_catalogue(settings.root)
    api = [r for r in results if cat.get(r.dataset, {}).get("provider") in {"ssb", "udir"}]
    if api:
        console.print(
            f"Resolved online queries (edition {settings.edition}, region {settings.region}; "
            "`fetch --dry-run` prints the exact requests):"
        )
    for r in api:
        console.print(
            f"  {r.dataset}: {how_to_fetch(cat[r.dataset], settings)}", markup=False, highlight=False, soft_wrap=True
        )


def _notebook_counts(res, statuses=("ran", "skipped")) -> str:
    """«3 ran, 9 unchanged[, 0 failed, 0 blocked]»: a notebook phase (runner.BuildResult) as every
    report's summary says it (one configuration, and each fylke of `report --all-regions`)."""
    return ", ".join(f"{res.count(st)} {'unchanged' if st == 'skipped' else st}" for st in statuses)


def _how_rendered(res: dict, seconds: float | None = None) -> str:
    """A render (pipeline.render's result) as every report's summary says it."""
    if res.get("skipped"):
        return "unchanged, not re-rendered"
    return f"rendered with {res.get('renderer')}" + ("" if seconds is None else f" in {seconds:.1f} s")


def _run_build(settings, jobs, force, only):
    rows = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as prog:

        def event(name, status, msg):
            if name not in rows:
                rows[name] = prog.add_task(name, total=1)
            colour = {"ran": "green", "skipped": "dim", "failed": "red", "blocked": "red", "running": "cyan"}[status]
            prog.update(
                rows[name],
                description=f"[{colour}]{name}: {status}[/] {msg}",
                completed=0 if status == "running" else 1,
            )

        res = pipeline.build(settings, jobs=jobs, force=force, only=only, on_event=event)
    console.print(f"Notebooks: {_notebook_counts(res, ('ran', 'skipped', 'failed', 'blocked'))}")
    for m in res.missing:
        console.print(
            f"[yellow]MISSING[/] {m['dataset']} ({m['notebook']}): {m['reason']}\n    fetch: {m['how_to_fetch']}"
        )
    for s in res.steps:
        if s.status == "failed":
            console.print(
                f"[bold red]FAILED[/] {s.message}\n    log: {settings.build_dir / 'logs' / (s.notebook + '.log')}; "
                f"failed notebook: {settings.build_dir / 'notebooks' / (s.notebook + '.failed.ipynb')}; "
                "the last good output is kept"
            )
    if res.changes and all("(ny) ->" in c for c in res.changes):
        console.print(
            f"First build of {settings.config_id}: {len(res.changes)} number(s) in the report computed; "
            f"what ran and why: {settings.build_dir / 'changes.md'}"
        )
    elif res.changes:
        console.print(
            f"{len(res.changes)} number(s) in the report changed; what ran and why: {settings.build_dir / 'changes.md'}"
        )
    elif res.count("ran"):
        console.print(f"No number in the report changed; what ran and why: {settings.build_dir / 'changes.md'}")
    return res


def _os_message(exc: OSError) -> str:
    where = exc.filename or "a file"
    if exc.errno == errno.ENOSPC:
        return f"the disk is full (writing {where}); free some space and run again (the previous outputs are kept)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = exc.strerror or os.strerror(exc.errno)  # strerror is None when the OSError was raised by hand
        return (
            f"cannot write {where}: {why.lower()} (read-only or not yours); make the folder writable "
            "(e.g. `chmod -R u+w`) or run from a copy of the project you own"
        )
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
            detail = (
                f" ({len(done)} notebook(s) finished before; {len(exc.cancelled)} cancelled)"
                if done is not None
                else ""
            )
            sig = getattr(exc, "signal", None) or (exc if isinstance(exc, Stopped) else None)
            how = f"stopped by {sig.name}" if sig is not None else "interrupted (Ctrl-C)"
            _fail(
                f"{how}{detail}; queued notebooks were cancelled and running ones stopped. "
                "The last good outputs and the previous book are kept; run the command again to continue.",
                128 + sig.signum if sig is not None else 130,
            )
        if isinstance(
            exc,
            (
                ConfigError,
                InvalidQuery,
                ValidationError,
                rawstore.RawDataError,
                outputs.OutputError,
                outputs.LockBusy,
                pipeline.StaleBuildError,
                pipeline.DatasetError,
                VariablesError,
                pipeline.NoDataError,
                ResponseShapeError,
                TemplateError,
                FetchRefused,
            ),
        ):
            _fail(str(exc), 2)
        if isinstance(exc, NotebookFailed):
            _fail(str(exc))
        if isinstance(exc, RenderError):
            _fail(f"rendering failed: {exc} (the previous book is kept)")
        if isinstance(exc, KeyError):
            msg = str(exc.args[0]) if exc.args else ""
            _fail(
                msg
                if " " in msg
                else f"missing key {msg!r} (in a configuration file or a dataset; run with --debug to see where)",
                2,
            )
        if isinstance(exc, OSError):
            _fail(_os_message(exc), 1)
        if isinstance(exc, SystemExit):
            raise
        _fail(
            f"unexpected error: {type(exc).__name__}: {exc}. Run again with --debug for the traceback "
            "and report it with that output.",
            1,
        )


@app.command()
def fetch(
    mirror: Optional[Path] = MirrorOpt,
    offline: bool = typer.Option(False, "--offline", help="Do not try the online APIs."),
    dataset: Optional[List[str]] = typer.Option(None, "--dataset", help="Only these datasets (repeat)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print every request the online fetch would send (method, URL, body); write nothing."
    ),
    rebuild_manifest: bool = typer.Option(
        False, "--rebuild-manifest", help="Rebuild data/raw/manifest.json from the raw files on disk first."
    ),
    edition: Optional[int] = EditionOpt,
    region: Optional[str] = RegionOpt,
    compare: Optional[List[str]] = CompareOpt,
):
    """Fetch every catalogued dataset (online API, else the offline mirror) into data/raw + manifest.

    A changed or deleted raw file is restored from its source; a file that fails its checks is
    refused (kept aside in data/raw/<dataset>/rejected/) and the previous vintage stays current.
    """
    if dry_run:
        _guard(lambda: _print_dry_run(_settings(edition, region, compare), dataset))
        return
    _guard(lambda: _run_fetch(_settings(edition, region, compare), mirror, offline, dataset, rebuild_manifest))


def _print_dry_run(settings, datasets):
    import json

    from .fetch.online_check import dry_run

    reqs, errors = dry_run(settings, datasets)
    out = Console(soft_wrap=True)  # stdout, unwrapped: the lines can be copied and replayed
    out.print(
        f"# {len(reqs)} request(s) for edition {settings.edition}, region {settings.region}; "
        "nothing is sent or written",
        markup=False,
    )
    for r in reqs:
        out.print(f"\n# {r.dataset}", markup=False)
        out.print(f"{r.method} {r.url}", markup=False, highlight=False)
        if r.body is not None:
            out.print(json.dumps(r.body, ensure_ascii=False), markup=False, highlight=False)
        if r.get_url:
            out.print(f"# as GET: {r.get_url}", markup=False, highlight=False)
    for e in errors:
        console.print(f"[yellow]cannot fill in:[/] {e}")


@app.command()
def build(
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Notebooks to run concurrently."),
    force: bool = typer.Option(False, "--force", help="Rerun notebooks even if unchanged."),
    only: Optional[List[str]] = typer.Option(None, "--only", help="Only these notebooks (repeat)."),
    renderer: str = typer.Option("auto", "--renderer", help="auto | quarto | pandoc"),
    no_render: bool = typer.Option(False, "--no-render", help="Run the notebooks only."),
    out: Optional[Path] = typer.Option(
        None, "--out", help="Output folder for the book (default _book/<edition>-<region>)."
    ),
    wait: bool = WaitOpt,
    cold: bool = ColdOpt,
    edition: Optional[int] = EditionOpt,
    region: Optional[str] = RegionOpt,
    compare: Optional[List[str]] = CompareOpt,
):
    """Run the notebooks (papermill) and render the report (HTML + PDF)."""
    kernels.set_cold(cold or kernels.is_cold())

    def go():
        s = _prepared(edition, region, compare, renderer, out if not no_render else None)
        with _lock(s, wait):
            _build_and_render(s, jobs, force, only, renderer, out, no_render)

    _guard(go)


def _prepared(edition, region, compare, renderer, out):
    """The safety prologue of build, render and report: the configuration, the renderer and the
    --out folder are checked before anything is touched. Returns the settings."""
    s = _settings(edition, region, compare)
    _check_renderer(renderer)
    if out is not None:
        outputs.check_output_dir(out, s.root, what="--out folder")  # before touching anything
    return s


def _build_and_render(settings, jobs, force, only, renderer, out, no_render):
    res = _run_build(settings, jobs, force, only)
    if not res.ok:
        _fail(f"notebook phase failed; the report was not rendered (the previous {_book_name(settings, out)} is kept)")
    if not no_render:
        _run_render(settings, renderer, out)


def _check_renderer(renderer):
    import shutil

    if renderer not in {"auto", "quarto", "pandoc"}:
        _fail(f"Unknown renderer {renderer!r}; valid: auto, quarto, pandoc", 2)
    if renderer == "quarto" and shutil.which("quarto") is None:
        _fail(
            "--renderer quarto, but Quarto is not installed (no `quarto` on PATH). Install it "
            "(https://quarto.org or conda-forge `quarto`), or use --renderer auto / pandoc",
            2,
        )


def _book_name(settings, out):
    return str(out) if out else f"_book/{settings.config_id}/"


def _lock(settings, wait):
    return pipeline.configuration_lock(settings, wait=wait, on_message=_notice)


def _run_render(settings, renderer, out, check=False, allow_stale=False):
    _check_renderer(renderer)
    t0 = time.perf_counter()
    with console.status("Rendering the report …"):
        res = pipeline.render(
            settings,
            renderer=renderer,
            out_dir=out,
            check=check,
            allow_stale=allow_stale,
            on_message=_notice,
        )
    how = _how_rendered(res, time.perf_counter() - t0)
    console.print(
        f"Report ({settings.config_id}: utgave {settings.edition}, {settings.region_name}) {how}: "
        f"{res.get('html')}  {res.get('pdf')}"
    )
    if out is None:
        console.print(f"All built books: {settings.root / '_book' / 'index.html'}")


@app.command()
def render(
    renderer: str = typer.Option("auto", "--renderer", help="auto | quarto | pandoc"),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default _book/<edition>-<region>)."),
    allow_stale: bool = typer.Option(
        False, "--allow-stale", help="Publish even if the last build failed or its notebooks are stale."
    ),
    wait: bool = WaitOpt,
    edition: Optional[int] = EditionOpt,
    region: Optional[str] = RegionOpt,
    compare: Optional[List[str]] = CompareOpt,
):
    """Render the report from the executed notebooks and the chapters (refuses a failed or stale build)."""

    def go():
        s = _prepared(edition, region, compare, renderer, out)
        if not (s.build_dir / "state.json").exists():  # refuse before making any folder
            raise pipeline.StaleBuildError(
                f"configuration {s.config_id} has not been built; run `kunnskapsgrunnlag build "
                f"--edition {s.edition} --region {s.region}` first (nothing was changed)"
            )
        with _lock(s, wait):
            _run_render(s, renderer, out, check=True, allow_stale=allow_stale)

    _guard(go)


@app.command()
def report(
    mirror: Optional[Path] = MirrorOpt,
    offline: bool = typer.Option(False, "--offline", help="Do not try the online APIs."),
    jobs: Optional[int] = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        help="Notebooks (or book renders) running at once; default 2, with --all-regions twice the CPUs (at most 8).",
    ),
    force: bool = typer.Option(False, "--force"),
    renderer: str = typer.Option("auto", "--renderer"),
    out: Optional[Path] = typer.Option(None, "--out"),
    no_render: bool = typer.Option(False, "--no-render", help="Fetch and run the notebooks only."),
    wait: bool = WaitOpt,
    cold: bool = ColdOpt,
    all_regions: bool = typer.Option(
        False,
        "--all-regions",
        help="Every fylke of the edition in one run (one "
        "fetch; --jobs = notebooks at once across all), then the atlas page "
        "_book/<edition>/index.html. Exit 1 if any fylke failed.",
    ),
    edition: Optional[int] = EditionOpt,
    region: Optional[str] = RegionOpt,
    compare: Optional[List[str]] = CompareOpt,
):
    """The whole job: fetch, run the notebooks, render HTML and PDF."""
    kernels.set_cold(cold or kernels.is_cold())
    if all_regions:
        if region is not None or out is not None:
            _fail("--all-regions builds every fylke into its own folders; leave out --region and --out", 2)
        opts = pipeline.RunOptions(
            jobs=jobs or pipeline.atlas_jobs(), force=force, renderer=renderer, render=not no_render, wait=wait
        )
        _guard(lambda: _report_all(edition, compare, mirror, offline, opts))
        return

    def go():
        s = _prepared(edition, region, compare, renderer, out)
        with _lock(s, wait):
            kernels.prestart(s.root)  # warm kernels: the server imports while the fetch runs
            _run_fetch(s, mirror, offline, None)
            _build_and_render(s, jobs or 2, force, None, renderer, out, no_render)

    _guard(go)


def _report_all(edition, compare, mirror, offline, opts: pipeline.RunOptions) -> pipeline.AtlasRun:
    """`report --all-regions`: one fetch, every fylke (pipeline.build_all), a line per fylke as it
    finishes, a summary table, the atlas page; exit 1 if any fylke failed."""
    _check_renderer(opts.renderer)
    settings = pipeline.all_settings(edition, compare)
    console.print(
        f"Atlas: edition {settings[0].edition}, {len(settings)} fylker, --jobs {opts.jobs} notebooks at once "
        f"across all ({'cold' if kernels.is_cold() else 'warm'} kernels)"
    )
    kernels.prestart(settings[0].root)  # the kernel server imports while the fetch runs
    _run_fetch(settings[0], mirror, offline, None)  # data/raw is shared: one fetch for every configuration

    def said(o: pipeline.RegionOutcome) -> str:
        return _how_rendered(o.rendered) if o.rendered else o.message

    def show(o: pipeline.RegionOutcome) -> None:
        colour = {"ok": "green", "failed": "bold red"}.get(o.status, "yellow")
        console.print(
            f"[{colour}]{o.status:>11}[/] {o.settings.config_id} {o.settings.region_name}: "
            f"{_notebook_counts(o.build)}, {o.seconds:.0f} s {said(o)}",
            highlight=False,
        )

    run = pipeline.build_all(settings, opts, on_region=show, on_message=_notice)
    table = Table(
        title=f"Atlas {settings[0].edition}: {sum(o.status == 'ok' for o in run.outcomes)} of "
        f"{len(settings)} fylker built in {run.seconds:.0f} s"
    )
    for col in ("configuration", "fylke", "status", "notebooks", "seconds", "book / problem"):
        table.add_column(col)
    for o in run.outcomes:
        book = str(o.rendered.get("html") or "") if o.status == "ok" else o.message
        table.add_row(
            o.settings.config_id, o.settings.region_name, o.status, _notebook_counts(o.build), f"{o.seconds:.0f}", book
        )
    console.print(table)
    if any(o.status == "ok" for o in run.outcomes):  # the page needs the builds; it links the books that exist
        from .atlaspage import write_atlas
        from .runner import stale_notebooks

        run.page = write_atlas(settings[0].root, settings[0].edition, stale_notebooks)
        console.print(f"Atlas page: {run.page['html']}  (PDF {run.page['pdf'].name}, CSV {run.page['csv'].name})")
    bad = [o for o in run.outcomes if o.status != "ok"]
    if bad:
        _fail(
            f"{len(bad)} of {len(settings)} fylker did not build: "
            + "; ".join(f"{o.settings.region_name} ({o.settings.config_id}): {o.status}" for o in bad)
            + ". The others are built; run the same command again to retry (unchanged fylker rerun nothing)"
        )
    return run


@app.command("check-online")
def check_online(
    dataset: Optional[List[str]] = typer.Option(None, "--dataset", help="Only these datasets (repeat)."),
    edition: Optional[int] = EditionOpt,
    region: Optional[str] = RegionOpt,
    compare: Optional[List[str]] = CompareOpt,
):
    """Check the configuration's online queries against SSB's and Udir's metadata (no data download)."""

    def go():
        from .fetch.online_check import check_online as run

        checks = run(_settings(edition, region, compare), only=dataset)
        t = Table(title="Online queries against the APIs' metadata")
        for c in ("dataset", "request", "check", "result", "detail"):
            t.add_column(c)
        for c in checks:
            t.add_row(c.dataset, c.request, c.what, "[green]valid[/]" if c.ok else "[bold red]invalid[/]", c.detail)
        Console().print(t)
        bad = [c for c in checks if not c.ok]
        if any("not reachable" in c.detail for c in bad):
            _fail("SSB or Udir could not be reached; run check-online on a machine that is online")
        if bad:
            _fail(
                f"{len(bad)} check(s) invalid; fix the query in config/datasets.yml (or the edition block) "
                "and run check-online again"
            )
        console.print(f"[green]All {len(checks)} checks valid.[/]")

    _guard(go)


@app.command()
def status(edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt):
    """Show the raw data manifest, verify every stored file's sha256 (exit 1 if one is bad) and the
    configuration's build.

    What is fetched, from where, what is missing (with the query that fetches it), which files
    are tampered or gone (with the command that restores them), and the files kept aside."""

    def go():
        s = _settings(edition, region, None)
        ok = _raw_status(s)
        ok = _print_build_state(s) and ok
        if not ok:
            raise typer.Exit(1)

    _guard(go)


def _raw_status(s) -> bool:
    """The raw-store part of `status`: one row per dataset, sha256 of every stored file checked.
    Returns False if a stored file is tampered or missing."""
    man = rawstore.read_manifest(s.raw_dir)["datasets"]  # an invalid manifest: one message (ManifestError)
    files = rawstore.verify_files(s.raw_dir)
    state = {(f["dataset"], f["file"]): f["state"] for f in files}
    t = Table(title=f"data/raw ({s.raw_dir})")
    for c in ("dataset", "status", "source", "retrieved", "check", "file / how to fetch"):
        t.add_column(c)
    for name, rec in sorted(man.items()):
        cur = rec.get("current", {})
        ok = cur.get("status") == "ok"
        check = "-"
        if ok:
            st = state.get((name, cur.get("file")), "ok")
            check = "[green]sha256 ok[/]" if st == "ok" else f"[bold red]{st.upper()}[/]"
        status_txt = cur.get("status", "?") + (" (pinned)" if rec.get("pinned") else "")
        t.add_row(
            name,
            status_txt,
            (cur.get("source") or {}).get("kind", "-") if ok else "-",
            (cur.get("retrieved_at") or "")[:19],
            check,
            cur.get("file") if ok else cur.get("how_to_fetch", ""),
        )
    Console().print(t)
    bad = [f for f in files if f["state"] != "ok"]
    for f in bad:
        cur = man[f["dataset"]].get("current", {})
        hint = (
            rawstore.restore_hint(f["dataset"], cur)
            if f["role"] == "current"
            else "an earlier vintage; it cannot be used with `kunnskapsgrunnlag use` until it is restored"
        )
        console.print(
            f"[bold red]{f['state'].upper()}[/] {s.raw_dir / f['file']} ({f['dataset']}, {f['role']} vintage "
            f"{f['vintage']!r}): {hint}"
        )
    aside = rawstore.aside_files(s.raw_dir)
    if aside:
        console.print(
            f"{len(aside)} file(s) kept aside (never current): "
            + ", ".join(str(a.relative_to(s.raw_dir)) for a in aside[:5])
            + (" …" if len(aside) > 5 else "")
        )
    console.print(f"{len(files) - len(bad)} of {len(files)} stored file(s) verified (sha256).")
    return not bad


drop_app = typer.Typer(help="File drops (data/raw/manual/*.csv): see docs/file-drops.md.")
app.add_typer(drop_app, name="drop")


@drop_app.command("remove")
def drop_remove(name: str = typer.Argument(..., help="The dataset of the drop, e.g. skadehendelser.")):
    """Withdraw a file drop (moved to data/raw/manual/withdrawn/, never deleted).

    If the drop's data was current, the dataset becomes missing (its stored vintages stay; `use`
    brings one back); if it was a refused newer drop, the current vintage stays. Recorded in the
    manifest (the dataset's `events`)."""
    from .fetch import withdraw_drop

    def go():
        console.print(f"Withdrew the file drop of {name}: " + withdraw_drop(_settings(None, None, None), name))

    _guard(go)


def _print_build_state(s) -> bool:
    """The configuration's build; False when a build output was changed or deleted after the build."""
    from .runner import tampered_outputs

    bad = tampered_outputs(s)
    for rel, how in bad:
        console.print(
            f"[bold red]{how.upper()}[/] {s.build_dir / rel}: differs from what the notebooks wrote "
            "(sha256 recorded by the runner); `kunnskapsgrunnlag build` rebuilds it, `render` refuses it"
        )
    last, stale = pipeline.stale_notebooks(s)
    book = s.book_dir
    if not last:
        state = "not built"
    elif bad:
        state = f"built {str(last.get('finished', ''))[:19]}; {len(bad)} output(s) changed after the build (above)"
    elif last.get("ok") and not stale:
        state = f"built {str(last.get('finished', ''))[:19]}, up to date"
    elif last.get("ok"):
        state = f"built {str(last.get('finished', ''))[:19]}; stale: {', '.join(stale)}"
    else:
        state = f"last build failed ({', '.join(last.get('failed', []) + last.get('blocked', [])) or 'interrupted'})"
    Console().print(
        f"Configuration {s.config_id} (utgave {s.edition}, {s.region_name}): {state}. "
        f"Build folder: {s.build_dir}; "
        f"book: {book / 'index.html' if (book / 'index.html').exists() else '(not rendered)'}"
    )
    return not bad


@app.command()
def diff(
    old: int = typer.Argument(..., help="The earlier edition, e.g. 2025."),
    new: int = typer.Argument(..., help="The later edition, e.g. 2026."),
    region: Optional[str] = RegionOpt,
):
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
        console.print(
            f"{len(res['rows'])} of {res['total']} variable(s) differ; written to {res['md']} and {res['csv']}"
        )

    _guard(go)


@app.command()
def use(
    dataset: str = typer.Argument(..., help="Dataset name, e.g. population_07459."),
    vintage: str = typer.Argument(
        ...,
        help="Stored vintage label, file name or sha256 prefix (see `status`); `latest` to follow new vintages again.",
    ),
):
    """Return a dataset to an earlier stored vintage (`latest` to follow new vintages again).

    The chosen vintage is pinned: `fetch` leaves it until `use DATASET latest`. Recorded in the
    manifest (the dataset's `events`)."""

    def go():
        e = rawstore.use_vintage(_settings(None, None, None).raw_dir, dataset, vintage)
        how = "follows new vintages again" if vintage == "latest" else "is pinned (`fetch` leaves it as it is)"
        console.print(
            f"{dataset}: now using {e['file']} (vintage {e.get('vintage')!r}); it {how}. "
            "Run `kunnskapsgrunnlag build` to rebuild with it."
        )

    _guard(go)


@app.command()
def clean():
    """Remove what the tool made (build/, the books in _book/, data/processed/<configuration>/); nothing else."""

    def go():
        from .config import project_root

        removed = pipeline.clean(project_root())
        console.print(
            f"Removed {len(removed)} item(s) made by kunnskapsgrunnlag" + "".join(f"\n  {p}" for p in removed)
        )

    _guard(go)


from .edition_cmd import register as _register_edition  # noqa: E402  (`edition new YEAR`, h19)

_register_edition(app, guard=_guard, console=console, print_dry_run=_print_dry_run)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: the build stops like Ctrl-C (queued notebooks cancelled, running ones
    terminated, last good outputs kept)."""

    def __init__(self, signum: int):
        import signal

        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


def _terminate(signum, frame):
    import signal

    for name in ("SIGTERM", "SIGHUP"):  # a second signal must not cut the cleanup short
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Stopped(signum)


def main():
    """The entry point of both `kunnskapsgrunnlag` (console script) and `python -m kunnskapsgrunnlag`."""
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
