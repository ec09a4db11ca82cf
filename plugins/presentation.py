"""What the Dutch templates need beyond Datasette's context: the Dutch and English halves of a bilingual text,
the server-rendered chart (charts.yml) that draws a saved question, if one does, and enum codes shown as words.

Titles and descriptions in metadata.yml and datapackage.yaml are written once, bilingual, as "Nederlands /
English" (titles) or "Nederlands — English" (descriptions); a page shows the Dutch half first and the English
half marked lang="en".
"""

from __future__ import annotations

from functools import cache
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from loaders.schema import PROJECT_ROOT, served_package
from loaders.views import view_definitions
from loaders.yaml_files import load_yaml

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


@cache
def charts_by_query() -> dict[str, dict[str, Any]]:
    charts = load_yaml((PROJECT_ROOT / "charts.yml").read_text(encoding="utf-8"))["charts"]
    return {c["query"]: c for c in charts}


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


@hookimpl
def extra_template_vars() -> dict[str, Any]:
    return {"chart_for_query": lambda name: charts_by_query().get(name or ""),
            "table_title": lambda name: table_titles().get(name, name),
            "enum_words": enum_words}


@cache
def enum_columns() -> dict[tuple[str, str], frozenset[str]]:
    """(table or view, column) -> its codes, for the columns datapackage.yaml gives an enum and the view columns
    (loaders/views.yaml) that show such a column."""
    package = served_package()
    codes = {(r.name, f.name): frozenset(f.enum) for r in package.resources for f in r.fields if f.enum}
    for view, definition in view_definitions().items():
        for column, ref in definition["columns"].items():
            if isinstance(ref, str) and tuple(ref.split(".", 1)) in codes:
                codes[(view, column)] = codes[tuple(ref.split(".", 1))]  # type: ignore[index]
    return codes


def code_as_words(code: str) -> str:
    """`meer_dan` reads "meer dan", `in_uitvoering` "in uitvoering"."""
    return code.replace("_", " ")


def enum_words(table: str | None, column: str, value: Any) -> str | None:
    """The words for an enum code with an underscore in this table's or view's column; None for any other value."""
    if (isinstance(value, str) and "_" in value and table is not None
            and value in enum_columns().get((table, column), ())):
        return code_as_words(value)
    return None


@hookimpl
def render_cell(value: Any, column: str, table: str | None) -> Any:
    """An enum code with an underscore is shown as words; the code itself stays on hover and in every export."""
    words = enum_words(table, column, value)
    if words is not None:
        return Markup(f'<span title="code: {escape(value)}">{escape(words)}</span>')
    return None
