"""The gpt-sovits engine against a real HTTP server that speaks GPT-SoVITS's api_v2 protocol."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
import soundfile as sf
from sovits_server import F0_HZ, TTSRequest, line_seconds, running_sovits, voice

from animstudio.errors import InvalidInputError, ServiceUnavailableError
from animstudio.voice.base import Prosody
from animstudio.voice.engines.gpt_sovits import GPTSoVITSEngine
from animstudio.voice.pitch import median_f0
from conftest import free_port

LINE = "Hello there, friend."


@pytest.fixture(scope="module")
def server():
    with running_sovits() as s:
        yield s


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two reference clips (4 s) and two sets of weights, as a GPT-SoVITS server would find them."""
    root = tmp_path_factory.mktemp("sovits-files")
    for name in ("mira", "olaf"):
        sf.write(root / f"{name}.wav", voice(4.0, 32000), 32000)
        (root / f"{name}.ckpt").write_bytes(b"gpt")
        (root / f"{name}.pth").write_bytes(b"sovits")
    return root


@pytest.fixture
def engine(server, files):
    server.requests.clear()
    return GPTSoVITSEngine(url=server.url, voices={
        "mira": {"ref_audio_path": str(files / "mira.wav"), "prompt_text": "I am Mira.", "prompt_lang": "en",
                 "languages": ["en", "ja"], "gpt_weights": str(files / "mira.ckpt"),
                 "sovits_weights": str(files / "mira.pth")},
        "olaf": {"ref_audio_path": str(files / "olaf.wav"), "prompt_text": "我是奥拉夫。", "prompt_lang": "all_zh",
                 "gpt_weights": str(files / "olaf.ckpt"), "sovits_weights": str(files / "olaf.pth")},
    })


def test_a_line_comes_back_as_speech(engine):
    speech = engine.synthesize(LINE, voice="mira")
    assert speech.sample_rate == 32000 and speech.language == "en" and speech.phonemes == []
    assert speech.audio.dtype == np.float32 and len(speech.audio) == round(line_seconds(LINE) * 32000)
    assert median_f0(speech.audio, 32000) == pytest.approx(F0_HZ, rel=0.01)


def test_the_body_has_api_v2_fields_and_values(engine, server, files):
    engine.synthesize(f"  {LINE} ", voice="mira", language="ja")
    (call,) = server.calls("/tts")
    assert call.method == "POST" and set(call.params) <= set(TTSRequest.model_fields)
    assert call.params == {
        "text": LINE, "text_lang": "ja", "ref_audio_path": str(files / "mira.wav"), "aux_ref_audio_paths": [],
        "prompt_text": "I am Mira.", "prompt_lang": "en", "top_k": 15, "top_p": 1.0, "temperature": 1.0,
        "text_split_method": "cut5", "batch_size": 1, "batch_threshold": 0.75, "split_bucket": True,
        "speed_factor": 1.0, "fragment_interval": 0.3, "seed": -1, "parallel_infer": True,
        "repetition_penalty": 1.35, "sample_steps": 32, "super_sampling": False, "media_type": "wav",
        "streaming_mode": False}


def test_weights_switch_once_per_change_of_voice(engine, server, files):
    for name in ("mira", "mira", "olaf", "olaf", "mira"):
        assert engine.synthesize("Hi.", voice=name).language == ("zh" if name == "olaf" else "en")
    switches = [(c.path, c.params["weights_path"]) for c in server.requests if c.path != "/tts"]
    assert switches == [(f"/set_{kind}_weights", str(files / f"{name}.{ext}"))
                        for name in ("mira", "olaf", "mira") for kind, ext in (("gpt", "ckpt"), ("sovits", "pth"))]
    assert [c.path for c in server.requests[:3]] == ["/set_gpt_weights", "/set_sovits_weights", "/tts"]
    assert server.sovits_weights == str(files / "mira.pth")


def test_rate_becomes_speed_factor(engine, server):
    speech = engine.synthesize(LINE, voice="mira", prosody=Prosody(rate=1.5))
    assert server.calls("/tts")[0].params["speed_factor"] == 1.5
    assert len(speech.audio) == round(line_seconds(LINE, 1.5) * 32000) < round(line_seconds(LINE) * 32000)


