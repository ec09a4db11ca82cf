"""The cells of a row of a table page or of a saved question's answer, as one piece of HTML per row.

Rendered by the templates' own loop, every cell costs five outputs that Jinja's async rendering passes up through
three generators (block, page, base template), plus an escape and a filter call: for an answer of 1,000 rows and
12 columns that is most of the page's time, more than its SQL. These functions write the very same bytes (the
whitespace of the loops they replace included) in one string per row. `templates/query.html` and
`templates/_table.html` call them where the loops were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from datasette import hookimpl
from datasette.utils import to_css_class
from markupsafe import Markup, escape

# The text the template loops wrote per cell, indentation included (query.html, _table.html).
QUERY_CELL = '\n                <td class="col-{}">{}</td>\n            '
TABLE_CELL = '\n                    <td class="col-{} type-{}">{}</td>\n                '


@lru_cache(maxsize=4096)
def css_class(column: str) -> str:
    """Datasette's `to_css_class` of a column name (a regular expression, and an md5 for an odd name): a page asks
    the same few names once per row."""
    return str(to_css_class(column))


def query_row_cells(columns: Iterable[str], row: Iterable[Any]) -> Markup:
    """The `<td>` cells of one row of a saved question's answer (`display_rows` of Datasette's query view)."""
    return Markup("".join(QUERY_CELL.format(css_class(column), escape(td))
                          for column, td in zip(columns, row, strict=False)))  # as the template's zip()


def table_row_cells(row: Iterable[Mapping[str, Any]]) -> Markup:
    """The `<td>` cells of one row of a table or view page (`display_rows` of Datasette's table view)."""
    return Markup("".join(TABLE_CELL.format(css_class(cell["column"]), escape(cell["value_type"]),
                                            escape(cell["value"])) for cell in row))


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    env.globals["query_row_cells"] = query_row_cells
    env.globals["table_row_cells"] = table_row_cells
