"""Sentences of the report built from computed numbers (Norwegian bokmål, our own words).

Two rules hold for every builder here:

* **Latest available year, stated.** A dataset that lacks the edition's reference year but has an
  earlier one is used at the latest year present (`latest_year`), and the sentence says so
  («per 1. januar 2026, siste tilgjengelige år», `as_of`). Missing is reserved for no usable data.
* **No «(data mangler)» inside a sentence.** When a sentence's numbers are missing, the builder
  returns one plain sentence saying what is missing (`missing_sentence`) instead.

Numbers arrive as floats and are formatted here (`fmt`), never typed by hand.
"""

from __future__ import annotations

from typing import Iterable

from . import fmt

LATEST = "siste tilgjengelige år"
LATEST_ROUND = "siste tilgjengelige runde"


# --- years --------------------------------------------------------------------------------------
def latest_year(available: Iterable, wanted: int) -> int | None:
    """`wanted` if the data have it, else the latest year before it, else None (no usable year).
    A later year than `wanted` is never used: an old edition must not change when data grow."""
    years = sorted({int(y) for y in available if y is not None and str(y).strip().lstrip("-").isdigit()})
    usable = [y for y in years if y <= int(wanted)]
    return usable[-1] if usable else None


def is_fallback(year: int | None, wanted: int) -> bool:
    return year is not None and int(year) != int(wanted)


def year_label(year: int, wanted: int) -> str:
    """«2026» or «2026 (siste tilgjengelige år)»: for captions and short labels."""
    return f"{year}" + (f" ({LATEST})" if is_fallback(year, wanted) else "")


def as_of(year: int, wanted: int, prefix: str = "per 1. januar") -> str:
    """«per 1. januar 2026» or «per 1. januar 2026, siste tilgjengelige år» (inside a sentence: the
    caller adds the comma after a fallback clause with `as_of_clause`)."""
    return f"{prefix} {year}" + (f", {LATEST}" if is_fallback(year, wanted) else "")


def as_of_clause(year: int, wanted: int, prefix: str = "per 1. januar") -> str:
    """`as_of` for the start of a sentence, with the trailing comma a fallback clause needs:
    «Per 1. januar 2026, siste tilgjengelige år, …» / «Per 1. januar 2025 …»."""
    s = as_of(year, wanted, prefix)
    s = s[:1].upper() + s[1:]
    return s + ("," if is_fallback(year, wanted) else "")


def round_label(round_: int, wanted: int) -> str:
    """«2026-runden» or «2024-runden, siste tilgjengelige runde» (the edition's projection round is
    `wanted`; an earlier round is used only when the wanted one is missing)."""
    return f"{round_}-runden" + (f", {LATEST_ROUND}" if is_fallback(round_, wanted) else "")


def round_clause(round_: int | None, wanted: int | None) -> str:
    """«» or « (SSBs framskriving fra 2024, siste tilgjengelige runde)»: for a caption whose
    projection round is earlier than the edition's."""
    if round_ is None or wanted is None or not is_fallback(round_, wanted):
        return ""
    return f" (SSBs framskriving fra {round_}, {LATEST_ROUND})"


def round_note(round_: int | None, wanted: int | None) -> str:
    """«» or «. Tallene bygger på SSBs framskriving fra 2024, siste tilgjengelige runde»: appended to a
    caption's last sentence (the caption adds the final full stop)."""
    if round_ is None or wanted is None or not is_fallback(round_, wanted):
        return ""
    return f". Tallene bygger på SSBs framskriving fra {round_}, {LATEST_ROUND}"


def _main_alternative(round_: int | None, wanted: int | None, own: str = "SSBs hovedalternativ") -> str:
    """«SSBs hovedalternativ» or «hovedalternativet i SSBs framskriving fra 2024, siste tilgjengelige runde,»."""
    if round_ is None or wanted is None or not is_fallback(round_, wanted):
        return own
    return f"hovedalternativet i SSBs framskriving fra {round_}, {LATEST_ROUND},"


def once(sentences: list[str]) -> list[str]:
    """The sentences of one passage with every repeat of an earlier one left empty, so that a
    missing-data sentence built by two variables is said once."""
    seen: set[str] = set()
    out = []
    for s in sentences:
        out.append("" if s and s in seen else s)
        seen.add(s)
    return out


