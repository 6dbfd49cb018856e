"""Sentence builders (kunnskapsgrunnlag.text): latest available year stated, missing as one plain sentence."""

from kunnskapsgrunnlag import text
from kunnskapsgrunnlag.notebook import MISSING_TEXT


def test_latest_year_never_later_than_wanted():
    assert text.latest_year([2020, 2024, 2026], 2027) == 2026
    assert text.latest_year([2020, 2024, 2026], 2025) == 2024
    assert text.latest_year([2020, 2026], 2026) == 2026
    assert text.latest_year([2028], 2027) is None
    assert text.latest_year([], 2027) is None
    assert text.latest_year(["2024", None], 2025) == 2024


def test_fallback_year_is_stated():
    assert text.as_of(2026, 2027) == "per 1. januar 2026, siste tilgjengelige år"
    assert text.as_of(2026, 2026) == "per 1. januar 2026"
    assert text.year_label(2024, 2026) == "2024 (siste tilgjengelige år)"
    assert text.year_label(2026, 2026) == "2026"
    s = text.population_total("Buskerud", 277123, 2026, 2027)
    assert s.startswith("Per 1. januar 2026, siste tilgjengelige år, hadde Buskerud 277")
    assert text.population_total("Buskerud", 277123, 2026, 2026).startswith("Ved inngangen til 2026 hadde Buskerud")


def test_ab_sentences_follow_the_numbers():
    s = text.ab_level("Buskerud", 3.62, 3.93, 2025, 2025)
    assert s == "Med 3,6 i 2025 ligger Buskerud under landsgjennomsnittet på 3,9."
    assert "over" in text.ab_level("Akershus", 4.31, 3.93, 2025, 2025)
    assert "2026 (siste tilgjengelige år)" in text.ab_level("Buskerud", 3.5, 3.8, 2026, 2027)
    up = text.ab_norway_outlook(3.0, 3.2, 2037, 3.4, 2050, 2026)
    down = text.ab_norway_outlook(3.9, 3.2, 2037, 2.6, 2050, 2024)
    assert "å stige til 3,2 i 2037 og 3,4 i 2050" in up and "2026-runden" in up
    assert "å falle til 3,2 i 2037 og 2,6 i 2050" in down
    assert "falle" in text.ab_norway_mid(3.9, 3.2, 2037) and "stige" in text.ab_norway_mid(3.0, 3.2, 2037)


def test_missing_is_one_plain_sentence():
    outs = [
        text.population_total("Telemark", None, None, 2027),
        text.ab_level("Telemark", None, 3.9, 2026, 2027),
        text.ab_comparison("Telemark", None, None, None, 2027, [], None, [], None),
        text.ab_norway_outlook(None, None, 2037, None, 2050, 2026),
        text.projection_region("Telemark", None, 1.0, 2026, 2050),
        text.projection_kommuner("Telemark", None, None, None, 2026, 2050),
        text.population_kommuner_growth(None, None, 2020, None, 2027),
        text.completion_missing(2019),
    ]
    for s in outs:
        assert MISSING_TEXT not in s and "data mangler" not in s
        assert s.endswith(".") and s.count(". ") == 0 and "mangler" in s, s


def test_comparison_names_highest_and_lowest():
    s = text.ab_comparison("Buskerud", 3.62, 3.93, 2025, 2025, ["Akershus"], 4.31, ["Innlandet"], 2.96)
    assert "Akershus den høyeste verdien, 4,3" in s and "Innlandet den laveste, 3,0." in s  # one decimal (issue 17)
    assert text.projection_region("Buskerud", 5.06, 7.2, 2024, 2050).endswith("(+7,2 prosent).")


def test_neet_sentence():
    s = text.neet_share("Buskerud", 10.64, 2024, 2025)
    assert s == (
        "I 2024 (siste tilgjengelige år) var 10,6 prosent av de unge i alderen 15–29 år i Buskerud verken "
        "i arbeid, utdanning eller opplæring (NEET)."
    )
    assert MISSING_TEXT not in text.neet_share("Telemark", None, None, 2025)


def test_figure_absent_is_one_plain_statement():
    note = "Tallene var ikke tilgjengelige da denne utgaven ble laget (SSB, tabell 07984)."
    s = text.figure_absent("sysselsatte etter næring i Telemark", note)
    assert s.startswith("Ingen figur viser sysselsatte etter næring i Telemark i denne utgaven. Tallene var")
    assert "(SSB, tabell 07984). Vedlegget om datakilder" in s
    assert "Data mangler" not in s and "figuren" not in s
    assert text.figure_absent("x", None).count(".") == 3
    missing = [{"dataset": "a", "note": "A."}, {"dataset": "b", "note": "B."}]
    assert text.missing_note_of(missing, "b") == "B." and text.missing_note_of(missing, "c") is None


def test_culture_plan_findings_follow_the_counts():
    s = text.culture_plan_findings(18, 12, 3, ["Flå"], [], ["Sigdal", "Flå"])
    assert s.startswith("Av fylkets 18 kommuner har 12 vedtatt kulturminneplan, mens 3 har en plan under arbeid. ")
    assert "Flå står uten plan." in s and "fastslå" not in s
    assert s.endswith("Kildene i denne utgaven avviker for Sigdal.")
    s = text.culture_plan_findings(5, 5, 0, [], ["Hol"], [])
    assert "Ingen kommune står helt uten plan." in s and "For Hol har det ikke" in s
    assert text.culture_plan_difference([]) == "Denne utgavens kilder gir de samme kommunene uten plan."


