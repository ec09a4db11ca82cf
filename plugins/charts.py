"""/-/charts: saved charts with stable URLs for council reports and web pages.

Each chart is defined once in charts.yml and bound to a canned query. Images are rendered on the server
with vl-convert (no JavaScript, nothing fetched from elsewhere), so they work in Word, in PDF and on an
offline intranet. The database is immutable, so a rendered image is kept per data version.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import hashlib
import json
import math
import re
import textwrap
from typing import Any, NamedTuple
from urllib.parse import urlencode

import vl_convert
from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from sqlite_utils.db import quote_identifier

from loaders import chart_render
from loaders.fingerprint import site_fingerprint
from loaders.publication import licence_label, served_publication
from loaders.schema import PROJECT_ROOT, served_package
from loaders.site import DATABASE
from loaders.yaml_files import load_yaml

CHARTS_FILE = PROJECT_ROOT / "charts.yml"
SLUG = r"(?P<slug>[a-z0-9-]+)"
# The licence as datapackage.yaml states it, the one place it is written.
LICENCE = licence_label(served_package())
LICENCE_URL = served_package().license.get("path", "")
FALLBACK_SOURCE = "Prestatieafspraken volkshuisvesting Het Hogeland (openbare bron per rij)"
# Print quality: 300 PPI, and by default at least 1,800 px wide, which Word inserts 15 cm wide (the text width of
# an A4 page). `?scale=` asks for another multiple of the SVG's size, bounded so one request stays cheap, and
# rounded to a half so that a few images per chart can be asked for: each scale is drawn and kept once, and
# `?scale=1.001`, `1.002`, ... would otherwise be thousands of renders and images in memory.
SCALE_STEP = 0.5
PNG_PPI = 300
PNG_MIN_WIDTH = 1_800
MIN_SCALE, MAX_SCALE = 1.0, 6.0
# The image's source line names the publishers of the drawn rows up to this many characters, then refers to the
# data below the chart, which lists every row with its source.
PUBLISHERS_MAX = 200
MORE_PUBLISHERS = "en andere (zie de gegevens bij de grafiek)"
EMBED_EXTRA_WIDTH = 24  # the embed page's padding around the drawing
MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png", "vl.json": "application/json; charset=utf-8"}
# In the spec itself rather than a conversion option, so the .vl.json renders Dutch numbers anywhere.
CONFIG: dict[str, Any] = {
    "locale": {"number": vl_convert.get_format_locale("nl-NL"),
               "time": vl_convert.get_time_format_locale("nl-NL")},
    "title": {"anchor": "start", "fontSize": 16, "subtitleFontSize": 11, "subtitleColor": "#444444",
              "subtitlePadding": 6, "offset": 12},
    "axis": {"labelFontSize": 11, "titleFontSize": 12},
    "view": {"stroke": None},
}

# (slug, format, data_version) -> rendered bytes; a new data release gets new keys.
_images: dict[tuple[str, str, str], bytes] = {}
# Renders under way, by the same key: a second request for an image being drawn waits for that
# render instead of starting its own (16 requests at once used to start 78 renders).
_rendering: dict[tuple[str, str, str], asyncio.Future[bytes]] = {}
# One render at a time, in a worker process (loaders/chart_render.py): vl-convert keeps a core busy for
# up to a second per chart, and the other core serves the site meanwhile.
RENDER_SLOTS = 1
_render_slots: dict[int, asyncio.Semaphore] = {}
# The data release of each database file: immutable, so read once per process.
_releases: dict[str, tuple[str, str]] = {}


def with_enums(spec: Any, slug: str) -> Any:
    """The spec with every `{enum: table.field}` replaced by that field's values from datapackage.yaml.

    A colour scale's domain or a sort order names the values of a coded column; written as a reference, the list
    exists only in the schema, so a value added there (say a new kind of work) reaches every chart.
    """
    if isinstance(spec, list):
        return [with_enums(item, slug) for item in spec]
    if not isinstance(spec, dict):
        return spec
    if set(spec) == {"enum"}:
        table, _, name = str(spec["enum"]).partition(".")
        try:
            values = served_package().resource(table).field(name).enum
        except KeyError:
            values = ()
        if not values:
            raise ValueError(f"charts.yml: {slug!r}: {{enum: {spec['enum']}}} names no field with an enum list")
        return list(values)
    return {key: with_enums(value, slug) for key, value in spec.items()}


@functools.cache
def charts() -> dict[str, dict[str, Any]]:
    """charts.yml by slug; read once, since it is part of the deployment like metadata.yml."""
    loaded = load_yaml(CHARTS_FILE.read_text(encoding="utf-8"))["charts"]
    for chart in loaded:
        if not re.fullmatch(r"[a-z0-9-]+", chart["slug"]) or "data" in chart["spec"]:
            raise ValueError(f"charts.yml: {chart['slug']!r}: slug must match [a-z0-9-]+ and spec has no data key")
        chart["spec"] = with_enums(chart["spec"], chart["slug"])
    return {chart["slug"]: chart for chart in loaded}


class BoundChart(NamedTuple):
    """A chart with its query rows and the data release they come from."""

    chart: dict[str, Any]
    rows: list[dict[str, Any]]
    sources: list[tuple[str, str]]  # distinct (publisher, url), in row order
    data_version: str
    built_on: str
    params: tuple[tuple[str, str], ...] = ()  # the query parameters the URL set, e.g. (("municipality", "..."),)
    release: str = ""  # release_key(): what a drawn image is cached under

    @property
    def slug(self) -> str:
        return str(self.chart["slug"])

    @property
    def key(self) -> str:
        """The slug and the parameters: one cached image per chart and parameter value."""
        return chart_key(self.slug, dict(self.params))

    @property
    def source_line(self) -> str:
        # A query without source columns still rests on this dataset, whose rows each cite a source.
        publishers = ", ".join(dict.fromkeys(p for p, _ in self.sources if p)) or FALLBACK_SOURCE
        return f"Bron: {shortened(publishers)} · data {self.data_version} ({self.built_on}) · {LICENCE}"

    def spec(self) -> dict[str, Any]:
        """The Vega-Lite spec with the rows, title and source line inlined: it renders on its own."""
        subtitle = textwrap.wrap(self.chart.get("note", ""), 90) + textwrap.wrap(self.source_line, 90)
        spec = copy.deepcopy(self.chart["spec"])
        return {
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "title": {"text": " — ".join([self.chart["title"]["nl"], *(v for _, v in self.params)]),
                      "subtitle": subtitle},
            "description": self.chart["alt"]["nl"],
            "background": "white",
            "padding": 12,
            **spec,
            "data": {"values": self.rows},
            "config": {**CONFIG, **spec.get("config", {})},
            "usermeta": {"source": self.source_line, "licence": LICENCE_URL, "data_version": self.data_version},
        }


def shortened(publishers: str) -> str:
    """The publishers as a line of at most PUBLISHERS_MAX characters, cut after a whole name: hundreds of
    publishers (data for every municipality) would make the image's source line taller than the chart itself."""
    if len(publishers) <= PUBLISHERS_MAX:
        return publishers
    cut = publishers.rfind(", ", 0, PUBLISHERS_MAX)
    return f"{publishers[:cut] if cut > 0 else publishers[:PUBLISHERS_MAX]} {MORE_PUBLISHERS}"


