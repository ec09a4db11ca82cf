"""Property: whatever bytes a CSV holds, the loader gives a clean error or a valid build, never a crash,
and a failed build leaves the previous outputs as they were."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.cli import cli
from tests.test_bad_input import LINE, make_project

TABLES = ["sources", "partners", "agreements", "specifications", "themes", "projects", "places"]
# Bytes that matter to a CSV parser, mixed with anything at all.
CSV_BYTES = st.lists(st.sampled_from([b",", b";", b'"', b"\n", b"\r\n", b"\r", b"\t", b"\x00", b"\xef\xbb\xbf",
                                      b"\xeb", b"S001", b"doc-2024", b"2024-02-30", b"=1+1", b"<b>", b"x" * 300,
                                      b"\xc2\x85", b"\xe2\x80\x8b", b"\xc2\xa0", b"Infinity", b"1e400", b"-",
                                      b"99999999999999999999", b"0000", b"2024-ab", b"javascript:", b"+cmd|",
                                      b"corp-a", b"proj-sloop"]),
                     max_size=40).map(b"".join)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The outputs of the valid package, built once and copied into every example."""
    root = make_project(tmp_path_factory.mktemp("prop-base"))
    result = CliRunner().invoke(cli, ["--root", str(root), "build", "--output", str(root / "build" / "site.db")])
    assert result.exit_code == 0, result.output
    outputs = {p.name: p.read_bytes() for p in (root / "build").iterdir()}
    shutil.rmtree(root.parent)
    return outputs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from(TABLES), mode=st.sampled_from(["replace", "append", "prefix"]),
       noise=st.one_of(CSV_BYTES, st.binary(max_size=200)))
def test_random_bytes_never_crash_the_loader(tmp_path_factory, built: dict[str, bytes], table: str, mode: str,
                                             noise: bytes) -> None:
    root = make_project(tmp_path_factory.mktemp("prop"))
    runner = CliRunner()
    output = root / "build" / "site.db"
    output.parent.mkdir()
    for name, data in built.items():
        (output.parent / name).write_bytes(data)
    before = {p.name: p.read_bytes() for p in output.parent.iterdir()}
    path = root / "csv" / f"{table}.csv"
    original = path.read_bytes()
    path.write_bytes({"replace": noise, "append": original + noise, "prefix": noise + original}[mode])

    result = runner.invoke(cli, ["--root", str(root), "build", "--output", str(output)])

    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.exception)
    if result.exit_code == 1:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        lines = result.output.splitlines()
        assert lines[-1].endswith("nothing was written.")
        assert all(LINE.match(line) for line in lines[:-1]), result.output
        assert {p.name: p.read_bytes() for p in output.parent.iterdir()} == before
    shutil.rmtree(root)
