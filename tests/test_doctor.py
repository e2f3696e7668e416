"""`animstudio doctor`: one report of what is installed, working and reachable."""

from __future__ import annotations

import json
import socket

import pytest

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


@pytest.mark.gpu
def test_gpu_is_reported_when_present():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    checks = checks_of(run_cli("doctor", "--json"))
    assert checks[("gpu", "torch")]["status"] == "ok" and "CUDA" in checks[("gpu", "torch")]["detail"]
    name = torch.cuda.get_device_name(0)
    assert checks[("gpu", "gpu0")]["status"] == "ok" and name in checks[("gpu", "gpu0")]["detail"]


def test_missing_extra_names_the_install_command(tmp_path):
    # a requirement of the `editing` extra hidden from this interpreter shows up as missing, with the fix
    fake = tmp_path / "site"
    fake.mkdir()
    (fake / "sitecustomize.py").write_text(
        "import importlib.metadata as m\n"
        "_real = m.version\n"
        "def version(name):\n"
        "    if name.lower() == 'opentimelineio':\n"
        "        raise m.PackageNotFoundError(name)\n"
        "    return _real(name)\n"
        "m.version = version\n")
    proc = run_cli("doctor", env={"PYTHONPATH": str(fake)})
    assert "missing opentimelineio: pip install 'animstudio[editing]'" in proc.stdout


def test_malformed_urls_and_a_file_as_home(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    proc = run_cli("doctor", "--json", env={"ANIMSTUDIO_LLM__CACHE__REDIS_URL": "http://localhost:99999",
                                            "ANIMSTUDIO_KNOWLEDGE__CHROMA_URL": "localhost:8000",
                                            "ANIMSTUDIO_HOME": str(afile)})
    assert proc.returncode == 1, proc.stderr
    checks = checks_of(proc)
    assert "malformed URL" in checks[("services", "llm.cache.redis_url")]["detail"]
    assert "write it like http://host:port" in checks[("services", "knowledge.chroma_url")]["detail"]
    home = checks[("platform", "home")]
    assert home["status"] == "fail" and "is not a folder" in home["detail"]
