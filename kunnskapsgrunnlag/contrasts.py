"""Kommuner where two figures of the report tell opposite stories, found in the data, never typed.

Example (Buskerud, 2026 edition): Ål has the strongest population growth 2020–2026 of the
kommuner and the largest net domestic out-migration in 2024. A reader who sees both figures
deserves a sentence that says so, and says why both can be true.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import fmt

ORDINAL = {1: "", 2: "nest ", 3: "tredje "}


@dataclass(frozen=True)
class Contrast:
    kommune: str
    growth_pct: float  # population change over the period, per cent
    growth_rank: int  # 1 = strongest growth (or, for kind "decline", strongest decline)
    net: int  # net domestic migration in the migration year (persons)
    net_rank: int  # 1 = largest net out-migration (or, for kind "decline", largest in-migration)
    kind: str  # "growth": growth but out-migration; "decline": decline but in-migration


def growth_vs_migration(change: pd.DataFrame, migration: pd.DataFrame, *, top: int = 3) -> list[Contrast]:
    """Kommuner among the `top` strongest growers that are also among the `top` largest net domestic
    out-migration (and the mirror case: among the `top` strongest declines and the `top` largest
    net in-migration).

    `change`: columns region_code, region_name, endring_pst (population change, per cent).
    `migration`: columns region_code, netto_innenlands (persons). Kommuner are matched on code."""
    d = (
        change[["region_code", "region_name", "endring_pst"]]
        .merge(migration[["region_code", "netto_innenlands"]], on="region_code", how="inner")
        .dropna()
    )
    if d.empty:
        return []
    d = d.assign(
        g_up=d["endring_pst"].rank(ascending=False, method="min").astype(int),
        g_down=d["endring_pst"].rank(ascending=True, method="min").astype(int),
        m_out=d["netto_innenlands"].rank(ascending=True, method="min").astype(int),
        m_in=d["netto_innenlands"].rank(ascending=False, method="min").astype(int),
    )
    out = []
    for r in d.itertuples():
        if r.endring_pst > 0 and r.netto_innenlands < 0 and r.g_up <= top and r.m_out <= top:
            out.append(
                Contrast(
                    r.region_name, float(r.endring_pst), int(r.g_up), int(r.netto_innenlands), int(r.m_out), "growth"
                )
            )
        elif r.endring_pst < 0 and r.netto_innenlands > 0 and r.g_down <= top and r.m_in <= top:
            out.append(
                Contrast(
                    r.region_name, float(r.endring_pst), int(r.g_down), int(r.netto_innenlands), int(r.m_in), "decline"
                )
            )
    return sorted(out, key=lambda c: (c.growth_rank + c.net_rank, c.kommune))


def sentence(c: Contrast, *, region_name: str, first: int, last: int, year: int) -> str:
    """One sentence for the reader about a contrast, with the numbers formatted as in the report."""
    g = f"{fmt.signed(c.growth_pct, 1)} prosent"
    n = f"{fmt.signed(c.net, 0)} personer"
    if c.kind == "growth":
        return (
            f"{c.kommune} hadde den {ORDINAL.get(c.growth_rank, f'{c.growth_rank}. ')}sterkeste befolkningsveksten "
            f"av kommunene i {region_name} fra {first} til {last} ({g}), men samtidig den "
            f"{ORDINAL.get(c.net_rank, f'{c.net_rank}. ')}største innenlandske nettoutflyttingen i {year} ({n}). "
            "Begge deler kan stemme: folketallet vokser også med innvandring fra utlandet og fødselsoverskudd, "
            f"og flyttetallet gjelder bare {year}."
        )
    return (
        f"{c.kommune} hadde den {ORDINAL.get(c.growth_rank, f'{c.growth_rank}. ')}sterkeste befolkningsnedgangen "
        f"av kommunene i {region_name} fra {first} til {last} ({g}), men samtidig den "
        f"{ORDINAL.get(c.net_rank, f'{c.net_rank}. ')}største innenlandske nettoinnflyttingen i {year} ({n}). "
        "Begge deler kan stemme: folketallet påvirkes også av utvandring og fødselsunderskudd, "
        f"og flyttetallet gjelder bare {year}."
    )


def text(
    change: pd.DataFrame | None,
    migration: pd.DataFrame | None,
    *,
    region_name: str,
    first: int,
    last: int,
    year: int,
    top: int = 3,
) -> str:
    """All contrast sentences for the configuration, or «» when there is none or a figure is missing."""
    if change is None or migration is None:
        return ""
    return " ".join(
        sentence(c, region_name=region_name, first=first, last=last, year=year)
        for c in growth_vs_migration(change, migration, top=top)
    )
