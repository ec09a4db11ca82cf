"""Table and column descriptions for Datasette, taken from datapackage.yaml and loaders/views.yaml.

The schema is the one source of truth: this plugin turns it into Datasette metadata
(title, description, column descriptions, facets, label column, licence and source on
every table, since Datasette 1.0 drops inheritance), so metadata.yml never repeats it.
Local metadata.yml still wins where it sets the same key.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from datasette import hookimpl

from loaders.aggregates import FACET_COUNTS, FACET_PAIRS, definitions
from loaders.schema import PROJECT_ROOT, Package
from loaders.site import DATABASE
from loaders.views import column_descriptions, view_definitions

BUILD_INFO = {
    "title": "Bouwgegevens / Build information",
    "description": "Welke versie van de data deze database bevat en wanneer ze is gebouwd, om naar een exacte versie "
    "te kunnen verwijzen. — Which version of the data this database holds and when it was built, so a citation "
    "can name the exact release.",
    "columns": {
        "key": "Naam van het gegeven (data_version, built_at, git_commit, rows.<tabel>). — Name of the item.",
        "value": "Waarde van het gegeven. — Value of the item.",
    },
}


def _common(package: Package) -> dict[str, str]:
    license_ = package.license
    return {
        "license": license_.get("name", ""),
        "license_url": license_.get("path", ""),
        "source": "Openbare bronnen, per rij in de tabel sources / Public sources, per row in table sources",
        "source_url": f"/{DATABASE}/sources",
        "about": "Datamodel",
        "about_url": "/-/datamodel",
    }


@cache
def schema_metadata(root: Path = PROJECT_ROOT) -> dict[str, Any]:
    package = Package.load(root)
    common = _common(package)
    tables: dict[str, Any] = {}
    for resource in package.resources:
        tables[resource.name] = {
            **common,
            "title": resource.title,
            "description": resource.description,
            "columns": {f.name: f.description for f in resource.fields},
            "facets": [f.name for f in resource.fields if f.facet],
        }
        if resource.label_column:
            tables[resource.name]["label_column"] = resource.label_column
    for name, view in view_definitions().items():
        tables[name] = {
            **common,
            "title": view["title"],
            "description": f"{view['description_nl']} — {view['description_en']}",
            "columns": {c: f"{nl} — {en}" for c, (nl, en) in column_descriptions(package, name).items()},
        }
    tables["build_info"] = {**common, **BUILD_INFO}
    # What the build computes for the site (loaders/aggregates.py) is not data of its own: hidden from the lists.
    for name in [*definitions().get("tables", {}), FACET_COUNTS, FACET_PAIRS]:
        tables[name] = {"hidden": True}
    return {"databases": {DATABASE: {**common, "tables": tables}}}


@hookimpl
def get_metadata(datasette: Any, key: str, database: str | None, table: str | None) -> dict[str, Any]:
    # Datasette asks with key "tables" for permission rules ("allow") and facet_size, neither of which the schema
    # sets; its permission check deep-copies every source it gets, several times per request (about 8 ms with the
    # whole schema), so the schema stays out of that question.
    if key == "tables":
        return {}
    return schema_metadata()