def missing_sentence(what: str, where: str = "") -> str:
    """One plain sentence: «Tall for aldersbæreevnen i Telemark mangler i denne utgaven.»"""
    w = f" {where}" if where else ""
    return f"Tall for {what}{w} mangler i denne utgaven; vedlegget om datakilder viser hvordan de hentes."


def neet_older(region_name: str, share: float | None) -> str:
    """The 30–61 share of the NEET table: «Blant dem var andelen i Buskerud 18,1 prosent; …», else one
    plain sentence saying it is missing."""
    if share is None:
        return missing_sentence("andelen 30–61 år utenfor arbeid, utdanning og opplæring", f"i {region_name}")
    return (
        f"Blant dem var andelen i {region_name} {fmt.num(share, 1)} prosent; i den alderen er få under "
        "utdanning, så tallet viser i hovedsak hvor mange som står utenfor arbeidslivet."
    )


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# --- chapter 2: population and aldersbæreevne ---------------------------------------------------
def population_total(region_name: str, persons: float | None, year: int | None, wanted: int) -> str:
    """«Ved inngangen til 2026 hadde Buskerud 277 000 innbyggere.»"""
    if persons is None or year is None:
        return missing_sentence("folketallet", f"i {region_name}")
    if is_fallback(year, wanted):
        return f"{as_of_clause(year, wanted)} hadde {region_name} {fmt.num(persons)} innbyggere."
    return f"Ved inngangen til {year} hadde {region_name} {fmt.num(persons)} innbyggere."


def population_kommuner_growth(
    n_kommuner: int | None, n_growth: int | None, first: int, last: int | None, wanted: int
) -> str:
    """«Av de 20 kommunene hadde 12 flere innbyggere i 2026 enn i 2020.»"""
    if n_kommuner is None or n_growth is None or last is None:
        return missing_sentence("folketallet per kommune")
    when = f"{last} ({LATEST})" if is_fallback(last, wanted) else f"{last}"
    return f"Av de {n_kommuner} kommunene hadde {n_growth} flere innbyggere i {when} enn i {first}."


def ab_level(region_name: str, value: float | None, norway: float | None, year: int | None, wanted: int) -> str:
    """«Med 3,6 i 2025 ligger Buskerud under landsgjennomsnittet på 3,9.»"""
    if value is None or norway is None or year is None:
        return missing_sentence("aldersbæreevnen", f"i {region_name}")
    when = f"{year} ({LATEST})" if is_fallback(year, wanted) else f"{year}"
    return (
        f"Med {fmt.num(value, 1)} i {when} ligger {region_name} {fmt.compare(value, norway, 1)} "
        f"landsgjennomsnittet på {fmt.num(norway, 1)}."
    )


def ab_level_conclusion(value: float | None, norway: float | None, year: int | None, wanted: int) -> str:
    """«Aldersbæreevnen i fylket ligger under landsnivået: 3,6 mot 3,9 i 2025.»"""
    if value is None or norway is None or year is None:
        return missing_sentence("aldersbæreevnen i fylket")
    when = f"{year} ({LATEST})" if is_fallback(year, wanted) else f"{year}"
    return (
        f"Aldersbæreevnen i fylket ligger {fmt.compare(value, norway, 1)} landsnivået: "
        f"{fmt.num(value, 1)} mot {fmt.num(norway, 1)} i {when}."
    )


def ab_comparison(
    region_name: str,
    value: float | None,
    norway: float | None,
    year: int | None,
    wanted: int,
    best: list[str],
    best_value: float | None,
    worst: list[str],
    worst_value: float | None,
) -> str:
    """The level of the region against Norway, then the highest and lowest fylke of the figure."""
    if value is None or norway is None or year is None:
        return missing_sentence("aldersbæreevnen", f"i {region_name}")
    start = (
        as_of_clause(year, wanted, "ved inngangen til") if is_fallback(year, wanted) else f"Ved inngangen til {year}"
    )
    head = (
        f"{start}"
        f" var det om lag {fmt.num(value, 1)} personer i yrkesaktiv alder per eldre innbygger i {region_name}, "
        f"mot {fmt.num(norway, 1)} for hele landet."
    )
    if not best or not worst or best_value is None or worst_value is None or best == worst:
        return head
    return (
        head + f" Blant fylkene i figuren har {fmt.join_nb(best)} den høyeste verdien, {fmt.num(best_value, 1)}, "
        f"og {fmt.join_nb(worst)} den laveste, {fmt.num(worst_value, 1)}."
    )


