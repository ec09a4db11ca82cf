"""The build writes the site: generated metadata with the schema's descriptions and the saved questions, inspect
data, and nothing that Datasette 1.0 removes; the saved questions' files read and write back the same."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from loaders.queries import QUERIES_DIR, format_query, load_parts, load_queries, parse_query
from loaders.schema import PROJECT_ROOT, Package
from loaders.site import DATABASE
from loaders.site_files import site_file_paths
from loaders.site_metadata import site_metadata
from loaders.views import view_definitions


def generated(db_path: Path) -> tuple[dict, dict]:
    metadata_path, inspect_path = site_file_paths(db_path)
    return (json.loads(metadata_path.read_text(encoding="utf-8")),
            json.loads(inspect_path.read_text(encoding="utf-8")))


def test_generated_metadata_holds_the_schema_descriptions(db_path: Path, package: Package) -> None:
    metadata, _ = generated(db_path)
    tables = metadata["databases"][DATABASE]["tables"]
    for resource in package.resources:
        assert tables[resource.name]["description"] == resource.description
        assert tables[resource.name]["columns"] == {f.name: f.description for f in resource.fields}
        assert tables[resource.name]["facets"] == [f.name for f in resource.fields if f.facet]
        assert tables[resource.name]["license"] == package.license["name"]
    for view in view_definitions():
        assert set(tables[view]["columns"]) == set(view_definitions()[view]["columns"])


def test_generated_files_say_they_are_generated(db_path: Path) -> None:
    for data in generated(db_path):
        assert "prestatieafspraken build" in data["_generated"]


def test_generated_metadata_holds_every_saved_question(db_path: Path) -> None:
    metadata, _ = generated(db_path)
    assert metadata["databases"][DATABASE]["queries"] == load_queries(PROJECT_ROOT)
    assert "${database}" not in json.dumps(metadata)


async def test_served_metadata_comes_from_the_build(ds, db_path: Path) -> None:
    """What the site shows for a table is the generated metadata: change the file, and a new Datasette shows it."""
    page = (await ds.client.get(f"/{DATABASE}/agreements")).text
    metadata, _ = generated(db_path)
    assert metadata["databases"][DATABASE]["tables"]["agreements"]["title"].split(" / ")[0] in page


def test_inspect_data_counts_every_table(db_path: Path, package: Package) -> None:
    _, inspected = generated(db_path)
    counts = inspected[DATABASE]["tables"]
    with sqlite3.connect(db_path) as conn:
        for resource in package.resources:
            rows = conn.execute(f"select count(*) from [{resource.name}]").fetchone()[0]
            assert counts[resource.name]["count"] == rows
    conn.close()


async def test_table_counts_come_from_the_inspect_data(ds) -> None:
    db = ds.get_database(DATABASE)
    assert db.cached_table_counts is not None and "agreements" in db.cached_table_counts


def test_no_get_metadata_hook_is_registered(ds) -> None:
    from datasette.plugins import pm
    assert not [p for p in pm.get_plugins() if hasattr(p, "get_metadata")]
    assert not pm.hook.get_metadata.get_hookimpls()


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / QUERIES_DIR).glob("*.sql")), ids=lambda p: p.stem)
def test_query_file_round_trips(path: Path) -> None:
    query = parse_query(path.read_text(encoding="utf-8"), path.name)
    assert query["title"] and query["sql"]
    assert parse_query(format_query(query)) == query


def test_a_query_file_with_an_unknown_header_key_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown header key"):
        parse_query("-- titel: x\nselect 1", "x.sql")


def test_a_broken_query_file_stops_the_build_naming_the_file(tmp_path: Path, package: Package) -> None:
    """The metadata is made before the database is replaced, so a broken header costs nothing built."""
    shutil.copytree(PROJECT_ROOT / QUERIES_DIR, tmp_path / QUERIES_DIR)
    shutil.copy(PROJECT_ROOT / "metadata.yml", tmp_path / "metadata.yml")
    shutil.copy(PROJECT_ROOT / "settings.json", tmp_path / "settings.json")
    (tmp_path / QUERIES_DIR / "broken.sql").write_text("-- title: [unclosed\nselect 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"queries/broken\.sql:1: the `-- ` header is not valid YAML"):
        site_metadata(package, tmp_path)


def test_an_unknown_part_stops_the_build_naming_the_file(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / QUERIES_DIR, tmp_path / QUERIES_DIR)
    shutil.copy(PROJECT_ROOT / "settings.json", tmp_path / "settings.json")
    (tmp_path / QUERIES_DIR / "typo.sql").write_text("-- title: t\nselect 1 where ${in_municipalty}\n")
    with pytest.raises(ValueError,
                       match=r"queries/typo\.sql: \$\{in_municipalty\} is not the database, page_rows or a part"):
        load_queries(tmp_path)


def test_every_part_is_filled_in_and_used() -> None:
    """No `${...}` is left in a served question or a view, and each file in queries/parts/ is used by some
    question or view (its SQL holds the part's SQL)."""
    queries = load_queries(PROJECT_ROOT)
    views = view_definitions()
    assert not any("${" in json.dumps(q) for q in queries.values())
    assert not any("${" in v["sql"] for v in views.values())
    parts = load_parts(PROJECT_ROOT)
    assert parts
    for name, sql in parts.items():
        assert any(sql in q["sql"] for q in [*queries.values(), *views.values()]), \
            f"queries/parts/{name}.sql is used by no question and no view"


def test_no_saved_query_names_a_row_id(package: Package) -> None:
    """A row id ('hh-pa-2024') in a saved query breaks when the data grow; select by year, place, kind instead."""
    ids = set()
    for resource in package.resources:
        if resource.primary_key == ("id",):
            ids |= {m for m in re.findall(r"^([a-z0-9][a-z0-9-]*-[a-z0-9-]+),", (PROJECT_ROOT / resource.path)
                                          .read_text(encoding="utf-8"), flags=re.M)}
    assert ids
    for name, query in load_queries(PROJECT_ROOT).items():
        named = {i for i in ids if f"'{i}'" in query["sql"]}
        assert not named, f"queries/{name}.sql names row id(s) {sorted(named)}"


# ---- one place each --------------------------------------------------------------------------------------------

def source_files() -> dict[str, str]:
    """Tracked source files, not tests, generated docs or the data."""
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    skip = ("tests/", "csv/", "bench/", "docs/data-model.md", "CITATION.cff")
    return {f: (PROJECT_ROOT / f).read_text(encoding="utf-8", errors="replace") for f in listed.stdout.split()
            if not f.startswith(skip) and (PROJECT_ROOT / f).is_file()
            and f.endswith((".py", ".yml", ".yaml", ".html", ".sql", ".json", "Makefile", ".md", ".toml", ".cff"))}


def test_the_database_name_is_written_in_one_source_file() -> None:
    """As a URL path (/<name>/...), a file name (<name>.db) or its definition: in loaders/site.py only. (The CLI and
    Python package share the word, and so does the document kind 'prestatieafspraken': neither is the database.)"""
    pattern = re.compile(rf"/{DATABASE}(?=[/\"'?#.])|{DATABASE}\.db\b|DATABASE *= *[\"']{DATABASE}")
    found = {f for f, text in source_files().items() if pattern.search(text) and not f.startswith("docs/")}
    assert found == {"loaders/site.py"}, found


CODE = (".py", ".yml", ".yaml", ".html", ".sql", ".json", ".toml", "Makefile")


def test_the_licence_is_written_in_one_source_file(package: Package) -> None:
    """Code, templates and site files take the licence from datapackage.yaml (LICENSE-DATA.md is its text)."""
    name = package.license["name"]
    human = name.replace("CC-BY-", "CC BY ")
    address = package.license["path"].split("://", 1)[1]
    pattern = re.compile("|".join(re.escape(x) for x in {name, human, address}))
    found = {f for f, text in source_files().items() if f.endswith(CODE) and pattern.search(text)}
    assert found == {"datapackage.yaml"}, found


def test_no_enum_list_is_copied_outside_datapackage_yaml(package: Package) -> None:
    """A list of the allowed values of a field (three or more, or all but one of four or more, close together) is
    written only in datapackage.yaml; docs link to the data model, chart specs say `{enum: table.field}`, and SQL
    (saved queries with their parts, views, build-time tables) derives the values from the rows."""
    enums = {f.enum for r in package.resources for f in r.fields if len(f.enum) >= 3}
    texts = source_files()
    copies = []
    for file, text in texts.items():
        if file == "datapackage.yaml":
            continue
        for values in enums:
            need = len(values) - 1 if len(values) >= 4 else len(values)
            hits = sorted((m.start(), v) for v in values
                          for m in re.finditer(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text, flags=re.IGNORECASE))
            if any(len({v for q, v in hits[i:] if q - p <= 400}) >= need for i, (p, _) in enumerate(hits)):
                copies.append((file, values))
    assert not copies, copies


async def test_the_builds_own_tables_are_hidden(ds) -> None:
    """The aggregates, facet counts, chart rows and site search index are there for the pages, not data to browse:
    the database page lists them as hidden, and only them besides Datasette's own full-text tables."""
    from loaders import chart_rows, site_search
    from loaders.aggregates import FACET_COUNTS, FACET_PAIRS, definitions, substring_index_tables

    own = {*definitions()["tables"], *substring_index_tables(), FACET_COUNTS, FACET_PAIRS, chart_rows.TABLE,
           site_search.TABLE}
    tables = {t["name"]: t["hidden"] for t in (await ds.client.get(f"/{DATABASE}.json")).json()["tables"]}
    assert own <= set(tables)
    assert all(tables[name] for name in own)
    assert {name for name, hidden in tables.items() if hidden and "_fts" not in name and
            not name.startswith(f"{site_search.TABLE}_")} == own
