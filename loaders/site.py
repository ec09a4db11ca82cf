"""What the loader and the site plugins share: the database name and the ASGI types of the wrappers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
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


def settings(root: Path) -> dict[str, Any]:
    """Datasette's settings for the site (settings.json in the project folder)."""
    return dict(json.loads((root / "settings.json").read_text(encoding="utf-8")))