def test_levekaar_sentences_follow_the_basis_and_the_numbers():
    dist = {"vektet": {"n": 18, "max_abs": 0.031, "rmse": 0.01}, "uvektet": {"n": 18, "max_abs": 0.12, "rmse": 0.05}}
    s = text.levekaar_control("Buskerud", 2024, "vektet", dist, True)
    assert "(2024) for alle kommuner" in s
    assert "største avvik er 0,03 for de 18 kommunene, mot 0,12 med gjennomsnittet av kommunenes andeler." in s
    assert "bare utdanningsindikatoren" in text.levekaar_control("Telemark", 2024, "vektet", {}, True)
    missing = text.levekaar_control("Telemark", 2024, None, {}, False)
    assert missing.startswith("Levekårsindikatorene for kommunene i Telemark var ikke tilgjengelige")
    assert "transkribert" in text.levekaar_method("publisert") and text.levekaar_method("mangler") == ""
    assert "passer til tabellen de er hentet fra" in text.levekaar_method("publisert")
    s = text.levekaar_extremes("Buskerud", "publisert", ["Drammen", "Flå"], 1.38, ["Hole"], 0.7, 6, 18)
    assert s == (
        "Indeksen er høyest, altså levekårene svakest etter dette målet, i Drammen og Flå (1,38) og lavest i "
        "Hole (0,70). 6 av de 18 kommunene ligger over 1,0."
    )
    assert "over landsandelen" in text.levekaar_extremes("X", "utdanning", ["A"], 1.2, ["B"], 0.8, 1, 2)


def test_migration_sentences():
    nets = [("Drammen", 245), ("Lier", 120), ("Ål", -310), ("Hol", -12)]
    s = text.migration_findings("Buskerud", 43, nets, ["Akershus", "Østfold"], ["Finnmark", "Nordland"])
    assert s.startswith("Buskerud som helhet hadde en innenlandsk nettoinnflytting på 43 personer. I 2 av 4 kommuner")
    assert "Størst netto tilflytting hadde Drammen (245), fulgt av Lier, mens Ål hadde det største netto tapet" in s
    assert "i alt 2 kommuner hadde netto utflytting." in s
    assert s.endswith(
        "Blant fylkene vant Akershus og Østfold flest innbyggere fra resten av landet, mens Finnmark og "
        "Nordland hadde størst netto utflytting."
    )
    only_fylker = text.migration_findings("Telemark", -50, None, ["A"], ["B"])
    assert "Telemark hadde en innenlandsk netto på" in only_fylker and "kommuner" not in only_fylker
    assert text.migration_findings("X", None, None, None, None) == ""
    assert "etter kommune og etter fylke" in text.migration_table_text("X", True, True)
    assert "kommunetallene for X mangler" in text.migration_table_text("X", False, True)


def test_neet_older_share_is_a_whole_sentence_or_one_plain_missing_sentence():
    assert text.neet_older("Buskerud", 18.14).startswith("Blant dem var andelen i Buskerud 18,1 prosent;")
    missing = text.neet_older("Buskerud", None)
    assert MISSING_TEXT not in missing and "mangler i denne utgaven" in missing and missing.count(".") == 1


def test_an_earlier_projection_round_is_stated():
    assert text.round_label(2026, 2026) == "2026-runden"
    assert text.round_label(2024, 2026) == "2024-runden, siste tilgjengelige runde"
    assert text.round_clause(2026, 2026) == ""
    assert text.round_clause(2024, 2026) == " (SSBs framskriving fra 2024, siste tilgjengelige runde)"
    assert text.round_note(2026, 2026) == ""
    assert text.round_note(2024, 2026) == ". Tallene bygger på SSBs framskriving fra 2024, siste tilgjengelige runde"
    same = text.projection_region("Buskerud", 5.1, 7.3, 2024, 2050)
    assert same == text.projection_region("Buskerud", 5.1, 7.3, 2024, 2050, 2024)  # the edition's own round
    assert "siste tilgjengelige runde" not in same
    older = text.projection_region("Buskerud", 5.1, 7.3, 2024, 2050, 2026)
    assert older.startswith("Etter hovedalternativet i SSBs framskriving fra 2024, siste tilgjengelige runde, ventes")
    assert "+5,1 prosent fra 2024 til 2050" in older and "svakere enn" in older
    k = text.projection_kommuner("Buskerud", 18, 12, 6, 2024, 2050, "Lier", 20.5, "Flå", -8.3, 2026)
    assert k.startswith("Etter hovedalternativet i SSBs framskriving fra 2024, siste tilgjengelige runde, ventes 12 av")
    assert "Lier (+20,5 prosent)" in k and "Flå (−8,3 prosent)" in k
    assert text.projection_kommuner("Buskerud", 18, 12, 6, 2024, 2050).startswith("Etter SSBs hovedalternativ ventes")
    out = text.ab_norway_outlook(3.9, 3.2, 2037, 2.6, 2050, 2024, 2026)
    assert "(2024-runden, siste tilgjengelige runde)" in out and "falle" in out
    assert "(2026-runden)" in text.ab_norway_outlook(3.9, 3.2, 2037, 2.6, 2050, 2026, 2026)


def test_a_repeated_sentence_is_said_once():
    miss = text.missing_sentence("aldersbæreevnen", "i Buskerud")
    assert text.once([miss, "Annet.", miss, "", ""]) == [miss, "Annet.", "", "", ""]
    assert text.once(["A.", "B."]) == ["A.", "B."]
