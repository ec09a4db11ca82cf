"""What a computed page costs beyond its own SQL stays cut: the classes of per-request work that made our pages
slower than bare Datasette (issue #16) are done once per process. Each test fails if that work comes back."""

from __future__ import annotations

import builtins
import re
from typing import Any

import pytest
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils import PrefixedUrlString

from loaders.publication import BASE_URL_ENV, served_publication
from loaders.schema import Package

DB = "prestatieafspraken"
FRESH = {"Cache-Control": "no-cache"}  # computed in full, not answered from plugins/page_cache.py's store


class Statements:
    """The SQL statements the database runs through Datasette while it is installed."""

    def __init__(self, ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sql: list[str] = []
        db = ds.get_database(DB)
        execute = db.execute

        async def counting(sql: str, *args: Any, **kwargs: Any) -> Any:
            self.sql.append(" ".join(sql.split()))
            return await execute(sql, *args, **kwargs)

        monkeypatch.setattr(db, "execute", counting)


async def test_permission_checks_are_answered_once_per_process(ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
    """Datasette deep-copied the whole generated metadata and queried sqlite_master on every view-table check."""
    await ds.client.get(f"/{DB}/sources.json")
    calls: list[Any] = []
    original = ds._table_permission_allows
    monkeypatch.setattr(ds, "_table_permission_allows", lambda *a: calls.append(a) or original(*a))
    statements = Statements(ds, monkeypatch)
    response = await ds.client.get(f"/{DB}/sources.json", headers=FRESH)
    assert response.status_code == 200
    assert calls == []
    assert not [s for s in statements.sql if "collate nocase" in s]


async def test_a_signed_in_actor_is_still_checked_in_full(ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the anonymous visitor's answers are kept: a plugin's allow rules may depend on who asks."""
    await ds.client.get(f"/{DB}/sources.json")  # the cache is installed at startup
    calls: list[Any] = []
    original = ds._table_permission_allows
    monkeypatch.setattr(ds, "_table_permission_allows", lambda *a: calls.append(a) or original(*a))
    for _ in range(2):
        assert await ds.permission_allowed({"id": "someone"}, "view-table", (DB, "sources"), default=True)
    assert len(calls) == 2


def schema_facets(package: Package, table: str) -> str:
    """The query string that asks a JSON answer for the facets the schema gives the table's page."""
    fields = [f.name for f in package.resource(table).fields if f.facet]
    assert fields, f"{table} has facets in the schema"
    return "&".join(f"_facet={name}" for name in fields)


async def test_facets_the_build_counted_are_read_once_per_process(ds: Datasette, package: Package,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An unfiltered page's facets and their labels: no SQL at all after the first request."""
    path = f"/{DB}/agreements.json?{schema_facets(package, 'agreements')}"
    first = await ds.client.get(path, headers=FRESH)
    statements = Statements(ds, monkeypatch)
    again = await ds.client.get(path, headers=FRESH)
    assert again.json()["facet_results"] == first.json()["facet_results"]
    assert len(first.json()["facet_results"]) == path.count("_facet=")
    assert not [s for s in statements.sql if "facet_counts" in s or " where id in (" in s], statements.sql


async def test_facet_links_follow_the_visitors_host(ds: Datasette) -> None:
    """The toggle links are built without urljoin, but still on the address the visitor used."""
    response = await ds.client.get(f"/{DB}/agreements.json?_facet=kind&_facet=theme_id",
                                   headers={**FRESH, "x-forwarded-host": "data.example"})
    urls = [v["toggle_url"] for f in response.json()["facet_results"].values() for v in f["results"]]
    assert urls and all(u.startswith(f"http://data.example/{DB}/agreements.json?") for u in urls)


@pytest.mark.parametrize("table", ["agreements", "documents", "specifications"])
async def test_the_schemas_facets_are_on_the_page_and_in_json_only_when_asked(ds: Datasette, package: Package,
                                                                              table: str) -> None:
    """The table page shows every facet the schema declares; its JSON (for programs, like Datasette 1.0's) has
    none unless it asks with `?_facet=`, and then the same counts as the page."""
    fields = [f.name for f in package.resource(table).fields if f.facet]
    page = (await ds.client.get(f"/{DB}/{table}", headers=FRESH)).text
    assert all(f'id="facet-{name}' in page for name in fields), fields
    plain = (await ds.client.get(f"/{DB}/{table}.json", headers=FRESH)).json()
    assert plain["facet_results"] == {} and plain["rows"]
    asked = (await ds.client.get(f"/{DB}/{table}.json?_facet={fields[0]}", headers=FRESH)).json()
    assert list(asked["facet_results"]) == [fields[0]]
    counts = [v["count"] for v in asked["facet_results"][fields[0]]["results"]]
    section = page[page.index(f'id="facet-{fields[0]}'):]
    section = section[:section.index("</ul>")]
    assert counts and re.findall(r"</a> ([0-9.]+)</li>", section) == [f"{n:,}".replace(",", ".") for n in counts]


def test_url_strings_do_not_list_the_methods_of_str_on_every_access(ds: Datasette,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert pm.get_plugin("url_strings.py") is not None  # loaded with the project's plugins
    calls: list[Any] = []
    real_dir = builtins.dir
    monkeypatch.setattr(builtins, "dir", lambda *a: calls.append(a) or real_dir(*a))
    path = PrefixedUrlString("/db/table?a=1")
    assert path.startswith("/") and path.split("?")[0] == "/db/table"
    assert isinstance(path.replace("a", "b"), PrefixedUrlString)
    assert [type(p) for p in path.partition("?")] == [PrefixedUrlString] * 3
    assert PrefixedUrlString.maketrans("a", "b") == {97: 98}
    assert calls == []


def test_publication_is_read_once_per_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    assert served_publication() is served_publication()
    monkeypatch.setenv(BASE_URL_ENV, "https://data.example.nl")
    assert served_publication().base_url == "https://data.example.nl"


async def test_the_data_version_is_read_once_per_process(ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row page's citation and the home page's carry the data version: the database never changes while served."""
    first = await ds.client.get(f"/{DB}/themes.json", params={"_size": "1", "_shape": "array"})
    path = f"/{DB}/themes/{first.json()[0]['id']}"
    await ds.client.get(path, headers=FRESH)
    statements = Statements(ds, monkeypatch)
    again = await ds.client.get(path, headers=FRESH)
    assert "dataversie" in again.text
    assert not [s for s in statements.sql if "build_info" in s], statements.sql
