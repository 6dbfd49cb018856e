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
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=None)
def load_project(root: Path | None = None) -> dict:
    return _load_yaml((root or project_root()) / "config" / "project.yml")


@lru_cache(maxsize=None)
def load_catalogue(root: Path | None = None) -> dict[str, dict]:
    cat = _load_yaml((root or project_root()) / "config" / "datasets.yml")
    for name, spec in cat.items():
        spec.setdefault("name", name)
    return cat


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

    @property
    def region_name(self) -> str:
        return load_project()["regions"][self.region]

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
    regions = valid_regions()
    code = str(code).strip()
    if code.isdigit() and len(code) == 1:
        code = code.zfill(2)
    if code not in regions:
        listing = ", ".join(f"{k} {v}" for k, v in sorted(regions.items()))
        raise ConfigError(f"Unknown region {code!r}. Valid fylker (2024 codes): {listing}")
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
    comps = comparison_regions if comparison_regions is not None else d["comparison_regions"]
    comps = tuple("0" if str(c) in {"0", "00"} else check_region(c) for c in comps)
    root = Path(root or project_root()).resolve()
    return Settings(
        edition=edition,
        region=region,
        comparison_regions=comps,
        root=root,
        raw_dir=Path(raw_dir or root / "data" / "raw").resolve(),
        processed_dir=Path(processed_dir or root / "data" / "processed").resolve(),
        build_dir=Path(build_dir or root / "build").resolve(),
        edition_params=dict(proj["editions"][edition]),
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
