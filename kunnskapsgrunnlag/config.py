"""Load and validate the declarative configuration in `config/`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration or parameter value is invalid; the message lists valid values."""


def project_root() -> Path:
    """The project root: $KG_ROOT, else the folder holding `_quarto.yml` above this package."""
    env = os.environ.get("KG_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


def _load_yaml(path: Path) -> Any:
    """Parse a YAML file; any problem is a ConfigError naming the file (and line)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; restore it (e.g. `git checkout -- {path.name}` in its folder)") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); "
                          "save it with UTF-8 encoding (it looks like Latin-1/Windows-1252)") from None
    if not text.strip() or all(not l.strip() or l.lstrip().startswith("#") for l in text.splitlines()):
        raise ConfigError(f"{path} is empty; restore it (e.g. `git checkout -- {path.name}` in its folder)")
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser: fast no-op runs
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        ctx = getattr(exc, "context", None)
        cmark = getattr(exc, "context_mark", None)
        if ctx and cmark is not None and mark is not None and cmark.line != mark.line:
            ctx = f"{ctx}, which starts at line {cmark.line + 1}"
        raise ConfigError(f"{path}: YAML syntax error{where}: {problem}" + (f" ({ctx})" if ctx else "")
                          + "; check indentation, colons and quotes there") from None


def _validated(path: Path, data: Any, schema) -> Any:
    from .config_schema import validate

    problems = validate(data, schema)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ConfigError(f"{path}: " + "; ".join(problems[:5]) + more)
    return data


@lru_cache(maxsize=None)
def load_project(root: Path | None = None) -> dict:
    from .config_schema import PROJECT_SCHEMA

    path = (root or project_root()) / "config" / "project.yml"
    return _validated(path, _load_yaml(path), PROJECT_SCHEMA)


@lru_cache(maxsize=None)
def load_catalogue(root: Path | None = None) -> dict[str, dict]:
    from .config_schema import CATALOGUE_SCHEMA

    path = (root or project_root()) / "config" / "datasets.yml"
    cat = _validated(path, _load_yaml(path), CATALOGUE_SCHEMA)
    for name, spec in cat.items():
        spec.setdefault("name", name)
    return cat


def plan_region() -> str:
    """The region whose plan the prose was written for (`report.plan_region`, else the default region)."""
    proj = load_project()
    code = (proj.get("report") or {}).get("plan_region") or proj["defaults"].get("plan_region") \
        or proj["defaults"]["region"]
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
        return load_project()["regions"][self.region]

    @property
    def config_id(self) -> str:
        """The configuration (edition, region) as a folder name, e.g. `2026-33`."""
        return f"{self.edition}-{self.region}"

    @property
    def is_plan_region(self) -> bool:
        return self.region == plan_region()

    def configuration_variables(self) -> dict[str, Any]:
        """Report variables of the configuration itself (added by the runner)."""
        return {"region": {"kode": self.region, "navn": self.region_name}, "utgave": {"aar": str(self.edition)}}

    def notebook_parameters(self) -> dict[str, Any]:
        """Parameters injected into every notebook by papermill (JSON-serialisable). Paths are
        relative to the notebooks' working directory (`notebooks/`, papermill --cwd): the
        executed notebooks are published with the book and must not show this machine's
        folders; settings_from_parameters resolves them again inside the notebook."""
        def rel(path: Path) -> str:
            return os.path.relpath(path, self.root / "notebooks")

        return {
            "edition": self.edition,
            "region": self.region,
            "comparison_regions": list(self.comparison_regions),
            "root": rel(self.root),
            "raw_dir": rel(self.raw_dir),
            "processed_dir": rel(self.processed_dir),
            "build_dir": rel(self.build_dir),
        }


def valid_editions() -> list[int]:
    return sorted(int(e) for e in load_project()["editions"])


def valid_regions() -> dict[str, str]:
    return {k: v for k, v in load_project()["regions"].items() if k != "0"}


def check_region(code: str) -> str:
    """A fylke code, exactly as in config/project.yml `regions` (two digits: `03`, not `3`)."""
    regions = valid_regions()
    code = str(code).strip()
    if code not in regions:
        listing = ", ".join(f"{k} {v}" for k, v in sorted(regions.items()))
        near = [k for k in regions if k.lstrip("0") == code.lstrip("0") and code.lstrip("0")]
        hint = f" Did you mean {near[0]} ({regions[near[0]]})?" if near else ""
        raise ConfigError(f"Unknown region {code!r}: region codes must match exactly.{hint} "
                          f"Valid fylker (2024 codes): {listing}")
    return code


def check_edition(year: int | str) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ConfigError(f"Edition year must be a number, got {year!r}. Valid: {valid_editions()}")
    if year not in valid_editions():
        raise ConfigError(
            f"Unknown edition year {year}. Valid editions: {', '.join(map(str, valid_editions()))} "
            "(add a block under `editions:` in config/project.yml for a new one)"
        )
    return year


def used_by_notebook(spec: dict) -> set[str]:
    """The notebooks that read a dataset (catalogue `used_by` entries are `notebook#label`)."""
    return {u.split("#")[0] for u in spec.get("used_by", [])}


def make_settings(
    edition: int | None = None,
    region: str | None = None,
    comparison_regions: list[str] | tuple[str, ...] | None = None,
    root: Path | None = None,
    raw_dir: Path | None = None,
    processed_dir: Path | None = None,
    build_dir: Path | None = None,
) -> Settings:
    proj = load_project()
    d = proj["defaults"]
    edition = check_edition(edition if edition is not None else d["edition"])
    region = check_region(region if region is not None else d["region"])
    if comparison_regions is not None:
        comps = comparison_regions
    elif region == plan_region():  # the plan region's comparison, as published
        comps = d["comparison_regions"]
    else:  # another fylke: its neighbours and Norway
        comps = [*(proj.get("neighbours") or {}).get(region, []), "0"] or d["comparison_regions"]
    comps = tuple("0" if str(c) in {"0", "00"} else check_region(c) for c in comps)
    root = Path(root or project_root()).resolve()
    cid = f"{edition}-{region}"
    return Settings(
        edition=edition,
        region=region,
        comparison_regions=comps,
        root=root,
        raw_dir=Path(raw_dir or root / "data" / "raw").resolve(),
        processed_dir=Path(processed_dir or root / "data" / "processed" / cid).resolve(),
        build_dir=Path(build_dir or root / "build" / cid).resolve(),
        edition_params=dict(proj["editions"][edition]),
        book_dir=(root / "_book" / cid).resolve(),
    )


def settings_from_parameters(params: dict[str, Any]) -> Settings:
    """Rebuild Settings inside a notebook from its papermill parameters."""
    return make_settings(
        edition=params["edition"],
        region=params["region"],
        comparison_regions=params["comparison_regions"],
        root=Path(params["root"]),
        raw_dir=Path(params["raw_dir"]),
        processed_dir=Path(params["processed_dir"]),
        build_dir=Path(params["build_dir"]),
    )
