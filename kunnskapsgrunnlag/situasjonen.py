"""The numbers and sentences of chapter 2 (`notebooks/02_situasjonen.ipynb`), computed from tidy frames.

Each function takes the frames the notebook has loaded and computed (aldersbæreevne per region and
year, population, projections) and returns the chapter's report variables for one step, as
{key: formatted text}. A value None is missing: the notebook records it as «(data mangler)»
(`Context.set_all`). Nothing here reads files or the configuration, so each step is tested on
small frames (tests/test_situasjonen.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import calc, fmt, text

Variables = dict[str, str | None]
NATIONAL = "0"  # the region code of «Hele landet»
MAIN_ALTERNATIVE = "MMMM"  # SSB's main projection alternative


@dataclass(frozen=True)
class Places:
    """The regions of the configuration: `names` (code -> name of every fylke and of «Hele landet»),
    the configured `region` (its `region_name`) and the regions `shown` in the figures (the region
    first, then the comparison regions)."""

    names: dict[str, str]
    region: str
    region_name: str
    shown: list[str]

    def mid_sentence(self, codes) -> list[str]:
        """The regions' names as they stand inside a sentence («hele landet», «Buskerud»)."""
        return [self.names[c].lower() if c == NATIONAL else self.names[c] for c in codes]

    def join(self, codes) -> str:
        """«hele landet, Buskerud og Innlandet»."""
        return fmt.join_nb(self.mid_sentence(codes))


