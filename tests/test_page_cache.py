"""Pages are built once and then served from memory, byte for byte the same; the store is bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from plugins.page_cache import Store, wrap
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


async def test_site_search_answers_are_kept(db_path: Path) -> None:
    ds = make_datasette(db_path)
    word = (await ds.get_database("prestatieafspraken").execute(
        "select term from site_search_terms order by entries desc limit 1")).first()[0]
    first = await ds.client.get(f"/-/zoeken?q={word}")
    assert first.status_code == 200 and "<mark>" in first.text
    ds.remove_database("prestatieafspraken")
    again = await ds.client.get(f"/-/zoeken?q={word}")
    assert again.status_code == 200 and again.text == first.text
    assert (await ds.client.get(f"/-/zoeken?q={word}x")).status_code != 200  # a new search needs the database


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


def _scope(path: str = "/prestatieafspraken/sources", query: bytes = b"") -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": [(b"host", b"h")]}


class CountingApp:
    """An ASGI app that answers `status` once `release` is set, counting the answers it computes."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.started = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.started += 1
        number = self.started
        await self.release.wait()
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": f"answer {number}".encode()})


async def _get(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    await app(scope, receive, send)
    return sent


async def test_a_burst_on_one_url_computes_it_once() -> None:
    inner = CountingApp()
    app = wrap(inner, Store())
    burst = [asyncio.create_task(_get(app, _scope())) for _ in range(8)]
    other = asyncio.create_task(_get(app, _scope(query=b"_size=2")))
    await asyncio.sleep(0.01)
    assert inner.started == 2  # one per URL; the seven others wait for the first
    inner.release.set()
    answers = await asyncio.gather(*burst)
    assert {a[-1]["body"] for a in answers} == {b"answer 1"}
    assert (await other)[-1]["body"] == b"answer 2"
    assert inner.started == 2


async def test_requests_that_waited_do_not_wait_for_the_first_client_to_read_the_answer() -> None:
    inner = CountingApp()
    app = wrap(inner, Store())
    never = asyncio.Event()

    async def slow_reader(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            await never.wait()  # a client that does not read: its send never returns

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    first = asyncio.create_task(app(_scope(), receive, slow_reader))
    await asyncio.sleep(0.01)
    waiting = [asyncio.create_task(_get(app, _scope())) for _ in range(3)]
    await asyncio.sleep(0.01)
    inner.release.set()
    answers = await asyncio.wait_for(asyncio.gather(*waiting), timeout=5)
    assert inner.started == 1 and {a[-1]["body"] for a in answers} == {b"answer 1"}
    first.cancel()


async def test_an_error_goes_to_the_requests_that_waited_and_is_not_kept() -> None:
    inner = CountingApp(status=500)
    app = wrap(inner, Store())
    burst = [asyncio.create_task(_get(app, _scope())) for _ in range(3)]
    await asyncio.sleep(0.01)
    inner.release.set()
    answers = await asyncio.gather(*burst)
    assert inner.started == 1 and all(a[0]["status"] == 500 and a[-1]["body"] == b"answer 1" for a in answers)
    later = await _get(app, _scope())
    assert inner.started == 2 and later[-1]["body"] == b"answer 2"  # not kept: the next request computes again


async def test_requests_that_waited_compute_their_own_when_the_answer_is_too_large_to_hold() -> None:
    inner = CountingApp()
    app = wrap(inner, Store(max_entry_bytes=4))
    burst = [asyncio.create_task(_get(app, _scope())) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert inner.started == 1
    inner.release.set()
    answers = await asyncio.gather(*burst)
    assert inner.started == 3
    assert sorted(a[-1]["body"] for a in answers) == [b"answer 1", b"answer 2", b"answer 3"]


async def test_when_the_first_client_leaves_a_waiting_request_builds_the_page() -> None:
    inner = CountingApp()
    app = wrap(inner, Store())
    first = asyncio.create_task(_get(app, _scope()))
    await asyncio.sleep(0.01)
    waiting = [asyncio.create_task(_get(app, _scope())) for _ in range(3)]
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0.01)
    assert inner.started == 2  # one of the waiting requests took over; the other two wait for it
    inner.release.set()
    answers = await asyncio.gather(*waiting)
    assert {a[-1]["body"] for a in answers} == {b"answer 2"}
    with pytest.raises(asyncio.CancelledError):
        await first
