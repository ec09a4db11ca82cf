"""Drawing chart images in a worker process, so that drawing never stops the web server.

vl-convert holds Python's global interpreter lock for the whole of a render (up to a few seconds for
a large chart): in a thread of the server process it froze every other request meanwhile. One worker
process, started on first use with the `spawn` method (forking a server that runs threads is unsafe),
draws the images; the server only waits for the bytes. The function lives in this package rather than
in plugins/charts.py because a worker process can only run functions it can import.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from typing import Any

_pool: concurrent.futures.ProcessPoolExecutor | None = None


def draw_svg(spec: dict[str, Any]) -> bytes:
    """The chart laid out and drawn as SVG text, UTF-8; vl-convert loads nothing from any URL."""
    import vl_convert

    return str(vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])).encode("utf-8")


def draw_png(svg: bytes, scale: float, ppi: int) -> bytes:
    """The chart's SVG as PNG pixels. vl-convert's own PNG is this same rasterisation (byte for byte) after laying
    the chart out again, which for a large chart took as long as the drawing itself; the SVG is already there."""
    import vl_convert

    return bytes(vl_convert.svg_to_png(svg.decode("utf-8"), scale=scale, ppi=ppi))


def _exit_with_parent() -> None:
    """In the worker: end as soon as the process that started it ends, however it ended.

    A worker blocked on its task queue does not notice a parent that was killed or left through os._exit (a
    server stopped with SIGKILL, a pytest-xdist worker), and lived on as an orphan holding vl-convert's memory.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _worker() -> concurrent.futures.ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                       initializer=_exit_with_parent)
        atexit.register(_pool.shutdown, wait=False, cancel_futures=True)  # before module teardown
    return _pool


def warm_up() -> None:
    """In the worker: load vl-convert and draw one tiny chart, SVG and PNG. The first drawing in a process starts
    vl-convert's JavaScript engine and compiles Vega-Lite, half a second of CPU that the first chart drawn would
    otherwise pay."""
    tiny = {"mark": "bar", "data": {"values": [{"n": 1}]}, "encoding": {"x": {"field": "n", "type": "quantitative"}}}
    svg = draw_svg(tiny)
    draw_png(svg, 1.0, 72)


def start() -> None:
    """Start the worker and warm it up now, so no visitor waits for that."""
    _worker().submit(warm_up).result(timeout=60)


async def run(draw: Callable[..., bytes], *args: Any) -> bytes:
    """`draw(*args)` in the worker process; if the worker died (say, killed for memory), start a new one once."""
    global _pool
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_worker(), draw, *args)
    except concurrent.futures.process.BrokenProcessPool:
        _pool = None
        return await loop.run_in_executor(_worker(), draw, *args)
