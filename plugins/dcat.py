"""/-/dcat.jsonld and /-/dcat.ttl: the DCAT-AP-NL description of the dataset for open-data portals."""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from loaders.dcat import dcat_document
from loaders.schema import PROJECT_ROOT, Package
from loaders.site import DATABASE


async def document(datasette: Any, request: Any) -> dict[str, Any]:
    db = datasette.get_database(DATABASE)
    info = {r["key"]: r["value"] for r in await db.execute("select key, value from build_info")}
    years = (await db.execute("select min(period_start), max(coalesce(period_end, period_start)) "
                              "from documents")).first()
    base = f"{request.scheme}://{request.host}"
    return dcat_document(Package.load(PROJECT_ROOT), base, info, (years[0], years[1]) if years[0] else None)


async def jsonld(datasette: Any, request: Any) -> Response:
    body = json.dumps(await document(datasette, request), ensure_ascii=False, indent=2)
    return Response(body, content_type="application/ld+json; charset=utf-8",
                    headers={"access-control-allow-origin": "*"})


async def turtle(datasette: Any, request: Any) -> Response:
    from rdflib import Graph

    graph = Graph().parse(data=json.dumps(await document(datasette, request)), format="json-ld")
    return Response(graph.serialize(format="turtle"), content_type="text/turtle; charset=utf-8",
                    headers={"access-control-allow-origin": "*"})


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/dcat\.jsonld$", jsonld), (r"^/-/dcat\.ttl$", turtle)]
