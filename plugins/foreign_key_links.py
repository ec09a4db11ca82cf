"""Show every reference as a named link, on row pages too, and a source reference with its web address.

Datasette 0.65 expands foreign keys to labels on table pages but shows bare ids on
row pages; a reader of a row page should see which document, theme or source a row
points to, and be one click from the original source. Labels come from each
table's label column in datapackage.yaml and are read once per process (the
database is immutable).
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote
from weakref import WeakKeyDictionary

from datasette import hookimpl
from markupsafe import Markup, escape

from loaders.schema import served_package
from loaders.site import DATABASE

# One label cache per Datasette instance (a test process may run several, on different databases).
_labels: WeakKeyDictionary[Any, dict[str, dict[str, tuple[str, str | None]]]] = WeakKeyDictionary()


@cache
def outbound() -> dict[tuple[str, str], tuple[str, str]]:
    """(table, column) -> (referenced table, its label column), for single-column foreign keys."""
    package = served_package()
    result = {}
    for resource in package.resources:
        for fk in resource.foreign_keys:
            if len(fk.fields) == 1:
                target = package.resource(fk.resource)
                result[(resource.name, fk.fields[0])] = (target.name, target.label_column or fk.reference_fields[0])
    return result


async def labels(datasette: Any, table: str, label_column: str) -> dict[str, tuple[str, str | None]]:
    cache = _labels.setdefault(datasette, {})
    if table not in cache:
        url = "url" if table == "sources" else "NULL"
        rows = await datasette.get_database(DATABASE).execute(
            f'select id, "{label_column}", {url} from "{table}"')
        cache[table] = {row[0]: (row[1], row[2]) for row in rows}
    return cache[table]


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    if database != DATABASE or not table or not isinstance(value, str) or (table, column) not in outbound():
        return None
    target, label_column = outbound()[(table, column)]

    async def inner() -> Markup | None:
        found = (await labels(datasette, target, label_column)).get(value)
        if found is None:
            return None
        label, url = found
        html = (f'<a href="/{DATABASE}/{target}/{quote(value, safe="")}">{escape(label)}</a>'
                f"&nbsp;<em>{escape(value)}</em>")
        if url and url.startswith(("https://", "http://")):
            html += f' (<a href="{escape(url)}" rel="noopener">bron / source</a>)'
        return Markup(html)

    return inner
