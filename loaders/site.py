"""What the loader and the site plugins share: the database name and the ASGI types of the wrappers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

# The database file is build/<DATABASE>.db, so Datasette serves it under /<DATABASE>/.
DATABASE = "prestatieafspraken"
# The site search over every table (plugins/search_page.py); plugins/page_cache.py keeps its answers.
SEARCH_PATH = "/-/zoeken"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
