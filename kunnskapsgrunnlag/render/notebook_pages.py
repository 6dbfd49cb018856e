"""The notebook pages behind «Vis notatboken»: executed notebooks as accessible offline HTML
(nbconvert, templates/notebook), each embedded cell linking back to its figure or table.
Written for both renderers (after a Quarto render by kunnskapsgrunnlag.render.notebook_pages).

A stage of the pandoc + Typst fallback renderer (kunnskapsgrunnlag.render.fallback).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .common import TEMPLATES, _joined, cell_options

_NOTEBOOK_TEMPLATE = "notebook"  # templates/notebook/: nbconvert template (extends "lab")


def _notebook_alt(cell: dict, n: int) -> str:
    """Alt text of a code cell's image: its `fig-alt`, else its `fig-cap`, else a plain note."""
    try:
        opts = cell_options(_joined(cell.get("source", "")))
    except yaml.YAMLError:
        opts = {}
    alt = str(opts.get("fig-alt") or opts.get("fig-cap") or "").strip()
    return alt or f"Figur fra kodecelle {n} i notatboken (uten egen beskrivelse)"


def _cell_label(cell: dict) -> str | None:
    try:
        label = cell_options(_joined(cell.get("source", ""))).get("label")
    except yaml.YAMLError:
        return None
    return str(label) if label else None


def _scope_table_headers(html: str) -> str:
    """Tie table header cells to their data: scope="col" in <thead>, scope="row" in <tbody>."""

    def scoped(scope: str) -> Any:
        return lambda m: re.sub(r"<th(?![^>]*\bscope=)(?=[\s>])", f'<th scope="{scope}"', m.group(0))

    html = re.sub(r"<th\b[^>]*>\s*</th>", "<td></td>", html)  # an empty corner cell is no header
    html = re.sub(r"<thead\b.*?</thead>", scoped("col"), html, flags=re.S)
    return re.sub(r"<tbody\b.*?</tbody>", scoped("row"), html, flags=re.S)


def convert_notebooks(
    notebooks: list[Path],
    out_dir: Path,
    titles: dict[Path, str] | None = None,
    lang: str = "nb",
    book_title: str | None = None,
    backlinks: dict[tuple[str, str], str] | None = None,
) -> list[Path]:
    """Executed notebooks as accessible, offline HTML pages (nbconvert, templates/notebook).

    Each page: `lang`, a title naming the notebook and the chapter that embeds it (`titles`),
    the cell's own `fig-alt` as alt text, no prompts, AA-contrast highlighting, no CDN scripts,
    table header cells tied to their data, and under every embedded cell a link back to the
    figure or table in the report (`backlinks`: (notebook stem, cell label) -> href from the
    notebook page). Pages whose notebook, title, links and template are unchanged are skipped
    (key in _build/notebooks.json).
    """
    import hashlib

    from kunnskapsgrunnlag.atomic import read_json, write_json, write_text

    titles = titles or {}
    stamp_file = out_dir / "_build" / "notebooks.json"
    stamps = read_json(stamp_file, {}) or {}
    tpl = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((TEMPLATES / _NOTEBOOK_TEMPLATE).iterdir())))
    done = []
    exporter = None
    for nb in sorted(set(notebooks)):
        target = out_dir / "notebooks" / f"{nb.stem}.html"
        chapter = titles.get(nb, "")
        heading = f"Notatbok {nb.stem}" + (f" – {chapter}" if chapter else "")
        title = heading + (f" – {book_title}" if book_title else "")
        back = sorted((lab, href) for (stem, lab), href in (backlinks or {}).items() if stem == nb.stem)
        key = hashlib.sha256(f"{tpl.hexdigest()}|{nb.stat().st_mtime_ns}|{title}|{lang}|{back}|v2".encode()).hexdigest()
        if target.exists() and stamps.get(nb.stem) == key:
            done.append(target)
            continue
        if exporter is None:
            import nbformat
            from nbconvert import HTMLExporter

            exporter = HTMLExporter(
                template_name=_NOTEBOOK_TEMPLATE,
                extra_template_basedirs=[str(TEMPLATES)],
                exclude_input_prompt=True,
                exclude_output_prompt=True,
            )
            if re.fullmatch(r"[a-z]{2}", lang):
                exporter.language_code = lang
        node = nbformat.read(str(nb), as_version=4)
        node.metadata["title"] = title
        node.metadata["kg_heading"] = heading
        back_of = dict(back)
        for n, cell in enumerate(node.cells, 1):
            if cell.get("cell_type") == "code" and any(
                "image/png" in o.get("data", {}) for o in cell.get("outputs", [])
            ):
                cell.metadata["kg_alt"] = _notebook_alt(cell, n)
            label = _cell_label(cell) if cell.get("cell_type") == "code" else None
            if label in back_of:
                cell.metadata["kg_backlink"] = back_of[label]
                cell.metadata["kg_backlink_text"] = (
                    "Tilbake til tabellen i rapporten"
                    if label.startswith("tbl-")
                    else "Tilbake til figuren i rapporten"
                )
        body, _ = exporter.from_notebook_node(node)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, _scope_table_headers(body))
        target.chmod(0o644)
        stamps[nb.stem] = key
        done.append(target)
    write_json(stamp_file, stamps)
    return done
