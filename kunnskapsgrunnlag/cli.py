"""Command-line program: `kunnskapsgrunnlag fetch | build | render | report | status`."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import pipeline, rawstore
from .config import ConfigError, make_settings
from .fetch.query import ResponseShapeError, TemplateError
from .fetch.ssb import InvalidQuery
from .runner import NotebookFailed
from .errors import FetchRefused, ValidationError

app = typer.Typer(add_completion=False, help="Build the Buskerudplanen knowledge base: fetch data, run notebooks, render the report.")
console = Console(stderr=True)

EditionOpt = typer.Option(None, "--edition", help="Edition year (see config/project.yml `editions`).")
RegionOpt = typer.Option(None, "--region", help="Fylke code (2024), default 33 Buskerud.")
CompareOpt = typer.Option(None, "--compare", help="Comparison regions (repeat), default from config.")
MirrorOpt = typer.Option(None, "--mirror", help="Offline mirror folder, e.g. ../shared/data.")


def _settings(edition, region, compare):
    return make_settings(edition=edition, region=region, comparison_regions=compare or None)


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

        new, notes = rawstore.rebuild_manifest(settings.raw_dir, load_catalogue())
        console.print(f"Rebuilt {settings.raw_dir / rawstore.MANIFEST} from the files on disk "
                      f"({len(new['datasets'])} datasets); fetch now refreshes each entry from its source.")
        for n in notes:
            console.print(f"[yellow]skipped[/] {n}")
    try:
        with console.status("Fetching datasets …"):
            online, results = pipeline.fetch(settings, mirror=mirror, offline=offline, only=datasets, on_result=show)
    except FetchRefused as exc:  # show what was fetched, then the refusals (one clear message)
        console.print(table)
        raise
    console.print(f"Network: {'online' if online else 'offline'}; mirror: {mirror or '-'}")
    console.print(table)
    _print_resolved_queries(settings, results)
    for r in results:
        if r.restored:
            console.print(f"[green]Restored[/] {r.dataset}: {r.detail}")
    missing = [r for r in results if r.status == "missing"]
    if missing:
        console.print(f"[yellow]{len(missing)} dataset(s) missing[/] – shown as missing in the report, "
                      "with the query that fetches them (see build/changes.md and the Datakilder appendix).")
    return results


def _print_resolved_queries(settings, results):
    """The configuration's resolved online query of every API dataset (templates filled in)."""
    from .config import load_catalogue
    from .fetch import how_to_fetch

    cat = load_catalogue()
    api = [r for r in results if cat.get(r.dataset, {}).get("provider") in {"ssb", "udir"}]
    if api:
        console.print(f"Resolved online queries (edition {settings.edition}, region {settings.region}; "
                      "`fetch --dry-run` prints the exact requests):")
    for r in api:
        console.print(f"  {r.dataset}: {how_to_fetch(cat[r.dataset], settings)}", markup=False, highlight=False, soft_wrap=True)


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


def _guard(fn):
    try:
        return fn()
    except (ConfigError, InvalidQuery, ValidationError, rawstore.RawDataError, KeyError, FileNotFoundError,
            ResponseShapeError, TemplateError) as exc:
        _fail(str(exc).strip("'\""), 2)
    except NotebookFailed as exc:
        _fail(str(exc))


@app.command()
def fetch(mirror: Optional[Path] = MirrorOpt,
          offline: bool = typer.Option(False, "--offline", help="Do not try the online APIs."),
          dataset: Optional[List[str]] = typer.Option(None, "--dataset", help="Only these datasets (repeat)."),
          dry_run: bool = typer.Option(False, "--dry-run", help="Print every request the online fetch would send (method, URL, body); write nothing."),
          rebuild_manifest: bool = typer.Option(False, "--rebuild-manifest",
                                                help="Rebuild data/raw/manifest.json from the raw files on disk first."),
          edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt, compare: Optional[List[str]] = CompareOpt):
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
    out.print(f"# {len(reqs)} request(s) for edition {settings.edition}, region {settings.region}; nothing is sent or written", markup=False)
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
def build(jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Notebooks to run concurrently."),
          force: bool = typer.Option(False, "--force", help="Rerun notebooks even if unchanged."),
          only: Optional[List[str]] = typer.Option(None, "--only", help="Only these notebooks (repeat)."),
          renderer: str = typer.Option("auto", "--renderer", help="auto | quarto | pandoc"),
          no_render: bool = typer.Option(False, "--no-render", help="Run the notebooks only."),
          out: Optional[Path] = typer.Option(None, "--out", help="Output folder for the book (default _book)."),
          edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt, compare: Optional[List[str]] = CompareOpt):
    """Run the notebooks (papermill) and render the report (HTML + PDF)."""
    def go():
        s = _settings(edition, region, compare)
        res = _run_build(s, jobs, force, only)
        if not res.ok:
            _fail("notebook phase failed; the report was not rendered (the previous _book/ is kept)")
        if not no_render:
            _run_render(s, renderer, out)
    _guard(go)