def chart_sql(chart: dict[str, Any], sql: str) -> str:
    """The SQL of the rows a chart draws: its saved query's, or, with `top` in charts.yml, only the rows of the
    groups (values of `top.column`) with the largest sum of `top.by` (or the most rows; ties by value): at most
    `top.count` groups, and, with `top.rows`, no more groups than fit in that many rows (the first group always; the
    image's height, and with it the time to draw a 300 ppi PNG, grows with its rows). The rows keep the query's
    order. So a chart stays readable, and quick to draw, with data for every municipality."""
    top = chart.get("top")
    if not top:
        return sql
    column = quote_identifier(top["column"])
    measure = f"sum({quote_identifier(top['by'])})" if top.get("by") else "count(*)"
    fits = f"place = 1 or total <= {int(top['rows'])}" if top.get("rows") else "1"
    return (f"with chart_rows as materialized ({sql.strip().rstrip(';')}\n), "
            f"groups as (select {column} as grp, count(*) as size, {measure} as measure from chart_rows "
            f"group by {column}), "
            "ranked as (select grp, row_number() over win as place, sum(size) over win as total from groups "
            "window win as (order by measure desc, grp rows unbounded preceding)) "
            f"select * from chart_rows where {column} in (select grp from ranked where place <= {int(top['count'])} "
            f"and ({fits}))")


