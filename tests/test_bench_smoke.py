"""`make bench` cannot rot: its generator makes keys for every pattern the schema allows, and the loader half of
the benchmark runs end to end at scale 2 (python -m bench.run --smoke) in every `make test`."""

from __future__ import annotations

import contextlib
import math
import re
from pathlib import Path

import pytest

from bench import run
from bench.generate import Language
from bench.plans import connect
from bench.question_sweep import report, sweep, values
from bench.serving import saved_queries
from loaders.schema import Package

ENOUGH = 3_000


def test_every_pattern_in_the_schema_gives_distinct_matching_values(package: Package) -> None:
    patterns = {(f.raw.get("constraints") or {}).get("pattern") for r in package.resources for f in r.fields} - {None}
    assert patterns
    for pattern in patterns:
        language = Language(pattern)
        values = [language.nth(i) for i in range(int(min(language.count, ENOUGH)))]
        assert len(set(values)) == len(values), pattern
        assert all(re.fullmatch(pattern, v) for v in values), pattern


@pytest.mark.parametrize(("pattern", "beyond"), [
    ("S[0-9]{3,}", "S0999"),            # unbounded repeat: past S999, four digits
    ("[a-z]{2}(-[0-9]+)?", "aa-0"),      # optional group
    ("(ab|cd)[0-9]", "cd0"),            # alternatives
    (r"\d{2}-\w+", "00-0"),             # categories
    ("[^-]", "!"),                     # negated class
])
def test_patterns_of_any_shape_are_enumerated(pattern: str, beyond: str) -> None:
    language = Language(pattern)
    values = {language.nth(i) for i in range(int(min(language.count, 2_000)))}
    assert beyond in values
    assert all(re.fullmatch(pattern, v) for v in values)


def test_a_pattern_without_a_list_of_strings_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"cannot enumerate pattern '\(\?=a\)a'"):
        Language("(?=a)a")


@pytest.mark.slow
def test_the_bench_smoke_runs_end_to_end() -> None:
    assert run.main(["--smoke"]) == 0


def test_the_saved_query_bench_asks_every_query_with_its_parameters() -> None:
    import urllib.parse

    from bench import saved_queries
    from loaders.queries import load_queries
    from loaders.schema import PROJECT_ROOT

    queries = load_queries(PROJECT_ROOT)
    asked = saved_queries.requests()
    assert {item["ours"].split("?")[0].rsplit("/", 1)[1] for item in asked} == set(queries)
    assert len(asked) == len(queries) + sum(len(v) for k, v in saved_queries.TYPICAL.items() if k in queries)
    for item in asked:
        name = item["ours"].split("?")[0].rsplit("/", 1)[1]
        bare = urllib.parse.parse_qs(item["bare"].split("?", 1)[1], keep_blank_values=True)
        assert bare["sql"] == [queries[name]["sql"]]
        assert set(bare) - {"sql"} == set(queries[name].get("params", []))
    empty = {"p50_ms": 0.0, "p95_ms": 0.0}
    table = saved_queries.markdown({"latency_c1": [{"name": "q", "ours": {"p50_ms": 12.0, "p95_ms": 30.5},
                                                    "bare": empty, "sqlite3": empty}],
                                    "latency_c8": [], "charts": {"charts": {}}})
    assert "| q | 12.0 / 30.5 | — / — | — / — | — |" in table


@pytest.mark.parametrize(("new_wall", "new_cpu", "verdict"), [
    (120.0, 120.0, "**missed** — 1.20x"), (90.0, 90.0, "**met** — 0.90x"),
    # Sorting and zipping on the second core: sooner than the baseline while using more CPU.
    (95.0, 115.0, "**met** — 0.95x")])
def test_the_build_against_baseline_section_states_the_goal_as_measured(new_wall: float, new_cpu: float,
                                                                         verdict: str) -> None:
    runs = {"seconds": {"old": [150.0], "new": [new_wall], "baseline": [100.0]},
            "cpu_seconds": {"old": [140.0], "new": [new_cpu], "baseline": [100.0]},
            "peak_rss_mb": {"old": [250.0], "new": [260.0], "baseline": [40.0]}}
    result = {"scale": 1000, "date": "d", "against": "abc", "rounds": 1, **runs,
              "load_average_before": [1.0, 1.0, 1.0], "load_average_after": [2.0, 2.0, 2.0],
              "ratio_old_to_baseline": 1.5, "ratio_new_to_baseline": round(new_wall / 100, 2),
              "ratio_cpu_old_to_baseline": 1.4, "ratio_cpu_new_to_baseline": round(new_cpu / 100, 2)}
    text = "\n".join(run.build_baseline_section({"build_vs_baseline": {"1000": result}}))
    assert f"no slower than the baseline in wall time: {verdict}" in text
    assert f"in CPU time {new_cpu / 100:.2f}x" in text  # the CPU ratio is shown whichever way the goal goes
    assert "build of abc" in text and "build of this tree" in text and "sqlite-utils insert --csv" in text


