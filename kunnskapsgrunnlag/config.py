"""Load and validate the declarative configuration in `config/`."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, cast

import yaml

from .fmt import relative_path


class ConfigError(ValueError):
    """A configuration or parameter value is invalid; the message lists valid values."""


class ProjectNotFound(ConfigError):
    """No project (a folder with config/project.yml and _quarto.yml) at or above a folder."""


PROJECT_MARKERS = (Path("config") / "project.yml", Path("_quarto.yml"))

# The project chosen explicitly for this process (`--project DIR`, `use_project`); None means
# "found from the current directory upwards", like git. Never taken from an environment variable.
_ACTIVE_ROOT: list[Path] = []


def is_project(folder: Path) -> bool:
    return all((Path(folder) / m).is_file() for m in PROJECT_MARKERS)


def find_project(start: Path | str | None = None) -> Path:
    """The project holding `start` (default: the current directory): the nearest folder at or
    above it with `config/project.yml` and `_quarto.yml`, as git finds its repository."""
    here = Path(start if start is not None else Path.cwd()).expanduser().resolve()
    for folder in (here, *here.parents):
        if is_project(folder):
            return folder
    raise ProjectNotFound(
        f"{here} is not inside a kunnskapsgrunnlag project (no folder at or above it has config/project.yml "
        "and _quarto.yml); run the command inside the project folder, or give it with `--project DIR`"
    )


def project_root() -> Path:
    """The project of this process: the one chosen with `--project`/`use_project`, else the one
    holding the current directory."""
    if _ACTIVE_ROOT:
        return _ACTIVE_ROOT[-1]
    return find_project()


def set_project(root: Path | str | None) -> Path | None:
    """Choose the project of this process (the CLI's `--project`); None goes back to discovery."""
    _ACTIVE_ROOT.clear()
    if root is None:
        return None
    found = find_project(root)
    _ACTIVE_ROOT.append(found)
    return found


@contextmanager
def use_project(root: Path | str) -> Iterator[Path]:
    """`with use_project(path): ...` runs with that project (tests, scripts), then restores."""
    found = find_project(root)
    _ACTIVE_ROOT.append(found)
    try:
        yield found
    finally:
        _ACTIVE_ROOT.pop()


class _FileCached(Protocol):
    """A loader wrapped by `_file_cache`: called with an optional root, emptied by `cache_clear()`."""

    def __call__(self, root: Path | None = None) -> Any: ...

    def cache_clear(self) -> None: ...


def _file_cache(fn: Callable[[Path], Any]) -> _FileCached:
    """Cache a loader per (resolved project root, mtime and size of the files it reads): an edited
    file is read again, two projects never share an entry."""
    cache: dict = {}

    def key(root: Path) -> tuple:
        stats: list[tuple[int, int] | None] = []
        for f in (root / "config" / "project.yml", root / "config" / "datasets.yml"):
            try:
                st = f.stat()
                stats.append((st.st_mtime_ns, st.st_size))
            except OSError:
                stats.append(None)
        return (root, *stats)

    def wrapper(root: Path | None = None):
        r = Path(root).resolve() if root is not None else project_root()
        k = key(r)
        if k not in cache:
            cache[k] = fn(r)
        return cache[k]

    wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return cast(_FileCached, wrapper)  # cache_clear is set just above


def _load_yaml(path: Path) -> Any:
    """Parse a YAML file; any problem is a ConfigError naming the file (and line)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path} does not exist; restore it (e.g. `git checkout -- {path.name}` in its folder)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); "
            "save it with UTF-8 encoding (it looks like Latin-1/Windows-1252)"
        ) from None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise ConfigError(f"{path} is empty; restore it (e.g. `git checkout -- {path.name}` in its folder)")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # C parser: fast no-op runs
    except _DuplicateKey as dup:
        raise ConfigError(
            f"{path}: key {dup.key!r} appears twice in the same mapping (line {dup.first} and line "
            f"{dup.line}); YAML would silently keep the last one. Remove or rename one of them"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        ctx = getattr(exc, "context", None)
        cmark = getattr(exc, "context_mark", None)
        if ctx and cmark is not None and mark is not None and cmark.line != mark.line:
            ctx = f"{ctx}, which starts at line {cmark.line + 1}"
        raise ConfigError(
            f"{path}: YAML syntax error{where}: {problem}"
            + (f" ({ctx})" if ctx else "")
            + "; check indentation, colons and quotes there"
        ) from None


class _DuplicateKey(Exception):
    def __init__(self, key: Any, first: int, line: int):
        super().__init__(key)
        self.key, self.first, self.line = key, first, line


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, refusing a key given twice in one mapping (ambiguous configuration)."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            continue
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _DuplicateKey(key, seen[key], line)
        seen[key] = line
    return yaml.constructor.SafeConstructor.construct_yaml_map(loader, node)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _mapping_without_duplicates)


def _validated(path: Path, data: Any, schema) -> Any:
    from .config_schema import validate

    problems = validate(data, schema)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ConfigError(f"{path}: " + "; ".join(problems[:5]) + more)
    return data


@_file_cache
def load_project(root: Path) -> dict:
    """config/project.yml of the project at `root` (default: the current project), validated."""
    from .config_schema import PROJECT_SCHEMA

    path = root / "config" / "project.yml"
    data = _validated(path, _load_yaml(path), PROJECT_SCHEMA)
    problems = notebook_list_problems(data.get("notebooks") or [], root / "notebooks")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems[:5]))
    return data


def load_project_model(root: Path | None = None):
    """config/project.yml as the validated pydantic model (`config_schema.Project`)."""
    from .config_schema import Project

    return Project.model_validate(load_project(root))


def load_catalogue_model(root: Path | None = None):
    """config/datasets.yml as the validated pydantic model (`config_schema.Catalogue`)."""
    from .config_schema import Catalogue

    return Catalogue.model_validate(load_catalogue(root))


def notebook_list_problems(entries: list, folder: Path) -> list[str]:
    """The `notebooks:` list: every name once, every notebook present in notebooks/, every `after:`
    a listed notebook, no `after:` cycle; each problem with the nearest valid name."""
    import difflib
    from graphlib import CycleError, TopologicalSorter

    problems = []
    names = [str(e.get("name")) for e in entries if isinstance(e, dict)]
    existing = sorted(f.stem for f in Path(folder).glob("*.ipynb")) if Path(folder).is_dir() else []

    def near(name: str, valid: list[str]) -> str:
        m = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
        return f"; did you mean {m[0]!r}?" if m else ""

    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            problems.append(f"notebooks[{i}]: {n!r} is listed twice (it would run twice at once); keep one entry")
        seen.add(n)
        if existing and n not in existing:
            problems.append(f"notebooks[{i}]: there is no notebooks/{n}.ipynb{near(n, existing)}")
    deps: dict[str, list[str]] = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            continue
        after = e.get("after") or []
        if not isinstance(after, list):
            problems.append(f"notebooks[{i}].after: expected a list of notebook names, got {after!r}")
            continue
        for a in after:
            if str(a) not in names:
                problems.append(f"notebooks[{i}].after: {a!r} is not a notebook in this list{near(str(a), names)}")
        deps[str(e.get("name"))] = [str(a) for a in after if str(a) in names]
    if not problems:
        try:
            TopologicalSorter(deps).prepare()
        except CycleError as exc:
            problems.append(
                "notebooks: the `after:` lists form a cycle ("
                + " -> ".join(exc.args[1])
                + "); remove one of those `after:` entries"
            )
    return problems


@_file_cache
def load_catalogue(root: Path) -> dict[str, dict]:
    """config/datasets.yml of the project at `root` (default: the current project), validated."""
    from .config_schema import CATALOGUE_SCHEMA

    path = root / "config" / "datasets.yml"
    cat = _validated(path, _load_yaml(path), CATALOGUE_SCHEMA)
    for name, spec in cat.items():
        spec.setdefault("name", name)
    return cat


def plan_region(root: Path | None = None) -> str:
    """The region whose plan the prose was written for (`report.plan_region`, else the default region)."""
    proj = load_project(root)
    code = (
        (proj.get("report") or {}).get("plan_region")
        or proj["defaults"].get("plan_region")
        or proj["defaults"]["region"]
    )
    return str(code)


@dataclass(frozen=True)
class Settings:
    """What changes between runs: edition, region, comparison regions and paths."""

    edition: int
    region: str
    comparison_regions: tuple[str, ...]
    root: Path
    raw_dir: Path
    processed_dir: Path
    build_dir: Path
    edition_params: dict = field(default_factory=dict, compare=False, hash=False)
    book_dir: Path | None = None

    @property
    def region_name(self) -> str:
        return load_project(self.root)["regions"][self.region]

    @property
    def config_id(self) -> str:
        """The configuration (edition, region) as a folder name, e.g. `2026-33`."""
        return f"{self.edition}-{self.region}"

    @property
    def is_plan_region(self) -> bool:
        return self.region == plan_region(self.root)

    def configuration_variables(self) -> dict[str, Any]:
        """Report variables of the configuration itself (added by the runner)."""
        return {"region": {"kode": self.region, "navn": self.region_name}, "utgave": {"aar": str(self.edition)}}

    def relative(self, path: Path) -> str:
        """`path` as stored in notebooks, hashes and records: relative to the project root (POSIX
        separators) when inside it, else absolute (only tests put folders outside the project)."""
        return relative_to_root(path, self.root)

    def resolve(self, stored: str | Path) -> Path:
        """A stored path back to a folder: relative ones against the project root, never the cwd."""
        p = Path(stored)
        return (p if p.is_absolute() else self.root / p).resolve()

    def notebook_parameters(self) -> dict[str, Any]:
        """Parameters injected into every notebook by papermill (JSON-serialisable). The folders
        are relative to the project root, which the notebook finds from its own folder upwards
        (`root` None): an executed notebook re-run from build/<id>/notebooks/ reads and writes
        exactly what the runner's run did, and shows none of this machine's folders."""
        return {
            "edition": self.edition,
            "region": self.region,
            "comparison_regions": list(self.comparison_regions),
            "root": None,
            "raw_dir": self.relative(self.raw_dir),
            "processed_dir": self.relative(self.processed_dir),
            "build_dir": self.relative(self.build_dir),
        }


def relative_to_root(path: Path | str, root: Path) -> str:
    return relative_path(path, root)


def valid_editions(root: Path | None = None) -> list[int]:
    return sorted(int(e) for e in load_project(root)["editions"])


def valid_regions(root: Path | None = None) -> dict[str, str]:
    return {k: v for k, v in load_project(root)["regions"].items() if k != "0"}


def check_region(code: str, root: Path | None = None) -> str:
    """A fylke code, exactly as in config/project.yml `regions` (two digits: `03`, not `3`)."""
    regions = valid_regions(root)
    code = str(code).strip()
    if code not in regions:
        listing = ", ".join(f"{k} {v}" for k, v in sorted(regions.items()))
        near = [k for k in regions if k.lstrip("0") == code.lstrip("0") and code.lstrip("0")]
        hint = f" Did you mean {near[0]} ({regions[near[0]]})?" if near else ""
        raise ConfigError(
            f"Unknown region {code!r}: region codes must match exactly.{hint} Valid fylker (2024 codes): {listing}"
        )
    return code


def check_edition(year: int | str, root: Path | None = None) -> int:
    valid = valid_editions(root)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ConfigError(f"Edition year must be a number, got {year!r}. Valid: {valid}") from None
    if year not in valid:
        raise ConfigError(
            f"Unknown edition year {year}. Valid editions: {', '.join(map(str, valid))} "
            "(add a block under `editions:` in config/project.yml for a new one)"
        )
    return year


def used_by_notebook(spec: dict) -> set[str]:
    """The notebooks that read a dataset (catalogue `used_by` entries are `notebook#label`)."""
    return {u.split("#")[0] for u in spec.get("used_by", [])}


def used_by_edition(spec: dict, edition_params: dict) -> bool:
    """False for a projection dataset of a later round than the edition's. Earlier rounds are kept:
    a part the edition's round lacks falls back to the latest earlier round present
    (`editions.pick_projection`)."""
    p = spec.get("projection")
    if isinstance(p, dict) and "round" in p:
        return int(p["round"]) <= int(edition_params.get("projection_round") or p["round"])
    return True


def make_settings(
    edition: int | None = None,
    region: str | None = None,
    comparison_regions: list[str] | tuple[str, ...] | None = None,
    root: Path | None = None,
    raw_dir: Path | None = None,
    processed_dir: Path | None = None,
    build_dir: Path | None = None,
) -> Settings:
    """Settings of one configuration of the project at `root` (default: the current project).
    Relative folders are taken relative to the project root, never to the current directory."""
    root = Path(root).resolve() if root is not None else project_root()
    proj = load_project(root)
    d = proj["defaults"]
    edition = check_edition(edition if edition is not None else d["edition"], root)
    region = check_region(region if region is not None else d["region"], root)
    if comparison_regions is not None:
        comps = comparison_regions
    elif region == plan_region(root):  # the plan region's comparison, as published
        comps = d["comparison_regions"]
    else:  # another fylke: its neighbours and Norway
        comps = [*(proj.get("neighbours") or {}).get(region, []), "0"] or d["comparison_regions"]
    comps = tuple("0" if str(c) in {"0", "00"} else check_region(c, root) for c in comps)
    cid = f"{edition}-{region}"

    def folder(given, default: Path) -> Path:
        p = Path(given) if given else default
        return (p if p.is_absolute() else root / p).resolve()

    return Settings(
        edition=edition,
        region=region,
        comparison_regions=comps,
        root=root,
        raw_dir=folder(raw_dir, root / "data" / "raw"),
        processed_dir=folder(processed_dir, root / "data" / "processed" / cid),
        build_dir=folder(build_dir, root / "build" / cid),
        edition_params=dict(proj["editions"][edition]),
        book_dir=(root / "_book" / cid).resolve(),
    )


def settings_from_parameters(params: dict[str, Any]) -> Settings:
    """Rebuild Settings inside a notebook from its papermill parameters.

    `root` None (the default) is the project holding the current directory (the notebook's own
    folder: notebooks/ or build/<id>/notebooks/). Folders are relative to the project root; None
    means the configuration's default folder (a source notebook run by hand writes where the
    runner would)."""
    root = params.get("root")
    return make_settings(
        edition=params.get("edition"),
        region=params.get("region"),
        comparison_regions=params.get("comparison_regions"),
        root=find_project(root) if root is not None else None,
        raw_dir=params.get("raw_dir"),
        processed_dir=params.get("processed_dir"),
        build_dir=params.get("build_dir"),
    )


_FIELD = re.compile(r"\{([a-z_]+)(?:([+-])(\d+))?\}")


def resolve_vintage(vintage: Any, edition_params: dict) -> str:
    """A catalogue vintage with `{edition_key}` / `{edition_key-2}` filled from the edition block."""

    def repl(m: re.Match) -> str:
        key, sign, n = m.group(1), m.group(2), m.group(3)
        if key not in edition_params:
            raise ConfigError(f"vintage {vintage!r} uses {{{key}}}, which the edition block does not have")
        v = int(edition_params[key])
        return str(v + int(n) if sign == "+" else v - int(n) if sign == "-" else v)

    return _FIELD.sub(repl, str(vintage if vintage is not None else "na"))