def _direction(start: float, end: float) -> str:
    return fmt.compare(end, start, 1, ("falle", "stige", "holde seg"))


def ab_norway_outlook(
    today: float | None,
    mid: float | None,
    mid_year: int,
    end: float | None,
    end_year: int,
    round_: int,
    wanted_round: int | None = None,
) -> str:
    """«Etter SSBs hovedalternativ (2024-runden) ventes landstallet å falle til 3,2 i 2037 og 2,6 i 2050.»
    The verb follows the numbers (falle / stige / holde seg)."""
    if mid is None and end is None:
        return missing_sentence("SSBs framskrivinger etter alder", "for hele landet")
    points = [(v, y) for v, y in ((mid, mid_year), (end, end_year)) if v is not None]
    ref = today if today is not None else points[0][0]
    last = points[-1][0]
    verb = _direction(ref, last)
    nums = " og ".join(f"{fmt.num(v, 1)} i {y}" for v, y in points)
    rnd = round_label(round_, wanted_round if wanted_round is not None else round_)
    if verb == "holde seg":
        return f"Etter SSBs hovedalternativ ({rnd}) ventes landstallet å holde seg på om lag samme nivå: {nums}."
    return f"Etter SSBs hovedalternativ ({rnd}) ventes landstallet å {verb} til {nums}."


def projection_region(
    region_name: str,
    region_pct: float | None,
    norway_pct: float | None,
    start: int,
    end: int,
    wanted_round: int | None = None,
) -> str:
    """«Etter hovedalternativet ventes folketallet i Buskerud å endre seg med +5,1 prosent fra 2024 til 2050, …»
    `start` is the round used; an earlier round than `wanted_round` (the edition's) is named as the latest
    available one."""
    if region_pct is None or norway_pct is None:
        return missing_sentence("den framskrevne befolkningsutviklingen", f"i {region_name}")
    who = _main_alternative(start, wanted_round, "hovedalternativet")
    return (
        f"Etter {who} ventes folketallet i {region_name} å endre seg med {fmt.signed(region_pct, 1)} "
        f"prosent fra {start} til {end}, en utvikling "
        f"{fmt.compare(region_pct, norway_pct, 1, ('svakere enn', 'sterkere enn', 'på nivå med'))} "
        "landet som helhet "
        f"({fmt.signed(norway_pct, 1)} prosent)."
    )


def projection_kommuner(
    region_name: str,
    n: int | None,
    n_up: int | None,
    n_down: int | None,
    start: int,
    end: int,
    hi_name: str | None = None,
    hi_pct: float | None = None,
    lo_name: str | None = None,
    lo_pct: float | None = None,
    wanted_round: int | None = None,
) -> str:
    """How many kommuner grow and shrink from `start` (the round used) to `end`, and the extremes; an
    earlier round than `wanted_round` (the edition's) is named as the latest available one."""
    if n is None or n_up is None or n_down is None:
        return missing_sentence("framskrivingene per kommune", f"i {region_name}")
    who = _main_alternative(start, wanted_round)
    s = (
        f"Etter {who} ventes {n_up} av de {n} kommunene i {region_name} å ha flere innbyggere i {end} "
        f"enn i {start}, og {n_down} færre."
    )
    if hi_name and lo_name and hi_pct is not None and lo_pct is not None:
        s += (
            f" Sterkest relativ vekst ventes i {hi_name} ({fmt.signed(hi_pct, 1)} prosent), svakest utvikling i "
            f"{lo_name} ({fmt.signed(lo_pct, 1)} prosent)."
        )
    return s


