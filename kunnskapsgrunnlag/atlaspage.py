"""The atlas page `_book/<edition>/`: the fylker of an edition side by side.

One row per fylke with the report's key indicators and the national value of each, links to every
fylke's book, small-multiple maps of the fylker, the table as CSV, and a short PDF summary. Every
number comes from what the configurations' builds wrote (`build/<id>/_variables.yml` and
`build/<id>/figurdata/*.csv`); nothing is typed, and a value a build marks as missing is shown as
missing. The national population and its change are the sums over the 15 fylker (which partition
the country), so they are shown only when all 15 are built. Offline: no script, font or style is
fetched; the map is a PNG beside the page. Rendered into a fresh folder, then swapped in.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import fmt, outputs, rawstore
from .config import make_settings, valid_regions
from .outputs import read_variables, variables_path

MISSING = "(data mangler)"
MISSING_READER = "data mangler"
TITLE = "Kunnskapsgrunnlag for alle fylker"
MAP_FILE = "fylkeskart.png"
CSV_FILE = "fylkestabell.csv"
PDF_FILE = "fylkesoversikt.pdf"
MAP_SIZE, MAP_DPI = (10.0, 4.4), 150  # inches, dots per inch


@dataclass
class Cell:
    text: str  # as the book prints it ("3,6", "+5,1"), or MISSING_READER
    value: float | None = None  # parsed, for the CSV and the maps
    note: str = ""


@dataclass
class Row:
    code: str
    name: str
    config_id: str
    built: bool
    state: str = ""
    book: str | None = None  # href relative to the atlas page
    pdf: str | None = None
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Indicator:
    key: str
    label: str
    short: str  # the map panel's title
    decimals: int
    higher: str  # what a high value means, for the map legend


def parse_number(text: str | None) -> float | None:
    """'272 981' -> 272981.0, '+5,1' -> 5.1, '−1,2' -> -1.2; MISSING or empty -> None."""
    if text is None:
        return None
    t = str(text).strip()
    if not t or t == MISSING or "mangler" in t:
        return None
    t = t.replace("\u2212", "-").replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        return float(t)
    except ValueError:
        return None


def _cell(text: str | None, note: str = "") -> Cell:
    value = parse_number(text)
    return Cell(text if text is not None and value is not None else MISSING_READER, value, note)


def _read_figurdata(path: Path):
    import pandas as pd

    return pd.read_csv(path, comment="#", dtype={"kommunenummer": str, "region_code": str})


def indicators(v: dict[str, str]) -> list[Indicator]:
    """The indicators and their labels, with the reference years of the edition's variables."""
    fra, til = v.get("befendring.fra_aar", ""), v.get("befendring.til_aar", "")
    return [
        Indicator("folketall", f"Folketall 1. januar {v.get('befolkning.aar', '')}", "Folketall", 0, ""),
        Indicator(
            "endring",
            f"Endring i folketallet {fra}–{til} (prosent)",
            f"Endring i folketallet {fra}–{til}, prosent",
            1,
            "høy verdi: sterk vekst",
        ),
        Indicator(
            "ab",
            f"Aldersbæreevne {v.get('ab.aar', '')} (personer 16–66 år per person 67+)",
            f"Aldersbæreevne {v.get('ab.aar', '')}",
            1,
            "høy verdi: mange i yrkesaktiv alder per eldre",
        ),
        Indicator(
            "ab_fram",
            f"Aldersbæreevne {v.get('ab.slutt_aar', '')}, framskrevet (SSBs hovedalternativ)",
            f"Aldersbæreevne {v.get('ab.slutt_aar', '')}, framskrevet",
            1,
            "",
        ),
        Indicator(
            "neet",
            f"Unge 15–29 år utenfor arbeid, utdanning og opplæring (NEET) {v.get('neet.aar', '')}, prosent",
            f"NEET 15–29 år {v.get('neet.aar', '')}, prosent",
            1,
            "høy verdi: mange unge utenfor",
        ),
        Indicator(
            "fullfort",
            f"Fullført videregående innen fem/seks år, {v.get('gjennomforing.kull', '')}-kullet, prosent",
            f"Fullført videregående, {v.get('gjennomforing.kull', '')}-kullet, prosent",
            1,
            "høy verdi: mange fullfører",
        ),
        Indicator("levekaar", "Levekår: kommuner over landsnivået (landet = 1)", "", 0, ""),
    ]


MAP_INDICATORS = ("endring", "ab", "neet", "fullfort")


