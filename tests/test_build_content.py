"""The built database holds exactly what the data package says: tables, columns, types, keys, enum checks,
indexes, full-text indexes and views as datapackage.yaml and loaders/views.yaml describe them, and every row
of every CSV, typed by its column's Table Schema type. The expectations are read from the descriptor and the
CSVs here, independently of the loader's own code."""

from __future__ import annotations

import csv
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from loaders.aggregates import FACET_COUNTS, FACET_PAIRS, definitions, substring_index_tables
from loaders.schema import Field, Package, Resource
from loaders.site_search import TABLE as SITE_SEARCH
from loaders.yaml_files import load_yaml

# Table Schema type -> the SQLite column type that keeps its values exact (NUMERIC: whole numbers as
# INTEGER, others as REAL).
DECLARED = {"integer": "INTEGER", "number": "NUMERIC", "boolean": "INTEGER"}


@pytest.fixture(scope="module")
def conn(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)


def expected_value(field: Field, text: str) -> Any:
    if text == "":
        return None
    if field.type == "integer":
        return int(text)
    if field.type == "number":
        return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else float(text)
    if field.type == "boolean":
        return 1 if text in field.true_values else 0
    return text


def csv_rows(package: Package, resource: Resource) -> list[tuple[Any, ...]]:
    with (package.root / resource.path).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == resource.field_names, f"{resource.path}: header differs from the schema"
        return [tuple(expected_value(fld, v) for fld, v in zip(resource.fields, row, strict=True))
                for row in reader]


def test_tables_columns_types_and_keys_are_the_schema(package: Package, conn: sqlite3.Connection) -> None:
    for resource in package.resources:
        info = conn.execute(f'pragma table_info("{resource.name}")').fetchall()
        assert [(c[1], c[2], bool(c[3])) for c in info] == [
            (f.name, DECLARED.get(f.type, "TEXT"), f.required or f.name in resource.primary_key)
            for f in resource.fields], resource.name
        pk = sorted((c[5], c[1]) for c in info if c[5])
        assert tuple(name for _, name in pk) == resource.primary_key, resource.name
        fks = Counter((fk[2], fk[3], fk[4]) for fk in conn.execute(f'pragma foreign_key_list("{resource.name}")'))
        assert fks == Counter((fk.resource, c, r) for fk in resource.foreign_keys
                              for c, r in zip(fk.fields, fk.reference_fields, strict=True)), resource.name


def test_every_enum_is_enforced_by_the_database(package: Package, db_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(db_path.read_bytes())
    writable = sqlite3.connect(copy)
    checked = 0
    for resource in package.resources:
        for field in resource.fields:
            if not field.enum:
                continue
            with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
                writable.execute(f'update "{resource.name}" set "{field.name}" = ?', ["not-in-the-enum"])
            checked += 1
    writable.close()
    assert checked == sum(bool(f.enum) for r in package.resources for f in r.fields) > 0


def test_every_row_of_every_csv_is_in_its_table(package: Package, conn: sqlite3.Connection) -> None:
    for resource in package.resources:
        stored = conn.execute(f'select * from "{resource.name}"').fetchall()
        expected = csv_rows(package, resource)
        assert Counter(stored) == Counter(expected), resource.name
        # Counter compares 1 == 1.0 as equal; the stored type must be the schema's type too.
        for row in stored:
            for field, value in zip(resource.fields, row, strict=True):
                allowed = {"integer": (int,), "number": (int, float), "boolean": (int,)}.get(field.type, (str,))
                assert value is None or type(value) in allowed, (resource.name, field.name, value)


def test_only_the_described_tables_and_views_exist(package: Package, conn: sqlite3.Connection) -> None:
    views = load_yaml((package.root / "loaders" / "views.yaml").read_text(encoding="utf-8"))
    searchable = {r.name for r in package.resources if any(f.searchable for f in r.fields)}
    names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    fts_shadow = {n for n in names if any(n.startswith(f"{t}_fts") for t in searchable)}
    site_search = {n for n in names if n.startswith(f"{SITE_SEARCH}_")} | {SITE_SEARCH}
    # What the build computes for the site (loaders/aggregates.py): aggregate tables, substring indexes, facet counts,
    # site search.
    serving = set(definitions()["tables"]) | set(substring_index_tables()) | {FACET_COUNTS, FACET_PAIRS}
    assert names - fts_shadow - site_search == \
        {r.name for r in package.resources} | {"build_info", "sqlite_stat1"} | serving
    assert {f"{t}_fts" for t in searchable} <= fts_shadow
    found = {r[0] for r in conn.execute("select name from sqlite_master where type = 'view'")}
    assert found == set(views)
    for name, view in views.items():
        columns = [c[1] for c in conn.execute(f'pragma table_info("{name}")')]
        assert columns == list(view["columns"]), name


def test_full_text_indexes_hold_the_searchable_columns_with_folded_diacritics(
        package: Package, conn: sqlite3.Connection) -> None:
    for resource in package.resources:
        searchable = [f.name for f in resource.fields if f.searchable]
        if not searchable:
            continue
        fts = f"{resource.name}_fts"
        assert [c[1] for c in conn.execute(f'pragma table_info("{fts}")')] == searchable
        sql = conn.execute("select sql from sqlite_master where name = ?", [fts]).fetchone()[0]
        assert "remove_diacritics 2" in sql and f'content="{resource.name}"' in sql
        # Every row is indexed: each row finds itself through its own first word.
        rows = conn.execute(f'select rowid, * from "{resource.name}"').fetchall()
        names = [d[1] for d in conn.execute(f'pragma table_info("{resource.name}")')]
        for row in rows[:50]:
            text = next((row[1 + names.index(c)] for c in searchable if row[1 + names.index(c)]), None)
            word = re.search(r"\w{3,}", text or "")
            if not word:
                continue
            hits = {r[0] for r in conn.execute(f'select rowid from "{fts}" where "{fts}" match ?',
                                               ['"' + word.group(0) + '"'])}
            assert row[0] in hits, (resource.name, word.group(0))


def test_a_word_with_diacritics_is_found_without_them(package: Package, conn: sqlite3.Connection) -> None:
    found = 0
    for resource in package.resources:
        searchable = [f.name for f in resource.fields if f.searchable]
        for column in searchable:
            for (text,) in conn.execute(f'select "{column}" from "{resource.name}" where "{column}" is not null'):
                word = re.search(r"\w*[à-ÿ]\w*", text)
                if not word or len(word.group(0)) < 4:
                    continue
                plain = word.group(0).translate(str.maketrans("àáâäèéêëìíîïòóôöùúûü", "aaaaeeeeiiiioooouuuu"))
                fts = f"{resource.name}_fts"
                assert conn.execute(f'select count(*) from "{fts}" where "{fts}" match ?',
                                    ['"' + plain + '"']).fetchone()[0] > 0, (resource.name, plain)
                found += 1
                break
    if found == 0:
        pytest.skip("no searchable word with a diacritic in the data")