def projections_shown(have: list[str], lacking: list[str], population_missing: bool) -> str:
    """Which regions of Figure 1 have projected curves (names already resolved)."""
    if population_missing:
        return missing_sentence("aldersbæreevnen")
    if not have:
        return (
            "Datagrunnlaget har ingen framskrivinger etter alder for regionene i figuren, så figuren viser bare "
            "registrerte verdier."
        )
    if lacking:
        return (
            f"Framskrevne kurver vises for {fmt.join_nb(have)}. For {fmt.join_nb(lacking)} finnes ikke SSBs "
            "framskrivinger etter alder i datagrunnlaget denne utgaven bygger på, og der vises bare registrerte "
            "verdier."
        )
    return f"Framskrevne kurver vises for alle regionene i figuren ({fmt.join_nb(have)})."


# --- 3.1 Læringsløp ------------------------------------------------------------------------------
def completion(
    cohort: int,
    wanted: int,
    old_names: list[str],
    values: list[float],
    norway: float,
    trend_from: int,
    trend_to: int,
    best: int,
    worst: int,
) -> str:
    """Completion of the cohort in the region's pre-2020 fylker against Norway, then the trend."""
    mean = sum(values) / len(values)
    which = f"{cohort}-kullet" + (f" ({LATEST.replace('år', 'kull')})" if is_fallback(cohort, wanted) else "")
    return (
        f"Av {which} i {fmt.join_nb(old_names)} (fylkesinndelingen før 2020) hadde "
        f"{fmt.join_nb([fmt.num(x, 1) for x in values])} prosent fullført innen fem eller seks år, "
        f"{fmt.compare(mean, norway, 1)} landsgjennomsnittet på {fmt.num(norway, 1)} prosent. "
        f"Blant kullene {trend_from}–{trend_to} var andelen høyest for {best}-kullet og lavest for {worst}-kullet."
    )


def completion_missing(cohort: int) -> str:
    return missing_sentence(f"gjennomføringen i {cohort}-kullet")


def ab_norway_mid(today: float | None, mid: float | None, mid_year: int) -> str:
    """«For landet som helhet ventes forholdet mellom yrkesaktive og eldre å falle til 3,2 i 2037 etter SSBs
    hovedalternativ.» (the verb follows the numbers)"""
    if mid is None:
        return missing_sentence("SSBs framskrivinger etter alder", "for hele landet")
    verb = _direction(today, mid) if today is not None else "bli"
    if verb == "holde seg":
        return (
            f"For landet som helhet ventes forholdet mellom yrkesaktive og eldre å holde seg på om lag "
            f"{fmt.num(mid, 1)} i {mid_year} etter SSBs hovedalternativ."
        )
    return (
        f"For landet som helhet ventes forholdet mellom yrkesaktive og eldre å {verb} til {fmt.num(mid, 1)} "
        f"i {mid_year} etter SSBs hovedalternativ."
    )


# --- 3.2 Livsmestring ----------------------------------------------------------------------------
def neet_share(region_name: str, value: float | None, year: int | None, wanted: int) -> str:
    """«I 2024 var 10,6 prosent av de unge i alderen 15–29 år i Buskerud verken i arbeid, utdanning eller
    opplæring (NEET).»"""
    if value is None or year is None:
        return missing_sentence("unge utenfor arbeid, utdanning og opplæring", f"i {region_name}")
    return (
        f"I {year_label(year, wanted)} var {fmt.num(value, 1)} prosent av de unge i alderen 15–29 år i "
        f"{region_name} verken i arbeid, utdanning eller opplæring (NEET)."
    )


# --- figures whose data are entirely missing --------------------------------------------------
def figure_absent(what: str, note: str | None) -> str:
    """The sentence the report shows instead of a figure whose data are entirely missing (the figure
    itself is left out, see `appendix.figure_meta`): «Ingen figur viser sysselsatte etter næring i
    Buskerud i denne utgaven. Tallene var ikke tilgjengelige … (SSB, tabell 07984).» `note` is the
    reader's sentence the notebook recorded for the missing dataset."""
    note = (note or "Tallene var ikke tilgjengelige da denne utgaven ble laget.").strip()
    if not note.endswith("."):
        note += "."
    return f"Ingen figur viser {what} i denne utgaven. {note} Vedlegget om datakilder beskriver kilden."


def missing_note_of(missing: list[dict], dataset: str) -> str | None:
    """The reader's sentence recorded for a missing dataset (`Context.missing`), or None."""
    return next((m.get("note") for m in missing if m.get("dataset") == dataset), None)