def collect(root: Path, edition: int, stale_notebooks: Callable) -> tuple[list[Row], dict[str, Cell], list[Indicator]]:
    """Rows (one per fylke), the national values and the indicators, from the builds of `edition`
    (`stale_notebooks`: the runner's, handed down so the page does not depend on the runner)."""
    rows: list[Row] = []
    variables: dict[str, dict[str, str]] = {}
    pops: dict[str, tuple[float, float]] = {}
    for code, name in sorted(valid_regions(root).items()):
        s = make_settings(edition=edition, region=code, root=root)
        last, stale = stale_notebooks(s)
        built = bool(last.get("ok")) and variables_path(s).exists()
        state = (
            "Ikke bygget"
            if not last
            else "Siste bygg feilet eller ble avbrutt"
            if not last.get("ok")
            else f"Ikke bygget ({variables_path(s).name} mangler)"
            if not built
            else ""
        )
        row = Row(code, name, s.config_id, built=built, state=state)
        if built and stale:
            row.state = f"Bygget før siste endring av kode eller data ({len(stale)} notatbøker er utdatert)"
        book = Path(root) / "_book" / s.config_id
        info = outputs.stamp_info(book) if book.is_dir() else {}
        if info.get("kind") == "book" and (book / "index.html").exists():
            row.book = f"../{s.config_id}/index.html"
            row.pdf = f"../{s.config_id}/{info['pdf']}" if info.get("pdf") else None
        if row.built:
            v = read_variables(variables_path(s))
            variables[code] = v
            n_over, n_k = v.get("levekaar.n_over_snitt"), v.get("levekaar.n_kommuner")
            basis = {"publisert": "levekårsindeks", "utdanning": "lav utdanning"}.get(v.get("levekaar.basis", ""), "")
            lk = _cell(n_over, note=basis)
            if lk.value is not None and parse_number(n_k) is not None:
                lk.text = f"{n_over} av {n_k}"
            row.cells = {
                "folketall": _cell(v.get("befolkning.region")),
                "endring": _cell(v.get("befendring.region_pst")),
                "ab": _cell(v.get("ab.region")),
                "ab_fram": _cell(v.get("ab.region_framskrevet")),
                "neet": _cell(v.get("neet.region")),
                "fullfort": _cell(v.get("gjennomforing.region"), note=_old_fylker(v, name)),
                "levekaar": lk,
            }
            fig = s.build_dir / "figurdata" / "fig-befolkningsendring.csv"
            a, b = f"folkemengde_{v.get('befendring.fra_aar')}", f"folkemengde_{v.get('befendring.til_aar')}"
            if fig.exists():
                df = _read_figurdata(fig)
                if a in df and b in df:
                    pops[code] = (float(df[a].sum()), float(df[b].sum()))
        rows.append(row)
    first = next(iter(variables.values()), {})
    inds = indicators(first)
    national = _national(variables, pops, len(rows))
    return rows, national, inds


def _old_fylker(v: dict[str, str], name: str) -> str:
    old = v.get("gjennomforing.gamle_fylker", "")
    return f"fylkesinndelingen før 2020: {old}" if old and old != name else ""


def _common(variables: dict[str, dict[str, str]], key: str) -> str | None:
    """The value every built configuration gives for a national variable (None if they disagree)."""
    vals = {v.get(key) for v in variables.values() if v.get(key) is not None}
    return vals.pop() if len(vals) == 1 else None


def _national(variables: dict, pops: dict[str, tuple[float, float]], n_fylker: int) -> dict[str, Cell]:
    nat = {
        "ab": _cell(_common(variables, "ab.norge")),
        "ab_fram": _cell(_common(variables, "ab.norge_slutt")),
        "neet": _cell(_common(variables, "neet.norge")),
        "fullfort": _cell(_common(variables, "gjennomforing.norge")),
        "levekaar": Cell("–", None, "indeksen er relativ til landet"),
        "folketall": Cell(MISSING_READER),
        "endring": Cell(MISSING_READER),
    }
    if len(pops) == n_fylker and n_fylker:  # the fylker partition the country: their sum is the national total
        first, last = sum(p[0] for p in pops.values()), sum(p[1] for p in pops.values())
        nat["folketall"] = Cell(fmt.num(last), last, f"summen av de {n_fylker} fylkene")
        change = (last - first) / first * 100
        nat["endring"] = Cell(fmt.signed(change, 1), round(change, 1), f"summen av de {n_fylker} fylkene")
    return nat


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------
def table_csv(rows: list[Row], national: dict[str, Cell], inds: list[Indicator], edition: int) -> str:
    buf = io.StringIO()
    buf.write(
        f"# {TITLE}, utgave {edition}: nøkkeltall per fylke og for landet\n"
        "# Kilde: SSB (tabell 07459, 14288, 13563), Udir; beregnet av kunnskapsgrunnlag fra hver "
        "konfigurasjons bygg\n# Tom celle: data mangler eller fylket er ikke bygget\n"
    )
    w = csv.writer(buf, lineterminator="\n")

    def val(c: Cell | None, ind: Indicator):
        if c is None or c.value is None:
            return ""
        return int(round(c.value)) if ind.decimals == 0 else round(c.value, ind.decimals)

    w.writerow(["fylkesnummer", "fylke", "bygget"] + [i.label for i in inds])
    for r in rows:
        w.writerow([r.code, r.name, "ja" if r.built else "nei"] + [val(r.cells.get(i.key), i) for i in inds])
    w.writerow(["0", "Hele landet", ""] + [val(national[i.key], i) for i in inds])
    return buf.getvalue()


