"""Run the notebooks with papermill: in configured order, concurrently where independent,
skipping those whose source, parameters, inputs and package code are unchanged.

Outputs: executed notebooks in build/notebooks/, variables in build/variables/ (merged into
_variables.yml for the report), records in build/records/, and build/changes.md (what changed).
A failing notebook is reported with its name and failing cell; its last good output is kept.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import rawstore
from .config import Settings, load_catalogue, load_project, used_by_notebook
from .notebook import apply_captions

PACKAGE_DIR = Path(__file__).resolve().parent


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
    """Hash of the package's code and the configuration: a change reruns every notebook."""
    h = hashlib.sha256()
    files = sorted(PACKAGE_DIR.rglob("*.py"))
    root = PACKAGE_DIR.parent
    files += sorted((root / "config").rglob("*.yml")) + sorted((root / "config").rglob("*.csv"))
    for f in files:
        if "render" in f.relative_to(root).parts:
            continue  # the renderer does not affect notebook outputs
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _inputs(settings: Settings, name: str) -> dict[str, str]:
    """sha256 of every raw dataset the notebook reads (declared in the catalogue or seen last run)."""
    cat = load_catalogue()
    used = {d for d, spec in cat.items() if name in used_by_notebook(spec)}
    rec = settings.build_dir / "records" / f"{name}.json"
    if rec.exists():
        used |= set(json.loads(rec.read_text()).get("used", []))
    manifest = rawstore.read_manifest(settings.raw_dir)["datasets"]
    out = {}
    for d in sorted(used):
        cur = manifest.get(d, {}).get("current", {})
        out[d] = cur.get("sha256") or f"missing:{cur.get('reason', '')}"
    return out


def step_hash(settings: Settings, name: str, code: str, upstream: dict[str, str]) -> str:
    src = (settings.root / "notebooks" / f"{name}.ipynb").read_bytes()
    payload = {
        "source": _sha(src),
        "parameters": settings.notebook_parameters(),
        "inputs": _inputs(settings, name),
        "code": code,
        "upstream": upstream,
    }
    if name == "99_datakilder":  # the appendix reads the whole manifest
        mf = settings.raw_dir / rawstore.MANIFEST
        payload["manifest"] = _sha(mf.read_bytes()) if mf.exists() else ""
    return _sha(json.dumps(payload, sort_keys=True).encode())


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
                first = next((l for l in cell.source.splitlines() if l.strip() and not l.startswith("#")), "")
                return i, f"{out.get('ename')}: {out.get('evalue')} (cell source: {first[:80]!r})"
    return None, "unknown error"


def execute(settings: Settings, name: str, log_dir: Path) -> None:
    """Execute one notebook with papermill in a subprocess; keep the last good output on failure."""
    src = settings.root / "notebooks" / f"{name}.ipynb"
    out_dir = settings.build_dir / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".running-{name}.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(src), str(tmp), "-k", "python3",
           "--cwd", str(settings.root / "notebooks"), "--no-progress-bar", "--log-level", "ERROR"]
    for k, v in settings.notebook_parameters().items():
        cmd += ["-y", yaml.safe_dump({k: v}, default_flow_style=True).strip()]
    env = {**os.environ, "KG_ROOT": str(settings.root),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""), "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1",
           # use the kernelspec of this environment, never a stale one in ~/.local
           "JUPYTER_PREFER_ENV_PATH": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / f"{name}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        idx, summary = _failing_cell(tmp)
        if tmp.exists():
            failed = out_dir / f"{name}.failed.ipynb"
            os.replace(tmp, failed)
        raise NotebookFailed(name, idx, summary, proc.stderr[-2000:])
    apply_captions(settings, name, tmp)  # captions computed by ctx.caption() -> the cells' #| options
    os.replace(tmp, out_dir / f"{name}.ipynb")


def merge_variables(settings: Settings) -> dict:
    merged: dict = {}
    for f in sorted((settings.build_dir / "variables").glob("*.yml")):
        data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if key in merged and merged[key] != value and isinstance(value, dict) and isinstance(merged[key], dict):
                clash = set(merged[key]) & set(value)
                if clash:
                    raise ValueError(f"variable(s) {sorted(clash)} under {key!r} written by two notebooks (one is {f.name})")
                merged[key].update(value)
            elif key in merged and merged[key] != value:
                raise ValueError(f"variable {key!r} written by two notebooks (one is {f.name})")
            else:
                merged[key] = value
    return merged


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = str(v)
    return out


