"""Columns under their Dutch label (the `title` of each field in datapackage.yaml, `labels` in loaders/views.yaml):
on table, view, row and saved-question pages and in facets, with the technical name on hover; exports keep the
technical names; enum codes read as words in facets; the loader refuses a field without a label."""

from __future__ import annotations

import csv
import io
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from datasette.app import Datasette

from loaders import views
from loaders.cli import cli
from loaders.schema import PROJECT_ROOT, Package
from loaders.views import column_labels, view_definitions
from loaders.yaml_files import load_yaml

DB = "prestatieafspraken"


class _Cells(HTMLParser):
    """The text and attributes of every element of one tag name (th, dt, strong ...) in a page."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag, self.found, self._open = tag, [], None  # type: ignore[var-annotated]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.tag:
            self._open = (dict(attrs), [])

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == self.tag and self._open is not None:
            attrs, text = self._open
            self.found.append((attrs, " ".join("".join(text).replace("\xa0", " ").split())))
            self._open = None


def cells(page: str, tag: str) -> list[tuple[dict[str, str | None], str]]:
    parser = _Cells(tag)
    parser.feed(page)
    return parser.found


def headings(page: str) -> dict[str, tuple[str, str]]:
    """technical name (data-column) -> (heading text without sort arrows, title attribute) of the answer's columns."""
    return {str(a["data-column"]): (text.rstrip(" ▲▼"), str(a.get("title") or "")) for a, text in cells(page, "th")
            if a.get("data-column")}


def queries(ds: Datasette) -> dict[str, dict]:  # type: ignore[type-arg]
    return ds.metadata("queries", database=DB)


async def test_table_page_heads_every_column_with_its_schema_title(ds: Datasette, package: Package) -> None:
    for resource in package.resources:
        page = (await ds.client.get(f"/{DB}/{resource.name}", params={"_size": 1})).text
        shown = headings(page)
        for field in resource.fields:
            if field.name not in shown:  # Datasette leaves out rowid-like columns only; every field here is shown
                pytest.fail(f"{resource.name}.{field.name} has no heading")
            text, hover = shown[field.name]
            assert text == field.title, (resource.name, field.name)
            assert hover.startswith(field.name), (resource.name, field.name)  # the technical name on hover


async def test_view_pages_head_columns_with_the_view_labels(ds: Datasette, package: Package) -> None:
    for view in view_definitions():
        labels = column_labels(package, view)
        shown = headings((await ds.client.get(f"/{DB}/{view}", params={"_size": 1})).text)
        assert {name: text for name, (text, _) in shown.items()} == labels, view
        # a column the view takes from a table without a label of its own reads as that field's title
        for column, ref in view_definitions()[view]["columns"].items():
            if isinstance(ref, str) and column not in (view_definitions()[view].get("labels") or {}):
                table, name = ref.split(".")
                assert labels[column] == package.resource(table).field(name).title


async def test_small_screens_label_each_cell_with_the_dutch_heading(ds: Datasette, package: Package) -> None:
    resource = package.resource("agreements")
    page = (await ds.client.get(f"/{DB}/agreements")).text
    for field in resource.fields:
        assert f'content: "{field.title}"; }}' in page, field.name
        assert f'content: "{field.name}"; }}' not in page or field.name == field.title


async def test_row_page_labels_each_value_and_keeps_the_name_on_hover(ds: Datasette, package: Package,
                                                                      db_path: Path) -> None:
    resource = package.resource("agreements")
    with sqlite3.connect(db_path) as conn:
        row_id = conn.execute("select id from agreements order by id limit 1").fetchone()[0]
    page = (await ds.client.get(f"/{DB}/agreements/{row_id}")).text
    terms = {a["data-column"]: (text, str(a.get("title"))) for a, text in cells(page, "dt")}
    assert set(terms) == set(resource.field_names)
    for field in resource.fields:
        text, hover = terms[field.name]
        assert text == field.title and hover.startswith(f"{field.name}: {field.description_nl}")