# --- 3.10 kulturminneplan --------------------------------------------------------------------
def culture_plan_difference(differ: list[str]) -> str:
    """Whether this edition's sources name the same kommuner without a plan as the published report."""
    return (
        "Denne utgavens kilder gir de samme kommunene uten plan."
        if not differ
        else f"Kildene i denne utgaven avviker for {fmt.join_nb(sorted(differ))}."
    )


def culture_plan_findings(
    n_kommuner: int,
    n_adopted: int,
    n_in_progress: int,
    without: list[str],
    unknown: list[str],
    published_without: list[str],
) -> str:
    """The paragraph on the kommuner's kulturminneplan status, compared with the published report."""
    differ = sorted(set(published_without) ^ set(without))
    return (
        f"Av fylkets {n_kommuner} kommuner har {n_adopted} vedtatt kulturminneplan, mens "
        f"{n_in_progress} har en plan under arbeid. "
        + (f"{fmt.join_nb(without)} står uten plan. " if without else "Ingen kommune står helt uten plan. ")
        + (
            f"For {fmt.join_nb(unknown)} har det ikke vært mulig å fastslå status ut fra de tilgjengelige kildene. "
            if unknown
            else ""
        )
        + f"Til sammenlikning oppga den publiserte rapporten at {fmt.join_nb(sorted(published_without))} manglet "
        "vedtatt plan (Riksantikvaren, 2025). " + culture_plan_difference(differ)
    )


# --- 3.1 levekårsindeksen --------------------------------------------------------------------
def levekaar_control(region_name: str, utd_year: int, how: str | None, dist: dict, has_education: bool) -> str:
    """How the low-education indicator was checked against the published column (SSB 09429), or why
    it could not be. `dist`: reference ("vektet"/"uvektet") -> {"n", "max_abs", ...}; `how`: the
    reference chosen."""
    if dist:
        other = "uvektet" if how == "vektet" else "vektet"
        return (
            f"Som uavhengig kontroll er indikatoren for lav utdanning beregnet på nytt fra SSBs tabell 09429 "
            f"({utd_year}) for alle kommuner: andelen 16 år og over med grunnskole som høyeste utdanning, delt på "
            + (
                "landsandelen, der kommunene er vektet med befolkningen 16 år og over (SSB 07459)"
                if how == "vektet"
                else "gjennomsnittet av kommunenes andeler"
            )
            + f". Det er den av de prøvde referansene som kommer nærmest den publiserte kolonnen: største avvik er "
            f"{fmt.num(dist[how]['max_abs'], 2)} for de {dist[how]['n']} kommunene"
            + (
                f", mot {fmt.num(dist[other]['max_abs'], 2)} med "
                f"{'gjennomsnittet av kommunenes andeler' if other == 'uvektet' else 'landsandelen'}"
                if other in dist
                else ""
            )
            + ". Resten av avviket kan skyldes at rapporten har brukt en annen årgang eller en annen avgrensning "
            "av utdanningsnivået."
        )
    if has_education:
        return (
            f"Levekårsindeksen kan ikke beregnes for {region_name} i denne utgaven fordi lavinntekt (SSB 12944) og "
            f"innvandrere (SSB 09817) ikke finnes i datagrunnlaget. Tabellen viser derfor bare "
            f"utdanningsindikatoren fra SSBs tabell 09429 ({utd_year}), relativt til landsandelen."
        )
    return (
        f"Levekårsindikatorene for kommunene i {region_name} var ikke tilgjengelige da denne utgaven ble laget; "
        "se vedlegget om datakilder."
    )


def levekaar_method(basis: str) -> str:
    """What the table's numbers are: transcribed with reconstructed weights, or computed from SSB."""
    if basis == "publisert":
        return (
            "SSBs kommunetall for vedvarende lavinntekt og innvandrere finnes ikke i datagrunnlaget for denne "
            "utgaven, så indikatorverdiene og rangen i tabellen er transkribert fra den publiserte rapporten. Det "
            "som er rekonstruert, er vektene: de er tilpasset de samme publiserte verdiene med minste kvadraters "
            "metode og gjenfinner alle publiserte indeksverdier innenfor 0,01. Det viser bare at vektene passer "
            "til tabellen de er hentet fra, og er ingen selvstendig kontroll av tallene."
        )
    if basis == "ssb":
        return (
            "Alle tre indikatorene er beregnet fra SSBs kommunetabeller (12944, 09429 og 09817) for alle landets "
            "kommuner."
        )
    return ""