def chart_key(slug: str, params: dict[str, str]) -> str:
    """`slug` or `slug?name=value`: the address suffix of a chart drawn for chosen query parameters."""
    return f"{slug}?{urlencode(sorted(params.items()))}" if params else slug


def url_params(request: Any, names: Any = None) -> dict[str, str]:
    """The non-empty query-string values a chart URL sets (only `names`, when given)."""
    args = {k: request.args.get(k) for k in request.args}
    return {k: v for k, v in args.items() if v and not k.startswith("_") and (names is None or k in names)}


def chart_or_404(slug: str) -> dict[str, Any]:
    chart = charts().get(slug)
    if chart is None:
        raise NotFound(f"Geen grafiek met de naam {slug} / no chart called {slug}")
    return chart


async def data_release(datasette: Any) -> tuple[str, str]:
    """(data_version, build date) from build_info: part of every cache key and source line."""
    db = datasette.get_database(DATABASE)
    if db.path not in _releases:
        rows = await db.execute("select key, value from build_info where key in ('data_version', 'built_at')")
        info = {row["key"]: row["value"] for row in rows}
        _releases[db.path] = (info["data_version"], info["built_at"][:10])
    return _releases[db.path]


async def release_key(datasette: Any) -> str:
    """The data version and the digest of the whole build (loaders/fingerprint.py): a drawn image and its ETag
    change with either, so a changed saved query or chart after a rebuild is a new image, never an old 304."""
    return f"{(await data_release(datasette))[0]}-{site_fingerprint(datasette)}"


async def bind(datasette: Any, request: Any, slug: str) -> BoundChart:
    """Run the chart's canned query as the visitor, with the same permissions as its own page."""
    chart = chart_or_404(slug)
    name = chart["query"]
    await datasette.ensure_permissions(
        request.actor, [("view-query", (DATABASE, name)), ("view-database", DATABASE), "view-instance"])
    query = await datasette.get_canned_query(DATABASE, name, request.actor)
    if query is None:
        raise NotFound(f"Opgeslagen query {name} bestaat niet / saved query {name} does not exist")
    params = {param: "" for param in query.get("params", [])}  # empty parameters match everything
    db = datasette.get_database(DATABASE)
    # A URL may narrow the chart with the query's own parameters (?municipality=...), to a value its rows
    # hold, as written, in the column of that name: one definition for every municipality, and a bounded
    # number of images to cache. Only the narrowed rows are read.
    chosen = url_params(request, params)
    rows = [dict(row) for row in (await db.execute(chart_sql(chart, query["sql"]), {**params, **chosen})).rows]
    for name, value in chosen.items():
        if value not in {str(row.get(name)) for row in rows}:
            raise NotFound(f"Geen gegevens voor {name}={value} / no data for {name}={value}")
    sources = list(dict.fromkeys((row.get("source_publisher") or "", row.get("source_url") or "")
                                 for row in rows if row.get("source_publisher") or row.get("source_url")))
    return BoundChart(chart, rows, sources, *await data_release(datasette), tuple(sorted(chosen.items())),
                      await release_key(datasette))


