"""The per-cell and per-row work of a page stays cut (issue #16: a saved question's page of 1,000 rows took twice
as long as bare Datasette's): one render_cell hook that does nothing for a cell needing nothing, a row's cells
written in one piece, the sources of an answer listed without a lookup in a growing list. Each test fails if that
class of work comes back or if the faster code writes other bytes than the template loop it replaced."""

from __future__ import annotations

import html.parser
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from datasette.app import Datasette
from datasette.plugins import pm
from markupsafe import Markup, escape

from loaders.schema import PROJECT_ROOT
from tests.conftest import make_datasette
from tests.test_page_overhead import Statements

DB = "prestatieafspraken"
FRESH = {"Cache-Control": "no-cache"}  # computed in full, not answered from plugins/page_cache.py's store

# The loops of templates/query.html and templates/_table.html that plugins/row_html.py replaced, verbatim.
QUERY_LOOP = ('{% for column, td in zip(columns, row) %}\n                <td class="col-{{ column|to_css_class }}">'
              "{{ td }}</td>\n            {% endfor %}")
TABLE_LOOP = ('{% for cell in row %}\n                    <td class="col-{{ cell.column|to_css_class }} '
              'type-{{ cell.value_type }}">{{ cell.value }}</td>\n                {% endfor %}')
# The loop of templates/query.html that plugins/presentation.py's source_items replaced, verbatim (with the list
# lookup it had: the first row that cites each source).
SOURCES_LOOP = (
    '{% set ns = namespace(seen=[]) %}{% for row in rows %}{% if row["source_url"] and row["source_url"] not in '
    'ns.seen %}{% set ns.seen = ns.seen + [row["source_url"]] %}\n    <li>{% if "source_publisher" in columns and '
    'row["source_publisher"] %}{{ row["source_publisher"] }}{% if "source_date" in columns and row["source_date"] %}'
    ' ({{ row["source_date"] }}){% endif %}: {% endif %}{% if row["source_url"] is string and '
    '(row["source_url"].startswith("https://") or row["source_url"].startswith("http://")) %}<a href="'
    '{{ row["source_url"] }}">{{ row["source_url"] }}</a>{% else %}{{ row["source_url"] }}{% endif %}</li>\n  '
    "{% endif %}{% endfor %}")
# Cells as Datasette hands them over: its own HTML (Markup), text to escape, numbers, empty values, odd column names.
VALUES = [Markup('<a href="/x?a=1&amp;b=2">x</a>'), 'a < b & "c" \'d\'', 12, 2.5, None, "", Markup("&nbsp;")]
COLUMNS = ["id", "source_url", "a b", "énergie", "2024", "_x", "kind"]


def plugin(name: str) -> ModuleType:
    module = pm.get_plugin(f"{name}.py")
    assert module is not None, f"plugins/{name}.py is not loaded"
    return module


def project_hooks(hook: Any) -> list[str]:
    plugins_dir = str(PROJECT_ROOT / "plugins")
    return sorted(impl.plugin_name for impl in hook.get_hookimpls()
                  if str(getattr(impl.plugin, "__file__", "")).startswith(plugins_dir))


class Counting:
    """Every renderer of plugins/cells.py wrapped: which (table, column) cells reached one."""

    def __init__(self, cells: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str | None, str]] = []
        real = cells.renderers()

        def counted(key: tuple[str | None, str]) -> Any:
            def render(*args: Any) -> Any:
                self.calls.append(key)
                return real[key](*args)
            return render

        wrapped = {key: counted(key) for key in real}
        monkeypatch.setattr(cells, "renderers", lambda: wrapped)


def test_the_site_has_one_render_cell_hook(ds: Datasette) -> None:
    """Datasette calls every render_cell hook for every cell it shows; three hooks tripled that cost."""
    assert project_hooks(pm.hook.render_cell) == ["cells.py"]


def test_a_cell_that_needs_nothing_gets_none(ds: Datasette) -> None:
    render = plugin("cells").render_cell
    for table, column in ((None, "year"), (None, "source_url"), ("agreements", "title"), ("sources", "url")):
        assert render(value="x_y", column=column, table=table, database=DB, datasette=ds) is None


