"""What every notebook needs: settings from its parameters, data loading, variables, missing data."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from . import atomic, plots, rawstore
from .config import Settings, load_catalogue, settings_from_parameters
from .fetch import how_to_fetch

MISSING_TEXT = "(data mangler)"


class Context:
    """Created in the first cell of each notebook: `ctx = Context("03_02_livsmestring", params)`."""

    def __init__(self, name: str, params: dict[str, Any]):
        self.name = name
        self.settings: Settings = settings_from_parameters(params)
        self.ed = self.settings.edition_params
        self.variables: dict[str, Any] = {}
        self.missing: list[dict] = []
        self.used: list[str] = []
        plots.use_style()
        self.settings.processed_dir.mkdir(parents=True, exist_ok=True)

    # --- data -------------------------------------------------------------------------
    def load(self, dataset: str, **kw):
        self.used.append(dataset)
        return rawstore.load(self.settings.raw_dir, dataset, **kw)

    def load_geo(self, dataset: str):
        self.used.append(dataset)
        return rawstore.load_geo(self.settings.raw_dir, dataset)

    def try_load(self, dataset: str, **kw):
        """Load, or return None and note the dataset as missing (tampered files still raise)."""
        try:
            return self.load(dataset, **kw)
        except rawstore.MissingData as exc:
            spec = load_catalogue()[dataset]
            self.missing.append({
                "dataset": dataset,
                "reason": exc.entry.get("reason", "ikke hentet"),
                "how_to_fetch": exc.entry.get("how_to_fetch") or how_to_fetch(spec, self.settings),
            })
            print(f"DATA MANGLER: {dataset}: {exc.entry.get('reason', '')}")
            return None

    def missing_figure(self, dataset: str, title: str):
        m = next(m for m in self.missing if m["dataset"] == dataset)
        return plots.missing_figure(title, dataset, m["reason"], m["how_to_fetch"])

    def source(self, dataset: str, period: Any = None) -> str:
        spec = load_catalogue()[dataset]
        return f"Kilde: {spec['source_line']}" + (f" ({period})" if period is not None else "")

    # --- outputs ------------------------------------------------------------------------
    def set(self, key: str, value: Any) -> None:
        """Record a report variable (`{{< var key >}}`); values are formatted strings."""
        self.variables[key] = value if isinstance(value, (str, int)) else str(value)

    def set_missing(self, *keys: str) -> None:
        for k in keys:
            self.variables[k] = MISSING_TEXT

    def processed(self, filename: str) -> Path:
        return self.settings.processed_dir / filename

    def save(self) -> Path:
        """Write the variables (nested by the dots in their keys) and the notebook's record."""
        nested: dict[str, Any] = {}
        for key, value in sorted(self.variables.items()):
            node = nested
            *parents, leaf = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
        # Under the runner, outputs go to this run's folder (KG_RUN_DIR) and replace the previous
        # ones only when the whole notebook succeeds; run by hand, straight into the build folder.
        run_dir = os.environ.get("KG_RUN_DIR")
        out = (Path(run_dir) if run_dir else self.settings.build_dir / "variables") / f"{self.name}.yml"
        atomic.write_text(out, yaml.safe_dump(nested, allow_unicode=True, sort_keys=True))
        rec = (Path(run_dir) if run_dir else self.settings.build_dir / "records") / f"{self.name}.json"
        atomic.write_text(rec, json.dumps({"notebook": self.name, "used": sorted(set(self.used)),
                                           "missing": self.missing}, ensure_ascii=False, indent=2))
        return out