def _ranked(rows: list[Row], key: str) -> list[tuple[str, float]]:
    vals = [
        (r.name, r.cells[key].value) for r in rows if r.built and r.cells.get(key) and r.cells[key].value is not None
    ]
    return sorted(vals, key=lambda x: x[1], reverse=True)  # type: ignore[arg-type, return-value]


def map_alt(rows: list[Row], inds: list[Indicator]) -> str:
    """The maps' alt text: what each panel shows, with its highest and lowest fylke (computed)."""
    by_key = {i.key: i for i in inds}
    parts = []
    for key in MAP_INDICATORS:
        ranked = _ranked(rows, key)
        ind = by_key[key]
        if ranked:
            hi, lo = ranked[0], ranked[-1]
            parts.append(
                f"{ind.short}: høyest i {hi[0]} ({fmt.num(hi[1], ind.decimals)}), lavest i {lo[0]} "
                f"({fmt.num(lo[1], ind.decimals)}), {len(ranked)} fylker med tall"
            )
        else:
            parts.append(f"{ind.short}: {MISSING_READER}")
    return (
        f"{len(MAP_INDICATORS)} kart over Norges fylker, ett per nøkkeltall, mørkere farge betyr høyere verdi. "
        + ". ".join(parts)
        + ". Tallene står i tabellen."
    )


