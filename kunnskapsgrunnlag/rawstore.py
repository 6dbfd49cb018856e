"""Former name of `kunnskapsgrunnlag.store` (the raw store and its manifest), kept so that callers
(`from kunnskapsgrunnlag import rawstore`: runner, pipeline, cli, notebooks) keep working."""

from __future__ import annotations

from .store import (  # noqa: F401 - re-exported
    ASIDE_DIRS,
    BACKUP,
    MANIFEST,
    ManifestError,
    MissingData,
    RawDataError,
    RawStore,
    StoreError,
    aside_files,
    check_current,
    current_entry,
    file_state,
    load,
    load_geo,
    manifest_recovery_hint,
    mirror_root,
    now_iso,
    read_manifest,
    rebuild_manifest,
    record_missing,
    reject,
    restore_hint,
    sha256_file,
    store,
    store_error,
    store_frame,
    use_vintage,
    verified_path,
    verify_all,
    verify_files,
    write_manifest,
)