def write_variables(settings: Settings) -> list[str]:
    """Write _variables.yml for the report; return the list of changed values (old -> new)."""
    path = settings.root / "_variables.yml"
    old = _flatten(yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    merged = merge_variables(settings)
    new = _flatten(merged)
    header = "# Written by `kunnskapsgrunnlag build` from build/variables/*.yml. Do not edit.\n"
    text = header + yaml.safe_dump(merged, allow_unicode=True, sort_keys=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    changes = [f"{k}: {old.get(k, '(ny)')} -> {new.get(k, '(fjernet)')}"
               for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return changes


def build_notebooks(settings: Settings, *, jobs: int = 1, force: bool = False, only: list[str] | None = None,
                    on_event=None) -> BuildResult:
    """Run the configured notebooks. `on_event(name, status, message)` drives a progress display."""
    nbs = load_project()["notebooks"]
    names = [n["name"] for n in nbs]
    if only:
        bad = sorted(set(only) - set(names))
        if bad:
            raise KeyError(f"Unknown notebook(s) {bad}; valid: {names}")
    deps = {n["name"]: list(n.get("after", [])) for n in nbs}
    state_path = settings.build_dir / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    key = f"{settings.edition}:{settings.region}"
    prev = state.get(key, {})
    code = code_hash()
    result = BuildResult()
    done: dict[str, str] = {}  # name -> hash of its result (for downstream hashing)
    failed: set[str] = set()
    pending = list(names)
    running: dict = {}
    emit = on_event or (lambda *a: None)

    def ready(n):
        return all(d in done or d in failed for d in deps[n])

    def run_one(n: str, h: str) -> StepResult:
        t0 = time.perf_counter()
        emit(n, "running", "")
        execute(settings, n, settings.build_dir / "logs")
        return StepResult(n, "ran", time.perf_counter() - t0)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        while pending or running:
            for n in [p for p in pending if ready(p)]:
                pending.remove(n)
                if any(d in failed for d in deps[n]):
                    failed.add(n)
                    result.steps.append(StepResult(n, "blocked", 0, "an upstream notebook failed"))
                    emit(n, "blocked", "")
                    continue
                h = step_hash(settings, n, code, {d: done[d] for d in deps[n]})
                out = settings.build_dir / "notebooks" / f"{n}.ipynb"
                selected = not only or n in only
                if (not force or not selected) and prev.get(n) == h and out.exists():
                    done[n] = h
                    result.steps.append(StepResult(n, "skipped", 0, "unchanged"))
                    emit(n, "skipped", "")
                    continue
                if not selected:
                    done[n] = prev.get(n, h)
                    result.steps.append(StepResult(n, "skipped", 0, "not selected"))
                    emit(n, "skipped", "not selected")
                    continue
                running[pool.submit(run_one, n, h)] = (n, h)
            if not running:
                continue
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                n, h = running.pop(fut)
                try:
                    step = fut.result()
                    done[n] = h
                    prev[n] = h
                    result.steps.append(step)
                    emit(n, "ran", f"{step.seconds:.1f} s")
                except NotebookFailed as exc:
                    failed.add(n)
                    prev.pop(n, None)
                    result.steps.append(StepResult(n, "failed", 0, str(exc)))
                    emit(n, "failed", str(exc))
            state[key] = prev
            state_path.parent.mkdir(parents=True, exist_ok=True)
            state_path.write_text(json.dumps(state, indent=2, sort_keys=True))

    for n in names:
        rec = settings.build_dir / "records" / f"{n}.json"
        if rec.exists():
            for m in json.loads(rec.read_text()).get("missing", []):
                if m not in result.missing:
                    result.missing.append({**m, "notebook": n})
    if result.ok:
        result.changes = write_variables(settings)
        log = ["# Endringer i siste bygg", ""]
        log += [f"- {s.notebook}: {s.status} {s.message}".rstrip() for s in result.steps]
        log += ["", "## Endrede tall i rapporten", ""] + ([f"- {c}" for c in result.changes] or ["- ingen"])
        log += ["", "## Datasett som mangler", ""] + ([f"- {m['dataset']} ({m['notebook']}): {m['reason']}. Hent med: {m['how_to_fetch']}"
                                                     for m in result.missing] or ["- ingen"])
        (settings.build_dir / "changes.md").write_text("\n".join(log) + "\n", encoding="utf-8")
    return result
