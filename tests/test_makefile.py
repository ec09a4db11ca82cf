"""`make build` notices a deleted CSV: the build fails with the loader's message and the old database stays;
when nothing changed it does not rebuild."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from loaders.cli import DEFAULT_DB
from loaders.schema import PROJECT_ROOT
from tests.test_bad_input import make_project

DB = DEFAULT_DB


def make_build(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "-C", str(root), "build",
                           f"BIN={Path(sys.executable).parent}", f"STAMP={root / 'installed'}"],
                          capture_output=True, text=True, timeout=300)


def test_make_build_fails_when_a_csv_is_deleted_and_keeps_the_database(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    for name in ("Makefile", "pyproject.toml", "loaders/views.yaml", "loaders/aggregates.yaml",
                 "publication.yaml", "LICENSE-DATA.md"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / name, root / name)
    (root / "installed").touch()

    first = make_build(root)
    assert first.returncode == 0, first.stderr
    built = (root / DB).read_bytes()
    mtime = (root / DB).stat().st_mtime_ns

    again = make_build(root)
    assert again.returncode == 0, again.stderr
    assert "prestatieafspraken build" not in again.stdout, "rebuilt although nothing changed"
    assert (root / DB).stat().st_mtime_ns == mtime

    (root / "csv" / "themes.csv").unlink()
    for _ in range(2):  # and it keeps failing until the file is back
        gone = make_build(root)
        assert gone.returncode != 0, gone.stdout
        assert "csv/themes.csv:1: (file): file is missing" in gone.stderr
        assert "Traceback" not in gone.stderr
        assert (root / DB).read_bytes() == built
