"""Pages are built once and then served from memory, byte for byte the same; the store is bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plugins.page_cache import Store
from tests.conftest import make_datasette


async def test_home_and_database_pages_are_served_from_memory(db_path: Path) -> None:
    ds = make_datasette(db_path)
    for path in ("/", "/prestatieafspraken"):
        first = await ds.client.get(path)
        assert first.status_code == 200
        # With the database detached, only a stored page can still answer with the real content.
        ds.remove_database("prestatieafspraken")
        second = await ds.client.get(path)
        assert second.status_code == 200
        assert second.text == first.text
        assert dict(second.headers) == dict(first.headers)
        ds = make_datasette(db_path)


async def test_other_pages_are_kept_until_a_reload_asks_for_a_fresh_answer(db_path: Path) -> None:
    ds = make_datasette(db_path)
    first = await ds.client.get("/prestatieafspraken/sources.json?_size=2")
    assert first.status_code == 200
    ds.remove_database("prestatieafspraken")
    again = await ds.client.get("/prestatieafspraken/sources.json?_size=2")
    assert again.status_code == 200 and again.text == first.text
    # A different URL, a reload (no-cache) or a conditional request is not answered from the store.
    assert (await ds.client.get("/prestatieafspraken/sources.json?_size=3")).status_code == 404
    fresh = await ds.client.get("/prestatieafspraken/sources.json?_size=2", headers={"Cache-Control": "no-cache"})
    assert fresh.status_code == 404
    assert (await ds.client.get("/prestatieafspraken/sources.json?_size=2",
                                headers={"If-None-Match": '"x"'})).status_code == 404


async def test_errors_are_not_stored(db_path: Path) -> None:
    ds = make_datasette(db_path)
    assert (await ds.client.get("/prestatieafspraken/no_such_table")).status_code == 404
    assert (await ds.client.get("/prestatieafspraken/no_such_table")).status_code == 404
    assert (await ds.client.get("/?x=1")).status_code == 200
    ds.remove_database("prestatieafspraken")
    assert "coverage_overview" in (await ds.client.get("/?x=1")).text  # stored while the database was there


def _answer(body_bytes: int) -> list[dict[str, Any]]:
    return [{"type": "http.response.start", "status": 200, "headers": []},
            {"type": "http.response.body", "body": b"x" * body_bytes}]


def test_the_store_is_bounded_and_drops_the_least_recently_used() -> None:
    store = Store(max_bytes=10_000, max_entry_bytes=4_000)
    keys = [(f"/p{i}", b"", b"h", b"") for i in range(10)]
    for key in keys[:3]:
        store.put(key, _answer(3_000))
    assert store.get(keys[0]) is not None  # used: now the most recent
    store.put(keys[3], _answer(3_000))
    assert store.bytes <= 10_000
    assert store.get(keys[1]) is None and store.get(keys[0]) is not None
    store.put(keys[4], _answer(5_000))  # larger than one entry may be
    assert store.get(keys[4]) is None
    for key in keys:
        store.put(key, _answer(1_000))
    assert store.bytes <= 10_000
    store.put(("/", b"", b"h", b""), _answer(50_000))  # the home page is pinned, outside the bound
    assert store.get(("/", b"", b"h", b"")) is not None and store.bytes <= 10_000