def png_scale(svg_width: int, asked: str | None) -> float:
    """How many image pixels per SVG pixel: asked (bounded, in steps of SCALE_STEP), else just enough for
    PNG_MIN_WIDTH."""
    default = round(min(max((PNG_MIN_WIDTH + 1) / max(svg_width, 1), MIN_SCALE), MAX_SCALE), 3)
    try:
        scale = float(asked) if asked else default
    except ValueError:
        return default
    if scale != scale:  # NaN
        return MIN_SCALE
    scale = min(max(scale, MIN_SCALE), MAX_SCALE)
    return round(scale / SCALE_STEP) * SCALE_STEP if asked else scale


def cached_image(key: str, fmt: str, release: str) -> bytes | None:
    """A drawn image by chart key (slug, with its URL parameters if any), format and release_key()."""
    return _images.get((key, fmt, release))


async def render(bound: BoundChart, fmt: str) -> tuple[bytes, bool]:
    """The image bytes and whether they came from the cache; never fetches a URL."""
    key = (bound.key, fmt, bound.release)
    if key in _images:
        return _images[key], True
    if key in _rendering:
        return await asyncio.shield(_rendering[key]), True
    future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    _rendering[key] = future
    try:
        slots = _render_slots.setdefault(id(asyncio.get_running_loop()), asyncio.Semaphore(RENDER_SLOTS))
        async with slots:
            # "png@2.5": a PNG at 2.5 image pixels per SVG pixel (vl-convert multiplies scale by ppi/72)
            kind, _, scale = fmt.partition("@")
            image = await chart_render.render(bound.spec(), kind, float(scale or 1) * 72 / PNG_PPI, PNG_PPI)
        _images[key] = image
        future.set_result(image)
    except BaseException as error:
        future.set_exception(error)
        future.exception()  # retrieved here, so a render nobody else waited for logs no warning
        raise
    finally:
        del _rendering[key]
    return image, False


def svg_size(svg: bytes) -> tuple[int, int]:
    match = re.search(rb'<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"', svg)
    return (round(float(match[1])), round(float(match[2]))) if match else (640, 400)


async def gallery(datasette: Any, request: Any) -> Response:
    html = await datasette.render_template(
        "charts_gallery.html", {"charts": list(charts().values())}, request=request)
    return Response.html(html)


def embed_height(bound: BoundChart, width: int, height: int) -> int:
    """Height for the iframe of the embed page: padding, title and source line (wrapped at the frame's width,
    with a line to spare, since fonts differ between browsers) around the drawing."""
    text_width = width + EMBED_EXTRA_WIDTH - 16
    title_lines = math.ceil(len(bound.chart["title"]["nl"]) * 9 / text_width)
    source = f"{bound.source_line} — licentie {LICENCE}"
    source_lines = math.ceil(len(source) * 7.5 / text_width) + 1
    return 16 + title_lines * 20 + 6 + height + 10 + source_lines * 17


async def chart_page(datasette: Any, request: Any) -> Response:
    bound = await bind(datasette, request, request.url_vars["slug"])
    width, height = svg_size((await render(bound, "svg"))[0])
    query = bound.chart["query"]
    base = f"/-/charts/{bound.slug}"
    qs = f"?{urlencode(bound.params)}" if bound.params else ""
    chart_urls = {
        "svg": f"{base}.svg{qs}", "png": f"{base}.png{qs}", "spec": f"{base}.vl.json{qs}",
        "embed": f"{base}/embed{qs}", "query": f"/{DATABASE}/{query}{qs}", "csv": f"/{DATABASE}/{query}.csv{qs}",
        "json": f"/{DATABASE}/{query}.json?_shape=array" + (f"&{urlencode(bound.params)}" if bound.params else ""),
    }
    context = {
        "chart": bound.chart, "bound": bound, "chart_urls": chart_urls, "width": width, "height": height,
        "columns": list(bound.rows[0]) if bound.rows else [], "licence": LICENCE, "licence_url": LICENCE_URL,
        # The configured address of the site (publication.yaml or PRESTATIEAFSPRAKEN_BASE_URL), never the
        # request's Host: a snippet pasted into a council document must point at the published site.
        "png_url": served_publication().url(chart_urls["png"]),
        "embed_url": served_publication().url(chart_urls["embed"]),
        "embed_width": width + EMBED_EXTRA_WIDTH, "embed_height": embed_height(bound, width, height),
    }
    return Response.html(await datasette.render_template("chart.html", context, request=request))


