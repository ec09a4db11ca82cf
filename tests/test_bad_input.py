"""The bad-input corpus (tests/bad_inputs/): every case is refused with a `file:line: column: reason`
message, exit code 1, no traceback, and the previous database stays byte-for-byte the same.

Each case folder holds the CSV files that differ from the small valid package in
tests/bad_inputs/_base and expected.txt, the message the loader must print:
`file:line: column: reason-fragment`. A marker `<name>.csv.<kind>` replaces that CSV by
something git cannot hold: `delete` removes it, `dir` makes it a directory, `fifo` a named
pipe, `symlink` a symbolic link to the marker's content (`{outside}`: a valid copy of the
file outside the project), `unreadable` takes away read permission, `oversize` makes it a
sparse file larger than the loader reads.

The valid package is built once; each case then runs the real `build` command in-process
against a copy of that database. Cases that would hang or read without end if a check
regressed (a named pipe, a link to a device, a huge file) run the command as a separate
process with a timeout and a memory cap, so a regression fails the test, not the machine.
"""

from __future__ import annotations

import errno
import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import loaders.files
from loaders.cli import cli
from loaders.files import MAX_BYTES
from loaders.schema import PROJECT_ROOT

CORPUS = Path(__file__).with_name("bad_inputs")
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
LINE = re.compile(r"^(?P<file>[\w./-]+):(?P<line>\d+): (?P<column>[^:]+): (?P<reason>.+)$")
EXPECTED = re.compile(r"^([^:]+):(\d+): ([^:]+):\s*(.*)$")
MEMORY_CAP = 1 << 30  # address space of the loader process in the risky cases: ten times what it needs
TIMEOUT = 60


def _markers(case: str) -> list[tuple[str, str, str]]:
    """(file name in csv/, kind, content) for every marker of the case; kind "" is a plain replacement file."""
    out = []
    for path in sorted((CORPUS / case / "csv").iterdir()):
        name, dot, kind = path.name.partition(".csv.")
        if dot:
            out.append((f"{name}.csv", kind, path.read_text(encoding="utf-8")))
        else:
            out.append((path.name, "", ""))
    return out


def apply_case(root: Path, case: str) -> None:
    """Turn the valid project at `root` into the case's bad one."""
    folder = root / "csv"
    for name, kind, content in _markers(case):
        target = folder / name
        if kind == "":
            shutil.copy(CORPUS / case / "csv" / name, target)
        elif kind == "unreadable":
            target.chmod(0)
        elif kind == "oversize":
            with target.open("r+b") as f:
                f.truncate(MAX_BYTES + 1)  # sparse: takes no disk space
        else:
            original = target.read_bytes()
            target.unlink()
            if kind == "dir":
                target.mkdir()
            elif kind == "fifo":
                os.mkfifo(target)
            elif kind == "symlink":
                if content == "{outside}":
                    outside = root.parent / "outside" / name
                    outside.parent.mkdir(exist_ok=True)
                    outside.write_bytes(original)
                    content = str(outside)
                target.symlink_to(content)
            elif kind != "delete":
                raise ValueError(f"unknown marker {kind} in {case}")


def make_project(tmp_path: Path, case: str | None = None) -> Path:
    root = tmp_path / "project"
    shutil.copytree(CORPUS / "_base", root)
    shutil.copy(PROJECT_ROOT / "datapackage.yaml", root / "datapackage.yaml")
    if case:
        apply_case(root, case)
    return root


