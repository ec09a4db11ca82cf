"""The reader-friendly views (loaders/views.yaml) and their column descriptions."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlite_utils.db import Database

from .schema import Package

VIEWS_FILE = Path(__file__).with_name("views.yaml")


@cache
def view_definitions() -> dict[str, dict[str, Any]]:
    with VIEWS_FILE.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def create_views(db: Database, package: Package) -> None:
    for name, view in view_definitions().items():
        db.create_view(name, view["sql"])
        actual = [column.name for column in db.view(name).columns]
        described = list(view["columns"])
        if actual != described:
            raise ValueError(f"loaders/views.yaml: view {name} has columns {actual} but describes {described}")
        column_descriptions(package, name)  # fails early on a reference to an unknown column


def column_descriptions(package: Package, view: str) -> dict[str, tuple[str, str]]:
    """(nl, en) description per column of a view."""
    result = {}
    for column, ref in view_definitions()[view]["columns"].items():
        if isinstance(ref, str):
            table, field_name = ref.split(".")
            field = package.resource(table).field(field_name)
            result[column] = (field.description_nl, field.description_en)
        else:
            result[column] = (ref["nl"], ref["en"])
    return result
