"""`kunnskapsgrunnlag report --all-regions`: every fylke of an edition in one run.

One fetch (data/raw is shared by every configuration), one warm-kernel server and one set of
notebook slots for the whole run: `--jobs N` is the number of notebooks (or book renders) running
at once across all configurations, granted in configuration order so the first books finish and
render while later ones still compute. Each configuration keeps its own lock, folders, hashes and
state (runner semantics unchanged: an unchanged configuration reruns nothing). A failure in one
fylke is reported and the others go on; the result says whether all succeeded. At the end the
atlas page `_book/<edition>/` compares the fylker that built (kunnskapsgrunnlag.atlaspage).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import kernels, pipeline
from .config import Settings, make_settings, valid_regions


@dataclass
class RegionOutcome:
    settings: Settings
    status: str  # ok | failed | interrupted
    message: str = ""
    seconds: float = 0.0
    ran: int = 0
    skipped: int = 0
    outputs: dict = field(default_factory=dict)


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


def _one(s: Settings, *, jobs: int, force: bool, renderer: str, render: bool, wait: bool, say) -> RegionOutcome:
    from .outputs import LockBusy
    from .runner import BuildInterrupted

    t0 = time.perf_counter()
    try:
        with pipeline.configuration_lock(s, wait=wait, on_message=lambda m: say(f"{s.config_id}: {m}")):
            res = pipeline.build(s, jobs=jobs, force=force)
            out = RegionOutcome(s, "ok", ran=res.count("ran"), skipped=res.count("skipped"))
            if not res.ok:
                bad = [st for st in res.steps if st.status in ("failed", "blocked")]
                first = next((st.message for st in bad if st.status == "failed"), "")
                out.status = "failed"
                out.message = (
                    f"{len(bad)} notebook(s) failed or blocked ({', '.join(st.notebook for st in bad)}): "
                    f"{first}; log: {s.build_dir / 'logs'}; the book was not rendered"
                )
            elif render:
                with kernels.slot(s.config_id):  # a render counts as one of the --jobs
                    r = pipeline.render(s, renderer=renderer)
                out.outputs = {k: str(v) for k, v in r.items() if k in ("html", "pdf") and v}
                out.message = "unchanged, not re-rendered" if r.get("skipped") else f"rendered with {r.get('renderer')}"
    except (BuildInterrupted, KeyboardInterrupt):
        out = RegionOutcome(s, "interrupted", "stopped by Ctrl-C; the last good outputs are kept")
    except LockBusy as exc:
        out = RegionOutcome(s, "failed", str(exc))
    except Exception as exc:  # noqa: BLE001 - one fylke's error must not stop the others; reported by name
        out = RegionOutcome(s, "failed", f"{type(exc).__name__}: {exc}")
    out.seconds = time.perf_counter() - t0
    return out


def build_all(
    settings: list[Settings],
    *,
    jobs: int = 2,
    force: bool = False,
    renderer: str = "auto",
    render: bool = True,
    wait: bool = False,
    on_region=None,
    on_message=None,
) -> AtlasRun:
    """Build (and render) every configuration in `settings` with `jobs` notebooks at once across all.
    `on_region(outcome)` is called as each configuration finishes. Ctrl-C stops everything and
    raises KeyboardInterrupt once every configuration has saved its state."""
    say = on_message or (lambda m: None)
    run = AtlasRun()
    t0 = time.perf_counter()
    slots = kernels.Slots(jobs, {s.config_id: i for i, s in enumerate(settings)})
    kernels.set_slots(slots)
    interrupted = False
    try:
        with kernels.warm_kernels(settings[0].root), ThreadPoolExecutor(max_workers=len(settings)) as pool:
            futs = {
                pool.submit(_one, s, jobs=jobs, force=force, renderer=renderer, render=render, wait=wait, say=say): s
                for s in settings
            }
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


def cli_report(
    console, run_fetch, check_renderer, *, edition, compare, mirror, offline, jobs, force, renderer, render, wait, fail
) -> AtlasRun:
    """`report --all-regions` for the CLI: one fetch, every fylke, a summary; `fail` (exit 1) if any failed."""
    from rich.table import Table

    check_renderer(renderer)
    settings = all_settings(edition, compare)
    console.print(
        f"Atlas: edition {settings[0].edition}, {len(settings)} fylker, --jobs {jobs} notebooks at once "
        f"across all ({'cold' if kernels.is_cold() else 'warm'} kernels)"
    )
    kernels.prestart(settings[0].root)  # the kernel server imports while the fetch runs
    run_fetch(settings[0], mirror, offline, None)  # data/raw is shared: one fetch for every configuration

    def show(o: RegionOutcome) -> None:
        colour = {"ok": "green", "failed": "bold red"}.get(o.status, "yellow")
        console.print(
            f"[{colour}]{o.status:>11}[/] {o.settings.config_id} {o.settings.region_name}: "
            f"{o.ran} ran, {o.skipped} unchanged, {o.seconds:.0f} s {o.message}",
            highlight=False,
        )

    run = build_all(
        settings,
        jobs=jobs,
        force=force,
        renderer=renderer,
        render=render,
        wait=wait,
        on_region=show,
        on_message=lambda m: console.print(f"[yellow]{m}[/]"),
    )
    table = Table(
        title=f"Atlas {settings[0].edition}: {sum(o.status == 'ok' for o in run.outcomes)} of "
        f"{len(settings)} fylker built in {run.seconds:.0f} s"
    )
    for col in ("configuration", "fylke", "status", "notebooks", "seconds", "book / problem"):
        table.add_column(col)
    for o in run.outcomes:
        table.add_row(
            o.settings.config_id,
            o.settings.region_name,
            o.status,
            f"{o.ran} ran, {o.skipped} unchanged",
            f"{o.seconds:.0f}",
            o.outputs.get("html", "") if o.status == "ok" else o.message,
        )
    console.print(table)
    if any(o.status == "ok" for o in run.outcomes):  # the page needs the builds; it links the books that exist
        from .atlaspage import write_atlas
        from .runner import stale_notebooks

        run.page = write_atlas(settings[0].root, settings[0].edition, stale_notebooks)
        console.print(f"Atlas page: {run.page['html']}  (PDF {run.page['pdf'].name}, CSV {run.page['csv'].name})")
    bad = [o for o in run.outcomes if o.status != "ok"]
    if bad:
        fail(
            f"{len(bad)} of {len(settings)} fylker did not build: "
            + "; ".join(f"{o.settings.region_name} ({o.settings.config_id}): {o.status}" for o in bad)
            + ". The others are built; run the same command again to retry (unchanged fylker rerun nothing)"
        )
    return run
