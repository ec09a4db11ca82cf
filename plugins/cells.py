"""How a cell is shown: the site's one `render_cell` hook.

Datasette asks every `render_cell` hook about every cell it shows: 8,000 times for a saved question's page of
1,000 rows and 8 columns. Most cells need nothing, so the hook is a single lookup of (table, column) in a table
built once per process from the schema (the database is immutable); only a cell listed there does any work:

- a reference (a single-column foreign key in datapackage.yaml) is shown as a named link, on row pages too
  (Datasette 0.65 shows bare ids there), with a source's web address next to it: one click to the original;
- an enum code with an underscore (`meer_dan`) is shown as words, the code on hover (every export keeps it);
- the `link` column of a saved question (the search) is shown as a link to the row it names.

`enum_words` is also given to the templates (facets show the words too).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import quote
from weakref import WeakKeyDictionary

from datasette import hookimpl
from markupsafe import Markup, escape

from loaders.schema import served_package
from loaders.site import DATABASE
from loaders.views import view_definitions

# value, database, datasette -> what Datasette shows (None: its own rendering), or an awaitable of it.
Renderer = Callable[[Any, str, Any], Any]

# The labels looked up, per Datasette instance (a test process may run several, on different databases), least
# recently used first.
_labels: WeakKeyDictionary[Any, OrderedDict[tuple[str, str, str], tuple[str, str | None] | None]] = WeakKeyDictionary()
LABELS_KEPT = 20_000

ROW_LINK = re.compile(rf"/{re.escape(DATABASE)}/[a-z_]+/[A-Za-z0-9_.~,-]+")


class Reference(NamedTuple):
    """What a single-column foreign key points at: the table, the column that names its rows, and the column the
    key refers to (the target's primary key, or another column the schema names)."""
    target: str
    label_column: str
    key_column: str
    by_primary_key: bool


@cache
def outbound() -> dict[tuple[str, str], Reference]:
    """(table, column) -> what it refers to, for single-column foreign keys."""
    package = served_package()
    result = {}
    for resource in package.resources:
        for fk in resource.foreign_keys:
            if len(fk.fields) == 1:
                target = package.resource(fk.resource)
                key = fk.reference_fields[0]
                result[(resource.name, fk.fields[0])] = Reference(
                    target.name, target.label_column or key, key, list(target.primary_key) == [key])
    return result


@cache
def enum_columns() -> dict[tuple[str, str], frozenset[str]]:
    """(table or view, column) -> its codes, for the columns datapackage.yaml gives an enum and the view columns
    (loaders/views.yaml) that show such a column."""
    package = served_package()
    codes = {(r.name, f.name): frozenset(f.enum) for r in package.resources for f in r.fields if f.enum}
    for view, definition in view_definitions().items():
        for column, ref in definition["columns"].items():
            if isinstance(ref, str) and tuple(ref.split(".", 1)) in codes:
                codes[(view, column)] = codes[tuple(ref.split(".", 1))]  # type: ignore[index]
    return codes


def code_as_words(code: str) -> str:
    """`meer_dan` reads "meer dan", `in_uitvoering` "in uitvoering"."""
    return code.replace("_", " ")


def enum_words(table: str | None, column: str, value: Any) -> str | None:
    """The words for an enum code with an underscore in this table's or view's column; None for any other value."""
    if (isinstance(value, str) and "_" in value and table is not None
            and value in enum_columns().get((table, column), ())):
        return code_as_words(value)
    return None


async def row_label(datasette: Any, reference: Reference, key: str) -> tuple[str, str | None] | None:
    """(label, url or None) of the row the reference `key` names, None when there is none: one lookup by the
    referenced column (indexed: SQLite checks a foreign key only against a key or a unique column), kept per
    Datasette (the database is immutable), at most LABELS_KEPT of them. Not the whole table read at once: at scale
    1000 a table of 2 million rows takes longer than the time limit, so that read failed on every row page that
    refers to one, and the page with it."""
    table = reference.target
    kept = _labels.setdefault(datasette, OrderedDict())
    entry = (table, reference.key_column, key)
    if entry in kept:
        kept.move_to_end(entry)
        return kept[entry]
    url = "url" if table == "sources" else "NULL"
    row = (await datasette.get_database(DATABASE).execute(
        f'select "{reference.label_column}", {url} from "{table}" where "{reference.key_column}" = ? limit 1',
        [key])).first()
    found = (row[0], row[1]) if row is not None else None
    kept[entry] = found
    if len(kept) > LABELS_KEPT:
        kept.popitem(last=False)
    return found


def reference_renderer(reference: Reference) -> Renderer:
    """A reference shown as its label linking to the row (to the rows with that value, when it does not refer to
    the target's key), the value after it, and a source's address."""
    target = reference.target
    def render(value: Any, database: str, datasette: Any) -> Any:
        if database != DATABASE or not isinstance(value, str):
            return None  # on a table page Datasette has already expanded the reference to a label itself

        async def inner() -> Markup | None:
            found = await row_label(datasette, reference, value)
            if found is None:
                return None
            label, url = found
            href = (f"/{DATABASE}/{target}/{quote(value, safe='')}" if reference.by_primary_key
                    else f"/{DATABASE}/{target}?{quote(reference.key_column)}={quote(value, safe='')}")
            html = f'<a href="{escape(href)}">{escape(label)}</a>&nbsp;<em>{escape(value)}</em>'
            if url and url.startswith(("https://", "http://")):
                html += f' (<a href="{escape(url)}" rel="noopener">bron / source</a>)'
            return Markup(html)

        return inner

    return render


def enum_renderer(table: str, column: str) -> Renderer:
    def render(value: Any, database: str, datasette: Any) -> Markup | None:
        words = enum_words(table, column, value)
        if words is None:
            return None
        return Markup(f'<span title="code: {escape(value)}">{escape(words)}</span>')

    return render


def row_link(value: Any, database: str, datasette: Any) -> Markup | None:
    """The search question's `link` column: a path to a row, shown as a link."""
    if isinstance(value, str) and ROW_LINK.fullmatch(value):
        return Markup(f'<a href="{escape(value)}">{escape(value)}</a>')
    return None


@cache
def renderers() -> dict[tuple[str | None, str], Renderer]:
    """(table, column) -> its renderer, for the cells that need one; a saved question's cells have table None."""
    found: dict[tuple[str | None, str], Renderer] = {(None, "link"): row_link}
    for (table, column) in enum_columns():
        found[(table, column)] = enum_renderer(table, column)
    for (table, column), reference in outbound().items():
        # An enum column is never a reference (a code is not a row id): one renderer per cell is enough.
        assert (table, column) not in found, f"{table}.{column} is both an enum and a reference"
        found[(table, column)] = reference_renderer(reference)
    return found


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    render = renderers().get((table, column))
    return None if render is None else render(value, database, datasette)


@hookimpl
def extra_template_vars() -> dict[str, Any]:
    return {"enum_words": enum_words}