async def test_saved_question_columns_take_the_schema_and_view_labels(ds: Datasette, package: Package) -> None:
    # figures selects specification columns under their own names: each heading is that field's title
    shown = headings((await ds.client.get(f"/{DB}/figures")).text)
    specifications = package.resource("specifications")
    own = [c for c in shown if c in specifications.field_names and c not in ("notes",)]
    assert len(own) >= 8
    for column in own:
        assert shown[column] == (specifications.field(column).title, column)
    # agreements_by_document names agreements_overview for its `kind`, which is also a kind of partner or of work
    shown = headings((await ds.client.get(f"/{DB}/agreements_by_document")).text)
    assert shown["kind"] == (package.resource("agreements").field("kind").title, "kind")
    assert shown["source_url"][0] == column_labels(package, "agreements_overview")["source_url"]


async def test_every_saved_question_heads_every_column_in_dutch(ds: Datasette) -> None:
    for name, query in queries(ds).items():
        params = {p: ("huur" if p == "q" else "") for p in query.get("params", [])}
        response = await ds.client.get(f"/{DB}/{name}", params=params)
        assert response.status_code == 200, name
        shown = headings(response.text)
        assert shown, f"{name} shows no answer"
        for column, (text, hover) in shown.items():
            assert text != column and hover == column, (name, column, text)
        texts = [text.casefold() for text, _ in shown.values()]
        assert len(texts) == len(set(texts)), f"{name}: two columns share a heading: {texts}"


async def test_exports_keep_the_technical_names(ds: Datasette, package: Package) -> None:
    resource = package.resource("agreements")
    table_csv = (await ds.client.get(f"/{DB}/agreements.csv", params={"_size": 1})).text
    assert next(csv.reader(io.StringIO(table_csv))) == resource.field_names
    rows = (await ds.client.get(f"/{DB}/agreements.json", params={"_shape": "array", "_size": 1})).json()
    assert list(rows[0]) == resource.field_names
    page = (await ds.client.get(f"/{DB}/figures")).text
    query_csv = (await ds.client.get(f"/{DB}/figures.csv")).text
    assert next(csv.reader(io.StringIO(query_csv))) == list(headings(page))


