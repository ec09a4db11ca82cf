"""/-/datamodel: every table, view and column with its Dutch label and description, straight from the schema."""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from loaders.schema import served_package
from loaders.views import column_descriptions, column_labels, view_definitions


async def datamodel(datasette: Any, request: Any) -> Response:
    package = served_package()
    views = [
        {"name": name, "title": view["title"], "description_nl": view["description_nl"],
         "description_en": view["description_en"], "columns": column_descriptions(package, name),
         "labels": column_labels(package, name)}
        for name, view in view_definitions().items()
    ]
    html = await datasette.render_template(
        "datamodel.html", {"package": package, "views": views}, request=request
    )
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/-/datamodel$", datamodel)]