@pytest.mark.parametrize("module", ["pages", "before_after"])
def test_side_by_side_sections_say_how_busy_the_machine_was(module: str) -> None:
    import importlib

    section = importlib.import_module(f"bench.{module}").section
    measured = {"date": "d", "db": "x.db", "seconds": 1, "before_ref": "main", "before_commit": "a",
                "after_commit": "b", "machine": {"cpu": "Some CPU", "cores": 2}, "load_before": [1.0, 2.0, 3.0],
                "load_after": [4.0, 5.0, 6.0], "latency": {}}
    text = section(measured)
    assert "Machine: Some CPU, 2 cores" in text
    assert "before: 1.00, 2.00, 3.00; after: 4.00, 5.00, 6.00." in text


def test_the_question_sweep_asks_every_question_with_every_combination(db_path: Path) -> None:
    results = sweep(db_path, limit_s=30)
    questions = {name: query.get("params", []) for name, query in saved_queries().items()}
    assert {name for _, name, _, _ in results} == set(questions)
    with contextlib.closing(connect(db_path)) as conn:
        expected = sum(math.prod(len(values(p, conn)) for p in params) for params in questions.values())
    assert len(results) == expected
    # On the shipped data every combination answers: none stopped or failed.
    assert all(rows is not None for _, _, _, rows in results)
    assert f"{expected} combinations of {len(questions)} questions; 0 over" in report(results, 30)


def _wrk_result(requests: int, p50: float, max_ms: float) -> dict[str, float]:
    return {"requests": requests, "duration_ms": 1000.0, "bytes": 10 * requests, "connect_errors": 0,
            "read_errors": 0, "write_errors": 0, "timeout_errors": 0, "status_errors": 1, "errors": 1,
            "mean_ms": p50, "p50_ms": p50, "p90_ms": p50, "p95_ms": p50, "p99_ms": p50, "max_ms": max_ms}


def test_ours_and_bare_take_turns_so_a_change_in_load_weighs_on_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """ours, bare, bare, ours, each for half the time; each target's two halves as one result."""
    from bench import serving

    calls: list[tuple[str, float]] = []
    results = iter([_wrk_result(100, 2.0, 5.0), _wrk_result(50, 4.0, 9.0), _wrk_result(150, 8.0, 20.0),
                    _wrk_result(300, 5.0, 7.0)])

    def fake_wrk(url: str, **kwargs: object) -> dict[str, float]:
        calls.append((url, kwargs["seconds"]))  # type: ignore[arg-type]
        return next(results)

    monkeypatch.setattr(serving, "wrk", fake_wrk)
    ours, bare = serving.side_by_side("http://o/p", "http://b/p", 1, 2, None)
    assert calls == [("http://o/p", 1), ("http://b/p", 1), ("http://b/p", 1), ("http://o/p", 1)]
    assert ours["requests"] == 400 and ours["p50_ms"] == 4.25 and ours["max_ms"] == 7.0 and ours["rps"] == 200
    assert bare["requests"] == 200 and bare["p50_ms"] == 7.0 and bare["errors"] == 2 and bare["runs"] == 2
    said = serving.turns_and_settling([[{"ours": ours, "bare": bare, "settled": True}]])
    assert "take turns" in said and "idle" not in said and "finished the work" in said
    assert serving.turns_and_settling([[{"ours": _wrk_result(1, 1.0, 1.0)}]]) == "ours, then bare, then sqlite3"


def test_a_run_too_short_to_split_measures_ours_then_bare(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import serving

    calls: list[str] = []
    monkeypatch.setattr(serving, "wrk", lambda url, **kwargs: calls.append(url) or _wrk_result(10, 1.0, 2.0))
    ours, bare = serving.side_by_side("http://o/p", "http://b/p", 1, 1, None)
    assert calls == ["http://o/p", "http://b/p"] and ours["requests"] == bare["requests"] == 10
    calls.clear()
    assert serving.side_by_side("http://o/p", None, 1, 2, None)[1] == {} and calls == ["http://o/p"]


def test_settle_waits_for_a_busy_process_and_not_for_an_idle_one() -> None:
    """The bench waits until the servers have finished the work a wrk run left them before measuring again."""
    import subprocess
    import sys

    from bench.common import settle

    spin = "print(flush=True)\nimport time\nend = time.time() + 1.0\nwhile time.time() < end: pass\ntime.sleep(30)"
    rest = "print(flush=True)\nimport time\ntime.sleep(30)"
    busy, idle = (subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) for code in (spin, rest))
    try:
        for proc in (busy, idle):
            assert proc.stdout is not None
            proc.stdout.readline()  # started: one spins for 1 s, then sleeps; the other sleeps
        assert settle([busy.pid], timeout_s=5) >= 0.5
        assert settle([idle.pid], timeout_s=5) < 0.5
    finally:
        for proc in (busy, idle):
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
