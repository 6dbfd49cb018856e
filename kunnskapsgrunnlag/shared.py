"""Work shared by every configuration of an edition, computed once and cached by input sha256.

Only work that does not depend on the region belongs here. Measured on the offline build, the
one piece worth sharing is the boundary dataset: reading the kommune GeoJSON and repairing its
polygons takes 1–2 s, in five notebooks of every configuration, while each tidy table loads in
a few hundredths of a second (so those are read directly; a cache would cost as much as it saves).

The cache lives in `data/processed/<edition>/` (stamped as the tool's, removed by `clean`), one
GeoParquet file per input: its name carries the sha256 of the raw file and of the code that
prepares it (this module's and rawstore's loader, and the geopandas/shapely/pyarrow versions),
so a new vintage, a changed loader or a library upgrade never reads a stale entry. The file is
written atomically (concurrent configurations may race to write the same entry; they write the
same bytes). A cached result is exactly the computed one (GeoParquet keeps the WKB geometry,
column types, CRS and index); tests/test_atlas.py checks that a fylke built alone without the
cache and inside the atlas with it gives identical variables, figure data and PDF text.
`KG_NO_SHARED_CACHE=1` turns the cache off.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import uuid
from pathlib import Path

from . import store  # the raw store itself (rawstore.py only re-exports it)

CACHE_VERSION = "1"


def cache_dir(settings) -> Path:
    """`data/processed/<edition>/` beside the configurations' own `data/processed/<edition>-<region>/`."""
    from . import outputs

    base = Path(settings.processed_dir).parent
    d = base / str(settings.edition)
    if base == Path(settings.root) / "data" / "processed":
        outputs.ensure_owned_subdir(d, kind="shared", edition=settings.edition)
    else:
        d.mkdir(parents=True, exist_ok=True)
    return d


def _code_key() -> str:
    import geopandas
    import pyarrow
    import shapely

    h = hashlib.sha256(CACHE_VERSION.encode())
    h.update(inspect.getsource(store.load_geo).encode())
    h.update(inspect.getsource(load_geo).encode())
    h.update(f"{geopandas.__version__}/{shapely.__version__}/{pyarrow.__version__}".encode())
    return h.hexdigest()


def load_geo(settings, dataset: str):
    """`store.load_geo(raw_dir, dataset)`, from the edition's cache when the same input was
    prepared before (MissingData and tampered files raise exactly as without the cache)."""
    import geopandas as gpd

    if os.environ.get("KG_NO_SHARED_CACHE", "") not in ("", "0"):
        return store.load_geo(settings.raw_dir, dataset)
    _, entry = store.verified_path(settings.raw_dir, dataset)  # sha256 checked here, every time
    key = hashlib.sha256(f"{entry['sha256']}/{_code_key()}".encode()).hexdigest()[:24]
    path = cache_dir(settings) / f"{dataset}-{key}.parquet"
    if path.is_file():
        try:
            return gpd.read_parquet(path)
        except Exception:  # noqa: BLE001 - a damaged cache entry is recomputed (and replaced) below
            pass
    gdf = store.load_geo(settings.raw_dir, dataset)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        gdf.to_parquet(tmp)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only or full disk: the result is still right, just not cached
    return gdf