def test_pitch_energy_and_pauses(engine):
    plain = engine.synthesize(LINE, voice="mira")
    up = engine.synthesize(LINE, voice="mira", prosody=Prosody(pitch_semitones=3))
    assert len(up.audio) == len(plain.audio)
    assert median_f0(up.audio, 32000) / median_f0(plain.audio, 32000) == pytest.approx(2 ** (3 / 12), rel=0.03)
    loud = engine.synthesize(LINE, voice="mira", prosody=Prosody(energy=2, pause_before_s=0.5, pause_after_s=0.25))
    assert len(loud.audio) == len(plain.audio) + 16000 + 8000 and not loud.audio[:16000].any()
    assert np.abs(loud.audio).max() == pytest.approx(2 * np.abs(plain.audio).max(), rel=1e-3)
    assert np.abs(engine.synthesize(LINE, voice="mira", prosody=Prosody(energy=4)).audio).max() <= 1.0


def test_unreachable_server_names_the_url():
    url = f"http://127.0.0.1:{free_port()}"
    engine = GPTSoVITSEngine(url=url, voices={"mira": {"ref_audio_path": "a.wav", "prompt_lang": "en"}})
    with pytest.raises(ServiceUnavailableError, match=f"does not answer at {url} .*api_v2.py.*url option"):
        engine.synthesize(LINE)


def test_a_slow_server_names_the_url(server, files):
    engine = GPTSoVITSEngine(url=server.url, timeout_s=0.2,
                             voices={"mira": {"ref_audio_path": str(files / "mira.wav"), "prompt_lang": "en"}})
    server.delay_s = 1.0
    try:
        with pytest.raises(ServiceUnavailableError, match=f"{server.url} did not answer /tts within 0.2 s"):
            engine.synthesize(LINE)
    finally:
        server.delay_s = 0.0


def test_server_refusals_carry_its_message(server, files):
    refs = {"mira": {"ref_audio_path": str(files / "mira.wav"), "prompt_lang": "en", "languages": ["en", "ko"]}}
    with running_sovits(version="v1") as old:
        with pytest.raises(InvalidInputError, match="text_lang: ko is not supported in version v1"):
            GPTSoVITSEngine(url=old.url, voices=refs).synthesize(LINE, language="ko")
    sf.write(files / "short.wav", voice(1.0, 32000), 32000)
    with pytest.raises(InvalidInputError, match="'mira': tts failed: .*3~10"):
        GPTSoVITSEngine(url=server.url, voices={"mira": {"ref_audio_path": str(files / "short.wav"),
                                                         "prompt_lang": "en"}}).synthesize(LINE)
    engine = GPTSoVITSEngine(url=server.url, voices={"mira": {**refs["mira"], "gpt_weights": "/no/such.ckpt"}})
    with pytest.raises(InvalidInputError, match="GPT weights '/no/such.ckpt'.*change gpt weight failed"):
        engine.synthesize(LINE)
    with pytest.raises(InvalidInputError, match="text_split_method:cut9 is not supported"):
        GPTSoVITSEngine(url=server.url, voices=refs, text_split_method="cut9").synthesize(LINE)


def test_other_answers_are_clear(server, files):
    refs = {"mira": {"ref_audio_path": str(files / "mira.wav"), "prompt_lang": "en"}}
    with pytest.raises(ServiceUnavailableError, match="no GPT-SoVITS api_v2 endpoint /nope/tts"):
        GPTSoVITSEngine(url=server.url + "/nope", voices=refs).synthesize(LINE)


