"""Shared helpers: child processes with their own peak memory, servers on 127.0.0.1, wrk, machine info."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loaders.schema import PROJECT_ROOT

BENCH_DIR = Path(__file__).resolve().parent
SCRATCH = BENCH_DIR / "scratch"
# Side-by-side runs of one change are appended here; results.md is written again from results.json on every run.
SIDE_BY_SIDE = BENCH_DIR / "side-by-side.md"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
REPORT_LUA = BENCH_DIR / "wrk_report.lua"
MIX_LUA = BENCH_DIR / "wrk_mix.lua"


@dataclass
class Run:
    """One child process: wall time, peak resident memory (its own, from wait4) and exit."""

    command: list[str]
    seconds: float
    max_rss_mb: float
    returncode: int | None  # None: killed at the timeout
    stderr_tail: str = ""
    cpu_seconds: float = 0.0  # user + system time of the child: less sensitive to a busy machine than wall time

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def run_measured(command: Sequence[str], timeout: float, cwd: Path = PROJECT_ROOT,
                 env: dict[str, str] | None = None, scratch: Path = SCRATCH) -> Run:
    """Run a command, return wall time and the peak RSS of that child (ru_maxrss of wait4, in kB)."""
    err_path = scratch / "last-stderr.txt"
    scratch.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with err_path.open("wb") as err:
        proc = subprocess.Popen(list(command), cwd=cwd, stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, **(env or {})}, start_new_session=True)
        deadline = started + timeout
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                seconds = time.monotonic() - started
                return Run(list(command), seconds, usage.ru_maxrss / 1024, None, _tail(err_path),
                           usage.ru_utime + usage.ru_stime)
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    return Run(list(command), seconds, usage.ru_maxrss / 1024, proc.returncode, _tail(err_path),
               usage.ru_utime + usage.ru_stime)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as response:
            if response.status < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def server(command: Sequence[str], ready_url: str, log_name: str, cwd: Path = PROJECT_ROOT,
           env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A server process in its own process group; stopped (TERM, then KILL) on the way out. `env`: variables
    added to this process's environment."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log = (SCRATCH / f"{log_name}.log").open("wb")
    proc = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            cwd=cwd, env={**os.environ, **env} if env else None)
    try:
        wait_ready(ready_url)
        yield proc
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process and all its threads so far, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))


def settle(pids: Sequence[int], quiet_s: float = 0.1, timeout_s: float = 15) -> float:
    """Wait until the servers have used no CPU for `quiet_s` (at most `timeout_s`); return the seconds waited.

    wrk stops at its deadline, but a server goes on computing the answers its connections were still waiting
    for: at 8 connections up to 8 answers of a second each. Without this wait that work lands on whatever is
    measured next, on either server (both share the cores). No pids: no wait."""
    started = time.monotonic()
    if not pids:
        return 0.0
    before = sum(cpu_ticks(pid) for pid in pids)
    while time.monotonic() - started < timeout_s:
        time.sleep(quiet_s)
        now = sum(cpu_ticks(pid) for pid in pids)
        if now == before:
            break
        before = now
    return time.monotonic() - started


def our_site_command(db: Path, port: int) -> list[str]:
    """`prestatieafspraken serve`, exactly: the same command line the tests start."""
    from loaders.cli import serve_command

    return serve_command(PROJECT_ROOT, db, HOST, port)


def bare_command(db: Path, port: int) -> list[str]:
    """Datasette on the same database with the same settings.json values, and no metadata, plugins dir or
    templates: the like-for-like baseline."""
    settings = json.loads((PROJECT_ROOT / "settings.json").read_text(encoding="utf-8"))
    options = [arg for name, value in settings.items()
               for arg in ("--setting", name, json.dumps(value) if isinstance(value, bool) else str(value))]
    return [str(BIN / "datasette"), "serve", "-i", str(db), "--host", HOST, "--port", str(port), *options]


def peak_rss_mb(proc: subprocess.Popen[bytes]) -> float | None:
    """The process's peak resident memory so far (VmHWM), in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def wrk(url: str, *, connections: int, seconds: float, script: Path = REPORT_LUA, args: Sequence[str] = (),
        headers: Sequence[str] = (), threads: int = 1, timeout_s: int = 10) -> dict[str, Any]:
    """Run wrk and return the JSON the Lua script prints in done() (latencies in ms)."""
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError("load is only ever sent to 127.0.0.1")
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
               "--timeout", f"{timeout_s}s", "-s", str(script)]
    for header in headers:
        command += ["-H", header]
    command += [url]
    if args:
        command += ["--", *args]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    match = re.search(r"^JSON (.*)$", out.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")
    result = json.loads(match.group(1))
    for key in list(result):
        if key.endswith("_us"):
            result[key.removesuffix("_us") + "_ms"] = round(result.pop(key) / 1000, 2)
    result["rps"] = round(result["requests"] / (result["duration_ms"] / 1000), 1)
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors",
                                               "timeout_errors", "status_errors"))
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def version_of(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not installed"


def machine_info() -> dict[str, Any]:
    from importlib.metadata import version

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = 0.0
    with contextlib.suppress(OSError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem_gb = round(mem_kb / 1024 / 1024, 1)
    packages = {}
    for name in ("datasette", "datasette-vega", "frictionless", "sqlite-utils", "asgi-gzip", "uvicorn"):
        with contextlib.suppress(Exception):
            packages[name] = version(name)
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "os": platform.platform(),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": list(os.getloadavg()),
        "packages": packages,
        "wrk": version_of(["wrk", "--version"]) if shutil.which("wrk") else "not installed",
        "nginx": version_of(["nginx", "-v"]) if shutil.which("nginx") else "not installed",
    }


def machine_and_load(run: dict[str, Any]) -> str:
    """The sentence every side-by-side section ends its introduction with: the machine, and its load before and
    after the run (these machines are shared, so a reader must know how busy it was)."""
    load = ", ".join
    return (f"Machine: {run['machine'].get('cpu', '')}, {run['machine'].get('cores', '')} cores, shared with other "
            f"work. Load average (1, 5, 15 min) before: {load(f'{x:.2f}' for x in run['load_before'])}; after: "
            f"{load(f'{x:.2f}' for x in run['load_after'])}.")


def append_side_by_side(text: str) -> None:
    """Add a run's section at the end of bench/side-by-side.md (never rewritten, so no run is lost)."""
    with SIDE_BY_SIDE.open("a", encoding="utf-8") as out:
        out.write("\n" + text)
