"""`animstudio doctor`: one report of what is installed, working and reachable."""

from __future__ import annotations

import json
import socket

from conftest import run_cli


def checks_of(proc) -> dict[tuple[str, str], dict]:
    data = json.loads(proc.stdout)
    return {(c["group"], c["name"]): c for c in data["checks"]}


def test_doctor_json_reports_every_area():
    proc = run_cli("doctor", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = checks_of(proc)
    assert json.loads(proc.stdout)["ok"] is True
    assert checks[("platform", "python")]["status"] == "ok"
    assert checks[("ffmpeg", "filters")]["status"] == "ok"
    for extra in ("analysis", "editing", "voice", "llm", "image", "knowledge", "agent", "studio"):
        assert checks[("extras", extra)]["status"] == "ok", checks[("extras", extra)]
    assert ("gpu", "torch") in checks
    assert any(group == "gpu" and name in ("nvidia", "gpu0") for group, name in checks)
    assert checks[("models", "whisper-base")]["detail"].startswith("not installed")
    assert checks[("services", "configured")]["status"] == "info"


def test_unreachable_service_fails_and_reachable_one_passes():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        up = listener.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            down = probe.getsockname()[1]  # bound, never listening: connections are refused
            proc = run_cli("doctor", "--json", env={
                "ANIMSTUDIO_KNOWLEDGE__CHROMA_URL": f"http://127.0.0.1:{up}",
                "ANIMSTUDIO_LLM__CACHE__REDIS_URL": f"redis://127.0.0.1:{down}/0"})
    assert proc.returncode == 1
    checks = checks_of(proc)
    assert checks[("services", "knowledge.chroma_url")]["status"] == "ok"
    bad = checks[("services", "llm.cache.redis_url")]
    assert bad["status"] == "fail" and "unset llm.cache.redis_url" in bad["detail"]


def test_doctor_table():
    proc = run_cli("doctor")
    assert proc.returncode == 0
    assert "all essential checks passed" in proc.stdout and "ffmpeg" in proc.stdout
