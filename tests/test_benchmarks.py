"""Every benchmark runs as a user runs it: `python benchmarks/NAME.py --help` from another folder, with
no PYTHONPATH, answers its usage; the gateway benchmark also runs whole on a few requests (--smoke)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def run_benchmark(script: Path, *args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python SCRIPT ARGS`` in ``cwd`` with the environment a user has: no PYTHONPATH, no studio settings."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("ANIMSTUDIO_")}
    env["ANIMSTUDIO_HOME"] = str(cwd / "home")
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)


def test_there_are_benchmarks():
    assert len(SCRIPTS) >= 10, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_each_benchmark_answers_help(script, tmp_path):
    proc = run_benchmark(script, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith(f"usage: {script.name}"), proc.stdout[:500]
    assert proc.stderr == ""
    assert not (tmp_path / "home").exists()   # --help does no work


def test_the_gateway_benchmark_runs_on_a_few_requests(tmp_path):
    pytest.importorskip("aiohttp")
    proc = run_benchmark(BENCHMARKS / "gateway_overhead.py", "--smoke", cwd=tmp_path, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [(line[:18].strip(), *line[18:].split()[:2]) for line in proc.stdout.splitlines()
            if line.startswith(("direct ", "ours ", "ours,"))]   # path, clients, requests
    assert rows == [(path, clients, requests) for path in ("direct", "ours", "ours, cache hit")
                    for clients, requests in (("1", "10"), ("4", "12"))]
    assert "smoke run: every path answered" in proc.stdout
    assert "reached the upstream" not in proc.stdout   # the cache answered every repeated request
