"""A table page's `?_search=` reads at most MAX_MATCHES matches of the table's full-text index.

Datasette 0.65 filters a searched table page with `rowid in (select rowid from <fts> where <fts> match ...)`:
every match is collected, counted, sorted and counted again per facet. A common word matches tens of thousands of
agreements at bench scale 1000 (`agreements.json?_search=huurders` took 0.85 s, most of it the page's five
facets over all matches). Here the subquery stops after MAX_MATCHES matches in the index's order (the order of
the table's rows), so the page, its count and its facets cover at most that many rows, and the filter
description says so. Datasette's own filter builds the clause; this plugin takes its place and adds the limit.
"""

from __future__ import annotations

import re
from typing import Any

from datasette import filters as datasette_filters
from datasette import hookimpl
from datasette.filters import through_filters, where_filters
from datasette.plugins import pm
from datasette.utils import await_me_maybe

MAX_MATCHES = 1_000
# The clause Datasette's search filter writes (datasette/filters.py, 0.65); anything else is left as it is.
SEARCH_CLAUSE = re.compile(
    r"(?P<head>.+ in \(select rowid from .+ where .+ match (?::search\w*|escape_fts\(:search\w*\)))\)", re.DOTALL)
NOTE = f" (de eerste {MAX_MATCHES:,} treffers / the first {MAX_MATCHES:,} matches)".replace(",", ".", 1)

# Datasette's module registers all three filters; this plugin registers the other two and its own search filter.
if pm.get_plugin("datasette.filters") is not None:
    pm.unregister(name="datasette.filters")


def bounded(clause: str) -> str:
    """Datasette's search clause with the subquery limited; another clause unchanged."""
    match = SEARCH_CLAUSE.fullmatch(clause)
    return f"{match['head']} limit {MAX_MATCHES})" if match else clause


@hookimpl(specname="filters_from_request")
def bounded_search_filters(request: Any, database: str, table: str, datasette: Any) -> Any:
    async def inner() -> Any:
        arguments = await await_me_maybe(datasette_filters.search_filters(request, database, table, datasette))
        clauses = [bounded(c) for c in arguments.where_clauses]
        if clauses != arguments.where_clauses:
            arguments.where_clauses = clauses
            arguments.human_descriptions = [d + NOTE for d in arguments.human_descriptions]
        return arguments

    return inner


__all__ = ["bounded_search_filters", "through_filters", "where_filters"]
