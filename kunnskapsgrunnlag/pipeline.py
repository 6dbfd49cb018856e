"""The three phases behind the CLI and `make`: fetch -> build (notebooks) -> render, per configuration,
and the same run over every fylke of an edition (`report --all-regions`, `build_all`).

A configuration is (edition, region), id `2026-33`; its outputs live apart: `build/<id>/`
(executed notebooks, variables, records, state, render staging `site/`), `data/processed/<id>/`
and the book `_book/<id>/`. `_book/index.html` is a landing page linking every built book.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import appendix, atomic, kernels, outputs, publication, rawstore
from .config import ConfigError, Settings, load_project, make_settings, valid_regions
from .fetch import fetch_all, network_available
from .runner import (
    BuildInterrupted,
    BuildResult,
    build_notebooks,
    read_variables,
    stale_notebooks,
    tampered_outputs,
    variables_path,
)

LANDING_TITLE = "Kunnskapsgrunnlag – bygde utgaver"


class StaleBuildError(RuntimeError):
    """`render` would publish notebooks from a failed or stale build."""


class DatasetError(RuntimeError):
    """Reading one dataset's source failed with a bare error (KeyError, …); the message names it."""


class NoDataError(RuntimeError):
    """The classification or every dataset is missing: the notebooks would only show gaps."""


MIRROR_ENV = "KG_MIRROR"
MIRROR_HINT = (
    "point at an offline mirror with `--mirror PATH` (or the environment variable KG_MIRROR, or "
    "`defaults.mirror` in config/project.yml), or run where SSB and Udir are reachable"
)


def resolve_mirror(settings: Settings, given: Path | None) -> tuple[Path | None, str]:
    """The offline mirror of a run and where it came from: `--mirror` (relative to the current
    directory, as typed), else $KG_MIRROR, else `defaults.mirror` of config/project.yml (relative
    to the project root). A configured default that does not exist is no mirror (said so)."""
    if given is not None:
        return Path(given).expanduser().resolve(), "--mirror"
    env = os.environ.get(MIRROR_ENV)
    if env:
        return Path(env).expanduser().resolve(), MIRROR_ENV
    conf = (load_project(settings.root)["defaults"] or {}).get("mirror")
    if conf:
        p = Path(str(conf)).expanduser()
        p = (p if p.is_absolute() else settings.root / p).resolve()
        if p.is_dir():
            return p, "config/project.yml defaults.mirror"
        return None, f"config/project.yml defaults.mirror ({conf}: {p} does not exist)"
    return None, "none configured"


def check_data(settings: Settings) -> None:
    """Stop before the notebook phase when there is nothing to build from: the kommune
    classification is missing, or every dataset that needs a source is."""
    from .config import load_catalogue

    man = rawstore.read_manifest(settings.raw_dir)["datasets"]
    cat = load_catalogue(settings.root)

    def ok(name: str) -> bool:
        return (man.get(name) or {}).get("current", {}).get("status") == "ok"

    sourced = [n for n, spec in cat.items() if spec.get("provider") not in {"published", "manual"}]
    have = [n for n in sourced if ok(n)]
    boundary = "kommuner_2024"
    if not have or (boundary in cat and not ok(boundary)):
        what = (
            f"none of the {len(sourced)} datasets has been fetched"
            if not have
            else f"the kommune classification ({boundary}) has not been fetched"
        )
        raise NoDataError(
            f"No data to build {settings.config_id} from: {what} (no source was reachable: offline "
            f"and no mirror). Nothing was run; {MIRROR_HINT}, then `kunnskapsgrunnlag fetch` again"
        )


def _source_of(spec: dict, mirror: Path | None) -> str:
    if spec.get("drop"):
        return f"file drop {spec['drop']} (format: docs/file-drops.md)"
    if spec.get("file"):
        return f"file {spec['file']}"
    files = (spec.get("mirror") or {}).get("files") or []
    if files and mirror is not None:
        return "mirror file(s) " + ", ".join(str(Path(mirror) / f) for f in files)
    return f"the {spec.get('provider', '?')} source"


