"""Error answers that cost little and help: the right status, a short message, one log line.

Datasette's own handler prints a traceback with every local variable through `rich` (installed with
frictionless) for every error, a 404 included: 1-2 s of blocked event loop each, which let a flood of
bad requests starve the site, and on some paths rich itself raised and uvicorn answered a bare 500.
This handler replaces it: user mistakes are 4xx with Datasette's message, anything else is logged as
one line (type and message, no locals) and answered with the site's own generic 500 page, which never
shows the exception text.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.plugins import pm
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup

from loaders.schema import PROJECT_ROOT

log = logging.getLogger("prestatieafspraken.errors")
# What Datasette raises when a URL parameter cannot be read or bound: the visitor's mistake, so a 400.
DATASETTE_PARSERS = ("/datasette/filters.py", "/datasette/facets.py", "/datasette/database.py")
PARAMETER_ERRORS = (ValueError, TypeError, KeyError, OverflowError, json.JSONDecodeError, sqlite3.Error)

# Datasette awaits every handle_exception hook, its default one included, so replacing it means removing it.
if pm.has_plugin("datasette.handle_exception"):
    pm.unregister(name="datasette.handle_exception")

TOO_LONG = ("De zoekopdracht duurde te lang en is afgebroken. Maak de vraag kleiner of probeer het later opnieuw. "
            "/ The query took too long and was stopped.")
BAD_PARAMETER = ("Een parameter in het adres heeft een ongeldige waarde. "
                 "/ A parameter in the address has a value that cannot be read.")
GENERIC = ("Er ging iets mis aan onze kant. Probeer het later opnieuw. "
           "/ Something went wrong on our side. Please try again later.")


def classify(exception: BaseException) -> tuple[int, str, str | None]:
    """(status, message, title) for an exception; the message is safe to show."""
    if isinstance(exception, Base400):
        return exception.status, str(exception.args[0]) if exception.args else "", None
    if isinstance(exception, QueryInterrupted):  # the CSV view lets it through unwrapped
        return 400, TOO_LONG, "SQL Interrupted"
    if isinstance(exception, DatasetteError):
        if exception.title == "SQL Interrupted":
            # Datasette's own message carries an inline script, which the CSP forbids.
            return 400, TOO_LONG, exception.title
        message = Markup(exception.message) if exception.message_is_html else exception.message
        # Datasette raises DatasetteError without a status (so 500) only for what the visitor asked:
        # an unknown sort column, a bad _through, SQL that SQLite refuses.
        return (400 if exception.status >= 500 else exception.status), message, exception.title
    if isinstance(exception, PARAMETER_ERRORS) and _raised_reading_parameters(exception):
        # e.g. `?_timelimit=abc`, `?id__in=[`, `?rowid__lt=99999999999999999999`, `?_next=<huge>`:
        # Datasette turns URL parameters into Python values and SQL without checking every case.
        return 400, BAD_PARAMETER, None
    return 500, GENERIC, None


def _raised_reading_parameters(exception: BaseException) -> bool:
    """Whether Datasette's own request handling raised it (views, filters, facets, its helpers), which is
    where URL parameters are parsed and bound, rather than a plugin of ours or the server."""
    tb = exception.__traceback__
    files = []
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    in_datasette = any("/datasette/views/" in f or f.endswith(DATASETTE_PARSERS) for f in files)
    ours = (str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT / "loaders"))
    return in_datasette and not files[-1].startswith(ours)


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: BaseException) -> Any:
    async def inner() -> Response:
        if type(exception).__name__ == "ClientDisconnected":
            raise exception  # nobody to answer; plugins/admission.py ends the request quietly
        status, message, title = classify(exception)
        if message is BAD_PARAMETER:
            log.info("400 on %s: %s: %s", request.path, type(exception).__name__, str(exception)[:200])
        if status >= 500:
            log.error("500 on %s: %s: %s", request.path, type(exception).__name__, str(exception)[:300])
        info = {"ok": False, "error": message, "status": status, "title": title}
        if request.path.endswith(".json"):
            return Response.json(info, status=status)
        html = await datasette.render_template(["error.html"], {**info}, request=request)
        return Response.html(html, status=status)

    return inner
