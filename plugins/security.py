"""Security for a public, read-only site: the outermost layer around everything else.

- GET, HEAD and OPTIONS only: anything else gets a clean 405 (Datasette 0.65 answers a
  POST to a read-only saved query with a 500 and a traceback in the log).
- Requests of a shape no page produces are refused before any work: a target that is not a
  path (absolute-form, `..` segments, empty segments such as `/-//threads`), over-long paths
  and query strings (414), too many parameters, and more `_facet` parameters than a page offers
  (each facet is a query of its own: 300 of them kept one request busy for 15 s).
- Every response carries the security headers, error responses included; an exception that
  escapes every other layer is answered with the generic error page, never uvicorn's bare 500.
- Content-Security-Policy: nothing from another origin, and no script that is not a file of this
  site, except the few fixed inline scripts in Datasette's own templates, allowed by their hash
  (see inline_script_hashes). No 'unsafe-inline' and no 'unsafe-eval' for scripts.
- Only chart embed pages may be framed, by any site; every other page by none.
- Debug pages that reveal threads or file paths are not served, and a server error never shows
  its message, which could hold a path or a stack trace.

The order of the layers around Datasette is fixed by hook priority, not by the order of files:
this wrapper is `trylast` (outermost), plugins/admission.py is `tryfirst` (innermost, next to
Datasette), and the caching and compression layers sit between them in any order, since each
stands on its own.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import datasette as datasette_package
from datasette import hookimpl
from datasette.utils.asgi import Request

from loaders.site import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("prestatieafspraken.security")

ALLOWED_METHODS = {"GET", "HEAD", "OPTIONS"}
EMBED_PATH = re.compile(r"^/-/charts/[a-z0-9-]+/embed$")
# Why not datasette-block (0.1.1, unchanged since 2021): it reads its prefixes from metadata-held plugin
# configuration, which Datasette 1.0 moves, and blocks by prefix only, not these exact pages with or without .json.
HIDDEN_PATHS = re.compile(r"^/-/(threads|databases|permissions|allow-debug|messages|actor)(\.json)?$")
MAX_PATH_BYTES = 2_048
MAX_QUERY_BYTES = 16_384  # a long saved-query URL with its SQL fits in a few kB
MAX_PARAMETERS = 64
MAX_FACETS = 10  # more than any table declares
FACET_PARAMETERS = ("_facet", "_facet_array", "_facet_date", "_facet_size")
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
CSP = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors {frame}")
GENERIC_ERROR = (b"<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Fout / Error</title></head>"
                 b"<body><h1>Er ging iets mis / Something went wrong</h1><p>Probeer het later opnieuw. "
                 b"<em lang=\"en\">Please try again later.</em></p><p><a href=\"/\">Home</a></p></body></html>")


def _variants(script: str) -> list[str]:
    """The texts one inline script can render to. Datasette's table page writes one boolean into
    its script; every other inline script in its templates is fixed text."""
    if "{{ datasette_allow_facet }}" in script:
        return [script.replace("{{ datasette_allow_facet }}", value) for value in ("true", "false")]
    return [script] if "{{" not in script and "{%" not in script else []


def inline_script_hashes(template_dirs: list[Path]) -> list[str]:
    """CSP sources for the inline scripts written in the templates (Datasette's and ours): exactly
    those texts may run, so a script injected into a page would not."""
    hashes: set[str] = set()
    for folder in template_dirs:
        for template in sorted(folder.glob("*.html")):
            for match in INLINE_SCRIPT.finditer(template.read_text(encoding="utf-8")):
                for text in _variants(match[1]):
                    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
                    hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


def security_headers(path: str, hashes: str) -> list[tuple[bytes, bytes]]:
    embed = bool(EMBED_PATH.match(path))
    headers = [
        (b"content-security-policy", CSP.format(hashes=hashes, frame="*" if embed else "'none'").encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    if not embed:
        headers.append((b"x-frame-options", b"DENY"))
    return headers


def refusal(scope: Scope) -> tuple[int, bytes] | None:
    """Why a request is refused before it reaches the site, if it is."""
    path = scope.get("path", "")
    raw_path = scope.get("raw_path") or path.encode()
    query = scope.get("query_string") or b""
    if scope.get("method", "GET") not in ALLOWED_METHODS:
        return 405, b"Deze site is alleen-lezen / This site is read-only\n"
    if len(raw_path) > MAX_PATH_BYTES or len(query) > MAX_QUERY_BYTES:
        return 414, b"Het adres is te lang / The address is too long\n"
    if not path.startswith("/") or "//" in path or "/../" in f"{path}/" or "/./" in f"{path}/":
        return 404, b"Niet gevonden / Not found\n"
    if b"%00" in query or "\x00" in path or b"%00" in raw_path:
        return 400, b"Ongeldig teken (NUL) in het adres / Invalid character (NUL) in the address\n"
    if HIDDEN_PATHS.match(path):
        return 404, b"Niet gevonden / Not found\n"
    if query:
        names = [name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)]
        if len(names) > MAX_PARAMETERS:
            return 400, b"Te veel parameters / Too many parameters\n"
        if sum(name in FACET_PARAMETERS for name in names) > MAX_FACETS:
            return 400, b"Te veel facetten / Too many facets\n"
    return None


def wrap(app: ASGIApp, hashes: str, datasette: Any = None) -> ASGIApp:
    async def page(scope: Scope, receive: Receive, status: int, message: bytes) -> tuple[bytes, bytes]:
        """The site's own error page (templates/error.html: header, Dutch explanation, search, a way
        home), or the plain message for JSON addresses and when the page cannot be made."""
        path = scope.get("path", "")
        if datasette is None or path.endswith(".json"):
            return message, b"text/plain; charset=utf-8"
        try:
            await datasette.invoke_startup()  # idempotent; a refusal may be the first request of all
            html = await datasette.render_template(
                ["error.html"], {"ok": False, "error": message.decode().strip(), "status": status, "title": None},
                # Datasette's CSRF layer, which this request never reached, would set the token;
                # the site takes no forms that write, so an empty one will do.
                request=Request({**scope, "csrftoken": lambda: ""}, receive))
        except Exception as error:  # the error page itself failed: the message still goes out
            log.error("error page for %s failed: %s: %s", status, type(error).__name__, str(error)[:200])
            return message, b"text/plain; charset=utf-8"
        return html.encode("utf-8"), b"text/html; charset=utf-8"

    async def plain(send: Send, status: int, body: bytes, path: str,
                    content_type: bytes = b"text/plain; charset=utf-8") -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                   (b"cache-control", b"no-store"), *security_headers(path, hashes)]
        if status == 405:
            headers.append((b"allow", b"GET, HEAD, OPTIONS"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def secured(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope.get("path", "")
        refused = refusal(scope)
        if refused:
            body, content_type = await page(scope, receive, *refused)
            await plain(send, refused[0], body, path, content_type)
            return
        started = False
        failed = False

        async def guarded_send(message: Message) -> None:
            nonlocal started, failed
            if message["type"] == "http.response.start":
                started = True
                if message["status"] >= 500 and message["status"] != 503:
                    # The site's own 500 page comes from plugins/errors.py; this is the backstop
                    # for anything that answers 5xx with a body of its own.
                    failed = True
                    await plain(send, message["status"], GENERIC_ERROR, path, b"text/html; charset=utf-8")
                    return
                names = {name for name, _ in security_headers(path, hashes)}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + security_headers(path, hashes)}
            elif failed:
                return  # the generic error body has been sent already
            await send(message)

        try:
            await app(scope, receive, guarded_send)
        except Exception as error:  # the last line of defence: never uvicorn's bare 500
            if type(error).__name__ == "ClientDisconnected":
                return
            log.error("unhandled %s on %s: %s", type(error).__name__, path, str(error)[:300])
            if not started:
                await plain(send, 500, GENERIC_ERROR, path, b"text/html; charset=utf-8")

    return secured


@hookimpl(trylast=True)
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    folders = [Path(datasette_package.__file__).parent / "templates"]
    if datasette.template_dir:
        folders.append(Path(datasette.template_dir))
    hashes = "".join(f" {h}" for h in inline_script_hashes(folders))
    return lambda app: wrap(app, hashes, datasette)