# --------------------------------------------------------------------------------------------
# Folders and locks
# --------------------------------------------------------------------------------------------
def prepare_dirs(settings: Settings) -> None:
    """Create (and stamp) the configuration's folders; refuse folders the tool did not make."""
    root = settings.root
    info = {"configuration": settings.config_id}
    # check every folder first: a refusal must come before anything is touched
    for d in (settings.build_dir, settings.processed_dir, settings.book_dir):
        if d is not None and d.parent in (root / "build", root / "_book", root / "data" / "processed"):
            outputs.check_owned_subdir(d)
    if settings.build_dir.parent == root / "build":
        outputs.ensure_artifact_root(root / "build")
    outputs.ensure_owned_subdir(settings.build_dir, **info)
    if settings.processed_dir.parent == root / "data" / "processed":
        outputs.ensure_owned_subdir(settings.processed_dir, **info)
    else:
        settings.processed_dir.mkdir(parents=True, exist_ok=True)


@contextmanager
def configuration_lock(settings: Settings, *, wait: bool = False, on_message=None):
    """One run at a time per configuration (build/<id>/.lock)."""
    prepare_dirs(settings)
    with outputs.RunLock(
        settings.build_dir / ".lock", f"configuration {settings.config_id}", wait=wait, on_message=on_message
    ):
        yield


def fetch(settings: Settings, *, mirror: Path | None, offline: bool = False, only=None, on_result=None):
    from .config import load_catalogue

    load_catalogue(settings.root)  # a configuration error stops here, before any folder is made
    online = (not offline) and network_available()
    lock_dir = (
        outputs.ensure_artifact_root(settings.root / "build")
        if settings.build_dir.parent == settings.root / "build"
        else settings.build_dir
    )
    seen: list[str] = []

    def track(r):
        seen.append(r.dataset)
        if on_result:
            on_result(r)

    # data/raw is shared by every configuration: one fetch at a time (others wait; fetch is short)
    with outputs.RunLock(Path(lock_dir) / ".fetch.lock", "data/raw (fetch)", wait=True):
        try:
            return online, fetch_all(settings, online=online, mirror=mirror, only=only, on_result=track)
        except (KeyError, IndexError, UnicodeDecodeError) as exc:
            raise _dataset_error(exc, seen, only, mirror) from exc
        except ValueError as exc:
            if type(exc).__module__.startswith("pandas"):  # EmptyDataError, ParserError
                raise _dataset_error(exc, seen, only, mirror) from exc
            raise


def _dataset_error(exc: BaseException, seen: list[str], only, mirror) -> DatasetError:
    from .config import load_catalogue

    cat = load_catalogue()
    todo = [n for n in cat if (not only or n in only) and n not in seen]
    if not todo:
        return DatasetError(f"fetch failed: {type(exc).__name__}: {exc}")
    name = todo[0]
    what = {
        "KeyError": f"a column or key {str(exc)} is missing",
        "IndexError": "a row or column is missing",
        "UnicodeDecodeError": "the file is not UTF-8 text",
    }.get(type(exc).__name__, f"{type(exc).__name__}: {exc}")
    return DatasetError(
        f"dataset {name!r}: {what} in {_source_of(cat[name], mirror)}. Check that file against "
        f"the format the reader expects, or the entry {name!r} in config/datasets.yml"
    )


def build(settings: Settings, *, jobs: int = 1, force: bool = False, only=None, on_event=None):
    """Verify every raw file first (a tampered file stops the build before anything runs)."""
    prepare_dirs(settings)
    rawstore.verify_all(settings.raw_dir)
    check_data(settings)
    with kernels.warm_kernels(settings.root):  # one preloaded kernel server for the run (not with --cold)
        return build_notebooks(settings, jobs=jobs, force=force, only=only, on_event=on_event)


# --------------------------------------------------------------------------------------------
# Render: stage the sources of one configuration in build/<id>/site/, render, swap in
# --------------------------------------------------------------------------------------------
SOURCE_SUFFIXES = (".qmd", ".md", ".bib", ".csl", ".css", ".scss")


def _source_files(root: Path) -> list[tuple[Path, Path]]:
    """(source, path in the site) of the book's sources: _quarto.yml, top-level pages, report/."""
    files = [
        (f, Path(f.name))
        for f in sorted(root.iterdir())
        if f.is_file() and f.suffix in SOURCE_SUFFIXES and f.name != "README.md"
    ]
    rep = root / "report"
    files += [(f, f.relative_to(root)) for f in sorted(rep.rglob("*")) if f.is_file() and "__pycache__" not in f.parts]
    return files