async def test_a_saved_question_without_links_reaches_no_renderer(ds: Datasette,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    counting = Counting(plugin("cells"), monkeypatch)
    page = await ds.client.get(f"/{DB}/themes_over_years", headers=FRESH)
    assert page.status_code == 200 and page.text.count("<tr>") > 10
    assert counting.calls == []


async def test_only_the_link_cells_of_the_search_reach_a_renderer(ds: Datasette,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    rows = (await ds.client.get(f"/{DB}/search.json", params={"q": "Goud Wonen", "_shape": "array"})).json()
    counting = Counting(plugin("cells"), monkeypatch)
    page = await ds.client.get(f"/{DB}/search", params={"q": "Goud Wonen"}, headers=FRESH)
    assert page.status_code == 200 and rows
    assert counting.calls == [(None, "link")] * len(rows)


async def test_a_table_page_reaches_renderers_only_for_references_and_codes(ds: Datasette,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cells = plugin("cells")
    counting = Counting(cells, monkeypatch)
    page = await ds.client.get(f"/{DB}/agreements", headers=FRESH)
    assert page.status_code == 200
    assert counting.calls, "agreements has references and codes"
    assert set(counting.calls) <= set(cells.outbound()) | set(cells.enum_columns())


async def test_row_cells_are_written_once_per_row(ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not five template outputs per cell: one call per row, for a saved question and for a table page."""
    counts = {"query_row_cells": 0, "table_row_cells": 0}
    for name in counts:
        real = ds.jinja_env.globals[name]

        def counted(*args: Any, name: str = name, real: Any = real) -> Any:
            counts[name] += 1
            return real(*args)

        monkeypatch.setitem(ds.jinja_env.globals, name, counted)
    answer = await ds.client.get(f"/{DB}/themes_over_years.json", params={"_shape": "array", "_size": "max"})
    await ds.client.get(f"/{DB}/themes_over_years", headers=FRESH)
    table = await ds.client.get(f"/{DB}/sources.json", params={"_shape": "array"})
    await ds.client.get(f"/{DB}/sources", headers=FRESH)
    assert counts == {"query_row_cells": len(answer.json()), "table_row_cells": len(table.json())}


@pytest.mark.parametrize("start", range(len(VALUES)))
async def test_query_row_cells_write_what_the_template_loop_wrote(ds: Datasette, start: int) -> None:
    row = VALUES[start:] + VALUES[:start]
    loop = await ds.jinja_env.from_string(QUERY_LOOP).render_async(columns=COLUMNS, row=row, zip=zip)
    assert str(plugin("row_html").query_row_cells(COLUMNS, row)) == loop


@pytest.mark.parametrize("start", range(len(VALUES)))
async def test_table_row_cells_write_what_the_template_loop_wrote(ds: Datasette, start: int) -> None:
    values = VALUES[start:] + VALUES[:start]
    row = [{"column": c, "value": v, "raw": v, "value_type": t}
           for c, v, t in zip(COLUMNS, values, ["pk", "text", "integer", "float", "none", "text", "<x>"], strict=True)]
    loop = await ds.jinja_env.from_string(TABLE_LOOP).render_async(row=row)
    assert str(plugin("row_html").table_row_cells(row)) == loop


SOURCE_ROWS = [
    {"source_url": "https://a.example/x?a=1&b=<2>", "source_publisher": 'Gem. "A" & co', "source_date": "2024-01-02"},
    {"source_url": "https://a.example/x?a=1&b=<2>", "source_publisher": "someone else", "source_date": None},
    {"source_url": "http://b.example/", "source_publisher": "B", "source_date": ""},
    {"source_url": "archief, map 3 <p. 4>", "source_publisher": None, "source_date": "2023"},
    {"source_url": None, "source_publisher": "C", "source_date": "2022"},
    {"source_url": "", "source_publisher": "D", "source_date": "2022"},
    {"source_url": 12, "source_publisher": 7, "source_date": 2021},
    {"source_url": "http://b.example/", "source_publisher": "B again", "source_date": "2020"},
]


@pytest.mark.parametrize("columns", [["source_url"], ["source_publisher", "source_url"],
                                     ["source_publisher", "source_date", "source_url"]])
async def test_source_items_write_what_the_template_loop_wrote(ds: Datasette, columns: list[str]) -> None:
    rows = [{c: r[c] for c in columns} | {"source_url": r["source_url"]} for r in SOURCE_ROWS]
    loop = await ds.jinja_env.from_string(SOURCES_LOOP).render_async(rows=rows, columns=columns)
    assert str(plugin("presentation").source_items(rows, columns)) == loop
    assert loop.count("<li>") == 4  # each source once: the loop compared with is the old one, not a copy of the new


class _SourceLinks(html.parser.HTMLParser):
    """The addresses listed under "Bronnen" of a saved question's page."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section" and ("class", "query-sources") in attrs:
            self.inside = True
        elif tag == "a" and self.inside:
            self.hrefs.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.inside = False


async def test_sources_are_listed_once_each_in_first_seen_order(ds: Datasette, db_path: Path) -> None:
    rows = (await ds.client.get(f"/{DB}/themes_over_years.json",
                                params={"_shape": "array", "_size": "max"})).json()
    page = await ds.client.get(f"/{DB}/themes_over_years", headers=FRESH)
    parser = _SourceLinks()
    parser.feed(page.text)
    expected = list(dict.fromkeys(r["source_url"] for r in rows if r["source_url"]))
    assert len(expected) > 1
    assert parser.hrefs == expected


async def test_a_row_page_reads_the_labels_of_its_references_by_key(db_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Not each referenced table whole: at scale 1000 reading 2 million labels passed the time limit, so every row
    page referring to that table failed. Each label is one lookup by id, and at most LABELS_KEPT are kept."""
    ds = make_datasette(db_path)  # nothing kept yet
    cells = plugin("cells")
    monkeypatch.setattr(cells, "LABELS_KEPT", 1)
    row = (await ds.client.get(f"/{DB}/agreements.json", params={"_size": "1", "_shape": "array",
                                                                  "_labels": "off"})).json()[0]
    references = {column: reference for (table, column), reference in cells.outbound().items()
                  if table == "agreements" and row.get(column)}
    assert len(references) >= 2, references
    statements = Statements(ds, monkeypatch)
    page = await ds.client.get(f"/{DB}/agreements/{row['id']}", headers=FRESH)
    assert page.status_code == 200
    for column, reference in references.items():
        assert f'<a href="/{DB}/{reference.target}/{row[column]}">' in page.text, column
        reads = [s for s in statements.sql if f'from "{reference.target}"' in s]
        assert reads and all(s.endswith(f'where "{reference.key_column}" = ? limit 1') for s in reads), reads
    assert len(cells._labels[ds]) == 1


async def test_a_reference_to_a_column_other_than_the_key_is_labelled_by_that_column(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema may point a foreign key at a column that is not the target's key (a municipality that refers to
    partners by name, say): the label is looked up by that column, and the link goes to the rows holding the value,
    not to a row page of that name."""
    ds = make_datasette(db_path)
    cells = plugin("cells")
    partner = (await ds.client.get(f"/{DB}/partners.json", params={"_size": "1", "_shape": "array"})).json()[0]
    by_name = cells.Reference("partners", "name", "name", by_primary_key=False)
    found = await cells.row_label(ds, by_name, partner["name"])
    assert found is not None and found[0] == partner["name"]
    monkeypatch.setitem(cells.renderers(), ("documents", "title"), cells.reference_renderer(by_name))
    cell = await cells.render_cell(partner["name"], "title", "documents", DB, ds)()
    assert f'/{DB}/partners?name=' in cell and f"<em>{escape(partner['name'])}</em>" in cell
    assert f'/{DB}/partners/' not in cell
    assert await cells.row_label(ds, by_name, "no partner has this name") is None
