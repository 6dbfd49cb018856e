"""Run the notebooks with papermill: in configured order, concurrently where independent,
skipping those whose source, parameters, inputs and package code are unchanged.

Everything is per configuration (edition, region) under `build/<id>/` (e.g. `build/2026-33/`):
executed notebooks in notebooks/, variables in variables/ (merged with the configuration's own
variables into _variables.yml for the report), records in records/, state.json (hashes and the
last build's result) and changes.md (what changed). A failing notebook is reported with its name
and failing cell; its last good output is kept. Temporary files are unique per run; Ctrl-C
cancels queued notebooks at once and terminates the running ones (BuildInterrupted).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import yaml

from . import atomic, kernels, rawstore
from .captions import apply_captions
from .config import ConfigError, Settings, load_catalogue, load_project, used_by_edition, used_by_notebook
from .diff import changes_section
from .outputs import _flatten, read_variables, variables_path  # noqa: F401 - re-exported

PACKAGE_DIR = Path(__file__).resolve().parent
# The appendix and the forord's «Om denne utgaven» (02_situasjonen, notebook.edition_statement)
# read the status of every dataset: they rerun whenever the manifest changes.
MANIFEST_READERS = {"99_datakilder", "02_situasjonen"}
STATE_VERSION = 3  # 3: sha256 of every build output (state["digests"])


class VariablesError(RuntimeError):
    """Report variables cannot be merged (written twice, or a corrupt variables file)."""


class BuildInterrupted(KeyboardInterrupt):
    """Ctrl-C: queued notebooks were cancelled and running ones terminated."""

    def __init__(self, finished: list[str], cancelled: list[str]):
        self.finished, self.cancelled = finished, cancelled
        self.signal: KeyboardInterrupt | None = None  # the cli's Stopped (SIGTERM/SIGHUP), None for Ctrl-C
        super().__init__("interrupted")


class NotebookFailed(RuntimeError):
    def __init__(self, notebook: str, cell_index: int | None, summary: str, log: str):
        self.notebook, self.cell_index, self.summary, self.log = notebook, cell_index, summary, log
        where = f"cell {cell_index}" if cell_index is not None else "before execution"
        super().__init__(f"Notebook {notebook} failed in {where}: {summary}")


@dataclass
class StepResult:
    notebook: str
    status: str  # ran | skipped | failed | blocked
    seconds: float = 0.0
    message: str = ""
    produced: list = field(default_factory=list)


@dataclass
class BuildResult:
    steps: list[StepResult] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status in {"ran", "skipped"} for s in self.steps)

    def count(self, status: str) -> int:
        return sum(s.status == status for s in self.steps)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_hash() -> str:
    """Hash of the package code the notebooks run (not the renderer): a change reruns every notebook."""
    h = hashlib.sha256()
    for f in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = f.relative_to(PACKAGE_DIR)
        if rel.parts[0] == "render" or "__pycache__" in rel.parts:
            continue  # the renderer does not affect notebook outputs
        h.update(rel.as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def config_payload(settings: Settings, name: str, used: set[str]) -> dict:
    """The configuration a notebook reads: config/project.yml with only this configuration's
    edition block, the catalogue entries of the datasets it uses (all of them for the notebooks
    that list every dataset), and the other config/*.yml files. Another edition's block, or a
    dataset it does not use, never reruns it."""
    proj = load_project(settings.root)
    project = {k: v for k, v in proj.items() if k != "editions"}
    project["editions"] = {str(settings.edition): proj["editions"][settings.edition]}
    cat = load_catalogue(settings.root)
    datasets = cat if name in MANIFEST_READERS else {d: cat[d] for d in sorted(used) if d in cat}
    files = {
        f.name: _sha(f.read_bytes())
        for f in sorted((settings.root / "config").glob("*.yml"))
        if f.name not in ("project.yml", "datasets.yml")
    }
    return {"project": project, "datasets": datasets, "files": files}


def _leaves(d, prefix: str = "", depth: int = 4) -> dict[str, str]:
    """{dotted key: sha of its value} down to `depth` levels (to name what changed)."""
    if isinstance(d, dict) and depth > 0:
        out: dict[str, str] = {}
        for k, v in d.items():
            out.update(_leaves(v, f"{prefix}{k}.", depth - 1))
        return out
    return {prefix.rstrip("."): _sha(json.dumps(d, sort_keys=True, default=str).encode())}


def _inputs(settings: Settings, name: str) -> dict[str, str]:
    """sha256 of every raw dataset the notebook reads (declared in the catalogue or seen last run)."""
    cat = load_catalogue(settings.root)
    used = {d for d, spec in cat.items() if name in used_by_notebook(spec)}
    rec = atomic.read_json(settings.build_dir / "records" / f"{name}.json", default={}) or {}
    used |= set(rec.get("used", []) if isinstance(rec, dict) else [])
    # a dataset of another edition's projection round is neither read nor a reason to rerun
    used = {d for d in used if d not in cat or used_by_edition(cat[d], settings.edition_params)}
    manifest = rawstore.read_manifest(settings.raw_dir)["datasets"]
    out = {}
    for d in sorted(used):
        cur = manifest.get(d, {}).get("current", {})
        out[d] = cur.get("sha256") or f"missing:{cur.get('reason', '')}"
    return out


def step_parts(settings: Settings, name: str, code: str, upstream: dict[str, str]) -> dict:
    """What a notebook's result depends on: its source, parameters (folders relative to the project
    root: any cwd, any clone), the sha256 of its inputs, the package code, the configuration keys it
    reads (`config_payload`) and its upstream notebooks' results."""
    src = (settings.root / "notebooks" / f"{name}.ipynb").read_bytes()
    inputs = _inputs(settings, name)
    parts = {
        "source": _sha(src),
        "parameters": settings.notebook_parameters(),
        "inputs": inputs,
        "code": code,
        "config": _leaves(config_payload(settings, name, set(inputs))),
        "upstream": upstream,
    }
    if name in MANIFEST_READERS:  # notebooks that read the whole manifest
        parts["manifest"] = _manifest_digest(settings)
    return parts


def parts_hash(parts: dict) -> str:
    return _sha(json.dumps(parts, sort_keys=True, default=str).encode())


def step_hash(settings: Settings, name: str, code: str, upstream: dict[str, str]) -> str:
    return parts_hash(step_parts(settings, name, code, upstream))


def rerun_reason(old: dict | None, new: dict) -> str:
    """Why a notebook reruns, in a few words (for the progress display and changes.md)."""
    if not old:
        return "first build of this notebook (or its record was lost)"
    why = []
    if old.get("source") != new["source"]:
        why.append("notebook source changed")
    if old.get("parameters") != new["parameters"]:
        why.append("parameters changed")
    oi, ni = old.get("inputs") or {}, new["inputs"]
    changed = sorted(d for d in set(oi) | set(ni) if oi.get(d) != ni.get(d))
    if changed:
        why.append("input data changed: " + ", ".join(changed[:4]) + (" …" if len(changed) > 4 else ""))
    if old.get("code") != new["code"]:
        why.append("package code changed")
    oc, nc = old.get("config") or {}, new["config"]
    keys = sorted(k for k in set(oc) | set(nc) if oc.get(k) != nc.get(k))
    if keys:
        why.append(
            "configuration changed: "
            + ", ".join(k.split(".", 1)[-1] for k in keys[:4])
            + (" …" if len(keys) > 4 else "")
        )
    ou, nu = old.get("upstream") or {}, new["upstream"]
    ups = sorted(d for d in set(ou) | set(nu) if ou.get(d) != nu.get(d))
    if ups:
        why.append("upstream notebook result changed: " + ", ".join(ups))
    if old.get("manifest") != new.get("manifest"):
        why.append("the raw-data manifest changed")
    return "; ".join(why) or "outputs changed or missing"


# Manifest fields that change with every fetch or with the configuration that fetched (the time a
# missing dataset was last looked for, and its query resolved for that configuration's fylke); the
# notebooks resolve a missing dataset's query for their own configuration, so these fields must not
# make another configuration's notebooks rerun.
_VOLATILE_MANIFEST_KEYS = {"checked_at", "how_to_fetch"}


def _manifest_digest(settings: Settings) -> str:
    """The manifest's entries of the datasets this configuration's edition uses (another edition's
    fetch of, say, a projection round it does not use changes nothing here)."""
    raw_dir = settings.raw_dir
    cat = load_catalogue(settings.root)

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in _VOLATILE_MANIFEST_KEYS}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    if not (Path(raw_dir) / rawstore.MANIFEST).exists():
        return ""
    manifest = rawstore.read_manifest(raw_dir)
    manifest["datasets"] = {
        d: rec
        for d, rec in manifest.get("datasets", {}).items()
        if d not in cat or used_by_edition(cat[d], settings.edition_params)
    }
    return _sha(json.dumps(strip(manifest), sort_keys=True).encode())


def _failing_cell(path: Path) -> tuple[int | None, str]:
    """Index (in the source notebook) and summary of the cell that raised."""
    import nbformat  # imported here: it is slow to import and only needed on failure

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return None, "no output notebook"
    added = {"injected-parameters", "papermill-error-cell-tag"}  # cells papermill inserts
    cells = [c for c in nb.cells if not added & set(c.get("metadata", {}).get("tags", []))]
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
                return i, f"{out.get('ename')}: {out.get('evalue')} (cell source: {first[:80]!r})"
    return None, "unknown error"


class _Runs:
    """The papermill subprocesses of this build, so Ctrl-C can terminate them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs: dict[str, subprocess.Popen] = {}
        self.cancelled = threading.Event()

    def terminate_all(self, grace: float = 5.0) -> None:
        with self.lock:
            self.cancelled.set()
            procs = list(self.procs.values())
        for p in procs:
            _signal_group(p, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(p, signal.SIGKILL)


def _signal_group(p: subprocess.Popen, sig) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(p.pid, sig)  # papermill and its kernel
        else:  # pragma: no cover - Windows
            p.terminate()
    except (ProcessLookupError, PermissionError, OSError):
        pass


def execute(
    settings: Settings, name: str, log_dir: Path, runs: _Runs | None = None, run_id: str | None = None
) -> list[str]:
    """Execute one notebook with papermill in a subprocess; keep the last good output on failure.

    The notebook writes its variables and record into a folder of this run (KG_RUN_DIR); they
    replace the previous ones only when the notebook succeeds. Returns the files it produced
    (relative to the build folder).
    """
    src = settings.root / "notebooks" / f"{name}.ipynb"
    out_dir = settings.build_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = run_id or uuid.uuid4().hex[:8]
    tmp = out_dir / f".running-{name}-{run_id}.ipynb"
    run_dir = settings.build_dir / f".run-{run_id}" / name
    run_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "kunnskapsgrunnlag.nbexec",
        str(src),
        str(tmp),
        str(settings.root / "notebooks"),
        json.dumps(settings.notebook_parameters()),
    ]
    env = {
        **os.environ,
        "KG_RUN_DIR": str(run_dir),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # use the kernelspec of this environment, never a stale one in ~/.local
        "JUPYTER_PREFER_ENV_PATH": "1",
    }
    runs = runs or _Runs()
    try:
        with kernels.slot(settings.config_id):  # report --all-regions: --jobs notebooks at once across configurations
            with runs.lock:
                if runs.cancelled.is_set():
                    raise BuildInterrupted([], [name])
                # warm kernels: a fork of the run's preloaded server, else a new process (kernels.py)
                proc = kernels.popen(
                    cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
                )
                runs.procs[name] = proc
            try:
                stdout, stderr = proc.communicate()
            finally:
                with runs.lock:
                    runs.procs.pop(name, None)
        if runs.cancelled.is_set():
            raise BuildInterrupted([], [name])
        log_dir.mkdir(parents=True, exist_ok=True)
        atomic.write_text(log_dir / f"{name}.log", stdout + stderr)
        if proc.returncode != 0:
            idx, summary = _failing_cell(tmp)
            if tmp.exists():
                os.replace(tmp, out_dir / f"{name}.failed.ipynb")
            raise NotebookFailed(name, idx, summary, stderr[-2000:])
        # success: variables and record first, then the executed notebook
        produced = []
        for sub, pattern in (("variables", "*.yml"), ("records", "*.json")):
            for f in run_dir.glob(pattern):
                (settings.build_dir / sub).mkdir(parents=True, exist_ok=True)
                os.replace(f, settings.build_dir / sub / f.name)
                produced.append(f"{sub}/{f.name}")
        apply_captions(settings, name, tmp)  # captions computed by ctx.caption() -> the cells' #| options
        os.replace(tmp, out_dir / f"{name}.ipynb")
        (out_dir / f"{name}.failed.ipynb").unlink(missing_ok=True)
        produced.append(f"notebooks/{name}.ipynb")
        rec = atomic.read_json(settings.build_dir / "records" / f"{name}.json", default={}) or {}
        for fig in (rec.get("figure_data") or {}).values() if isinstance(rec, dict) else []:
            if isinstance(fig, dict) and fig.get("file") and (settings.build_dir / fig["file"]).is_file():
                produced.append(str(fig["file"]))
        return sorted(set(produced))
    finally:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(run_dir, ignore_errors=True)


def _read_variables_file(f: Path) -> dict:
    try:
        data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise VariablesError(
            f"{f} is corrupt ({type(exc).__name__}); rerun its notebook with "
            f"`kunnskapsgrunnlag build --force --only {f.stem}`"
        ) from None
    return data if isinstance(data, dict) else {}


def merge_variables(settings: Settings) -> dict:
    """The notebooks' variables plus the configuration's own (`region.kode`, `region.navn`, `utgave.aar`)."""
    merged: dict = {}
    sources = [(f.name, _read_variables_file(f)) for f in sorted((settings.build_dir / "variables").glob("*.yml"))]
    sources.append(("the configuration (region, utgave)", settings.configuration_variables()))
    for fname, data in sources:
        for key, value in data.items():
            if key in merged and merged[key] != value and isinstance(value, dict) and isinstance(merged[key], dict):
                clash = set(merged[key]) & set(value)
                if clash:
                    raise VariablesError(f"variable(s) {sorted(clash)} under {key!r} written twice (one is {fname})")
                merged[key].update(value)
            elif key in merged and merged[key] != value:
                raise VariablesError(f"variable {key!r} written twice (one is {fname})")
            else:
                merged[key] = value
    return merged


def write_variables(settings: Settings) -> list[str]:
    """Write build/<id>/_variables.yml for the report; return the list of changed values (old -> new)."""
    path = variables_path(settings)
    old = read_variables(path)
    merged = merge_variables(settings)
    new = _flatten(merged)
    header = (
        f"# Written by `kunnskapsgrunnlag build` for configuration {settings.config_id} "
        "from variables/*.yml. Do not edit.\n"
    )
    text = header + yaml.safe_dump(merged, allow_unicode=True, sort_keys=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        atomic.write_text(path, text)
    changes = [
        f"{k}: {old.get(k, '(ny)')} -> {new.get(k, '(fjernet)')}"
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    ]
    return changes


def file_digests(settings: Settings, files) -> dict[str, str]:
    """sha256 of build outputs (paths relative to the build folder) that exist."""
    out = {}
    for rel in files:
        f = settings.build_dir / rel
        if f.is_file():
            out[rel] = _sha(f.read_bytes())
    return out


def tampered_outputs(settings: Settings, state: dict | None = None) -> list[tuple[str, str]]:
    """Build outputs whose sha256 differs from what the runner recorded, or that are gone:
    [(path relative to the build folder, "changed" | "deleted")]. Verified like raw data."""
    state = state if state is not None else read_state(settings)
    bad = []
    for rel, sha in sorted((state.get("digests") or {}).items()):
        f = settings.build_dir / rel
        if not f.is_file():
            bad.append((rel, "deleted"))
        elif _sha(f.read_bytes()) != sha:
            bad.append((rel, "changed"))
    return bad


def _outputs_intact(settings: Settings, files: list[str], digests: dict[str, str] | None = None) -> bool:
    """Whether the files a notebook's last good run wrote are still there, unchanged (sha256 as
    recorded) and readable (a corrupt one is set aside with a warning, so the notebook runs again
    and rebuilds it)."""
    digests = digests or {}
    for rel in files:
        f = settings.build_dir / rel
        if not f.exists():
            return False
        # unreadable first (set aside with a warning, so the user is told), then merely altered
        if f.suffix == ".json":
            if atomic.read_json(f, default=None) is None:
                return False
        elif f.suffix == ".yml":
            try:
                yaml.load(f.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                atomic.set_aside(f, type(exc).__name__)
                return False
        if rel in digests and _sha(f.read_bytes()) != digests[rel]:
            return False
    return True


def read_state(settings: Settings) -> dict:
    """build/<id>/state.json: {"version", "hashes": {notebook: hash}, "last_build": {...}} (corrupt -> rebuilt)."""
    state = atomic.read_json(settings.build_dir / "state.json", default={}) or {}
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        return {"version": STATE_VERSION, "hashes": {}, "last_build": {}, "outputs": {}, "digests": {}}
    state.setdefault("digests", {})
    state.setdefault("hashes", {})
    state.setdefault("last_build", {})
    state.setdefault("outputs", {})
    return state


def _write_state(settings: Settings, state: dict) -> None:
    atomic.write_json(settings.build_dir / "state.json", state)


def current_hashes(settings: Settings) -> dict[str, str]:
    """What each notebook's hash would be now (to tell whether the executed notebooks are stale)."""
    code = code_hash()
    out: dict[str, str] = {}
    for nb in load_project(settings.root)["notebooks"]:
        n = nb["name"]
        out[n] = step_hash(settings, n, code, {d: out.get(d, "") for d in nb.get("after", [])})
    return out


def stale_notebooks(settings: Settings) -> tuple[dict, list[str]]:
    """(last build's record, notebooks whose executed output does not match the current inputs)."""
    state = read_state(settings)
    now = current_hashes(settings)
    tampered = {rel for rel, _ in tampered_outputs(settings, state)}
    stale = [
        n
        for n, h in now.items()
        if state["hashes"].get(n) != h
        or not (settings.build_dir / "notebooks" / f"{n}.ipynb").exists()
        or tampered & set(state["outputs"].get(n) or [])
    ]
    return state["last_build"], stale


def build_notebooks(
    settings: Settings, *, jobs: int = 1, force: bool = False, only: list[str] | None = None, on_event=None
) -> BuildResult:
    """Run the configured notebooks. `on_event(name, status, message)` drives a progress display."""
    nbs = load_project(settings.root)["notebooks"]
    names = [n["name"] for n in nbs]
    if only:
        bad = sorted(set(only) - set(names))
        if bad:
            raise ConfigError(f"Unknown notebook(s) {bad} in --only; valid (config/project.yml `notebooks`): {names}")
    deps = {n["name"]: list(n.get("after", [])) for n in nbs}
    order = {n: i for i, n in enumerate(names)}
    graph = TopologicalSorter(deps)
    try:
        graph.prepare()
    except CycleError as exc:
        raise ConfigError(
            f"config/project.yml `notebooks`: the `after:` lists form a cycle "
            f"({' -> '.join(exc.args[1])}); remove one of those `after:` entries"
        ) from None
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    state = read_state(settings)
    prev = state["hashes"]
    produced = state["outputs"]  # notebook -> files its last good run wrote (they must still exist)
    old_parts = state.setdefault("parts", {})
    code = code_hash()
    result = BuildResult()
    done: dict[str, str] = {}  # name -> hash of its result (for downstream hashing)
    failed: set[str] = set()
    pending = set(names)  # not started, skipped or blocked yet
    running: dict = {}
    emit = on_event or (lambda *a: None)
    runs = _Runs()
    run_id = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def run_one(n: str, h: str, why: str) -> StepResult:
        t0 = time.perf_counter()
        emit(n, "running", why)
        produced = execute(settings, n, settings.build_dir / "logs", runs, run_id)
        log = settings.build_dir / "logs" / f"{n}.log"
        timing = kernels.parse_timing(log.read_text(encoding="utf-8", errors="replace"))  # kernel start, cells
        note = kernels.timing_note(timing)
        return StepResult(
            n, "ran", time.perf_counter() - t0, f"{why} ({note})" if note else why, produced=produced or []
        )

    def save_state(ok: bool | None = None, finished: bool = False) -> None:
        state["hashes"] = prev
        state["outputs"] = produced
        if finished:
            state["last_build"] = {
                "ok": bool(ok),
                "finished": rawstore.now_iso(),
                "failed": sorted(s.notebook for s in result.steps if s.status == "failed"),
                "blocked": sorted(s.notebook for s in result.steps if s.status == "blocked"),
            }
        _write_state(settings, state)

    def start(n: str) -> None:
        """Skip, block or submit a notebook whose upstream notebooks are all finished."""
        pending.discard(n)
        if any(d in failed for d in deps[n]):
            failed.add(n)
            result.steps.append(StepResult(n, "blocked", 0, "an upstream notebook failed"))
            emit(n, "blocked", "")
            graph.done(n)
            return
        parts = step_parts(settings, n, code, {d: done[d] for d in deps[n]})
        h = parts_hash(parts)
        out = settings.build_dir / "notebooks" / f"{n}.ipynb"
        selected = not only or n in only
        complete = out.exists() and _outputs_intact(settings, produced.get(n, []), state["digests"])
        if (not force or not selected) and prev.get(n) == h and complete:
            done[n] = h
            result.steps.append(StepResult(n, "skipped", 0, "unchanged"))
            emit(n, "skipped", "")
            graph.done(n)
            return
        if not selected:
            done[n] = prev.get(n, h)
            result.steps.append(StepResult(n, "skipped", 0, "not selected"))
            emit(n, "skipped", "not selected")
            graph.done(n)
            return
        if force and prev.get(n) == h and complete:
            why = "forced (--force)"
        elif prev.get(n) == h:
            gone = [
                r
                for r in produced.get(n, [])
                if r in state["digests"] and not _outputs_intact(settings, [r], state["digests"])
            ]
            why = "outputs changed or missing" + (": " + ", ".join(gone[:3]) if gone else "")
        else:
            why = rerun_reason(old_parts.get(n), parts)
        running[pool.submit(run_one, n, h, why)] = (n, h, parts)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        while graph.is_active():
            while ready := sorted(graph.get_ready(), key=order.__getitem__):
                for n in ready:  # skipped and blocked ones are done at once: loop for their successors
                    start(n)
            if not running:
                continue
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                n, h, parts = running.pop(fut)
                try:
                    step = fut.result()
                    done[n] = h
                    prev[n] = h
                    old_parts[n] = parts
                    for rel in set(produced.get(n) or []) - set(step.produced):
                        state["digests"].pop(rel, None)  # no longer written by this notebook
                    produced[n] = step.produced
                    state["digests"].update(file_digests(settings, step.produced))
                    result.steps.append(step)
                    emit(n, "ran", f"{step.seconds:.1f} s {step.message}".rstrip())
                except NotebookFailed as exc:
                    failed.add(n)
                    prev.pop(n, None)
                    result.steps.append(StepResult(n, "failed", 0, str(exc)))
                    emit(n, "failed", str(exc))
                graph.done(n)
            save_state()
    except KeyboardInterrupt as stop:
        # Ctrl-C (or SIGTERM/SIGHUP through the CLI): nothing queued starts, running notebooks are
        # terminated, finished ones are kept.
        runs.cancelled.set()
        pool.shutdown(wait=False, cancel_futures=True)
        runs.terminate_all()
        pool.shutdown(wait=True)
        for fut, (n, h, _parts) in list(running.items()):
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                prev[n] = h  # finished just before the interrupt: its outputs are in place
        save_state(ok=False, finished=True)
        shutil.rmtree(settings.build_dir / f".run-{run_id}", ignore_errors=True)
        err = BuildInterrupted(
            [s.notebook for s in result.steps if s.status == "ran"],
            [n for n, _h, _p in running.values()] + sorted(pending, key=order.__getitem__),
        )
        err.signal = stop if hasattr(stop, "signum") else None
        raise err from None
    finally:
        pool.shutdown(wait=True)
        shutil.rmtree(settings.build_dir / f".run-{run_id}", ignore_errors=True)

    for n in names:
        rec = atomic.read_json(settings.build_dir / "records" / f"{n}.json", default={}) or {}
        for m in rec.get("missing", []) if isinstance(rec, dict) else []:
            if m not in result.missing:
                result.missing.append({**m, "notebook": n})
    if result.ok:
        result.changes = write_variables(settings)
        state["digests"].update(file_digests(settings, ["_variables.yml"]))
        log = [
            f"# Endringer i siste bygg ({settings.config_id}: utgave {settings.edition}, {settings.region_name})",
            "",
        ]
        for st in sorted(result.steps, key=lambda x: order[x.notebook]):
            if st.status == "ran":
                log.append(f"- {st.notebook}: ran ({st.seconds:.1f} s) because: {st.message}")
            else:
                log.append(f"- {st.notebook}: {st.status} ({st.message})")
        log += [""] + changes_section(settings, result.changes)  # grouped as `diff` groups them
        log += ["", "## Datasett som mangler", ""] + (
            [
                f"- {m['dataset']} ({m['notebook']}): {m['reason']}. Hent med: {m['how_to_fetch']}"
                for m in result.missing
            ]
            or ["- ingen"]
        )
        atomic.write_text(settings.build_dir / "changes.md", "\n".join(log) + "\n")
    save_state(ok=result.ok, finished=True)
    return result
