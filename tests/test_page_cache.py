"""The home and database pages are built once and then served from memory, byte for byte the same."""

from __future__ import annotations

from pathlib import Path

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


async def test_other_pages_and_variants_are_not_stored(db_path: Path) -> None:
    ds = make_datasette(db_path)
    assert (await ds.client.get("/prestatieafspraken/sources")).status_code == 200
    assert (await ds.client.get("/?x=1")).status_code == 200
    ds.remove_database("prestatieafspraken")
    assert (await ds.client.get("/prestatieafspraken/sources")).status_code == 404
    assert "Prestatieafspraken volkshuisvesting" in (await ds.client.get("/?x=1")).text
    assert "coverage_overview" not in (await ds.client.get("/?x=1")).text
