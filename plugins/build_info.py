"""Show which data release a page comes from (data version, build date, commit) in every footer, and give every
template the database name (`site_database`, from loaders/site.py) for its links."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from datasette import hookimpl

from loaders.site import DATABASE

# The database is immutable, so one read per Datasette instance is enough.
_cache: WeakKeyDictionary[Any, dict[str, str]] = WeakKeyDictionary()


async def read_build_info(datasette: Any) -> dict[str, str]:
    if datasette not in _cache and DATABASE in datasette.databases:
        rows = await datasette.get_database(DATABASE).execute("select key, value from build_info")
        _cache[datasette] = {row["key"]: row["value"] for row in rows}
    return _cache.get(datasette, {})


@hookimpl
def extra_template_vars(datasette: Any) -> Any:
    async def inner() -> dict[str, Any]:
        return {"build_info": await read_build_info(datasette), "site_database": DATABASE}

    return inner