async def test_facets_read_labels_and_enum_words(ds: Datasette, package: Package, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        table, field, code = next(
            (r.name, f, code) for r in package.resources for f in r.fields for code in f.enum
            if "_" in code and conn.execute(f"select 1 from [{r.name}] where [{f.name}] = ?", [code]).fetchone())
    page = (await ds.client.get(f"/{DB}/{table}", params={"_facet": field.name})).text
    facet = page[page.index(f'id="facet-{field.name}'):]
    facet = facet[:facet.index("</ul>")]
    assert cells(facet, "strong")[0][0]["title"] == field.name
    assert cells(facet, "strong")[0][1].startswith(field.title)
    links = {str(a.get("title")): text for a, text in cells(facet, "a") if a.get("title")}
    assert links[f"code: {code}"] == code.replace("_", " ")
    assert not any("_" in text for _, text in cells(facet, "a") if text in field.enum)


async def test_a_view_facet_shows_enum_words_too(ds: Datasette, package: Package, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        view, column, code = next(
            (v, c, code) for v, d in view_definitions().items() for c, ref in d["columns"].items()
            if isinstance(ref, str) for code in package.resource(ref.split(".")[0]).field(ref.split(".")[1]).enum
            if "_" in code and conn.execute(f"select 1 from [{v}] where [{c}] = ?", [code]).fetchone())
    page = (await ds.client.get(f"/{DB}/{view}", params={"_facet": column})).text
    assert f'title="code: {code}">{code.replace("_", " ")}</a>' in page
    assert f'<span title="code: {code}">{code.replace("_", " ")}</span>' in page  # and in the view's rows


def _title_line(lines: list[str], table: str, column: str) -> int:
    """The index of the `title:` line of one field in datapackage.yaml's lines (the line after `- name:`)."""
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {table}")
    at = next(i for i in range(start, len(lines)) if lines[i].strip() == f"- name: {column}")
    assert lines[at + 1].strip().startswith("title:")
    return at + 1


def _edit_titles(root: Path, changes: dict[tuple[str, str], str | None]) -> dict[tuple[str, str], int]:
    """Set (or, with None, remove) fields' titles in the copy; the line where each of those fields starts."""
    path = root / "datapackage.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    starts = {}
    for (table, column), title in changes.items():
        at = _title_line(lines, table, column)
        starts[(table, column)] = at  # `- name:` is the line before, counted from 1
        lines[at] = lines[at][:lines[at].index("title:")] + f"title: {title}" if title is not None else "#"
    path.write_text("\n".join(lines), encoding="utf-8")
    return starts


def _validate(root: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["--root", str(root), "validate"])
    return result.exit_code, [p for p in result.output.splitlines() if p.startswith("datapackage.yaml:")]


def test_the_loader_refuses_a_field_without_a_label(project_copy: Path) -> None:
    line = _edit_titles(project_copy, {("projects", "status"): None})[("projects", "status")]
    code, problems = _validate(project_copy)
    assert code == 1
    assert problems == [f"datapackage.yaml:{line}: projects.status: has no title; add a short Dutch label "
                        "(title: ...) that the site shows as the column's heading"]


def test_the_loader_refuses_a_long_or_repeated_label(project_copy: Path, package: Package) -> None:
    first, second, third = package.resource("places").fields[:3]
    lines = _edit_titles(project_copy, {("places", second.name): first.title,
                                        ("places", third.name): "Een kop die veel te lang is voor een kolom"})
    code, problems = _validate(project_copy)
    assert code == 1
    assert problems == [
        f"datapackage.yaml:{lines[('places', second.name)]}: places.{second.name}: title '{first.title}' is also "
        f"the title of {first.name}; give every column of a table its own heading",
        f"datapackage.yaml:{lines[('places', third.name)]}: places.{third.name}: title 'Een kop die veel te lang is "
        "voor een kolom' is 42 characters; a heading has at most 40: shorten it and leave the rest to the "
        "description"]


def test_a_computed_view_column_without_a_label_is_refused(package: Package, monkeypatch: pytest.MonkeyPatch) -> None:
    definitions = {name: dict(view) for name, view in view_definitions().items()}
    name, view = next((n, v) for n, v in definitions.items()
                      if any(not isinstance(ref, str) for ref in v["columns"].values()))
    computed = next(c for c, ref in view["columns"].items() if not isinstance(ref, str))
    view["labels"] = {c: label for c, label in view["labels"].items() if c != computed}
    monkeypatch.setattr(views, "view_definitions", lambda: definitions)
    with pytest.raises(ValueError, match=rf"views.yaml: view {name} column {computed} has no label"):
        column_labels(package, name)


async def test_rows_referring_to_a_row_are_named_by_table_title_and_column_label(ds: Datasette, package: Package,
                                                                                db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        document = conn.execute("select document_id from agreements order by id limit 1").fetchone()[0]
    page = (await ds.client.get(f"/{DB}/documents/{document}")).text
    agreements = package.resource("agreements")
    title = agreements.title.split(" / ")[0]
    label = agreements.field("document_id").title
    assert f'<strong title="agreements">{title}</strong> (kolom <span title="document_id">{label}</span>)' in page


async def test_a_chart_page_heads_its_data_like_its_saved_question(ds: Datasette) -> None:
    charts = load_yaml((PROJECT_ROOT / "charts.yml").read_text(encoding="utf-8"))["charts"]
    for chart in charts:
        shown = headings((await ds.client.get(f"/-/charts/{chart['slug']}")).text)
        assert shown == headings((await ds.client.get(f"/{DB}/{chart['query']}")).text), chart["slug"]
