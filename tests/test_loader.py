"""Unit tests of the loader: schema reading, SQL generation, casting, reproducible builds, streaming checks."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlite_utils.db import Database

from loaders import datapackage_zip, filecheck, load
from loaders.build import build, create_table_sql, data_version, read_rows
from loaders.files import read_input
from loaders.problems import ValidationFailed
from loaders.schema import Package
from loaders.validate import validate


def dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "select name from sqlite_master where type in ('table', 'view') and name not like '%_fts%' "
            "and name not like '%_trigram%' "
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
    assert [p.name for p in tmp_path.iterdir()] == ["site.db"], "temporary file left behind"


def test_validate_writes_nothing_and_leaves_no_temporary_file(project_copy: Path, monkeypatch) -> None:
    """validate loads into a throw-away database: nothing appears in the project or in the temporary folder."""
    scratch = project_copy.parent / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = sorted(p.relative_to(project_copy) for p in project_copy.rglob("*"))
    assert validate(Package.load(project_copy)) == []
    assert sorted(p.relative_to(project_copy) for p in project_copy.rglob("*")) == before
    assert list(scratch.iterdir()) == []


def test_a_valid_file_is_never_read_whole(package: Package, tmp_path: Path, monkeypatch) -> None:
    """Every CSV streams through the checks and the insert; reading one whole would make memory grow with it."""
    def whole(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert path.suffix != ".csv", f"{path} was read whole"
        return read_input(path, *args, **kwargs)  # a licence or readme for the zip: small, known files

    monkeypatch.setattr(filecheck, "read_input", whole)
    monkeypatch.setattr(datapackage_zip, "read_input", whole)
    counts = build(package, tmp_path / "site.db", progress=lambda _m: None,
                   before_replace=lambda: datapackage_zip.write_zip(package, tmp_path / "x.zip") and None)
    assert sum(counts.values()) > 0


def test_a_long_table_reports_its_progress_in_rows_per_second(package: Package, tmp_path: Path,
                                                                monkeypatch) -> None:
    lines: list[str] = []
    monkeypatch.setattr(load, "PROGRESS_SECONDS", -1.0)  # every table counts as long
    counts = build(package, tmp_path / "site.db", progress=lines.append)
    for name, n in counts.items():
        assert any(line.startswith(f"{name}: {n:,} rows in ") and line.endswith(" rows/s") for line in lines), lines


def test_a_short_build_prints_no_progress(package: Package, tmp_path: Path) -> None:
    lines: list[str] = []
    build(package, tmp_path / "site.db", progress=lines.append)
    assert lines == []


def test_keys_are_checked_by_the_database_with_file_lines(project_copy: Path, tmp_path: Path) -> None:
    """A duplicate key and a reference that leads nowhere, far apart in a file whose first record spans two
    lines: each message names the line the record starts on, and the earlier row of the duplicate."""
    path = project_copy / "csv" / "themes.csv"
    with path.open(encoding="utf-8", newline="") as f:
        header, *records = list(csv.reader(f))
    assert len(records) >= 3
    names = {n: i for i, n in enumerate(header)}
    multiline = next(c for c in ("description_nl", "description_en") if c in names)
    records[0][names[multiline]] += "\ntweede regel"
    records[-1][names["id"]] = records[1][names["id"]]
    records[-2][names["document_id"]] = "bestaat-niet"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *records])
    first_line = {i: i + 3 for i in range(len(records))}  # header line 1, record 0 on lines 2-3
    first_line[0] = 2
    out = tmp_path / "out"
    with pytest.raises(ValidationFailed) as failed:
        build(Package.load(project_copy), out / "site.db", progress=lambda _m: None)
    messages = [str(p) for p in failed.value.problems]
    key = records[1][names["id"]]
    assert f"csv/themes.csv:{first_line[len(records) - 1]}: id: duplicate id '{key}': an earlier row " \
           f"(line {first_line[1]}) has the same; give every row its own id" in messages, messages
    assert any(m.startswith(f"csv/themes.csv:{first_line[len(records) - 2]}: document_id: 'bestaat-niet' does "
                            "not exist in csv/documents.csv") for m in messages), messages
    assert list(out.iterdir()) == [], "nothing is written for an invalid package"