def build(root: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--root", str(root), "build", "--output", str(root / "build" / "site.db")])


def _risky(case: str) -> bool:
    return any(kind in ("fifo", "oversize") or (kind == "symlink" and content.startswith("/dev/"))
               for _name, kind, content in _markers(case))


def _deny_reading_as_root(monkeypatch: pytest.MonkeyPatch, root: Path, case: str) -> None:
    """Root reads a file whatever its mode; make opening it fail as the kernel does for every other user."""
    denied = {root / "csv" / name for name, kind, _ in _markers(case) if kind == "unreadable"}
    if not denied or os.geteuid() != 0:
        return
    real_open = os.open

    def open_as_user(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path) in denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(loaders.files.os, "open", open_as_user)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_capped(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a separate process with a timeout and a memory cap."""
    return subprocess.run([sys.executable, "-m", "loaders", "--root", str(root), *args], capture_output=True,
                          text=True, timeout=TIMEOUT, preexec_fn=_cap_memory, cwd=root)


def assert_refused(case: str, output: str) -> None:
    """One `file:line: column: reason` line per problem, the expected one among them, then the summary."""
    assert "Traceback" not in output
    lines = output.splitlines()
    assert lines[-1].endswith("nothing was written."), output
    messages = [LINE.match(line) for line in lines[:-1]]
    assert messages and all(messages), output
    expected = (CORPUS / case / "expected.txt").read_text(encoding="utf-8").strip()
    file, line, column, reason = EXPECTED.match(expected).groups()  # type: ignore[union-attr]
    hits = [m for m in messages if m and m["file"] == file and m["line"] == line and m["column"] == column
            and reason in m["reason"]]
    assert hits, f"expected {expected!r} in:\n{output}"


@pytest.fixture(scope="module")
def base_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What `build` writes for the valid package: built once, copied into every case."""
    root = make_project(tmp_path_factory.mktemp("base"))
    result = build(root)
    assert result.exit_code == 0, result.output
    outputs = {p.name: p.read_bytes() for p in (root / "build").iterdir()}
    shutil.rmtree(root.parent)
    return outputs


def _project_with_outputs(tmp_path: Path, outputs: dict[str, bytes]) -> Path:
    root = make_project(tmp_path)
    (root / "build").mkdir()
    for name, data in outputs.items():
        (root / "build" / name).write_bytes(data)
    return root


def _outputs(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / "build").iterdir()}


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 120


def test_base_package_is_valid(base_outputs: dict[str, bytes]) -> None:
    assert {"site.db", "prestatieafspraken-datapackage.zip"} <= set(base_outputs)


@pytest.mark.parametrize("case", [c for c in CASES if not _risky(c)])
def test_bad_input_is_refused_cleanly(case: str, tmp_path: Path, base_outputs: dict[str, bytes],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project_with_outputs(tmp_path, base_outputs)
    apply_case(root, case)
    _deny_reading_as_root(monkeypatch, root, case)

    result = build(root)

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert_refused(case, result.output)
    assert _outputs(root) == base_outputs, "build output changed or left behind"


@pytest.mark.parametrize("case", [c for c in CASES if _risky(c)])
def test_risky_input_is_refused_by_a_capped_process(case: str, tmp_path: Path, base_outputs: dict[str, bytes]) -> None:
    root = _project_with_outputs(tmp_path, base_outputs)
    apply_case(root, case)
    try:
        proc = run_capped(root, "build", "--output", "build/site.db")
        assert proc.returncode == 1, proc.stderr
        assert_refused(case, proc.stderr)
        assert _outputs(root) == base_outputs, "build output changed or left behind"
    finally:
        shutil.rmtree(root)  # the sparse file should not wait for pytest's clean-up


def test_the_memory_cap_leaves_room_for_a_real_build(tmp_path: Path) -> None:
    """Without this, a risky case could pass only because the capped process could not even start."""
    root = make_project(tmp_path)
    proc = run_capped(root, "build", "--output", "build/site.db")
    assert proc.returncode == 0, proc.stderr
    assert (root / "build" / "site.db").stat().st_size > 0


def test_several_problems_are_reported_at_once(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    for case in ("enum-agreement-kind", "delimiter-semicolon", "encoding-utf-8-bom", "fk-unknown-source"):
        apply_case(root, case)
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


def _edit_descriptor(root: Path, change: Callable[[str], str]) -> None:
    path = root / "datapackage.yaml"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def test_a_descriptor_path_outside_the_repository_is_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (tmp_path / "elders.csv").write_bytes((root / "csv" / "themes.csv").read_bytes())
    _edit_descriptor(root, lambda text: text.replace("path: csv/themes.csv", "path: ../elders.csv"))
    result = CliRunner().invoke(cli, ["--root", str(root), "validate"])
    assert result.exit_code == 1
    assert "../elders.csv:1: (file): leads outside the repository" in result.output


def test_a_broken_descriptor_is_one_line(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    _edit_descriptor(root, lambda text: text.replace("resources:\n", "resources:\n  - name: [\n", 1))
    result = CliRunner().invoke(cli, ["--root", str(root), "validate"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    (line,) = result.output.splitlines()
    assert re.match(rf"^Error: {re.escape(str(root / 'datapackage.yaml'))}:\d+: column \d+: not valid YAML", line)


def test_a_descriptor_that_is_a_named_pipe_does_not_hang(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "datapackage.yaml").unlink()
    os.mkfifo(root / "datapackage.yaml")
    proc = run_capped(root, "validate")
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("datapackage.yaml:1: (file): cannot read the descriptor: "
                                        "is a named pipe (FIFO), not a file")


def test_a_named_pipe_for_a_zipped_document_fails_the_build_and_keeps_both_outputs(
        tmp_path: Path, base_outputs: dict[str, bytes]) -> None:
    root = _project_with_outputs(tmp_path, base_outputs)
    (root / "LICENSE-DATA.md").unlink(missing_ok=True)
    os.mkfifo(root / "LICENSE-DATA.md")
    proc = run_capped(root, "build", "--output", "build/site.db")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == ("Error: build/site.db: build failed, previous database kept: "
                                            "LICENSE-DATA.md: is a named pipe (FIFO), not a file")
    assert _outputs(root) == base_outputs


def test_a_bug_in_the_loader_is_still_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path)

    def broken(_package, **_options):  # type: ignore[no-untyped-def]
        raise KeyError("somewhere")

    monkeypatch.setattr("loaders.cli.validate_package", broken)
    result = CliRunner().invoke(cli, ["--root", str(root), "validate"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.splitlines() == ["internal error: KeyError: 'somewhere'; this is a bug in the loader, not in "
                                          "the data: please report it with the command you ran"]
