"""/-/dcat.jsonld and /-/dcat.ttl: the DCAT-AP-NL description of the dataset for open-data portals.

Every URI in it starts with the configured base URL (publication.yaml or PRESTATIEAFSPRAKEN_BASE_URL),
never with the request's Host or X-Forwarded-Host, so the description is the same for every visitor
and a portal harvests stable identifiers.
"""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from loaders.dcat import dcat_document
from loaders.publication import served_publication
from loaders.schema import served_package
from loaders.site import DATABASE


async def document(datasette: Any) -> dict[str, Any]:
    db = datasette.get_database(DATABASE)
    info = {r["key"]: r["value"] for r in await db.execute("select key, value from build_info")}
    years = (await db.execute("select min(period_start), max(coalesce(period_end, period_start)) "
                              "from documents")).first()
    return dcat_document(served_package(), served_publication(), info,
                         (years[0], years[1]) if years[0] else None)


async def jsonld(datasette: Any, request: Any) -> Response:
    body = json.dumps(await document(datasette), ensure_ascii=False, indent=2)
    return Response(body, content_type="application/ld+json; charset=utf-8",
                    headers={"access-control-allow-origin": "*"})


async def turtle(datasette: Any, request: Any) -> Response:
    from rdflib import Graph

    graph = Graph().parse(data=json.dumps(await document(datasette)), format="json-ld")
    return Response(graph.serialize(format="turtle"), content_type="text/turtle; charset=utf-8",
                    headers={"access-control-allow-origin": "*"})


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/dcat\.jsonld$", jsonld), (r"^/-/dcat\.ttl$", turtle)]