def _run_render(settings, renderer, out):
    if renderer not in {"auto", "quarto", "pandoc"}:
        _fail(f"Unknown renderer {renderer!r}; valid: auto, quarto, pandoc", 2)
    t0 = time.perf_counter()
    with console.status("Rendering the report …"):
        res = pipeline.render(settings, renderer=renderer, out_dir=out)
    how = "unchanged, not re-rendered" if res.get("skipped") else f"rendered with {res.get('renderer')} in {time.perf_counter() - t0:.1f} s"
    console.print(f"Report {how}: {res.get('html')}  {res.get('pdf')}")


@app.command()
def render(renderer: str = typer.Option("auto", "--renderer", help="auto | quarto | pandoc"),
           out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default _book).")):
    """Render the report from the executed notebooks and the chapters."""
    _guard(lambda: _run_render(_settings(None, None, None), renderer, out))


@app.command()
def report(mirror: Optional[Path] = MirrorOpt,
           offline: bool = typer.Option(False, "--offline", help="Do not try the online APIs."),
           jobs: int = typer.Option(2, "--jobs", "-j", min=1),
           force: bool = typer.Option(False, "--force"),
           renderer: str = typer.Option("auto", "--renderer"),
           out: Optional[Path] = typer.Option(None, "--out"),
           edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt, compare: Optional[List[str]] = CompareOpt):
    """The whole job: fetch, run the notebooks, render HTML and PDF."""
    def go():
        s = _settings(edition, region, compare)
        _run_fetch(s, mirror, offline, None)
        res = _run_build(s, jobs, force, None)
        if not res.ok:
            _fail("notebook phase failed; the report was not rendered (the previous _book/ is kept)")
        _run_render(s, renderer, out)
    _guard(go)


@app.command("check-online")
def check_online(dataset: Optional[List[str]] = typer.Option(None, "--dataset", help="Only these datasets (repeat)."),
                 edition: Optional[int] = EditionOpt, region: Optional[str] = RegionOpt, compare: Optional[List[str]] = CompareOpt):
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
            _fail(f"{len(bad)} check(s) invalid; fix the query in config/datasets.yml (or the edition block) and run check-online again")
        console.print(f"[green]All {len(checks)} checks valid.[/]")
    _guard(go)


@app.command()
def status():
    """Show the raw data manifest and verify every stored file's sha256 (exit 1 if one is bad).

    What is fetched, from where, what is missing (with the query that fetches it), which files
    are tampered or gone (with the command that restores them), and the files kept aside."""
    def go():
        if not _raw_status(_settings(None, None, None)):
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
        t.add_row(name, status_txt, (cur.get("source") or {}).get("kind", "-") if ok else "-",
                  (cur.get("retrieved_at") or "")[:19], check, cur.get("file") if ok else cur.get("how_to_fetch", ""))
    Console().print(t)
    bad = [f for f in files if f["state"] != "ok"]
    for f in bad:
        cur = man[f["dataset"]].get("current", {})
        hint = rawstore.restore_hint(f["dataset"], cur) if f["role"] == "current" else \
            "an earlier vintage; it cannot be used with `kunnskapsgrunnlag use` until it is restored"
        console.print(f"[bold red]{f['state'].upper()}[/] {s.raw_dir / f['file']} ({f['dataset']}, {f['role']} vintage "
                      f"{f['vintage']!r}): {hint}")
    aside = rawstore.aside_files(s.raw_dir)
    if aside:
        console.print(f"{len(aside)} file(s) kept aside (never current): "
                      + ", ".join(str(a.relative_to(s.raw_dir)) for a in aside[:5]) + (" …" if len(aside) > 5 else ""))
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


@app.command()
def use(dataset: str = typer.Argument(..., help="Dataset name, e.g. population_07459."),
        vintage: str = typer.Argument(..., help="Stored vintage label, file name or sha256 prefix (see `status`); "
                                                "`latest` to follow new vintages again.")):
    """Return a dataset to an earlier stored vintage (`latest` to follow new vintages again).

    The chosen vintage is pinned: `fetch` leaves it until `use DATASET latest`. Recorded in the
    manifest (the dataset's `events`)."""
    def go():
        e = rawstore.use_vintage(_settings(None, None, None).raw_dir, dataset, vintage)
        how = "follows new vintages again" if vintage == "latest" else "is pinned (`fetch` leaves it as it is)"
        console.print(f"{dataset}: now using {e['file']} (vintage {e.get('vintage')!r}); it {how}. "
                      "Run `kunnskapsgrunnlag build` to rebuild with it.")
    _guard(go)


def main():  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