def with_projection(places: Places, projected: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The regions shown that have a projection by age in `projected`, and those that lack one."""
    have = [c for c in places.shown if c in set(projected["region_code"])]
    return have, [c for c in places.shown if c not in have]


def _compared(places: Places, today: pd.Series) -> pd.Series:
    """Today's aldersbæreevne of the regions shown other than the country (2 decimals, as compared)."""
    return today.reindex([c for c in places.shown if c != NATIONAL]).dropna().round(2)


def _projected_value(projected: pd.DataFrame, code: str, year: int) -> float | None:
    v = projected[(projected["region_code"] == code) & (projected["year"] == year)]["aldersbaereevne"]
    return float(v.iloc[0]) if len(v) else None


def _has_level(places: Places, today: pd.Series) -> bool:
    return places.region in today and NATIONAL in today


def ab_numbers(
    places: Places, today: pd.Series, projected: pd.DataFrame, *, year: int, wanted: int, projection_years: list[int]
) -> Variables:
    """`ab.*` numbers: the region's and every region's aldersbæreevne `today` (a Series by region
    code, 1 January `year`, the edition's year `wanted`), the best and weakest of the regions
    compared, and the projected values (`projected`: region_code, year, aldersbaereevne) in the
    middle and last projection years."""
    mid, end = min(projection_years), max(projection_years)
    out: Variables = {
        "ab.aar": str(year),
        "ab.aar_tekst": text.year_label(year, wanted),
        "ab.mellom_aar": str(mid),
        "ab.slutt_aar": str(end),
    }
    comp = _compared(places, today)
    best, worst = list(comp[comp == comp.max()].index), list(comp[comp == comp.min()].index)
    if _has_level(places, today):
        region, norway = today[places.region], today[NATIONAL]
        out |= {
            "ab.region": fmt.num(region, 1),
            "ab.region_2des": fmt.num(region, 2),
            "ab.region_vs_norge": fmt.compare(region, norway, 1),
            "ab.best_sammenlignet": places.join(best),
            "ab.best_sammenlignet_verdi": fmt.num(comp.max(), 1),
            "ab.svakest_sammenlignet": places.join(worst),
            "ab.svakest_sammenlignet_verdi": fmt.num(comp.min(), 1),
            "ab.sammenlignet": places.join([c for c in places.shown if c != NATIONAL]),
        }
    else:
        out |= dict.fromkeys(
            ["ab.region", "ab.region_2des", "ab.region_vs_norge", "ab.best_sammenlignet", "ab.best_sammenlignet_verdi"]
            + ["ab.svakest_sammenlignet", "ab.svakest_sammenlignet_verdi", "ab.sammenlignet"]
        )
    for code in places.names:
        key = fmt.slug(places.names[code])
        out[f"ab.{key}"] = fmt.num(today[code], 1) if code in today else None
        out[f"ab.{key}_2des"] = fmt.num(today[code], 2) if code in today else None
        for y, pos in [(mid, "mellom"), (end, "slutt")]:
            value = _projected_value(projected, code, y)
            out[f"ab.{key}_{y}"] = out[f"ab.{key}_{pos}"] = None if value is None else fmt.num(value, 1)
    out["ab.region_framskrevet"] = out[f"ab.{fmt.slug(places.region_name)}_slutt"]
    have, lacking = with_projection(places, projected)
    out["ab.framskrevet_for"] = places.join(have) if have else "ingen av regionene i figuren"
    out["ab.framskrevet_mangler"] = places.join(lacking) if lacking else "ingen"
    return out


def ab_sentences(
    places: Places,
    today: pd.Series,
    projected: pd.DataFrame,
    *,
    year: int,
    wanted: int,
    projection_years: list[int],
    projection_start: int,
    projection_round: int,
    population_missing: bool,
) -> Variables:
    """`ab.setning_*`: the sentences on the aldersbæreevne (`text`), from the same numbers as
    `ab_numbers`: the level against the country, the comparison with the other regions shown, the
    country's projected development (the round used, `projection_start`, against the edition's
    `projection_round`) and which regions have projections."""
    mid, end = min(projection_years), max(projection_years)
    have_level = _has_level(places, today)
    value = float(today[places.region]) if have_level else None
    norway = float(today[NATIONAL]) if have_level else None
    level_year = year if have_level else None
    comp = _compared(places, today)
    best = [places.names[c] for c in comp[comp == comp.max()].index]
    worst = [places.names[c] for c in comp[comp == comp.min()].index]
    norway_today = float(today[NATIONAL]) if NATIONAL in today else None
    norway_mid = _projected_value(projected, NATIONAL, mid)
    have, lacking = with_projection(places, projected)
    name = places.region_name
    return {
        "ab.setning_niva": text.ab_level(name, value, norway, level_year, wanted),
        "ab.setning_konklusjon": text.ab_level_conclusion(value, norway, level_year, wanted),
        "ab.setning_sammenligning": text.ab_comparison(
            name,
            value,
            norway,
            level_year,
            wanted,
            best,
            comp.max() if len(comp) else None,
            worst,
            comp.min() if len(comp) else None,
        ),
        "ab.setning_norge_framskrevet": text.ab_norway_outlook(
            norway_today,
            norway_mid,
            mid,
            _projected_value(projected, NATIONAL, end),
            end,
            projection_start,
            projection_round,
        ),
        "ab.setning_norge_mellom": text.ab_norway_mid(norway_today, norway_mid, mid),
        "ab.framskriving_tekst": text.projections_shown(
            places.mid_sentence(have), places.mid_sentence(lacking), population_missing
        ),
    }


def population_numbers(
    places: Places, population: pd.DataFrame | None, *, first: int, last: int, wanted: int
) -> Variables:
    """`befolkning.*`: the population 1 January `last` (the latest year the data have, not later
    than the edition's `wanted`) of the region and of Buskerud, and how many of the region's
    kommuner grew since `first`. `population` (SSB 07459, tidy) None: the numbers are missing and
    the sentences say so."""
    out: Variables = {
        "befolkning.aar": str(last),
        "befolkning.aar_tekst": text.year_label(last, wanted),
        "befolkning.fra_aar": str(first),
    }
    if population is None:
        return out | {
            "befolkning.region": None,
            "befolkning.buskerud": None,
            "befolkning.n_kommuner": None,
            "befolkning.kommuner_vekst": None,
            "befolkning.setning": text.population_total(places.region_name, None, None, wanted),
            "befolkning.setning_kommuner": text.population_kommuner_growth(None, None, first, None, wanted),
        }

    def total(code: str):
        return population[(population["region_code"] == code) & (population["year"] == last)]["persons"].sum()

    kommuner = calc.population_change(population[population["region_code"].str.startswith(places.region)], first, last)
    grew = int((kommuner["endring"] > 0).sum())
    return out | {
        "befolkning.region": fmt.num(total(places.region)),
        "befolkning.buskerud": fmt.num(total("33")),  # Buskerud, the plan's region (docs/variables.md)
        "befolkning.n_kommuner": str(len(kommuner)),
        "befolkning.kommuner_vekst": str(grew),
        "befolkning.setning": text.population_total(places.region_name, float(total(places.region)), last, wanted),
        "befolkning.setning_kommuner": text.population_kommuner_growth(len(kommuner), grew, first, last, wanted),
    }


_FYLKER_NUMBERS = [
    f"framskriving.{k}" for k in ("norge_pst", "n_fylker", "region_pst", "region_vs_norge", "rang", "region_16_pst")
]


def projection_fylker(
    places: Places, projection: pd.DataFrame | None, *, start: int, end: int, projection_round: int
) -> Variables:
    """`framskriving.*` of the fylker: the projected change `start`–`end` (SSB's main alternative,
    all ages and 16+) of the region and the country, the region's rank among the fylker, and the
    sentence on it. `projection`: the projection by fylke (region_code, alternative, age_group,
    year, persons) of the round `start`, None when missing."""
    out: Variables = {"framskriving.fra_aar": str(start), "framskriving.til_aar": str(end)}
    if projection is None:
        sentence = text.projection_region(places.region_name, None, None, start, end, projection_round)
        return out | dict.fromkeys(_FYLKER_NUMBERS) | {"framskriving.setning_region": sentence}
    main = projection[projection["alternative"] == MAIN_ALTERNATIVE]
    everyone = main[(main["age_group"] == "alle") & main["year"].isin([start, end])]
    wide = everyone.pivot_table(index="region_code", columns="year", values="persons")
    pct = (wide[end] / wide[start] - 1) * 100
    norway = (wide[end].sum() / wide[start].sum() - 1) * 100
    has_region = places.region in pct
    words = ("svakere enn", "sterkere enn", "på nivå med")
    adults = main[(main["age_group"] == "16+") & (main["region_code"] == places.region)].set_index("year")["persons"]
    region_pct = float(pct[places.region]) if has_region else None
    return out | {
        "framskriving.norge_pst": fmt.signed(norway, 1),
        "framskriving.n_fylker": str(len(pct)),
        "framskriving.region_pst": fmt.signed(pct[places.region], 1) if has_region else None,
        "framskriving.region_vs_norge": fmt.compare(pct[places.region], norway, 1, words) if has_region else None,
        "framskriving.rang": f"{int(calc.rank_desc(pct)[places.region])}." if has_region else None,
        "framskriving.region_16_pst": (
            fmt.signed((adults[end] / adults[start] - 1) * 100, 1) if {start, end} <= set(adults.index) else None
        ),
        "framskriving.setning_region": text.projection_region(
            places.region_name, region_pct, float(norway), start, end, projection_round
        ),
    }


_KOMMUNER_NUMBERS = [
    f"framskriving.{k}"
    for k in ("n_kommuner", "n_vekst", "n_nedgang", "hoyest_kommune", "hoyest_pst", "lavest_kommune", "lavest_pst")
]


def projection_kommuner(
    region_name: str, change: pd.DataFrame | None, *, start: int, end: int, projection_round: int
) -> Variables:
    """`framskriving.*` of the kommuner: how many are projected to grow and to decline `start`–`end`,
    the two extremes, and the sentence on them. `change`: one row per kommune (region_name, endring,
    endring_pst), None when the projection by kommune is missing or does not add up to the fylke."""
    if change is None:
        sentence = text.projection_kommuner(region_name, None, None, None, start, end)
        return dict.fromkeys(_KOMMUNER_NUMBERS) | {"framskriving.kommune_tekst": sentence}
    grow, decline = int((change["endring"] > 0).sum()), int((change["endring"] < 0).sum())
    high = change.loc[change["endring_pst"].idxmax()]
    low = change.loc[change["endring_pst"].idxmin()]
    return {
        "framskriving.n_kommuner": str(len(change)),
        "framskriving.n_vekst": str(grow),
        "framskriving.n_nedgang": str(decline),
        "framskriving.hoyest_kommune": high["region_name"],
        "framskriving.hoyest_pst": fmt.signed(high["endring_pst"], 1),
        "framskriving.lavest_kommune": low["region_name"],
        "framskriving.lavest_pst": fmt.signed(low["endring_pst"], 1),
        "framskriving.kommune_tekst": text.projection_kommuner(
            region_name,
            len(change),
            grow,
            decline,
            start,
            end,
            high["region_name"],
            float(high["endring_pst"]),
            low["region_name"],
            float(low["endring_pst"]),
            projection_round,
        ),
    }


# Chapter 2.2's sentences in reading order: a sentence on missing data that two of them would both
# say is said once (the first keeps it).
PASSAGE = [
    "ab.setning_niva",
    "ab.setning_norge_framskrevet",
    "befolkning.setning",
    "ab.setning_sammenligning",
    "ab.setning_norge_mellom",
    "ab.framskriving_tekst",
    "framskriving.setning_region",
    "framskriving.kommune_tekst",
    "befolkning.setning_kommuner",
]


def said_once(variables: dict[str, str], keys: list[str] = PASSAGE) -> dict[str, str]:
    """The passage's sentences (`keys`, in reading order) with a repeated one said once (`text.once`)."""
    return dict(zip(keys, text.once([variables[k] for k in keys]), strict=True))
