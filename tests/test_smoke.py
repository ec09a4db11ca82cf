"""The quick tier (`make check`): the home page, the database, every table, view and saved query, and the site's
own pages answer 200 through the test client, on the database built from csv/."""

from __future__ import annotations

import pytest
from datasette.app import Datasette

from loaders.schema import Package
from loaders.site import DATABASE

pytestmark = pytest.mark.smoke


async def test_every_page_kind_answers(ds: Datasette, package: Package) -> None:
    index = (await ds.client.get(f"/{DATABASE}.json")).json()
    tables = [t["name"] for t in index["tables"] if not t["hidden"]]
    views = [v["name"] if isinstance(v, dict) else v for v in index["views"]]
    queries = [q["name"] for q in index["queries"]]
    assert {r.name for r in package.resources} <= set(tables)
    assert views and queries
    urls = ["/", f"/{DATABASE}", "/-/versions.json",
            *[f"/{DATABASE}/{name}" for name in tables + views],
            *[f"/{DATABASE}/{name}.json?_size=1" for name in tables + views],
            *[f"/{DATABASE}/{name}" for name in queries]]
    failed = []
    for url in urls:
        response = await ds.client.get(url)
        if response.status_code != 200:
            failed.append((url, response.status_code))
    assert not failed, failed
