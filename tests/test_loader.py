"""Unit tests of the loader: schema reading, SQL generation, casting, reproducible builds."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from loaders.build import build, create_table_sql, data_version, read_rows
from loaders.schema import Package


def dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "select name from sqlite_master where type in ('table', 'view') and name not like '%_fts%' "
            "and name not in ('build_info', 'sqlite_stat1', 'sqlite_stat4') order by name")]
        return {t: conn.execute(f'select * from "{t}" order by 1, 2').fetchall() for t in tables}
    finally:
        conn.close()


def test_load_order_puts_referenced_tables_first(package: Package) -> None:
    order = [r.name for r in package.load_order()]
    for resource in package.resources:
        for fk in resource.foreign_keys:
            if fk.resource != resource.name:
                assert order.index(fk.resource) < order.index(resource.name), (resource.name, fk.resource)


def test_every_table_has_a_source_column_except_sources(package: Package) -> None:
    for resource in package.resources:
        if resource.name == "sources":
            continue
        assert "source_id" in resource.field_names, resource.name
        assert resource.field("source_id").required, resource.name
        assert any(fk.fields == ("source_id",) and fk.resource == "sources" for fk in resource.foreign_keys)


def test_every_field_is_described_in_dutch_and_english(package: Package) -> None:
    for resource in package.resources:
        assert resource.description_nl and resource.description_en, resource.name
        for field in resource.fields:
            assert field.description_nl and field.description_en, f"{resource.name}.{field.name}"
            assert field.description_nl != field.description_en, f"{resource.name}.{field.name}"


def test_create_table_sql_enforces_keys_and_enums(package: Package) -> None:
    sql = create_table_sql(package.resource("agreements"))
    assert 'PRIMARY KEY ("id")' in sql
    assert 'FOREIGN KEY ("document_id") REFERENCES "documents" ("id")' in sql
    assert "CHECK (\"kind\" IN ('actiepunt', 'procesafspraak'))" in sql
    assert '"title_nl" TEXT NOT NULL' in sql


def test_values_are_cast_by_type(package: Package, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    types = dict(conn.execute("select typeof(period_start), typeof(period_end) from documents limit 1").fetchall())
    assert "integer" in types
    assert {r[0] for r in conn.execute("select distinct typeof(value) from specifications")} <= {"integer", "real"}
    assert {r[0] for r in conn.execute("select distinct kind_in_source from agreements")} <= {0, 1}
    rows = list(read_rows(package.root / "csv/documents.csv", package.resource("documents")))
    assert all(isinstance(row[4], int) for row in rows)  # period_start


def test_build_is_reproducible(package: Package, tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    build(package, first, progress=lambda _m: None)
    build(package, second, progress=lambda _m: None)
    assert dump(first) == dump(second)
    assert data_version(package) == data_version(package)


def test_build_records_its_release(db_path: Path, package: Package) -> None:
    info = dict(sqlite3.connect(db_path).execute("select key, value from build_info").fetchall())
    assert info["data_version"] == data_version(package)
    assert info["built_at"][:4].isdigit()
    assert info["git_commit"]
    for resource in package.resources:
        assert info[f"rows.{resource.name}"].isdigit()


def test_foreign_keys_indexes_and_fts_exist(db_path: Path, package: Package) -> None:
    conn = sqlite3.connect(db_path)
    indexed = {(r[0], r[1]) for r in conn.execute(
        "select m.name, i.name from sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) i "
        "where m.type = 'table'")}
    for resource in package.resources:
        for fk in resource.foreign_keys:
            column = fk.fields[0]
            in_pk_prefix = list(fk.fields) == list(resource.primary_key[: len(fk.fields)])
            assert in_pk_prefix or (resource.name, column) in indexed, f"{resource.name}.{column} not indexed"
        for field in resource.fields:
            if field.facet:
                assert (resource.name, field.name) in indexed, f"facet {resource.name}.{field.name} not indexed"
    assert conn.execute("pragma foreign_key_check").fetchall() == []
    for table in ("agreements", "documents", "themes", "partners"):
        sql = conn.execute("select sql from sqlite_master where name = ?", [f"{table}_fts"]).fetchone()[0]
        assert "remove_diacritics 2" in sql


def test_failed_build_keeps_previous_database(package: Package, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "site.db"
    build(package, target, progress=lambda _m: None)
    before = target.read_bytes()

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("loaders.build.create_views", broken)
    with contextlib.suppress(RuntimeError):
        build(package, target, progress=lambda _m: None)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["site.db"], "temporary file left behind"
