"""The data package validates with frictionless, generated docs are current, and `make serve` serves."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from loaders.docs import render_data_model
from loaders.schema import PROJECT_ROOT, Package

BIN = Path(sys.executable).parent


def test_frictionless_validates_the_package() -> None:
    proc = subprocess.run([str(BIN / "frictionless"), "validate", "datapackage.yaml"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_frictionless_catches_a_semicolon_file(project_copy: Path) -> None:
    path = project_copy / "csv" / "documents.csv"
    path.write_bytes(path.read_bytes().replace(b",", b";"))
    proc = subprocess.run([str(BIN / "frictionless"), "validate", "datapackage.yaml"], cwd=project_copy,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0


def test_generated_data_model_doc_is_current(package: Package) -> None:
    committed = (PROJECT_ROOT / "docs" / "data-model.md").read_text(encoding="utf-8")
    assert committed == render_data_model(package), "run `make docs` and commit docs/data-model.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_make_serve_serves_the_home_page(tmp_path: Path) -> None:
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    proc = subprocess.Popen(["make", "serve"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    body = response.read().decode()
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        assert "Prestatieafspraken volkshuisvesting" in body, proc.stdout.read().decode() if proc.poll() else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/settings.json", timeout=5) as response:
            settings = response.read().decode()
        assert '"sql_time_limit_ms": 1000' in settings
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