def _executed_notebooks(settings: Settings) -> list[Path]:
    return sorted(
        f
        for f in (settings.build_dir / "notebooks").glob("*.ipynb")
        if not f.name.startswith(".") and not f.name.endswith(".failed.ipynb")
    )


def _figurdata(settings: Settings) -> list[Path]:
    d = settings.build_dir / "figurdata"
    return sorted(f for f in d.rglob("*") if f.is_file() and not f.name.startswith(".")) if d.is_dir() else []


def book_overlay(settings: Settings) -> dict:
    """What the staged _quarto.yml gets for this configuration."""
    proj = load_project(settings.root)
    rep = proj.get("report") or {}
    navn, ed = settings.region_name, settings.edition
    ov: dict = {"kg-plan-region": settings.is_plan_region, "kg-configuration": settings.config_id}
    ov.update(appendix.figure_meta(settings.build_dir))  # kg-figur-<label>: drawn, or a sentence instead
    book: dict = {}
    if not settings.is_plan_region:
        book["title"] = f"Kunnskapsgrunnlag for {navn}"
        book["subtitle"] = f"Statistikk, figurer og kart for {navn} fylke – utgave {ed}"
        book["output-file"] = f"Kunnskapsgrunnlag-{_ascii(navn)}-{ed}"
    elif rep.get("title"):
        book["title"] = rep["title"]
    # The edition's publisher, author, date, status and source (kunnskapsgrunnlag.publication)
    cover = publication.cover_overlay(settings)
    book.update(cover.pop("book"))
    ov.update(cover)
    ov["book"] = book
    return ov


def _ascii(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A"})
    return "".join(c if c.isalnum() else "-" for c in text.translate(table)).strip("-")


def _staged_quarto(settings: Settings, has_figurdata: bool) -> str:
    src = settings.root / "_quarto.yml"
    try:
        cfg = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{src}: not valid YAML/UTF-8 ({str(exc).splitlines()[0]})") from None
    ov = book_overlay(settings)
    book_ov = ov.pop("book")
    cfg.update(ov)
    cfg["book"] = {**(cfg.get("book") or {}), **book_ov}
    project = dict(cfg.get("project") or {})
    project.pop("output-dir", None)  # always given explicitly
    if has_figurdata:
        res = list(project.get("resources") or [])
        if "figurdata/*.csv" not in res:
            res.append("figurdata/*.csv")
        project["resources"] = res
    cfg["project"] = project
    return (
        f"# Staged by kunnskapsgrunnlag for configuration {settings.config_id} from ../../../_quarto.yml. "
        "Do not edit.\n" + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False)
    )


def stage_site(settings: Settings) -> Path:
    """Mirror the sources of this configuration into build/<id>/site/ (only changed files are written)."""
    site = settings.build_dir / "site"
    outputs.ensure_owned_subdir(site, configuration=settings.config_id)
    wanted: dict[Path, bytes | Path] = {}
    for src, rel in _source_files(settings.root):
        if rel.as_posix() != "_quarto.yml":
            wanted[rel] = src
    fig = _figurdata(settings)
    wanted[Path("_quarto.yml")] = _staged_quarto(settings, bool(fig)).encode("utf-8")
    var = variables_path(settings)
    if var.exists():
        wanted[Path("_variables.yml")] = var
    for nb in _executed_notebooks(settings):
        wanted[Path("build") / "notebooks" / nb.name] = nb
    for f in fig:
        wanted[Path("figurdata") / f.relative_to(settings.build_dir / "figurdata")] = f
    # links under each embed, configuration values in headings (both renderers read the same text)
    from .render.staging import prepare_sources

    wanted = prepare_sources(wanted)
    for rel, content in wanted.items():
        data = content if isinstance(content, bytes) else content.read_bytes()
        dst = site / rel
        if not dst.is_file() or dst.read_bytes() != data:
            atomic.write_bytes(dst, data)
    keep = {site / r for r in wanted} | {site / outputs.STAMP}
    for f in sorted(site.rglob("*"), reverse=True):
        if f.is_file() and f not in keep and ".quarto" not in f.relative_to(site).parts:
            f.unlink()
        elif f.is_dir() and f.name != ".quarto" and not any(f.iterdir()):
            f.rmdir()
    return site


