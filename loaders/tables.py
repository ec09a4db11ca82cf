"""The CREATE TABLE of each resource, written by sqlite-utils from datapackage.yaml."""

from __future__ import annotations

from typing import Any

from sqlite_utils.db import COLUMN_TYPE_MAPPING, Check, Database, quote_identifier

from .schema import Field, Resource

# Table Schema type -> SQLite column type. A `number` is NUMERIC: SQLite keeps a whole number INTEGER and
# any other number REAL (exact, see rowcheck._cast); sqlite-utils knows no NUMERIC, so it is named to it here.
COLUMN_TYPE_MAPPING.setdefault("NUMERIC", "NUMERIC")
SQL_TYPES = {"integer": "INTEGER", "number": "NUMERIC", "boolean": "INTEGER"}


def _enum_check(field: Field) -> Check:
    allowed = ", ".join("'" + v.replace("'", "''") + "'" for v in field.enum)
    return Check(check=f"{quote_identifier(field.name)} IN ({allowed})", column=field.name)


def create_table_sql(db: Database, resource: Resource) -> str:
    """The CREATE TABLE sqlite-utils writes for a resource: types, NOT NULL, keys and the enum CHECKs.

    The CHECKs go through create_table_sql's `_checks` (sqlite-utils 4 has no public create_table argument for
    them); tests/test_build_content.py fails if an enum is no longer enforced."""
    pk: Any = resource.primary_key[0] if len(resource.primary_key) == 1 else tuple(resource.primary_key)
    foreign_keys = [
        (fk.fields[0], fk.resource, fk.reference_fields[0]) if len(fk.fields) == 1
        else (tuple(fk.fields), fk.resource, tuple(fk.reference_fields))
        for fk in resource.foreign_keys
    ]
    return db.create_table_sql(
        resource.name,
        {f.name: SQL_TYPES.get(f.type, "TEXT") for f in resource.fields},
        pk=pk or None,
        foreign_keys=foreign_keys,
        not_null={f.name for f in resource.fields if f.required},
        _checks=[_enum_check(f) for f in resource.fields if f.enum],
    )
