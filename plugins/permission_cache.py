"""Permission answers for anonymous visitors, computed once per process.

Datasette 0.65 answers every permission check afresh: a `view-table` check runs a query on sqlite_master and
deep-copies and merges the whole metadata (100 KB of generated descriptions at today's size) to look for `allow`
blocks, and a table page makes several such checks, for the visitor and again for an anonymous one. The metadata
is given once when the process starts and the database is immutable, so the answer for an anonymous visitor to
one (action, resource) never changes: it is kept after the first time. Checks for a signed-in actor (the site has
none; a plugin might add one) still run in full. The store is bounded, so requests for made-up resources cannot
grow it without end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from datasette import hookimpl

MAX_ANSWERS = 4_096
Check = Callable[..., Awaitable[Any]]


def _key(action: str, resource: Any, default: Any) -> tuple[Any, ...]:
    return (action, tuple(resource) if isinstance(resource, list) else resource, default)


def cached_checks(check: Check) -> Check:
    """`Datasette.permission_allowed` with the anonymous visitor's answers kept."""
    answers: dict[tuple[Any, ...], Any] = {}

    async def permission_allowed(actor: Any, action: str, resource: Any = None, default: Any = False) -> Any:
        if actor is not None:
            return await check(actor, action, resource=resource, default=default)
        key = _key(action, resource, default)
        if key in answers:
            return answers[key]
        answer = await check(None, action, resource=resource, default=default)
        if len(answers) < MAX_ANSWERS:
            answers[key] = answer
        return answer

    return permission_allowed


@hookimpl
def startup(datasette: Any) -> None:
    # Datasette 1.0 replaces permission_allowed() with allowed(), answered by SQL over its catalog: this store is
    # for 0.65 only and steps aside where that method is gone (docs/datasette-1.0.md).
    check = getattr(datasette, "permission_allowed", None)
    if check is not None and "permission_allowed" not in vars(datasette):  # once per instance
        datasette.permission_allowed = cached_checks(check)
