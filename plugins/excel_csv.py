"""The `.excel` output format: a CSV that Dutch Excel opens correctly with a double click.

Datasette's own CSV (UTF-8 without BOM, commas, points as decimal separator) opens in
Dutch Excel as one column with broken ë/ï, and a text cell starting with `=` runs as a
formula. This format writes UTF-8 with a BOM, semicolons, CRLF and decimal commas, turns
would-be formulas into text (OWASP CSV injection advice), and streams every row of the
table, view or query, not just the first page: it re-runs the page's SQL page by page
through Datasette, so the SQL time limit applies to every page and memory stays bounded.
The plain `.csv` is unchanged.
"""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils import escape_sqlite, path_with_removed_args
from datasette.utils.asgi import Response

EXTENSION = "excel"
CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
# Excel and LibreOffice treat a cell starting with one of these as a formula (or as the
# start of one); OWASP's advice is to prefix such text with an apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
AFTER_PARAM = "excel_csv_after"  # no leading underscore: Datasette reserves those for magic parameters
TRAILING_LIMIT = re.compile(r"\s+limit\s+\d+(?:\s+offset\s+\d+)?\s*$", re.IGNORECASE)

log = logging.getLogger(__name__)


def excel_cell(value: Any) -> str:
    """One SQLite value as the text Dutch Excel reads back as the same value."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return str(int(value))
    if isinstance(value, float):
        return repr(value).replace(".", ",")  # repr: shortest exact form, never thousands separators
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> str:
    """Rows as semicolon-separated, CRLF-terminated CSV text, quoted where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if header is not None:
        writer.writerow([excel_cell(name) for name in header])
    writer.writerows([excel_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def download_name(database: str, name: str | None) -> str:
    """`prestatieafspraken-<table or query>.csv`, reduced to characters safe in any header and file system."""
    stem = f"{database}-{name or 'query'}"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "export"
    return f"{stem[:120]}.csv"


class Pager:
    """How to fetch the rows of one page's query again, a page at a time.

    Plain tables sorted by their single key page by key (each page is an index seek);
    everything else pages by offset around the query, so its own order and limit stay.
    (A plain class: Datasette loads plugins without registering them in sys.modules,
    which @dataclass needs.)
    """

    def __init__(self, sql: str, params: dict[str, Any], page_size: int,
                 key_index: int | None = None, key_sql: str | None = None) -> None:
        self.sql = sql
        self.params = params
        self.page_size = page_size
        self.key_index = key_index
        self.key_sql = key_sql
        self.offset = 0
        self.after: Any = None
        self.done = False

    def next_query(self) -> tuple[str, dict[str, Any]]:
        if self.key_sql is not None and self.offset > 0:
            return self.key_sql, {**self.params, AFTER_PARAM: self.after}
        if self.key_sql is not None:
            return self.sql, self.params
        return f"{self.sql} limit {self.page_size} offset {self.offset}", self.params

    def advance(self, rows: Sequence[Sequence[Any]]) -> None:
        self.offset += len(rows)
        if self.key_index is not None and rows:
            self.after = rows[-1][self.key_index]
        self.done = len(rows) < self.page_size


def make_pager(data: dict[str, Any], request: Any, page_size: int) -> Pager:
    """Turn the SQL Datasette ran for the page (first page only) into SQL for all rows."""
    sql: str = data["query"]["sql"]
    params = dict(data["query"].get("params") or {})
    table = data.get("table")
    if not table:
        # Saved or arbitrary query: run it as it is, as a subquery. The newline ends a
        # trailing -- comment; a trailing semicolon is not allowed inside brackets.
        inner = sql.strip().rstrip(";").rstrip()
        return Pager(f"select * from (\n{inner}\n)", params, page_size)
    # Table or view page: Datasette appended `limit <page size + 1>` (and an offset on a
    # view's later pages); drop it, keep the filters and the sort.
    inner = TRAILING_LIMIT.sub("", sql)
    columns = list(data.get("columns") or [])
    pks = list(data.get("primary_keys") or [])
    key = pks[0] if len(pks) == 1 else ("rowid" if not pks and not data.get("is_view") else None)
    order = f" order by {escape_sqlite(key)}" if key else None
    sorted_by_user = "_sort" in request.args or "_sort_desc" in request.args
    if key and order and not sorted_by_user and inner.endswith(order) and key in columns:
        base = inner[: -len(order)]
        quoted = escape_sqlite(key)
        first = f"{inner} limit {page_size}"
        more = f"select * from ({base}) where {quoted} > :{AFTER_PARAM} order by {quoted} limit {page_size}"
        return Pager(first, params, page_size, key_index=columns.index(key), key_sql=more)
    return Pager(f"select * from ({inner})", params, page_size)


class CsvStream(Response):
    """A Response whose body is sent page by page, so a large export never sits in memory.

    The first page is fetched before the response starts, so a bad query or a time-out
    still gets a proper error status. A failure on a later page cannot change the status
    any more: the stream then stops without its final message, so the client (browser,
    curl) reports a broken download instead of saving a silently truncated file.
    """

    def __init__(self, first: bytes, rest: Callable[[], AsyncIterator[bytes]], headers: dict[str, str]) -> None:
        super().__init__(b"", status=200, headers=headers, content_type=CONTENT_TYPE)
        self.first = first
        self.rest = rest

    async def asgi_send(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-type"}
        headers["content-type"] = self.content_type
        raw = [[k.encode("latin-1"), v.encode("latin-1")] for k, v in headers.items()]
        raw += [[b"set-cookie", c.encode("latin-1")] for c in self._set_cookie_headers]
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.first, "more_body": True})
        try:
            async for chunk in self.rest():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (QueryInterrupted, sqlite3.DatabaseError) as error:
            log.warning("excel export stopped after the first rows: %s", error)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def error_response(message: str, status: int = 400) -> Response:
    """A short plain-text error in both languages; never a traceback."""
    return Response.text(f"Excel-export mislukt / Excel export failed: {message}\n", status=status)


async def render_excel(datasette: Any, request: Any, database: str, data: dict[str, Any]) -> Response:
    """Re-run the page's query for all its rows and stream them as Excel-ready CSV."""
    if data.get("error"):
        return error_response(str(data["error"]))
    if request.args.get("_next"):
        # A later page still exports everything that matches the filters.
        return Response.redirect(path_with_removed_args(request, {"_next"}))
    if not (data.get("query") or {}).get("sql"):
        return error_response("deze pagina heeft geen zoekopdracht / this page has no query", 404)
    db = datasette.get_database(database)
    pager = make_pager(data, request, max(1, datasette.max_returned_rows))
    if data.get("query_name"):
        # Saved queries may use magic parameters such as :_actor_id, resolved per request.
        from datasette.views.database import MagicParameters

        pager.params = MagicParameters(pager.params, request, datasette)
    time_limit = request.args.get("_timelimit")
    limit = int(time_limit) if time_limit and time_limit.isdigit() else None

    async def fetch() -> list[Any]:
        sql, params = pager.next_query()
        rows = (await db.execute(sql, params, custom_time_limit=limit, log_sql_errors=False)).rows
        pager.advance(rows)
        return rows

    try:
        sql, params = pager.next_query()
        results = await db.execute(sql, params, custom_time_limit=limit, log_sql_errors=False)
    except QueryInterrupted:
        return error_response("de zoekopdracht duurde te lang / the query took too long", 400)
    except sqlite3.DatabaseError as error:
        return error_response(str(error), 400)
    pager.advance(results.rows)
    header = list(data.get("columns") or [])
    if len(header) != len(results.columns):
        header = list(results.columns)
    first = (BOM + csv_lines(results.rows, header)).encode("utf-8")

    async def rest() -> AsyncIterator[bytes]:
        while not pager.done:
            rows = await fetch()
            if rows:
                yield csv_lines(rows).encode("utf-8")

    name = data.get("table") or data.get("query_name")
    headers = {"content-disposition": f'attachment; filename="{download_name(database, name)}"'}
    return CsvStream(first, rest, headers)


@hookimpl
def register_output_renderer(datasette: Any) -> dict[str, Any]:
    return {
        "extension": EXTENSION,
        "render": render_excel,
        # Only pages that ran a query (tables, views, queries); not single-row pages.
        "can_render": lambda sql: bool(sql),
    }
