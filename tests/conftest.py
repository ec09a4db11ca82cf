"""Shared fixtures: the project root, a database built from csv/, and a Datasette like `make serve` runs."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datasette.app import Datasette
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from loaders.build import build
from loaders.cli import serve_command
from loaders.datapackage_zip import ZIP_NAME, write_zip
from loaders.queries import load_queries
from loaders.schema import PROJECT_ROOT, Package
from loaders.server import configured_datasette
from loaders.site_files import write_site_files

ROOT = PROJECT_ROOT
DB_NAME = "prestatieafspraken"

# Nothing in the repository: hypothesis keeps its example database and its cache of constants in .hypothesis/
# under the working directory; here the examples are not kept and the cache lives in a temporary folder that
# is removed when the run ends.
_HYPOTHESIS_HOME = tempfile.TemporaryDirectory(prefix="hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME.name)
settings.register_profile("project", database=None)
settings.load_profile("project")


@pytest.fixture(scope="session")
def package() -> Package:
    return Package.load(ROOT)


@pytest.fixture(scope="session")
def db_path(tmp_path_factory: pytest.TempPathFactory, package: Package) -> Path:
    path = tmp_path_factory.mktemp("db") / f"{DB_NAME}.db"
    build(package, path, progress=lambda _m: None)
    write_zip(package, path.parent / ZIP_NAME)
    write_site_files(package, path)
    return path


def copy_build(db_path: Path, folder: Path) -> Path:
    """A copy of the built site (database, generated metadata and inspect data) in `folder`, to change."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in db_path.parent.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    return folder / db_path.name


def make_datasette(db_path: Path) -> Datasette:
    """A Datasette configured exactly as `prestatieafspraken serve` configures it."""
    return configured_datasette(ROOT, db_path)


@pytest.fixture(scope="session")
def ds(db_path: Path) -> Datasette:
    return make_datasette(db_path)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the data package, for tests that break it on purpose."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "datapackage.yaml", root / "datapackage.yaml")
    shutil.copytree(ROOT / "csv", root / "csv")
    return root


# The served process may use this much heap: a regression that lets one request allocate gigabytes then
# fails with MemoryError inside the server, and so fails the test, instead of exhausting the machine.
# RLIMIT_DATA, not RLIMIT_AS: vl-convert's V8 reserves more address space than any useful cap.
SERVER_MEMORY_CAP = 1536 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (SERVER_MEMORY_CAP, SERVER_MEMORY_CAP))
    os.setpgrp()  # its own process group, so the test can stop everything it started


@contextlib.contextmanager
def live_site(db_path: Path, log_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`prestatieafspraken serve` on a free loopback port, memory-capped, stopped afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(serve_command(ROOT, db_path, "127.0.0.1", port), stdout=log, stderr=log,
                                preexec_fn=_cap_memory)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/-/versions.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log_path.read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield base, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


# The saved questions as queries/ defines them, and a way to ask one as a visitor would.
SAVED_QUERIES: dict[str, Any] = load_queries(ROOT)


async def ask(ds: Datasette, name: str, **params: str) -> list[dict[str, Any]]:
    """The rows of a saved question, every parameter not given left empty (which matches everything)."""
    defaults = {p: "" for p in SAVED_QUERIES[name].get("params", [])}
    response = await ds.client.get(f"/{DB_NAME}/{name}.json", params={**defaults, **params, "_shape": "array"})
    assert response.status_code == 200, response.text[:500]
    return list(response.json())
