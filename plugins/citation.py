"""The dataset's citation on the home page, in the one wording of loaders/publication.py, with the data
version of the database being served and the configured base URL (never the request's host); and on a row
page "Citeer deze rij": the row's label and table, the dataset, its data version, the row's permanent URL on
the configured base URL, the date retrieved, and the public source the row cites."""

from __future__ import annotations

import datetime
from typing import Any
from weakref import WeakKeyDictionary

from datasette import hookimpl
from datasette.utils import urlsafe_components

from loaders.publication import citation, served_publication
from loaders.schema import served_package
from loaders.site import DATABASE

# The data version of each Datasette's database, read once (the database is immutable while it is served).
_versions: WeakKeyDictionary[Any, str | None] = WeakKeyDictionary()


async def data_version(datasette: Any) -> str | None:
    if datasette not in _versions:
        rows = await datasette.get_database(DATABASE).execute(
            "select value from build_info where key = 'data_version'")
        _versions[datasette] = rows.first()[0] if rows.rows else None
    return _versions[datasette]


async def citation_vars(datasette: Any) -> dict[str, Any]:
    if DATABASE not in datasette.databases:
        return {}
    version = await data_version(datasette)
    publication = served_publication()
    return {"citation": {"text": citation(served_package(), publication, version,
                                          publication.landing_page)}}


def read_row_and_source(conn: Any, table: str, primary_key: tuple[str, ...],
                        values: list[str]) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The row and the source it cites, read in one trip to a SQL thread (the page already runs three)."""
    where = " and ".join(f"[{k}] = ?" for k in primary_key)
    cursor = conn.execute(f"select * from [{table}] where {where}", values)
    found = cursor.fetchone()
    if found is None:
        return None
    row = dict(zip([d[0] for d in cursor.description], found, strict=True))
    if row.get("source_id") is None:
        return row, None
    cursor = conn.execute("select id, title, publisher, published_on, url from sources where id = ?",
                          [row["source_id"]])
    source = cursor.fetchone()
    return row, dict(zip([d[0] for d in cursor.description], source, strict=True)) if source else None


async def row_citation(datasette: Any, request: Any, table: str, row: dict[str, Any],
                       source: dict[str, Any] | None) -> dict[str, Any]:
    package = served_package()
    resource = next((r for r in package.resources if r.name == table), None)
    if resource is None:
        return {}
    version = await data_version(datasette)
    label = str(row.get(resource.label_column) or "") if resource.label_column else ""
    key = ", ".join(str(row.get(k)) for k in resource.primary_key)
    publication = served_publication()
    info = {
        "label": label or key,
        "table": resource.title.split(" / ")[0],
        "key": key,
        "dataset": package.title,
        "publisher": publication.publisher,
        "version": version or "",
        "url": publication.url(request.path),
        "retrieved": datetime.date.today().isoformat(),
        "source": source,
    }
    text = (f"{info['publisher']}, “{info['dataset']}”, tabel {info['table']}, rij “{info['label']}” ({key}), "
            f"dataversie {info['version']}, {info['url']}, geraadpleegd op {info['retrieved']}.")
    if source:
        text += (f" Bron van deze rij: {source['publisher']}, “{source['title']}”"
                 f"{', ' + str(source['published_on']) if source.get('published_on') else ''}, {source['url']}.")
    return {**info, "text": text}


@hookimpl
def extra_template_vars(template: str, datasette: Any, request: Any, view_name: str) -> Any:
    if template == "row.html" and request is not None:
        async def for_row() -> dict[str, Any]:
            table = (request.url_vars or {}).get("table", "")
            db = datasette.get_database(DATABASE)
            resource = next((r for r in served_package().resources if r.name == table), None)
            if resource is None:
                return {}
            pks = (request.url_vars or {}).get("pks", "")
            values = urlsafe_components(pks)
            if len(values) != len(resource.primary_key):
                return {}
            found = await db.execute_fn(lambda conn: read_row_and_source(conn, table, resource.primary_key, values))
            if found is None:
                return {}
            return {"row_citation": await row_citation(datasette, request, table, *found)}

        return for_row
    if template != "index.html":
        return None

    async def inner() -> dict[str, Any]:
        return await citation_vars(datasette)

    return inner
