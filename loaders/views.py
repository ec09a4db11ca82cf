"""The reader-friendly views (loaders/views.yaml) and their column descriptions."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sqlite_utils.db import Database

from .queries import fill_in, load_parts
from .schema import PROJECT_ROOT, Package
from .yaml_files import load_yaml

VIEWS_FILE = Path(__file__).with_name("views.yaml")


@cache
def view_definitions() -> dict[str, dict[str, Any]]:
    """The views of loaders/views.yaml, each view's SQL with the parts it names (`${source_columns}`, from
    queries/parts/, shared with the saved questions) filled in."""
    with VIEWS_FILE.open(encoding="utf-8") as f:
        views: dict[str, dict[str, Any]] = load_yaml(f)
    parts = load_parts(PROJECT_ROOT)
    for name, view in views.items():
        view["sql"] = fill_in(view["sql"], parts, f"loaders/views.yaml: view {name}")
    return views


def create_views(db: Database, package: Package) -> None:
    for name, view in view_definitions().items():
        db.create_view(name, view["sql"])
        actual = [column.name for column in db.view(name).columns]
        described = list(view["columns"])
        if actual != described:
            raise ValueError(f"loaders/views.yaml: view {name} has columns {actual} but describes {described}")
        column_descriptions(package, name)  # fails early on a reference to an unknown column
        column_labels(package, name)  # and on a column without a heading


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


def column_labels(package: Package, view: str) -> dict[str, str]:
    """The Dutch heading of every column of a view: its own label in `labels`, else the title of the schema field
    it comes from. ValueError (naming loaders/views.yaml) for a column with neither, a label for a column the view
    does not have, or two columns with one heading."""
    definition = view_definitions()[view]
    own = {str(k): " ".join(str(v or "").split()) for k, v in (definition.get("labels") or {}).items()}
    unknown = sorted(set(own) - set(definition["columns"]))
    if unknown:
        raise ValueError(f"{VIEWS_FILE.name}: view {view} labels columns it does not have: {', '.join(unknown)}")
    result: dict[str, str] = {}
    for column, ref in definition["columns"].items():
        label = own.get(column)
        if not label and isinstance(ref, str):
            table, field_name = ref.split(".")
            label = package.resource(table).field(field_name).title
        if not label:
            raise ValueError(f"{VIEWS_FILE.name}: view {view} column {column} has no label; add it under labels:")
        if label.casefold() in {v.casefold() for v in result.values()}:
            raise ValueError(f"{VIEWS_FILE.name}: view {view} column {column} has the label '{label}' of another "
                             "column; give it its own under labels:")
        result[column] = label
    return result