def draw_maps(raw_dir: Path, rows: list[Row], inds: list[Indicator], path: Path) -> str | None:
    """Small multiples: one map of the fylker per indicator in MAP_INDICATORS. Returns None when
    the boundaries are missing (the page says so), else the path written."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    try:
        gdf = rawstore.load_geo(raw_dir, "kommuner_2024")
    except rawstore.MissingData:
        return None
    gdf = gdf.assign(fylke=gdf["kommunenummer"].astype(str).str[:2]).dissolve(by="fylke", as_index=False)
    gdf = gdf.to_crs("EPSG:25833")
    gdf["geometry"] = gdf.geometry.simplify(2000)
    by_key = {i.key: i for i in inds}
    fig = Figure(figsize=MAP_SIZE, dpi=MAP_DPI)
    axes = fig.subplots(1, len(MAP_INDICATORS))
    for ax, key in zip(axes, MAP_INDICATORS, strict=True):
        vals = {r.code: r.cells[key].value for r in rows if r.built and r.cells.get(key)}
        g = gdf.assign(v=gdf["fylke"].map(vals).astype(float))
        have, lack = g[g["v"].notna()], g[g["v"].isna()]
        if not lack.empty:
            lack.plot(ax=ax, color="#e6e6e6", edgecolor="#7a7a7a", linewidth=0.3, hatch="///")
        if not have.empty:
            have.plot(
                ax=ax,
                column="v",
                cmap="viridis_r",
                edgecolor="white",
                linewidth=0.3,
                legend=True,
                legend_kwds={
                    "orientation": "horizontal",
                    "shrink": 0.85,
                    "pad": 0.02,
                    "format": matplotlib.ticker.FuncFormatter(lambda x, _p, d=by_key[key].decimals: fmt.num(x, d)),
                },
            )
        ax.set_title("\n".join(_wrap(by_key[key].short, 24)), fontsize=9)
        ax.set_axis_off()
        if not lack.empty:
            ax.legend(
                handles=[Patch(facecolor="#e6e6e6", edgecolor="#7a7a7a", hatch="///", label=MISSING_READER)],
                loc="lower right",
                fontsize=7,
                frameon=False,
            )
    fig.text(
        0.01,
        0.01,
        "Kartgrunnlag: © Kartverket, CC BY 4.0. Tall: SSB og Udir, beregnet av kunnskapsgrunnlag.",
        fontsize=7,
        color="#444444",
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    # the exact size (no tight bbox): the page gives the image's width and height
    fig.savefig(path, format="png", bbox_inches=None, metadata={"Software": None})
    return str(path)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [text]


HTML = """<!DOCTYPE html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} – utgave {{ edition }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 0; line-height: 1.45; }
header, main, footer { max-width: 78rem; margin: 0 auto; padding: 0 1rem; }
header { border-bottom: 3px solid #00587c; padding-bottom: .5rem; }
a { color: #00587c; }
a:focus, a:hover { outline: 3px solid #00587c; outline-offset: 2px; }
.tablewrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
caption { text-align: left; font-weight: 600; padding: .4rem 0; }
th, td { border-bottom: 1px solid #bbb; padding: .35rem .5rem; vertical-align: top; }
thead th { background: #eef4f7; text-align: left; }
tbody th { text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.land th, tr.land td { border-top: 2px solid #1a1a1a; font-weight: 600; }
.missing { color: #595959; font-style: italic; }
.note { display: block; font-size: .8rem; color: #4d4d4d; white-space: normal; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; }
figcaption, .small { font-size: .9rem; color: #333; }
</style>
</head>
<body>
<header>
<p class="small"><a href="../index.html">Alle bygde bøker</a></p>
<h1>{{ title }}</h1>
<p>Utgave {{ edition }}. {{ n_built }} av {{ rows|length }} fylker er bygget. Tallene er hentet fra hvert fylkes egen bok
og står ved siden av tallet for hele landet.</p>
</header>
<main>
<h2>Nøkkeltall per fylke</h2>
<div class="tablewrap">
<table>
<caption>Nøkkeltall per fylke, utgave {{ edition }}, med tallet for hele landet nederst</caption>
<thead><tr><th scope="col">Fylke</th>{% for i in inds %}<th scope="col">{{ i.label }}</th>{% endfor %}<th scope="col">Bok</th></tr></thead>
<tbody>
{% for r in rows %}<tr>
<th scope="row">{{ r.name }}{% if r.built and r.state %}<span class="note">{{ r.state }}</span>{% endif %}</th>
{% if r.built %}{% for i in inds %}{% set c = r.cells[i.key] %}<td class="num{% if c.value is none %} missing{% endif %}">{{ c.text }}{% if c.note %}<span class="note">{{ c.note }}</span>{% endif %}</td>{% endfor %}
{% else %}<td colspan="{{ inds|length }}" class="missing">{{ r.state }}</td>
{% endif %}<td>{% if r.book %}<a href="{{ r.book }}">Boka for {{ r.name }}</a>{% if r.pdf %} · <a href="{{ r.pdf }}">PDF for {{ r.name }}</a>{% endif %}{% else %}<span class="missing">ingen bok</span>{% endif %}</td>
</tr>
{% endfor %}<tr class="land"><th scope="row">Hele landet</th>{% for i in inds %}{% set c = national[i.key] %}<td class="num{% if c.value is none %} missing{% endif %}">{{ c.text }}{% if c.note %}<span class="note">{{ c.note }}</span>{% endif %}</td>{% endfor %}<td></td></tr>
</tbody>
</table>
</div>
<p class="small"><a href="{{ csv }}" download>Last ned tabellen (CSV)</a> · <a href="{{ pdf }}">Oversikten som PDF</a></p>
<h2>Fylkene på kart</h2>
{% if map %}<figure>
<img src="{{ map }}" alt="{{ map_alt }}" width="{{ map_px[0] }}" height="{{ map_px[1] }}">
<figcaption>Fire nøkkeltall per fylke. Skravert: data mangler. Kartgrunnlag: © Kartverket, CC BY 4.0.</figcaption>
</figure>
{% else %}<p class="missing">Kartet mangler: kommunegrensene (datasettet kommuner_2024) finnes ikke i denne kjøringen.</p>
{% endif %}
<h2>Om tallene</h2>
<p>Hvert tall er regnet ut av notatbøkene i fylkets egen konfigurasjon og er det samme som står i fylkets bok.
«{{ missing }}» betyr at datagrunnlaget ikke finnes i denne kjøringen; det er ikke anslått.
Folketallet og endringen for hele landet er summen av fylkene og vises bare når alle fylkene er bygget.
Levekår er antallet kommuner i fylket med indeks over landsnivået; i Buskerud er det den fulle levekårsindeksen,
i de andre fylkene indikatoren for lav utdanning (SSB, tabell 09429).</p>
</main>
<footer><p class="small">Skrevet av <code>kunnskapsgrunnlag report --all-regions</code> {{ written }}.</p></footer>
</body>
</html>
"""  # noqa: E501

TYPST = """#set document(title: {{ s(title ~ ", utgave " ~ edition) }}, author: "kunnskapsgrunnlag")
#set text(lang: "nb", size: 9pt)
#set page(paper: "a4", flipped: true, margin: 1.5cm, numbering: "1")
#set par(justify: false)
= #{{ s(title) }}
#{{ s("Utgave " ~ edition ~ ". " ~ n_built ~ " av " ~ rows|length ~ " fylker er bygget. Tallene er hentet fra hvert fylkes egen bok og står ved siden av tallet for hele landet. «" ~ missing ~ "» betyr at datagrunnlaget ikke finnes i denne kjøringen.") }}

#figure(
  table(
    columns: {{ inds|length + 1 }},
    align: (left, {% for i in inds %}right, {% endfor %}),
    stroke: 0.4pt + gray,
    table.header([*Fylke*], {% for i in inds %}[*#{{ s(i.label) }}*], {% endfor %}),
{% for r in rows %}    [#{{ s(r.name) }}], {% if r.built %}{% for i in inds %}[#{{ s(r.cells[i.key].text) }}], {% endfor %}{% else %}{% for i in inds %}[#{{ s("ikke bygget") }}], {% endfor %}{% endif %}
{% endfor %}    [*Hele landet*], {% for i in inds %}[*#{{ s(national[i.key].text) }}*], {% endfor %}
  ),
  caption: [#{{ s("Nøkkeltall per fylke, utgave " ~ edition ~ ", med tallet for hele landet nederst") }}],
)
{% if map %}
#pagebreak()
== #{{ s("Fylkene på kart") }}
#figure(
  image("{{ map }}", width: 100%, alt: {{ s(map_alt) }}),
  caption: [#{{ s("Fire nøkkeltall per fylke. Skravert: data mangler. Kartgrunnlag: © Kartverket, CC BY 4.0.") }}],
)
{% endif %}
"""  # noqa: E501


def _typst_string(text) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def write_atlas(root: Path, edition: int, stale_notebooks: Callable) -> dict:
    """Write `_book/<edition>/` (index.html, the CSV, the map, the PDF); returns their paths."""
    import jinja2
    import typst

    root = Path(root)
    rows, national, inds = collect(root, edition, stale_notebooks)
    raw_dir = make_settings(edition=edition, root=root).raw_dir
    book_root = outputs.ensure_artifact_root(root / "_book", kind="books")
    out = book_root / str(edition)
    if out.exists():
        outputs.ensure_owned_subdir(out)  # refuses a folder the tool did not make
    with outputs.replacing(out) as tmp:
        tmp.mkdir(parents=True)
        drawn = draw_maps(raw_dir, rows, inds, tmp / MAP_FILE)
        ctx = dict(
            title=TITLE,
            edition=edition,
            rows=rows,
            national=national,
            inds=inds,
            n_built=sum(r.built for r in rows),
            map=MAP_FILE if drawn else None,
            map_alt=map_alt(rows, inds),
            map_px=(int(MAP_SIZE[0] * MAP_DPI), int(MAP_SIZE[1] * MAP_DPI)),
            missing=MISSING_READER,
            csv=CSV_FILE,
            pdf=PDF_FILE,
            written=rawstore.now_iso()[:10],
        )
        html_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)
        (tmp / "index.html").write_text(html_env.from_string(HTML).render(**ctx), encoding="utf-8")
        (tmp / CSV_FILE).write_text(table_csv(rows, national, inds, edition), encoding="utf-8")
        typ_env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
        (tmp / "fylkesoversikt.typ").write_text(
            typ_env.from_string(TYPST).render(**ctx, s=_typst_string), encoding="utf-8"
        )
        typst.compile(
            str(tmp / "fylkesoversikt.typ"), output=str(tmp / PDF_FILE), root=str(tmp), pdf_standards=["ua-1"]
        )
        (tmp / "fylkesoversikt.typ").unlink()
        outputs.stamp(
            tmp,
            kind="atlas",
            edition=edition,
            html="index.html",
            pdf=PDF_FILE,
            csv=CSV_FILE,
            rendered=rawstore.now_iso(),
        )
    return {
        "html": out / "index.html",
        "pdf": out / PDF_FILE,
        "csv": out / CSV_FILE,
        "map": out / MAP_FILE if drawn else None,
        "rows": rows,
        "national": national,
    }
