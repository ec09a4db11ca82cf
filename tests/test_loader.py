"""Unit tests of the loader: schema reading, SQL generation, casting, reproducible builds."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import subprocess
from pathlib import Path

from sqlite_utils.db import Database

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
    db = Database(memory=True)
    for resource in package.load_order():  # sqlite-utils checks that a referenced table exists
        if resource.name == "agreements":
            break
        db.execute(create_table_sql(db, resource))
    sql = create_table_sql(db, package.resource("agreements"))
    assert '"id" TEXT PRIMARY KEY NOT NULL' in sql
    assert '"document_id" TEXT NOT NULL REFERENCES "documents"("id")' in sql
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


def test_build_is_byte_identical_with_source_date_epoch(package: Package, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    build(package, first, progress=lambda _m: None)
    build(package, second, progress=lambda _m: None)
    assert first.read_bytes() == second.read_bytes()
    built_at = sqlite3.connect(first).execute("select value from build_info where key = 'built_at'").fetchone()
    assert built_at == ("1970-01-01T00:00:00+00:00",)


def test_data_version_follows_the_data_not_the_folder(project_copy: Path, package: Package) -> None:
    copy = Package.load(project_copy)
    assert data_version(copy) == data_version(package), "same bytes in another folder: same version"
    path = project_copy / copy.resource("themes").path
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\n", "\n", 1).rstrip("\n") + " \n", encoding="utf-8")
    assert data_version(Package.load(project_copy)) != data_version(package), "a changed cell: a new version"


def test_build_records_its_release(db_path: Path, package: Package) -> None:
    info = dict(sqlite3.connect(db_path).execute("select key, value from build_info").fetchall())
    assert info["data_version"] == data_version(package)
    assert dt.datetime.fromisoformat(info["built_at"]).tzinfo is not None
    head = subprocess.run(["git", "-C", str(package.root), "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True)
    assert info["git_commit"].removesuffix("-dirty") == (head.stdout.strip() if head.returncode == 0 else "unknown")
    conn = sqlite3.connect(db_path)
    for resource in package.resources:
        count = conn.execute(f'select count(*) from "{resource.name}"').fetchone()[0]
        assert info[f"rows.{resource.name}"] == str(count), resource.name


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.db", "site.inspect.json"], \
        "temporary file left behind"
