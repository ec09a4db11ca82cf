"""Datasette's URL strings without a `dir(str)` on every attribute access.

Datasette 0.65 returns the paths it builds as `PrefixedUrlString`, a str whose `__getattribute__` builds the list
`dir(str)` (80 names, sorted) on every attribute access, to decide whether the result must be wrapped again. Every
facet value's toggle URL and every link in a table goes through `urljoin`, which touches the string's methods a
dozen times: on a table page with its default facets that was several milliseconds per request, more than its
SQL. The names of str's methods never change, so they are looked up once; what the wrapper returns is unchanged.
"""

from __future__ import annotations

from typing import Any

from datasette.utils import PrefixedUrlString

STR_METHODS = frozenset(name for name in dir(str) if not name.startswith("__"))


def _getattribute(self: PrefixedUrlString, name: str) -> Any:
    if name in STR_METHODS:
        method = str.__getattribute__(self, name)  # bound as super() would bind it (str.maketrans is static)
        cls = type(self)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            value = method(*args, **kwargs)
            if isinstance(value, str):
                return cls(value)
            if isinstance(value, list):
                return [cls(v) for v in value]
            if isinstance(value, tuple):
                return tuple(cls(v) for v in value)
            return value

        return wrapped
    return str.__getattribute__(self, name)


PrefixedUrlString.__getattribute__ = _getattribute  # type: ignore[method-assign]
