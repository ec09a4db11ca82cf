"""Every row says only what its source says: the provenance declared in the schema, the loader's provenance
check, and the rows issue 14 found wanting, in their corrected state."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from loaders.cli import cli
from loaders.docs import PROVENANCE_WORDS, render_data_model
from loaders.provenance import INFERENCE_WORDS, PROVENANCE, provenance, source_column
from loaders.schema import PROJECT_ROOT, Package


@pytest.fixture(scope="module")
def conn(db_path: Path) -> sqlite3.Connection:
    c = sqlite3.connect(db_path)
    c.row_factory = sqlite3.Row
    return c


def one(conn: sqlite3.Connection, sql: str, *args: str) -> sqlite3.Row:
    rows = conn.execute(sql, args).fetchall()
    assert len(rows) == 1, (sql, args, len(rows))
    return rows[0]


# --- the schema declares provenance, the docs show it ------------------------------------------------------


def test_every_column_declares_where_its_value_comes_from(package: Package) -> None:
    for resource in package.resources:
        for field in resource.fields:
            assert provenance(field) in PROVENANCE, f"{resource.name}.{field.name}"
            if provenance(field) == "source":
                assert source_column(package, resource, field) in resource.field_names, f"{resource.name}.{field.name}"
        assert {provenance(f) for f in resource.fields if f.name == "notes"} <= {"remarks"}, resource.name


def test_data_model_page_shows_each_columns_provenance(package: Package) -> None:
    page = render_data_model(package)
    sections = dict(re.findall(r"^## `(\w+)` .*?\n(.*?)(?=^## |^# Views)", page, re.MULTILINE | re.DOTALL))
    for resource in package.resources:
        rows = {line.split("|")[1].strip(" `"): line for line in sections[resource.name].splitlines()
                if line.startswith("| `")}
        for field in resource.fields:
            assert PROVENANCE_WORDS[provenance(field) or ""] in rows[field.name], f"{resource.name}.{field.name}"
    assert "bron / source (`coordinates_source_id`)" in sections["places"]


# --- the shipped data ---------------------------------------------------------------------------------------


def test_no_column_outside_notes_holds_inference_wording(conn: sqlite3.Connection, package: Package) -> None:
    checked = 0
    for resource in package.resources:
        columns = [f.name for f in resource.fields if f.type == "string" and provenance(f) != "remarks"]
        for row in conn.execute(f"select {', '.join(columns)} from {resource.name}"):
            for column in columns:
                checked += 1
                found = INFERENCE_WORDS.search(row[column] or "")
                assert not found, (resource.name, column, row[column])
    assert checked > 1000


def test_no_partner_is_linked_to_a_commitment_by_inference(conn: sqlite3.Connection) -> None:
    rows = conn.execute("select agreement_id, partner_id from agreement_partners where notes like '%AFLEIDING%'")
    assert rows.fetchall() == []


# --- the loader refuses the mistakes ------------------------------------------------------------------------


def edit(root: Path, table: str, key: tuple[str, str], changes: dict[str, str]) -> int:
    """Change cells of the row whose column key[0] equals key[1]; return its line in the file."""
    path = root / "csv" / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    assert fields
    index = next(i for i, r in enumerate(rows) if r[key[0]] == key[1])
    rows[index].update(changes)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return index + 2


def validate(root: Path) -> list[str]:
    result = CliRunner().invoke(cli, ["--root", str(root), "validate"])
    assert result.exit_code == 1, result.output
    return result.output.splitlines()[:-1]


def test_inference_wording_in_a_data_column_is_refused(project_copy: Path) -> None:
    line = edit(project_copy, "agreements", ("id", "hh-pa-2024-tripartite-voortgang"),
                {"summary_nl": "AFLEIDING: de gemeente organiseert de overleggen."})
    assert any(m.startswith(f"csv/agreements.csv:{line}: summary_nl: 'AFLEIDING' is inference wording")
               for m in validate(project_copy))


def test_a_cell_filled_by_an_inference_is_refused(project_copy: Path) -> None:
    line = edit(project_copy, "projects", ("id", "kantens-kooistraat-nieuwbouw"),
                {"part_of_id": "kantens-herbouw-gebied",
                 "notes": "AFLEIDING: deze tien woningen horen bij de 40 in hetzelfde gebied; daarom part_of_id."})
    assert any(m.startswith(f"csv/projects.csv:{line}: part_of_id: is filled by an inference")
               for m in validate(project_copy))


def test_unmarked_inference_in_notes_is_refused(project_copy: Path) -> None:
    line = edit(project_copy, "partners", ("id", "goud-wonen"),
                {"notes": "De fusie ging waarschijnlijk in op 1 januari 2023. Afleiding: zie hierboven."})
    messages = validate(project_copy)
    assert any(m.startswith(f"csv/partners.csv:{line}: notes: 'waarschijnlijk' outside a sentence") for m in messages)
    assert any(m.startswith(f"csv/partners.csv:{line}: notes: 'Afleiding:': write an inference") for m in messages)


def test_a_sourced_value_without_its_source_is_refused(project_copy: Path) -> None:
    line = edit(project_copy, "places", ("id", "kantens"), {"latitude": "53.36", "longitude": "6.63"})
    messages = validate(project_copy)
    assert any(m.startswith(f"csv/places.csv:{line}: latitude: has a value but no source in coordinates_source_id")
               for m in messages)


def test_a_column_without_provenance_is_refused(project_copy: Path) -> None:
    path = project_copy / "datapackage.yaml"
    text = path.read_text(encoding="utf-8")
    seat = re.compile(r"(        - name: seat\n(?:          (?!provenance:).*\n)*)          provenance: source\n")
    assert seat.search(text)
    path.write_text(seat.sub(r"\1", text, count=1), encoding="utf-8")
    assert any(m.startswith("datapackage.yaml:1: partners.seat: provenance is None") for m in validate(project_copy))


# --- issue 14, point by point -------------------------------------------------------------------------------


def test_1_bedum_2019_figures_cite_the_page_that_states_them(conn: sqlite3.Connection) -> None:
    investment = one(conn, "select s.url from specifications sp join sources s on s.id = sp.source_id "
                           "where sp.id = 'bedum-investering-2019'")
    assert "winsum.nieuws.nl/nieuws/20190124" in investment["url"]
    total = one(conn, "select s.url, s.publisher from specifications sp join sources s on s.id = sp.source_id "
                      "where sp.id = 'bedum-woningen-totaal-2019'")
    assert "dvhn.nl" in total["url"] and total["publisher"] == "Dagblad van het Noorden"


def test_2_no_implied_2024_signing_by_wierden_en_borgen(conn: sqlite3.Connection) -> None:
    partner = one(conn, "select summary_nl, summary_en from partners where id = 'wierden-en-borgen'")
    assert "daarna" not in partner["summary_nl"] and "followed" not in partner["summary_en"]
    signed_years: set[int] = set()
    for start, end in conn.execute(
            "select d.period_start, coalesce(d.period_end, d.period_start) from document_partners dp "
            "join documents d on d.id = dp.document_id "
            "where dp.partner_id = 'wierden-en-borgen' and dp.role = 'ondertekenaar'"):
        signed_years.update(range(start, end + 1))
    for text in (partner["summary_nl"], partner["summary_en"]):
        assert {int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", text)} <= signed_years, text
    assert 2024 not in signed_years


def test_3_no_partner_made_responsible_where_the_source_names_none(conn: sqlite3.Connection) -> None:
    for agreement in ("hh-pa-2024-tripartite-voortgang", "hh-pa-2024-alle-themas-top3"):
        assert conn.execute("select count(*) from agreement_partners where agreement_id = ?",
                            (agreement,)).fetchone()[0] == 0, agreement
        row = one(conn, "select responsible_as_stated, notes from agreements where id = ?", agreement)
        assert "AFLEIDING:" in row["notes"], "the inference stays, marked, in notes"
        assert "(" not in row["responsible_as_stated"], "the source's words, without our gloss"


def test_3_kooistraat_is_not_made_a_part_by_inference(conn: sqlite3.Connection) -> None:
    row = one(conn, "select part_of_id, notes from projects where id = 'kantens-kooistraat-nieuwbouw'")
    assert row["part_of_id"] is None
    assert "AFLEIDING:" in row["notes"]
    counted = one(conn, "select counted_in_totals from projects_overview "
                        "where project_row_id = 'kantens-kooistraat-nieuwbouw'")
    assert counted["counted_in_totals"] == 1


def test_3_ambitiekader_themes_do_not_carry_unsourced_links(conn: sqlite3.Connection) -> None:
    rows = conn.execute("select id, description_nl, description_en from themes "
                        "where document_id = 'hh-ambitiekader-2024-2027'").fetchall()
    assert len(rows) == 6
    for row in rows:
        text = (row["description_nl"] + " " + row["description_en"]).lower()
        for challenge in ("energiearmoede", "energie-armoede", "energy poverty", "aandachtsgroepen", "versterking",
                          "kleine beurs", "hogere leeftijd"):
            assert challenge not in text, (row["id"], challenge)


def test_4_demolition_and_new_build_are_a_significant_part_not_mostly(conn: sqlite3.Connection) -> None:
    summary = one(conn, "select summary_nl, summary_en from agreements where id = 'hh-pa-2022-sloop-nieuwbouw'")
    assert "belangrijk deel" in summary["summary_nl"] and "significant part" in summary["summary_en"]
    assert "belangrijk deel" in one(conn, "select notes from specifications "
                                          "where id = 'hh-pa-2022-sloop-2022-2026'")["notes"]
    for table, columns in (("agreements", "summary_nl || ' ' || summary_en || ' ' || coalesce(notes, '')"),
                           ("specifications", "coalesce(notes, '')"), ("documents", "summary_nl || summary_en")):
        for (text,) in conn.execute(f"select {columns} from {table} where source_id = 'S005'"):
            assert not re.search(r"grotendeels|largely|mostly", text, re.IGNORECASE), (table, text)


def test_5_details_carry_their_own_source(conn: sqlite3.Connection) -> None:
    hoheg = one(conn, "select summary_nl, notes from partners where id = 'ho-heg'")
    assert "2024" not in hoheg["summary_nl"]
    assert "S001" in hoheg["notes"] and "S003" in hoheg["notes"]
    for partner in ("acantus", "groninger-huis"):
        row = one(conn, "select summary_nl, summary_en, notes from partners where id = ?", partner)
        assert "kr8" not in (row["summary_nl"] + row["summary_en"]).lower(), partner
        assert "S076" in row["notes"] or "S047" in row["notes"], partner
    assert "S011" in one(conn, "select notes from documents where id = 'hh-pa-2021'")["notes"]
    small = one(conn, "select summary_nl, summary_en from agreements where id = 'hh-pa-2021-kleine-aanpassingen'")
    assert "hogere leeftijd" in small["summary_nl"] and "thuis" not in small["summary_nl"]
    assert "at home" not in small["summary_en"]
    homes = one(conn, "select description_nl, description_en from themes where id = 'kr8-hpag-woonactieplan-woningen'")
    assert "betaalbare" in homes["description_nl"] and "passende" not in homes["description_nl"]
    assert "affordable" in homes["description_en"] and "suitable" not in homes["description_en"]


def test_6_what_the_2024_introduction_says_is_in_the_data(conn: sqlite3.Connection) -> None:
    doc = one(conn, "select summary_nl, summary_en, source_id from documents where id = 'hh-pa-2024'")
    assert "leidraad" in doc["summary_nl"] and "guideline" in doc["summary_en"]
    assert "ereschuld" in doc["summary_nl"] and "debt of honour" in doc["summary_en"]
    assert "handreiking" in doc["summary_nl"] and "veilig" in doc["summary_nl"]
    assert "safely" in doc["summary_en"]
    assert "hoheg.nl/2024/02/25" in one(conn, "select url from sources where id = ?", doc["source_id"])["url"]


def test_6_annex_coverage_names_every_2024_figure_from_the_introduction(conn: sqlite3.Connection) -> None:
    row = one(conn, "select explanation_nl, explanation_en from coverage where id = 'cov-hh-pa-2024-bijlage'")
    figures = {r[0] for r in conn.execute("select id from specifications where document_id = 'hh-pa-2024'")}
    assert len(figures) >= 2
    for text in (row["explanation_nl"], row["explanation_en"]):
        named = set(re.findall(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b", text))
        assert named & set(r[0] for r in conn.execute("select id from specifications")) == figures, text


# --- the README's examples are true ---------------------------------------------------------------------------


README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_7_readme_row_ids_exist(conn: sqlite3.Connection) -> None:
    cited = re.findall(r"(?:table|tabel) `?([a-z_]+)`?, (?:row|rij) `?([a-z0-9]+(?:-[a-z0-9]+)+)`?", README,
                       flags=re.IGNORECASE)
    assert cited, "the README shows how to cite a row"
    for table, row_id in cited:
        assert conn.execute(f"select count(*) from {table} where id = ?", (row_id,)).fetchone()[0] == 1, row_id
    ids = {row_id for table in ("agreements", "documents", "coverage", "specifications", "themes", "projects",
                                "partners", "places")
           for (row_id,) in conn.execute(f"select id from {table}")}
    for token in re.findall(r"`((?:hh|cov|kr8|nij|de-marne)-[a-z0-9-]+)`", README):
        assert token in ids, token


def test_7_readme_says_how_kind_in_source_is_stored(package: Package) -> None:
    field = package.resource("agreements").field("kind_in_source")
    sentence = next(s for s in re.split(r"(?<=\.)\s", README) if "kind_in_source" in s and "classified" in s)
    assert f"`{field.false_values[0]}`" in sentence, sentence
    assert "kind_in_source = 0" not in README
