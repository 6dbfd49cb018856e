"""The status of each catalogued dataset in one configuration, from the manifest: the forord's
«Om denne utgaven», the cover's share of computed figures and the Datakilder appendix all count
on this one basis."""

from __future__ import annotations

from . import store
from .config import Settings, load_catalogue, used_by_edition


def data_status(settings: Settings) -> dict[str, list[str]]:
    """The catalogue's datasets by their status in this configuration, from the manifest:
    `beregnet` (fetched from the source or the mirror: raw data), `transkribert` (values printed in
    the 2026 report, provider `published`), `transkribert_annet` (transcribed from other public
    sources, provider `transcription`), `manuell` (a file drop) and `mangler` (missing, or outside
    the dataset's catalogue `coverage` for this configuration)."""
    manifest = store.read_manifest(settings.raw_dir)["datasets"]
    cat = load_catalogue(settings.root)
    out: dict[str, list[str]] = {
        k: [] for k in ("beregnet", "transkribert", "transkribert_annet", "manuell", "mangler")
    }
    for name, spec in cat.items():
        if not used_by_edition(spec, settings.edition_params):
            continue  # a projection round this edition does not use
        cur = manifest.get(name, {}).get("current", {})
        cov = spec.get("coverage") if isinstance(spec.get("coverage"), dict) else {}
        outside = (cov.get("regions") and settings.region not in [str(r) for r in cov["regions"]]) or (
            cov.get("editions") and settings.edition not in [int(e) for e in cov["editions"]]
        )
        if cur.get("status") != "ok" or outside:
            out["mangler"].append(name)
        elif spec["provider"] == "published":
            out["transkribert"].append(name)
        elif spec["provider"] == "transcription":
            out["transkribert_annet"].append(name)
        elif spec["provider"] == "manual":
            out["manuell"].append(name)
        else:
            out["beregnet"].append(name)
    return out
