"""Templates are read once per process, not checked on disk on every render.

Jinja's default `auto_reload` stats every template file a page uses (a table page: six) each time it renders, to
reload one that changed. The templates of a served site do not change while it runs (a deploy restarts it), so
the check is switched off; a template is read the first time it is needed and kept.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl


@hookimpl
def startup(datasette: Any) -> None:
    datasette.jinja_env.auto_reload = False
