"""What the Dutch templates need beyond Datasette's context: the Dutch and English halves of a bilingual text,
the server-rendered chart (charts.yml) that draws a saved question, if one does, and the list of sources under a
saved question's answer (enum codes are shown as words by plugins/cells.py).

Titles and descriptions in metadata.yml and datapackage.yaml are written once, bilingual, as "Nederlands /
English" (titles) or "Nederlands — English" (descriptions); a page shows the Dutch half first and the English
half marked lang="en".
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from loaders.chart_rows import served_charts_by_query
from loaders.schema import served_package
from loaders.views import view_definitions

TITLE_SEPARATOR = " / "
DESCRIPTION_SEPARATOR = " — "


def halves(text: Any) -> tuple[str, str]:
    """(Dutch, English) of a bilingual text; a text with one language is all Dutch."""
    value = str(text or "")
    for separator in (DESCRIPTION_SEPARATOR, TITLE_SEPARATOR):
        if separator in value:
            dutch, english = value.split(separator, 1)
            return dutch.strip(), english.strip()
    return value.strip(), ""


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    env.filters["dutch"] = lambda text: halves(text)[0]
    env.filters["english"] = lambda text: halves(text)[1]


@cache
def table_titles() -> dict[str, str]:
    """Bilingual titles of the tables (datapackage.yaml) and views (loaders/views.yaml)."""
    titles = {r.name: r.title for r in served_package().resources}
    titles.update({name: view["title"] for name, view in view_definitions().items()})
    return titles


def first_rows_by(rows: Iterable[Any], column: str) -> list[Any]:
    """The rows with a value in `column` that no earlier row had, in order (a set, not a lookup in a growing list:
    a page of 1,000 rows cites hundreds of sources)."""
    seen: set[Any] = set()
    first = []
    for row in rows:
        value = row[column]
        if value and value not in seen:
            seen.add(value)
            first.append(row)
    return first


def source_items(rows: Iterable[Any], columns: list[str]) -> Markup:
    """The `<li>` lines of a saved question's list of sources, one per source in the order the answer first cites
    it: its publisher and date where the answer has them, and its address, a link when it is a web address. Written
    here in one piece rather than by a template loop (hundreds of lines, several template outputs each); the
    indentation is the template's."""
    publisher, date = "source_publisher" in columns, "source_date" in columns
    items = []
    for row in first_rows_by(rows, "source_url"):
        text = ""
        if publisher and row["source_publisher"]:
            text += str(escape(row["source_publisher"]))
            if date and row["source_date"]:
                text += f" ({escape(row['source_date'])})"
            text += ": "
        url = row["source_url"]
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            text += f'<a href="{escape(url)}">{escape(url)}</a>'
        else:
            text += str(escape(url))
        items.append(f"\n    <li>{text}</li>\n  ")
    return Markup("".join(items))


@hookimpl
def extra_template_vars() -> dict[str, Any]:
    return {"chart_for_query": lambda name: served_charts_by_query().get(name or ""),
            "table_title": lambda name: table_titles().get(name, name),
            "source_items": source_items}
