"""`kunnskapsgrunnlag edition new YEAR`: the next edition's block in config/project.yml, validated,
with the queries it resolves to (as `fetch --dry-run` prints them). Registered by cli.py, which hands
down what the command shares with the other commands (its error guard, console and dry-run printer), so
that this module never imports cli.py back."""

from __future__ import annotations

from typing import Optional

import typer

_cli: dict = {}  # set by register(): guard, console, print_dry_run

edition_app = typer.Typer(help="Editions: `edition new YEAR` writes the next edition's block (config/project.yml).")


@edition_app.command("new")
def new(
    year: int = typer.Argument(..., help="The new edition's year, e.g. 2027."),
    region: Optional[str] = typer.Option(None, "--region", help="Fylke whose queries are printed (default region)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the block and its queries; write nothing."),
):
    """Write the edition block for YEAR from the newest earlier edition: every reference year moved by
    the gap, the newest projection round the catalogue has (2024 = SSB 14288, 2026 = SSB 14746), the
    vintages derived from the edition. Validates the block and prints the resolved queries."""
    _cli["guard"](lambda: _new(year, region, dry_run))


def _new(year: int, region: str | None, dry_run: bool) -> None:
    import yaml

    from . import editions
    from .config import ConfigError, load_catalogue, load_project, make_settings, project_root
    from .config_schema import PROJECT_SCHEMA, validate

    root = project_root()
    cat = load_catalogue()
    if dry_run:
        prev, block = editions.new_edition_block(year)
        current = (root / "config" / "project.yml").read_text(encoding="utf-8")
        text = editions.insert_edition(current, year, prev, block, cat)
        problems = validate(yaml.safe_load(text), PROJECT_SCHEMA)
        if problems:
            raise ConfigError("the new edition block does not validate: " + "; ".join(problems))
        settings = None
    else:
        prev, block, path = editions.write_new_edition(root, year)
        _cli["console"].print(f"Wrote edition {year} into {path} (from edition {prev}).")
        settings = make_settings(edition=year, region=region)
    table = editions.projection_table(block["projection_round"], cat)
    _cli["console"].print(
        f"Edition {year} (from {prev}): reference years moved by {year - prev}; projection round "
        f"{block['projection_round']} (SSB table {table}).",
        highlight=False,
    )
    for key, value in block.items():
        _cli["console"].print(f"  {key}: {value}", markup=False, highlight=False)
    if settings is None:  # dry run: resolve the queries with the block in memory
        from dataclasses import replace

        base = make_settings(region=region)
        settings = replace(base, edition=year, edition_params=dict(block))
    used = editions.datasets_for(settings)
    vint = {
        n: editions.resolve_vintage(cat[n].get("vintage"), settings.edition_params)
        for n in used
        if "{" in str(cat[n].get("vintage", ""))
    }
    if vint:
        _cli["console"].print("Vintages of the online routes for this edition:", highlight=False)
        for n, v in vint.items():
            _cli["console"].print(f"  {n}: {v}", markup=False, highlight=False)
    _cli["print_dry_run"](settings, None)
    _cli["console"].print(
        f"\nCheck: the reference years above are the ones the {year} report should use; online, run "
        f"`kunnskapsgrunnlag check-online --edition {year}` and fix what it marks invalid; then "
        f"`kunnskapsgrunnlag report --edition {year}`. A dataset that lacks a year is used at its latest "
        "available year, stated in the text.",
        highlight=False,
    )
    load_project.cache_clear()


def register(app: typer.Typer, *, guard, console, print_dry_run) -> None:
    _cli.update(guard=guard, console=console, print_dry_run=print_dry_run)
    app.add_typer(edition_app, name="edition")
