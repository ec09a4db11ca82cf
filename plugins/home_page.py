"""What the home page needs beyond Datasette's own: coverage gaps, saved queries, row counts and downloads."""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

from loaders.chart_rows import served_charts_by_query
from loaders.datapackage_zip import ZIP_NAME
from loaders.publication import licence_label
from loaders.queries import served_queries
from loaders.schema import served_package
from loaders.site import DATABASE

GAPS_SHOWN = 30


async def home_vars(datasette: Any) -> dict[str, Any]:
    if DATABASE not in datasette.databases:
        return {}
    db = datasette.get_database(DATABASE)
    # The first gaps only: with every municipality in the data they run into the tens of thousands, and the full
    # list is one click away (missing_per_municipality, per municipality from the table above it).
    gaps = await db.execute(
        "select d.municipality, d.title as document, d.period_start as year, c.part_nl, c.part_en, c.status "
        "from coverage c join documents d on d.id = c.document_id where c.status <> 'opgenomen' "
        f"order by d.municipality, d.period_start desc, d.id, c.status desc, c.id limit {GAPS_SHOWN}")
    gaps_total = (await db.execute("select count(*) from coverage where status <> 'opgenomen'")).single_value()
    # One line per municipality with agreements: what the data hold and what is missing there.
    municipalities = await db.execute(
        "select d.municipality, count(*) as documents, min(d.period_start) as first_year, "
        "max(coalesce(d.period_end, d.period_start)) as last_year, "
        "(select count(*) from agreements a join documents x on x.id = a.document_id "
        " where x.municipality = d.municipality) as agreements, "
        "(select count(*) from coverage c join documents x on x.id = c.document_id "
        " where x.municipality = d.municipality and c.status = 'ontbreekt') as missing, "
        "(select count(*) from coverage c join documents x on x.id = c.document_id "
        " where x.municipality = d.municipality and c.status = 'gedeeltelijk') as partial, "
        "exists (select 1 from documents y where y.municipality = d.municipality and y.kind = 'prestatieafspraken' "
        " and y.period_start <= 2024 and coalesce(y.period_end, y.period_start) >= 2024) as has_2024 "
        "from documents d where d.id in (select document_id from agreement_documents) "
        "group by d.municipality order by d.municipality")
    counts = await db.execute("select substr(key, 6) as name, cast(value as integer) as rows from build_info "
                              "where key like 'rows.%' order by key")
    # From queries/ as loaded for the build, not from Datasette's metadata API, which Datasette 1.0 changes.
    queries = served_queries()
    # A question that is also drawn as a chart (charts.yml) links to its chart page as well.
    charted = served_charts_by_query()
    return {
        "home": {
            "gaps": [dict(r) for r in gaps.rows],
            "gaps_total": gaps_total,
            "municipalities": [dict(r) for r in municipalities.rows],
            "counts": [dict(r) for r in counts.rows],
            "queries": [{"name": name, "title": q.get("title", name), "chart": (charted.get(name) or {}).get("slug")}
                        for name, q in queries.items()],
            "zip_name": ZIP_NAME,
            "database": DATABASE,
            "licence": licence_label(served_package()),
            "licence_url": served_package().license.get("path", ""),
        }
    }


@hookimpl
def extra_template_vars(template: str, datasette: Any) -> Any:
    if template != "index.html":
        return None

    async def inner() -> dict[str, Any]:
        return await home_vars(datasette)

    return inner