def test_voices_and_languages(engine, server):
    assert engine.voices() == {"mira": ("en", "ja"), "olaf": ("zh",)}
    with pytest.raises(InvalidInputError, match="unknown gpt-sovits voice 'nina'; known voices: mira, olaf"):
        engine.synthesize(LINE, voice="nina")
    with pytest.raises(InvalidInputError, match="gpt-sovits voice 'olaf' speaks zh, not ja; voices that can: mira"):
        engine.synthesize(LINE, voice="olaf", language="ja")
    with pytest.raises(InvalidInputError, match="gpt-sovits has no voice for language 'ko'; it speaks: en, ja, zh"):
        engine.synthesize(LINE, language="ko")
    assert engine.synthesize("你好。", language="zh-CN").language == "zh"
    with pytest.raises(InvalidInputError, match="no voices; declare one as a character in the voice registry, or "
                                                "in the engine's voices option"):
        GPTSoVITSEngine(url=server.url).synthesize(LINE)
    with pytest.raises(InvalidInputError, match="no text"):
        engine.synthesize("  \n ", voice="mira")
    with pytest.raises(InvalidInputError, match="prompt_lang 'auto' names no single language"):
        GPTSoVITSEngine(voices={"x": {"ref_audio_path": "x.wav", "prompt_lang": "auto"}})
    with pytest.raises(InvalidInputError, match="does not speak it"):
        GPTSoVITSEngine(voices={"x": {"ref_audio_path": "x.wav", "prompt_lang": "en", "languages": ["it"]}})
    assert [c.path for c in server.requests] == ["/set_gpt_weights", "/set_sovits_weights", "/tts"]


def test_the_server_answers_like_api_v2(server, files):
    with httpx.Client(base_url=server.url) as http:
        assert http.post("/tts", json={"text": "Hi."}).json() == {"message": "ref_audio_path is required"}
        r = http.get("/tts", params={"text": "Hi.", "text_lang": "EN", "prompt_lang": "en",
                                     "ref_audio_path": str(files / "mira.wav")})
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
        assert sf.info(io.BytesIO(r.content)).samplerate == 32000
        assert http.get("/tts", params={"text": "Hi."}).status_code == 500
        assert http.post("/tts", json={"text": None}).status_code == 422
        assert http.get("/set_sovits_weights").json() == {"message": "sovits weight path is required"}
        assert http.get("/set_gpt_weights", params={"weights_path": str(files / "olaf.ckpt")}).json() == \
            {"message": "success"}
        assert http.get("/control").json() == {"message": "command is required"}
        assert http.get("/control", params={"command": "restart"}).json() is None and server.gpt_weights is None


def test_the_studio_starts_and_stops_the_server_it_is_told_to_run(files, tmp_path, monkeypatch):
    """voice.gpt_sovits_command: the server is started through the broker for the first line, stopped
    when the broker unloads it, started again for the next line (weights sent again to the new process)."""
    import subprocess
    import sys
    from pathlib import Path

    from animstudio.models.broker import broker, reset

    port = free_port()
    server_py = Path(__file__).with_name("sovits_server.py")
    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANIMSTUDIO_VOICE__GPT_SOVITS_COMMAND", f"{sys.executable} {server_py} --port {port}")
    reset()
    engine = GPTSoVITSEngine(url=f"http://127.0.0.1:{port}", voices={
        "mira": {"ref_audio_path": str(files / "mira.wav"), "prompt_text": "I am Mira.", "prompt_lang": "en",
                 "gpt_weights": str(files / "mira.ckpt"), "sovits_weights": str(files / "mira.pth")}})

    def up() -> bool:
        return subprocess.run(["pgrep", "-f", f"{server_py} --port {port}"], capture_output=True).returncode == 0

    try:
        assert not up()
        first = engine.synthesize(LINE)
        assert up() and abs(first.duration_s - line_seconds(LINE)) < 0.01
        held = {m["name"]: m for m in broker().status()["models"]}
        assert held["server:gpt-sovits"]["bytes"] > 10 << 20        # the process's memory, measured
        assert broker().unload("server:gpt-sovits") and not up()
        again = engine.synthesize(LINE)
        assert up() and np.array_equal(first.audio, again.audio)
        log = (tmp_path / "home" / "logs" / "server-gpt-sovits.log").read_text()
        assert log.count("GET /set_gpt_weights") == 2 and log.count("POST /tts") == 2   # once per process
    finally:
        reset()
    assert not up()