def levekaar_extremes(
    region_name: str,
    basis: str,
    highest: list[str],
    high: float | None,
    lowest: list[str],
    low: float | None,
    n_over: int | None,
    n: int | None,
) -> str:
    """The kommuner with the highest and lowest index (or education indicator), and how many are over 1,0."""
    if high is None or low is None or basis not in ("publisert", "ssb", "utdanning"):
        return f"Levekårsindikatorene for kommunene i {region_name} var ikke tilgjengelige da denne utgaven ble laget."
    if basis in ("publisert", "ssb"):
        return (
            f"Indeksen er høyest, altså levekårene svakest etter dette målet, i {fmt.join_nb(highest)} "
            f"({fmt.num(high, 2)}) og lavest i {fmt.join_nb(lowest)} ({fmt.num(low, 2)}). "
            f"{n_over} av de {n} kommunene ligger over 1,0."
        )
    return (
        f"Andelen med lav utdanning, relativt til landet, er høyest i {fmt.join_nb(highest)} "
        f"({fmt.num(high, 2)}) og lavest i {fmt.join_nb(lowest)} ({fmt.num(low, 2)}); "
        f"{n_over} av de {n} kommunene ligger over landsandelen."
    )


# --- 3.9 innenlandsk flytting ------------------------------------------------------------------
def migration_findings(
    region_name: str,
    region_net: float | None,
    kommuner: list[tuple[str, float]] | None,
    top_fylker: list[str] | None,
    bottom_fylker: list[str] | None,
) -> str:
    """The paragraph on domestic net migration. `kommuner`: (name, net) for the region's kommuner;
    `top_fylker`/`bottom_fylker`: the fylker that gained / lost most (None when the table is missing)."""
    parts = []
    if kommuner:
        ranked = sorted(kommuner, key=lambda kv: kv[1], reverse=True)
        n_plus = sum(1 for _, v in kommuner if v > 0)
        n_minus = sum(1 for _, v in kommuner if v < 0)
        top, top_v = max(kommuner, key=lambda kv: kv[1])  # the first of equals, in the data's order
        last, last_v = min(kommuner, key=lambda kv: kv[1])
        second = ranked[1][0] if len(ranked) > 1 else top
        whole = (
            f"{region_name} som helhet hadde en innenlandsk nettoinnflytting på {fmt.num(region_net)} personer. "
            if region_net is not None
            else ""
        )
        parts.append(
            f"{whole}I {n_plus} av {len(kommuner)} kommuner var det flere innflyttere enn utflyttere fra "
            f"resten av landet. Størst netto tilflytting hadde {top} ({fmt.num(top_v)}), fulgt av {second}, "
            f"mens {last} hadde det største netto tapet ({fmt.signed(last_v, 0)}); i alt {n_minus} kommuner "
            "hadde netto utflytting."
        )
    if top_fylker is not None and bottom_fylker is not None:
        parts.append(
            f"Blant fylkene vant {fmt.join_nb(top_fylker)} flest innbyggere fra resten av landet, mens "
            f"{fmt.join_nb(bottom_fylker)} hadde størst netto utflytting."
            + (
                f" {region_name} hadde en innenlandsk netto på {fmt.signed(region_net, 0)} personer."
                if not kommuner and region_net is not None
                else ""
            )
        )
    return " ".join(parts)


def migration_table_text(region_name: str, has_kommuner: bool, has_fylker: bool) -> str:
    """The sentence before the migration tables, saying which of them have numbers."""
    if has_kommuner:
        return "Tabellene nedenfor viser den innenlandske nettoinnflyttingen etter kommune og etter fylke."
    if has_fylker:
        return (
            f"Tabellen nedenfor viser den innenlandske nettoinnflyttingen etter fylke; kommunetallene for "
            f"{region_name} mangler i denne utgaven (se vedlegget Datakilder)."
        )
    return "Tallene for innenlandsk nettoinnflytting mangler i denne utgaven (se vedlegget Datakilder)."