async def embed_page(datasette: Any, request: Any) -> Response:
    bound = await bind(datasette, request, request.url_vars["slug"])
    svg, _ = await render(bound, "svg")
    context = {"chart": bound.chart, "bound": bound, "svg": svg.decode("utf-8"),
               "licence": LICENCE, "licence_url": LICENCE_URL}
    return Response.html(await datasette.render_template("chart_embed.html", context, request=request))


async def chart_file(datasette: Any, request: Any) -> Response:
    """SVG, PNG or the Vega-Lite spec, cacheable for a day and revalidated by data version. Inline for an <img>;
    `?download=1` makes it a file to save (Content-Disposition: attachment)."""
    slug, fmt = request.url_vars["slug"], request.url_vars["fmt"]
    chart_or_404(slug)
    # The chart's own definition is part of the tag: a new title in charts.yml is a new image; so are the
    # URL's query parameters (?municipality=...): one image per value, and the PNG's scale.
    definition = hashlib.sha256(json.dumps(charts()[slug], sort_keys=True).encode()).hexdigest()[:8]
    query = await datasette.get_canned_query(DATABASE, charts()[slug]["query"], request.actor)
    # Only the query's own parameters choose an image; `scale`, `download` or anything else do not.
    key = chart_key(slug, url_params(request, (query or {}).get("params", [])))
    extension = fmt
    if fmt == "png":
        svg = cached_image(key, "svg", await release_key(datasette))
        if svg is None:
            svg = (await render(await bind(datasette, request, slug), "svg"))[0]
        fmt = f"png@{png_scale(svg_size(svg)[0], request.args.get('scale'))}"
    etag = f'"{await release_key(datasette)}-{key}-{definition}-{fmt}"'
    headers = {"Cache-Control": "public, max-age=86400", "ETag": etag}
    if request.args.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{slug}.{extension}"'
    if request.headers.get("if-none-match") == etag:
        return Response("", status=304, headers=headers)
    cached = cached_image(key, fmt, await release_key(datasette)) if fmt != "vl.json" else None
    if cached is not None:
        # Permissions are still checked, but a drawn image needs no query: static-file speed.
        await datasette.ensure_permissions(request.actor, [("view-query", (DATABASE, charts()[slug]["query"])),
                                                           ("view-database", DATABASE), "view-instance"])
        headers["X-Chart-Cache"] = "hit"
        return Response(cached, headers=headers, content_type=MEDIA_TYPES[extension])
    bound = await bind(datasette, request, slug)
    if fmt == "vl.json":
        body = json.dumps(bound.spec(), ensure_ascii=False, indent=2).encode("utf-8")
    else:
        body, hit = await render(bound, fmt)
        headers["X-Chart-Cache"] = "hit" if hit else "miss"
    return Response(body, headers=headers, content_type=MEDIA_TYPES[extension])


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [
        (r"^/-/charts$", gallery),
        (rf"^/-/charts/{SLUG}$", chart_page),
        (rf"^/-/charts/{SLUG}/embed$", embed_page),
        (rf"^/-/charts/{SLUG}\.(?P<fmt>svg|png|vl\.json)$", chart_file),
    ]


@hookimpl
def menu_links() -> list[dict[str, str]]:
    return [{"href": "/-/charts", "label": "Grafieken / Charts"}]
