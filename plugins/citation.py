"""The dataset's citation on the home page, in the one wording of loaders/publication.py, with the data
version of the database being served and the configured base URL (never the request's host)."""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

from loaders.publication import Publication, citation
from loaders.schema import PROJECT_ROOT, Package
from loaders.site import DATABASE


async def citation_vars(datasette: Any) -> dict[str, Any]:
    if DATABASE not in datasette.databases:
        return {}
    rows = await datasette.get_database(DATABASE).execute(
        "select value from build_info where key = 'data_version'")
    version = rows.first()[0] if rows.rows else None
    publication = Publication.load(PROJECT_ROOT)
    return {"citation": {"text": citation(Package.load(PROJECT_ROOT), publication, version,
                                          publication.landing_page)}}


@hookimpl
def extra_template_vars(template: str, datasette: Any) -> Any:
    if template != "index.html":
        return None

    async def inner() -> dict[str, Any]:
        return await citation_vars(datasette)

    return inner
