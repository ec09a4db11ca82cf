"""Column headings in Dutch: the short label (`title`) of each column in datapackage.yaml, and of each view column
in loaders/views.yaml, for the templates. The technical name stays in the page (on hover, in data-column) and in
every export, which this plugin does not touch.

A saved question's columns are not tied to one table. A column the query computes itself (a rank, a count) is
labelled in the query's own `labels` (the header of queries/<name>.sql), the one place that column is defined; any
other column takes the label of the schema or view column of the same name: the one of the table or view the query
names under `labels_from` when it has that column, else the label every view (then every table) with that column
agrees on. A name whose labels disagree (`kind` is a kind of agreement, of partner or of work) and that neither
settles keeps its technical name: better a code than a wrong heading.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

from datasette import hookimpl

from loaders.queries import served_queries
from loaders.schema import served_package
from loaders.views import column_labels, view_definitions


@cache
def labels_by_table() -> dict[str, dict[str, str]]:
    """table or view -> column -> Dutch label."""
    package = served_package()
    labels = {r.name: {f.name: f.label for f in r.fields} for r in package.resources}
    labels.update({name: column_labels(package, name) for name in view_definitions()})
    return labels


@cache
def _agreed_labels() -> dict[str, str]:
    """column name -> the label all views with that column agree on, else the one all tables agree on."""
    views, tables = set(view_definitions()), labels_by_table()
    found: dict[str, dict[bool, set[str]]] = defaultdict(lambda: {True: set(), False: set()})
    for table, columns in tables.items():
        for column, label in columns.items():
            found[column][table in views].add(label)
    agreed = {}
    for column, by_kind in found.items():
        for in_views in (True, False):
            if len(by_kind[in_views]) == 1:
                agreed[column] = next(iter(by_kind[in_views]))
                break
            if by_kind[in_views]:
                break  # the views disagree: the tables do not settle it either
    return agreed


def column_label(table: str | None, column: str) -> str | None:
    """The Dutch label of a column of a table or view; None when it has none (build_info, an unknown column)."""
    return labels_by_table().get(table or "", {}).get(column)


def query_column_label(column: str, labels_from: Any = None, own: Any = None) -> str | None:
    """The Dutch label of a saved question's column, as the module docstring says; None when there is none."""
    if isinstance(own, dict) and own.get(column):
        return " ".join(str(own[column]).split())
    sources = [labels_from] if isinstance(labels_from, str) else list(labels_from or ())
    for source in sources:
        label = column_label(str(source), column)
        if label:
            return label
    return _agreed_labels().get(column)


def query_column_labels(columns: list[str], labels_from: Any = None, own: Any = None) -> list[str | None]:
    """The labels of a saved question's columns in order; a column whose label an earlier column already has keeps
    its technical name (theme and theme_id are both 'Thema'), so no two headings of one answer read the same."""
    labels: list[str | None] = []
    used: set[str] = set()
    for column in columns:
        label = query_column_label(column, labels_from, own)
        if label and label.casefold() in used:
            label = None
        if label:
            used.add(label.casefold())
        labels.append(label)
    return labels


@hookimpl
def extra_template_vars(datasette: Any) -> dict[str, Any]:
    def saved_question_labels(name: str, columns: list[str]) -> list[str | None]:
        """The labels of the columns of the saved question `name` (for pages such as a chart's data table)."""
        query = served_queries().get(name) or {}
        return query_column_labels(columns, query.get("labels_from"), query.get("labels"))

    return {"column_label": column_label, "query_column_labels": query_column_labels,
            "saved_question_labels": saved_question_labels}
