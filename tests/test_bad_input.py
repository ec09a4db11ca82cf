"""The bad-input corpus (tests/bad_inputs/): every case is refused with a `file:line: column: reason`
message, exit code 1, no traceback, and the previous database stays byte-for-byte the same.

Each case folder holds the CSV files that differ from the small valid package in
tests/bad_inputs/_base (a `<name>.csv.delete` file removes that CSV) and
expected.txt, the message the loader must print: `file:line: column: reason-fragment`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from loaders.cli import cli
from loaders.schema import PROJECT_ROOT

CORPUS = Path(__file__).with_name("bad_inputs")
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
LINE = re.compile(r"^(?P<file>[\w./-]+):(?P<line>\d+): (?P<column>[^:]+): (?P<reason>.+)$")


def make_project(tmp_path: Path, case: str | None = None) -> Path:
    root = tmp_path / "project"
    shutil.copytree(CORPUS / "_base", root)
    shutil.copy(PROJECT_ROOT / "datapackage.yaml", root / "datapackage.yaml")
    if case:
        for path in (CORPUS / case / "csv").iterdir():
            if path.name.endswith(".delete"):
                (root / "csv" / path.name.removesuffix(".delete")).unlink()
            else:
                shutil.copy(path, root / "csv" / path.name)
    return root


def build(root: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--root", str(root), "build", "--output", str(root / "build" / "site.db")])


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_base_package_is_valid(tmp_path: Path) -> None:
    result = build(make_project(tmp_path))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_cleanly(case: str, tmp_path: Path) -> None:
    root = make_project(tmp_path)
    assert build(root).exit_code == 0
    db = root / "build" / "site.db"
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}

    for path in (CORPUS / case / "csv").iterdir():
        if path.name.endswith(".delete"):
            (root / "csv" / path.name.removesuffix(".delete")).unlink()
        else:
            shutil.copy(path, root / "csv" / path.name)
    result = build(root)

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert lines[-1].endswith("nothing was written.")
    messages = [LINE.match(line) for line in lines[:-1]]
    assert messages and all(messages), result.output
    expected = (CORPUS / case / "expected.txt").read_text(encoding="utf-8").strip()
    file, line, column, reason = re.match(r"^([^:]+):(\d+): ([^:]+):\s*(.*)$", expected).groups()  # type: ignore[union-attr]
    hits = [m for m in messages if m["file"] == file and m["line"] == line and m["column"] == column
            and reason in m["reason"]]
    assert hits, f"expected {expected!r} in:\n{result.output}"
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == before, "build output changed or left behind"


def test_several_problems_are_reported_at_once(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    for case in ("enum-agreement-kind", "delimiter-semicolon", "encoding-utf-8-bom", "fk-unknown-source"):
        for path in (CORPUS / case / "csv").iterdir():
            shutil.copy(path, root / "csv" / path.name)
    result = CliRunner().invoke(cli, ["--root", str(root), "validate"])
    assert result.exit_code == 1
    files = {line.split(":")[0] for line in result.output.splitlines()[:-1]}
    assert {"csv/agreements.csv", "csv/documents.csv", "csv/themes.csv", "csv/specifications.csv"} <= files


def test_real_process_prints_no_traceback(tmp_path: Path) -> None:
    root = make_project(tmp_path, "encoding-windows-1252")
    proc = subprocess.run([sys.executable, "-m", "loaders", "--root", str(root), "validate"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("csv/partners.csv:2: ")