def render_inputs_hash(settings: Settings, renderer: str) -> str:
    """Hash of everything the rendered book depends on (sources, variables, executed notebooks, renderer)."""
    files = [src for src, _ in _source_files(settings.root)] + [variables_path(settings)]
    files += _executed_notebooks(settings) + _figurdata(settings)
    keyed = [(_rel_key(f, settings.root), f) for f in files]
    # the renderer's own files, keyed relative to the package wherever it was imported from (the
    # checkout's copy with `python -m` in the project root, the installed one elsewhere)
    pkg = Path(__file__).resolve().parent
    keyed += [("pkg:" + f.relative_to(pkg).as_posix(), f) for f in sorted((pkg / "render").rglob("*"))]
    h = hashlib.sha256(renderer.encode())
    h.update(repr(sorted(book_overlay(settings).items(), key=str)).encode())
    for key, f in keyed:
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(key.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _rel_key(path: Path, root: Path) -> str:
    """A path as a key that survives moving the project (relative to the root when inside it)."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        try:
            return "pkg:" + Path(path).resolve().relative_to(Path(__file__).resolve().parent).as_posix()
        except ValueError:
            return str(path)


def check_fresh(settings: Settings) -> list[str]:
    """Problems that make the executed notebooks unfit to publish ([] when the last build is current)."""
    last, stale = stale_notebooks(settings)
    problems = []
    if not last:
        problems.append(f"configuration {settings.config_id} has not been built")
    elif not last.get("ok"):
        bad = ", ".join(last.get("failed", []) + last.get("blocked", [])) or "see the build log"
        problems.append(f"the last build of {settings.config_id} failed or was interrupted ({bad})")
    if last and stale:
        problems.append(
            f"{len(stale)} notebook(s) are stale (their sources, data or code changed since they ran): "
            + ", ".join(stale)
        )
    if not variables_path(settings).exists():
        problems.append(f"{variables_path(settings)} is missing")
    return problems


def render(
    settings: Settings,
    *,
    renderer: str = "auto",
    out_dir: Path | None = None,
    force: bool = False,
    check: bool = False,
    allow_stale: bool = False,
    on_message=None,
) -> dict:
    """Render into a fresh folder, then swap it in: a failed render leaves the previous book intact.

    With `check`, refuse (StaleBuildError) to publish notebooks from a failed or stale build
    unless `allow_stale`. Skipped when nothing the book depends on has changed since the last
    render into the same folder.
    """
    from .render import render as do_render

    say = on_message or (lambda m: None)
    default_out = out_dir is None
    out = (settings.book_dir or settings.root / "_book" / settings.config_id) if out_dir is None else Path(out_dir)
    if default_out:
        outputs.ensure_artifact_root(settings.root / "_book", kind="books")
        out = out.resolve()
        if out.exists():
            outputs.ensure_owned_subdir(out)
    else:
        out = outputs.check_output_dir(out, settings.root, what="--out folder")
    bad = tampered_outputs(settings)
    if bad:  # never published as computed, not even with --allow-stale
        files = ", ".join(f"{settings.build_dir / rel} ({how})" for rel, how in bad[:5]) + (
            " …" if len(bad) > 5 else ""
        )
        raise StaleBuildError(
            f"{len(bad)} build output(s) differ from what the notebooks wrote (sha256 recorded "
            f"by the runner): {files}. Nothing was published; run `kunnskapsgrunnlag build "
            f"{_config_args(settings)}` to rebuild them"
        )
    if check:
        problems = check_fresh(settings)
        if problems and not allow_stale:
            raise StaleBuildError(
                "; ".join(problems) + ". Run `kunnskapsgrunnlag build "
                f"{_config_args(settings)}` first, or pass --allow-stale to publish them anyway"
            )
        for p in problems:
            say(f"Warning (--allow-stale): {p}")
    state_file = settings.build_dir / "render-state.json"
    state = atomic.read_json(state_file, default={}) or {}
    if not isinstance(state, dict):
        state = {}
    key = render_inputs_hash(settings, renderer)
    skey = _rel_key(out, settings.root)
    prev = state.get(skey)
    if (
        not force
        and isinstance(prev, dict)
        and prev.get("hash") == key
        and outputs.is_owned(out)
        and all((out / p).exists() for p in (prev.get("outputs") or {}).values() if p)
        and prev.get("book") == book_digest(out)
    ):  # a deleted or altered file in the book re-renders it
        if default_out:
            write_landing_page(settings.root)
        return {
            **{k: out / v for k, v in prev["outputs"].items() if v},
            "renderer": prev.get("renderer"),
            "skipped": True,
        }
    site = stage_site(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    with outputs.replacing(out) as tmp:
        res = do_render(site, tmp, renderer)
        # the fallback's working files (book.md, book.typ, caches): not part of the book, as under Quarto
        shutil.rmtree(tmp / "_build", ignore_errors=True)
        if (site / "figurdata").is_dir() and not (tmp / "figurdata").exists():
            shutil.copytree(site / "figurdata", tmp / "figurdata")
        outputs.stamp(
            tmp,
            kind="book",
            configuration=settings.config_id,
            edition=settings.edition,
            region=settings.region,
            region_name=settings.region_name,
            title=book_overlay(settings)["book"].get("title")
            or (load_project(settings.root).get("report") or {}).get("title", ""),
            html="index.html",
            pdf=Path(res["pdf"]).name if res.get("pdf") else None,
            renderer=res.get("renderer"),
            rendered=rawstore.now_iso(),
        )
    res = {
        k: (out / Path(v).relative_to(tmp) if isinstance(v, Path) and tmp in Path(v).parents else v)
        for k, v in res.items()
    }
    state[skey] = {
        "hash": key,
        "renderer": res.get("renderer"),
        "book": book_digest(out),
        "outputs": {
            k: Path(v).relative_to(out).as_posix()
            for k, v in res.items()
            if k in ("html", "pdf") and v and out in Path(v).parents
        },
    }
    atomic.write_json(state_file, state)
    if default_out:
        write_landing_page(settings.root)
    return res


def book_digest(out: Path) -> str:
    """One sha256 over every file of a rendered book (names and contents)."""
    h = hashlib.sha256()
    out = Path(out)
    for f in sorted(out.rglob("*")) if out.is_dir() else []:
        if f.is_file():
            h.update(f.relative_to(out).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def _config_args(settings: Settings) -> str:
    return f"--edition {settings.edition} --region {settings.region}"


def write_landing_page(root: Path) -> Path:
    """`_book/index.html`: one link per built configuration's book (owned by the tool)."""
    book_root = Path(root) / "_book"
    proj = load_project(root)
    default_id = f"{proj['defaults']['edition']}-{proj['defaults']['region']}"
    rows = []
    for d in sorted(book_root.iterdir()) if book_root.is_dir() else []:
        info = outputs.stamp_info(d) if d.is_dir() and not d.name.startswith(".") else {}
        if info.get("kind") != "book":
            continue
        pdf = f' · <a href="{html.escape(d.name)}/{html.escape(info["pdf"])}">PDF</a>' if info.get("pdf") else ""
        mark = " (standard)" if d.name == default_id else ""
        rows.append(
            f'<li><a href="{html.escape(d.name)}/index.html">{html.escape(str(info.get("region_name", d.name)))}, '
            f"utgave {html.escape(str(info.get('edition', '')))}</a>{mark}{pdf} "
            f"<small>({html.escape(d.name)}, {html.escape(str(info.get('rendered', ''))[:10])})</small></li>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="nb"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{LANDING_TITLE}</title></head>\n<body>\n<main>\n<h1>{LANDING_TITLE}</h1>\n"
        "<p>Hver konfigurasjon (utgave, fylke) har sin egen bok. "
        "Skrevet av <code>kunnskapsgrunnlag render</code>.</p>\n"
        "<ul>\n" + ("\n".join(rows) or "<li>Ingen bøker er bygget ennå.</li>") + "\n</ul>\n</main>\n</body></html>\n"
    )
    outputs.ensure_artifact_root(book_root, kind="books")
    target = book_root / "index.html"
    if not target.exists() or target.read_text(encoding="utf-8", errors="replace") != page:
        atomic.write_text(target, page)
    return target


# --------------------------------------------------------------------------------------------
# Every fylke of an edition in one run (`report --all-regions`; the atlas page: atlaspage.py)
# --------------------------------------------------------------------------------------------
# One fetch (data/raw is shared by every configuration; the caller runs it), one warm-kernel server
# and one set of notebook slots for the whole run: `jobs` is the number of notebooks (or book
# renders) running at once across all configurations, granted in configuration order so the first
# books finish and render while later ones still compute. Each configuration keeps its own lock,
# folders, hashes and state (an unchanged configuration reruns nothing). A failure in one fylke is
# reported and the others go on; the run says whether all succeeded.
def atlas_jobs() -> int:
    """The default `--jobs` of `report --all-regions`: twice the CPUs this process may use, at most 8.

    A notebook keeps its slot for its whole run but waits on its kernel (start-up, replies over
    the IPC sockets) a good part of that time, so as many notebooks as CPUs leave the CPUs idle
    between them (docs/benchmarks.md measures --jobs 2 and 4 on two cores). The cap bounds the
    memory on a large machine (a notebook kernel drawing maps peaks at about 400 MiB)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2 * cpus, 8))


@dataclass(frozen=True)
class RunOptions:
    """How every configuration of the run is built: `jobs` notebooks (or book renders) at once across
    all, `force` reruns unchanged notebooks, `render` the books with `renderer`, and `wait` for a
    configuration another run holds instead of failing it."""

    jobs: int = field(default_factory=atlas_jobs)
    force: bool = False
    renderer: str = "auto"
    render: bool = True
    wait: bool = False


@dataclass
class RegionOutcome:
    """One configuration of the run: its notebook phase and render, or why it stopped."""

    settings: Settings
    status: str  # ok | failed | interrupted
    message: str = ""  # why it failed or stopped
    seconds: float = 0.0
    build: BuildResult = field(default_factory=BuildResult)  # empty when the notebook phase did not run
    rendered: dict = field(default_factory=dict)  # render()'s result; empty when not rendered


@dataclass
class AtlasRun:
    outcomes: list[RegionOutcome] = field(default_factory=list)
    seconds: float = 0.0
    page: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.status == "ok" for o in self.outcomes)


def all_settings(
    edition: int | None = None, comparison_regions=None, regions: list[str] | None = None, root: Path | None = None
) -> list[Settings]:
    """One configuration per fylke of the edition, in the order of their codes."""
    codes = regions or sorted(valid_regions())
    return [make_settings(edition=edition, region=r, comparison_regions=comparison_regions, root=root) for r in codes]


def _one(s: Settings, opts: RunOptions, say) -> RegionOutcome:
    t0 = time.perf_counter()
    try:
        with configuration_lock(s, wait=opts.wait, on_message=lambda m: say(f"{s.config_id}: {m}")):
            out = RegionOutcome(s, "ok", build=build(s, jobs=opts.jobs, force=opts.force))
            if not out.build.ok:
                bad = [st for st in out.build.steps if st.status in ("failed", "blocked")]
                first = next((st.message for st in bad if st.status == "failed"), "")
                out.status = "failed"
                out.message = (
                    f"{len(bad)} notebook(s) failed or blocked ({', '.join(st.notebook for st in bad)}): "
                    f"{first}; log: {s.build_dir / 'logs'}; the book was not rendered"
                )
            elif opts.render:
                with kernels.slot(s.config_id):  # a render counts as one of the --jobs
                    out.rendered = render(s, renderer=opts.renderer)
    except (BuildInterrupted, KeyboardInterrupt):
        out = RegionOutcome(s, "interrupted", "stopped by Ctrl-C; the last good outputs are kept")
    except outputs.LockBusy as exc:
        out = RegionOutcome(s, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 - one fylke's error must not stop the others; reported by name
        out = RegionOutcome(s, "failed", f"{type(exc).__name__}: {exc}")
    out.seconds = time.perf_counter() - t0
    return out


def build_all(settings: list[Settings], opts: RunOptions | None = None, *, on_region=None, on_message=None) -> AtlasRun:
    """Build (and render) every configuration in `settings` with `opts.jobs` notebooks at once across
    all. `on_region(outcome)` is called as each configuration finishes. Ctrl-C stops everything and
    raises KeyboardInterrupt once every configuration has saved its state."""
    opts = opts or RunOptions()
    say = on_message or (lambda m: None)
    run = AtlasRun()
    t0 = time.perf_counter()
    slots = kernels.Slots(opts.jobs, {s.config_id: i for i, s in enumerate(settings)})
    kernels.set_slots(slots)
    interrupted = False
    try:
        with kernels.warm_kernels(settings[0].root), ThreadPoolExecutor(max_workers=len(settings)) as pool:
            futs = {pool.submit(_one, s, opts, say): s for s in settings}
            try:
                for fut in as_completed(futs):
                    out = fut.result()
                    run.outcomes.append(out)
                    if on_region:
                        on_region(out)
            except KeyboardInterrupt:
                interrupted = True
                say("Interrupted: stopping the running notebooks …")
                slots.cancel()
                for fut in futs:
                    if not fut.done():
                        try:
                            out = fut.result()
                        except BaseException:  # noqa: BLE001
                            continue
                        run.outcomes.append(out)
    finally:
        kernels.set_slots(None)
    run.seconds = time.perf_counter() - t0
    order = {s.config_id: i for i, s in enumerate(settings)}
    run.outcomes.sort(key=lambda o: order[o.settings.config_id])
    if interrupted:
        raise KeyboardInterrupt
    return run


# --------------------------------------------------------------------------------------------
# diff: what changed between two editions (same region)
# --------------------------------------------------------------------------------------------
def diff_editions(old: int, new: int, region: str | None = None, root: Path | None = None) -> dict:
    """Every report variable that differs between two built editions; writes build/diff-OLD-NEW-REGION.md/.csv."""
    s_old = make_settings(edition=old, region=region, root=root)
    s_new = make_settings(edition=new, region=s_old.region, root=root)
    vals = []
    for s in (s_old, s_new):
        p = variables_path(s)
        if not p.exists():
            raise ConfigError(
                f"edition {s.edition} for region {s.region} ({s.region_name}) is not built "
                f"({p} is missing); run `kunnskapsgrunnlag report --edition {s.edition} --region {s.region}` first"
            )
        vals.append(read_variables(p))
    from . import diff as diff_mod  # grouped by figure, table and chapter, numbers as printed (h19)

    try:
        numbers = appendix.edition_numbers(s_old.root)  # figures by their number in the book
    except OSError:  # no book sources: figures keep their labels
        numbers = {}
    d, md, cs = diff_mod.diff_editions(s_old, s_new, numbers)
    rows = [
        (
            f"{c.number}: {c.row} {c.column}".strip() if c.part in ("Figur", "Tabell") else f"{c.title}: {c.label}",
            c.old,
            c.new,
        )
        for c in d.changes
        if c.part != "Tekst"
    ]
    return {"old": s_old, "new": s_new, "rows": rows, "md": md, "csv": cs, "total": len(d.changes), "diff": d}


# --------------------------------------------------------------------------------------------
# clean: remove only what the tool made
# --------------------------------------------------------------------------------------------
def clean(root: Path) -> list[Path]:
    """Remove the tool's outputs (stamped folders, its files); leave anything else in place."""
    root = Path(root)
    removed: list[Path] = []
    for area in (root / "build", root / "_book", root / "data" / "processed"):
        if not area.is_dir():
            continue
        for child in sorted(area.iterdir()):
            if child.is_dir() and outputs.remove_owned(child):
                removed.append(child)
            elif child.name.startswith(".") and (".new-" in child.name or ".old-" in child.name) and child.is_dir():
                shutil.rmtree(child)  # leftovers of an interrupted render swap
                removed.append(child)
        if outputs.is_owned(area):
            for child in sorted(area.iterdir()):
                ours = child.name in (outputs.STAMP, ".fetch.lock", "index.html") or (
                    area.name == "build" and child.name.startswith("diff-")
                )
                if ours:
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
                    removed.append(child)
            if not any(area.iterdir()):
                area.rmdir()
    return removed
